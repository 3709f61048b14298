// Wire codecs shared by the Waku clients and the local store node: capped length-prefixed reads, store and metadata protobufs.
import type { MessageStream } from '@libp2p/interface';
import { proto_metadata, proto_store } from '@waku/proto';
import { Uint8ArrayList } from 'uint8arraylist';
import { STORE_MAX_PAGE_SIZE } from './protocols.ts';

export type StoreQueryRequest = proto_store.StoreQueryRequest;
export type StoreQueryResponse = proto_store.StoreQueryResponse;
export type WakuMessageKeyValue = proto_store.WakuMessageKeyValue;
export type WakuMessage = proto_store.WakuMessage;
export type WakuMetadata = proto_metadata.WakuMetadataRequest;

/** Largest store request a node accepts: 100 hashes, 10 topics and a cursor fit in a few KiB. */
export const MAX_STORE_REQUEST_BYTES = 64 * 1024;
/** Largest store response a client accepts: a full page of messages near relay's 150 KiB cap. */
export const MAX_STORE_RESPONSE_BYTES = 32 * 1024 * 1024;
/** Metadata carries a cluster id and at most a thousand or so shard numbers. */
export const MAX_METADATA_BYTES = 8 * 1024;
/** Repeated-field caps applied while decoding, so a hostile peer cannot make us allocate without bound. */
export const MAX_CONTENT_TOPICS_DECODED = 100;
export const MAX_MESSAGE_HASHES_DECODED = 1000;
export const MAX_SHARDS_DECODED = 1024;
/** A varint length prefix above 5 bytes would announce more than 32 GiB: refuse before buffering. */
const MAX_VARINT_BYTES = 5;

/** A frame or protobuf that cannot be read: malformed, too large or cut short. */
export class WireFormatError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WireFormatError';
  }
}

export class FrameTooLargeError extends WireFormatError {
  readonly lengthBytes: number;
  readonly maxBytes: number;
  constructor(lengthBytes: number, maxBytes: number) {
    super(`peer announced a ${lengthBytes}-byte frame, above the ${maxBytes}-byte cap`);
    this.name = 'FrameTooLargeError';
    this.lengthBytes = lengthBytes;
    this.maxBytes = maxBytes;
  }
}

export interface FrameReadOptions {
  maxBytes: number;
  signal?: AbortSignal;
}

function encodeVarint(value: number): Uint8Array {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Uint8Array.from(out);
}

/** Decodes the length prefix; undefined while more bytes are needed. */
function decodeVarint(buffer: Uint8ArrayList): { value: number; size: number } | undefined {
  let value = 0;
  let multiplier = 1;
  for (let index = 0; index < buffer.byteLength; index++) {
    if (index >= MAX_VARINT_BYTES)
      throw new WireFormatError('length prefix is longer than 5 bytes');
    const byte = buffer.get(index);
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return { value, size: index + 1 };
    multiplier *= 128;
  }
  return undefined;
}

/**
 * Reads one unsigned-varint length-prefixed frame from a libp2p stream, refusing frames above `maxBytes`.
 * Aborting `signal` aborts the stream, since js-libp2p streams can otherwise wait forever.
 *
 * @example
 * const bytes = await readLengthPrefixed(stream, { maxBytes: MAX_STORE_REQUEST_BYTES, signal: AbortSignal.timeout(5000) });
 */
