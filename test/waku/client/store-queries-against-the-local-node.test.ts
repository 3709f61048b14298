// Acceptance: ping, metadata and store v3 queries through the probe dialer and REST client against the local store node.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createProbeDialer, type ProbeDialer } from '../../../waku/client/dialer.ts';
import { health, info, restPublish, restStoreQuery } from '../../../waku/client/rest.ts';
import type { StoreQueryPage } from '../../../waku/client/store-types.ts';
import { StoreError, WrongClusterError } from '../../../waku/errors.ts';
import { messageHashHex } from '../../../waku/message-hash.ts';
import { CLUSTER_ID, type LocalNode, PUBSUB_TOPIC, SHARD, startLocalNode } from './local-node.ts';

const MESSAGE_COUNT = 130;
const CHAT_TOPIC = '/storefleet/1/chat/proto';
const OTHER_TOPIC = '/storefleet/1/other/proto';
/** A fixed epoch keeps the archive's order and time ranges reproducible. */
const FIRST_TIMESTAMP_NS = 1_700_000_000_000_000_000n;
const NS_PER_MS = 1_000_000n;
const CALL_TIMEOUT_MS = 5000;

interface Published {
  hash: string;
  contentTopic: string;
  timestampNs: bigint;
  payload: Uint8Array;
}

async function collect(pages: AsyncIterable<StoreQueryPage>): Promise<StoreQueryPage[]> {
  const collected: StoreQueryPage[] = [];
  for await (const page of pages) collected.push(page);
  return collected;
}

const deadline = (): { signal: AbortSignal } => ({ signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });

