// The AWS watcher: one long-running task per vantage point running control/'s watch loop; it probes every round and records it in the control region, and the control region's watcher also decides and publishes.
import { FleetController } from '../../control/controller-round.ts';
import { clockAlignedRounds, WatchLoop, watchRound } from '../../control/watch-loop.ts';
import type { ResolvedNode, VantagePointConfig } from '../../fleet/config.ts';
import type { MetricsSink, StructuredLog } from '../../fleet/ports.ts';
import { EmfMetricsSink } from '../adapters/EmfMetricsSink.ts';
import { logger } from '../adapters/logger.ts';
import { AwsClients, endpointMapFromEnvironment } from '../shared/aws-clients.ts';
import { ecsRuntime } from '../shared/aws-wiring.ts';
import type { ContainerDialer } from '../shared/container-dialer.ts';
import { SsmControlPlane } from '../shared/control-plane.ts';
import {
  awsRegistryPublication,
  controlTables,
  logAlarmSink,
  systemClock,
} from '../shared/control-ports.ts';
import { AwsVantageProber } from './aws-vantage-prober.ts';
import {
  assertCanPublish,
  decidingVantage,
  readWatcherSettings,
  type WatcherSettings,
} from './watcher-settings.ts';

/**
 * The controller stops waiting for the other vantage points' reports this long after the round
 * deadline: a remote watcher's write to the control region's table takes a round trip or two.
 */
export const REMOTE_REPORT_SETTLE_MS = 750;

export interface AwsWatcherOptions {
  env: NodeJS.ProcessEnv;
  /** `--vantage ID`; overrides STOREFLEET_VANTAGE_ID. */
  vantageId?: string;
  /** @default clients for the endpoint map of STOREFLEET_AWS_ENDPOINTS, or AWS's own endpoints */
  clients?: AwsClients;
  /** @default the storefleet Powertools logger */
  log?: StructuredLog;
  /** @default EMF lines on stdout (CloudWatch Logs turns them into metrics) */
  metrics?: MetricsSink;
  /** @default a libp2p probe dialer kept for the life of the task */
  createDialer?: (options: { clusterId: number; shards: number[] }) => Promise<ContainerDialer>;
}

export interface AwsWatcher {
  settings: WatcherSettings;
  vantage: VantagePointConfig;
  /** True in the control region's watcher, which decides and publishes. */
  decides: boolean;
  controller: FleetController | undefined;
  /** Resolves once stop() has finished. */
  done: Promise<void>;
  /** The last round this watcher started. */
  readonly round: number | undefined;
  stop(): Promise<void>;
}

/** Inside the VPC a node's REST API answers at its Cloud Map name, for vantage points of its region. */
function vpcRestUrl(host: string | undefined) {
  return (node: ResolvedNode, vantage: VantagePointConfig): string | undefined =>
    node.region === vantage.region ? `http://${host ?? node.id}:${node.ports.rest}` : undefined;
}

/**
 * Reads the environment and the config from SSM, and starts the watch loop.
 * @example
 * const watcher = await startAwsWatcher({ env: process.env, vantageId: 'vp-eu' });
 * process.once('SIGTERM', () => watcher.stop());
 */
export async function startAwsWatcher(options: AwsWatcherOptions): Promise<AwsWatcher> {
  const settings = readWatcherSettings(options.env, options.vantageId);
  const clients = options.clients ?? new AwsClients(endpointMapFromEnvironment(options.env));
  const log = options.log ?? logger;
  const metrics = options.metrics ?? new EmfMetricsSink({ fleet: settings.fleet });
  const { controlRegion } = settings;
  const controlPlane = new SsmControlPlane({
    controlRegion,
    configParameter: settings.configParameter,
    deploymentParameter: settings.deploymentParameter,
    clientForRegion: (region) => clients.ssm(region),
    onUnreadableAddresses: (problem) =>
      log.warn('a region’s node addresses are unreadable; its nodes are left out until they are', {
        region: problem.region,
        parameter: problem.parameter,
        nodeIds: problem.nodeIds,
        error: problem.error.message,
      }),
  });
  const { config, topology } = await controlPlane.load();
  const vantage = config.vantagePoints.find((candidate) => candidate.id === settings.vantageId);
  if (!vantage) {
    throw new Error(
      `vantage point "${settings.vantageId}" is not in the fleet config (has: ${config.vantagePoints.map((vp) => vp.id).join(', ')}); redeploy so the task matches the config`,
    );
  }
  const decides = decidingVantage(config, controlRegion)?.id === vantage.id;
  const registry = decides ? assertCanPublish(settings) : undefined;
  // Every watcher writes to the control region's tables, wherever it runs.
  const tables = controlTables(settings, clients);
  const { createProbeDialer } = await import('../../waku/client/dialer.ts');
  const { health, info } = await import('../../waku/client/rest.ts');
  const dialer = await (options.createDialer ?? createProbeDialer)({
    clusterId: config.clusterId,
    shards: [...config.shards],
  });
  const prober = new AwsVantageProber({
    config,
    vantage,
    controlPlane,
    identities: tables.identities,
    dialer,
    rest: { health, info },
    restUrlOf: vpcRestUrl(settings.nodeRestHost),
    nowMs: systemClock.nowMs,
    log,
  });
  const controller = registry
    ? await FleetController.open(config, {
        state: tables.store,
        observations: tables.observations,
        // ECS DescribeServices each round: the runtime's evidence of a stopped task.
        runtime: ecsRuntime(topology, (region) => clients.ecs(region)),
        drains: tables.drains(),
        publication: awsRegistryPublication({
          config,
          controlPlane,
          tables,
          controlRegion,
          ...registry,
          clients,
          metrics,
          log,
        }),
        alarms: logAlarmSink(log),
        metrics,
        log,
        clock: systemClock,
      })
    : undefined;
  const runRound = watchRound({
    vantages: [{ prober, recorder: tables.store, log }],
    ...(controller ? { controller } : {}),
    reportDeadlineMs: config.probe.roundDeadlineMs + REMOTE_REPORT_SETTLE_MS,
    clock: systemClock,
  });
  const loop = new WatchLoop({
    schedule: clockAlignedRounds(config.probe.intervalSeconds),
    clock: systemClock,
    runRound: async (round) => {
      await runRound(round);
    },
    onRoundFailed: (round, error) =>
      log.warn('watch round failed; the next round goes on', {
        round,
        vantageId: vantage.id,
        error: error.message,
      }),
  });
  loop.start();
  log.info('watcher started', {
    vantageId: vantage.id,
    region: vantage.region,
    decides,
    controlRegion,
  });
  let stopped: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  let stopping: Promise<void> | undefined;
  return {
    settings,
    vantage,
    decides,
    controller,
    done,
    get round() {
      return loop.lastRound;
    },
    stop: () => {
      stopping ??= (async () => {
        await loop.stop();
        await dialer.stop().catch(() => {});
        await metrics.flush().catch(() => {});
        if (!options.clients) clients.destroy();
        stopped();
      })();
      return stopping;
    },
  };
}
