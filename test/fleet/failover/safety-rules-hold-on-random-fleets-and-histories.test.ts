// Property tests: the failover safety rules hold on random fleets and random probe histories.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type ControllerRoundResult, runControllerRound } from '../../../fleet/controller.ts';
import type { ProbeRound } from '../../../fleet/observations.ts';
import type { TaskState } from '../../../fleet/ports.ts';
import { type FleetState, initialFleetState } from '../../../fleet/state.ts';
import { makeConfig, probeResults, ROUND_MS, T0_MS } from './fleet-fixture.ts';

type NodeHealth = 'up' | 'down' | 'split';
type VantageMood = 'normal' | 'blind' | 'absent';

interface History {
  nodes: number;
  vantages: number;
  failover: {
    quorum: number;
    minHealthy: number;
    maxDrainsPerRound: number;
    failuresBeforeDrain: number;
    probationRounds: number;
    flapProbationMultiplier: number;
    flapWindowRounds: number;
    maxReplaceAttempts: number;
    replaceGraceRounds: number;
    blindFraction: number;
  };
  /** [round][node] */
  health: NodeHealth[][];
  /** [round][vantage] */
  moods: VantageMood[][];
  /** [round][node] */
  tasks: (TaskState | undefined)[][];
}

const historyArbitrary: fc.Arbitrary<History> = fc
  .record({
    nodes: fc.integer({ min: 3, max: 8 }),
    vantages: fc.integer({ min: 2, max: 4 }),
    rounds: fc.integer({ min: 8, max: 30 }),
  })
  .chain(({ nodes, vantages, rounds }) =>
    fc.record({
      nodes: fc.constant(nodes),
      vantages: fc.constant(vantages),
      failover: fc.record({
        quorum: fc.integer({ min: 1, max: vantages }),
        minHealthy: fc.integer({ min: 1, max: nodes }),
        maxDrainsPerRound: fc.integer({ min: 1, max: 3 }),
        failuresBeforeDrain: fc.integer({ min: 1, max: 3 }),
        probationRounds: fc.integer({ min: 1, max: 4 }),
        flapProbationMultiplier: fc.constantFrom(1, 1.5, 2),
        flapWindowRounds: fc.integer({ min: 5, max: 30 }),
        maxReplaceAttempts: fc.integer({ min: 1, max: 3 }),
        replaceGraceRounds: fc.integer({ min: 0, max: 2 }),
        blindFraction: fc.constantFrom(0.3, 0.5, 0.7),
      }),
      // Health comes in runs, as real outages and recoveries do, so drains, probations and flaps all occur.
      health: fc
        .array(
          fc.array(
            fc.record({
              health: fc.constantFrom<NodeHealth>('up', 'up', 'down', 'split'),
              length: fc.integer({ min: 1, max: 8 }),
            }),
            { minLength: 1, maxLength: rounds },
          ),
          { minLength: nodes, maxLength: nodes },
        )
        .map((perNode) => {
          const columns = perNode.map((segments) => {
            const column = segments.flatMap((segment) =>
              Array<NodeHealth>(segment.length).fill(segment.health),
            );
            while (column.length < rounds) column.push('up');
            return column;
          });
          return Array.from({ length: rounds }, (_, t) =>
            columns.map((column) => column[t] as NodeHealth),
          );
        }),
      moods: fc.array(
        fc.array(
          fc.constantFrom<VantageMood>(...Array<VantageMood>(8).fill('normal'), 'blind', 'absent'),
          {
            minLength: vantages,
            maxLength: vantages,
          },
        ),
        { minLength: rounds, maxLength: rounds },
      ),
      tasks: fc.array(
        fc.array(
          fc.constantFrom<TaskState | undefined>(
            undefined,
            undefined,
            undefined,
            'running',
            'stopped',
            'missing',
            'pending',
          ),
          { minLength: nodes, maxLength: nodes },
        ),
        { minLength: rounds, maxLength: rounds },
      ),
    }),
  );

/** What vantage point `v` saw of node `n` in round index `t`. */
function sees(history: History, t: number, v: number, n: number): 'ok' | 'fail' | 'absent' {
  const mood = history.moods[t]![v]!;
  if (mood === 'absent') return 'absent';
  if (mood === 'blind') return 'fail';
  const health = history.health[t]![n]!;
  if (health === 'up') return 'ok';
  if (health === 'down') return 'fail';
  return v === 0 ? 'fail' : 'ok';
}

