// The generator measures its own ceiling against a canned server in another thread, and stops at the first rate it cannot hold.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { measureGeneratorCapacity } from '../../probes/stress/generator-capacity.ts';

describe('generator capacity', () => {
  it('ramps through the rates, stops at the first it cannot hold, and reports each step', async () => {
    // Act: 50/s is trivially held; 200k/s cannot be on any machine (and is cut short by its own drops).
    const capacity = await measureGeneratorCapacity({
      workers: 0,
      connections: 16,
      durationSeconds: 0.3,
      clock: { nowMs: () => Date.now() },
      rates: [50, 200_000, 400_000],
    });

    // Assess: whether 50/s was held depends on what else this machine runs; the ramp logic does not.
    const [first, second] = capacity.steps;
    assert.ok(first);
    assert.ok((first.busyMicrosPerRequest ?? 0) > 0);
    if (first.keptUp) {
      assert.equal(capacity.maxRatePerSecond, 50);
      assert.equal(capacity.steps.length, 2);
      assert.equal(second?.keptUp, false);
      assert.ok((second?.dropped ?? 0) > 0, 'a rate far above the ceiling shows up as drops');
    } else {
      assert.equal(capacity.maxRatePerSecond, 0);
      assert.equal(capacity.steps.length, 1);
    }
  });
});
