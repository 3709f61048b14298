// The store node over real loopback libp2p: ping, metadata and store v3 queries (pagination, ranges, filters, hashes, bad input).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { noise } from '@chainsafe/libp2p-noise';
import { mplex } from '@libp2p/mplex';
import { webSockets } from '@libp2p/websockets';
import { createLibp2p, type Libp2p } from 'libp2p';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { hex0xToBytes } from '../../../waku/message-hash.ts';
import {
  METADATA_PROTOCOL,
  PING_PROTOCOL,
  pubsubTopic,
  STORE_QUERY_PROTOCOL,
} from '../../../waku/protocols.ts';
import {
  decodeMetadata,
  decodeStoreQueryResponse,
  encodeMetadata,
  MAX_METADATA_BYTES,
  MAX_STORE_RESPONSE_BYTES,
  readLengthPrefixed,
  type StoreQueryResponse,
  writeLengthPrefixed,
} from '../../../waku/wire.ts';
import {
  CLUSTER_ID,
  openStream,
  SHARDS,
  startRawClient,
  startTestNode,
  storeQuery,
  TEST_TIMEOUT_MS,
  withDeadline,
} from './fixtures.ts';

const BASE_NS = 1_700_000_000_000_000_000n;
const TOPIC_A = '/test/1/a/proto';
const TOPIC_B = '/test/1/b/proto';
const MESSAGE_COUNT = 150;

interface Published {
  hash: Uint8Array;
  timestamp: bigint;
  contentTopic: string;
  pubsubTopic: string;
}

function byPosition(a: Published, b: Published): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return Buffer.compare(a.hash, b.hash);
}

function hashesOf(response: StoreQueryResponse): string[] {
  return response.messages.map((entry) => Buffer.from(entry.messageHash ?? []).toString('hex'));
}

const hexOf = (messages: Published[]): string[] =>
  messages.map((message) => Buffer.from(message.hash).toString('hex'));

