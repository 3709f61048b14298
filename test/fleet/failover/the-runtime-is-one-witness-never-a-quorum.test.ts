import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { runtimeEvidence } from '../../../fleet/failover/runtime-evidence.ts';
import type { TaskState } from '../../../fleet/ports.ts';
import { initialFleetState } from '../../../fleet/state.ts';
import { actionsOf, makeConfig, nodeIdOf, runRounds } from './fleet-fixture.ts';

describe('policy: the runtime is one witness, never a quorum by itself', () => {
  const config = makeConfig({ nodes: 6, failover: { quorum: 2 } });
  const target = nodeIdOf(1);
  const stopped = () => new Map<string, TaskState>([[target, 'stopped']]);

  it('stopped and missing tasks are down, pending ones are starting', () => {
    assert.equal(runtimeEvidence('stopped'), 'down');
    assert.equal(runtimeEvidence('missing'), 'down');
    assert.equal(runtimeEvidence('pending'), 'starting');
    assert.equal(runtimeEvidence('running'), 'none');
    assert.equal(runtimeEvidence(undefined), 'none');
  });

  it('non-compliant: the runtime alone saying "stopped" while every prober passes never drains', () => {
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 10, () => 'ok', stopped);
    assert.equal(actionsOf(outcomes, 'drain').length, 0);
  });

  it('compliant: runtime "stopped" plus one failing vantage point makes a quorum, and the reason says so', () => {
    const { outcomes } = runRounds(
      config,
      initialFleetState(config),
      1,
      3,
      (nodeId, vantageId) => (nodeId === target && vantageId === 'vp-c' ? 'fail' : 'ok'),
      stopped,
    );
    const drains = actionsOf(outcomes, 'drain');
    assert.equal(drains.length, 1);
    assert.match(drains[0]!.reason, /runtime: task stopped/);
  });
});
