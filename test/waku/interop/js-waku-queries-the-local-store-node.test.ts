// Interop: js-waku's own store client (@waku/sdk light node) dials the local store node over websockets and gets its history.
//
// How js-waku reaches a plain-ws loopback node: @waku/sdk 0.0.36 builds libp2p in
// dist/create/libp2p.js `defaultLibp2p`, with `webSockets({ filter })` where
// `filter = options.filterMultiaddrs === false || isTestEnvironment() ? all : wss`
// (isTestEnvironment() is NODE_ENV === 'test'). With the default `wss` filter every /ws address
// is dropped and no dial is attempted; `libp2p: { filterMultiaddrs: false }` selects `all`.
// js-waku offers only mplex (streamMuxers: [mplex()]), which the node accepts beside yamux.
// Store peers are chosen by PeerManager.getPeers: a connected peer whose identify lists the store
// codec and whose metadata shards (ShardReader.isPeerOnShard) contain the decoder's shard.
import assert from 'node:assert/strict';
import { createLightNode, type LightNode, Protocols } from '@waku/sdk';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { raceDeadline } from '../../../waku/client/deadline.ts';
import { createProbeDialer, type ProbeDialer } from '../../../waku/client/dialer.ts';
import {
  CLUSTER_ID,
  type LocalNode,
  PUBSUB_TOPIC,
  SHARD,
  startLocalNode,
} from '../client/local-node.ts';

const CONTENT_TOPIC = '/storefleet/1/interop/proto';
/** More than js-waku's page of 20, so its cursor handling is exercised too. */
const MESSAGE_COUNT = 30;
const FIRST_TIMESTAMP_MS = 1_700_000_000_000;
const NS_PER_MS = 1_000_000n;
/** js-waku's bootstrap discovery waits ~1 s before it announces the peer, then dials. */
const PEER_WAIT_MS = 10_000;
const TEST_TIMEOUT_MS = 30_000;

describe('js-waku queries the local store node', { timeout: TEST_TIMEOUT_MS }, () => {
  let local: LocalNode;
  let waku: LightNode | undefined;
  let dialer: ProbeDialer;
  const publishedHashes: string[] = [];

  beforeAll(async () => {
    local = await startLocalNode();
    dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [SHARD] });
    for (let index = 0; index < MESSAGE_COUNT; index++) {
      publishedHashes.push(
        await local.node.publish({
          contentTopic: CONTENT_TOPIC,
          payload: new TextEncoder().encode(`interop ${index}`),
          timestampNs: BigInt(FIRST_TIMESTAMP_MS + index) * NS_PER_MS,
          pubsubTopic: PUBSUB_TOPIC,
        }),
      );
    }
  });

  afterAll(async () => {
    await waku?.stop();
    await dialer.stop();
    await local.stop();
  });

  it('returns every message, in order, with the hashes the node computed', async () => {
    // Prepare
    waku = await createLightNode({
      networkConfig: { clusterId: CLUSTER_ID },
      defaultBootstrap: false,
      discovery: { dns: false, peerExchange: false, peerCache: false },
      bootstrapPeers: [local.node.websocketAddress],
      libp2p: { filterMultiaddrs: false, hideWebSocketInfo: true },
    });
    // waitForPeers(protocols, timeoutMs) leaves its timer running after success (rejectOnTimeout in
    // @waku/sdk dist/waku/wait_for_remote_peer.js never clears it), which holds the process for
    // the full timeout: wait without one and bound it with our own unref'd deadline instead.
    await raceDeadline(
      waku.waitForPeers([Protocols.Store]),
      AbortSignal.timeout(PEER_WAIT_MS),
      'js-waku finding a store peer',
    );
    const decoder = waku.createDecoder({ contentTopic: CONTENT_TOPIC, shardId: SHARD });

    // Act
    const received: { hash: string; text: string }[] = [];
    for await (const page of waku.store.queryGenerator([decoder], {
      // One window: js-waku splits longer ranges into 24 h sub-queries.
      timeStart: new Date(FIRST_TIMESTAMP_MS - 1000),
      timeEnd: new Date(FIRST_TIMESTAMP_MS + 60_000),
    })) {
      for (const pending of page) {
        const message = await pending;
        if (message !== undefined) {
          received.push({ hash: message.hashStr, text: new TextDecoder().decode(message.payload) });
        }
      }
    }

    // Assess
    assert.deepEqual(
      received.map((message) => message.text),
      publishedHashes.map((_hash, index) => `interop ${index}`),
    );
    assert.deepEqual(
      received.map((message) => message.hash),
      publishedHashes.map((hash) => hash.replace(/^0x/, '')),
    );
  });

  it('agrees with the same query made through our own @waku/proto client', async () => {
    // Act
    const hashes: string[] = [];
    for await (const page of dialer.storeQueryPages(
      local.node.websocketAddress,
      {
        includeData: true,
        pubsubTopic: PUBSUB_TOPIC,
        contentTopics: [CONTENT_TOPIC],
        timeStartNs: BigInt(FIRST_TIMESTAMP_MS - 1000) * NS_PER_MS,
        timeEndNs: BigInt(FIRST_TIMESTAMP_MS + 60_000) * NS_PER_MS,
      },
      { signal: AbortSignal.timeout(5000) },
    )) {
      hashes.push(...page.messages.map((message) => message.hash));
    }

    // Assess
    assert.deepEqual(hashes, publishedHashes);
  });
});
