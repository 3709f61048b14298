// REST stress load spread over worker threads: each runs its share of the arrival rate; counts and HDR histograms are merged.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ProbeErrorClass } from '../../fleet/observations.ts';
import type { StoreQuery } from '../../waku/client/store-types.ts';
import {
  emptyOutcome,
  type OpenModelOptions,
  type OpenModelOutcome,
  type OpenModelProgress,
} from './open-model.ts';
import { restStressTarget, type StressTarget } from './stress-targets.ts';
import type { WorkerLoadRequest, WorkerMessage } from './worker-protocol.ts';

const WORKER_ENTRY = new URL('./rest-load-worker.ts', import.meta.url);
/** One generator thread keeps up with roughly this many REST requests a second (`storefleet stress --calibrate` measures it). */
export const REQUESTS_PER_SECOND_PER_WORKER = 5000;

/** Worker threads a REST load of `ratePerSecond` needs: enough to keep up, never more than the cores. */
export function workersFor(ratePerSecond: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, Math.ceil(ratePerSecond / REQUESTS_PER_SECOND_PER_WORKER)));
}

/**
 * A REST stress target whose load runs in `workers` threads (each with its own keep-alive pool),
 * for rates one event loop cannot generate on time.
 * @example
 * const target = restWorkersStressTarget(restUrl, query, { connections: 200, workers: workersFor(8000) });
 */
export function restWorkersStressTarget(
  restUrl: string,
  query: StoreQuery,
  options: { connections: number; workers: number },
): StressTarget {
  const single = restStressTarget(restUrl, query, { connections: 1 });
  return {
    transport: 'rest',
    address: restUrl,
    send: (signal) => single.send(signal),
    close: () => single.close(),
    runLoad: (load) => runInWorkers(restUrl, query, options.workers, load),
  };
}

function runInWorkers(
  restUrl: string,
  query: StoreQuery,
  workerCount: number,
  load: Omit<OpenModelOptions, 'send'>,
): Promise<OpenModelOutcome> {
  const count = Math.max(1, Math.min(workerCount, load.maxInFlight));
  const progressByWorker: OpenModelProgress[] = [];
  const outcomes: Extract<WorkerMessage, { type: 'done' }>[] = [];
  let abortReason: string | undefined;
  const workers: Worker[] = [];

  const abortAll = (reason: string) => {
    if (abortReason !== undefined) return;
    abortReason = reason;
    load.onAbort?.(reason);
    for (const worker of workers) worker.postMessage({ type: 'abort', reason });
  };
  const onExternalAbort = () => abortAll(`stopped: ${String(load.signal?.reason ?? 'aborted')}`);
  load.signal?.addEventListener('abort', onExternalAbort, { once: true });

  const finished = Array.from({ length: count }, (_, index) => {
    // Shares split rate and connections; the phase interleaves their sends into one even stream.
    const share: WorkerLoadRequest & { query: StoreQuery } = {
      restUrl,
      query,
      ratePerSecond: load.ratePerSecond / count,
      durationMs: load.durationMs,
      maxInFlight: Math.max(1, Math.floor(load.maxInFlight / count)),
      requestTimeoutMs: load.requestTimeoutMs,
      errorBudget: load.errorBudget,
      phaseMs: (index * 1000) / load.ratePerSecond,
    };
    const worker = new Worker(WORKER_ENTRY, { workerData: share });
    workers.push(worker);
    return new Promise<void>((resolve, reject) => {
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'progress') {
          progressByWorker[index] = message.progress;
          load.onProgress?.(sumProgress(progressByWorker));
        } else if (message.type === 'aborted') {
          abortAll(message.reason);
        } else {
          outcomes[index] = message;
        }
      });
      worker.once('error', reject);
      worker.once('exit', (code) => {
        if (outcomes[index] !== undefined) resolve();
        else reject(new Error(`stress worker ${index} exited with code ${code} before reporting`));
      });
    });
  });

  if (load.signal?.aborted) onExternalAbort();
  return Promise.all(finished)
    .catch(async (error: unknown) => {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw error;
    })
    .then(() => {
      load.signal?.removeEventListener('abort', onExternalAbort);
      return mergeOutcomes(outcomes, abortReason);
    });
}

function sumProgress(parts: readonly OpenModelProgress[]): OpenModelProgress {
  const total: OpenModelProgress = {
    elapsedMs: 0,
    durationMs: 0,
    scheduled: 0,
    sent: 0,
    succeeded: 0,
    failed: 0,
    dropped: 0,
    inFlight: 0,
  };
  for (const part of parts) {
    if (part === undefined) continue;
    total.elapsedMs = Math.max(total.elapsedMs, part.elapsedMs);
    total.durationMs = Math.max(total.durationMs, part.durationMs);
    total.scheduled += part.scheduled;
    total.sent += part.sent;
    total.succeeded += part.succeeded;
    total.failed += part.failed;
    total.dropped += part.dropped;
    total.inFlight += part.inFlight;
  }
  return total;
}

function mergeOutcomes(
  parts: readonly Extract<WorkerMessage, { type: 'done' }>[],
  abortReason: string | undefined,
): OpenModelOutcome {
  const merged: OpenModelOutcome = {
    ...emptyOutcome(),
    aborted: abortReason !== undefined,
    ...(abortReason === undefined ? {} : { abortReason }),
  };
  const { errorsByClass, latency, successLatency } = merged;
  for (const part of parts) {
    const { counters } = part;
    merged.scheduled += counters.scheduled;
    merged.sent += counters.sent;
    merged.succeeded += counters.succeeded;
    merged.failed += counters.failed;
    merged.dropped += counters.dropped;
    merged.lateSends += counters.lateSends;
    merged.cancelled += counters.cancelled;
    merged.notSent += counters.notSent;
    merged.maxSendLagMs = Math.max(merged.maxSendLagMs, counters.maxSendLagMs);
    merged.elapsedMs = Math.max(merged.elapsedMs, counters.elapsedMs);
    for (const [errorClass, count] of Object.entries(counters.errorsByClass)) {
      const key = errorClass as ProbeErrorClass;
      errorsByClass[key] = (errorsByClass[key] ?? 0) + (count ?? 0);
    }
    latency.addEncoded(part.latency);
    successLatency.addEncoded(part.successLatency);
  }
  return merged;
}
