// A few local store nodes on loopback with their fault endpoints, for the probes' acceptance tests.
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
const ADMIN_TOKEN = 'probes-acceptance-token';
const ADMIN_TIMEOUT_MS = 5000;

export interface FleetNode {
  nodeId: string;
  node: StoreNodeHandle;
  target: ProbeTarget;
  /** Sets faults through the node's admin endpoint, as an operator or chaos test would. */
  setFaults(settings: Record<string, unknown>): Promise<void>;
}

export interface LocalFleet {
  nodes: FleetNode[];
  clearFaults(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts one node per entry; `clusterId` differs only for a deliberately misconfigured node. */
export async function startLocalFleet(
  specs: readonly { name: string; clusterId?: number }[],
): Promise<LocalFleet> {
  const dirs: string[] = [];
  const nodes = await Promise.all(
    specs.map(async (spec, index): Promise<FleetNode> => {
      const dataDir = await mkdtemp(join(tmpdir(), 'storefleet-probes-'));
      dirs.push(dataDir);
      const clusterId = spec.clusterId ?? CLUSTER_ID;
      const node = await startStoreNode({
        dataDir,
        clusterId,
        shards: [SHARD],
        adminToken: ADMIN_TOKEN,
        seed: index + 1,
        log: () => {},
      });
      const nodeId = `store-0${index + 1}.${spec.name}.storefleet.test`;
      return {
        nodeId,
        node,
        target: { nodeId, multiaddr: node.tcpAddress, restUrl: node.restUrl },
        setFaults: (settings) => admin(node.restUrl, 'POST', settings),
      };
    }),
  );
  return {
    nodes,
    clearFaults: async () => {
      await Promise.all(nodes.map(({ node }) => admin(node.restUrl, 'DELETE')));
    },
    stop: async () => {
      await Promise.all(nodes.map(({ node }) => node.stop()));
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}

async function admin(restUrl: string, method: 'POST' | 'DELETE', body?: unknown): Promise<void> {
  const response = await fetch(`${restUrl}/admin/v1/faults`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`faults ${method} failed: ${response.status} ${text}`);
}

/** Short timeouts so that a stalled node costs the suite well under a second per round. */
export function fastProbeConfig(overrides: Partial<ProbeConfig> = {}): ProbeConfig {
  return {
    intervalSeconds: 5,
    pingTimeoutMs: 500,
    metadataTimeoutMs: 500,
    storeTimeoutMs: 500,
    healthTimeoutMs: 500,
    roundDeadlineMs: 900,
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
  publish(contentTopic: string, payload: Uint8Array): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A store node in its own process (`storefleet node run`), as in the local runtime: the load
 * generator's measurements then do not share an event loop with the node it measures.
 */
export async function startChildStoreNode(name: string): Promise<ChildStoreNode> {
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
      String(CLUSTER_ID),
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
  const nodeId = `store-01.${name}.storefleet.test`;
  return {
    nodeId,
    target: { nodeId, multiaddr: ready.tcpAddress, restUrl: ready.restUrl },
    restUrl: ready.restUrl,
    setFaults: (settings) => admin(ready.restUrl, 'POST', settings),
    clearFaults: () => admin(ready.restUrl, 'DELETE'),
    publish: (contentTopic, payload) =>
      restPublish(
        ready.restUrl,
        PUBSUB_TOPIC,
        { contentTopic, payload },
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
