import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  isProberBlind,
  MIN_NODES_TO_JUDGE_BLINDNESS,
} from '../../../fleet/failover/blind-prober.ts';
import { initialFleetState } from '../../../fleet/state.ts';
import { actionsOf, makeConfig, nodeIdOf, runRounds } from './fleet-fixture.ts';

describe('policy: a vantage point that sees most of the fleet fail is blind', () => {
  it('more than blindFraction of the probed listed nodes failing is blindness; exactly half is not', () => {
    assert.equal(isProberBlind({ probed: 6, failing: 4 }, 0.5), true);
    assert.equal(isProberBlind({ probed: 6, failing: 3 }, 0.5), false);
  });

  it('tiny samples say nothing about the prober', () => {
    assert.equal(
      isProberBlind({ probed: MIN_NODES_TO_JUDGE_BLINDNESS - 1, failing: 2 }, 0.5),
      false,
    );
  });

  it('non-compliant: a blind prober plus one honest witness would make a quorum, but nothing drains', () => {
    // Prepare: vp-a sees every node fail; vp-b sees node 3 fail; vp-c sees all well.
    const config = makeConfig({ nodes: 6 });
    const target = nodeIdOf(3);
    // Act
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 10, (nodeId, vantageId) =>
      vantageId === 'vp-a' || (vantageId === 'vp-b' && nodeId === target) ? 'fail' : 'ok',
    );
    // Assess
    assert.equal(actionsOf(outcomes, 'drain').length, 0);
    const raised = actionsOf(outcomes, 'alarm');
    assert.equal(raised.length, 1);
    assert.ok(
      raised[0]!.kind === 'alarm' &&
        raised[0]!.alarm === 'ProberBlind' &&
        raised[0]!.subject === 'vp-a',
    );
    assert.equal(outcomes.at(-1)!.result.state.vantagePoints['vp-a']!.blind, true);
  });

  it('compliant: the alarm clears when the vantage point sees the fleet again, and its votes count again', () => {
    const config = makeConfig({ nodes: 6 });
    const target = nodeIdOf(3);
    const { outcomes } = runRounds(
      config,
      initialFleetState(config),
      1,
      8,
      (nodeId, vantageId, round) => {
        if (vantageId === 'vp-a') return round <= 3 || nodeId === target ? 'fail' : 'ok';
        return vantageId === 'vp-b' && nodeId === target ? 'fail' : 'ok';
      },
    );
    const cleared = actionsOf(outcomes, 'clear-alarm');
    assert.equal(cleared.length, 1);
    assert.ok(cleared[0]!.kind === 'clear-alarm' && cleared[0]!.subject === 'vp-a');
    // Rounds 4 and 5 are the first two in which vp-a's vote counts: the drain comes in round 5.
    const drainRound = outcomes.find((o) =>
      o.result.actions.some((a) => a.kind === 'drain'),
    )?.round;
    assert.equal(drainRound, 5);
  });

  it('a blind prober does not move reputation', () => {
    const config = makeConfig({ nodes: 6 });
    const { state } = runRounds(config, initialFleetState(config), 1, 5, (_node, vantageId) =>
      vantageId === 'vp-a' ? 'fail' : 'ok',
    );
    assert.equal(state.nodes[nodeIdOf(0)]!.reputation.vantage['vp-a'], undefined);
  });
});
