// Messages between a stress run and its load worker threads.
import type { OpenModelOutcome, OpenModelProgress } from './open-model.ts';

export interface WorkerLoadRequest {
  restUrl: string;
  ratePerSecond: number;
  durationMs: number;
  maxInFlight: number;
  requestTimeoutMs: number;
  errorBudget: number;
  phaseMs: number;
}

export type WorkerCounters = Omit<OpenModelOutcome, 'latency' | 'successLatency'>;

export type WorkerMessage =
  | { type: 'progress'; progress: OpenModelProgress }
  | { type: 'aborted'; reason: string }
  /** Histograms travel as HdrHistogram compressed base64. */
  | { type: 'done'; counters: WorkerCounters; latency: string; successLatency: string };
