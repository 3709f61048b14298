// Worker-thread entry: one share of a REST stress load, so that several cores generate requests when one cannot keep up.
import { parentPort, workerData } from 'node:worker_threads';
import type { StoreQuery } from '../../waku/client/store-types.ts';
import { runOpenModel } from './open-model.ts';
import { restStressTarget } from './stress-targets.ts';
import type { WorkerLoadRequest, WorkerMessage } from './worker-protocol.ts';

const port = parentPort;
if (port === null) throw new Error('rest-load-worker.ts runs as a worker thread only');
const request = workerData as WorkerLoadRequest & { query: StoreQuery };
const post = (message: WorkerMessage) => port.postMessage(message);
const stop = new AbortController();
port.on('message', (message: { type: 'abort'; reason: string }) => {
  if (message.type === 'abort') stop.abort(message.reason);
});

const target = restStressTarget(request.restUrl, request.query, {
  connections: request.maxInFlight,
});
try {
  const outcome = await runOpenModel({
    ratePerSecond: request.ratePerSecond,
    durationMs: request.durationMs,
    maxInFlight: request.maxInFlight,
    requestTimeoutMs: request.requestTimeoutMs,
    errorBudget: request.errorBudget,
    phaseMs: request.phaseMs,
    send: (signal) => target.send(signal),
    signal: stop.signal,
    onAbort: (reason) => post({ type: 'aborted', reason }),
    onProgress: (progress) => post({ type: 'progress', progress }),
  });
  const { latency, successLatency, ...counters } = outcome;
  post({
    type: 'done',
    counters,
    latency: latency.encode(),
    successLatency: successLatency.encode(),
  });
} finally {
  await target.close();
  port.close();
}
