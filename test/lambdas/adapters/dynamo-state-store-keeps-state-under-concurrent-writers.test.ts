// DynamoStateStore against dynalite: conditional writes, the action ledger and observations behave as DynamoDB does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, it } from 'vitest';
import * as z from 'zod';
import { parseFleetConfig } from '../../../fleet/config.ts';
import type { CompletenessResult, ProbeRound, StressSummary } from '../../../fleet/observations.ts';
import { StaleStateError } from '../../../fleet/ports.ts';
import { type FleetState, FleetStateSchema, initialFleetState } from '../../../fleet/state.ts';
import { tableKeys } from '../../../fleet/tables.ts';
import { AwsCallError } from '../../../lambdas/adapters/aws-call-error.ts';
import { DynamoStateStore, StoredRecordError } from '../../../lambdas/adapters/DynamoStateStore.ts';
import { type DynamoEmulator, startDynamoEmulator } from './dynalite-emulator.ts';

const STATE_TABLE = 'test-node-state';
const OBSERVATIONS_TABLE = 'test-observations';
const RETENTION_SECONDS = 3600;
const CLAIM_TTL_SECONDS = 600;

const TestStateSchema = z.strictObject({
  drained: z.array(z.string()),
  round: z.number().int().nonnegative(),
});
type TestState = z.infer<typeof TestStateSchema>;

let emulator: DynamoEmulator;
let fleetCounter = 0;

function newStore(): { store: DynamoStateStore<TestState>; fleet: string } {
  fleetCounter += 1;
  const fleet = `test-${fleetCounter}.fleet`;
  const store = new DynamoStateStore<TestState>({
    fleet,
    nodeStateTableName: STATE_TABLE,
    probeResultsTableName: OBSERVATIONS_TABLE,
    client: emulator.client,
    stateSchema: TestStateSchema,
    observationRetentionSeconds: RETENTION_SECONDS,
    actionClaimTtlSeconds: CLAIM_TTL_SECONDS,
  });
  return { store, fleet };
}

function probeRound(round: number, vantageId: string, nodeCount: number): ProbeRound {
  const startedAtMs = 1_800_000_000_000 + round * 5000;
  return {
    vantageId,
    round,
    startedAtMs,
    finishedAtMs: startedAtMs + 1200,
    results: Array.from({ length: nodeCount }, (_, index) => ({
      nodeId: `store-0${index + 1}.do-ams3.test.fleet`,
      vantageId,
      kind: 'ping' as const,
      startedAtMs: startedAtMs + index,
      ok: index !== 0,
      latencyMs: 10 + index,
      ...(index === 0 ? { errorClass: 'timeout' as const } : {}),
    })),
  };
}

beforeAll(async () => {
  emulator = await startDynamoEmulator([STATE_TABLE, OBSERVATIONS_TABLE]);
});

afterAll(async () => {
  await emulator.close();
});

