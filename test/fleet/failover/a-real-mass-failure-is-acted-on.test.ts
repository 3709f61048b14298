// Four of six nodes die at once: nobody is blind, drains go one per round down to minHealthy, and every dead task is restarted.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { TaskState } from '../../../fleet/ports.ts';
import { initialFleetState } from '../../../fleet/state.ts';
import { actionsOf, makeConfig, nodeIdOf, runRounds } from './fleet-fixture.ts';

describe('a real mass failure', () => {
  const config = makeConfig({
    nodes: 6,
    failover: { minHealthy: 3, maxDrainsPerRound: 1, failuresBeforeDrain: 2, quorum: 2 },
  });
  const dead = new Set([0, 1, 2, 3].map(nodeIdOf));
  const tasks = () =>
    new Map<string, TaskState>(
      config.nodes.map((node) => [node.id, dead.has(node.id) ? 'stopped' : 'running']),
    );

  it('is the nodes, not the probers: no ProberBlind, and every dead task is restarted within the cap', () => {
    // Act: round 1 healthy, then four nodes die and stay dead.
    const { outcomes } = runRounds(
      config,
      initialFleetState(config),
      1,
      6,
      (nodeId, _vantageId, round) => (round > 1 && dead.has(nodeId) ? 'fail' : 'ok'),
      (round) => (round > 1 ? tasks() : undefined),
    );
    // Assess
    const alarms = actionsOf(outcomes, 'alarm');
    assert.ok(!alarms.some((a) => a.kind === 'alarm' && a.alarm === 'ProberBlind'));
    for (const outcome of outcomes) {
      assert.ok(outcome.result.listedNodeIds.length >= 3);
      assert.ok(outcome.result.actions.filter((a) => a.kind === 'drain').length <= 1);
    }
    const drained = actionsOf(outcomes, 'drain').map((a) => (a.kind === 'drain' ? a.nodeId : ''));
    assert.equal(drained.length, 3, 'drained down to minHealthy, one per round');
    // The round the drains started, every dead node was either drained or restarted in place.
    const firstDrainRound = outcomes.find((o) => o.result.actions.some((a) => a.kind === 'drain'))!
      .result.actions;
    const actedOn = new Set(
      firstDrainRound
        .filter((a) => a.kind === 'drain' || a.kind === 'replace')
        .map((a) => (a.kind === 'drain' || a.kind === 'replace' ? a.nodeId : '')),
    );
    assert.deepEqual([...actedOn].sort(), [...dead].sort());
    const restarts = firstDrainRound.filter((a) => a.kind === 'replace');
    assert.equal(restarts.length, 3);
    assert.match(restarts[0]!.reason, /task is down and its drain was held back \(drain-cap\)/);
    assert.ok(alarms.some((a) => a.kind === 'alarm' && a.alarm === 'DrainCapReached'));
  });
});

describe('NodeFlapping', () => {
  it('is raised on the second drain within the flap window, and cleared once the window has passed', () => {
    const config = makeConfig({
      nodes: 6,
      failover: {
        failuresBeforeDrain: 1,
        probationRounds: 1,
        replaceGraceRounds: 0,
        flapWindowRounds: 12,
      },
    });
    const target = nodeIdOf(2);
    // Fails in round 2 and again in round 6, then stays well.
    const failing = new Set([2, 6]);
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 22, (nodeId, _v, round) =>
      nodeId === target && failing.has(round) ? 'fail' : 'ok',
    );
    const drainRounds = outcomes
      .filter((o) => o.result.actions.some((a) => a.kind === 'drain'))
      .map((o) => o.round);
    assert.deepEqual(drainRounds, [2, 6]);
    const raisedIn = outcomes.find((o) =>
      o.result.actions.some((a) => a.kind === 'alarm' && a.alarm === 'NodeFlapping'),
    );
    assert.equal(raisedIn?.round, 6);
    const raised = raisedIn!.result.actions.find((a) => a.kind === 'alarm')!;
    assert.ok(
      raised.kind === 'alarm' && raised.severity === 'warning' && raised.subject === target,
    );
    const clearedIn = outcomes.find((o) =>
      o.result.actions.some((a) => a.kind === 'clear-alarm' && a.alarm === 'NodeFlapping'),
    );
    // Round 2's drain leaves the 12-round window in round 14.
    assert.equal(clearedIn?.round, 14);
  });
});
