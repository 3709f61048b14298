// Each injected fault has an observable effect over libp2p and REST, and the random ones are reproducible per seed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Libp2p } from 'libp2p';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { hex0xToBytes } from '../../../waku/message-hash.ts';
import { FaultController } from '../../../waku/node/faults.ts';
import { PING_PROTOCOL, pubsubTopic } from '../../../waku/protocols.ts';
import { ActiveFaultsSchema, StoreQueryResponseSchema } from '../../../waku/rest-schemas.ts';
import {
  CLUSTER_ID,
  openStream,
  startRawClient,
  startTestNode,
  storeQuery,
  TEST_TIMEOUT_MS,
  withDeadline,
} from './fixtures.ts';

const ADMIN = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
const LATENCY_MS = 400;

async function pingOnce(client: Libp2p, address: string): Promise<void> {
  const stream = await openStream(client, address, PING_PROTOCOL);
  stream.send(randomBytes(32));
  let received = 0;
  for await (const chunk of stream) {
    received += chunk.byteLength;
    if (received >= 32) break;
  }
  await stream.close();
}

describe('fault injection on a running node', () => {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let client: Libp2p;

  beforeAll(async () => {
    node = await startTestNode({ seed: 42 });
    client = await startRawClient();
    await node.publish({ contentTopic: '/faults/1/a/proto', payload: Uint8Array.of(1) });
  });

  afterAll(async () => {
    await client?.stop();
    await node?.stop();
    node?.removeDataDir();
  });

  it('latencyMs delays pings, store queries and REST until cleared', async () => {
    const set = await fetch(`${node.restUrl}/admin/v1/faults`, {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ latencyMs: LATENCY_MS }),
    });
    assert.equal(ActiveFaultsSchema.parse(await set.json()).latencyMs, LATENCY_MS);

    let started = performance.now();
    await pingOnce(client, node.tcpAddress);
    assert.ok(performance.now() - started >= LATENCY_MS - 5, 'ping was not delayed');
    started = performance.now();
    await storeQuery(client, node.tcpAddress, {});
    assert.ok(performance.now() - started >= LATENCY_MS - 5, 'store query was not delayed');
    started = performance.now();
    await fetch(`${node.restUrl}/health`).then((reply) => reply.text());
    assert.ok(performance.now() - started >= LATENCY_MS - 5, 'REST was not delayed');

    await fetch(`${node.restUrl}/admin/v1/faults`, { method: 'DELETE', headers: ADMIN });
    started = performance.now();
    await storeQuery(client, node.tcpAddress, {});
    assert.ok(performance.now() - started < LATENCY_MS, 'latency outlived DELETE');
  });

  it('storeErrorRate answers store queries with the chosen status code', async () => {
    node.faults.set({ storeErrorRate: 1, storeErrorCode: 503 });
    const unavailable = await storeQuery(client, node.tcpAddress, { requestId: 'x' });
    assert.equal(unavailable.statusCode, 503);
    assert.equal(unavailable.requestId, '', 'nwaku leaves the request id of an error reply empty');
    const restUnavailable = StoreQueryResponseSchema.parse(
      await (await fetch(`${node.restUrl}/store/v3/messages`)).json(),
    );
    assert.equal(restUnavailable.statusCode, 503);

    node.faults.set({ storeErrorCode: 429 });
    const limited = await storeQuery(client, node.tcpAddress, { requestId: 'y' });
    assert.deepEqual(
      [limited.requestId, limited.statusCode, limited.statusDesc],
      ['N/A', 429, 'TOO_MANY_REQUESTS'],
      "nwaku's rate-limit reply, written before the request is read",
    );
    const restLimited = await fetch(`${node.restUrl}/store/v3/messages`);
    assert.equal(restLimited.status, 429, 'nwaku turns a 429 store answer into HTTP 429');
    await restLimited.text();

    node.faults.clear();
    assert.equal((await storeQuery(client, node.tcpAddress, {})).statusCode, 200);
  });

  it('stall accepts streams and requests but answers none until lifted', async () => {
    node.faults.set({ stall: true });
    await assert.rejects(
      fetch(`${node.restUrl}/health`, { signal: AbortSignal.timeout(300) }),
      (error: Error) => error.name === 'TimeoutError',
    );
    const stream = await openStream(client, node.tcpAddress, PING_PROTOCOL);
    stream.send(randomBytes(32));
    const pending = fetch(`${node.restUrl}/health`);
    const pingAnswered = (async () => {
      for await (const _chunk of stream) return true;
      return false;
    })();
    // The admin route stays usable during a stall: that is how the stall is lifted.
    const lifted = await fetch(`${node.restUrl}/admin/v1/faults`, {
      method: 'POST',
      headers: ADMIN,
      body: JSON.stringify({ stall: false }),
    });
    assert.equal(lifted.status, 200);
    assert.equal((await withDeadline(pending, TEST_TIMEOUT_MS, 'stalled REST reply')).status, 200);
    assert.equal(await withDeadline(pingAnswered, TEST_TIMEOUT_MS, 'stalled ping reply'), true);
    await stream.close();
  });
});

