// The SQLite state store: conditional saves, observations, the durable registry sequence, and surviving kill -9.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import type { ProbeRound } from '../../fleet/observations.ts';
import { StaleStateError } from '../../fleet/ports.ts';
import { SqliteStateStore } from '../../local/sqlite-state-store.ts';

const dirs: string[] = [];
function freshDbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'storefleet-state-'));
  dirs.push(dir);
  return join(dir, 'state.db');
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function probeRound(round: number, vantageId: string): ProbeRound {
  return {
    vantageId,
    round,
    startedAtMs: round * 1000,
    finishedAtMs: round * 1000 + 50,
    results: [
      {
        nodeId: 'store-01.eu-central.storefleet.test',
        vantageId,
        kind: 'ping',
        startedAtMs: round * 1000,
        ok: true,
        latencyMs: 3,
      },
    ],
  };
}

describe('saving the fleet state conditionally', () => {
  it('starts at version 0 and increments on each save', async () => {
    const store = SqliteStateStore.open<{ n: number }>(freshDbPath());
    assert.deepEqual(await store.loadFleetState(), { state: undefined, version: 0 });
    const v1 = await store.saveFleetState({ n: 1 }, 0);
    const v2 = await store.saveFleetState({ n: 2 }, v1);
    assert.equal(v2, 2);
    assert.deepEqual(await store.loadFleetState(), { state: { n: 2 }, version: 2 });
    store.close();
  });

  it('refuses a save based on a version that is no longer current', async () => {
    const path = freshDbPath();
    const first = SqliteStateStore.open<{ n: number }>(path);
    const second = SqliteStateStore.open<{ n: number }>(path);
    await first.saveFleetState({ n: 1 }, 0);
    await first.saveFleetState({ n: 2 }, 1);
    await assert.rejects(second.saveFleetState({ n: 99 }, 1), StaleStateError);
    await assert.rejects(second.saveFleetState({ n: 99 }, 0), StaleStateError);
    assert.deepEqual((await second.loadFleetState()).state, { n: 2 });
    first.close();
    second.close();
  });

  it('validates the stored document with the given parser', async () => {
    const path = freshDbPath();
    const store = SqliteStateStore.open<{ n: number }>(path);
    await store.saveFleetState({ n: 1 }, 0);
    store.close();
    const strict = SqliteStateStore.open<{ n: number }>(path, {
      parseState: (json) => {
        throw new Error(`refused ${JSON.stringify(json)}`);
      },
    });
    await assert.rejects(strict.loadFleetState(), /refused \{"n":1\}/);
    strict.close();
  });
});

describe('recording observations', () => {
  it('returns the probe rounds of one round from every vantage point and drops old rounds', async () => {
    const store = SqliteStateStore.open(freshDbPath(), { probeRoundRetention: 3 });
    for (let round = 1; round <= 5; round++) {
      await store.recordProbeRound(probeRound(round, 'vp-eu'));
      await store.recordProbeRound(probeRound(round, 'vp-us'));
    }
    const rounds = await store.probeRounds(5);
    assert.deepEqual(
      rounds.map((r) => r.vantageId),
      ['vp-eu', 'vp-us'],
    );
    assert.deepEqual(rounds[0], probeRound(5, 'vp-eu'));
    assert.deepEqual(await store.probeRounds(2), []);
    assert.equal(store.latestProbeRound(), 5);
    store.close();
  });

  it('keeps the latest completeness per node and vantage point, and the latest stress per node', async () => {
    const store = SqliteStateStore.open(freshDbPath());
    const result = (windowEndMs: number, heldCount: number) => ({
      nodeId: 'n1',
      vantageId: 'vp-eu',
      windowStartMs: windowEndMs - 1000,
      windowEndMs,
      unionCount: 10,
      heldCount,
      missingCount: 10 - heldCount,
      unknownCount: 0,
      completeness: heldCount / 10,
    });
    await store.recordCompleteness([result(1000, 10)]);
    await store.recordCompleteness([result(2000, 7)]);
    assert.deepEqual(store.latestCompleteness(), [result(2000, 7)]);
    const stress = {
      nodeId: 'n1',
      finishedAtMs: 5,
      transport: 'rest' as const,
      targetRatePerSecond: 100,
      achievedRatePerSecond: 98,
      p50Ms: 2,
      p99Ms: 9,
      errorRate: 0,
      sloMet: true,
      aborted: false,
    };
    await store.recordStress(stress);
    assert.deepEqual(store.latestStress(), [stress]);
    store.close();
  });
});

