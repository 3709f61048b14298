// The node's ENR (EIP-778 with the Waku keys of RFC 31): how nwaku advertises its addresses, capabilities and shards.
import type { PrivateKey } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';

/** EIP-778 caps an encoded record at 300 bytes. */
export const MAX_ENR_BYTES = 300;
/** RFC 31 `waku2` capability bits. */
export const WAKU2_CAPABILITY = { relay: 1, store: 2, filter: 4, lightpush: 8 } as const;

export interface EnrContent {
  /** Sequence number; bump it whenever the content changes. */
  seq: bigint;
  ip4: string;
  tcpPort: number;
  /** Extra addresses announced in the `multiaddrs` key (websocket listeners), without /p2p/. */
  multiaddrs: readonly string[];
  clusterId: number;
  shards: readonly number[];
  capabilities: number;
}

export class EnrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnrError';
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function bigEndian(value: bigint | number): Uint8Array {
  let rest = BigInt(value);
  const bytes: number[] = [];
  while (rest > 0n) {
    bytes.unshift(Number(rest & 0xffn));
    rest >>= 8n;
  }
  return Uint8Array.from(bytes);
}

function rlpLength(length: number, shortBase: number, longBase: number): Uint8Array {
  if (length <= 55) return Uint8Array.of(shortBase + length);
  const lengthBytes = bigEndian(length);
  return concat([Uint8Array.of(longBase + lengthBytes.byteLength), lengthBytes]);
}

function rlpBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength === 1 && (bytes[0] as number) < 0x80) return bytes;
  return concat([rlpLength(bytes.byteLength, 0x80, 0xb7), bytes]);
}

function rlpList(items: readonly Uint8Array[]): Uint8Array {
  const payload = concat(items.map(rlpBytes));
  return concat([rlpLength(payload.byteLength, 0xc0, 0xf7), payload]);
}

function u16(value: number): Uint8Array {
  return Uint8Array.of((value >> 8) & 0xff, value & 0xff);
}

function ip4Bytes(ip: string): Uint8Array {
  const parts = ip.split('.').map(Number);
  if (
    parts.length !== 4 ||
    parts.some((part) => !Number.isInteger(part) || part < 0 || part > 255)
  ) {
    throw new EnrError(`ip "${ip}" is not an IPv4 address`);
  }
  return Uint8Array.from(parts);
}

/** RFC 31 `multiaddrs`: each address as a 2-byte big-endian length followed by its binary form. */
function encodeMultiaddrs(addresses: readonly string[]): Uint8Array {
  return concat(
    addresses.flatMap((address) => {
      const bytes = multiaddr(address).bytes;
      return [u16(bytes.byteLength), bytes];
    }),
  );
}

/** RFC 51 `rs`: cluster (u16), shard count (u8), then each shard (u16), all big-endian. */
function encodeRelayShards(clusterId: number, shards: readonly number[]): Uint8Array {
  return concat([u16(clusterId), Uint8Array.of(shards.length), ...shards.map(u16)]);
}

/**
 * Builds and signs the node's record, returning its text form `enr:<base64url>`.
 *
 * @example
 * const enr = encodeEnr(privateKey, { seq: 1n, ip4: '127.0.0.1', tcpPort: 60000, multiaddrs: ['/ip4/127.0.0.1/tcp/8000/ws'], clusterId: 16, shards: [1, 32], capabilities: 3 });
 */
export function encodeEnr(privateKey: PrivateKey, content: EnrContent): string {
  if (privateKey.type !== 'secp256k1') {
    throw new EnrError(`ENR v4 needs a secp256k1 key, got ${privateKey.type}`);
  }
  const pairs: [string, Uint8Array][] = [
    ['id', new TextEncoder().encode('v4')],
    ['ip', ip4Bytes(content.ip4)],
    ['rs', encodeRelayShards(content.clusterId, content.shards)],
    ['secp256k1', privateKey.publicKey.raw],
    ['tcp', bigEndian(content.tcpPort)],
    ['waku2', Uint8Array.of(content.capabilities)],
  ];
  if (content.multiaddrs.length > 0)
    pairs.push(['multiaddrs', encodeMultiaddrs(content.multiaddrs)]);
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const body = pairs.flatMap(([key, value]) => [new TextEncoder().encode(key), value]);
  const unsigned = rlpList([bigEndian(content.seq), ...body]);
  const signature = secp256k1.sign(keccak_256(unsigned), privateKey.raw, { prehash: false });
  const record = rlpList([signature, bigEndian(content.seq), ...body]);
  if (record.byteLength > MAX_ENR_BYTES) {
    throw new EnrError(
      `record is ${record.byteLength} bytes, above EIP-778's ${MAX_ENR_BYTES} (too many shards or addresses)`,
    );
  }
  return `enr:${Buffer.from(record).toString('base64url')}`;
}
