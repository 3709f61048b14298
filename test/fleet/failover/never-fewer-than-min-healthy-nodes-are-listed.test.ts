import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { drainRoomAboveMinHealthy, fillToMinHealthy } from '../../../fleet/failover/min-healthy.ts';
import { initialFleetState } from '../../../fleet/state.ts';
import { actionsOf, makeConfig, nodeIdOf, runRounds } from './fleet-fixture.ts';

describe('policy: never fewer than minHealthy nodes listed', () => {
  it('room to drain is what is listed above minHealthy', () => {
    assert.equal(drainRoomAboveMinHealthy(5, 2), 3);
    assert.equal(drainRoomAboveMinHealthy(2, 2), 0);
    assert.equal(drainRoomAboveMinHealthy(1, 2), 0);
  });

  it('tops up a short registry with the most promising unlisted nodes', () => {
    const filled = fillToMinHealthy(
      ['a'],
      [
        { nodeId: 'z', preference: 3 },
        { nodeId: 'b', preference: 1 },
        { nodeId: 'c', preference: 1 },
      ],
      3,
    );
    assert.deepEqual(filled, ['b', 'c']);
    assert.deepEqual(fillToMinHealthy(['a', 'b'], [{ nodeId: 'c', preference: 0 }], 2), []);
  });

  it('compliant: with room, failing nodes are drained', () => {
    const config = makeConfig({ nodes: 4, failover: { minHealthy: 2, maxDrainsPerRound: 2 } });
    const dead = new Set([nodeIdOf(0), nodeIdOf(1)]);
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 3, (nodeId) =>
      dead.has(nodeId) ? 'fail' : 'ok',
    );
    assert.equal(actionsOf(outcomes, 'drain').length, 2);
    assert.equal(actionsOf(outcomes, 'alarm').length, 0);
  });

  it('non-compliant: draining would go below minHealthy -> held listed, alarm raised, cleared on recovery', () => {
    // Prepare: 6 nodes, minHealthy 5, two of them die.
    const config = makeConfig({ nodes: 6, failover: { minHealthy: 5, maxDrainsPerRound: 3 } });
    const dead = new Set([nodeIdOf(0), nodeIdOf(1)]);
    // Act
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 8, (nodeId, _v, round) =>
      dead.has(nodeId) && round <= 5 ? 'fail' : 'ok',
    );
    // Assess
    for (const { result } of outcomes) assert.ok(result.listedNodeIds.length >= 5);
    assert.equal(actionsOf(outcomes, 'drain').length, 1);
    const alarms = actionsOf(outcomes, 'alarm');
    assert.deepEqual(
      alarms.map((a) => a.kind === 'alarm' && a.alarm),
      ['RegistryBelowMinHealthy'],
    );
    assert.match(alarms[0]!.reason, /kept listed/);
    const cleared = actionsOf(outcomes, 'clear-alarm');
    assert.deepEqual(
      cleared.map((a) => a.kind === 'clear-alarm' && a.alarm),
      ['RegistryBelowMinHealthy'],
    );
    const held = outcomes[3]!.result.state.nodes;
    assert.equal(Object.values(held).filter((node) => node.heldBack === 'min-healthy').length, 1);
  });
});
