// `storefleet start` as a separate process, the way `npm start` runs it: spawn, wait for its URL, read its node pids, and check what it serves.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FleetConfig } from '../../fleet/config.ts';
import { parseFleetsJsonBytes, verifyRegistrySignature } from '../../fleet/registry/index.ts';
import type { FleetSnapshot } from '../../local/api.ts';
import { waitFor } from './fleet-harness.ts';

const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'cli', 'main.ts');

/** One running `storefleet start`, its output kept for assertions. */
export class StartProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(configPath: string, dataDir: string, extraArgs: string[] = []) {
    this.dataDir = dataDir;
    rmSync(join(dataDir, 'api-url'), { force: true });
    this.child = spawn(
      process.execPath,
      [CLI, 'start', '--config', configPath, '--port', '0', '--data-dir', dataDir, ...extraArgs],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child.stdout?.on('data', (chunk) => {
      this.output += chunk;
    });
    this.child.stderr?.on('data', (chunk) => {
      this.output += chunk;
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async url(timeoutMs = 60_000): Promise<string> {
    return waitFor(
      'the API URL file',
      () => {
        const path = join(this.dataDir, 'api-url');
        return existsSync(path) && readFileSync(path, 'utf8').trim();
      },
      timeoutMs,
    );
  }

  async snapshot(): Promise<FleetSnapshot> {
    return (await (await fetch(`${await this.url()}/api/nodes`)).json()) as FleetSnapshot;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }
}

/** The pid in each node's pid file (nodes not started yet are absent). */
export function nodePids(dataDir: string, config: FleetConfig): Map<string, number> {
  const pids = new Map<string, number>();
  for (const node of config.nodes) {
    const path = join(dataDir, 'nodes', node.id, 'node.pid');
    if (existsSync(path)) pids.set(node.id, Number(readFileSync(path, 'utf8')));
  }
  return pids;
}

/** Alive and not a zombie (an exited orphan that pid 1 has not reaped yet is gone for our purposes). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** What a client checks of the served registry: a signature that verifies and X-Registry-Sequence = meta.sequence. */
export async function fetchVerifiedRegistry(url: string): Promise<{
  sequence: number;
  fleetsJson: Uint8Array;
  signature: string;
  publicKeyPem: string;
}> {
  const fleets = await fetch(`${url}/fleets.json`);
  assert.equal(fleets.status, 200);
  const fleetsJson = new Uint8Array(await fleets.arrayBuffer());
  const header = Number(fleets.headers.get('x-registry-sequence'));
  const sequence = parseFleetsJsonBytes(fleetsJson).meta.sequence;
  assert.equal(header, sequence, 'X-Registry-Sequence is the body meta.sequence');
  const sig = await fetch(`${url}/fleets.json.sig`);
  const pem = await fetch(`${url}/fleets.pub.pem`);
  assert.equal(Number(sig.headers.get('x-registry-sequence')), sequence);
  const signature = (await sig.text()).trim();
  const publicKeyPem = await pem.text();
  assert.ok(
    verifyRegistrySignature(
      fleetsJson,
      new Uint8Array(Buffer.from(signature, 'base64')),
      publicKeyPem,
    ),
    `the served signature of #${sequence} verifies`,
  );
  return { sequence: sequence as number, fleetsJson, signature, publicKeyPem };
}

/** `storefleet registry verify` as a client runs it; returns its exit code and output. */
export function registryVerify(args: string[]): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [CLI, 'registry', 'verify', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}
