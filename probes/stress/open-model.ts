// Open-model load: requests leave at a constant arrival rate whatever the target does, and latency counts from the intended send time.
import type { ProbeErrorClass } from '../../fleet/observations.ts';
import { classifyError, WakuTimeoutError } from '../../waku/errors.ts';
import { untilAborted } from '../abortable.ts';
import { LatencyRecorder } from './latency-recorder.ts';

/** A send later than this after its intended time counts as late: the generator fell behind. */
export const LATE_SEND_THRESHOLD_MS = 5;
/** The error budget is judged only after this many answers, so that one early failure cannot abort a run. */
export const ERROR_BUDGET_MIN_SAMPLE = 20;
/** How often progress is reported. */
export const PROGRESS_INTERVAL_MS = 250;

/** Sends one request; resolves when answered well, throws (a WakuError where possible) otherwise. */
export type SendRequest = (signal: AbortSignal) => Promise<void>;

export interface OpenModelOptions {
  ratePerSecond: number;
  durationMs: number;
  /** Requests in flight at most; a request due while this many are pending is dropped, and counted. */
  maxInFlight: number;
  requestTimeoutMs: number;
  /** Share of answered requests that may fail before the run aborts. */
  errorBudget: number;
  send: SendRequest;
  /** Monotonic milliseconds; performance.now by default. */
  monotonicMs?: () => number;
  onProgress?: (progress: OpenModelProgress) => void;
  /** Stops the run early (e.g. Ctrl-C); the outcome then says `aborted` with this reason. */
  signal?: AbortSignal;
  /** Called once, at once, when the run aborts (error budget or signal); lets sibling generators stop too. */
  onAbort?: (reason: string) => void;
  /** Shifts every intended send time; generators sharing one rate interleave their requests with it. */
  phaseMs?: number;
}

export interface OpenModelProgress {
  elapsedMs: number;
  durationMs: number;
  scheduled: number;
  sent: number;
  succeeded: number;
  failed: number;
  dropped: number;
  inFlight: number;
}

export interface OpenModelOutcome {
  /** Requests whose intended send time fell inside the run. */
  scheduled: number;
  sent: number;
  succeeded: number;
  failed: number;
  /** Due while maxInFlight requests were pending: never sent, counted at their intended time. */
  dropped: number;
  /** Sent more than LATE_SEND_THRESHOLD_MS after their intended time. */
  lateSends: number;
  /** Largest delay between an intended send time and the actual send. */
  maxSendLagMs: number;
  /** In flight when the run aborted; neither succeeded nor failed. */
  cancelled: number;
  /** Due after an abort; never sent. */
  notSent: number;
  errorsByClass: Partial<Record<ProbeErrorClass, number>>;
  /** Every answered request, from intended send time to answer (failures included, at the time they failed). */
  latency: LatencyRecorder;
  /** Successful requests only. */
  successLatency: LatencyRecorder;
  /** From the first intended send to the last answer. */
  elapsedMs: number;
  aborted: boolean;
  abortReason?: string;
}

/**
 * Runs an open-model load: request i is due at start + i / rate. Latency is measured from that
 * due time, so a generator or target that falls behind shows up in the percentiles (coordinated
 * omission corrected) and a request that cannot even be sent is counted as dropped.
 * @example
 * const outcome = await runOpenModel({ ratePerSecond: 200, durationMs: 5000, maxInFlight: 100,
 *   requestTimeoutMs: 2000, errorBudget: 0.05, send: (signal) => target.send(signal) });
 */
/** An outcome with every counter at zero and empty latency recorders. */
export function emptyOutcome(scheduled = 0): OpenModelOutcome {
  return {
    scheduled,
    sent: 0,
    succeeded: 0,
    failed: 0,
    dropped: 0,
    lateSends: 0,
    maxSendLagMs: 0,
    cancelled: 0,
    notSent: 0,
    errorsByClass: {},
    latency: new LatencyRecorder(),
    successLatency: new LatencyRecorder(),
    elapsedMs: 0,
    aborted: false,
  };
}

