// The AWS watcher: one long-running task per vantage point that probes every round and records it in the control region; the control region's watcher also decides and publishes.
import type { ResolvedNode, VantagePointConfig } from '../../fleet/config.ts';
import type { MetricsSink } from '../../fleet/ports.ts';
import { type FleetState, FleetStateSchema } from '../../fleet/state.ts';
import { DynamoStateStore } from '../adapters/DynamoStateStore.ts';
import { EmfMetricsSink } from '../adapters/EmfMetricsSink.ts';
import { KmsRegistrySigner } from '../adapters/KmsRegistrySigner.ts';
import { logger } from '../adapters/logger.ts';
import { S3RegistryPublisher } from '../adapters/S3RegistryPublisher.ts';
import { createControllerHandler } from '../controller/controller-handler.ts';
import { type ContainerDialer, createProbeHandler } from '../probe/probe-handler.ts';
import { createPublisherHandler } from '../publisher/publisher-handler.ts';
import { AwsClients, endpointMapFromEnvironment } from '../shared/aws-clients.ts';
import { ecsRuntime } from '../shared/aws-wiring.ts';
import { SsmControlPlane } from '../shared/control-plane.ts';
import { DynamoFleetSettings } from '../shared/fleet-settings.ts';
import type { HandlerLog, InvocationContext, LoopClock } from '../shared/invocation.ts';
import { DynamoNodeDirectory } from '../shared/node-directory.ts';
import { DynamoObservationReader } from '../shared/observation-reader.ts';
import {
  assertCanPublish,
  decidingVantage,
  readWatcherSettings,
  type WatcherSettings,
} from './watcher-settings.ts';

/** Each pass of a loop covers this long before the config and addresses are read again. */
export const WATCH_PASS_SECONDS = 60;
/** After a pass fails (AWS unreachable, a bad parameter), wait this long before the next. */
export const WATCH_RETRY_DELAY_MS = 5_000;

export interface AwsWatcherOptions {
  env: NodeJS.ProcessEnv;
  /** `--vantage ID`; overrides STOREFLEET_VANTAGE_ID. */
  vantageId?: string;
  /** @default clients for the endpoint map of STOREFLEET_AWS_ENDPOINTS, or AWS's own endpoints */
  clients?: AwsClients;
  /** @default the storefleet Powertools logger */
  log?: HandlerLog;
  /** @default EMF lines on stdout (CloudWatch Logs turns them into metrics) */
  metrics?: MetricsSink;
  /** @default a libp2p probe dialer kept for the life of the task */
  createDialer?: (options: { clusterId: number; shards: number[] }) => Promise<ContainerDialer>;
}

export interface AwsWatcher {
  settings: WatcherSettings;
  vantage: VantagePointConfig;
  /** True for the control region's watcher, which decides and publishes. */
  decides: boolean;
  /** Resolves when the watcher has stopped (after stop(), or never otherwise). */
  done: Promise<void>;
  stop(): Promise<void>;
}

class WatcherStoppedError extends Error {
  constructor() {
    super('the watcher is stopping');
    this.name = 'WatcherStoppedError';
  }
}

