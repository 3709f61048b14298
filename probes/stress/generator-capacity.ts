// How fast this machine can generate REST stress load: ramps the rate against a canned loopback server until the generator falls behind.
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { ProbeClock } from '../clock.ts';
import { runStress, type StressConfig } from './run-stress.ts';
import { restStressTarget } from './stress-targets.ts';
import { restWorkersStressTarget } from './worker-load.ts';

/** The generator keeps up with a rate while it drops at most this share of requests... */
export const MAX_DROPPED_SHARE = 0.01;
/** ...and sends at most this share later than LATE_SEND_THRESHOLD_MS after their intended time. */
export const MAX_LATE_SHARE = 0.05;
export const DEFAULT_CALIBRATION_RATES = [1000, 2000, 4000, 8000, 16000, 32000] as const;

export interface CapacityStep {
  targetRatePerSecond: number;
  achievedRatePerSecond: number;
  dropped: number;
  lateSends: number;
  p50Ms: number;
  p99Ms: number;
  keptUp: boolean;
  /**
   * Busy time of this thread's event loop per request sent, in microseconds (generation on this
   * thread only): 1e6 / this is the rate one fully busy core could generate.
   */
  busyMicrosPerRequest?: number;
}

export interface GeneratorCapacity {
  workers: number;
  connections: number;
  /** The highest rate tried that the generator kept up with (0 when none). */
  maxRatePerSecond: number;
  steps: CapacityStep[];
}

const UNCAPPED: StressConfig = {
  maxRatePerSecond: Number.MAX_SAFE_INTEGER,
  maxConnections: Number.MAX_SAFE_INTEGER,
  maxDurationSeconds: Number.MAX_SAFE_INTEGER,
  errorBudget: 1,
  sloP99Ms: Number.MAX_SAFE_INTEGER,
};

/**
 * Ramps through `rates` against a server that answers instantly in its own thread, stopping at
 * the first rate the generator cannot sustain. `workers` 0 generates on this thread.
 * @example
 * const { maxRatePerSecond } = await measureGeneratorCapacity({ workers: 0, connections: 64, durationSeconds: 3, clock: systemClock });
 */
export async function measureGeneratorCapacity(options: {
  workers: number;
  connections: number;
  durationSeconds: number;
  clock: ProbeClock;
  rates?: readonly number[];
  onStep?: (step: CapacityStep) => void;
}): Promise<GeneratorCapacity> {
  const server = new Worker(new URL('./canned-store-worker.ts', import.meta.url));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('message', (message: { port: number }) => resolve(message.port));
      server.once('error', reject);
    });
    const restUrl = `http://127.0.0.1:${port}`;
    const query = { includeData: false, pageSize: 20 };
    const steps: CapacityStep[] = [];
    let maxRatePerSecond = 0;
    for (const rate of options.rates ?? DEFAULT_CALIBRATION_RATES) {
      const target =
        options.workers > 0
          ? restWorkersStressTarget(restUrl, query, {
              connections: options.connections,
              workers: options.workers,
            })
          : restStressTarget(restUrl, query, { connections: options.connections });
      const loopBefore = performance.eventLoopUtilization();
      try {
        const report = await runStress(
          { target, clock: options.clock, isDrained: () => false },
          {
            nodeId: 'loopback',
            ratePerSecond: rate,
            durationSeconds: options.durationSeconds,
            connections: options.connections,
          },
          UNCAPPED,
        );
        const step: CapacityStep = {
          targetRatePerSecond: rate,
          achievedRatePerSecond: report.summary.achievedRatePerSecond,
          dropped: report.dropped,
          lateSends: report.lateSends,
          p50Ms: report.latency.p50Ms,
          p99Ms: report.latency.p99Ms,
          ...(options.workers > 0 || report.sent === 0
            ? {}
            : {
                busyMicrosPerRequest:
                  (performance.eventLoopUtilization(loopBefore).active * 1000) / report.sent,
              }),
          keptUp:
            report.failed === 0 &&
            report.dropped <= MAX_DROPPED_SHARE * report.scheduled &&
            report.lateSends <= MAX_LATE_SHARE * report.scheduled,
        };
        steps.push(step);
        options.onStep?.(step);
        if (!step.keptUp) break;
        maxRatePerSecond = rate;
      } finally {
        await target.close();
      }
    }
    return { workers: options.workers, connections: options.connections, maxRatePerSecond, steps };
  } finally {
    server.postMessage('close');
    await new Promise<void>((resolve) => {
      server.once('exit', () => resolve());
      setTimeout(() => void server.terminate().then(() => resolve()), 2000).unref();
    });
  }
}
