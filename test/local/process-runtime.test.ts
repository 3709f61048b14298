// The child-process runtime: stable ports and identity across replacement, a relay mesh via --peer, liveness, and stopping.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { type FleetConfig, parseFleetConfig } from '../../fleet/config.ts';
import {
  type NodeLaunch,
  type NodePortAssignment,
  NodeStartError,
  ProcessRuntime,
} from '../../local/process-runtime.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const example = JSON.parse(readFileSync(join(ROOT, 'config', 'fleet.example.json'), 'utf8'));
const config: FleetConfig = parseFleetConfig({
  ...example,
  nodes: example.nodes.slice(0, 3),
  failover: { ...example.failover, minHealthy: 2 },
});
const FAKE_NODE = join(import.meta.dirname, 'fixtures', 'fake-store-node.ts');
const ids = config.nodes.map((node) => node.id);
const dirs: string[] = [];
const runtimes: ProcessRuntime[] = [];
afterAll(async () => {
  await Promise.all(runtimes.map((runtime) => runtime.stopAll()));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function fakeRuntime(
  options: {
    behaviour?: (launch: NodeLaunch) => string | undefined;
    knownPorts?: Record<string, NodePortAssignment>;
    savePorts?: (ports: Record<string, NodePortAssignment>) => void;
    rootDir?: string;
  } = {},
) {
  const rootDir = options.rootDir ?? mkdtempSync(join(tmpdir(), 'storefleet-runtime-'));
  dirs.push(rootDir);
  const runtime = new ProcessRuntime({
    config,
    rootDir,
    adminToken: 'node-admin-token',
    knownPorts: options.knownPorts,
    savePorts: options.savePorts,
    readyTimeoutMs: 10_000,
    stopGraceMs: 300,
    command: (launch) => {
      const behaviour = options.behaviour?.(launch);
      const args = [FAKE_NODE, ...storefleetArgs(launch)];
      if (behaviour) args.push('--behaviour', behaviour);
      return { file: process.execPath, args };
    },
  });
  runtimes.push(runtime);
  return runtime;
}

function storefleetArgs(launch: NodeLaunch): string[] {
  const args = [
    '--data-dir',
    launch.dataDir,
    '--tcp-port',
    String(launch.ports.tcp),
    '--ws-port',
    String(launch.ports.websocket),
    '--rest-port',
    String(launch.ports.rest),
    '--admin-token',
    launch.adminToken,
  ];
  for (const peer of launch.peers) args.push('--peer', peer);
  return args;
}

function startsOf(runtime: ProcessRuntime, nodeId: string): { peers: string[] }[] {
  return JSON.parse(readFileSync(join(runtime.dataDirOf(nodeId), 'starts.json'), 'utf8'));
}

describe('starting the fleet', () => {
  it('gives every node distinct ports, saves them, and has each node dial those already up', async () => {
    let saved: Record<string, NodePortAssignment> | undefined;
    const runtime = fakeRuntime({ savePorts: (ports) => (saved = ports) });
    await runtime.startAll();
    const states = await runtime.taskStates();
    assert.deepEqual([...states.values()], ['running', 'running', 'running']);
    const allPorts = ids.flatMap((id) => Object.values(runtime.portsOf(id) ?? {}));
    assert.equal(new Set(allPorts).size, 9);
    assert.deepEqual(Object.keys(saved ?? {}), ids);
    assert.deepEqual(startsOf(runtime, ids[0] as string)[0]?.peers, []);
    assert.deepEqual(startsOf(runtime, ids[2] as string)[0]?.peers, [
      runtime.addressesOf(ids[0] as string)?.tcpAddress,
      runtime.addressesOf(ids[1] as string)?.tcpAddress,
    ]);
    assert.ok(existsSync(join(runtime.dataDirOf(ids[0] as string), 'node.log')));
    await runtime.stopAll();
  });

  it('reuses remembered ports on a later run', async () => {
    const first = fakeRuntime();
    await first.startAll();
    const remembered = Object.fromEntries(
      ids.map((id) => [id, first.portsOf(id) as NodePortAssignment]),
    );
    await first.stopAll();
    const second = fakeRuntime({ knownPorts: remembered });
    await second.startAll();
    assert.deepEqual(second.portsOf(ids[1] as string), remembered[ids[1] as string]);
    await second.stopAll();
  });

  it('reports a node that exits before it is ready, naming its log', async () => {
    const runtime = fakeRuntime({
      behaviour: (launch) => (launch.index === 0 ? 'exit-early' : undefined),
    });
    await assert.rejects(runtime.startAll(), (error: Error) => {
      assert.ok(error instanceof NodeStartError);
      assert.match(error.message, /exited \(code 3\) before it was ready; see .*node\.log/);
      return true;
    });
  });
});

describe('replacing a node', () => {
  it('sees a killed node as stopped, then restarts it with the same identity and ports', async () => {
    const runtime = fakeRuntime();
    await runtime.startAll();
    const victim = ids[1] as string;
    const before = runtime.addressesOf(victim);
    runtime.killNode(victim);
    await waitFor(async () => (await runtime.taskStates()).get(victim) === 'stopped');
    await runtime.replaceNode(victim, 'stopped answering');
    assert.equal((await runtime.taskStates()).get(victim), 'running');
    assert.deepEqual(runtime.addressesOf(victim), before);
    const starts = startsOf(runtime, victim);
    assert.equal(starts.length, 2);
    assert.equal(starts[1]?.peers.length, 2, 'the new process dials both running peers');
    await runtime.stopAll();
  });

  it('kills a node that ignores SIGTERM once the grace period is over', async () => {
    const runtime = fakeRuntime({ behaviour: () => 'ignore-sigterm' });
    await runtime.startAll();
    const started = performance.now();
    await runtime.stopNode(ids[0] as string);
    assert.ok(performance.now() - started >= 250);
    assert.equal((await runtime.taskStates()).get(ids[0] as string), 'stopped');
    await runtime.stopAll();
  });
});

describe('recovering after the supervisor was killed', () => {
  it('kills nodes an earlier runtime left running before starting its own', async () => {
    const rootDir = mkdtempSync(join(tmpdir(), 'storefleet-runtime-'));
    const first = fakeRuntime({ rootDir });
    await first.startAll();
    const leftoverPid = Number(
      readFileSync(join(first.dataDirOf(ids[0] as string), 'node.pid'), 'utf8'),
    );
    const remembered = Object.fromEntries(
      ids.map((id) => [id, first.portsOf(id) as NodePortAssignment]),
    );
    // Prepare: a second runtime on the same folder, as after kill -9 of the first one's process.
    const second = fakeRuntime({ rootDir, knownPorts: remembered });
    await second.startAll();
    assert.deepEqual([...(await second.taskStates()).values()], ['running', 'running', 'running']);
    assert.throws(() => process.kill(leftoverPid, 0), /ESRCH/);
    await second.stopAll();
    await first.stopAll();
  });
});

describe('injecting faults', () => {
  it("forwards faults to the node's admin endpoint with its token", async () => {
    const runtime = fakeRuntime();
    await runtime.startAll();
    const answer = (await runtime.setFaults(ids[2] as string, { stall: true })) as {
      faults: unknown[];
    };
    assert.deepEqual(answer.faults, [{ stall: true }]);
    const cleared = (await runtime.clearFaults(ids[2] as string)) as { faults: unknown[] };
    assert.deepEqual(cleared.faults, []);
    await runtime.stopAll();
  });
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
