// Reproducible randomness: the domain takes its random numbers as a parameter, and simulations, tests and fault injection seed them.

/** Uniform in [0, 1), like Math.random, but injected so that what depends on it is reproducible. */
export type RandomSource = () => number;

/**
 * A small seeded generator (mulberry32): fast, and good enough for simulations, tests and
 * deciding which requests a fault makes fail.
 * @example const random = seededRandom(42); random(); // always the same sequence for seed 42
 */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
