// The completeness function: one lagged window for the whole fleet, every node's hashes unioned and re-asked, results recorded.
import { completenessVantageId } from '../../fleet/config.ts';
import { METRIC_DIMENSIONS, METRICS } from '../../fleet/metrics.ts';
import type { CompletenessResult } from '../../fleet/observations.ts';
import type { MetricsSink, StateStore } from '../../fleet/ports.ts';
import type { ProbeClock } from '../../probes/clock.ts';
import { laggedWindow, measureCompleteness, storeHashSource } from '../../probes/completeness.ts';
import type { StressDialer } from '../../probes/stress/stress-targets.ts';
import { containerDialer, probePubsubTopic } from '../shared/container-dialer.ts';
import type { ControlPlaneSource } from '../shared/control-plane.ts';
import { fleetAddresses } from '../shared/fleet-targets.ts';
import type { HandlerLog, InvocationContext } from '../shared/invocation.ts';
import type { NodeDirectory } from '../shared/node-directory.ts';

/** Left free at the end of the invocation for recording and metrics. */
export const COMPLETENESS_RECORD_MARGIN_MS = 5000;

export type CompletenessDialer = StressDialer & { stop(): Promise<void> };

export interface CompletenessHandlerDeps {
  controlPlane: ControlPlaneSource;
  store: Pick<StateStore<unknown>, 'recordCompleteness'>;
  directory: NodeDirectory;
  createDialer(options: { clusterId: number; shards: number[] }): Promise<CompletenessDialer>;
  clock: ProbeClock;
  metrics: MetricsSink;
  log: HandlerLog;
}

export interface CompletenessInvocationResult {
  windowStartMs: number;
  windowEndMs: number;
  results: CompletenessResult[];
}

/**
 * @example
 * export const handler = createCompletenessHandler(defaultCompletenessDependencies());
 */
export function createCompletenessHandler(deps: CompletenessHandlerDeps) {
  const dialerFor = containerDialer((options) => deps.createDialer(options));

  return async function completenessHandler(
    _event: unknown,
    context: InvocationContext,
  ): Promise<CompletenessInvocationResult> {
    const { config } = await deps.controlPlane.load();
    const window = laggedWindow(deps.clock.nowMs(), config.completeness);
    const { multiaddrs, unreachable } = fleetAddresses(
      config,
      await deps.controlPlane.addresses(),
      await deps.directory.all(),
    );
    if (unreachable.length > 0) deps.log.warn('nodes left out of completeness', { unreachable });
    if (multiaddrs.size < 2) {
      // A union of one archive says nothing about gaps.
      deps.log.warn('fewer than two dialable nodes; no completeness measured', {
        dialable: [...multiaddrs.keys()],
      });
      return { ...toWindow(window), results: [] };
    }
    const client = await dialerFor(config);
    const topic = probePubsubTopic(config);
    const sources = [...multiaddrs].map(([nodeId, addresses]) =>
      storeHashSource(
        (query, signal) =>
          client.storeQuery(addresses.tcp, query, {
            signal,
            maxResponseBytes: config.probe.maxResponseBytes,
          }),
        { nodeId, pubsubTopic: topic, contentTopics: config.probe.contentTopics },
      ),
    );
    const budgetMs = Math.max(
      1000,
      context.getRemainingTimeInMillis() - COMPLETENESS_RECORD_MARGIN_MS,
    );
    const results = await measureCompleteness({
      sources,
      // One function, in the control region, checks the fleet; its results carry the configured vantage id.
      vantageId: completenessVantageId(config),
      settings: config.completeness,
      clock: deps.clock,
      window,
      requestTimeoutMs: config.probe.storeTimeoutMs,
      signal: AbortSignal.timeout(budgetMs),
    });
    await deps.store.recordCompleteness(results);
    let incomplete = 0;
    for (const result of results) {
      if (result.missingCount > 0) incomplete += 1;
      if (result.completeness !== null) {
        deps.metrics.record(METRICS.completeness, result.completeness, 'None', {
          [METRIC_DIMENSIONS.node]: result.nodeId,
        });
      }
    }
    deps.metrics.record(METRICS.incompleteNodes, incomplete, 'Count');
    await deps.metrics.flush();
    return { ...toWindow(window), results };
  };
}

function toWindow(window: { startMs: number; endMs: number }) {
  return { windowStartMs: window.startMs, windowEndMs: window.endMs };
}