export async function readLengthPrefixed(
  stream: MessageStream,
  options: FrameReadOptions,
): Promise<Uint8Array> {
  const { maxBytes, signal } = options;
  signal?.throwIfAborted();
  const onAbort = (): void => {
    stream.abort(signal?.reason instanceof Error ? signal.reason : new Error('read aborted'));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const buffer = new Uint8ArrayList();
  let length: { value: number; size: number } | undefined;
  try {
    for await (const chunk of stream) {
      buffer.append(chunk);
      length ??= decodeVarint(buffer);
      if (length === undefined) continue;
      if (length.value > maxBytes) throw new FrameTooLargeError(length.value, maxBytes);
      if (buffer.byteLength >= length.size + length.value) {
        return buffer.subarray(length.size, length.size + length.value);
      }
    }
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  signal?.throwIfAborted();
  throw new WireFormatError(
    length === undefined
      ? 'stream ended before a length prefix arrived'
      : `stream ended after ${buffer.byteLength - length.size} of ${length.value} bytes`,
  );
}

/** Writes one length-prefixed frame, waiting for the muxer to drain when its buffer is full. */
export async function writeLengthPrefixed(
  stream: MessageStream,
  bytes: Uint8Array,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const frame = new Uint8ArrayList(encodeVarint(bytes.byteLength), bytes);
  if (!stream.send(frame)) await stream.onDrain(options);
}

function decodeOrThrow<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    throw new WireFormatError(
      `${what} is not a valid protobuf: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

export function encodeStoreQueryRequest(request: Partial<StoreQueryRequest>): Uint8Array {
  return proto_store.StoreQueryRequest.encode(request);
}

export function decodeStoreQueryRequest(bytes: Uint8Array | Uint8ArrayList): StoreQueryRequest {
  return decodeOrThrow('StoreQueryRequest', () =>
    proto_store.StoreQueryRequest.decode(bytes, {
      limits: {
        contentTopics: MAX_CONTENT_TOPICS_DECODED,
        messageHashes: MAX_MESSAGE_HASHES_DECODED,
      },
    }),
  );
}

/** Field 1 (request_id) with zero length: how nwaku writes an empty request id. */
const EMPTY_REQUEST_ID_FIELD = Uint8Array.of(0x0a, 0x00);

/**
 * Encodes a reply as nwaku does: nwaku writes request_id even when it is empty (its error replies),
 * where protobuf's proto3 rules would leave the field out, so readers that need the field find it.
 */
export function encodeStoreQueryResponse(response: Partial<StoreQueryResponse>): Uint8Array {
  const encoded = proto_store.StoreQueryResponse.encode(response);
  if (response.requestId !== undefined && response.requestId !== '') return encoded;
  const framed = new Uint8Array(EMPTY_REQUEST_ID_FIELD.byteLength + encoded.byteLength);
  framed.set(EMPTY_REQUEST_ID_FIELD);
  framed.set(encoded, EMPTY_REQUEST_ID_FIELD.byteLength);
  return framed;
}

export function decodeStoreQueryResponse(bytes: Uint8Array | Uint8ArrayList): StoreQueryResponse {
  return decodeOrThrow('StoreQueryResponse', () =>
    // A compliant node never sends more than a maximum page; a few extra tolerate off-by-one peers.
    proto_store.StoreQueryResponse.decode(bytes, {
      limits: { messages: STORE_MAX_PAGE_SIZE * 2 },
    }),
  );
}

export function encodeWakuMessage(message: Partial<WakuMessage>): Uint8Array {
  return proto_store.WakuMessage.encode(message);
}

export function decodeWakuMessage(bytes: Uint8Array | Uint8ArrayList): WakuMessage {
  return decodeOrThrow('WakuMessage', () => proto_store.WakuMessage.decode(bytes));
}

/** Request and response share one shape: `{cluster_id = 1, shards = 2}`. */
export function encodeMetadata(metadata: {
  clusterId: number;
  shards: readonly number[];
}): Uint8Array {
  return proto_metadata.WakuMetadataRequest.encode({
    clusterId: metadata.clusterId,
    shards: [...metadata.shards],
  });
}

export function decodeMetadata(bytes: Uint8Array | Uint8ArrayList): WakuMetadata {
  return decodeOrThrow('WakuMetadata', () =>
    proto_metadata.WakuMetadataRequest.decode(bytes, { limits: { shards: MAX_SHARDS_DECODED } }),
  );
}