interface Replay {
  config: ReturnType<typeof makeConfig>;
  results: ControllerRoundResult[];
  /** results[t] was computed from states[t]. */
  states: FleetState[];
}

function replay(history: History): Replay {
  // suspectBelow 0: these properties are about probe and runtime evidence; reputation votes are tested by example.
  const config = makeConfig({
    nodes: history.nodes,
    vantagePoints: history.vantages,
    failover: history.failover,
    reputation: { suspectBelow: 0 },
  });
  const states: FleetState[] = [initialFleetState(config)];
  const results: ControllerRoundResult[] = [];
  history.health.forEach((_, t) => {
    const round = t + 1;
    const startedAtMs = T0_MS + round * ROUND_MS;
    const probeRounds: ProbeRound[] = [];
    config.vantagePoints.forEach((vantage, v) => {
      if (history.moods[t]![v] === 'absent') return;
      probeRounds.push({
        vantageId: vantage.id,
        round,
        startedAtMs,
        finishedAtMs: startedAtMs + 1000,
        results: config.nodes.flatMap((node, n) =>
          probeResults(node.id, vantage.id, startedAtMs, sees(history, t, v, n)),
        ),
      });
    });
    const taskStates = new Map<string, TaskState>();
    config.nodes.forEach((node, n) => {
      const task = history.tasks[t]![n];
      if (task !== undefined) taskStates.set(node.id, task);
    });
    const result = runControllerRound({
      config,
      state: states[t]!,
      round,
      nowMs: startedAtMs,
      probeRounds,
      taskStates,
    });
    results.push(result);
    states.push(result.state);
  });
  return { config, results, states };
}

/** Listed before round index t, as the controller judges blindness: active or suspect. */
function listedBefore(replayed: Replay, t: number, nodeId: string): boolean {
  const status = replayed.states[t]!.nodes[nodeId]?.status ?? 'active';
  return status === 'active' || status === 'suspect';
}

function taskDown(history: History, t: number, n: number): boolean {
  const task = history.tasks[t]![n];
  return task === 'stopped' || task === 'missing';
}

/**
 * The blindness rule restated: over the nodes listed before the round, more than blindFraction
 * failing where neither the runtime nor a strict majority of the other reporting vantage points
 * saw the node fail.
 */
function blindVantages(history: History, replayed: Replay, t: number): Set<number> {
  const reporting = [...Array(history.vantages).keys()].filter(
    (v) => history.moods[t]![v] !== 'absent',
  );
  const blind = new Set<number>();
  for (const v of reporting) {
    let probed = 0;
    let failing = 0;
    replayed.config.nodes.forEach((node, n) => {
      if (!listedBefore(replayed, t, node.id)) return;
      probed++;
      if (sees(history, t, v, n) !== 'fail' || taskDown(history, t, n)) return;
      const others = reporting.filter((o) => o !== v);
      const othersFailing = others.filter((o) => sees(history, t, o, n) === 'fail').length;
      if (others.length > 0 && othersFailing * 2 > others.length) return;
      failing++;
    });
    if (probed >= 3 && failing > history.failover.blindFraction * probed) blind.add(v);
  }
  return blind;
}

function witnesses(history: History, replayed: Replay, t: number, n: number) {
  const blind = blindVantages(history, replayed, t);
  let failing = 0;
  let passing = 0;
  for (let v = 0; v < history.vantages; v++) {
    if (blind.has(v)) continue;
    const sight = sees(history, t, v, n);
    if (sight === 'fail') failing++;
    if (sight === 'ok') passing++;
  }
  const task = history.tasks[t]![n];
  if (task === 'stopped' || task === 'missing') failing++;
  const runtimeAllowsGood = task === undefined || task === 'running';
  return { failing, passing, runtimeAllowsGood };
}

const RUNS = { numRuns: 200, seed: 20261121 } as const;

