// Relay: a message published on one node reaches a connected node and lands in its archive.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { hex0xToBytes } from '../../../waku/message-hash.ts';
import { peerIdOfDataDir } from '../../../waku/node/node-key.ts';
import { pubsubTopic } from '../../../waku/protocols.ts';
import { StoreQueryResponseSchema } from '../../../waku/rest-schemas.ts';
import { CLUSTER_ID, makeTempDir, startRawClient, startTestNode, storeQuery } from './fixtures.ts';

describe('relay between two store nodes', () => {
  let nodeA: Awaited<ReturnType<typeof startTestNode>>;
  let nodeB: Awaited<ReturnType<typeof startTestNode>>;

  beforeAll(async () => {
    [nodeA, nodeB] = await Promise.all([startTestNode(), startTestNode()]);
    // connect() resolves once B's relay subscription reached A, so no publish can race the mesh.
    await nodeA.connect(nodeB.tcpAddress);
  });

  afterAll(async () => {
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
    nodeA?.removeDataDir();
    nodeB?.removeDataDir();
  });

  it('archives on B a message published on A, under the same hash', async () => {
    const hash = await nodeA.publish({
      contentTopic: '/relay-test/1/chat/proto',
      payload: new TextEncoder().encode('hello from A'),
      pubsubTopic: pubsubTopic(CLUSTER_ID, 32),
    });
    await nodeB.waitForMessage(hash, 5_000);

    const client = await startRawClient();
    try {
      const reply = await storeQuery(client, nodeB.tcpAddress, {
        includeData: true,
        messageHashes: [hex0xToBytes(hash) as Uint8Array],
      });
      assert.equal(reply.statusCode, 200);
      assert.equal(reply.messages.length, 1);
      assert.equal(new TextDecoder().decode(reply.messages[0]?.message?.payload), 'hello from A');
      assert.equal(reply.messages[0]?.pubsubTopic, pubsubTopic(CLUSTER_ID, 32));
    } finally {
      await client.stop();
    }
  });

  it("forwards a REST store query with peerAddr to the other node's archive", async () => {
    const hash = await nodeB.publish({
      contentTopic: '/relay-test/1/only-b/proto',
      payload: Uint8Array.of(9),
    });
    // Published on B and relayed to A too; ask A's REST to query B over libp2p, by hash.
    const reply = await fetch(
      `${nodeA.restUrl}/store/v3/messages?includeData=true&hashes=${hash}&peerAddr=${encodeURIComponent(nodeB.tcpAddress)}`,
    );
    assert.equal(reply.status, 200);
    const body = StoreQueryResponseSchema.parse(await reply.json());
    assert.deepEqual(
      body.messages.map((entry) => entry.messageHash),
      [hash],
    );
    const nobody = makeTempDir('nobody');
    const nobodyPeerId = peerIdOfDataDir(nobody.path);
    nobody.remove();
    const unreachable = await fetch(
      `${nodeA.restUrl}/store/v3/messages?peerAddr=${encodeURIComponent(`/ip4/127.0.0.1/tcp/1/p2p/${nobodyPeerId}`)}`,
    );
    assert.equal(unreachable.status, 500);
    assert.match(await unreachable.text(), /^peerAddr:/);
  });

  it('relays a REST auto-sharded publish on A to B', async () => {
    const before = nodeB.archivedCount();
    const reply = await fetch(`${nodeA.restUrl}/relay/v1/auto/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        payload: 'AQID',
        contentTopic: '/relay-test/1/auto/proto',
        timestamp: 1_700_000_000_000_000_000,
      }),
    });
    assert.equal(reply.status, 200);
    const stored = await fetch(
      `${nodeA.restUrl}/store/v3/messages?contentTopics=${encodeURIComponent('/relay-test/1/auto/proto')}`,
    ).then((response) => response.json() as Promise<{ messages: { messageHash: string }[] }>);
    const hash = stored.messages[0]?.messageHash;
    assert.ok(hash);
    await nodeB.waitForMessage(hash, 5_000);
    assert.equal(nodeB.archivedCount(), before + 1);
  });
});

describe('static relay peers', () => {
  it('meshes with a --peer that starts later and redials it after a restart', async () => {
    const dirA = makeTempDir('static-a');
    // A's key and ports are fixed up front so B can name A before A exists, as a fleet config does.
    const peerIdA = peerIdOfDataDir(dirA.path);
    const probe = await startTestNode();
    const portsFree = [probe.tcpAddress].map((address) =>
      Number(/\/tcp\/(\d+)\//.exec(address)?.[1]),
    );
    await probe.stop();
    probe.removeDataDir();
    const tcpPort = portsFree[0] as number;
    const addressA = `/ip4/127.0.0.1/tcp/${tcpPort}/p2p/${peerIdA}`;
    const nodeB = await startTestNode({ peers: [addressA] });
    let nodeA = await startTestNode({ dataDir: dirA.path, tcpPort });
    try {
      await nodeA.waitForRelayPeer(nodeB.peerId, 10_000);
      const first = await nodeA.publish({
        contentTopic: '/static/1/a/proto',
        payload: Uint8Array.of(1),
      });
      await nodeB.waitForMessage(first, 5_000);

      await nodeA.stop();
      nodeA = await startTestNode({ dataDir: dirA.path, tcpPort });
      await nodeA.waitForRelayPeer(nodeB.peerId, 10_000);
      const second = await nodeA.publish({
        contentTopic: '/static/1/a/proto',
        payload: Uint8Array.of(2),
      });
      await nodeB.waitForMessage(second, 5_000);
      assert.equal(nodeB.archivedCount(), 2);
    } finally {
      await Promise.all([nodeA.stop(), nodeB.stop()]);
      nodeB.removeDataDir();
      dirA.remove();
    }
  });
});
