// The controller decides a 10,000-node fleet seen from 3 vantage points: the right nodes leave fleets.json, the rest stay.
// Its speed is a benchmark figure (bench/figures/controller.ts, `npm run bench`), not a timed unit test.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { initialFleetState } from '../../fleet/state.ts';
import { makeConfig, nodeIdOf, runRounds } from './failover/fleet-fixture.ts';

const NODES = 10_000;
/** Every 1,000th node (offset 7) fails from every vantage point. */
const isDead = (index: number) => index % 1000 === 7;
/** Every 1,000th node (offset 500) fails from one vantage point only: below the quorum of 2. */
const isSeenFailingByOne = (index: number) => index % 1000 === 500;

describe('controller round on 10,000 nodes x 3 vantage points', () => {
  it('drains exactly the nodes a quorum saw fail for failuresBeforeDrain rounds and lists all others in config order', () => {
    // Prepare: the drain cap raised so that all dead nodes can leave in the same round.
    const config = makeConfig({
      nodes: NODES,
      vantagePoints: 3,
      failover: { maxDrainsPerRound: 50, failuresBeforeDrain: 2 },
    });
    const indexOf = new Map(config.nodes.map((node, index) => [node.id, index]));
    const dead = config.nodes.map((node) => node.id).filter((_, index) => isDead(index));

    // Act: three rounds; the dead nodes fail in all of them.
    const { state, outcomes } = runRounds(
      config,
      initialFleetState(config),
      1,
      3,
      (nodeId, vantageId) => {
        const index = indexOf.get(nodeId) as number;
        if (isDead(index)) return 'fail';
        if (isSeenFailingByOne(index) && vantageId === 'vp-a') return 'fail';
        return { pingMs: 10 + (index % 37), newestMessageAgeMs: 1000 + (index % 50) * 10 };
      },
    );

    // Assess
    assert.equal(Object.keys(state.nodes).length, NODES);
    const drained = outcomes
      .flatMap((outcome) => outcome.result.actions)
      .filter((action) => action.kind === 'drain')
      .map((action) => (action as { nodeId: string }).nodeId)
      .sort();
    assert.deepEqual(drained, [...dead].sort());
    assert.equal(dead.length, 10);
    const round2 = outcomes[1]?.result;
    assert.equal(
      round2?.actions.filter((action) => action.kind === 'drain').length,
      dead.length,
      'all dead nodes leave in the round their second failure is seen',
    );
    const expectedListed = config.nodes.map((node) => node.id).filter((id) => !dead.includes(id));
    const last = outcomes.at(-1)?.result;
    assert.deepEqual(last?.listedNodeIds, expectedListed);
    assert.ok(
      last?.listedNodeIds.includes(nodeIdOf(500)),
      'one failing vantage point is no quorum',
    );
    for (const id of dead) assert.notEqual(state.nodes[id]?.status, 'active');
  });
});
