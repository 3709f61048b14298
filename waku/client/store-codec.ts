// Translates StoreQuery / StoreQueryPage to and from the store v3 protobufs (official @waku/proto encoders via waku/wire.ts).
import { BadResponseError, RateLimitedError, StoreError } from '../errors.ts';
import { bytesToHex0x, hex0xToBytes } from '../message-hash.ts';
import { STORE_ANONYMOUS_REQUEST_IDS, STORE_STATUS } from '../protocols.ts';
import {
  decodeStoreQueryResponse,
  encodeStoreQueryRequest,
  type WakuMessageKeyValue,
  WireFormatError,
} from '../wire.ts';
import type { StoredMessage, StoreQuery, StoreQueryPage } from './store-types.ts';

/** RFC 14 hashes are sha256 digests. */
const MESSAGE_HASH_BYTES = 32;

function hexToBytes(hex: string, what: string): Uint8Array {
  const bytes = hex0xToBytes(hex);
  if (bytes === undefined) {
    throw new TypeError(`${what} "${hex}" is not 0x-prefixed hex (expected e.g. 0x0a1b...)`);
  }
  return bytes;
}

/** Throws TypeError on malformed hex: that is the caller's mistake, caught before any I/O. */
export function encodeStoreQuery(query: StoreQuery, requestId: string): Uint8Array {
  return encodeStoreQueryRequest({
    requestId,
    includeData: query.includeData,
    pubsubTopic: query.pubsubTopic,
    contentTopics: query.contentTopics ?? [],
    timeStart: query.timeStartNs,
    timeEnd: query.timeEndNs,
    messageHashes: (query.messageHashes ?? []).map((hash) => hexToBytes(hash, 'message hash')),
    paginationCursor: query.cursor === undefined ? undefined : hexToBytes(query.cursor, 'cursor'),
    paginationForward: query.forward ?? true,
    paginationLimit: query.pageSize === undefined ? undefined : BigInt(query.pageSize),
  });
}

function toStoredMessage(
  entry: WakuMessageKeyValue,
  address: string,
  index: number,
): StoredMessage {
  if (entry.messageHash?.byteLength !== MESSAGE_HASH_BYTES) {
    throw new BadResponseError(
      address,
      `messages[${index}] has a ${entry.messageHash?.byteLength ?? 0}-byte hash, expected ${MESSAGE_HASH_BYTES}`,
    );
  }
  const stored: StoredMessage = { hash: bytesToHex0x(entry.messageHash) };
  if (entry.pubsubTopic !== undefined) stored.pubsubTopic = entry.pubsubTopic;
  const message = entry.message;
  if (message !== undefined) {
    // Copies: protons hands out views of the whole reply frame, which would pin it in memory.
    stored.message = {
      payload: new Uint8Array(message.payload),
      contentTopic: message.contentTopic,
    };
    if (message.version !== undefined) stored.message.version = message.version;
    if (message.timestamp !== undefined) stored.message.timestampNs = message.timestamp;
    if (message.meta !== undefined) stored.message.meta = new Uint8Array(message.meta);
    if (message.ephemeral === true) stored.message.ephemeral = true;
  }
  return stored;
}

/** Decodes a response; undecodable bytes and malformed entries are BadResponseError. */
export function decodeStoreResponse(bytes: Uint8Array, address: string): StoreQueryPage {
  let response: ReturnType<typeof decodeStoreQueryResponse>;
  try {
    response = decodeStoreQueryResponse(bytes);
  } catch (error) {
    if (error instanceof WireFormatError) throw new BadResponseError(address, error.message, error);
    throw error;
  }
  if (response.statusCode === undefined) {
    throw new BadResponseError(address, 'store reply carries no status code');
  }
  const page: StoreQueryPage = {
    requestId: response.requestId,
    statusCode: response.statusCode,
    statusDesc: response.statusDesc ?? '',
    messages: response.messages.map((entry, index) => toStoredMessage(entry, address, index)),
  };
  if (response.paginationCursor !== undefined && response.paginationCursor.byteLength > 0) {
    page.cursor = bytesToHex0x(response.paginationCursor);
  }
  return page;
}

/**
 * Judges a decoded reply to the query sent as `requestId`: the page itself on 200, else a typed error.
 * A 429 is rate limiting whatever its request id (nwaku says "N/A" there, as it never reads the
 * request); otherwise the reply must carry our id, "" or "N/A", as go-waku accepts.
 *
 * @example
 * const page = checkStorePage(decodeStoreResponse(bytes, address), requestId, address);
 */
export function checkStorePage(
  page: StoreQueryPage,
  requestId: string,
  address: string,
): StoreQueryPage {
  if (page.statusCode === STORE_STATUS.tooManyRequests) {
    throw new RateLimitedError(address, page.statusCode);
  }
  if (page.requestId !== requestId && !STORE_ANONYMOUS_REQUEST_IDS.includes(page.requestId)) {
    throw new BadResponseError(
      address,
      `reply is for request "${page.requestId}", expected "${requestId}"`,
    );
  }
  if (page.statusCode !== STORE_STATUS.ok) {
    throw new StoreError(address, page.statusCode, page.statusDesc);
  }
  return page;
}
