// Drain selection: when the per-round cap holds drains back, the longest-failing nodes go first.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { type DrainCandidate, drainPriority } from '../../../fleet/controller/drain-selection.ts';
import { initialFleetState } from '../../../fleet/state.ts';
import { actionsOf, makeConfig, nodeIdOf, runRounds } from '../../kit/fleet.ts';

function candidate(nodeId: string, failStreak: number, failVotes: number): DrainCandidate {
  return { index: 0, nodeId, failStreak, failVotes, reasons: [] };
}

describe('drain priority', () => {
  it('puts the longer fail streak first, whatever the votes and ids', () => {
    const sorted = [candidate('a', 2, 3), candidate('z', 5, 1), candidate('m', 3, 2)].sort(
      drainPriority,
    );
    assert.deepEqual(
      sorted.map((c) => c.nodeId),
      ['z', 'm', 'a'],
    );
  });

  it('breaks equal streaks by more failing votes, then by node id', () => {
    const sorted = [
      candidate('c', 3, 1),
      candidate('b', 3, 2),
      candidate('a', 3, 1),
      candidate('d', 3, 2),
    ].sort(drainPriority);
    assert.deepEqual(
      sorted.map((c) => c.nodeId),
      ['b', 'd', 'a', 'c'],
    );
  });

  it('orders a candidate equal to itself as neither first', () => {
    const one = candidate('a', 3, 1);
    assert.equal(drainPriority(one, { ...one }), 0);
  });
});

describe('a controller round with the drain cap reached', () => {
  it('drains the node that has failed longest and holds back the newer failure', () => {
    // Prepare: one drain per round; nodes 4 and 5 fail from round 1, node 0 (the lowest id) from round 2.
    const config = makeConfig({
      nodes: 6,
      failover: { maxDrainsPerRound: 1, failuresBeforeDrain: 2, minHealthy: 2 },
    });
    const failingSince = new Map([
      [nodeIdOf(4), 1],
      [nodeIdOf(5), 1],
      [nodeIdOf(0), 2],
    ]);
    // Act
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 3, (nodeId, _v, round) =>
      round >= (failingSince.get(nodeId) ?? Number.POSITIVE_INFINITY) ? 'fail' : 'ok',
    );
    // Assess: round 2 drains node 4 (tie with node 5 broken by id); round 3 drains node 5,
    // failing for 3 rounds, not node 0, failing for 2 with a lower id.
    const drains = actionsOf(outcomes, 'drain').map((action) =>
      action.kind === 'drain' ? action.nodeId : '',
    );
    assert.deepEqual(drains, [nodeIdOf(4), nodeIdOf(5)]);
    const round3 = outcomes[2]?.result.state.nodes;
    assert.equal(round3?.[nodeIdOf(0)]?.heldBack, 'drain-cap');
    assert.equal(round3?.[nodeIdOf(0)]?.status, 'suspect');
    const active = Object.values(outcomes[2]?.result.state.alarms ?? {});
    assert.ok(active.some((alarm) => alarm.alarm === 'DrainCapReached'));
  });
});
