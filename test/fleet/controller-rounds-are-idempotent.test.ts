import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { runControllerRound } from '../../fleet/controller.ts';
import { FleetStateSchema, initialFleetState } from '../../fleet/state.ts';
import { makeConfig, nodeIdOf, probeRoundsFor, T0_MS } from './failover/fleet-fixture.ts';

describe('controller rounds are idempotent', () => {
  const config = makeConfig({ nodes: 8, failover: { probationRounds: 3, replaceGraceRounds: 0 } });
  const flaky = new Set([nodeIdOf(1), nodeIdOf(5)]);
  const sight = (round: number) => (nodeId: string, vantageId: string) =>
    flaky.has(nodeId) && (round % 9 < 3 || (vantageId === 'vp-a' && round % 4 === 0))
      ? 'fail'
      : 'ok';

  it('re-running a round on the state it returned yields no actions and the same state', () => {
    let state = initialFleetState(config);
    let actionsSeen = 0;
    for (let round = 1; round <= 40; round++) {
      const input = {
        config,
        round,
        nowMs: T0_MS + round,
        probeRounds: probeRoundsFor(config, round, sight(round)),
      };
      const first = runControllerRound({ ...input, state });
      actionsSeen += first.actions.length;
      const again = runControllerRound({ ...input, state: first.state });
      assert.deepEqual(again.actions, []);
      assert.deepEqual(again.state, first.state);
      assert.deepEqual(again.listedNodeIds, first.listedNodeIds);
      state = first.state;
    }
    assert.ok(actionsSeen > 5, 'the scenario should produce actions to be meaningful');
  });

  it('a duplicated run from the same state makes the same decisions with the same keys', () => {
    let state = initialFleetState(config);
    for (let round = 1; round <= 30; round++) {
      const input = {
        config,
        state,
        round,
        nowMs: T0_MS + round,
        probeRounds: probeRoundsFor(config, round, sight(round)),
      };
      const a = runControllerRound(input);
      const b = runControllerRound(structuredClone(input));
      assert.deepEqual(a.actions, b.actions);
      state = a.state;
    }
  });

  it('every decision across a long run has its own key', () => {
    let state = initialFleetState(config);
    const keys: string[] = [];
    for (let round = 1; round <= 120; round++) {
      const result = runControllerRound({
        config,
        state,
        round,
        nowMs: T0_MS + round,
        probeRounds: probeRoundsFor(config, round, sight(round)),
      });
      keys.push(...result.actions.map((action) => action.idempotencyKey));
      state = result.state;
    }
    assert.ok(keys.length > 10);
    assert.equal(new Set(keys).size, keys.length);
  });

  it('an older round is ignored', () => {
    const after = runControllerRound({
      config,
      state: initialFleetState(config),
      round: 5,
      nowMs: T0_MS,
      probeRounds: probeRoundsFor(config, 5, () => 'fail'),
    });
    const stale = runControllerRound({
      config,
      state: after.state,
      round: 4,
      nowMs: T0_MS,
      probeRounds: probeRoundsFor(config, 4, () => 'fail'),
    });
    assert.equal(stale.state, after.state);
    assert.deepEqual(stale.actions, []);
  });

  it('the state survives JSON and validates against its schema', () => {
    let state = initialFleetState(config);
    for (let round = 1; round <= 15; round++) {
      state = runControllerRound({
        config,
        state,
        round,
        nowMs: T0_MS + round,
        probeRounds: probeRoundsFor(config, round, sight(round)),
      }).state;
    }
    const loaded = FleetStateSchema.parse(JSON.parse(JSON.stringify(state)));
    assert.deepEqual(loaded, state);
    const next = runControllerRound({
      config,
      state: loaded,
      round: 16,
      nowMs: T0_MS,
      probeRounds: probeRoundsFor(config, 16, sight(16)),
    });
    const direct = runControllerRound({
      config,
      state,
      round: 16,
      nowMs: T0_MS,
      probeRounds: probeRoundsFor(config, 16, sight(16)),
    });
    assert.deepEqual(next, direct);
  });
});
