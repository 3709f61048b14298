// A guarded stress test of one node: caps from config, never a drained node, abort on the error budget, a StressSummary and full detail.
import type { FleetConfig } from '../../fleet/config.ts';
import {
  type ProbeErrorClass,
  type StressSummary,
  StressSummarySchema,
} from '../../fleet/observations.ts';
import { UserError } from '../../fleet/user-error.ts';
import type { ProbeClock } from '../clock.ts';
import type { LatencyPercentiles, PercentilePoint } from './latency-recorder.ts';
import { type OpenModelProgress, runOpenModel } from './open-model.ts';
import type { StressTarget } from './stress-targets.ts';

export type StressConfig = FleetConfig['stress'];

/** A store request in a stress test gives up after this long unless told otherwise. */
export const DEFAULT_STRESS_REQUEST_TIMEOUT_MS = 5000;

/** A stress request the caps or the guard refuse; the message names the field or flag at fault. */
export class StressValidationError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'StressValidationError';
  }
}

export interface StressRequest {
  nodeId: string;
  ratePerSecond: number;
  durationSeconds: number;
  /** Connections (REST) or concurrent streams (libp2p) at most; also the in-flight cap. */
  connections: number;
  requestTimeoutMs?: number;
}

export interface StressDeps {
  target: StressTarget;
  clock: ProbeClock;
  /** True for nodes that must not be stressed (drained, in probation); checked before any request. */
  isDrained: (nodeId: string) => boolean;
  onProgress?: (progress: OpenModelProgress) => void;
  signal?: AbortSignal;
}

/** Everything a stress run measured; `summary` is what reputation and the state store keep. */
export interface StressReport {
  summary: StressSummary;
  target: string;
  startedAtMs: number;
  requested: StressRequest & { requestTimeoutMs: number };
  scheduled: number;
  sent: number;
  succeeded: number;
  failed: number;
  dropped: number;
  lateSends: number;
  maxSendLagMs: number;
  cancelled: number;
  notSent: number;
  errorsByClass: Partial<Record<ProbeErrorClass, number>>;
  sentRatePerSecond: number;
  elapsedMs: number;
  /** All answered requests from their intended send time, failures included. */
  latency: LatencyPercentiles;
  successLatency: LatencyPercentiles;
  distribution: PercentilePoint[];
  /** HdrHistogram compressed base64 of `latency`, in microseconds. */
  histogram: string;
  abortReason?: string;
  sloP99Ms: number;
}

/** Names (flag, config field) used in refusals; the CLI passes its flag names. */
export interface StressFieldNames {
  rate: string;
  duration: string;
  connections: string;
}

const CONFIG_FIELD_NAMES: StressFieldNames = {
  rate: 'ratePerSecond',
  duration: 'durationSeconds',
  connections: 'connections',
};

/** Refuses a request above the configured hard caps, naming the field and the cap. */
export function checkStressLimits(
  request: StressRequest,
  limits: StressConfig,
  names: StressFieldNames = CONFIG_FIELD_NAMES,
): void {
  const problems: string[] = [];
  const positive = (value: number, name: string) => {
    if (!Number.isFinite(value) || value <= 0)
      problems.push(`${name} must be above 0, got ${value}`);
  };
  positive(request.ratePerSecond, names.rate);
  positive(request.durationSeconds, names.duration);
  if (!Number.isInteger(request.connections) || request.connections < 1) {
    problems.push(`${names.connections} must be a positive integer, got ${request.connections}`);
  }
  if (request.ratePerSecond > limits.maxRatePerSecond) {
    problems.push(
      `${names.rate} ${request.ratePerSecond} is above stress.maxRatePerSecond (${limits.maxRatePerSecond})`,
    );
  }
  if (request.durationSeconds > limits.maxDurationSeconds) {
    problems.push(
      `${names.duration} ${request.durationSeconds} s is above stress.maxDurationSeconds (${limits.maxDurationSeconds} s)`,
    );
  }
  if (request.connections > limits.maxConnections) {
    problems.push(
      `${names.connections} ${request.connections} is above stress.maxConnections (${limits.maxConnections})`,
    );
  }
  if (problems.length > 0) throw new StressValidationError(problems.join('; '));
}

