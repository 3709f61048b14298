// nwaku answers a rate-limited store query with request id "N/A" and its other errors with an empty id: the client reads both as nwaku means them.
import assert from 'node:assert/strict';
import type { Libp2p } from '@libp2p/interface';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createProbeDialer, type ProbeDialer } from '../../../waku/client/dialer.ts';
import { checkStorePage } from '../../../waku/client/store-codec.ts';
import { BadResponseError, RateLimitedError, StoreError } from '../../../waku/errors.ts';
import { STORE_QUERY_PROTOCOL } from '../../../waku/protocols.ts';
import {
  encodeStoreQueryRequest,
  MAX_STORE_RESPONSE_BYTES,
  readLengthPrefixed,
  writeLengthPrefixed,
} from '../../../waku/wire.ts';
import { openStream, startRawClient, startTestNode } from '../node/fixtures.ts';
import { garbage, type HostilePeer, startHostilePeer } from './hostile-peer.ts';

const CLUSTER_ID = 16;
const CALL_TIMEOUT_MS = 3000;

/** Length prefix + body, as a peer writes a reply frame. */
function frame(body: number[]): Uint8Array {
  return Uint8Array.from([body.length, ...body]);
}
const ascii = (text: string): number[] => [...Buffer.from(text, 'ascii')];

/**
 * nwaku's rate-limit reply, field by field as its rpc_codec writes it: request_id (1) "N/A",
 * status_code (10) 429 as a varint, status_desc (11) "TOO_MANY_REQUESTS".
 */
const NWAKU_RATE_LIMITED = [
  0x0a,
  3,
  ...ascii('N/A'),
  0x50,
  0xad,
  0x03,
  0x5a,
  17,
  ...ascii('TOO_MANY_REQUESTS'),
];
/** nwaku's reply to a bad request: request_id written empty, status 400. */
const NWAKU_BAD_REQUEST = [0x0a, 0, 0x50, 0x90, 0x03, 0x5a, 19, ...ascii('decoding rpc failed')];
/** A 200 for some other query. */
const REPLY_FOR_ANOTHER_REQUEST = [0x0a, 5, ...ascii('other'), 0x50, 0xc8, 0x01];

describe('store replies shaped as nwaku writes them', () => {
  const peers: HostilePeer[] = [];
  let dialer: ProbeDialer;

  beforeAll(async () => {
    dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [32] });
    for (const body of [NWAKU_RATE_LIMITED, NWAKU_BAD_REQUEST, REPLY_FOR_ANOTHER_REQUEST]) {
      peers.push(await startHostilePeer({ store: garbage(frame(body)) }));
    }
  });

  afterAll(async () => {
    await dialer.stop();
    await Promise.all(peers.map((peer) => peer.stop()));
  });

  const query = (peer: HostilePeer) =>
    dialer.storeQuery(
      peer.tcpAddress,
      { includeData: false, pubsubTopic: '/waku/2/rs/16/32', requestId: 'probe-1' },
      { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) },
    );

  it('reads request id "N/A" with status 429 as rate limited, not as a bad response', async () => {
    await assert.rejects(
      query(peers[0] as HostilePeer),
      (error: unknown) =>
        error instanceof RateLimitedError &&
        error.errorClass === 'rate_limited' &&
        error.statusCode === 429,
    );
  });

  it('reads an error reply with an empty request id as that store error', async () => {
    await assert.rejects(
      query(peers[1] as HostilePeer),
      (error: unknown) => error instanceof StoreError && error.statusCode === 400,
    );
  });

  it('still refuses a reply that names another request', async () => {
    await assert.rejects(query(peers[2] as HostilePeer), BadResponseError);
  });

  it('accepts "", "N/A" or the query id, as go-waku does, and only those', () => {
    const page = { statusCode: 200, statusDesc: 'OK', messages: [] };
    for (const requestId of ['', 'N/A', 'q-7']) {
      assert.equal(checkStorePage({ ...page, requestId }, 'q-7', 'node').requestId, requestId);
    }
    assert.throws(
      () => checkStorePage({ ...page, requestId: 'q-8' }, 'q-7', 'node'),
      BadResponseError,
    );
    assert.throws(
      () => checkStorePage({ ...page, statusCode: 429, requestId: 'anything' }, 'q-7', 'node'),
      RateLimitedError,
    );
  });
});

describe("the local node's rate-limit fault", () => {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let client: Libp2p;

  beforeAll(async () => {
    node = await startTestNode();
    client = await startRawClient();
  });

  afterAll(async () => {
    await client.stop();
    await node.stop();
    node.removeDataDir();
  });

  async function rawReply(request: Uint8Array): Promise<number[]> {
    const stream = await openStream(client, node.tcpAddress, STORE_QUERY_PROTOCOL);
    await writeLengthPrefixed(stream, request);
    const reply = await readLengthPrefixed(stream, {
      maxBytes: MAX_STORE_RESPONSE_BYTES,
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    return [...reply];
  }

  it('writes the very bytes nwaku writes when it sheds a query', async () => {
    node.faults.set({ storeErrorRate: 1, storeErrorCode: 429 });
    try {
      const reply = await rawReply(
        encodeStoreQueryRequest({ requestId: 'mine', includeData: false }),
      );
      assert.deepEqual(reply, NWAKU_RATE_LIMITED);
    } finally {
      node.faults.clear();
    }
  });

  it('writes the empty request id of an error reply, as nwaku does, even for an undecodable request', async () => {
    // Field 1 announced as length-delimited with a length running past the end.
    const reply = await rawReply(Uint8Array.of(0x0a, 0xff, 0x01, 0x41));
    assert.deepEqual(reply.slice(0, 2), [0x0a, 0x00], 'request_id present, empty');
    assert.deepEqual(reply.slice(2, 5), [0x50, 0x90, 0x03], 'status 400');
  });

  it('is classified as rate limited by the dialer', async () => {
    const dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [32] });
    node.faults.set({ storeErrorRate: 1, storeErrorCode: 429 });
    try {
      await assert.rejects(
        dialer.storeQuery(
          node.tcpAddress,
          { includeData: false },
          { signal: AbortSignal.timeout(CALL_TIMEOUT_MS) },
        ),
        RateLimitedError,
      );
    } finally {
      node.faults.clear();
      await dialer.stop();
    }
  });
});
