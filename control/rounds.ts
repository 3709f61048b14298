// Round numbers every runtime and every vantage point agrees on: the wall clock divided into probe intervals.

/**
 * The round that starts at or before `atMs`. Vantage points share no state, so they number rounds
 * from the clock alone; the controller then finds every report of round N under the same key.
 * @example roundNumber(Date.now(), config.probe.intervalSeconds)
 */
export function roundNumber(atMs: number, intervalSeconds: number): number {
  return Math.floor(atMs / (intervalSeconds * 1000));
}

/** When round `round` starts, milliseconds since the epoch. */
export function roundStartMs(round: number, intervalSeconds: number): number {
  return Math.round(round * intervalSeconds * 1000);
}