describe('the client against the local store node', () => {
  let local: LocalNode;
  let dialer: ProbeDialer;
  const published: Published[] = [];

  beforeAll(async () => {
    local = await startLocalNode();
    dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [SHARD] });
    for (let index = 0; index < MESSAGE_COUNT; index++) {
      const contentTopic = index % 2 === 0 ? CHAT_TOPIC : OTHER_TOPIC;
      const timestampNs = FIRST_TIMESTAMP_NS + BigInt(index) * NS_PER_MS;
      const payload = new TextEncoder().encode(`message ${index}`);
      const hash = await local.node.publish({
        contentTopic,
        payload,
        timestampNs,
        pubsubTopic: PUBSUB_TOPIC,
      });
      published.push({ hash, contentTopic, timestampNs, payload });
    }
  });

  afterAll(async () => {
    await dialer.stop();
    await local.stop();
  });

  it('hashes messages as RFC 14 says, so clients and node agree on keys', () => {
    const first = published[0]!;
    assert.equal(
      first.hash,
      messageHashHex(PUBSUB_TOPIC, {
        payload: first.payload,
        contentTopic: first.contentTopic,
        timestamp: first.timestampNs,
      }),
    );
  });

  it('pings over TCP and websocket, reusing the connection unless asked for a fresh one', async () => {
    for (const address of [local.node.tcpAddress, local.node.websocketAddress]) {
      // Act
      const first = await dialer.ping(address, deadline());
      const reused = await dialer.ping(address, deadline());
      const fresh = await dialer.ping(address, { ...deadline(), fresh: true });

      // Assess
      assert.equal(first.freshDial, true);
      assert.equal(reused.freshDial, false);
      assert.equal(fresh.freshDial, true);
      for (const { rttMs } of [first, reused, fresh])
        assert.ok(rttMs > 0 && rttMs < 1000, `rtt ${rttMs}`);
    }
  });

  it('reads the node cluster and shards through metadata', async () => {
    const metadata = await dialer.metadata(local.node.tcpAddress, deadline());
    assert.deepEqual(metadata, { clusterId: CLUSTER_ID, shards: [SHARD] });
  });

  it('throws WrongClusterError when the node is in another cluster than the fleet', async () => {
    // Prepare
    const otherFleet = await createProbeDialer({ clusterId: 1, shards: [0] });
    try {
      // Act / Assess
      await assert.rejects(
        otherFleet.metadata(local.node.tcpAddress, deadline()),
        (error: unknown) =>
          error instanceof WrongClusterError &&
          error.expectedClusterId === 1 &&
          error.actualClusterId === CLUSTER_ID,
      );
    } finally {
      await otherFleet.stop();
    }
  });

  it('pages forward through all messages with cursors, oldest first', async () => {
    // Act
    const pages = await collect(
      dialer.storeQueryPages(
        local.node.tcpAddress,
        { includeData: false, pubsubTopic: PUBSUB_TOPIC, pageSize: 50, forward: true },
        deadline(),
      ),
    );

    // Assess
    assert.deepEqual(
      pages.map((page) => page.messages.length),
      [50, 50, 30],
    );
    assert.equal(pages.at(-1)?.cursor, undefined);
    assert.deepEqual(
      pages.flatMap((page) => page.messages.map((message) => message.hash)),
      published.map((message) => message.hash),
    );
  });

  it('pages backward with cursors, newest page first', async () => {
    // Act
    const pages = await collect(
      dialer.storeQueryPages(
        local.node.websocketAddress,
        { includeData: true, pubsubTopic: PUBSUB_TOPIC, pageSize: 50, forward: false },
        deadline(),
      ),
    );

    // Assess
    const hashesPerPage = pages.map((page) => page.messages.map((message) => message.hash));
    assert.deepEqual(
      hashesPerPage.map((hashes) => hashes.length),
      [50, 50, 30],
    );
    assert.deepEqual(
      new Set(hashesPerPage[0]),
      new Set(published.slice(-50).map((message) => message.hash)),
    );
    assert.deepEqual(
      new Set(hashesPerPage.flat()),
      new Set(published.map((message) => message.hash)),
    );
    const newest = pages[0]?.messages.find((message) => message.hash === published.at(-1)?.hash);
    assert.equal(newest?.message?.timestampNs, published.at(-1)?.timestampNs);
    assert.deepEqual(newest?.message?.payload, published.at(-1)?.payload);
  });

  it('stops after maxPages even when the node has more', async () => {
    const pages = await collect(
      dialer.storeQueryPages(
        local.node.tcpAddress,
        { includeData: false, pubsubTopic: PUBSUB_TOPIC },
        { ...deadline(), maxPages: 2 },
      ),
    );
    assert.equal(pages.length, 2);
    assert.ok(pages[1]?.cursor !== undefined);
  });

  it('filters by time range with both ends inclusive, as nwaku does', async () => {
    // Act
    const page = await dialer.storeQuery(
      local.node.tcpAddress,
      {
        includeData: true,
        pubsubTopic: PUBSUB_TOPIC,
        timeStartNs: FIRST_TIMESTAMP_NS + 10n * NS_PER_MS,
        timeEndNs: FIRST_TIMESTAMP_NS + 20n * NS_PER_MS,
        pageSize: 100,
      },
      deadline(),
    );

    // Assess
    assert.deepEqual(
      page.messages.map((message) => message.hash),
      published.slice(10, 21).map((message) => message.hash),
    );
  });

  it('filters by content topic', async () => {
    const pages = await collect(
      dialer.storeQueryPages(
        local.node.tcpAddress,
        {
          includeData: true,
          pubsubTopic: PUBSUB_TOPIC,
          contentTopics: [CHAT_TOPIC],
          pageSize: 100,
        },
        deadline(),
      ),
    );
    const messages = pages.flatMap((page) => page.messages);
    assert.equal(messages.length, MESSAGE_COUNT / 2);
    assert.ok(messages.every((message) => message.message?.contentTopic === CHAT_TOPIC));
  });

  it('looks messages up by hash', async () => {
    // Prepare
    const wanted = [published[3]!, published[77]!, published[129]!];

    // Act
    const page = await dialer.storeQuery(
      local.node.tcpAddress,
      { includeData: true, messageHashes: wanted.map((message) => message.hash) },
      deadline(),
    );

    // Assess
    assert.deepEqual(
      new Set(page.messages.map((message) => message.hash)),
      new Set(wanted.map((message) => message.hash)),
    );
    for (const message of page.messages) assert.equal(message.pubsubTopic, PUBSUB_TOPIC);
  });

  it('ANDs a hash query with topic filters, as nwaku does', async () => {
    const chat = published.find((message) => message.contentTopic === CHAT_TOPIC)!;
    const other = published.find((message) => message.contentTopic === OTHER_TOPIC)!;
    const page = await dialer.storeQuery(
      local.node.tcpAddress,
      { includeData: false, messageHashes: [chat.hash, other.hash], contentTopics: [CHAT_TOPIC] },
      deadline(),
    );
    assert.deepEqual(
      page.messages.map((message) => message.hash),
      [chat.hash],
    );
  });

  it('gets StoreError 300 for a cursor the node does not hold', async () => {
    await assert.rejects(
      dialer.storeQuery(
        local.node.tcpAddress,
        { includeData: false, pubsubTopic: PUBSUB_TOPIC, cursor: `0x${'09'.repeat(32)}` },
        deadline(),
      ),
      (error: unknown) => error instanceof StoreError && error.statusCode === 300,
    );
  });

  it('gets the same page through REST as through libp2p', async () => {
    // Prepare
    const query = {
      includeData: true,
      pubsubTopic: PUBSUB_TOPIC,
      contentTopics: [OTHER_TOPIC],
      timeStartNs: FIRST_TIMESTAMP_NS,
      pageSize: 7,
    };

    // Act
    const viaLibp2p = await dialer.storeQuery(local.node.tcpAddress, query, deadline());
    const viaRest = await restStoreQuery(local.node.restUrl, query, deadline());
    const nextViaRest = await restStoreQuery(
      local.node.restUrl,
      { ...query, cursor: viaRest.cursor! },
      deadline(),
    );

    // Assess
    assert.equal(viaRest.messages.length, 7);
    const comparable = (page: StoreQueryPage) =>
      page.messages.map(({ hash, message }) => ({
        hash,
        ...message,
        payload: Buffer.from(message?.payload ?? []).toString('hex'),
      }));
    assert.deepEqual(comparable(viaRest), comparable(viaLibp2p));
    assert.equal(viaRest.cursor, viaLibp2p.cursor);
    assert.equal(nextViaRest.messages[0]?.hash, published[15]?.hash);
  });

  it('keeps many concurrent calls on one connection under the node stream limits', async () => {
    // Prepare: more calls than the node's 64 store streams and 32 ping streams per connection.
    const concurrentCalls = 100;

    // Act
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: concurrentCalls }, () =>
        dialer.storeQuery(local.node.tcpAddress, { includeData: true, pageSize: 20 }, deadline()),
      ),
      ...Array.from({ length: concurrentCalls / 2 }, () =>
        dialer.ping(local.node.tcpAddress, { ...deadline(), fresh: true }),
      ),
    ]);

    // Assess
    const failures = outcomes.filter((outcome) => outcome.status === 'rejected');
    assert.deepEqual(
      failures.map((failure) => String(failure.reason)),
      [],
    );
  });

  it('reads health and info over REST', async () => {
    const report = await health(local.node.restUrl, deadline());
    assert.equal(report.statusCode, 200);
    assert.equal(report.nodeHealth, 'READY');
    assert.equal(report.protocols['Store'], 'READY');
    const debug = await info(local.node.restUrl, deadline());
    assert.ok(debug.listenAddresses.includes(local.node.tcpAddress));
  });

  it('publishes over REST with an exact nanosecond timestamp and finds it by hash', async () => {
    // Prepare: nanosecond timestamps pass 2^53, so both directions must keep every digit.
    const message = {
      payload: new TextEncoder().encode('published over REST'),
      contentTopic: '/storefleet/1/rest-publish/proto',
      timestampNs: FIRST_TIMESTAMP_NS + 987_654_321n,
    };
    const hash = messageHashHex(PUBSUB_TOPIC, { ...message, timestamp: message.timestampNs });

    // Act
    await restPublish(local.node.restUrl, PUBSUB_TOPIC, message, deadline());
    const viaLibp2p = await dialer.storeQuery(
      local.node.tcpAddress,
      { includeData: true, messageHashes: [hash] },
      deadline(),
    );
    const viaRest = await restStoreQuery(
      local.node.restUrl,
      { includeData: true, messageHashes: [hash] },
      deadline(),
    );

    // Assess
    for (const page of [viaLibp2p, viaRest]) {
      assert.equal(page.messages.length, 1);
      assert.equal(page.messages[0]?.hash, hash);
      assert.equal(page.messages[0]?.message?.timestampNs, message.timestampNs);
      assert.deepEqual(
        Buffer.from(page.messages[0]?.message?.payload ?? []),
        Buffer.from(message.payload),
      );
    }
  });
});