describe('claiming actions', () => {
  it('grants each idempotency key once, across connections', async () => {
    const path = freshDbPath();
    const a = SqliteStateStore.open(path);
    const b = SqliteStateStore.open(path);
    assert.equal(await a.claimAction('replace:n1:3', 1), true);
    assert.equal(await b.claimAction('replace:n1:3', 2), false);
    assert.equal(await b.claimAction('replace:n1:4', 3), true);
    a.close();
    b.close();
  });
});

describe('the registry sequence', () => {
  it('continues upward after reopening and never falls below what a publisher holds', () => {
    const path = freshDbPath();
    const store = SqliteStateStore.open(path);
    assert.equal(store.reserveRegistrySequence(), 1);
    assert.equal(store.reserveRegistrySequence(), 2);
    store.close();
    const reopened = SqliteStateStore.open(path);
    assert.equal(reopened.lastRegistrySequence(), 2);
    assert.equal(reopened.reserveRegistrySequence(), 3);
    assert.equal(reopened.reserveRegistrySequence(10), 11);
    reopened.close();
  });
});

describe('dashboard history and the event log', () => {
  it('keeps a bounded series per node, oldest first', () => {
    const store = SqliteStateStore.open(freshDbPath(), { nodeHistoryRetention: 3 });
    for (let round = 1; round <= 5; round++) {
      store.recordNodeSamples([
        {
          nodeId: 'a',
          atMs: round,
          round,
          state: 'healthy',
          reputation: round / 10,
          rttMs: round,
          listed: true,
        },
        {
          nodeId: 'b',
          atMs: round,
          round,
          state: 'drained',
          reputation: null,
          rttMs: null,
          listed: false,
        },
      ]);
    }
    assert.deepEqual(
      store.nodeHistory('a').map((s) => s.round),
      [3, 4, 5],
    );
    assert.deepEqual(store.nodeHistory('b', 2), [
      {
        nodeId: 'b',
        atMs: 4,
        round: 4,
        state: 'drained',
        reputation: null,
        rttMs: null,
        listed: false,
      },
      {
        nodeId: 'b',
        atMs: 5,
        round: 5,
        state: 'drained',
        reputation: null,
        rttMs: null,
        listed: false,
      },
    ]);
    store.close();
  });

  it('appends events with increasing ids and trims the oldest', () => {
    const store = SqliteStateStore.open(freshDbPath(), { eventRetention: 2 });
    for (let i = 1; i <= 4; i++) {
      store.appendEvent({
        atMs: i,
        kind: i % 2 ? 'alarm' : 'action',
        name: `e${i}`,
        severity: 'warning',
        nodeId: null,
        message: `event ${i}`,
      });
    }
    const events = store.recentEvents();
    assert.deepEqual(
      events.map((e) => [e.id, e.name]),
      [
        [3, 'e3'],
        [4, 'e4'],
      ],
    );
    store.close();
  });
});

describe('surviving kill -9', () => {
  it('loses nothing a killed writer reported as committed', async () => {
    // Prepare
    const path = freshDbPath();
    const writer = spawn(
      process.execPath,
      [join(import.meta.dirname, 'fixtures', 'state-writer.ts'), path],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let lastCommitted = { counter: 0, version: 0, sequence: 0 };
    let buffered = '';
    // Act: kill the writer mid-stream once it has committed a few hundred times.
    await new Promise<void>((resolve, reject) => {
      writer.on('error', reject);
      writer.on('exit', () => resolve());
      writer.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) lastCommitted = JSON.parse(line);
        if (lastCommitted.counter >= 200 && writer.exitCode === null) writer.kill('SIGKILL');
      });
    });
    assert.equal(writer.signalCode, 'SIGKILL');
    // Assess
    const reopened = SqliteStateStore.open<{ counter: number }>(path);
    const { state, version } = await reopened.loadFleetState();
    assert.ok(state, 'the state document survived');
    assert.ok(version >= lastCommitted.version, `version ${version} >= ${lastCommitted.version}`);
    assert.ok(state.counter >= lastCommitted.counter);
    assert.equal(state.counter, version, 'document and version were committed together');
    assert.ok(reopened.lastRegistrySequence() >= lastCommitted.sequence);
    assert.equal(await reopened.claimAction(`replace:node-${lastCommitted.counter}`, 0), false);
    const nextVersion = await reopened.saveFleetState({ counter: state.counter + 1 }, version);
    assert.equal(nextVersion, version + 1);
    reopened.close();
  });
});