describe('store node protocols over loopback libp2p', () => {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let client: Libp2p;
  const published: Published[] = [];

  beforeAll(async () => {
    node = await startTestNode();
    client = await startRawClient();
    for (let index = 0; index < MESSAGE_COUNT; index++) {
      // Pairs share a timestamp so ordering and cursors must fall back to the hash.
      const timestamp = BASE_NS + BigInt(Math.floor(index / 2)) * 1000n;
      const contentTopic = index % 3 === 0 ? TOPIC_A : TOPIC_B;
      const topic = pubsubTopic(CLUSTER_ID, SHARDS[index % 2] as number);
      const hash = await node.publish({
        contentTopic,
        payload: Uint8Array.of(index),
        timestampNs: timestamp,
        pubsubTopic: topic,
      });
      published.push({
        hash: hex0xToBytes(hash) as Uint8Array,
        timestamp,
        contentTopic,
        pubsubTopic: topic,
      });
    }
    published.sort(byPosition);
  });

  afterAll(async () => {
    await client?.stop();
    await node?.stop();
    node?.removeDataDir();
  });

  it('echoes libp2p pings', async () => {
    const stream = await openStream(client, node.tcpAddress, PING_PROTOCOL);
    const ping = randomBytes(32);
    stream.send(ping);
    const echoed: Uint8Array[] = [];
    let received = 0;
    for await (const chunk of stream) {
      const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
      echoed.push(bytes);
      received += bytes.byteLength;
      if (received >= 32) break;
    }
    assert.deepEqual(Buffer.concat(echoed), ping);
    await stream.close();
  });

  it('serves a websocket client that only speaks mplex, as js-waku browsers dial', async () => {
    const browserLike = await createLibp2p({
      transports: [webSockets()],
      connectionEncrypters: [noise()],
      streamMuxers: [mplex()],
    });
    try {
      // Twenty streams at once: mplex's default would cut the connection after five a second.
      const replies = await Promise.all(
        Array.from({ length: 20 }, () =>
          storeQuery(browserLike, node.websocketAddress, { paginationLimit: 3n }),
        ),
      );
      assert.deepEqual(
        replies.map((reply) => [reply.statusCode, reply.messages.length]),
        Array.from({ length: 20 }, () => [200, 3]),
      );
      assert.equal(browserLike.getConnections()[0]?.multiplexer, '/mplex/6.7.0');
    } finally {
      await browserLike.stop();
    }
  });

  it('answers metadata with its cluster and shards', async () => {
    const stream = await openStream(client, node.tcpAddress, METADATA_PROTOCOL);
    await writeLengthPrefixed(stream, encodeMetadata({ clusterId: CLUSTER_ID, shards: [] }));
    const reply = decodeMetadata(
      await readLengthPrefixed(stream, {
        maxBytes: MAX_METADATA_BYTES,
        signal: AbortSignal.timeout(TEST_TIMEOUT_MS),
      }),
    );
    assert.equal(reply.clusterId, CLUSTER_ID);
    assert.deepEqual(reply.shards, SHARDS);
  });

  it('answers then disconnects a peer that says it is in another cluster', async () => {
    const stranger = await startRawClient();
    try {
      const stream = await openStream(stranger, node.tcpAddress, METADATA_PROTOCOL);
      const connection = stranger.getConnections()[0];
      assert.ok(connection);
      const closed = new Promise<void>((resolve) => {
        if (connection.status !== 'open') return resolve();
        stranger.addEventListener('connection:close', () => resolve(), { once: true });
      });
      await writeLengthPrefixed(stream, encodeMetadata({ clusterId: 1, shards: [0] }));
      const reply = decodeMetadata(
        await readLengthPrefixed(stream, {
          maxBytes: MAX_METADATA_BYTES,
          signal: AbortSignal.timeout(TEST_TIMEOUT_MS),
        }),
      );
      assert.equal(reply.clusterId, CLUSTER_ID);
      await withDeadline(closed, TEST_TIMEOUT_MS, 'closing the wrong-cluster connection');
      assert.equal(stranger.getConnections().length, 0);
    } finally {
      await stranger.stop();
    }
  });

  it('pages forward through more than 100 messages with exclusive cursors', async () => {
    const seen: string[] = [];
    let cursor: Uint8Array | undefined;
    let pages = 0;
    do {
      const reply = await storeQuery(client, node.tcpAddress, {
        requestId: `forward-${pages}`,
        includeData: true,
        paginationForward: true,
        paginationLimit: 100n,
        paginationCursor: cursor,
      });
      assert.equal(reply.statusCode, 200);
      assert.equal(reply.requestId, `forward-${pages}`);
      seen.push(...hashesOf(reply));
      cursor = reply.paginationCursor;
      pages += 1;
    } while (cursor !== undefined && pages < 10);
    assert.equal(pages, 2);
    assert.deepEqual(seen, hexOf(published));
  });

  it('pages backward from the newest, each page in ascending order', async () => {
    const pagesSeen: string[][] = [];
    let cursor: Uint8Array | undefined;
    do {
      const reply = await storeQuery(client, node.tcpAddress, {
        paginationForward: false,
        paginationLimit: 60n,
        paginationCursor: cursor,
      });
      assert.equal(reply.statusCode, 200);
      pagesSeen.push(hashesOf(reply));
      cursor = reply.paginationCursor;
    } while (cursor !== undefined && pagesSeen.length < 10);
    const all = hexOf(published);
    assert.deepEqual(
      pagesSeen.map((page) => page.length),
      [60, 60, 30],
    );
    assert.deepEqual(pagesSeen[0], all.slice(90, 150));
    assert.deepEqual(pagesSeen[1], all.slice(30, 90));
    assert.deepEqual(pagesSeen[2], all.slice(0, 30));
  });

  it('defaults to pages of 20 and clamps page sizes above 100', async () => {
    const defaulted = await storeQuery(client, node.tcpAddress, { paginationForward: true });
    assert.equal(defaulted.messages.length, 20);
    const clamped = await storeQuery(client, node.tcpAddress, {
      paginationForward: true,
      paginationLimit: 1000n,
    });
    assert.equal(clamped.messages.length, 100);
    assert.ok(clamped.paginationCursor);
  });

  it('includes both time_start and time_end, as nwaku does (the RFC excludes the end)', async () => {
    const start = published[10] as Published;
    const end = published[40] as Published;
    const reply = await storeQuery(client, node.tcpAddress, {
      paginationForward: true,
      paginationLimit: 100n,
      timeStart: start.timestamp,
      timeEnd: end.timestamp,
    });
    const expected = published.filter(
      (message) => message.timestamp >= start.timestamp && message.timestamp <= end.timestamp,
    );
    assert.ok(expected.length > 0);
    assert.deepEqual(hashesOf(reply), hexOf(expected));
    assert.ok(hashesOf(reply).includes(Buffer.from(start.hash).toString('hex')));
    assert.ok(hashesOf(reply).includes(Buffer.from(end.hash).toString('hex')));
  });

  it('filters by content topics and pubsub topic', async () => {
    const shard32 = pubsubTopic(CLUSTER_ID, 32);
    const reply = await storeQuery(client, node.tcpAddress, {
      includeData: true,
      paginationForward: true,
      paginationLimit: 100n,
      pubsubTopic: shard32,
      contentTopics: [TOPIC_A],
    });
    const expected = published.filter(
      (message) => message.pubsubTopic === shard32 && message.contentTopic === TOPIC_A,
    );
    assert.ok(expected.length > 0);
    assert.deepEqual(hashesOf(reply), hexOf(expected));
    for (const entry of reply.messages) {
      assert.equal(entry.message?.contentTopic, TOPIC_A);
      assert.equal(entry.pubsubTopic, shard32);
    }
  });

  it('looks messages up by hash, returning only archived ones', async () => {
    const wanted = [published[5], published[77], published[149]].map(
      (message) => (message as Published).hash,
    );
    const unknown = new Uint8Array(32).fill(7);
    const reply = await storeQuery(client, node.tcpAddress, {
      includeData: true,
      messageHashes: [...wanted, unknown],
      paginationForward: true,
    });
    assert.equal(reply.statusCode, 200);
    assert.deepEqual(
      hashesOf(reply),
      wanted.map((hash) => Buffer.from(hash).toString('hex')),
    );
    assert.ok(reply.messages.every((entry) => entry.message !== undefined));
  });

  it('ANDs a hash query with topic filters, as nwaku does', async () => {
    const onA = published.find((message) => message.contentTopic === TOPIC_A) as Published;
    const onB = published.find((message) => message.contentTopic === TOPIC_B) as Published;
    const reply = await storeQuery(client, node.tcpAddress, {
      requestId: 'mixed',
      messageHashes: [onA.hash, onB.hash],
      contentTopics: [TOPIC_A],
    });
    assert.equal(reply.statusCode, 200);
    assert.equal(reply.requestId, 'mixed');
    assert.deepEqual(hashesOf(reply), hexOf([onA]));
  });

  it('answers a cursor that names no archived message with 300, as nwaku does', async () => {
    const reply = await storeQuery(client, node.tcpAddress, {
      requestId: 'lost-cursor',
      paginationCursor: new Uint8Array(32).fill(9),
    });
    assert.equal(reply.statusCode, 300);
    assert.equal(reply.requestId, '', 'nwaku leaves the request id of an error reply empty');
  });

  it('answers a garbage request with 400 and resets an oversized one, then keeps serving', async () => {
    const garbage = await openStream(client, node.tcpAddress, STORE_QUERY_PROTOCOL);
    // Field 1 announced as length-delimited with a length running past the end.
    await writeLengthPrefixed(garbage, Uint8Array.of(0x0a, 0xff, 0x01, 0x41));
    const reply = decodeStoreQueryResponse(
      await readLengthPrefixed(garbage, {
        maxBytes: MAX_STORE_RESPONSE_BYTES,
        signal: AbortSignal.timeout(TEST_TIMEOUT_MS),
      }),
    );
    assert.equal(reply.statusCode, 400);

    const oversized = await openStream(client, node.tcpAddress, STORE_QUERY_PROTOCOL);
    // Announces a 100 MiB frame; the node must refuse before buffering it.
    oversized.send(Uint8Array.of(0x80, 0x80, 0x80, 0x32));
    await assert.rejects(
      readLengthPrefixed(oversized, {
        maxBytes: MAX_STORE_RESPONSE_BYTES,
        signal: AbortSignal.timeout(TEST_TIMEOUT_MS),
      }),
    );

    const after = await storeQuery(client, node.tcpAddress, { paginationLimit: 1n });
    assert.equal(after.statusCode, 200);
  });
});
