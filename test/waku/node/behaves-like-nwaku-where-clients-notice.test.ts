// Where a client or prober would notice a difference, the local node does what nwaku does: clock drift, gossip ids, metadata checks, REST paths.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, it } from 'vitest';
import { MAX_TIMESTAMP_DRIFT_MS, relayMessageId } from '../../../waku/node/store-node.ts';
import { METADATA_PROTOCOL } from '../../../waku/protocols.ts';
import {
  decodeMetadata,
  encodeMetadata,
  MAX_METADATA_BYTES,
  readLengthPrefixed,
  writeLengthPrefixed,
} from '../../../waku/wire.ts';
import {
  CLUSTER_ID,
  NS_PER_MS,
  startRawClient,
  startTestNode,
  TEST_TIMEOUT_MS,
  withDeadline,
} from './fixtures.ts';

const NOW_MS = 1_760_000_000_000;
const nowNs = BigInt(NOW_MS) * NS_PER_MS;
const driftNs = BigInt(MAX_TIMESTAMP_DRIFT_MS) * NS_PER_MS;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function nwakuLikeNode() {
  // The fixture's default lets tests archive any timestamp; this node keeps nwaku's 20 s rule.
  const node = await startTestNode({
    clock: () => NOW_MS,
    maxTimestampDriftMs: MAX_TIMESTAMP_DRIFT_MS,
  });
  cleanups.push(async () => {
    await node.stop();
    node.removeDataDir();
  });
  return node;
}

describe('a local node, where nwaku behaviour shows', () => {
  it('archives only messages within 20 s of its clock, as nwaku (timestamp 0 included)', async () => {
    const node = await nwakuLikeNode();
    const publish = (timestampNs: bigint, payload: number) =>
      node.publish({
        contentTopic: '/drift/1/a/proto',
        payload: Uint8Array.of(payload),
        timestampNs,
      });
    await publish(nowNs, 1);
    await publish(nowNs - driftNs, 2);
    await publish(nowNs + driftNs, 3);
    await publish(nowNs - driftNs - 1n, 4);
    await publish(nowNs + driftNs + 1n, 5);
    await publish(0n, 6);
    assert.equal(node.archivedCount(), 3, 'now and both edges of the window; the rest is refused');
  });

  it('ids gossip messages by sha256 of the data alone', () => {
    const data = Uint8Array.of(1, 2, 3);
    assert.deepEqual(
      Buffer.from(relayMessageId(data)).toString('hex'),
      createHash('sha256').update(data).digest('hex'),
    );
  });

  it('asks a new peer for its metadata and hangs up on one of another cluster', async () => {
    const node = await nwakuLikeNode();
    const peers: Array<{ cluster: number; closed: Promise<boolean> }> = [];
    for (const cluster of [CLUSTER_ID + 1, CLUSTER_ID]) {
      const client = await startRawClient();
      cleanups.push(async () => {
        await client.stop();
      });
      let asked = false;
      await client.handle(METADATA_PROTOCOL, async (stream: Stream) => {
        asked = true;
        await readLengthPrefixed(stream, {
          maxBytes: MAX_METADATA_BYTES,
          signal: AbortSignal.timeout(TEST_TIMEOUT_MS),
        }).then(decodeMetadata);
        await writeLengthPrefixed(stream, encodeMetadata({ clusterId: cluster, shards: [32] }));
        await stream.close();
      });
      const connection = await client.dial(multiaddr(node.tcpAddress));
      const closed = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 2_000);
        client.addEventListener('connection:close', (event) => {
          if (event.detail.id === connection.id) {
            clearTimeout(timer);
            resolve(asked);
          }
        });
      });
      peers.push({ cluster, closed });
    }
    const [other, same] = peers as [(typeof peers)[0], (typeof peers)[0]];
    assert.equal(
      await withDeadline(other.closed, TEST_TIMEOUT_MS, 'hang-up'),
      true,
      'asked, then dropped',
    );
    assert.equal(await same.closed, false, 'a peer of our cluster stays connected');
  });

  it('serves /info and /version beside the deprecated /debug/v1 paths, with the same bodies', async () => {
    const node = await nwakuLikeNode();
    for (const [current, deprecated] of [
      ['/info', '/debug/v1/info'],
      ['/version', '/debug/v1/version'],
    ] as const) {
      const now = await fetch(`${node.restUrl}${current}`);
      const old = await fetch(`${node.restUrl}${deprecated}`);
      assert.equal(now.status, 200, current);
      assert.equal(await now.text(), await old.text(), `${current} = ${deprecated}`);
    }
    const info = (await (await fetch(`${node.restUrl}/info`)).json()) as { enrUri?: string };
    assert.match(info.enrUri ?? '', /^enr:/);
  });
});
