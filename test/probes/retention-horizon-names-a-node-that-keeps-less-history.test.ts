// The retention horizon: each node's oldest message against the history the fleet promises; a node keeping less than its peers raises HistoryTooShort.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { RetentionResult } from '../../fleet/observations.ts';
import { nodesWithShortHistory } from '../../fleet/reputation/retention.ts';
import { measureRetention } from '../../probes/retention.ts';
import { createProbeDialer, type ProbeDialer } from '../../waku/client/dialer.ts';
import { type StoreNodeHandle, startStoreNode } from '../../waku/node/store-node.ts';
import { pubsubTopic } from '../../waku/protocols.ts';
import { makeTempDir } from '../waku/node/fixtures.ts';

const CLUSTER_ID = 16;
const DAY_MS = 86_400_000;
const NOW_MS = Date.parse('2026-12-01T12:00:00Z');
const TOPICS = [pubsubTopic(CLUSTER_ID, 32), pubsubTopic(CLUSTER_ID, 64)];

describe('the retention horizon of a local fleet', () => {
  const dir = makeTempDir('retention');
  const nodes = new Map<string, StoreNodeHandle>();
  let dialer: ProbeDialer;

  beforeAll(async () => {
    // store-03 keeps 10 days; its peers keep everything since 40 days ago.
    for (const [index, keepDays] of [undefined, undefined, 10].entries()) {
      const node = await startStoreNode({
        dataDir: join(dir.path, String(index)),
        clusterId: CLUSTER_ID,
        shards: [32, 64],
        clock: () => NOW_MS,
        // History from weeks ago is archived here as if it had arrived then.
        maxTimestampDriftMs: Number.POSITIVE_INFINITY,
        ...(keepDays === undefined ? {} : { retention: { maxAgeMs: keepDays * DAY_MS } }),
        log: () => {},
      });
      for (const [ageDays, topic] of [
        [40, TOPICS[1]],
        [20, TOPICS[0]],
        [5, TOPICS[0]],
      ] as const) {
        await node.publish({
          contentTopic: '/status/1/community/proto',
          payload: Uint8Array.of(ageDays),
          timestampNs: BigInt(NOW_MS - ageDays * DAY_MS) * 1_000_000n,
          pubsubTopic: topic,
        });
      }
      nodes.set(`store-0${index + 1}`, node);
    }
    dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [32, 64] });
  });

  afterAll(async () => {
    await dialer.stop();
    await Promise.all([...nodes.values()].map((node) => node.stop()));
    dir.remove();
  });

  it('measures how far back each node reaches over every probed shard', async () => {
    const results = await measureRetention({
      sources: [...nodes].map(([nodeId, node]) => ({
        nodeId,
        query: (query, signal) => dialer.storeQuery(node.tcpAddress, query, { signal }),
      })),
      pubsubTopics: TOPICS,
      vantageId: 'vp-test',
      clock: { nowMs: () => NOW_MS },
    });
    assert.deepEqual(
      results.map((result) => [result.nodeId, (result.oldestMessageAgeMs ?? 0) / DAY_MS]),
      [
        ['store-01', 40],
        ['store-02', 40],
        ['store-03', 5],
      ],
      'store-03 dropped the 40- and 20-day-old messages',
    );

    // A 30-day promise: store-03 keeps 5 days and is named.
    assert.deepEqual(
      nodesWithShortHistory(results, { promisedDays: 30, toleranceFraction: 0.9 }).map((short) => [
        short.nodeId,
        short.expectedMs / DAY_MS,
      ]),
      [['store-03', 30]],
    );
  });

  it('blames nobody in a fleet younger than its promise, only a node behind its peers', () => {
    const young = (nodeId: string, days: number | null): RetentionResult => ({
      nodeId,
      vantageId: 'vp-test',
      atMs: NOW_MS,
      oldestMessageAgeMs: days === null ? null : days * DAY_MS,
    });
    const history = { promisedDays: 30, toleranceFraction: 0.9 };
    assert.deepEqual(nodesWithShortHistory([young('a', 3), young('b', 3)], history), []);
    assert.deepEqual(
      nodesWithShortHistory([young('a', 3), young('b', 1), young('c', null)], history).map(
        (short) => short.nodeId,
      ),
      ['b'],
    );
  });
});
