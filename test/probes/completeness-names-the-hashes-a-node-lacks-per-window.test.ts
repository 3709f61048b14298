// Completeness as storenode-messages-counter does it: whole pubsub topics, one lagged window, and the very hashes each node lacks, served by the API.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { parseFleetConfig } from '../../fleet/config.ts';
import type { CompletenessResult } from '../../fleet/observations.ts';
import { createApi, type FleetControl } from '../../local/api.ts';
import { laggedWindow, measureWholeTopicCompleteness } from '../../probes/completeness.ts';
import { createProbeDialer, type ProbeDialer } from '../../waku/client/dialer.ts';
import { type StoreNodeHandle, startStoreNode } from '../../waku/node/store-node.ts';
import { pubsubTopic } from '../../waku/protocols.ts';
import { makeTempDir } from '../waku/node/fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CLUSTER_ID = 16;
const TOPICS = [pubsubTopic(CLUSTER_ID, 32), pubsubTopic(CLUSTER_ID, 64)];
const NOW_MS = Date.parse('2026-12-01T12:00:00Z');
/** The example config's first three nodes. */
const NODE_IDS = [
  'store-01.eu-central.storefleet.test',
  'store-02.eu-central.storefleet.test',
  'store-01.us-east.storefleet.test',
];
const SETTINGS = {
  intervalSeconds: 300,
  windowSeconds: 120,
  lagSeconds: 300,
  pageSize: 10,
  hashBatchSize: 7,
  retries: 0,
};

describe('completeness over whole pubsub topics', () => {
  const dir = makeTempDir('missing');
  const nodes: StoreNodeHandle[] = [];
  const dropped = new Set<string>();
  let dialer: ProbeDialer;
  let results: CompletenessResult[];

  beforeAll(async () => {
    for (let index = 0; index < 3; index++) {
      nodes.push(
        await startStoreNode({
          dataDir: join(dir.path, String(index)),
          clusterId: CLUSTER_ID,
          shards: [32, 64],
          clock: () => NOW_MS,
          maxTimestampDriftMs: Number.POSITIVE_INFINITY,
          log: () => {},
        }),
      );
    }
    const window = laggedWindow(NOW_MS, SETTINGS);
    // 30 messages in the window on two shards and many content topics none of which the
    // prober was told about; store-03 misses every fifth one.
    for (let index = 0; index < 30; index++) {
      const message = {
        contentTopic: `/status/1/chat-${index % 4}/proto`,
        payload: Uint8Array.of(index),
        timestampNs: BigInt(window.startMs + 1000 + index * 1000) * 1_000_000n,
        pubsubTopic: TOPICS[index % 2] as string,
      };
      for (const [nodeIndex, node] of nodes.entries()) {
        const lacks = nodeIndex === 2 && index % 5 === 0;
        node.faults.set({ dropArchiveRate: lacks ? 1 : 0 });
        const hash = await node.publish(message);
        if (lacks) dropped.add(hash);
      }
    }
    for (const node of nodes) node.faults.clear();
    dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [32, 64] });
    results = await measureWholeTopicCompleteness({
      nodes: nodes.map((node, index) => ({
        nodeId: NODE_IDS[index] as string,
        query: (query, signal) => dialer.storeQuery(node.tcpAddress, query, { signal }),
      })),
      pubsubTopics: TOPICS,
      vantageId: 'vp-test',
      settings: SETTINGS,
      clock: { nowMs: () => NOW_MS },
    });
  });

  afterAll(async () => {
    await dialer.stop();
    await Promise.all(nodes.map((node) => node.stop()));
    dir.remove();
  });

  it('counts every content topic of every probed shard, and names exactly the hashes a node lacks', () => {
    const byNode = new Map(results.map((result) => [result.nodeId, result]));
    const holey = byNode.get('store-01.us-east.storefleet.test');
    assert.equal(holey?.unionCount, 30);
    assert.equal(holey?.missingCount, 6);
    assert.deepEqual(holey?.missingHashes, [...dropped].sort());
    assert.deepEqual(holey?.pubsubTopics, TOPICS);
    assert.equal(holey?.windowEndMs, laggedWindow(NOW_MS, SETTINGS).endMs);
    for (const nodeId of [
      'store-01.eu-central.storefleet.test',
      'store-02.eu-central.storefleet.test',
    ]) {
      assert.equal(byNode.get(nodeId)?.completeness, 1, nodeId);
      assert.equal(byNode.get(nodeId)?.missingHashes, undefined, nodeId);
    }
  });

  it('answers "which messages does node X lack" through the API, per window', async () => {
    const config = parseFleetConfig(
      JSON.parse(readFileSync(join(ROOT, 'config', 'fleet.example.json'), 'utf8')),
    );
    const control = {
      missingMessages: (nodeId: string) => results.filter((result) => result.nodeId === nodeId),
    } as unknown as FleetControl;
    const app = createApi({
      config,
      control,
      adminToken: 'unused-token-0123456789',
      dashboardHtml: '',
    });
    const reply = await app.request('/api/nodes/store-01.us-east.storefleet.test/missing');
    assert.equal(reply.status, 200);
    const body = (await reply.json()) as {
      windows: Array<{ windowEnd: string; missingHashes: string[]; pubsubTopics: string[] }>;
    };
    assert.equal(body.windows.length, 1);
    assert.deepEqual(body.windows[0]?.missingHashes, [...dropped].sort());
    assert.equal(
      body.windows[0]?.windowEnd,
      new Date(laggedWindow(NOW_MS, SETTINGS).endMs).toISOString(),
    );
    assert.equal((await app.request('/api/nodes/nope/missing')).status, 404);
  });
});
