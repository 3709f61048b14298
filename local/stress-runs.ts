// Stress tests started from the API: run in the background against one node, recorded for the controller's reputation.
import type { FleetConfig } from '../fleet/config.ts';
import { runStress } from '../probes/stress/run-stress.ts';
import { libp2pStressTarget, restStressTarget } from '../probes/stress/stress-targets.ts';
import type { ProbeDialer } from '../waku/client/dialer.ts';
import { NodeStateConflictError, type StressRequest } from './api.ts';
import type { EventLog } from './event-log.ts';
import type { ProcessRuntime } from './process-runtime.ts';
import type { SqliteStateStore } from './sqlite-state-store.ts';
import { fleetPubsubTopic } from './vantage-probers.ts';

/** A stress query asks for a page of this size, as a client's history request would. */
const STRESS_PAGE_SIZE = 20;

export interface StressRunsOptions {
  config: FleetConfig;
  runtime: ProcessRuntime;
  store: SqliteStateStore<unknown>;
  events: EventLog;
  clock: () => number;
  /** The dialer libp2p stress runs use (the first vantage point's). */
  dialer: () => ProbeDialer | undefined;
  /** The nodes fleets.json lists now: a run stops early once its node is drained. */
  listedNodeIds: () => readonly string[];
}

/**
 * @example
 * const stress = new StressRuns({ config, runtime, store, events, clock, dialer, listedNodeIds });
 * await stress.start({ nodeId, rate: 100, durationSeconds: 5, connections: 4, transport: 'rest' });
 * await stress.settle();
 */
export class StressRuns {
  readonly #options: StressRunsOptions;
  readonly #runs = new Set<Promise<void>>();

  constructor(options: StressRunsOptions) {
    this.#options = options;
  }

  /** Accepts a run for `nodeId` (already resolved) and starts it in the background. */
  async start(nodeId: string, request: StressRequest): Promise<void> {
    const { config, runtime, events } = this.#options;
    const addresses = runtime.addressesOf(nodeId);
    if (!addresses) throw new NodeStateConflictError(`${nodeId} has no address yet`);
    const dialer = this.#options.dialer();
    if (!dialer) throw new NodeStateConflictError('no prober is running');
    const query = {
      includeData: false,
      pubsubTopic: fleetPubsubTopic(config),
      contentTopics: [...config.probe.contentTopics],
      pageSize: STRESS_PAGE_SIZE,
    };
    const target =
      request.transport === 'rest'
        ? restStressTarget(addresses.restUrl, query, { connections: request.connections })
        : libp2pStressTarget(dialer, addresses.tcpAddress, query);
    const listed = new Set(this.#options.listedNodeIds());
    events.record(
      'action',
      'StressStarted',
      'info',
      nodeId,
      `${request.rate} req/s for ${request.durationSeconds} s over ${request.connections} ${request.transport} connection(s)`,
    );
    const run = runStress(
      { target, clock: { nowMs: this.#options.clock }, isDrained: (id) => !listed.has(id) },
      {
        nodeId,
        ratePerSecond: request.rate,
        durationSeconds: request.durationSeconds,
        connections: request.connections,
      },
      config.stress,
    )
      .then(async (report) => {
        await this.#options.store.recordStress(report.summary);
        const s = report.summary;
        events.record(
          'action',
          'StressFinished',
          s.sloMet ? 'info' : 'warning',
          nodeId,
          `${s.achievedRatePerSecond.toFixed(0)} req/s achieved, p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms, errors ${(s.errorRate * 100).toFixed(1)} %${s.sloMet ? '' : ' — SLO missed'}`,
        );
      })
      .catch((error: unknown) => {
        events.record('info', 'StressFailed', 'warning', nodeId, (error as Error).message);
      })
      .finally(async () => {
        this.#runs.delete(run);
        await target.close();
      });
    this.#runs.add(run);
  }

  /** Resolves once every run in progress has finished. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#runs]);
  }
}
