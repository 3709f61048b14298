import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  betaScore,
  NEUTRAL_BETA_PRIOR,
  updateBetaScore,
} from '../../../fleet/reputation/forgetting.ts';

const LAMBDA = 0.95;

function replay(outcomes: readonly boolean[]) {
  let state = null as ReturnType<typeof updateBetaScore> | null;
  for (const success of outcomes) state = updateBetaScore(state, success, LAMBDA);
  return state;
}

describe('availability is a forgetting-factor beta score', () => {
  it('starts neutral: the prior alone scores 0.5', () => {
    assert.equal(betaScore(NEUTRAL_BETA_PRIOR), 0.5);
  });

  it('one observation moves the score without pinning it to 0 or 1', () => {
    const up = betaScore(replay([true]) ?? NEUTRAL_BETA_PRIOR);
    const down = betaScore(replay([false]) ?? NEUTRAL_BETA_PRIOR);
    assert.ok(up > 0.5 && up < 1);
    assert.ok(down < 0.5 && down > 0);
  });

  it('decays old evidence by lambda on every result (Storj update)', () => {
    // Prepare: the prior decays once, then one success is added.
    const state = replay([true]);
    // Assess
    assert.deepEqual(state, { alpha: LAMBDA * 1 + 1, beta: LAMBDA * 1 });
  });

  it('recent failures outweigh the same number of older successes', () => {
    const recoveredLate = betaScore(
      replay([...Array(10).fill(false), ...Array(10).fill(true)]) ?? NEUTRAL_BETA_PRIOR,
    );
    const failedLate = betaScore(
      replay([...Array(10).fill(true), ...Array(10).fill(false)]) ?? NEUTRAL_BETA_PRIOR,
    );
    assert.ok(recoveredLate > 0.5, `recovered node scores ${recoveredLate}`);
    assert.ok(failedLate < 0.5, `failing node scores ${failedLate}`);
  });

  it('long success converges to 1 and long failure to 0', () => {
    assert.ok(betaScore(replay(Array(300).fill(true)) ?? NEUTRAL_BETA_PRIOR) > 0.99);
    assert.ok(betaScore(replay(Array(300).fill(false)) ?? NEUTRAL_BETA_PRIOR) < 0.01);
  });
});
