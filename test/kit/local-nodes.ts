// Test kit, local nodes: store nodes on loopback (in this process or each in its own), with their fault endpoints, and probe settings fit for them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProbeConfig } from '../../fleet/config.ts';
import type { ProbeTarget } from '../../probes/probe-round.ts';
import { type StoreNodeHandle, startStoreNode } from '../../waku/node/store-node.ts';
import { pubsubTopic } from '../../waku/protocols.ts';

export const CLUSTER_ID = 16;
export const SHARD = 32;
export const PUBSUB_TOPIC = pubsubTopic(CLUSTER_ID, SHARD);
export const CONTENT_TOPIC = '/storefleet/1/probe/proto';
const ADMIN_TOKEN = 'local-node-test-token';
const ADMIN_TIMEOUT_MS = 5000;

/** Sets and clears a node's injected faults through its admin endpoint (`/admin/v1/faults`). */
export function faultAdmin(
  restUrl: string,
  adminToken = ADMIN_TOKEN,
): { setFaults(settings: Record<string, unknown>): Promise<void>; clearFaults(): Promise<void> } {
  const admin = async (method: 'POST' | 'DELETE', body?: unknown): Promise<void> => {
    const response = await fetch(`${restUrl}/admin/v1/faults`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`faults ${method} failed: ${response.status} ${text}`);
  };
  return { setFaults: (settings) => admin('POST', settings), clearFaults: () => admin('DELETE') };
}

export interface LocalNode {
  node: StoreNodeHandle;
  setFaults(settings: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
  stop(): Promise<void>;
}

/** A store node in this process, in a temporary data directory, on ephemeral loopback ports. */
export async function startLocalNode(): Promise<LocalNode> {
  const dataDir = await mkdtemp(join(tmpdir(), 'storefleet-client-'));
  const node = await startStoreNode({
    dataDir,
    clusterId: CLUSTER_ID,
    shards: [SHARD],
    adminToken: ADMIN_TOKEN,
    log: () => {},
    // Tests archive history at fixed past times; nwaku's 20 s drift rule is tested on its own.
    maxTimestampDriftMs: Number.POSITIVE_INFINITY,
  });
  return {
    node,
    ...faultAdmin(node.restUrl),
    stop: async () => {
      await node.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Short timeouts so that a stalled node costs the suite a few seconds per round, yet long
 * enough for fresh secp256k1 dials (pure JavaScript) on a 2-core machine busy with other suites.
 */
export function fastProbeConfig(overrides: Partial<ProbeConfig> = {}): ProbeConfig {
  return {
    intervalSeconds: 5,
    pingTimeoutMs: 3000,
    metadataTimeoutMs: 3000,
    storeTimeoutMs: 3000,
    healthTimeoutMs: 3000,
    roundDeadlineMs: 3500,
    concurrency: 8,
    freshDialEveryRounds: 4,
    freshnessWindowSeconds: 300,
    contentTopics: [CONTENT_TOPIC],
    maxResponseBytes: 1024 * 1024,
    ...overrides,
  };
}

/** How long a node process may take to print its ready line (it imports libp2p first). */
const CHILD_READY_TIMEOUT_MS = 20_000;

export interface ChildStoreNode {
  nodeId: string;
  target: ProbeTarget;
  restUrl: string;
  setFaults(settings: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
  publish(contentTopic: string, payload: Uint8Array, timestampNs?: bigint): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A store node in its own process (`storefleet node run`), as in the local runtime: the load
 * generator's measurements then do not share an event loop with the node it measures.
 */
export async function startChildStoreNode(
  name: string,
  options: { index?: number; clusterId?: number } = {},
): Promise<ChildStoreNode> {
  const { spawn } = await import('node:child_process');
  const { createInterface } = await import('node:readline');
  const { restPublish } = await import('../../waku/client/rest.ts');
  const dataDir = await mkdtemp(join(tmpdir(), 'storefleet-probes-child-'));
  const child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, '..', '..', 'cli', 'main.ts'),
      'node',
      'run',
      '--data-dir',
      dataDir,
      '--cluster',
      String(options.clusterId ?? CLUSTER_ID),
      '--shards',
      String(SHARD),
      '--admin-token',
      ADMIN_TOKEN,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  const ready = await new Promise<{ tcpAddress: string; restUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node ${name} printed no ready line within ${CHILD_READY_TIMEOUT_MS} ms`));
    }, CHILD_READY_TIMEOUT_MS);
    lines.on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { event?: string; tcpAddress: string; restUrl: string };
        if (parsed.event === 'ready') {
          clearTimeout(timer);
          resolve(parsed);
        }
      } catch {
        // Not the ready line.
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`node ${name} exited with ${code} before it was ready`));
    });
  });
  const nodeId = `store-0${(options.index ?? 0) + 1}.${name}.storefleet.test`;
  return {
    nodeId,
    target: { nodeId, multiaddr: ready.tcpAddress, restUrl: ready.restUrl },
    restUrl: ready.restUrl,
    ...faultAdmin(ready.restUrl),
    publish: (contentTopic, payload, timestampNs) =>
      restPublish(
        ready.restUrl,
        pubsubTopic(options.clusterId ?? CLUSTER_ID, SHARD),
        { contentTopic, payload, ...(timestampNs === undefined ? {} : { timestampNs }) },
        { signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS) },
      ),
    stop: async () => {
      lines.close();
      child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Several nodes at once; `clusterId` differs only for a deliberately misconfigured node. */
export async function startChildFleet(
  specs: readonly { name: string; clusterId?: number }[],
): Promise<{ nodes: ChildStoreNode[]; clearFaults(): Promise<void>; stop(): Promise<void> }> {
  const settled = await Promise.allSettled(
    specs.map((spec, index) =>
      startChildStoreNode(spec.name, {
        index,
        ...(spec.clusterId === undefined ? {} : { clusterId: spec.clusterId }),
      }),
    ),
  );
  const nodes = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(nodes.map((node) => node.stop()));
    throw failed.reason;
  }
  return {
    nodes,
    clearFaults: async () => {
      await Promise.all(nodes.map((node) => node.clearFaults()));
    },
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}
