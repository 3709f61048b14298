// RFC 14 message hashes against the RFC's and nwaku's published vectors, and RFC 51 autosharding against go-waku/nwaku's known shard.
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

// The vectors of nwaku's own tests (tests/waku_core/test_message_digest.nim): pubsub topic
// /waku/2/rs/0/0, the same payload, content topic and timestamp as RFC 14's.
const NWAKU = { ...RFC14, pubsubTopic: '/waku/2/rs/0/0' };

describe("nwaku's message hash vectors", () => {
  it('spells the inputs as nwaku does', () => {
    assert.equal(Buffer.from(NWAKU.pubsubTopic).toString('hex'), '2f77616b752f322f72732f302f30');
    assert.equal(
      Buffer.from(NWAKU.contentTopic).toString('hex'),
      '2f77616b752f322f64656661756c742d636f6e74656e742f70726f746f',
    );
    assert.equal(NWAKU.timestamp, 1681964442n * 1_000_000_000n);
  });

  it('matches the vector with an empty meta', () => {
    assert.equal(
      messageHashHex(NWAKU.pubsubTopic, { ...NWAKU, meta: new Uint8Array(0) }),
      '0xcccab07fed94181c83937c8ca8340c9108492b7ede354a6d95421ad34141fd37',
    );
  });

  it('matches the vector with a 12-byte meta', () => {
    assert.equal(
      messageHashHex(NWAKU.pubsubTopic, { ...NWAKU, meta: hex('73757065722d736563726574') }),
      '0xb9b4852f9d8c489846e8bfc6c5ca6a1a8d460a40d28832a966e029eb39619199',
    );
  });

  it('matches the vector with a 64-byte meta', () => {
    const meta = Uint8Array.from({ length: 64 }, (_, index) => index);
    assert.equal(
      messageHashHex(NWAKU.pubsubTopic, { ...NWAKU, meta }),
      '0x653460d04f66c5b11814d235152f4f246e6f03ef80a305a825913636fbafd0ba',
    );
  });

  it('matches the vector with a zero-length payload', () => {
    assert.equal(
      messageHashHex(NWAKU.pubsubTopic, {
        ...NWAKU,
        payload: new Uint8Array(0),
        meta: hex('73757065722d736563726574'),
      }),
      '0x0f6448cc23b2db6c696aa6ab4b693eff4cf3549ff346fe1dbeb281697396a09f',
    );
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
