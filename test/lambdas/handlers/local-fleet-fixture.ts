// A two-node local fleet for handler tests: real store nodes, dynalite tables, the config and topology the SSM parameters would hold.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeployedAddressBook } from '../../../control/node-addresses.ts';
import type { ResolvedNode, VantagePointConfig } from '../../../fleet/config.ts';
import { type FleetConfig, parseFleetConfig } from '../../../fleet/config.ts';
import type { DeploymentTopology } from '../../../fleet/function-environment.ts';
import type { MetricsSink, MetricUnit } from '../../../fleet/ports.ts';
import { type FleetState, FleetStateSchema } from '../../../fleet/state.ts';
import { DynamoStateStore } from '../../../lambdas/adapters/DynamoStateStore.ts';
import type { ControlPlaneSource } from '../../../lambdas/shared/control-plane.ts';
import { DynamoOperatorDrains } from '../../../lambdas/shared/control-records.ts';
import { sameRegionRestUrl } from '../../../lambdas/shared/fleet-targets.ts';
import type {
  HandlerLog,
  InvocationContext,
  LoopClock,
} from '../../../lambdas/shared/invocation.ts';
import { DynamoNodeDirectory } from '../../../lambdas/shared/node-directory.ts';
import { createProbeDialer, type ProbeDialer } from '../../../waku/client/dialer.ts';
import { type StoreNodeHandle, startStoreNode } from '../../../waku/node/store-node.ts';
import { type DynamoEmulator, startDynamoEmulator } from '../adapters/dynalite-emulator.ts';

export const FLEET = 'storefleet.test';
export const CLUSTER_ID = 16;
export const SHARD = 32;
export const CONTENT_TOPIC = '/storefleet/1/probe/proto';
export const NODE_STATE_TABLE = 'storefleet-storefleet-test-node-state';
export const PROBE_RESULTS_TABLE = 'storefleet-storefleet-test-probe-results';
export const NODE_IDS = [
  'store-01.eu-central.storefleet.test',
  'store-02.eu-central.storefleet.test',
];

export interface LocalFleet {
  config: FleetConfig;
  topology: DeploymentTopology;
  addresses: DeployedAddressBook;
  nodes: Map<string, StoreNodeHandle>;
  dynamo: DynamoEmulator;
  store: DynamoStateStore<FleetState>;
  directory: DynamoNodeDirectory;
  /** A fresh operator drains object (its write is conditional on its own read). */
  drains(): DynamoOperatorDrains;
  controlPlane: ControlPlaneSource;
  /** A libp2p dialer for a handler's createDialer; close() stops every one made. */
  createDialer(options: { clusterId: number; shards: number[] }): Promise<ProbeDialer>;
  /** Local nodes answer REST on loopback; the region rule decides which vantage point reaches it. */
  restUrlOf(node: ResolvedNode, vantage: VantagePointConfig): string | undefined;
  stopNode(nodeId: string): Promise<void>;
  close(): Promise<void>;
}

function portOf(url: string): number {
  return Number(new URL(url.replace(/^\/ip4\/([^/]+)\/tcp\/(\d+).*$/, 'http://$1:$2')).port);
}

