import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { TaskState } from '../../fleet/ports.ts';
import { initialFleetState } from '../../fleet/state.ts';
import { actionsOf, makeConfig, nodeIdOf, runRounds } from './failover/fleet-fixture.ts';

describe('controller scenario: a killed node is drained, replaced, put on probation and re-admitted', () => {
  it('follows active -> drained -> replacing -> probation -> active', () => {
    // Prepare: K = 2, P = 4, grace 1; the node is killed in round 3; its replacement starts in round 6
    // and is pending for two rounds. The runtime reports the task stopped in round 3, which with the
    // probers' failures is a quorum of a task down: drained in that round, without waiting K rounds.
    const config = makeConfig({
      nodes: 6,
      failover: { failuresBeforeDrain: 2, probationRounds: 4, replaceGraceRounds: 1 },
    });
    const killed = nodeIdOf(2);
    const replacedInRound = 6;
    const taskState = (round: number): TaskState => {
      if (round < 3) return 'running';
      if (round < replacedInRound) return 'stopped';
      return round < replacedInRound + 2 ? 'pending' : 'running';
    };
    // Act
    const { outcomes } = runRounds(
      config,
      initialFleetState(config),
      1,
      20,
      (nodeId, _vantage, round) =>
        nodeId === killed && taskState(round) !== 'running' ? 'fail' : 'ok',
      (round) => new Map([[killed, taskState(round)]]),
    );
    // Assess
    const statusByRound = outcomes.map((o) => o.result.state.nodes[killed]!.status);
    assert.deepEqual(statusByRound.slice(0, 14), [
      'active',
      'active',
      'drained',
      'replacing',
      'replacing',
      'replacing',
      'replacing',
      'probation',
      'probation',
      'probation',
      'active',
      'active',
      'active',
      'active',
    ]);
    const actions = outcomes.flatMap((o) =>
      o.result.actions.map((a) => `${o.round}:${a.kind}:${a.idempotencyKey}`),
    );
    assert.deepEqual(actions, [
      `3:drain:storefleet.test/drain/${killed}/g1`,
      `4:replace:storefleet.test/replace/${killed}/g1/a1`,
      `11:readmit:storefleet.test/readmit/${killed}/g1`,
    ]);
    assert.equal(outcomes[2]!.result.listedNodeIds.includes(killed), false);
    assert.equal(outcomes[10]!.result.listedNodeIds.includes(killed), true);
  });
});

describe('controller scenario: half the fleet fails at once', () => {
  it('drains one node per round, never below minHealthy, and raises both alarms', () => {
    // Prepare: 10 nodes, 5 die from every vantage point (exactly half: not a blind prober).
    const config = makeConfig({
      nodes: 10,
      failover: { minHealthy: 7, maxDrainsPerRound: 1, failuresBeforeDrain: 2 },
    });
    const dead = new Set([0, 2, 4, 6, 8].map(nodeIdOf));
    // Act
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 12, (nodeId) =>
      dead.has(nodeId) ? 'fail' : 'ok',
    );
    // Assess
    for (const { result } of outcomes) {
      assert.ok(result.listedNodeIds.length >= 7);
      assert.ok(result.actions.filter((a) => a.kind === 'drain').length <= 1);
    }
    assert.equal(actionsOf(outcomes, 'drain').length, 3);
    const alarms = actionsOf(outcomes, 'alarm').map((a) => a.kind === 'alarm' && a.alarm);
    assert.deepEqual(alarms.sort(), ['DrainCapReached', 'RegistryBelowMinHealthy']);
    const last = outcomes.at(-1)!.result;
    assert.equal(last.listedNodeIds.filter((id) => dead.has(id)).length, 2);
    assert.ok(last.state.alarms['RegistryBelowMinHealthy:fleet']);
  });
});

describe('controller scenario: a flapping node', () => {
  it('is drained once per flap and waits longer the second time', () => {
    // Prepare: P = 3, multiplier 2; the node fails rounds 1-2 and again 20-21.
    const config = makeConfig({
      nodes: 6,
      failover: {
        probationRounds: 3,
        flapProbationMultiplier: 2,
        flapWindowRounds: 100,
        replaceGraceRounds: 0,
      },
    });
    const flapper = nodeIdOf(1);
    const failing = (round: number) => round <= 2 || (round >= 20 && round <= 21);
    // Act
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 45, (nodeId, _v, round) =>
      nodeId === flapper && failing(round) ? 'fail' : 'ok',
    );
    // Assess
    const drains = outcomes.filter((o) => o.result.actions.some((a) => a.kind === 'drain'));
    const readmits = outcomes.filter((o) => o.result.actions.some((a) => a.kind === 'readmit'));
    assert.deepEqual(
      drains.map((o) => o.round),
      [2, 21],
    );
    // First: replaced in 3, good 4..6 -> readmitted in 6. Second: replaced in 22, good 23..28 -> 28.
    assert.deepEqual(
      readmits.map((o) => o.round),
      [6, 28],
    );
    assert.deepEqual(
      actionsOf(outcomes, 'drain').map((a) => a.kind === 'drain' && a.generation),
      [1, 2],
    );
    assert.match(
      actionsOf(outcomes, 'drain')[1]!.reason,
      /drained 1 time\(s\) before .* probation is 6 rounds/,
    );
  });
});
