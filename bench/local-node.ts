// A local store node in its own process, so that its CPU is never counted as the prober's.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const CLI = join(import.meta.dirname, '..', 'cli', 'main.ts');
/** Starting a node (key, SQLite, libp2p, REST) on a busy 2-core machine. */
const NODE_START_TIMEOUT_MS = 30_000;
const NODE_STOP_GRACE_MS = 5_000;

export interface LocalNode {
  pid: number;
  peerId: string;
  /** /ip4/127.0.0.1/tcp/PORT/p2p/16Uiu2... */
  tcpAddress: string;
  /** http://127.0.0.1:PORT */
  restUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts `storefleet node run` (secp256k1 identity, SQLite archive) on ephemeral loopback ports.
 * @example
 * const node = await startLocalNode();
 * await fetch(`${node.restUrl}/health`);
 * await node.stop();
 */
export async function startLocalNode(): Promise<LocalNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'storefleet-bench-node-'));
  const child = spawn(process.execPath, [CLI, 'node', 'run', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const cleanUp = () => rmSync(dataDir, { recursive: true, force: true });
  try {
    const ready = await readyLine(child);
    return {
      pid: child.pid as number,
      peerId: ready.peerId,
      tcpAddress: ready.tcpAddress,
      restUrl: ready.restUrl,
      stop: async () => {
        await stopChild(child);
        cleanUp();
      },
    };
  } catch (error) {
    child.kill('SIGKILL');
    cleanUp();
    throw new Error(`local store node did not start: ${String(error)}\n${stderr}`);
  }
}

function readyLine(
  child: ChildProcess,
): Promise<{ peerId: string; tcpAddress: string; restUrl: string }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ready line within ${NODE_START_TIMEOUT_MS} ms`)),
      NODE_START_TIMEOUT_MS,
    );
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { event?: string };
        if (parsed.event === 'ready') {
          clearTimeout(timer);
          resolve(parsed as { peerId: string; tcpAddress: string; restUrl: string });
        }
      } catch {
        // Not the ready line.
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with code ${code}`));
    });
  });
}

/** SIGTERM, then SIGKILL if the process has not exited within the grace period. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), NODE_STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