export async function startLocalFleet(
  overrides: Record<string, unknown> = {},
): Promise<LocalFleet> {
  const dataDir = await mkdtemp(join(tmpdir(), 'storefleet-handlers-'));
  const nodes = new Map<string, StoreNodeHandle>();
  for (const [index, nodeId] of NODE_IDS.entries()) {
    nodes.set(
      nodeId,
      await startStoreNode({
        dataDir: join(dataDir, String(index)),
        clusterId: CLUSTER_ID,
        shards: [SHARD],
        log: () => {},
        // Tests archive history at fixed past times; nwaku's 20 s drift rule is tested on its own.
        maxTimestampDriftMs: Number.POSITIVE_INFINITY,
      }),
    );
  }
  const portsOf = (node: StoreNodeHandle) => ({
    tcp: portOf(node.tcpAddress),
    websocket: portOf(node.websocketAddress),
    rest: Number(new URL(node.restUrl).port),
  });
  const config = parseFleetConfig({
    fleet: FLEET,
    clusterId: CLUSTER_ID,
    shards: [SHARD],
    locations: { 'eu-central': { region: 'eu-central-1' } },
    nodes: NODE_IDS.map((id) => ({
      id,
      location: 'eu-central',
      ports: portsOf(nodes.get(id) as StoreNodeHandle),
    })),
    vantagePoints: [
      { id: 'vp-eu', region: 'eu-central-1', reachesRest: true },
      { id: 'vp-us', region: 'us-east-1', reachesRest: false },
    ],
    probe: {
      intervalSeconds: 5,
      pingTimeoutMs: 1500,
      metadataTimeoutMs: 1500,
      storeTimeoutMs: 1500,
      healthTimeoutMs: 1500,
      roundDeadlineMs: 2000,
      contentTopics: [CONTENT_TOPIC],
    },
    completeness: { windowSeconds: 60, lagSeconds: 1, intervalSeconds: 60 },
    stress: { maxRatePerSecond: 100, maxConnections: 10, maxDurationSeconds: 5 },
    failover: { minHealthy: 1, quorum: 1, failuresBeforeDrain: 1 },
    ...overrides,
  });
  const addresses: DeployedAddressBook = {};
  for (const [nodeId, node] of nodes) {
    const ports = portsOf(node);
    addresses[nodeId] = { ip: '127.0.0.1', tcp: ports.tcp, websocket: ports.websocket };
  }
  const topology: DeploymentTopology = {
    fleet: FLEET,
    controlRegion: 'eu-central-1',
    nodes: NODE_IDS.map((nodeId) => ({
      nodeId,
      region: 'eu-central-1',
      cluster: 'storefleet-storefleet-test',
      service: nodeId.split('.').slice(0, 2).join('-'),
      addressesParameter: '/storefleet/storefleet-test/nodes/eu-central-1',
    })),
  };
  const dynamo = await startDynamoEmulator([NODE_STATE_TABLE, PROBE_RESULTS_TABLE]);
  const stopped = new Set<string>();
  const dialers: ProbeDialer[] = [];
  return {
    config,
    topology,
    addresses,
    nodes,
    dynamo,
    store: new DynamoStateStore<FleetState>({
      fleet: FLEET,
      nodeStateTableName: NODE_STATE_TABLE,
      probeResultsTableName: PROBE_RESULTS_TABLE,
      stateSchema: FleetStateSchema,
      client: dynamo.client,
    }),
    directory: new DynamoNodeDirectory({
      fleet: FLEET,
      probeResultsTableName: PROBE_RESULTS_TABLE,
      client: dynamo.client,
    }),
    drains: () =>
      new DynamoOperatorDrains({
        fleet: FLEET,
        nodeStateTableName: NODE_STATE_TABLE,
        client: dynamo.client,
      }),
    controlPlane: {
      load: async () => ({ config, topology }),
      addresses: async () => addresses,
    },
    createDialer: async (options) => {
      const dialer = await createProbeDialer(options);
      dialers.push(dialer);
      return dialer;
    },
    restUrlOf: (node, vantage) =>
      sameRegionRestUrl(node, vantage) ? nodes.get(node.id)?.restUrl : undefined,
    stopNode: async (nodeId) => {
      stopped.add(nodeId);
      await nodes.get(nodeId)?.stop();
    },
    close: async () => {
      await Promise.allSettled(dialers.map((dialer) => dialer.stop()));
      await Promise.allSettled(
        [...nodes].filter(([id]) => !stopped.has(id)).map(([, node]) => node.stop()),
      );
      await dynamo.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A Lambda Context with the fields handlers read; the remaining time counts down with the given clock. */
export function fakeContext(
  functionName: string,
  clock: { nowMs(): number },
  budgetMs = 70_000,
): InvocationContext {
  const startMs = clock.nowMs();
  return {
    functionName,
    awsRequestId: `test-${functionName}-${startMs}`,
    getRemainingTimeInMillis: () => budgetMs - (clock.nowMs() - startMs),
  };
}

/** Real time plus an offset that sleep() advances at once: a minute-long loop runs in the time its rounds take. */
export function virtualClock(startMs: number): LoopClock & { advance(ms: number): void } {
  let offsetMs = startMs - Date.now();
  return {
    nowMs: () => Date.now() + offsetMs,
    sleep: async (ms) => {
      offsetMs += Math.max(0, ms);
    },
    advance: (ms) => {
      offsetMs += ms;
    },
  };
}

export interface RecordedMetric {
  name: string;
  value: number;
  unit: MetricUnit;
  dimensions: Readonly<Record<string, string>>;
}

/** A MetricsSink that keeps what was flushed. */
export function recordingMetrics(): MetricsSink & { flushed: RecordedMetric[] } {
  let pending: RecordedMetric[] = [];
  const flushed: RecordedMetric[] = [];
  return {
    flushed,
    record: (name, value, unit, dimensions = {}) => {
      pending.push({ name, value, unit, dimensions });
    },
    flush: async () => {
      flushed.push(...pending);
      pending = [];
    },
  };
}

export const quietLog: HandlerLog & { warnings: string[] } = {
  warnings: [],
  info: () => {},
  warn(message) {
    this.warnings.push(message);
  },
  error(message) {
    this.warnings.push(message);
  },
};