/** Wall clock whose sleeps end (rejecting) when the watcher stops, so a loop never outlives stop(). */
function stoppableClock(signal: AbortSignal): LoopClock {
  return {
    nowMs: () => Date.now(),
    sleep: (ms) =>
      new Promise<void>((resolve, reject) => {
        if (signal.aborted) return reject(new WatcherStoppedError());
        const timer = setTimeout(
          () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
          Math.max(0, ms),
        );
        const onAbort = () => {
          clearTimeout(timer);
          reject(new WatcherStoppedError());
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }),
  };
}

/** Inside the VPC a node's REST API answers at its Cloud Map name, for vantage points of its region. */
function vpcRestUrl(host: string | undefined) {
  return (node: ResolvedNode, vantage: VantagePointConfig): string | undefined =>
    node.region === vantage.region ? `http://${host ?? node.id}:${node.ports.rest}` : undefined;
}

/**
 * Reads the environment, the config from SSM, and starts the watcher's loops.
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
  const { config } = await controlPlane.load();
  const vantage = config.vantagePoints.find((candidate) => candidate.id === settings.vantageId);
  if (!vantage) {
    throw new Error(
      `vantage point "${settings.vantageId}" is not in the fleet config (has: ${config.vantagePoints.map((vp) => vp.id).join(', ')}); redeploy so the task matches the config`,
    );
  }
  const decides = decidingVantage(config, controlRegion)?.id === vantage.id;
  // Every watcher writes to the control region's tables, wherever it runs.
  const table = clients.dynamo(controlRegion);
  const store = new DynamoStateStore<FleetState>({
    fleet: settings.fleet,
    nodeStateTableName: settings.nodeStateTable,
    probeResultsTableName: settings.probeResultsTable,
    stateSchema: FleetStateSchema,
    client: table,
  });
  const directory = new DynamoNodeDirectory({
    fleet: settings.fleet,
    probeResultsTableName: settings.probeResultsTable,
    client: table,
  });
  const stopping = new AbortController();
  const clock = stoppableClock(stopping.signal);
  const context: InvocationContext = {
    functionName: `storefleet-watch-${vantage.id}`,
    awsRequestId: `watch-${vantage.id}-${Date.now()}`,
    getRemainingTimeInMillis: () => Number.MAX_SAFE_INTEGER,
  };
  const createDialer =
    options.createDialer ??
    (async (dialerOptions) => {
      const { createProbeDialer } = await import('../../waku/client/dialer.ts');
      return createProbeDialer(dialerOptions);
    });
  const dialers: ContainerDialer[] = [];
  const { health, info } = await import('../../waku/client/rest.ts');
  const probe = createProbeHandler({
    vantageId: vantage.id,
    loopSeconds: WATCH_PASS_SECONDS,
    controlPlane,
    store,
    directory,
    createDialer: async (dialerOptions) => {
      const dialer = await createDialer(dialerOptions);
      dialers.push(dialer);
      return dialer;
    },
    rest: { health, info },
    restUrlOf: vpcRestUrl(settings.nodeRestHost),
    clock,
    metrics,
    log,
  });

  const loops: Promise<void>[] = [repeat('probe', () => probe({}, context))];
  if (decides) loops.push(...controlLoops());

  function controlLoops(): Promise<void>[] {
    const registry = assertCanPublish(settings);
    const fleetSettings = new DynamoFleetSettings({
      fleet: settings.fleet,
      nodeStateTableName: settings.nodeStateTable,
      client: table,
    });
    const publisher = createPublisherHandler({
      controlPlane,
      store,
      settings: fleetSettings,
      directory,
      signer: new KmsRegistrySigner({
        keyId: registry.signingKeyId,
        client: clients.kms(controlRegion),
      }),
      publisher: new S3RegistryPublisher({
        bucketName: registry.registryBucket,
        client: clients.s3(controlRegion),
      }),
      nowMs: () => Date.now(),
      metrics,
      log,
    });
    // One publication at a time: two at once would race for the same sequence.
    let publishing: Promise<unknown> = Promise.resolve();
    const publish = () => {
      const run = publishing.then(() => publisher({}, context));
      publishing = run.catch((error: unknown) => {
        log.warn('publication failed', { error: (error as Error).message });
      });
      return publishing.then(() => {});
    };
    const controller = createControllerHandler({
      loopSeconds: WATCH_PASS_SECONDS,
      controlPlane,
      store,
      observations: new DynamoObservationReader({
        fleet: settings.fleet,
        probeResultsTableName: settings.probeResultsTable,
        client: table,
      }),
      runtimeFor: (_config, topology) => ecsRuntime(topology, (region) => clients.ecs(region)),
      invokePublisher: () => publish(),
      clock,
      metrics,
      log,
    });
    // Operator drains and a version nearing expiry are noticed by looking every round.
    const republish = async () => {
      const current = (await controlPlane.load()).config;
      for (;;) {
        await publish();
        await clock.sleep(current.probe.intervalSeconds * 1000);
      }
    };
    return [repeat('decide', () => controller({}, context)), repeat('publish', republish)];
  }

  async function repeat(name: string, pass: () => Promise<unknown>): Promise<void> {
    while (!stopping.signal.aborted) {
      try {
        await pass();
      } catch (error) {
        if (stopping.signal.aborted) return;
        log.error(`watcher ${name} pass failed; retrying`, {
          vantageId: vantage?.id,
          error: (error as Error).message,
        });
        await clock.sleep(WATCH_RETRY_DELAY_MS).catch(() => {});
      }
    }
  }

  const done = Promise.all(loops).then(async () => {
    await Promise.allSettled(dialers.map((dialer) => dialer.stop()));
    await metrics.flush().catch(() => {});
    if (!options.clients) clients.destroy();
  });
  log.info('watcher started', { vantageId: vantage.id, region: vantage.region, decides });
  return {
    settings,
    vantage,
    decides,
    done,
    stop: async () => {
      stopping.abort();
      await done;
    },
  };
}
