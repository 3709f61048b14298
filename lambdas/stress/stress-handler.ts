// The stress function: one guarded stress test of one listed node, from an API request or the schedule, recorded and measured against the SLO.
import * as z from 'zod';
import { fleetView } from '../../control/fleet-view.ts';
import { type StressTestRequest, stressRequestSchema } from '../../control/stress-request.ts';
import { describeIssues, type FleetConfig, resolveNodes } from '../../fleet/config.ts';
import { METRIC_DIMENSIONS, METRICS } from '../../fleet/metrics.ts';
import type { StressSummary } from '../../fleet/observations.ts';
import type { MetricsSink, OperatorDrains, StateStore } from '../../fleet/ports.ts';
import { type FleetState, initialFleetState } from '../../fleet/state.ts';
import type { ProbeClock } from '../../probes/clock.ts';
import { runStress, StressValidationError } from '../../probes/stress/run-stress.ts';
import {
  libp2pStressTarget,
  restStressTarget,
  type StressDialer,
  type StressTarget,
} from '../../probes/stress/stress-targets.ts';
import { containerDialer, probePubsubTopic } from '../shared/container-dialer.ts';
import type { ControlPlaneSource } from '../shared/control-plane.ts';
import { fleetAddresses } from '../shared/fleet-targets.ts';
import type { HandlerLog, InvocationContext } from '../shared/invocation.ts';
import type { NodeDirectory } from '../shared/node-directory.ts';

/** Store page size of each stress request: what a client's first history page asks for. */
export const STRESS_PAGE_SIZE = 20;
/** A scheduled test (no request in the event) uses this share of the rate cap... */
export const SCHEDULED_RATE_FRACTION = 0.1;
/** ...for this long at most... */
export const SCHEDULED_DURATION_SECONDS = 30;
/** ...over at most this many connections. */
export const SCHEDULED_CONNECTIONS = 50;

const ScheduledEventSchema = z.looseObject({ source: z.literal('aws.events') });

export type StressFunctionDialer = StressDialer & { stop(): Promise<void> };

export interface StressHandlerDeps {
  controlPlane: ControlPlaneSource;
  store: Pick<StateStore<FleetState>, 'recordStress' | 'loadFleetState'>;
  /** Operator drains (a stressed node must be listed). */
  drains(): Pick<OperatorDrains, 'drained'>;
  directory: NodeDirectory;
  createDialer(options: { clusterId: number; shards: number[] }): Promise<StressFunctionDialer>;
  /** The node's REST base URL when this function reaches it; REST stress is refused otherwise. */
  restUrlOf(nodeId: string, config: FleetConfig): string | undefined;
  clock: ProbeClock;
  metrics: MetricsSink;
  log: HandlerLog;
}

/**
 * Invoked with `{nodeId, rate, durationSeconds, connections, transport}` (the API's request), or by
 * the schedule, which stresses the listed nodes in turn at a modest share of the caps.
 * @throws StressValidationError for a malformed request, a value above a cap or a drained node.
 * @example
 * export const handler = createStressHandler(defaultStressDependencies());
 */
export function createStressHandler(deps: StressHandlerDeps) {
  const dialerFor = containerDialer((options) => deps.createDialer(options));

  return async function stressHandler(
    event: unknown,
    _context: InvocationContext,
  ): Promise<StressSummary> {
    const { config } = await deps.controlPlane.load();
    const [loaded, operatorDrained] = await Promise.all([
      deps.store.loadFleetState(),
      deps.drains().drained(),
    ]);
    const listed = new Set(
      fleetView(config, loaded.state ?? initialFleetState(config), operatorDrained).listedNodeIds,
    );
    const request = ScheduledEventSchema.safeParse(event).success
      ? scheduledRequest(config, [...listed], deps.clock.nowMs())
      : parseRequest(config, event);
    if (!config.nodes.some((node) => node.id === request.nodeId)) {
      throw new StressValidationError(`nodeId: no node "${request.nodeId}" in ${config.fleet}`);
    }
    const topic = probePubsubTopic(config);
    const query = {
      includeData: false,
      pubsubTopic: topic,
      contentTopics: [...config.probe.contentTopics],
      pageSize: STRESS_PAGE_SIZE,
    };
    let target: StressTarget;
    if (request.transport === 'rest') {
      const restUrl = deps.restUrlOf(request.nodeId, config);
      if (!restUrl) {
        throw new StressValidationError(
          `transport: the stress function cannot reach the REST port of ${request.nodeId}; use libp2p`,
        );
      }
      target = restStressTarget(restUrl, query, { connections: request.connections });
    } else {
      const { multiaddrs } = fleetAddresses(
        config,
        await deps.controlPlane.addresses(),
        await deps.directory.all(),
      );
      const address = multiaddrs.get(request.nodeId)?.tcp;
      if (!address) {
        throw new StressValidationError(
          `nodeId: ${request.nodeId} has no known address or peer id yet; wait for a prober to reach it and record it`,
        );
      }
      target = libp2pStressTarget(await dialerFor(config), address, query, {
        maxResponseBytes: config.probe.maxResponseBytes,
      });
    }
    try {
      const report = await runStress(
        { target, clock: deps.clock, isDrained: (nodeId) => !listed.has(nodeId) },
        {
          nodeId: request.nodeId,
          ratePerSecond: request.rate,
          durationSeconds: request.durationSeconds,
          connections: request.connections,
        },
        config.stress,
        { rate: 'rate', duration: 'durationSeconds', connections: 'connections' },
      );
      const summary = report.summary;
      await deps.store.recordStress(summary);
      const dimensions = { [METRIC_DIMENSIONS.node]: summary.nodeId };
      deps.metrics.record(METRICS.stressP99Ms, summary.p99Ms, 'Milliseconds', dimensions);
      deps.metrics.record(METRICS.stressSloBreaches, summary.sloMet ? 0 : 1, 'Count', dimensions);
      await deps.metrics.flush();
      deps.log.info('stress test finished', { ...summary, abortReason: report.abortReason });
      return summary;
    } finally {
      // REST targets own their sockets; the libp2p connection belongs to the container's dialer.
      if (target.transport === 'rest') await target.close();
    }
  };
}

function parseRequest(config: FleetConfig, event: unknown): StressTestRequest {
  const parsed = stressRequestSchema(config).safeParse(event);
  if (!parsed.success) {
    throw new StressValidationError(describeIssues(parsed.error, event).join('; '));
  }
  return parsed.data;
}

/** The schedule stresses listed nodes in turn, one per scheduled run. */
function scheduledRequest(config: FleetConfig, listed: string[], nowMs: number): StressTestRequest {
  if (listed.length === 0) throw new StressValidationError('no listed node to stress');
  const periodMs = (config.stress.intervalSeconds ?? 3600) * 1000;
  const order = resolveNodes(config)
    .map((node) => node.id)
    .filter((id) => listed.includes(id));
  const nodeId = order[Math.floor(nowMs / periodMs) % order.length] as string;
  return {
    nodeId,
    rate: Math.max(1, Math.floor(config.stress.maxRatePerSecond * SCHEDULED_RATE_FRACTION)),
    durationSeconds: Math.min(SCHEDULED_DURATION_SECONDS, config.stress.maxDurationSeconds),
    connections: Math.min(SCHEDULED_CONNECTIONS, config.stress.maxConnections),
    transport: 'libp2p',
  };
}
