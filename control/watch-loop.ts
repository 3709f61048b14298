// The watch loop: runs rounds on a schedule, starts the next one at once when a node's task stops or a held connection drops.

import type { ProbeRound } from '../fleet/observations.ts';
import type { Clock, StructuredLog, TaskStopNotifier, VantageProber } from '../fleet/ports.ts';
import type { ControllerRoundOutcome, FleetController } from './controller-round.ts';
import { roundNumber, roundStartMs } from './rounds.ts';
import { runVantageRound, type VantageRoundPorts } from './vantage-round.ts';

/** When each round runs: rounds numbered from the clock (every watcher agrees) or one after the other. */
export interface RoundSchedule {
  /** The round after `last` (undefined before the first) and when it is due. */
  next(
    last: { round: number; startedAtMs: number } | undefined,
    nowMs: number,
  ): {
    round: number;
    dueAtMs: number;
  };
}

/**
 * Rounds numbered from the wall clock, as separate watchers (one per vantage point, the
 * controller) need: each numbers round N alike without talking to the others. A round run early
 * (a crash signal) keeps its number; the one after it waits for its own boundary.
 * @example clockAlignedRounds(config.probe.intervalSeconds)
 */
export function clockAlignedRounds(intervalSeconds: number): RoundSchedule {
  return {
    next(last, nowMs) {
      const current = roundNumber(nowMs, intervalSeconds);
      const upcoming = roundStartMs(current, intervalSeconds) < nowMs ? current + 1 : current;
      const round = last === undefined ? upcoming : Math.max(last.round + 1, current);
      return { round, dueAtMs: Math.max(nowMs, roundStartMs(round, intervalSeconds)) };
    },
  };
}

/**
 * Rounds one after the other every `intervalMs`, carrying on after `after` (the last round
 * recorded): one process that probes and decides, where round numbers need no agreement.
 */
export function sequentialRounds(intervalMs: number, after: number): RoundSchedule {
  return {
    next(last, nowMs) {
      if (last === undefined) return { round: after + 1, dueAtMs: nowMs };
      return { round: last.round + 1, dueAtMs: last.startedAtMs + intervalMs };
    },
  };
}

export interface WatchLoopOptions {
  schedule: RoundSchedule;
  clock: Clock;
  /** One round: a vantage point's, the controller's, or both (see watchRound). */
  runRound(round: number): Promise<void>;
  /** A round that threw; the loop goes on with the next. */
  onRoundFailed(round: number, error: Error): void;
}

/**
 * @example
 * const loop = new WatchLoop({ schedule, clock, runRound, onRoundFailed });
 * loop.start();
 * loop.expedite('store-01 task stopped');
 * await loop.stop();
 */
export class WatchLoop {
  readonly #options: WatchLoopOptions;
  #last: { round: number; startedAtMs: number } | undefined;
  #running: Promise<void> | undefined;
  #wake = new AbortController();
  #expedited: string | undefined;
  #stopped = false;

  constructor(options: WatchLoopOptions) {
    this.#options = options;
  }

  /** The last round started, if any. */
  get lastRound(): number | undefined {
    return this.#last?.round;
  }

  start(): void {
    if (this.#running) return;
    this.#running = this.#loop();
  }

  /** Starts the next round now (after the one in progress, if any) instead of at its due time. */
  expedite(reason: string): void {
    this.#expedited ??= reason;
    this.#wake.abort();
  }

  /** Resolves once the round in progress (if any) has finished; no round starts after. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake.abort();
    await this.#running;
  }

  async #loop(): Promise<void> {
    const { clock, schedule } = this.#options;
    while (!this.#stopped) {
      const next = schedule.next(this.#last, clock.nowMs());
      const waitMs = next.dueAtMs - clock.nowMs();
      if (waitMs > 0 && this.#expedited === undefined) {
        await clock.sleep(waitMs, this.#wake.signal);
        if (this.#wake.signal.aborted) this.#wake = new AbortController();
        if (this.#stopped) return;
        if (this.#expedited === undefined && clock.nowMs() < next.dueAtMs) continue;
      }
      this.#expedited = undefined;
      this.#last = { round: next.round, startedAtMs: clock.nowMs() };
      try {
        await this.#options.runRound(next.round);
      } catch (error) {
        this.#options.onRoundFailed(
          next.round,
          error instanceof Error ? error : new Error(String(error)),
        );
      }
    }
  }
}

export interface WatchRoundParts {
  /** The vantage points this process probes from (one per watcher on AWS, all of them locally). */
  vantages: readonly VantageRoundPorts[];
  /** Present in the one process that decides and publishes. */
  controller?: FleetController;
  /** The controller stops waiting for reports this long after the round started: config.probe.roundDeadlineMs plus slack for writes to land. */
  reportDeadlineMs: number;
  clock: Clock;
}

export interface WatchRoundOutcome {
  reports: ProbeRound[];
  controller?: ControllerRoundOutcome;
}

/**
 * One round of a watcher: its vantage points probe and record, then (in the controller's process)
 * the controller gathers every vantage point's report of the round and decides.
 * @example
 * const round = watchRound({ vantages, controller, reportDeadlineMs, clock });
 * const loop = new WatchLoop({ schedule, clock, runRound: (n) => round(n).then(() => {}), onRoundFailed });
 */
export function watchRound(parts: WatchRoundParts): (round: number) => Promise<WatchRoundOutcome> {
  return async (round) => {
    const startedAtMs = parts.clock.nowMs();
    const reports = await Promise.all(
      parts.vantages.map((vantage) => runVantageRound(vantage, round)),
    );
    if (!parts.controller) return { reports };
    const controller = await parts.controller.runRound(round, {
      deadlineAtMs: startedAtMs + parts.reportDeadlineMs,
    });
    return { reports, controller };
  };
}

export interface CrashSignals {
  /** The node runtime, when it tells of stopped tasks as they happen. */
  runtime?: TaskStopNotifier;
  probers?: readonly VantageProber[];
  log?: StructuredLog;
}

/**
 * The crash path: a node whose task stopped, or whose held connection dropped, is re-probed at once
 * by running the next round now. The round's failed probe plus the runtime's stopped task are a
 * quorum (fleet/failover/runtime-evidence.ts), so the node can be drained in that round.
 * @returns a function that stops listening.
 * @example const unwatch = watchForCrashes(loop, { runtime, probers, log });
 */
export function watchForCrashes(
  loop: Pick<WatchLoop, 'expedite'>,
  signals: CrashSignals,
): () => void {
  const stops: Array<() => void> = [];
  const signal = (why: string, nodeId: string) => {
    signals.log?.info('re-probing at once', { nodeId, why });
    loop.expedite(`${nodeId}: ${why}`);
  };
  if (signals.runtime) {
    stops.push(signals.runtime.onTaskStopped((nodeId) => signal('task stopped', nodeId)));
  }
  for (const prober of signals.probers ?? []) {
    const unsubscribe = prober.onConnectionLost?.((nodeId) =>
      signal(`connection from ${prober.vantageId} dropped`, nodeId),
    );
    if (unsubscribe) stops.push(unsubscribe);
  }
  return () => {
    for (const stop of stops) stop();
  };
}
