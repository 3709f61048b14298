import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { isDrainCandidate } from '../../../fleet/failover/drain-requires-quorum.ts';
import { initialFleetState } from '../../../fleet/state.ts';
import { actionsOf, makeConfig, nodeIdOf, runRounds } from './fleet-fixture.ts';

describe('policy: drain only on a quorum for failuresBeforeDrain consecutive rounds', () => {
  const config = makeConfig({ nodes: 6, failover: { quorum: 2, failuresBeforeDrain: 3 } });
  const target = nodeIdOf(2);

  it('candidacy needs a listed node and a long enough streak', () => {
    assert.equal(isDrainCandidate({ status: 'suspect', failStreak: 3 }, config.failover), true);
    assert.equal(isDrainCandidate({ status: 'suspect', failStreak: 2 }, config.failover), false);
    assert.equal(isDrainCandidate({ status: 'replacing', failStreak: 9 }, config.failover), false);
  });

  it('compliant: a failing quorum that includes a stopped task is a candidate after one round', () => {
    assert.equal(
      isDrainCandidate({ status: 'suspect', failStreak: 1 }, config.failover, true),
      true,
    );
    assert.equal(
      isDrainCandidate({ status: 'suspect', failStreak: 0 }, config.failover, true),
      false,
    );
    assert.equal(
      isDrainCandidate({ status: 'replacing', failStreak: 1 }, config.failover, true),
      false,
    );
  });

  it('compliant: the task stopped and one vantage point fails -> drained in the first round', () => {
    const { outcomes } = runRounds(
      config,
      initialFleetState(config),
      1,
      2,
      (nodeId, vantageId) => (nodeId === target && vantageId === 'vp-a' ? 'fail' : 'ok'),
      () => new Map([[target, 'stopped']]),
    );
    assert.deepEqual(
      outcomes[0]!.result.actions.filter((a) => a.kind === 'drain').map((a) => a.nodeId),
      [target],
    );
    assert.equal(outcomes[0]!.result.listedNodeIds.includes(target), false);
  });

  it('compliant: two of three vantage points see it fail for 3 rounds -> drained in round 3', () => {
    // Act
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 4, (nodeId, vantageId) =>
      nodeId === target && vantageId !== 'vp-c' ? 'fail' : 'ok',
    );
    // Assess
    const drains = actionsOf(outcomes, 'drain');
    assert.equal(drains.length, 1);
    assert.equal(
      outcomes.findIndex((o) => o.result.actions.some((a) => a.kind === 'drain')),
      2,
    );
    assert.match(drains[0]!.reason, /vp-a: ping timeout; vp-b: ping timeout/);
    assert.equal(outcomes[2]!.result.listedNodeIds.includes(target), false);
  });

  it('non-compliant: one vantage point alone never drains, however long', () => {
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 30, (nodeId, vantageId) =>
      nodeId === target && vantageId === 'vp-a' ? 'fail' : 'ok',
    );
    assert.equal(actionsOf(outcomes, 'drain').length, 0);
  });

  it('non-compliant: a quorum for K-1 rounds, then a pass, then K-1 again never drains', () => {
    const { outcomes } = runRounds(
      config,
      initialFleetState(config),
      1,
      12,
      (nodeId, _vantage, round) => (nodeId === target && round % 3 !== 0 ? 'fail' : 'ok'),
    );
    assert.equal(actionsOf(outcomes, 'drain').length, 0);
  });

  it('non-compliant: when vantage points do not report, missing votes are not failures', () => {
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 10, (nodeId, vantageId) =>
      vantageId === 'vp-a' ? (nodeId === target ? 'fail' : 'ok') : 'absent',
    );
    assert.equal(actionsOf(outcomes, 'drain').length, 0);
  });
});
