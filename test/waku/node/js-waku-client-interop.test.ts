// The official js-waku light client (ws + mplex, its own metadata handshake) pages through the node's history.
import assert from 'node:assert/strict';
import { multiaddr } from '@multiformats/multiaddr';
import { createDecoder, createLightNode, utils } from '@waku/sdk';
import { describe, it } from 'vitest';
import { pubsubTopic } from '../../../waku/protocols.ts';
import { CLUSTER_ID, startTestNode, TEST_TIMEOUT_MS, withDeadline } from './fixtures.ts';

const CONTENT_TOPIC = '/interop/1/chat/proto';
const MESSAGE_COUNT = 25;
const PAGE_SIZE = 10;

describe('js-waku light client against the store node', () => {
  it('pages through the archive in order over websocket and mplex', async () => {
    const node = await startTestNode();
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    for (let index = 0; index < MESSAGE_COUNT; index++) {
      await node.publish({
        contentTopic: CONTENT_TOPIC,
        payload: Uint8Array.of(index),
        timestampNs: nowNs - BigInt(MESSAGE_COUNT - index) * 1_000_000n,
        pubsubTopic: pubsubTopic(CLUSTER_ID, 32),
      });
    }
    const waku = await createLightNode({
      networkConfig: { clusterId: CLUSTER_ID, shards: [1, 32] } as never,
      defaultBootstrap: false,
      // js-waku only dials wss:// unless told otherwise; loopback is plain ws.
      libp2p: { hideWebSocketInfo: true, filterMultiaddrs: false } as never,
    });
    try {
      await waku.start();
      // Waits on identify itself: js-waku's waitForPeers leaves its timeout timer running.
      const identified = new Promise<void>((resolve) => {
        waku.libp2p.addEventListener('peer:identify', (event) => {
          if (event.detail.peerId.toString() === node.peerId) resolve();
        });
      });
      await waku.dial(multiaddr(node.websocketAddress) as never);
      await withDeadline(identified, TEST_TIMEOUT_MS, 'js-waku identifying the node');
      const decoder = createDecoder(
        CONTENT_TOPIC,
        utils.createRoutingInfo({ clusterId: CLUSTER_ID } as never, { shardId: 32 } as never),
      );
      const payloads: number[] = [];
      let pages = 0;
      for await (const page of waku.store.queryGenerator([decoder], {
        paginationLimit: PAGE_SIZE,
      })) {
        pages += 1;
        for (const pending of page) {
          const message = await pending;
          if (message) payloads.push(message.payload[0] as number);
        }
      }
      assert.deepEqual(
        payloads,
        Array.from({ length: MESSAGE_COUNT }, (_, index) => index),
      );
      assert.ok(pages >= Math.ceil(MESSAGE_COUNT / PAGE_SIZE), `only ${pages} pages`);
    } finally {
      await waku.stop();
      await node.stop();
      node.removeDataDir();
    }
  });
});
