import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { fleetReputations, runControllerRound } from '../../fleet/controller.ts';
import type { CompletenessResult, StressSummary } from '../../fleet/observations.ts';
import { initialFleetState } from '../../fleet/state.ts';
import {
  actionsOf,
  makeConfig,
  nodeIdOf,
  probeRoundsFor,
  ROUND_MS,
  runRounds,
  T0_MS,
} from './failover/fleet-fixture.ts';

function window(nodeId: string, endMs: number, held: number): CompletenessResult {
  return {
    nodeId,
    vantageId: 'vp-a',
    windowStartMs: endMs - 120_000,
    windowEndMs: endMs,
    unionCount: 100,
    heldCount: held,
    missingCount: 100 - held,
    unknownCount: 0,
    completeness: held / 100,
  };
}

function stressRun(nodeId: string, finishedAtMs: number, sloMet: boolean): StressSummary {
  return {
    nodeId,
    finishedAtMs,
    transport: 'libp2p',
    targetRatePerSecond: 500,
    achievedRatePerSecond: sloMet ? 500 : 300,
    p50Ms: 20,
    p99Ms: sloMet ? 400 : 4000,
    errorRate: sloMet ? 0 : 0.02,
    sloMet,
    aborted: false,
  };
}

describe('a node that answers but serves badly is failing by reputation', () => {
  it('slow, stale and gappy from every vantage point -> drained with a reputation reason', () => {
    // Prepare: node 3 answers pings in 400 ms (median 20), its newest message is 20 min behind,
    // and it holds none of the last window.
    const config = makeConfig({ nodes: 6 });
    const bad = nodeIdOf(3);
    let state = initialFleetState(config);
    const drains: string[] = [];
    // Act
    for (let round = 1; round <= 10; round++) {
      const result = runControllerRound({
        config,
        state,
        round,
        nowMs: T0_MS + round * ROUND_MS,
        probeRounds: probeRoundsFor(config, round, (nodeId) =>
          nodeId === bad ? { pingMs: 400, newestMessageAgeMs: 1_200_000 } : 'ok',
        ),
        completeness: round === 1 ? [window(bad, T0_MS, 0)] : undefined,
      });
      drains.push(...result.actions.filter((a) => a.kind === 'drain').map((a) => a.reason));
      state = result.state;
    }
    // Assess
    assert.equal(drains.length, 1);
    assert.match(drains[0]!, /vp-a: reputation 0\.\d\d below 0\.5/);
    const reputation = fleetReputations(config, state).find((r) => r.nodeId === bad)!;
    assert.equal(reputation.completeness, 0);
    assert.equal(reputation.latency, 0);
  });

  it('one bad component alone does not make a node fail', () => {
    const config = makeConfig({ nodes: 6 });
    const slow = nodeIdOf(3);
    const { outcomes } = runRounds(config, initialFleetState(config), 1, 10, (nodeId) =>
      nodeId === slow ? { pingMs: 400 } : 'ok',
    );
    assert.equal(actionsOf(outcomes, 'drain').length, 0);
  });
});

