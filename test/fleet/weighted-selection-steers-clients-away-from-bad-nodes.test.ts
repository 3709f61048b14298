// Simulation: the reputation-weighted selection steers clients away from slow and gappy nodes far more than go-waku's.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { fleetReputations, runControllerRound } from '../../fleet/controller.ts';
import type { CompletenessResult } from '../../fleet/observations.ts';
import {
  type RandomSource,
  seededRandom,
  selectStoreNodeByReputation,
  selectStoreNodeGoWaku,
} from '../../fleet/selection.ts';
import { initialFleetState } from '../../fleet/state.ts';
import { makeConfig, nodeIdOf, probeRoundsFor, ROUND_MS, T0_MS } from './failover/fleet-fixture.ts';

const NODES = 8;
const SLOW = nodeIdOf(6);
const GAPPY = nodeIdOf(7);
const PROBE_ROUNDS = 60;
const CLIENTS = 20_000;

/** Typical RTT per node: the slow one is a node struggling under load; the gappy one is fast. */
function typicalRttMs(nodeId: string): number {
  if (nodeId === SLOW) return 320;
  if (nodeId === GAPPY) return 35;
  return 45;
}

function jittered(nodeId: string, random: RandomSource): number {
  return typicalRttMs(nodeId) * (0.7 + 0.6 * random());
}

function completenessWindow(
  round: number,
  config: ReturnType<typeof makeConfig>,
): CompletenessResult[] {
  return config.nodes.map((node) => {
    const held = node.id === GAPPY ? 30 : 100;
    return {
      nodeId: node.id,
      vantageId: 'vp-a',
      windowStartMs: T0_MS + round * ROUND_MS - 120_000,
      windowEndMs: T0_MS + round * ROUND_MS,
      unionCount: 100,
      heldCount: held,
      missingCount: 100 - held,
      unknownCount: 0,
      completeness: held / 100,
    };
  });
}

describe('selection simulation (seeded)', () => {
  it('the weighted selection picks the slow and the gappy node far less often than go-waku', () => {
    // Prepare: the fleet's probers build reputation over 60 rounds with jittered RTTs.
    const config = makeConfig({ nodes: NODES });
    const random = seededRandom(20261121);
    let state = initialFleetState(config);
    for (let round = 1; round <= PROBE_ROUNDS; round++) {
      state = runControllerRound({
        config,
        state,
        round,
        nowMs: T0_MS + round * ROUND_MS,
        probeRounds: probeRoundsFor(config, round, (nodeId) => ({
          pingMs: jittered(nodeId, random),
        })),
        completeness: round % 10 === 0 ? completenessWindow(round, config) : undefined,
      }).state;
    }
    const reputations = new Map(fleetReputations(config, state).map((r) => [r.nodeId, r]));
    assert.equal(state.listedNodeIds.length, NODES, 'neither node is bad enough to be drained');

    // Act: each client pings every listed node once and picks with both algorithms.
    const picks = { goWaku: new Map<string, number>(), weighted: new Map<string, number>() };
    for (let client = 0; client < CLIENTS; client++) {
      const pinged = state.listedNodeIds.map((nodeId) => ({
        nodeId,
        rttMs: jittered(nodeId, random),
        reputation: reputations.get(nodeId) ?? null,
      }));
      const byGoWaku = selectStoreNodeGoWaku(pinged, random) as string;
      const byReputation = selectStoreNodeByReputation(pinged, random) as string;
      picks.goWaku.set(byGoWaku, (picks.goWaku.get(byGoWaku) ?? 0) + 1);
      picks.weighted.set(byReputation, (picks.weighted.get(byReputation) ?? 0) + 1);
    }

    // Assess: go-waku draws uniformly from all 8 (a fleet under 14 nodes), so each bad node gets ~1/8.
    const share = (counts: Map<string, number>, nodeId: string) =>
      (counts.get(nodeId) ?? 0) / CLIENTS;
    const goWakuSlow = share(picks.goWaku, SLOW);
    const goWakuGappy = share(picks.goWaku, GAPPY);
    const weightedSlow = share(picks.weighted, SLOW);
    const weightedGappy = share(picks.weighted, GAPPY);
    assert.ok(
      goWakuSlow > 0.1 && goWakuGappy > 0.1,
      `go-waku: slow ${goWakuSlow}, gappy ${goWakuGappy}`,
    );
    assert.ok(
      weightedSlow < goWakuSlow / 5,
      `slow node: weighted ${weightedSlow} vs go-waku ${goWakuSlow}`,
    );
    assert.ok(
      weightedGappy < goWakuGappy / 2,
      `gappy node: weighted ${weightedGappy} vs go-waku ${goWakuGappy}`,
    );
    // The good nodes take up the load between them.
    const goodShare = 1 - weightedSlow - weightedGappy;
    assert.ok(goodShare > 0.9, `good nodes get ${goodShare}`);
  });
});