/**
 * Runs one stress test and reports it. Refuses before sending anything when a cap is exceeded or
 * the node is drained.
 * @example
 * const report = await runStress(
 *   { target, clock: systemClock, isDrained: (id) => drained.has(id) },
 *   { nodeId: 'store-01.eu-central.storefleet.test', ratePerSecond: 200, durationSeconds: 10, connections: 50 },
 *   config.stress,
 * );
 */
export async function runStress(
  deps: StressDeps,
  request: StressRequest,
  settings: StressConfig,
  names?: StressFieldNames,
): Promise<StressReport> {
  checkStressLimits(request, settings, names);
  if (deps.isDrained(request.nodeId)) {
    throw new StressValidationError(
      `${request.nodeId} is drained; stress tests never target a drained node (re-admit it first)`,
    );
  }
  const requestTimeoutMs = request.requestTimeoutMs ?? DEFAULT_STRESS_REQUEST_TIMEOUT_MS;
  const startedAtMs = Math.floor(deps.clock.nowMs());
  const load = {
    ratePerSecond: request.ratePerSecond,
    durationMs: request.durationSeconds * 1000,
    maxInFlight: request.connections,
    requestTimeoutMs,
    errorBudget: settings.errorBudget,
    ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
  };
  const { target } = deps;
  const outcome = target.runLoad
    ? await target.runLoad(load)
    : await runOpenModel({ ...load, send: (signal) => target.send(signal) });

  const latency = outcome.latency.percentiles();
  const elapsedSeconds = Math.max(outcome.elapsedMs, request.durationSeconds * 1000) / 1000;
  // Dropped requests failed the client as surely as errors did: they count against the node.
  const judged = outcome.succeeded + outcome.failed + outcome.dropped;
  const errorRate = judged === 0 ? 0 : (outcome.failed + outcome.dropped) / judged;
  const summary = StressSummarySchema.parse({
    nodeId: request.nodeId,
    finishedAtMs: Math.max(startedAtMs, Math.floor(deps.clock.nowMs())),
    transport: deps.target.transport,
    targetRatePerSecond: request.ratePerSecond,
    achievedRatePerSecond: outcome.succeeded / elapsedSeconds,
    p50Ms: latency.p50Ms,
    p99Ms: latency.p99Ms,
    errorRate,
    sloMet:
      !outcome.aborted &&
      outcome.succeeded > 0 &&
      errorRate <= settings.errorBudget &&
      latency.p99Ms <= settings.sloP99Ms,
    aborted: outcome.aborted,
  } satisfies StressSummary);

  return {
    summary,
    target: deps.target.address,
    startedAtMs,
    requested: { ...request, requestTimeoutMs },
    scheduled: outcome.scheduled,
    sent: outcome.sent,
    succeeded: outcome.succeeded,
    failed: outcome.failed,
    dropped: outcome.dropped,
    lateSends: outcome.lateSends,
    maxSendLagMs: outcome.maxSendLagMs,
    cancelled: outcome.cancelled,
    notSent: outcome.notSent,
    errorsByClass: outcome.errorsByClass,
    // Sends stop at the end of the requested duration (or at an abort); answers may come later.
    sentRatePerSecond:
      outcome.sent /
      (outcome.aborted ? Math.max(outcome.elapsedMs / 1000, 0.001) : request.durationSeconds),
    elapsedMs: outcome.elapsedMs,
    latency,
    successLatency: outcome.successLatency.percentiles(),
    distribution: outcome.latency.distribution(),
    histogram: outcome.latency.encode(),
    ...(outcome.abortReason === undefined ? {} : { abortReason: outcome.abortReason }),
    sloP99Ms: settings.sloP99Ms,
  };
}
