import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  isFlapping,
  mayReadmit,
  recentDrainRounds,
  requiredProbationRounds,
} from '../../../fleet/failover/probation.ts';
import { initialFleetState } from '../../../fleet/state.ts';
import { actionsOf, makeConfig, nodeIdOf, runRounds } from './fleet-fixture.ts';

const failover = { probationRounds: 5, flapProbationMultiplier: 2, flapWindowRounds: 100 };

describe('policy: probation before re-admission, longer for flapping nodes', () => {
  it('first drain: probationRounds; each earlier drain in the window multiplies it', () => {
    assert.equal(requiredProbationRounds([], 500, failover), 5);
    assert.equal(requiredProbationRounds([450], 500, failover), 10);
    assert.equal(requiredProbationRounds([420, 450], 500, failover), 20);
  });

  it('drains older than the flap window are forgotten', () => {
    assert.deepEqual(recentDrainRounds([100, 401, 450], 500, 100), [401, 450]);
    assert.equal(requiredProbationRounds([100], 500, failover), 5);
  });

  it('re-admission needs the full streak', () => {
    assert.equal(mayReadmit(4, 5), false);
    assert.equal(mayReadmit(5, 5), true);
  });

  it('non-compliant: a single bad round during probation restarts the count', () => {
    // Prepare: node 0 dies for 2 rounds (drained in round 2, replaced in 3), then is good except round 6.
    const config = makeConfig({
      nodes: 6,
      failover: { probationRounds: 5, replaceGraceRounds: 0 },
    });
    const node = nodeIdOf(0);
    // Act
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 20, (nodeId, _v, round) =>
      nodeId === node && (round <= 2 || round === 6) ? 'fail' : 'ok',
    );
    // Assess: good from round 4 (first after the replacement); round 6 resets; readmitted after 7..11.
    const readmits = outcomes.filter((o) => o.result.actions.some((a) => a.kind === 'readmit'));
    assert.deepEqual(
      readmits.map((o) => o.round),
      [11],
    );
  });

  it('compliant: a node readmitted after P good rounds is listed again', () => {
    const config = makeConfig({
      nodes: 6,
      failover: { probationRounds: 3, replaceGraceRounds: 0 },
    });
    const node = nodeIdOf(0);
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 10, (nodeId, _v, round) =>
      nodeId === node && round <= 2 ? 'fail' : 'ok',
    );
    const readmit = actionsOf(outcomes, 'readmit');
    assert.equal(readmit.length, 1);
    assert.ok(outcomes.at(-1)!.result.listedNodeIds.includes(node));
  });
});

describe('policy: a node drained twice within the flap window flaps', () => {
  const failover = { flapWindowRounds: 10 };
  it('compliant: one drain in the window is an incident, not flapping', () => {
    assert.equal(isFlapping([5], 8, failover), false);
    assert.equal(isFlapping([1, 5], 12, failover), false);
  });
  it('non-compliant: two drains inside the window are flapping', () => {
    assert.equal(isFlapping([3, 8], 12, failover), true);
  });
});
