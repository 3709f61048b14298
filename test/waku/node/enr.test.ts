// The node's ENR decodes with js-waku's decoder: signature, peer id, addresses, capabilities and shards.
import assert from 'node:assert/strict';
import { EnrDecoder } from '@waku/enr';
import { describe, it } from 'vitest';
import { EnrError, encodeEnr } from '../../../waku/node/enr.ts';
import { loadOrCreateNodeKey } from '../../../waku/node/node-key.ts';
import { DebugInfoSchema } from '../../../waku/rest-schemas.ts';
import { CLUSTER_ID, makeTempDir, SHARDS, startTestNode } from './fixtures.ts';

describe('node ENR', () => {
  it('is served by /debug/v1/info and decodes to the node it describes', async () => {
    const node = await startTestNode();
    try {
      const info = DebugInfoSchema.parse(
        await (await fetch(`${node.restUrl}/debug/v1/info`)).json(),
      );
      assert.equal(info.enrUri, node.enr);
      const enr = await EnrDecoder.fromString(info.enrUri as string);
      assert.equal(enr.peerId?.toString(), node.peerId);
      assert.equal(enr.ip, '127.0.0.1');
      assert.equal(enr.tcp, Number(/\/tcp\/(\d+)\//.exec(node.tcpAddress)?.[1]));
      assert.deepEqual(enr.waku2, { relay: true, store: true, filter: false, lightPush: false });
      assert.deepEqual(enr.shardInfo, { clusterId: CLUSTER_ID, shards: SHARDS });
      assert.deepEqual(enr.multiaddrs?.map(String), [
        node.websocketAddress.replace(/\/p2p\/.*$/, ''),
      ]);
    } finally {
      await node.stop();
      node.removeDataDir();
    }
  });

  it('fails signature verification once tampered with', async () => {
    const dir = makeTempDir('enr');
    try {
      const enr = encodeEnr(loadOrCreateNodeKey(dir.path), {
        seq: 1n,
        ip4: '10.0.0.1',
        tcpPort: 30303,
        multiaddrs: [],
        clusterId: 16,
        shards: [1, 32, 64, 128, 256],
        capabilities: 3,
      });
      assert.equal((await EnrDecoder.fromString(enr)).ip, '10.0.0.1');
      const flipped = enr.slice(0, 40) + (enr[40] === 'A' ? 'B' : 'A') + enr.slice(41);
      await assert.rejects(EnrDecoder.fromString(flipped));
    } finally {
      dir.remove();
    }
  });

  it('refuses a record above the 300-byte cap', () => {
    const dir = makeTempDir('enr-big');
    try {
      assert.throws(
        () =>
          encodeEnr(loadOrCreateNodeKey(dir.path), {
            seq: 1n,
            ip4: '10.0.0.1',
            tcpPort: 30303,
            multiaddrs: [],
            clusterId: 16,
            shards: Array.from({ length: 200 }, (_, index) => index),
            capabilities: 3,
          }),
        EnrError,
      );
    } finally {
      dir.remove();
    }
  });
});
