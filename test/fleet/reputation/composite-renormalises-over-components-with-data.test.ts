import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { compositeScore, nodeReputation } from '../../../fleet/reputation/composite.ts';
import {
  emptyNodeReputationState,
  updateVantageReputation,
} from '../../../fleet/reputation/reputation-state.ts';
import { makeConfig } from '../failover/fleet-fixture.ts';

const weights = makeConfig().reputation.weights;
const none = {
  availability: null,
  latency: null,
  freshness: null,
  completeness: null,
  stress: null,
};

describe('the composite score renormalises over the components that have data', () => {
  it('is null for a node without any evidence', () => {
    assert.equal(compositeScore(none, weights), null);
  });

  it('a new node judged on availability alone is not dragged down by missing components', () => {
    assert.equal(compositeScore({ ...none, availability: 0.9 }, weights), 0.9);
  });

  it('weights are normalised: scaling every weight changes nothing', () => {
    const components = {
      availability: 1,
      latency: 0.5,
      freshness: 0,
      completeness: 0.8,
      stress: null,
    };
    const doubled = Object.fromEntries(
      Object.entries(weights).map(([name, weight]) => [name, weight / 2]),
    ) as typeof weights;
    const score = compositeScore(components, weights) ?? Number.NaN;
    assert.ok(Math.abs(score - (compositeScore(components, doubled) ?? 0)) < 1e-12);
    // (0.4*1 + 0.2*0.5 + 0.15*0 + 0.2*0.8) / 0.95
    assert.ok(Math.abs(score - 0.66 / 0.95) < 1e-12);
  });

  it('a zero-weight component is ignored even when it has data', () => {
    assert.equal(
      compositeScore({ ...none, availability: 1, stress: 0 }, { ...weights, stress: 0 }),
      1,
    );
  });

  it('a node reputation averages each probe component over vantage points', () => {
    // Prepare: vantage point a always succeeds, b always fails, for 50 rounds.
    const config = makeConfig();
    let a = undefined as ReturnType<typeof updateVantageReputation> | undefined;
    let b = a;
    for (let round = 0; round < 50; round++) {
      a = updateVantageReputation(
        a,
        { success: true, latencyScore: 1, freshnessScore: Number.NaN },
        0.95,
      );
      b = updateVantageReputation(
        b,
        { success: false, latencyScore: Number.NaN, freshnessScore: Number.NaN },
        0.95,
      );
    }
    const state = { ...emptyNodeReputationState(), vantage: { 'vp-a': a!, 'vp-b': b! } };
    // Act
    const reputation = nodeReputation('n', state, config.reputation);
    // Assess
    assert.ok(Math.abs((reputation.availability ?? 0) - 0.5) < 0.02);
    assert.equal(reputation.latency, 1);
    assert.equal(reputation.freshness, null);
    assert.ok(reputation.composite !== null && reputation.composite > 0.5);
  });
});
