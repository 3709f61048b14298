// Starts the local store node in a temporary directory and drives its fault-injection endpoint, for client acceptance tests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StoreNodeHandle, startStoreNode } from '../../../waku/node/store-node.ts';
import { pubsubTopic } from '../../../waku/protocols.ts';

export const CLUSTER_ID = 16;
export const SHARD = 32;
export const PUBSUB_TOPIC = pubsubTopic(CLUSTER_ID, SHARD);
export const ADMIN_TOKEN = 'client-acceptance-token';

export interface LocalNode {
  node: StoreNodeHandle;
  setFaults(settings: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
  stop(): Promise<void>;
}

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
  const admin = async (method: 'POST' | 'DELETE', body?: unknown): Promise<void> => {
    const response = await fetch(`${node.restUrl}/admin/v1/faults`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok)
      throw new Error(`faults ${method} failed: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  };
  return {
    node,
    setFaults: (settings) => admin('POST', settings),
    clearFaults: () => admin('DELETE'),
    stop: async () => {
      await node.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