describe('failover safety properties on random fleets and histories', () => {
  it('never lists fewer than minHealthy nodes and never drains more than the cap per round', () => {
    fc.assert(
      fc.property(historyArbitrary, (history) => {
        const { results } = replay(history);
        for (const result of results) {
          assert.ok(result.listedNodeIds.length >= history.failover.minHealthy);
          const drains = result.actions.filter((action) => action.kind === 'drain').length;
          assert.ok(drains <= history.failover.maxDrainsPerRound);
        }
      }),
      RUNS,
    );
  });

  it('drains only after a quorum of non-blind witnesses for failuresBeforeDrain consecutive rounds, or one round with the task down', () => {
    let drainsChecked = 0;
    fc.assert(
      fc.property(historyArbitrary, (history) => {
        const replayed = replay(history);
        const { failuresBeforeDrain, quorum } = history.failover;
        replayed.results.forEach((result, t) => {
          for (const action of result.actions) {
            if (action.kind !== 'drain') continue;
            drainsChecked++;
            const n = replayed.config.nodes.findIndex((node) => node.id === action.nodeId);
            // A task the runtime reports down is no transient failure: one quorum round is enough.
            const task = history.tasks[t]![n];
            const rounds = task === 'stopped' || task === 'missing' ? 1 : failuresBeforeDrain;
            assert.ok(t + 1 >= rounds, `drained in round ${t + 1}, before K rounds existed`);
            for (let back = 0; back < rounds; back++) {
              const seen = witnesses(history, replayed, t - back, n);
              assert.ok(
                seen.failing >= quorum,
                `round ${t + 1 - back}: ${seen.failing} witnesses < quorum ${quorum}`,
              );
            }
          }
        });
      }),
      RUNS,
    );
    // Guards against a vacuous pass: the generated histories must actually drain nodes.
    assert.ok(drainsChecked > 50, `only ${drainsChecked} drains were generated`);
  });

  it('re-admits only after the required consecutive good rounds, longer for flapping nodes', () => {
    let readmitsChecked = 0;
    let flapsChecked = 0;
    fc.assert(
      fc.property(historyArbitrary, (history) => {
        const replayed = replay(history);
        const { quorum, probationRounds, flapProbationMultiplier, flapWindowRounds } =
          history.failover;
        const drainRounds = new Map<string, number[]>();
        replayed.results.forEach((result, t) => {
          for (const action of result.actions) {
            if (action.kind === 'drain') {
              const earlier = (drainRounds.get(action.nodeId) ?? []).filter(
                (r) => t + 1 - r < flapWindowRounds,
              );
              const expected = Math.ceil(
                probationRounds * flapProbationMultiplier ** earlier.length,
              );
              assert.equal(result.state.nodes[action.nodeId]!.requiredProbationRounds, expected);
              if (earlier.length > 0) flapsChecked++;
              drainRounds.set(action.nodeId, [...earlier, t + 1]);
            }
            if (action.kind !== 'readmit') continue;
            readmitsChecked++;
            const required = replayed.states[t]!.nodes[action.nodeId]!.requiredProbationRounds;
            assert.ok(required >= probationRounds);
            const n = replayed.config.nodes.findIndex((node) => node.id === action.nodeId);
            assert.ok(t + 1 >= required);
            for (let back = 0; back < required; back++) {
              const seen = witnesses(history, replayed, t - back, n);
              const good =
                seen.failing < quorum && seen.passing >= quorum && seen.runtimeAllowsGood;
              assert.ok(good, `round ${t + 1 - back} was not good but counted towards probation`);
            }
          }
        });
      }),
      RUNS,
    );
    assert.ok(readmitsChecked > 20, `only ${readmitsChecked} re-admissions were generated`);
    assert.ok(flapsChecked > 5, `only ${flapsChecked} repeated drains were generated`);
  });

  it('a blind prober never causes a drain, and is named in a ProberBlind alarm', () => {
    // vp-a sees every node fail in every round; vp-b and vp-c never agree on a failing node.
    const arbitrary = fc.record({
      nodes: fc.integer({ min: 3, max: 8 }),
      rounds: fc.array(
        fc.array(fc.constantFrom('both-ok', 'b-fails', 'c-fails'), { minLength: 8, maxLength: 8 }),
        {
          minLength: 5,
          maxLength: 25,
        },
      ),
    });
    fc.assert(
      fc.property(arbitrary, ({ nodes, rounds }) => {
        const config = makeConfig({
          nodes,
          failover: { quorum: 2, failuresBeforeDrain: 1, minHealthy: 1, maxDrainsPerRound: 3 },
        });
        let state = initialFleetState(config);
        rounds.forEach((row, t) => {
          const round = t + 1;
          const probeRounds = config.vantagePoints.map((vantage) => ({
            vantageId: vantage.id,
            round,
            startedAtMs: T0_MS,
            finishedAtMs: T0_MS,
            results: config.nodes.flatMap((node, n) => {
              const fate = row[n]!;
              const failing =
                vantage.id === 'vp-a' ||
                (vantage.id === 'vp-b' && fate === 'b-fails') ||
                (vantage.id === 'vp-c' && fate === 'c-fails');
              return probeResults(node.id, vantage.id, T0_MS, failing ? 'fail' : 'ok');
            }),
          }));
          const result = runControllerRound({ config, state, round, nowMs: T0_MS, probeRounds });
          assert.equal(result.actions.filter((action) => action.kind === 'drain').length, 0);
          assert.ok(result.state.alarms['ProberBlind:vp-a']);
          state = result.state;
        });
      }),
      RUNS,
    );
  });

  it('liveness: a failure seen by every vantage point and by the runtime is acted on within the cap', () => {
    let episodes = 0;
    let heldAndRestarted = 0;
    fc.assert(
      fc.property(historyArbitrary, (history) => {
        const replayed = replay(history);
        const { failuresBeforeDrain, maxDrainsPerRound, replaceGraceRounds, maxReplaceAttempts } =
          history.failover;
        const seenDownByAll = (t: number, n: number) =>
          history.moods[t]!.every((mood) => mood === 'normal') &&
          history.health[t]![n] === 'down' &&
          taskDown(history, t, n);
        replayed.results.forEach((result, t) => {
          if (t + 1 < failuresBeforeDrain) return;
          replayed.config.nodes.forEach((node, n) => {
            for (let back = 0; back < failuresBeforeDrain; back++) {
              if (!seenDownByAll(t - back, n) || !listedBefore(replayed, t - back, node.id)) return;
            }
            episodes++;
            const drained = result.actions.some(
              (action) => action.kind === 'drain' && action.nodeId === node.id,
            );
            const after = result.state.nodes[node.id]!;
            if (drained) return;
            // Not drained: only the cap (used up this round) or minHealthy may have held it.
            assert.ok(
              after.heldBack !== null,
              `round ${t + 1}: ${node.id} failed by every witness for ${failuresBeforeDrain} rounds and was neither drained nor held back`,
            );
            if (after.heldBack === 'drain-cap') {
              const drains = result.actions.filter((action) => action.kind === 'drain').length;
              assert.equal(drains, maxDrainsPerRound);
            } else {
              assert.ok(result.listedNodeIds.length <= history.failover.minHealthy);
            }
            // Runtime evidence always leads to a replacement: now, or within the grace of the last one.
            const restarted = replayed.results
              .slice(Math.max(0, t - replaceGraceRounds), t + 1)
              .some((r) => r.actions.some((a) => a.kind === 'replace' && a.nodeId === node.id));
            assert.ok(
              restarted || after.replaceAttempts >= maxReplaceAttempts,
              `round ${t + 1}: ${node.id} is held listed with its task down and was not restarted`,
            );
            heldAndRestarted++;
          });
        });
      }),
      RUNS,
    );
    assert.ok(episodes > 50, `only ${episodes} unanimous failures were generated`);
    assert.ok(heldAndRestarted > 5, `only ${heldAndRestarted} held-back failures were generated`);
  });

  it('a real mass failure seen by every vantage point and the runtime raises no ProberBlind', () => {
    fc.assert(
      fc.property(
        fc.record({ nodes: fc.integer({ min: 4, max: 8 }), dead: fc.integer({ min: 3, max: 8 }) }),
        ({ nodes, dead }) => {
          const config = makeConfig({
            nodes,
            failover: { minHealthy: 1, maxDrainsPerRound: 1, failuresBeforeDrain: 2 },
          });
          const down = new Set(config.nodes.slice(0, Math.min(dead, nodes - 1)).map((n) => n.id));
          let state = initialFleetState(config);
          let drains = 0;
          for (let round = 1; round <= 6; round++) {
            const probeRounds = config.vantagePoints.map((vantage) => ({
              vantageId: vantage.id,
              round,
              startedAtMs: T0_MS,
              finishedAtMs: T0_MS,
              results: config.nodes.flatMap((node) =>
                probeResults(node.id, vantage.id, T0_MS, down.has(node.id) ? 'fail' : 'ok'),
              ),
            }));
            const taskStates = new Map<string, TaskState>(
              config.nodes.map((node) => [node.id, down.has(node.id) ? 'stopped' : 'running']),
            );
            const result = runControllerRound({
              config,
              state,
              round,
              nowMs: T0_MS,
              probeRounds,
              taskStates,
            });
            assert.ok(!result.actions.some((a) => a.kind === 'alarm' && a.alarm === 'ProberBlind'));
            drains += result.actions.filter((a) => a.kind === 'drain').length;
            state = result.state;
          }
          assert.ok(drains >= 1, 'the dead nodes are drained, one per round');
        },
      ),
      RUNS,
    );
  });
});
