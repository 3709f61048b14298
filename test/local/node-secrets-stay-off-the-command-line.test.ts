// Local nodes: a per-node admin token in the child's environment (never its arguments), the config's retention, no orphans, a taken port named.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { parseRetention } from '../../cli/commands/node.ts';
import { type FleetConfig, parseFleetConfig } from '../../fleet/config.ts';
import {
  NODE_ADMIN_TOKEN_ENV,
  NodeStartError,
  ProcessRuntime,
} from '../../local/process-runtime.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const example = JSON.parse(readFileSync(join(ROOT, 'config', 'fleet.example.json'), 'utf8'));
const config: FleetConfig = parseFleetConfig({
  ...example,
  defaults: {
    ...example.defaults,
    resources: { ...example.defaults.resources, retention: 'time:86400' },
  },
  nodes: [example.nodes[0], { ...example.nodes[1], resources: { retention: 'capacity:5000' } }],
  failover: { ...example.failover, minHealthy: 1, quorum: 1 },
});
const ids = config.nodes.map((node) => node.id);
const dirs: string[] = [];
const runtimes: ProcessRuntime[] = [];
const children: ChildProcess[] = [];
const servers: Server[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'storefleet-secrets-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(runtimes.map((runtime) => runtime.stopAll()));
  for (const server of servers) server.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function nodePid(runtime: ProcessRuntime, nodeId: string): number {
  return Number(readFileSync(join(runtime.dataDirOf(nodeId), 'node.pid'), 'utf8'));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('real `storefleet node run` children', () => {
  it('carry their own admin token in their environment only, and the retention of the config', async () => {
    const runtime = new ProcessRuntime({ config, rootDir: freshDir() });
    runtimes.push(runtime);
    await runtime.startAll();
    const tokens = ids.map((id) => {
      const pid = nodePid(runtime, id);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const entry = environ.find((line) => line.startsWith(`${NODE_ADMIN_TOKEN_ENV}=`));
      assert.ok(entry, 'the token is in the environment');
      const token = entry.slice(NODE_ADMIN_TOKEN_ENV.length + 1);
      assert.ok(token.length >= 24);
      assert.ok(!argv.some((arg) => arg.includes(token)), 'the token is not on the command line');
      assert.ok(!argv.includes('--admin-token'));
      return { token, retention: argv[argv.indexOf('--retention') + 1] };
    });
    assert.notEqual(tokens[0]?.token, tokens[1]?.token, 'each node has its own token');
    assert.deepEqual(
      tokens.map((t) => t.retention),
      ['time:86400', 'capacity:5000'],
    );
    // The runtime still reaches each node's admin endpoint with that node's token.
    const answer = (await runtime.setFaults(ids[0] as string, { latencyMs: 5 })) as {
      latencyMs: number;
    };
    assert.equal(answer.latencyMs, 5);
    await runtime.clearFaults(ids[0] as string);
    await runtime.stopAll();
  }, 60_000);

  it('stop when their supervisor is killed with -9: no orphaned node processes', async () => {
    const rootDir = freshDir();
    const configPath = join(rootDir, 'config.json');
    writeFileSync(configPath, JSON.stringify(config));
    const script = join(rootDir, 'supervise.ts');
    writeFileSync(
      script,
      `import { readFileSync } from 'node:fs';
import { parseFleetConfig } from ${JSON.stringify(join(ROOT, 'fleet/config.ts'))};
import { ProcessRuntime } from ${JSON.stringify(join(ROOT, 'local/process-runtime.ts'))};
const config = parseFleetConfig(JSON.parse(readFileSync(process.argv[2], 'utf8')));
const runtime = new ProcessRuntime({ config, rootDir: process.argv[3] });
await runtime.startAll();
console.log('up');
setInterval(() => {}, 1000);
`,
    );
    const supervisor = spawn(process.execPath, [script, configPath, rootDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(supervisor);
    await new Promise<void>((resolve, reject) => {
      supervisor.stdout?.once('data', () => resolve());
      supervisor.once('exit', (code) => reject(new Error(`supervisor exited with ${code}`)));
    });
    const pids = ids.map((id) =>
      Number(readFileSync(join(rootDir, 'nodes', id, 'node.pid'), 'utf8')),
    );
    assert.ok(pids.every(isAlive));
    // Act
    supervisor.kill('SIGKILL');
    // Assess: the nodes notice their stdin closing and stop within their stop grace.
    const deadline = Date.now() + 10_000;
    while (pids.some(isAlive) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(pids.filter(isAlive), [], 'node processes outlived their supervisor');
  }, 60_000);
});

describe('a taken port', () => {
  it('is named, with the node, instead of "see node.log"', async () => {
    const blocker = createServer();
    servers.push(blocker);
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => {
        const address = blocker.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      }),
    );
    const runtime = new ProcessRuntime({
      config,
      rootDir: freshDir(),
      knownPorts: {
        [ids[0] as string]: { tcp: port, websocket: port + 1, rest: port + 2 },
      },
    });
    runtimes.push(runtime);
    await assert.rejects(runtime.startAll(), (error: unknown) => {
      assert.ok(error instanceof NodeStartError);
      assert.match(
        error.message,
        new RegExp(`${ids[0]}.*libp2p TCP port ${port} on 127\\.0\\.0\\.1 is taken`),
      );
      return true;
    });
  });
});

describe('retention as the config spells it', () => {
  it('size: becomes a message count; time: and capacity: pass through', () => {
    assert.deepEqual(parseRetention('size:1MB'), { maxMessages: 2048 });
    assert.deepEqual(parseRetention('time:60'), { maxAgeMs: 60_000 });
    assert.deepEqual(parseRetention('capacity:7'), { maxMessages: 7 });
    assert.throws(() => parseRetention('forever'), /not capacity/);
  });
});
