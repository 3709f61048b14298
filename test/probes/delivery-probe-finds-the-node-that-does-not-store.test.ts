// The delivery probe publishes one message through one node's REST relay and finds, by hash, every store node that did not archive it in time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { parseFleetConfig } from '../../fleet/config.ts';
import { deliveryScore, nodesThatDidNotStore } from '../../fleet/reputation/delivery.ts';
import {
  DeliveryPublishError,
  deliveryProbeDue,
  restRelayPublisher,
  runDeliveryProbe,
  storeHoldsHash,
} from '../../probes/delivery.ts';
import { createProbeDialer, type ProbeDialer } from '../../waku/client/dialer.ts';
import { restPublish } from '../../waku/client/rest.ts';
import { type StoreNodeHandle, startStoreNode } from '../../waku/node/store-node.ts';
import { pubsubTopic } from '../../waku/protocols.ts';
import { makeTempDir } from '../waku/node/fixtures.ts';

const CLUSTER_ID = 16;
const SHARD = 32;
const TOPIC = pubsubTopic(CLUSTER_ID, SHARD);
const DEADLINE_MS = 3_000;
const systemClock = { nowMs: () => Date.now() };

describe('the delivery probe against a local fleet', () => {
  const dir = makeTempDir('delivery');
  const nodes: StoreNodeHandle[] = [];
  let dialer: ProbeDialer;

  beforeAll(async () => {
    for (let index = 0; index < 3; index++) {
      nodes.push(
        await startStoreNode({
          dataDir: join(dir.path, String(index)),
          clusterId: CLUSTER_ID,
          shards: [SHARD],
          peers: nodes.map((node) => node.tcpAddress),
          log: () => {},
        }),
      );
    }
    // Relay mesh: each later node dialled the earlier ones; wait until they are relay peers.
    for (const node of nodes.slice(1)) await nodes[0]?.waitForRelayPeer(node.peerId);
    dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [SHARD] });
  });

  afterAll(async () => {
    await dialer.stop();
    await Promise.all(nodes.map((node) => node.stop()));
    dir.remove();
  });

  const probe = () =>
    runDeliveryProbe({
      publisher: restRelayPublisher('store-01', (nodes[0] as StoreNodeHandle).restUrl, restPublish),
      stores: nodes.map((node, index) =>
        storeHoldsHash(`store-0${index + 1}`, (query, signal) =>
          dialer.storeQuery(node.tcpAddress, query, { signal }),
        ),
      ),
      vantageId: 'vp-test',
      pubsubTopic: TOPIC,
      contentTopic: '/storefleet/1/delivery/proto',
      deadlineMs: DEADLINE_MS,
      clock: systemClock,
      pollIntervalMs: 100,
    });

  it('finds the probe message on every node, by hash, with the delay each took', async () => {
    const results = await probe();
    assert.deepEqual(
      results.map((result) => [result.nodeId, result.stored]),
      [
        ['store-01', true],
        ['store-02', true],
        ['store-03', true],
      ],
    );
    assert.ok(results.every((result) => (result.delayMs ?? Infinity) < DEADLINE_MS));
    assert.equal(new Set(results.map((result) => result.messageHash)).size, 1);
    assert.deepEqual(results[0]?.publishedVia, { nodeId: 'store-01', transport: 'rest-relay' });
    assert.deepEqual(nodesThatDidNotStore(results), []);
  });

  it('names a node that relays but does not archive, and scores it down', async () => {
    (nodes[2] as StoreNodeHandle).faults.set({ dropArchiveRate: 1 });
    try {
      const results = await probe();
      assert.deepEqual(nodesThatDidNotStore(results), ['store-03']);
      const lost = results.find((result) => result.nodeId === 'store-03');
      assert.equal(lost?.stored, false);
      assert.equal(lost?.delayMs, null);
      assert.equal(lost?.errorClass, undefined, 'it answered: it just did not hold the message');
      assert.equal(deliveryScore(results.filter((r) => r.nodeId === 'store-03')), 0);
      assert.equal(deliveryScore(results.filter((r) => r.nodeId === 'store-01')), 1);
    } finally {
      (nodes[2] as StoreNodeHandle).faults.clear();
    }
  });

  it('judges no node when the publish itself fails', async () => {
    await assert.rejects(
      runDeliveryProbe({
        publisher: restRelayPublisher('store-01', 'http://127.0.0.1:1', restPublish),
        stores: [],
        vantageId: 'vp-test',
        pubsubTopic: TOPIC,
        contentTopic: '/storefleet/1/delivery/proto',
        deadlineMs: DEADLINE_MS,
        clock: systemClock,
      }),
      DeliveryPublishError,
    );
  });
});

describe('delivery settings', () => {
  const example = () =>
    JSON.parse(
      readFileSync(join(import.meta.dirname, '..', '..', 'config', 'fleet.example.json'), 'utf8'),
    );

  it('run every N rounds and refuse a deadline longer than the gap between probes, naming the field', () => {
    assert.deepEqual(
      [0, 1, 11, 12, 24].map((round) => deliveryProbeDue(round, 12)),
      [true, false, false, true, true],
    );
    const input = example();
    const config = parseFleetConfig({ ...input, delivery: { everyRounds: 2 } });
    assert.equal(config.delivery?.deadlineSeconds, 10);
    assert.throws(
      () => parseFleetConfig({ ...input, delivery: { everyRounds: 1, deadlineSeconds: 600 } }),
      /delivery\.deadlineSeconds: got 600; longer than delivery\.everyRounds/,
    );
  });
});