describe('saving the fleet state with a version condition', () => {
  it('reads back what was saved, with the version the save returned', async () => {
    // Prepare
    const { store } = newStore();
    const empty = await store.loadFleetState();

    // Act
    const first = await store.saveFleetState({ drained: [], round: 1 }, empty.version);
    const second = await store.saveFleetState({ drained: ['store-01'], round: 2 }, first);
    const loaded = await store.loadFleetState();

    // Assess
    assert.deepEqual(empty, { state: undefined, version: 0 });
    assert.equal(first, 1);
    assert.equal(second, 2);
    assert.deepEqual(loaded, { state: { drained: ['store-01'], round: 2 }, version: 2 });
  });

  it('lets exactly one of several concurrent saves with the same expected version win', async () => {
    // Prepare
    const { store } = newStore();
    const base = await store.saveFleetState({ drained: [], round: 1 }, 0);
    const writers = 8;

    // Act
    const outcomes = await Promise.allSettled(
      Array.from({ length: writers }, (_, writer) =>
        store.saveFleetState({ drained: [`writer-${writer}`], round: 2 }, base),
      ),
    );

    // Assess
    const won = outcomes.flatMap((outcome, writer) =>
      outcome.status === 'fulfilled' ? [writer] : [],
    );
    const lost = outcomes.filter((outcome) => outcome.status === 'rejected');
    assert.equal(won.length, 1, 'exactly one writer wins');
    assert.equal(lost.length, writers - 1);
    for (const outcome of lost) assert.ok(outcome.reason instanceof StaleStateError);
    const loaded = await store.loadFleetState();
    assert.equal(loaded.version, base + 1);
    assert.deepEqual(loaded.state?.drained, [`writer-${won[0]}`]);
  });

  it('lets exactly one of two first-ever saves (expected version 0) win', async () => {
    // Prepare
    const { store } = newStore();

    // Act
    const outcomes = await Promise.allSettled([
      store.saveFleetState({ drained: ['a'], round: 1 }, 0),
      store.saveFleetState({ drained: ['b'], round: 1 }, 0),
    ]);

    // Assess
    assert.deepEqual(outcomes.map((outcome) => outcome.status).sort(), ['fulfilled', 'rejected']);
  });

  it('refuses a save based on an old version and names what to do', async () => {
    // Prepare
    const { store } = newStore();
    const v1 = await store.saveFleetState({ drained: [], round: 1 }, 0);
    await store.saveFleetState({ drained: [], round: 2 }, v1);

    // Act
    const stale = store.saveFleetState({ drained: ['late'], round: 2 }, v1);

    // Assess
    await assert.rejects(stale, (error: unknown) => {
      assert.ok(error instanceof StaleStateError);
      assert.match(error.message, /version 1 .*re-read the state/);
      assert.match(error.message, new RegExp(STATE_TABLE));
      return true;
    });
    assert.equal((await store.loadFleetState()).state?.round, 2);
  });

  it('refuses to save a state its schema rejects, and to load a corrupted one', async () => {
    // Prepare
    const { store, fleet } = newStore();
    await emulator.client.send(
      new PutCommand({
        TableName: STATE_TABLE,
        Item: { ...tableKeys.fleetState(fleet), version: 3, state: '{"drained":"not-a-list"}' },
      }),
    );

    // Act
    const badSave = store.saveFleetState({ drained: 'x', round: -1 } as unknown as TestState, 0);
    const badLoad = store.loadFleetState();

    // Assess
    await assert.rejects(badSave, StoredRecordError);
    await assert.rejects(badLoad, /drained: got "not-a-list"/);
  });
});

describe('storing the real fleet state document', () => {
  it('round-trips a FleetState validated by FleetStateSchema', async () => {
    // Prepare
    const config = parseFleetConfig(
      JSON.parse(
        readFileSync(new URL('../../../config/fleet.example.json', import.meta.url), 'utf8'),
      ),
    );
    const store = new DynamoStateStore<FleetState>({
      fleet: config.fleet,
      nodeStateTableName: STATE_TABLE,
      probeResultsTableName: OBSERVATIONS_TABLE,
      client: emulator.client,
      stateSchema: FleetStateSchema,
    });
    const state = initialFleetState(config);

    // Act
    const version = await store.saveFleetState(state, 0);
    const loaded = await store.loadFleetState();

    // Assess
    assert.deepEqual(loaded, { state, version });
  });
});

