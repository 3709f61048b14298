import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { runControllerRound } from '../../../fleet/controller.ts';
import { nodeReputation } from '../../../fleet/reputation/composite.ts';
import { latencyScore, medianOf } from '../../../fleet/reputation/latency.ts';
import { initialFleetState } from '../../../fleet/state.ts';
import { makeConfig, nodeIdOf, probeRoundsFor } from '../failover/fleet-fixture.ts';

describe('latency is judged relative to the fleet median', () => {
  it('scores 1 at or below the median and 0 at the tolerance ratio', () => {
    assert.equal(latencyScore(40, 40, 4), 1);
    assert.equal(latencyScore(10, 40, 4), 1);
    assert.equal(latencyScore(160, 40, 4), 0);
    assert.equal(latencyScore(1000, 40, 4), 0);
    assert.ok(Math.abs(latencyScore(100, 40, 4) - 0.5) < 1e-9);
  });

  it('ignores differences below the noise floor (loopback round trips)', () => {
    assert.equal(latencyScore(0.4, 0.1, 4), 1);
  });

  it('takes the median of finite values only', () => {
    assert.equal(medianOf(new Float64Array([5, Number.NaN, 1, 3])), 3);
    assert.equal(medianOf(new Float64Array([4, 1, 3, 2])), 2.5);
    assert.equal(medianOf(new Float64Array([Number.NaN])), null);
  });

  it('a fleet-wide slowdown demotes nobody, a single slow node is demoted', () => {
    // Prepare: six nodes; every node becomes ten times slower, except that one is slower still.
    const config = makeConfig({ nodes: 6 });
    const slow = nodeIdOf(5);
    let state = initialFleetState(config);
    // Act
    for (let round = 1; round <= 20; round++) {
      const pingMs = round <= 10 ? 20 : 200;
      state = runControllerRound({
        config,
        state,
        round,
        nowMs: round * 5000,
        probeRounds: probeRoundsFor(config, round, (nodeId) => ({
          pingMs: nodeId === slow && round > 10 ? 2000 : pingMs,
        })),
      }).state;
    }
    // Assess
    const healthy = nodeReputation(
      nodeIdOf(0),
      state.nodes[nodeIdOf(0)]!.reputation,
      config.reputation,
    );
    const demoted = nodeReputation(slow, state.nodes[slow]!.reputation, config.reputation);
    assert.equal(healthy.latency, 1);
    assert.ok((demoted.latency ?? 1) < 0.6, `slow node latency score ${demoted.latency}`);
  });
});
