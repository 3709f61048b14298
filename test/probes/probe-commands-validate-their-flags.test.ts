// The probe, completeness and stress commands refuse bad flags with errors that name the flag, before any network work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import {
  formatProbeRound,
  ProbeUsageError,
  parseDurationSeconds,
  parseStressFlags,
  resolveProbeSettings,
} from '../../cli/commands/probe.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const EXAMPLE_CONFIG = join(ROOT, 'config', 'fleet.example.json');

function storefleet(...args: string[]) {
  return spawnSync(process.execPath, [join(ROOT, 'cli', 'main.ts'), ...args], {
    encoding: 'utf8',
    timeout: 20_000,
  });
}

describe('probe command flags', () => {
  it('reads durations in ms, s and m', () => {
    assert.equal(parseDurationSeconds('30s', '--duration'), 30);
    assert.equal(parseDurationSeconds('2m', '--duration'), 120);
    assert.equal(parseDurationSeconds('1500ms', '--duration'), 1.5);
    assert.equal(parseDurationSeconds('7', '--duration'), 7);
    assert.throws(() => parseDurationSeconds('soon', '--duration'), /--duration: got "soon"/);
  });

  it('names the flag of every bad stress number', () => {
    const base = { target: '/ip4/127.0.0.1/tcp/60000/p2p/16Uiu2x', rate: '100' };
    assert.throws(() => parseStressFlags({ ...base, rate: 'fast' }), /--rate: got "fast"/);
    assert.throws(() => parseStressFlags({ ...base, connections: '0' }), /--connections: got "0"/);
    assert.throws(() => parseStressFlags({ ...base, target: 'node-1' }), /--target: got "node-1"/);
    assert.throws(
      () => parseStressFlags({ ...base, rest: true }),
      (error: Error) =>
        error instanceof ProbeUsageError && /with --rest expected a REST URL/.test(error.message),
    );
    assert.deepEqual(parseStressFlags({ ...base, duration: '2s', connections: '8' }), {
      target: base.target,
      ratePerSecond: 100,
      durationSeconds: 2,
      connections: 8,
      requestTimeoutMs: undefined,
    });
  });

  it('takes settings, vantage point and pubsub topic from a fleet config', async () => {
    const settings = await resolveProbeSettings({ config: EXAMPLE_CONFIG, vantage: 'vp-us' });
    assert.equal(settings.fleet, 'storefleet.test');
    assert.deepEqual(settings.vantage, { id: 'vp-us', reachesRest: false });
    assert.match(settings.pubsubTopic, /^\/waku\/2\/rs\/16\/(1|32|64|128|256)$/);
    await assert.rejects(
      resolveProbeSettings({ config: EXAMPLE_CONFIG, vantage: 'vp-mars' }),
      /--vantage: got "vp-mars"; expected one of vp-eu, vp-us, vp-ap/,
    );
  });

  it('refuses a stress above the config caps with exit code 2, naming flag and cap', () => {
    const run = storefleet(
      'stress',
      '--target',
      '/ip4/127.0.0.1/tcp/9/p2p/16Uiu2HAmAUdrQ3uwzuE4Gy4D56hX6uLKEeerJAnhKEHZ3DxF1EfT',
      '--rate',
      '100',
      '--connections',
      '800',
      '--duration',
      '10m',
      '--config',
      EXAMPLE_CONFIG,
    );
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /--connections 800 is above stress\.maxConnections \(500\)/);
    assert.match(run.stderr, /--duration 600 s is above stress\.maxDurationSeconds \(120 s\)/);
  });

  it('asks for --fleet when there is no config to name the fleet', () => {
    const run = storefleet('probe', '--fleets', join(ROOT, 'config', 'fleet.example.json'));
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--fleet: required without --config/);
  });

  it('prints a round as one row per node', () => {
    const text = formatProbeRound({
      vantageId: 'cli',
      round: 0,
      startedAtMs: 1000,
      finishedAtMs: 1012,
      results: [
        {
          nodeId: 'store-01.a.f',
          vantageId: 'cli',
          kind: 'ping',
          startedAtMs: 1000,
          ok: true,
          latencyMs: 1.25,
          freshDial: true,
        },
        {
          nodeId: 'store-01.a.f',
          vantageId: 'cli',
          kind: 'store',
          startedAtMs: 1000,
          ok: false,
          errorClass: 'rate_limited',
        },
      ],
    });
    assert.match(text, /store-01\.a\.f\s+1\.3 ms \(fresh\)\s+-\s+FAIL rate_limited\s+-/);
    assert.match(text, /round 0 from cli in 12 ms/);
  });
});

describe('stress command and the controller state', () => {
  it('refuses to stress a node the controller has drained, before any request', async () => {
    // Prepare
    const { mkdtemp, readFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { parseFleetConfig } = await import('../../fleet/config.ts');
    const { FleetStateSchema, initialFleetState } = await import('../../fleet/state.ts');
    const { SqliteStateStore } = await import('../../local/sqlite-state-store.ts');
    const config = parseFleetConfig(JSON.parse(await readFile(EXAMPLE_CONFIG, 'utf8')));
    const state = initialFleetState(config);
    const drained = config.nodes[1]?.id as string;
    const nodeState = state.nodes[drained];
    assert.ok(nodeState);
    state.nodes[drained] = { ...nodeState, status: 'drained' };
    const dir = await mkdtemp(join(tmpdir(), 'storefleet-stress-state-'));
    const statePath = join(dir, 'state.db');
    const store = SqliteStateStore.open(statePath, { parseState: FleetStateSchema.parse });
    await store.saveFleetState(state, 0);
    store.close();

    // Act
    const run = storefleet(
      'stress',
      '--target',
      '/ip4/127.0.0.1/tcp/9/p2p/16Uiu2HAmAUdrQ3uwzuE4Gy4D56hX6uLKEeerJAnhKEHZ3DxF1EfT',
      '--rate',
      '10',
      '--duration',
      '1s',
      '--node-id',
      drained,
      '--state',
      statePath,
      '--config',
      EXAMPLE_CONFIG,
    );
    await rm(dir, { recursive: true, force: true });

    // Assess
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /is not listed by the controller \(drained/);
  });
});
