import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  goWakuPoolSize,
  type PingedStoreNode,
  seededRandom,
  selectionWeight,
  selectStoreNodeByReputation,
  selectStoreNodeGoWaku,
} from '../../fleet/selection.ts';

const fixed = (value: number) => () => value;

describe('go-waku store node selection (reference)', () => {
  it('draws from every answering node in fleets of up to 13, from the fastest quarter above', () => {
    assert.equal(goWakuPoolSize(1), 1);
    assert.equal(goWakuPoolSize(6), 6);
    assert.equal(goWakuPoolSize(13), 13);
    assert.equal(goWakuPoolSize(17), 4);
    assert.equal(goWakuPoolSize(100), 25);
  });

  it('drops nodes whose ping failed and sorts by RTT', () => {
    const pinged: PingedStoreNode[] = Array.from({ length: 17 }, (_, i) => ({
      nodeId: `n${i}`,
      rttMs: 100 - i,
    }));
    pinged.push({ nodeId: 'dead', rttMs: null });
    // The pool is the 4 fastest: n16 (84 ms) .. n13 (87 ms).
    assert.equal(selectStoreNodeGoWaku(pinged, fixed(0)), 'n16');
    assert.equal(selectStoreNodeGoWaku(pinged, fixed(0.999)), 'n13');
  });

  it('returns nothing when no node answered', () => {
    assert.equal(selectStoreNodeGoWaku([{ nodeId: 'a', rttMs: null }], fixed(0.5)), undefined);
    assert.equal(
      selectStoreNodeByReputation([{ nodeId: 'a', rttMs: null }], fixed(0.5)),
      undefined,
    );
  });

  it('the seeded random source is reproducible and uniform enough', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const draws = Array.from({ length: 10_000 }, () => a());
    assert.deepEqual(
      draws.slice(0, 5),
      Array.from({ length: 5 }, () => b()),
    );
    const mean = draws.reduce((sum, x) => sum + x, 0) / draws.length;
    assert.ok(Math.abs(mean - 0.5) < 0.02);
    assert.ok(draws.every((x) => x >= 0 && x < 1));
  });
});

describe('reputation-weighted selection', () => {
  it('weighs availability, completeness and freshness, times relative RTT, with a floor', () => {
    const good = selectionWeight(
      { nodeId: 'a', rttMs: 40, reputation: { availability: 1, completeness: 1, freshness: 1 } },
      40,
    );
    const gappy = selectionWeight(
      { nodeId: 'b', rttMs: 40, reputation: { availability: 1, completeness: 0.3, freshness: 1 } },
      40,
    );
    const slow = selectionWeight({ nodeId: 'c', rttMs: 400, reputation: null }, 40);
    const unknown = selectionWeight({ nodeId: 'd', rttMs: 40 }, 40);
    assert.equal(good, 1);
    assert.ok(Math.abs(gappy - 0.3) < 1e-12);
    assert.equal(slow, 0.01);
    assert.equal(unknown, 1);
  });
});
