import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { limitDrains } from '../../../fleet/failover/drain-cap.ts';
import { initialFleetState } from '../../../fleet/state.ts';
import { actionsOf, makeConfig, nodeIdOf, runRounds } from './fleet-fixture.ts';

describe('policy: at most maxDrainsPerRound drains per round', () => {
  it('splits candidates into drained, held by the cap and held by minHealthy', () => {
    const decision = limitDrains(['a', 'b', 'c', 'd'], {
      maxDrainsPerRound: 1,
      minHealthy: 4,
      listedCount: 7,
    });
    assert.deepEqual(decision, { drain: ['a'], heldByCap: ['b', 'c'], heldByMinHealthy: ['d'] });
  });

  it('compliant: within the cap nothing is held', () => {
    const decision = limitDrains(['a', 'b'], {
      maxDrainsPerRound: 2,
      minHealthy: 1,
      listedCount: 10,
    });
    assert.deepEqual(decision, { drain: ['a', 'b'], heldByCap: [], heldByMinHealthy: [] });
  });

  it('non-compliant: three nodes fail at once with cap 1 -> one drain per round and DrainCapReached', () => {
    // Prepare
    const config = makeConfig({ nodes: 10, failover: { maxDrainsPerRound: 1, minHealthy: 2 } });
    const dead = new Set([nodeIdOf(1), nodeIdOf(4), nodeIdOf(7)]);
    // Act
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 8, (nodeId) =>
      dead.has(nodeId) ? 'fail' : 'ok',
    );
    // Assess
    for (const { result } of outcomes) {
      assert.ok(result.actions.filter((a) => a.kind === 'drain').length <= 1);
    }
    assert.equal(actionsOf(outcomes, 'drain').length, 3);
    const raised = actionsOf(outcomes, 'alarm').filter(
      (a) => a.kind === 'alarm' && a.alarm === 'DrainCapReached',
    );
    assert.equal(raised.length, 1);
    assert.match(raised[0]!.reason, /3 nodes qualified/);
    const cleared = actionsOf(outcomes, 'clear-alarm').filter(
      (a) => a.kind === 'clear-alarm' && a.alarm === 'DrainCapReached',
    );
    assert.equal(cleared.length, 1);
  });
});
