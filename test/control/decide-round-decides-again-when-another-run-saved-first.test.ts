// decideRound against a real SQLite state store: a run that lost the save race reloads and decides again, a bounded number of times.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'vitest';
import {
  DEFAULT_DECIDE_MAX_ATTEMPTS,
  type DecisionStore,
  decideRound,
} from '../../control/decide-round.ts';
import type { FleetConfig } from '../../fleet/config.ts';
import { StaleStateError } from '../../fleet/ports.ts';
import { type FleetState, initialFleetState } from '../../fleet/state.ts';
import { SqliteStateStore } from '../../local/sqlite-state-store.ts';
import { makeConfig, nodeIdOf, probeRoundsFor, ROUND_MS, T0_MS } from '../kit/fleet.ts';

const FAILING = nodeIdOf(0);

let config: FleetConfig;
let store: SqliteStateStore<FleetState>;

beforeEach(async () => {
  config = makeConfig({ nodes: 4, failover: { failuresBeforeDrain: 2, minHealthy: 2 } });
  store = SqliteStateStore.open<FleetState>(':memory:');
  for (const round of [1, 2]) {
    for (const report of probeRoundsFor(config, round, (nodeId) =>
      nodeId === FAILING ? 'fail' : 'ok',
    )) {
      await store.recordProbeRound(report);
    }
  }
});

afterEach(() => store.close());

/** A store where, before each of our saves, a rival controller saves first. */
function storeWithRival(): DecisionStore & { saves: number } {
  const rivalled = {
    saves: 0,
    loadFleetState: () => store.loadFleetState(),
    probeRounds: (round: number) => store.probeRounds(round),
    async saveFleetState(state: FleetState, expectedVersion: number): Promise<number> {
      rivalled.saves++;
      const { state: current, version } = await store.loadFleetState();
      await store.saveFleetState(current ?? initialFleetState(config), version);
      return store.saveFleetState(state, expectedVersion);
    },
  };
  return rivalled;
}

describe('decideRound', () => {
  it('reloads the state another run saved first and decides the round again on it', async () => {
    // Prepare: a rival decides round 1 (node 0 fails once) while this run holds the state before it.
    const stale = { state: initialFleetState(config), version: 0 };
    const rival = await decideRound({ config, store, round: 1, nowMs: T0_MS + ROUND_MS });
    assert.equal(rival.version, 1);
    // Act
    const decided = await decideRound({
      config,
      store,
      round: 2,
      nowMs: T0_MS + 2 * ROUND_MS,
      current: stale,
    });
    // Assess: saved on top of the rival's version, and round 1's failure counted (second failure drains).
    assert.equal(decided.version, 2);
    assert.equal(decided.state.lastProcessedRound, 2);
    assert.deepEqual(
      decided.actions.filter((action) => action.kind === 'drain').map((action) => action.nodeId),
      [FAILING],
    );
    assert.deepEqual(decided.previousListedNodeIds, rival.listedNodeIds);
    const saved = await store.loadFleetState();
    assert.equal(saved.version, 2);
    assert.deepEqual(saved.state?.listedNodeIds, decided.listedNodeIds);
  });

  it(`gives up with the StaleStateError after maxAttempts lost races`, async () => {
    const rivalled = storeWithRival();
    await assert.rejects(
      decideRound({ config, store: rivalled, round: 1, nowMs: T0_MS, maxAttempts: 3 }),
      StaleStateError,
    );
    assert.equal(rivalled.saves, 3);
  });

  it(`tries ${DEFAULT_DECIDE_MAX_ATTEMPTS} times by default`, async () => {
    const rivalled = storeWithRival();
    await assert.rejects(
      decideRound({ config, store: rivalled, round: 1, nowMs: T0_MS }),
      StaleStateError,
    );
    assert.equal(rivalled.saves, DEFAULT_DECIDE_MAX_ATTEMPTS);
  });

  it('does not retry an error that is not a lost race', async () => {
    let saves = 0;
    const failing: DecisionStore = {
      loadFleetState: () => store.loadFleetState(),
      probeRounds: (round) => store.probeRounds(round),
      saveFleetState: async () => {
        saves++;
        throw new Error('disk I/O error');
      },
    };
    await assert.rejects(
      decideRound({ config, store: failing, round: 1, nowMs: T0_MS }),
      /disk I\/O error/,
    );
    assert.equal(saves, 1);
  });

  it('saves nothing when the round was already decided', async () => {
    const first = await decideRound({ config, store, round: 1, nowMs: T0_MS + ROUND_MS });
    const again = await decideRound({ config, store, round: 1, nowMs: T0_MS + ROUND_MS });
    assert.equal(again.version, first.version);
    assert.deepEqual(again.actions, []);
    assert.equal((await store.loadFleetState()).version, 1);
  });
});
