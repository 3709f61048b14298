import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { judgeBlindness, type VantageSight } from '../../../fleet/failover/blind-prober.ts';

/** A sight from a string per node: `f` failed, `o` ok, `-` not reported. */
function sight(pattern: string): VantageSight {
  const seen = new Uint8Array(pattern.length);
  const failed = new Uint8Array(pattern.length);
  [...pattern].forEach((mark, i) => {
    seen[i] = mark === '-' ? 0 : 1;
    failed[i] = mark === 'f' ? 1 : 0;
  });
  return { seen, failed };
}

const all = (n: number, value: 0 | 1) => new Uint8Array(n).fill(value);

function blindOf(patterns: string[], runtimeDown = all(patterns[0]!.length, 0)) {
  const n = patterns[0]!.length;
  return judgeBlindness({
    sights: patterns.map(sight),
    listed: all(n, 1),
    runtimeDown,
    blindFraction: 0.5,
  }).map((judged) => judged.blind);
}

describe('policy: blindness is relative to the other vantage points and the runtime', () => {
  it('compliant: four of six nodes really down, seen by every vantage point: nobody is blind', () => {
    assert.deepEqual(blindOf(['ffffoo', 'ffffoo', 'ffffoo']), [false, false, false]);
  });

  it('compliant: the runtime alone corroborates a lone vantage point that sees a mass failure', () => {
    const down = Uint8Array.from([1, 1, 1, 1, 0, 0]);
    assert.deepEqual(blindOf(['ffffoo'], down), [false]);
    assert.deepEqual(blindOf(['ffffoo'], all(6, 0)), [true]);
  });

  it('non-compliant: one vantage point alone sees everything fail: it is blind, the others are not', () => {
    assert.deepEqual(blindOf(['ffffff', 'oooooo', 'oooooo']), [true, false, false]);
  });

  it('non-compliant: two of three cut off do not vouch for each other (no strict majority): both blind', () => {
    assert.deepEqual(blindOf(['ffffff', 'ffffff', 'oooooo']), [true, true, false]);
  });

  it('a real failure of one node does not save a blind vantage point', () => {
    assert.deepEqual(blindOf(['ffffff', 'fooooo', 'fooooo']), [true, false, false]);
  });

  it('nodes already drained are not judged: their failures are known', () => {
    const judged = judgeBlindness({
      sights: [sight('ffffoo'), sight('oooooo')],
      listed: Uint8Array.from([0, 0, 0, 1, 1, 1]),
      runtimeDown: all(6, 0),
      blindFraction: 0.5,
    });
    assert.deepEqual(
      judged.map((j) => j.tally),
      [
        { probed: 3, failing: 1 },
        { probed: 3, failing: 0 },
      ],
    );
    assert.deepEqual(
      judged.map((j) => j.blind),
      [false, false],
    );
  });

  it('a node nobody else reported on neither corroborates nor contradicts beyond the runtime', () => {
    // vp-b did not report nodes 0-3: vp-a's failures there have no other witness.
    assert.deepEqual(blindOf(['ffffoo', '----oo']), [true, false]);
  });
});