describe('history and stress alarms', () => {
  const config = makeConfig({ nodes: 4 });
  const node = nodeIdOf(1);

  it('HistoryIncomplete is raised on confirmed gaps, not re-counted on repeats, cleared when complete', () => {
    // Prepare: window 1 gappy (passed twice), window 2 complete.
    let state = initialFleetState(config);
    const rounds = [
      [window(node, T0_MS + 1, 60)],
      [window(node, T0_MS + 1, 60)],
      [window(node, T0_MS + 1, 60), window(node, T0_MS + 2, 100)],
    ];
    const kinds: string[] = [];
    // Act
    rounds.forEach((completeness, t) => {
      const round = t + 1;
      const result = runControllerRound({
        config,
        state,
        round,
        nowMs: T0_MS,
        probeRounds: probeRoundsFor(config, round, () => 'ok'),
        completeness,
      });
      kinds.push(...result.actions.map((a) => `${round}:${a.kind}:${'alarm' in a ? a.alarm : ''}`));
      state = result.state;
    });
    // Assess
    assert.deepEqual(kinds, ['1:alarm:HistoryIncomplete', '3:clear-alarm:HistoryIncomplete']);
    const completeness = state.nodes[node]!.reputation.completeness!;
    assert.equal(completeness.weight, 0.95 + 1, 'two windows counted, the repeat skipped');
  });

  it('StressSloBreach is raised on a missed objective and cleared by a later run that meets it', () => {
    let state = initialFleetState(config);
    const kinds: string[] = [];
    [
      [stressRun(node, 10, false)],
      [stressRun(node, 10, false)],
      [stressRun(node, 20, true)],
    ].forEach((stress, t) => {
      const round = t + 1;
      const result = runControllerRound({
        config,
        state,
        round,
        nowMs: T0_MS,
        probeRounds: probeRoundsFor(config, round, () => 'ok'),
        stress,
      });
      kinds.push(...result.actions.map((a) => `${round}:${a.kind}`));
      state = result.state;
    });
    assert.deepEqual(kinds, ['1:alarm', '3:clear-alarm']);
    const reputation = fleetReputations(config, state).find((r) => r.nodeId === node)!;
    assert.ok(reputation.stress !== null && reputation.stress > 0.5 && reputation.stress < 1);
  });
});

describe('the controller follows config changes and ignores stray input', () => {
  it('a node added later must pass probation before it is listed', () => {
    // Prepare: a 4-node fleet runs 3 rounds, then a fifth node joins the config.
    const small = makeConfig({ nodes: 4, failover: { probationRounds: 3 } });
    const grown = makeConfig({ nodes: 5, failover: { probationRounds: 3 } });
    const newcomer = nodeIdOf(4);
    const { state } = runRounds(small, initialFleetState(small), 1, 3, () => 'ok');
    // Act
    const { outcomes } = runRounds(grown, state, 4, 4, () => 'ok');
    // Assess
    const listedFlags = outcomes.map((o) => o.result.listedNodeIds.includes(newcomer));
    assert.deepEqual(listedFlags, [false, false, true, true]);
    assert.equal(actionsOf(outcomes, 'readmit').length, 1);
  });

  it('alarms about a node that left the config are cleared', () => {
    const config = makeConfig({
      nodes: 5,
      failover: { maxReplaceAttempts: 1, replaceGraceRounds: 0 },
    });
    const leaving = nodeIdOf(4);
    const { state } = runRounds(config, initialFleetState(config), 1, 12, (nodeId) =>
      nodeId === leaving ? 'fail' : 'ok',
    );
    assert.ok(state.alarms[`NodeEscalated:${leaving}`]);
    const smaller = makeConfig({ nodes: 4 });
    const { outcomes } = runRounds(smaller, state, 13, 1, () => 'ok');
    const cleared = actionsOf(outcomes, 'clear-alarm');
    assert.equal(cleared.length, 1);
    assert.match(cleared[0]!.reason, /no longer in the fleet config/);
    assert.equal(outcomes[0]!.result.state.nodes[leaving], undefined);
  });

  it('reports for another round, from unknown vantage points or duplicated, are counted once or not at all', () => {
    const config = makeConfig({ nodes: 6, failover: { failuresBeforeDrain: 1 } });
    const target = nodeIdOf(0);
    const failing = probeRoundsFor(config, 1, (nodeId) => (nodeId === target ? 'fail' : 'ok'));
    const vpA = failing[0]!;
    const stray = [
      { ...vpA, round: 2 },
      {
        ...vpA,
        vantageId: 'vp-zz',
        results: vpA.results.map((r) => ({ ...r, vantageId: 'vp-zz' })),
      },
      vpA,
    ];
    // Act: only vp-a's report of round 1 counts, once: one witness, below the quorum of 2.
    const result = runControllerRound({
      config,
      state: initialFleetState(config),
      round: 1,
      nowMs: T0_MS,
      probeRounds: [vpA, ...stray],
    });
    // Assess
    assert.deepEqual(result.actions, []);
    assert.equal(result.state.nodes[target]!.failStreak, 0);
  });
});
