import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { CompletenessResult, StressSummary } from '../../../fleet/observations.ts';
import { completenessScore, confirmedGaps } from '../../../fleet/reputation/completeness.ts';
import { freshestAgeOf, freshnessScore } from '../../../fleet/reputation/freshness.ts';
import { STRESS_MISSED_SLO_CEILING, stressScore } from '../../../fleet/reputation/stress.ts';

function completeness(over: Partial<CompletenessResult>): CompletenessResult {
  return {
    nodeId: 'store-01.loc-000.storefleet.test',
    vantageId: 'vp-a',
    windowStartMs: 0,
    windowEndMs: 120_000,
    unionCount: 100,
    heldCount: 100,
    missingCount: 0,
    unknownCount: 0,
    completeness: 1,
    ...over,
  };
}

function stress(over: Partial<StressSummary>): StressSummary {
  return {
    nodeId: 'store-01.loc-000.storefleet.test',
    finishedAtMs: 1,
    transport: 'libp2p',
    targetRatePerSecond: 1000,
    achievedRatePerSecond: 1000,
    p50Ms: 10,
    p99Ms: 100,
    errorRate: 0,
    sloMet: true,
    aborted: false,
    ...over,
  };
}

describe('store freshness is the lag behind the freshest node', () => {
  it('scores 1 for the freshest node and falls linearly to 0 at freshnessMaxAgeSeconds behind', () => {
    assert.equal(freshnessScore(5000, 5000, 600), 1);
    assert.equal(freshnessScore(305_000, 5000, 600), 0.5);
    assert.equal(freshnessScore(900_000, 5000, 600), 0);
  });

  it('a node with no message while others have some scores 0', () => {
    assert.equal(freshnessScore(Number.POSITIVE_INFINITY, 5000, 600), 0);
  });

  it('a quiet fleet (no node has any message) yields no evidence at all', () => {
    assert.equal(freshestAgeOf(new Float64Array([Number.POSITIVE_INFINITY, Number.NaN])), null);
    assert.equal(freshestAgeOf(new Float64Array([7000, Number.POSITIVE_INFINITY, 3000])), 3000);
  });
});

describe('history completeness is the share of the fleet union a node holds', () => {
  it('averages the vantage points that got an answer and ignores those that did not', () => {
    const score = completenessScore([
      completeness({ completeness: 0.8 }),
      completeness({ vantageId: 'vp-b', completeness: 0.6 }),
      completeness({ vantageId: 'vp-c', completeness: null }),
    ]);
    assert.ok(Math.abs((score ?? 0) - 0.7) < 1e-9);
  });

  it('has no score when the node answered nobody', () => {
    assert.equal(completenessScore([completeness({ completeness: null })]), null);
  });

  it('reports gaps only when confirmed by hash', () => {
    assert.equal(confirmedGaps([completeness({ missingCount: 0, unknownCount: 5 })]), false);
    assert.equal(confirmedGaps([completeness({ missingCount: 2 })]), true);
  });
});

describe('stress results', () => {
  it('a met objective scores 1 and an aborted run 0', () => {
    assert.equal(stressScore(stress({})), 1);
    assert.equal(stressScore(stress({ sloMet: false, aborted: true })), 0);
  });

  it('a missed objective scores at most the ceiling, less for lower throughput and more errors', () => {
    const near = stressScore(stress({ sloMet: false }));
    const worse = stressScore(
      stress({ sloMet: false, achievedRatePerSecond: 500, errorRate: 0.04 }),
    );
    assert.equal(near, STRESS_MISSED_SLO_CEILING);
    assert.ok(worse < near && worse > 0);
  });
});