describe('claiming failover actions once per idempotency key', () => {
  it('answers true to the first claim and false to the second', async () => {
    // Prepare
    const { store } = newStore();
    const nowMs = 1_800_000_000_000;

    // Act
    const first = await store.claimAction('replace#store-01#gen-4', nowMs);
    const second = await store.claimAction('replace#store-01#gen-4', nowMs + 1000);
    const otherGeneration = await store.claimAction('replace#store-01#gen-5', nowMs + 1000);

    // Assess
    assert.equal(first, true);
    assert.equal(second, false);
    assert.equal(otherGeneration, true);
  });

  it('grants exactly one of several concurrent claims', async () => {
    // Prepare
    const { store } = newStore();

    // Act
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => store.claimAction('drain#store-02#gen-1', 1_800_000_000_000)),
    );

    // Assess
    assert.equal(answers.filter(Boolean).length, 1);
  });

  it('stores an expiry for TTL and lets an expired claim be taken again', async () => {
    // Prepare
    const { store, fleet } = newStore();
    const nowMs = 1_800_000_000_000;
    await store.claimAction('drain#store-03#gen-1', nowMs);

    // Act
    const beforeExpiry = await store.claimAction(
      'drain#store-03#gen-1',
      nowMs + (CLAIM_TTL_SECONDS - 1) * 1000,
    );
    const afterExpiry = await store.claimAction(
      'drain#store-03#gen-1',
      nowMs + CLAIM_TTL_SECONDS * 1000,
    );

    // Assess
    assert.equal(beforeExpiry, false);
    assert.equal(afterExpiry, true);
    const stored = await emulator.client.send(
      new GetCommand({
        TableName: STATE_TABLE,
        Key: tableKeys.actionClaim(fleet, 'drain#store-03#gen-1'),
      }),
    );
    assert.equal(stored.Item?.['expiresAt'], nowMs / 1000 + 2 * CLAIM_TTL_SECONDS);
  });
});

