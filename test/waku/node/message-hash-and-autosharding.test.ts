// RFC 14 message hashes against the RFC's published vectors, and RFC 51 autosharding against go-waku/nwaku's known shard.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { bytesToHex0x, hex0xToBytes, messageHashHex } from '../../../waku/message-hash.ts';
import { autoshard, autoshardIndex, ContentTopicError } from '../../../waku/node/autosharding.ts';

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'));
// Inputs and expected hashes as published in RFC 14/WAKU2-MESSAGE, "Test vectors".
const RFC14 = {
  pubsubTopic: '/waku/2/default-waku/proto',
  payload: hex('010203045445535405060708'),
  contentTopic: '/waku/2/default-content/proto',
  timestamp: 0x175789bfa23f8400n,
};

describe('RFC 14 message hash', () => {
  it('matches the vector with a 12-byte meta', () => {
    const hash = messageHashHex(RFC14.pubsubTopic, {
      ...RFC14,
      meta: hex('73757065722d736563726574'),
    });
    assert.equal(hash, '0x64cce733fed134e83da02b02c6f689814872b1a0ac97ea56b76095c3c72bfe05');
  });

  it('matches the vector with a 64-byte meta', () => {
    const meta = Uint8Array.from({ length: 64 }, (_, index) => index);
    const hash = messageHashHex(RFC14.pubsubTopic, { ...RFC14, meta });
    assert.equal(hash, '0x7158b6498753313368b9af8f6e0a0a05104f68f972981da42a43bc53fb0c1b27');
  });

  it('matches the vector without meta', () => {
    const hash = messageHashHex(RFC14.pubsubTopic, RFC14);
    assert.equal(hash, '0xa2554498b31f5bcdfcbf7fa58ad1c2d45f0254f3f8110a85588ec3cf10720fd8');
  });

  it('matches the vector with an empty payload', () => {
    const hash = messageHashHex(RFC14.pubsubTopic, {
      ...RFC14,
      payload: new Uint8Array(0),
      meta: hex('73757065722d736563726574'),
    });
    assert.equal(hash, '0x483ea950cb63f9b9d6926b262bb36194d3f40a0463ce8446228350bd44e96de4');
  });

  it('round-trips 0x-hex and refuses odd or non-hex text', () => {
    const bytes = Uint8Array.from([0, 1, 254, 255]);
    assert.deepEqual(hex0xToBytes(bytesToHex0x(bytes)), bytes);
    assert.equal(hex0xToBytes('0xabc'), undefined);
    assert.equal(hex0xToBytes('0xzz'), undefined);
  });
});

describe('RFC 51 autosharding', () => {
  it('maps /toychat/2/huilong/proto to shard 3 of 8, as nwaku and go-waku test', () => {
    assert.equal(autoshardIndex('/toychat/2/huilong/proto', 8), 3);
    assert.equal(autoshardIndex('/0/toychat/2/huilong/proto', 8), 3);
  });

  it('uses only application and version, so topic names on one app share a shard', () => {
    assert.equal(
      autoshard('/status/1/chat-a/proto', [1, 32, 64]),
      autoshard('/status/1/chat-b/rlp', [1, 32, 64]),
    );
  });

  it("always picks one of the node's own shards when they are not 0..n-1", () => {
    for (const app of ['a', 'b', 'c', 'd', 'e', 'f']) {
      assert.ok([1, 32].includes(autoshard(`/${app}/1/t/proto`, [32, 1])));
    }
  });

  it('refuses malformed content topics and generations above 0', () => {
    for (const bad of [
      'toychat/2/huilong/proto',
      '/a/b/c',
      '/a//c/d',
      '/1/toychat/2/huilong/proto',
    ]) {
      assert.throws(() => autoshardIndex(bad, 8), ContentTopicError, bad);
    }
  });
});
