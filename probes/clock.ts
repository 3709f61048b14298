// The wall clock probes stamp their results with; injected so Lambda, local runtime and tests agree on time.

export interface ProbeClock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
}

export const systemClock: ProbeClock = { nowMs: () => Date.now() };
