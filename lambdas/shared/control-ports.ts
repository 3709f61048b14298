// The AWS side of the control loop's ports, wired once for the watcher and the functions: DynamoDB, SSM, ECS, KMS, S3 and logs.
import { RegistryPublication } from '../../control/publication.ts';
import type { FleetConfig } from '../../fleet/config.ts';
import type {
  AlarmSink,
  Clock,
  ListableAddresses,
  MetricsSink,
  NodeDirectory,
  ObservationSource,
  StructuredLog,
} from '../../fleet/ports.ts';
import { type FleetState, FleetStateSchema } from '../../fleet/state.ts';
import { DynamoStateStore } from '../adapters/DynamoStateStore.ts';
import { KmsRegistrySigner } from '../adapters/KmsRegistrySigner.ts';
import { S3RegistryPublisher } from '../adapters/S3RegistryPublisher.ts';
import type { AwsClients } from './aws-clients.ts';
import type { ControlPlaneSource } from './control-plane.ts';
import {
  type ControlRecordsProps,
  DynamoOperatorDrains,
  DynamoPublicationHistory,
} from './control-records.ts';
import { fleetAddresses } from './fleet-targets.ts';
import { DynamoNodeDirectory } from './node-directory.ts';
import { DynamoObservationReader } from './observation-reader.ts';

/** Where a function or watcher keeps its records: the control region's tables. */
export interface ControlTables {
  fleet: string;
  controlRegion: string;
  nodeStateTable: string;
  probeResultsTable: string;
}

/** The state store, node identities and observation reader on the control region's tables. */
export function controlTables(tables: ControlTables, clients: AwsClients) {
  const client = clients.dynamo(tables.controlRegion);
  const records: ControlRecordsProps = {
    fleet: tables.fleet,
    nodeStateTableName: tables.nodeStateTable,
    client,
  };
  const store = new DynamoStateStore<FleetState>({
    fleet: tables.fleet,
    nodeStateTableName: tables.nodeStateTable,
    probeResultsTableName: tables.probeResultsTable,
    stateSchema: FleetStateSchema,
    client,
  });
  const identities = new DynamoNodeDirectory({
    fleet: tables.fleet,
    probeResultsTableName: tables.probeResultsTable,
    client,
  });
  const reader = new DynamoObservationReader({
    fleet: tables.fleet,
    probeResultsTableName: tables.probeResultsTable,
    client,
  });
  const observations: ObservationSource = {
    probeRounds: (round) => store.probeRounds(round),
    latestCompleteness: (nodeIds) => reader.latestCompleteness(nodeIds),
    latestStress: (nodeIds) => reader.latestStress(nodeIds),
  };
  return {
    store,
    identities,
    observations,
    records,
    /** A fresh drains object per operator request: its write is conditional on its own read. */
    drains: () => new DynamoOperatorDrains(records),
    history: new DynamoPublicationHistory(records),
  };
}

const UNREACHABLE_REASONS = {
  identity: 'peer id not known yet (no prober has reached the node)',
  address: 'no deployed address',
} as const;

/** Deployed addresses (SSM, per region) joined with the identities probers recorded. */
export function awsNodeDirectory(
  config: FleetConfig,
  controlPlane: ControlPlaneSource,
  identities: Pick<DynamoNodeDirectory, 'all'>,
): NodeDirectory {
  return {
    addresses: async () => {
      const [book, known] = await Promise.all([controlPlane.addresses(), identities.all()]);
      const { multiaddrs, unreachable } = fleetAddresses(config, book, known);
      return {
        byNode: multiaddrs as ReadonlyMap<string, ListableAddresses>,
        unreachable: new Map(
          unreachable.map((entry) => [entry.nodeId, UNREACHABLE_REASONS[entry.missing]]),
        ),
      };
    },
  };
}

/** The registry publication on S3, signed by KMS, both in the control region. */
export function awsRegistryPublication(input: {
  config: FleetConfig;
  controlPlane: ControlPlaneSource;
  tables: ReturnType<typeof controlTables>;
  controlRegion: string;
  registryBucket: string;
  signingKeyId: string;
  clients: AwsClients;
  metrics: MetricsSink;
  log: StructuredLog;
}): RegistryPublication {
  return new RegistryPublication(input.config, {
    directory: awsNodeDirectory(input.config, input.controlPlane, input.tables.identities),
    drains: input.tables.drains(),
    history: input.tables.history,
    signer: new KmsRegistrySigner({
      keyId: input.signingKeyId,
      client: input.clients.kms(input.controlRegion),
    }),
    publisher: new S3RegistryPublisher({
      bucketName: input.registryBucket,
      client: input.clients.s3(input.controlRegion),
    }),
    metrics: input.metrics,
    log: input.log,
  });
}

/** On AWS the alarms read metrics; raised and cleared alarm actions go to the log for the on-call trail. */
export function logAlarmSink(log: StructuredLog): AlarmSink {
  return {
    raise: (action) =>
      log.warn(`alarm ${action.alarm} raised`, {
        alarm: action.alarm,
        severity: action.severity,
        subject: action.subject,
        reason: action.reason,
        runbook: action.runbook,
      }),
    clear: (action) =>
      log.info(`alarm ${action.alarm} cleared`, {
        alarm: action.alarm,
        subject: action.subject,
        reason: action.reason,
      }),
  };
}

/** Wall-clock time; sleeps end early (resolving) when their signal aborts. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
};