describe('recording observations', () => {
  it('returns every vantage point report of a round, and only that round', async () => {
    // Prepare
    const { store } = newStore();
    const eu = probeRound(42, 'vp-eu', 3);
    const us = probeRound(42, 'vp-us', 3);
    const nextRound = probeRound(43, 'vp-eu', 3);

    // Act
    await Promise.all([
      store.recordProbeRound(eu),
      store.recordProbeRound(us),
      store.recordProbeRound(nextRound),
    ]);
    await store.recordProbeRound(eu); // a retried report
    const rounds = await store.probeRounds(42);
    const missing = await store.probeRounds(41);

    // Assess
    assert.deepEqual(
      rounds.sort((a, b) => a.vantageId.localeCompare(b.vantageId)),
      [eu, us],
    );
    assert.deepEqual(missing, []);
  });

  it('reads a round whose reports span several query pages', async () => {
    // Prepare: ~90 KB per report, so 14 reports exceed DynamoDB's 1 MB query page.
    const { store, fleet } = newStore();
    const reports = Array.from({ length: 14 }, (_, index) => probeRound(7, `vp-${index}`, 700));
    const totalBytes = reports.reduce((sum, report) => sum + JSON.stringify(report).length, 0);
    assert.ok(totalBytes > 1024 * 1024, `reports total ${totalBytes} bytes, need more than a page`);
    for (const report of reports) await store.recordProbeRound(report);

    // Act
    const rounds = await store.probeRounds(7);

    // Assess
    const firstPage = await emulator.client.send(
      new QueryCommand({
        TableName: OBSERVATIONS_TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': tableKeys.probeRoundPartition(fleet, 7) },
      }),
    );
    assert.ok(firstPage.LastEvaluatedKey, 'the round does not fit one page');
    assert.equal(rounds.length, reports.length);
    assert.deepEqual(
      new Set(rounds.map((round) => round.vantageId)),
      new Set(reports.map((round) => round.vantageId)),
    );
  });

  it('refuses a stored round that is not valid JSON, naming the item', async () => {
    // Prepare
    const { store, fleet } = newStore();
    await emulator.client.send(
      new PutCommand({
        TableName: OBSERVATIONS_TABLE,
        Item: { ...tableKeys.probeRound(fleet, 3, 'vp-eu'), body: '{"vantageId":' },
      }),
    );

    // Act
    const reading = store.probeRounds(3);

    // Assess
    await assert.rejects(reading, (error: unknown) => {
      assert.ok(error instanceof StoredRecordError);
      assert.match(error.message, /probe round item ".*#round#0+3"\/"vantage#vp-eu"/);
      assert.match(error.message, /not valid JSON/);
      return true;
    });
  });

  it('gives probe rounds a TTL counted from when the round finished', async () => {
    // Prepare
    const { store, fleet } = newStore();
    const round = probeRound(9, 'vp-eu', 1);

    // Act
    await store.recordProbeRound(round);

    // Assess
    const stored = await emulator.client.send(
      new GetCommand({
        TableName: OBSERVATIONS_TABLE,
        Key: tableKeys.probeRound(fleet, 9, 'vp-eu'),
      }),
    );
    assert.equal(
      stored.Item?.['expiresAt'],
      Math.floor(round.finishedAtMs / 1000) + RETENTION_SECONDS,
    );
  });

  it('writes completeness results in batches and stress summaries, each with a TTL', async () => {
    // Prepare: more results than one BatchWriteItem carries (25).
    const { store, fleet } = newStore();
    const results: CompletenessResult[] = Array.from({ length: 30 }, (_, index) => ({
      nodeId: `store-${String(index).padStart(2, '0')}.do-ams3.test.fleet`,
      vantageId: 'vp-eu',
      windowStartMs: 1_800_000_000_000,
      windowEndMs: 1_800_000_120_000,
      unionCount: 100,
      heldCount: 100 - index,
      missingCount: index,
      unknownCount: 0,
      completeness: (100 - index) / 100,
    }));
    const stress: StressSummary = {
      nodeId: 'store-01.do-ams3.test.fleet',
      finishedAtMs: 1_800_000_200_000,
      transport: 'libp2p',
      targetRatePerSecond: 500,
      achievedRatePerSecond: 480,
      p50Ms: 12,
      p99Ms: 240,
      errorRate: 0.01,
      sloMet: true,
      aborted: false,
    };

    // Act
    await store.recordCompleteness(results);
    await store.recordStress(stress);

    // Assess
    const last = results[29] as CompletenessResult;
    const storedResult = await emulator.client.send(
      new GetCommand({
        TableName: OBSERVATIONS_TABLE,
        Key: tableKeys.completeness(fleet, last.nodeId, last.windowEndMs, last.vantageId),
      }),
    );
    assert.deepEqual(JSON.parse(storedResult.Item?.['body']), last);
    assert.equal(storedResult.Item?.['expiresAt'], 1_800_000_120 + RETENTION_SECONDS);
    let stored = 0;
    for (const result of results) {
      const page = await emulator.client.send(
        new QueryCommand({
          TableName: OBSERVATIONS_TABLE,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: {
            ':pk': tableKeys.completeness(fleet, result.nodeId, 0, '').pk,
          },
        }),
      );
      stored += page.Count ?? 0;
    }
    assert.equal(stored, 30);
    const storedStress = await emulator.client.send(
      new GetCommand({
        TableName: OBSERVATIONS_TABLE,
        Key: tableKeys.stress(fleet, stress.nodeId, stress.finishedAtMs),
      }),
    );
    assert.deepEqual(JSON.parse(storedStress.Item?.['body']), stress);
  });
});

describe('reporting AWS failures', () => {
  it('names the table and says what to check when the table does not exist', async () => {
    // Prepare
    const store = new DynamoStateStore<TestState>({
      fleet: 'test.fleet',
      nodeStateTableName: 'no-such-table',
      probeResultsTableName: OBSERVATIONS_TABLE,
      client: emulator.client,
    });

    // Act
    const load = store.loadFleetState();

    // Assess
    await assert.rejects(load, (error: unknown) => {
      assert.ok(error instanceof AwsCallError);
      assert.equal(error.awsErrorName, 'ResourceNotFoundException');
      assert.match(error.message, /dynamodb:GetItem on table "no-such-table" failed/);
      assert.match(error.message, /check that table "no-such-table" exists/);
      return true;
    });
  });
});
