import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  afterFailedReplacement,
  inReplacementGrace,
  replaceInPlace,
} from '../../../fleet/failover/replacement.ts';
import { initialFleetState } from '../../../fleet/state.ts';
import { actionsOf, makeConfig, nodeIdOf, runRounds } from './fleet-fixture.ts';

describe('policy: replace, retry, then escalate to a human', () => {
  it('failures right after a replacement, or while the task is pending, are forgiven', () => {
    const failover = { replaceGraceRounds: 2 };
    assert.equal(inReplacementGrace(12, 10, 'running', failover), true);
    assert.equal(inReplacementGrace(13, 10, 'running', failover), false);
    assert.equal(inReplacementGrace(30, 10, 'pending', failover), true);
  });

  it('retries while attempts remain', () => {
    assert.equal(afterFailedReplacement(1, { maxReplaceAttempts: 3 }), 'replace-again');
    assert.equal(afterFailedReplacement(3, { maxReplaceAttempts: 3 }), 'escalate');
  });

  it('non-compliant: a node that never recovers is replaced maxReplaceAttempts times, then escalated once', () => {
    // Prepare
    const config = makeConfig({
      nodes: 6,
      failover: { maxReplaceAttempts: 2, failuresBeforeDrain: 2, replaceGraceRounds: 1 },
    });
    const dead = nodeIdOf(4);
    // Act
    const { outcomes, state } = runRounds(config, initialFleetState(config), 1, 40, (nodeId) =>
      nodeId === dead ? 'fail' : 'ok',
    );
    // Assess
    const replaces = actionsOf(outcomes, 'replace');
    assert.deepEqual(
      replaces.map((a) => a.kind === 'replace' && a.attempt),
      [1, 2],
    );
    const alarms = actionsOf(outcomes, 'alarm');
    assert.equal(alarms.length, 1);
    assert.ok(
      alarms[0]!.kind === 'alarm' &&
        alarms[0]!.alarm === 'NodeEscalated' &&
        alarms[0]!.subject === dead,
    );
    assert.equal(state.nodes[dead]!.status, 'escalated');
    assert.equal(actionsOf(outcomes, 'drain').length, 1);
  });

  it('compliant: an escalated node that a human fixed is re-admitted after probation and the alarm clears', () => {
    const config = makeConfig({
      nodes: 6,
      failover: { maxReplaceAttempts: 1, replaceGraceRounds: 0, probationRounds: 3 },
    });
    const node = nodeIdOf(4);
    const { outcomes, state } = runRounds(
      config,
      initialFleetState(config),
      1,
      40,
      (nodeId, _v, round) => (nodeId === node && round <= 20 ? 'fail' : 'ok'),
    );
    assert.equal(state.nodes[node]!.status, 'active');
    assert.equal(actionsOf(outcomes, 'readmit').length, 1);
    const cleared = actionsOf(outcomes, 'clear-alarm');
    assert.ok(cleared.some((a) => a.kind === 'clear-alarm' && a.alarm === 'NodeEscalated'));
  });
});

describe('policy: runtime evidence always leads to a replacement', () => {
  const failover = { replaceGraceRounds: 3, maxReplaceAttempts: 2 };
  it('compliant: a held-back node whose task is down is restarted where it stands', () => {
    assert.equal(
      replaceInPlace({ lastReplaceRound: null, replaceAttempts: 0 }, true, 10, failover),
      true,
    );
  });
  it('non-compliant: not while the task runs, not again within the grace, not past the attempts', () => {
    assert.equal(
      replaceInPlace({ lastReplaceRound: null, replaceAttempts: 0 }, false, 10, failover),
      false,
    );
    assert.equal(
      replaceInPlace({ lastReplaceRound: 8, replaceAttempts: 1 }, true, 10, failover),
      false,
    );
    assert.equal(
      replaceInPlace({ lastReplaceRound: 5, replaceAttempts: 1 }, true, 10, failover),
      true,
    );
    assert.equal(
      replaceInPlace({ lastReplaceRound: 1, replaceAttempts: 2 }, true, 10, failover),
      false,
    );
  });
});