export function runOpenModel(options: OpenModelOptions): Promise<OpenModelOutcome> {
  const now = options.monotonicMs ?? (() => performance.now());
  const intervalMs = 1000 / options.ratePerSecond;
  const scheduled = Math.floor((options.ratePerSecond * options.durationMs) / 1000);
  const runController = new AbortController();
  const outcome = emptyOutcome(scheduled);
  let inFlight = 0;
  let next = 0;
  let lastAnswerAt = 0;
  const runStartedAt = now();
  const startAt = runStartedAt + (options.phaseMs ?? 0);

  const abort = (reason: string) => {
    if (outcome.aborted) return;
    outcome.aborted = true;
    outcome.abortReason = reason;
    runController.abort(new Error(reason));
    options.onAbort?.(reason);
  };
  const onExternalAbort = () => abort(`stopped: ${String(options.signal?.reason ?? 'aborted')}`);
  if (options.signal?.aborted) onExternalAbort();
  options.signal?.addEventListener('abort', onExternalAbort, { once: true });

  const progress = (): OpenModelProgress => ({
    elapsedMs: now() - runStartedAt,
    durationMs: options.durationMs,
    scheduled,
    sent: outcome.sent,
    succeeded: outcome.succeeded,
    failed: outcome.failed,
    dropped: outcome.dropped,
    inFlight,
  });

  return new Promise<OpenModelOutcome>((resolve) => {
    let finished = false;
    const progressTimer = options.onProgress
      ? setInterval(() => options.onProgress?.(progress()), PROGRESS_INTERVAL_MS)
      : undefined;
    const finishIfDone = () => {
      if (finished || inFlight > 0 || (next < scheduled && !outcome.aborted)) return;
      finished = true;
      if (progressTimer) clearInterval(progressTimer);
      options.signal?.removeEventListener('abort', onExternalAbort);
      outcome.notSent = scheduled - next;
      outcome.elapsedMs = Math.max(lastAnswerAt, now()) - runStartedAt;
      options.onProgress?.(progress());
      resolve(outcome);
    };

    const dispatch = (intendedAt: number) => {
      if (inFlight >= options.maxInFlight) {
        outcome.dropped++;
        return;
      }
      const sendAt = now();
      const lagMs = sendAt - intendedAt;
      if (lagMs > LATE_SEND_THRESHOLD_MS) outcome.lateSends++;
      if (lagMs > outcome.maxSendLagMs) outcome.maxSendLagMs = lagMs;
      outcome.sent++;
      inFlight++;
      // One timer per request, cleared on answer: AbortSignal.timeout's would linger until it fires.
      const requestController = new AbortController();
      const timer = setTimeout(
        () =>
          requestController.abort(new WakuTimeoutError('stress request', options.requestTimeoutMs)),
        options.requestTimeoutMs,
      );
      const onRunAbort = () => requestController.abort(runController.signal.reason);
      runController.signal.addEventListener('abort', onRunAbort, { once: true });
      const signal = requestController.signal;
      let request: Promise<void>;
      try {
        request = untilAborted(options.send(signal), signal);
      } catch (error) {
        request = Promise.reject(error);
      }
      request
        .finally(() => {
          clearTimeout(timer);
          runController.signal.removeEventListener('abort', onRunAbort);
        })
        .then(
          () => {
            const answeredAt = now();
            lastAnswerAt = answeredAt;
            outcome.succeeded++;
            outcome.latency.record(answeredAt - intendedAt);
            outcome.successLatency.record(answeredAt - intendedAt);
            inFlight--;
            finishIfDone();
          },
          (error: unknown) => {
            const answeredAt = now();
            inFlight--;
            if (runController.signal.aborted) {
              outcome.cancelled++;
            } else {
              lastAnswerAt = answeredAt;
              outcome.failed++;
              outcome.latency.record(answeredAt - intendedAt);
              const errorClass = classifyError(error);
              outcome.errorsByClass[errorClass] = (outcome.errorsByClass[errorClass] ?? 0) + 1;
              const answered = outcome.succeeded + outcome.failed;
              if (
                answered >= ERROR_BUDGET_MIN_SAMPLE &&
                outcome.failed / answered > options.errorBudget
              ) {
                abort(
                  `error budget exceeded: ${outcome.failed} of ${answered} requests failed (budget ${(options.errorBudget * 100).toFixed(1)} %)`,
                );
              }
            }
            finishIfDone();
          },
        );
    };

    const tick = () => {
      if (outcome.aborted) {
        finishIfDone();
        return;
      }
      const current = now();
      while (next < scheduled) {
        const intendedAt = startAt + next * intervalMs;
        if (intendedAt > current) break;
        next++;
        dispatch(intendedAt);
        if (outcome.aborted) break;
      }
      if (next >= scheduled || outcome.aborted) {
        finishIfDone();
        return;
      }
      const waitMs = startAt + next * intervalMs - now();
      // Behind schedule: yield to I/O (answers) before sending the backlog, but do not sleep.
      if (waitMs <= 0) setImmediate(tick);
      else setTimeout(tick, waitMs);
    };
    tick();
  });
}
