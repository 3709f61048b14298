// RFC 14 deterministic message hash: the key every store node and the completeness checker agree on.
import { createHash } from 'node:crypto';

export interface HashableMessage {
  payload: Uint8Array;
  contentTopic: string;
  meta?: Uint8Array | undefined;
  /** Nanoseconds; absent counts as 0, as nwaku hashes an unset int64. */
  timestamp?: bigint | undefined;
}

const HEX_PREFIX = '0x';

/**
 * `sha256(pubsub_topic || payload || content_topic || meta || timestamp as 8-byte big-endian)`.
 *
 * @example
 * const hash = computeMessageHash('/waku/2/rs/16/32', { payload, contentTopic: '/app/1/chat/proto', timestamp });
 */
export function computeMessageHash(pubsubTopic: string, message: HashableMessage): Uint8Array {
  const timestamp = new Uint8Array(8);
  // Two's complement keeps negative (bogus) sender timestamps hashable the way nwaku's int64 cast does.
  new DataView(timestamp.buffer).setBigUint64(
    0,
    BigInt.asUintN(64, message.timestamp ?? 0n),
    false,
  );
  return new Uint8Array(
    createHash('sha256')
      .update(pubsubTopic, 'utf8')
      .update(message.payload)
      .update(message.contentTopic, 'utf8')
      .update(message.meta ?? new Uint8Array(0))
      .update(timestamp)
      .digest(),
  );
}

/** The 0x-hex spelling nwaku's REST API uses for hashes and cursors. */
export function bytesToHex0x(bytes: Uint8Array): string {
  return HEX_PREFIX + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Parses 0x-hex (the prefix is optional); undefined when the text is not even-length hex. */
export function hex0xToBytes(text: string): Uint8Array | undefined {
  const hex = text.startsWith(HEX_PREFIX) || text.startsWith('0X') ? text.slice(2) : text;
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function messageHashHex(pubsubTopic: string, message: HashableMessage): string {
  return bytesToHex0x(computeMessageHash(pubsubTopic, message));
}