describe('dropArchiveRate leaves holes in a relaying node', () => {
  it('skips relayed messages while on, and archives again once off', async () => {
    const [nodeA, nodeB] = await Promise.all([startTestNode(), startTestNode()]);
    try {
      await nodeA.connect(nodeB.tcpAddress);
      nodeB.faults.set({ dropArchiveRate: 1 });
      const topic = pubsubTopic(CLUSTER_ID, 1);
      const dropped = await nodeA.publish({
        contentTopic: '/faults/1/hole/proto',
        payload: Uint8Array.of(1),
        pubsubTopic: topic,
      });
      await nodeB.waitForRelayed(dropped, TEST_TIMEOUT_MS);
      nodeB.faults.clear();
      const kept = await nodeA.publish({
        contentTopic: '/faults/1/hole/proto',
        payload: Uint8Array.of(2),
        pubsubTopic: topic,
      });
      await nodeB.waitForMessage(kept, TEST_TIMEOUT_MS);
      const client = await startRawClient();
      try {
        const reply = await storeQuery(client, nodeB.tcpAddress, {
          messageHashes: [hex0xToBytes(dropped) as Uint8Array, hex0xToBytes(kept) as Uint8Array],
        });
        assert.deepEqual(
          reply.messages.map((entry) => Buffer.from(entry.messageHash ?? []).toString('hex')),
          [kept.slice(2)],
        );
      } finally {
        await client.stop();
      }
      assert.equal(nodeA.archivedCount(), 2, 'the publisher itself was not faulty');
    } finally {
      await Promise.all([nodeA.stop(), nodeB.stop()]);
      nodeA.removeDataDir();
      nodeB.removeDataDir();
    }
  });
});

describe('crash fault', () => {
  it('stops an in-process node: its REST port stops answering', async () => {
    const node = await startTestNode();
    try {
      const reply = await fetch(`${node.restUrl}/admin/v1/faults`, {
        method: 'POST',
        headers: ADMIN,
        body: '{"crash": true}',
      });
      assert.equal(reply.status, 202);
      await reply.text();
      const deadline = Date.now() + TEST_TIMEOUT_MS;
      let refused = false;
      while (!refused && Date.now() < deadline) {
        refused = await fetch(`${node.restUrl}/health`, { signal: AbortSignal.timeout(500) }).then(
          async (response) => {
            await response.text();
            return response.status === 503;
          },
          () => true,
        );
      }
      assert.ok(refused, 'node still answered after the crash fault');
    } finally {
      await node.stop();
      node.removeDataDir();
    }
  });
});

describe('seeded fault randomness', () => {
  it('repeats the same failures for the same seed and differs across seeds', () => {
    const outcomes = (seed: number) => {
      const faults = new FaultController({ seed });
      faults.set({ storeErrorRate: 0.5, dropArchiveRate: 0.5 });
      return Array.from({ length: 40 }, (_, index) =>
        index % 2 === 0 ? String(faults.storeFailure() ?? 200) : String(faults.dropFromArchive()),
      ).join(',');
    };
    assert.equal(outcomes(7), outcomes(7));
    assert.notEqual(outcomes(7), outcomes(8));
    const sample = outcomes(7).split(',');
    assert.ok(sample.includes('503') && sample.includes('200'), 'rate 0.5 should give both');
    assert.ok(sample.includes('true') && sample.includes('false'));
  });
});
