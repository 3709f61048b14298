// Store v3 query semantics over the archive: filters, hash lookups, exclusive cursors and status codes, as nwaku answers them.
import {
  STORE_DEFAULT_PAGE_SIZE,
  STORE_MAX_PAGE_SIZE,
  STORE_RATE_LIMITED_DESC,
  STORE_RATE_LIMITED_REQUEST_ID,
  STORE_STATUS,
} from '../protocols.ts';
import type { StoreQueryRequest, StoreQueryResponse, WakuMessageKeyValue } from '../wire.ts';
import type { ArchivedMessage, MessageArchive } from './archive.ts';

/** nwaku refuses more content topics than this in one query. */
export const MAX_CONTENT_TOPICS_PER_QUERY = 10;
/** Hash lookups are bounded so one request cannot pin the database. */
export const MAX_HASHES_PER_QUERY = 100;
export const MESSAGE_HASH_BYTES = 32;

/** nwaku's error replies never echo the request id: it is left empty (and still written). */
function failure(statusCode: number, statusDesc: string): StoreQueryResponse {
  return { requestId: '', statusCode, statusDesc, messages: [] };
}

export function badRequest(statusDesc: string): StoreQueryResponse {
  return failure(STORE_STATUS.badRequest, statusDesc);
}

/** nwaku's rate-limit reply: written before the request is read, so its id is "N/A". */
export function rateLimited(): StoreQueryResponse {
  return {
    requestId: STORE_RATE_LIMITED_REQUEST_ID,
    statusCode: STORE_STATUS.tooManyRequests,
    statusDesc: STORE_RATE_LIMITED_DESC,
    messages: [],
  };
}

export function toKeyValue(message: ArchivedMessage, includeData: boolean): WakuMessageKeyValue {
  if (!includeData) return { messageHash: message.hash };
  return {
    messageHash: message.hash,
    pubsubTopic: message.pubsubTopic,
    message: {
      payload: message.payload,
      contentTopic: message.contentTopic,
      version: message.version,
      timestamp: message.timestampNs,
      ...(message.meta === undefined ? {} : { meta: message.meta }),
    },
  };
}

/** Effective page size: 0 or absent means the default; above the maximum is clamped, as nwaku does. */
export function pageSizeOf(limit: bigint | undefined): number {
  if (limit === undefined || limit <= 0n) return STORE_DEFAULT_PAGE_SIZE;
  return limit > BigInt(STORE_MAX_PAGE_SIZE) ? STORE_MAX_PAGE_SIZE : Number(limit);
}

/**
 * Answers one store query from the archive. Backward pages come back in ascending time order
 * (newest page first), and the cursor is the hash of the last message read in the query's direction.
 * Where nwaku and the RFC differ, this follows nwaku: both time bounds are inclusive, hash lookups
 * combined with topic filters are ANDed (the RFC forbids the combination, go-waku refuses it), and a
 * cursor that names no archived message is a 300 (bad response).
 *
 * @example
 * const response = answerStoreQuery(archive, { requestId: '1', includeData: true, contentTopics: ['/a/1/b/proto'], messageHashes: [], paginationForward: true });
 */
export function answerStoreQuery(
  archive: MessageArchive,
  request: StoreQueryRequest,
): StoreQueryResponse {
  const requestId = request.requestId;
  if (request.contentTopics.length > MAX_CONTENT_TOPICS_PER_QUERY) {
    return badRequest(
      `content_topics has ${request.contentTopics.length} entries, at most ${MAX_CONTENT_TOPICS_PER_QUERY} are allowed`,
    );
  }
  if (request.messageHashes.length > MAX_HASHES_PER_QUERY) {
    return badRequest(
      `message_hashes has ${request.messageHashes.length} entries, at most ${MAX_HASHES_PER_QUERY} are allowed`,
    );
  }
  if (request.messageHashes.some((hash) => hash.byteLength !== MESSAGE_HASH_BYTES)) {
    return badRequest(`message_hashes entries must be ${MESSAGE_HASH_BYTES} bytes`);
  }
  let after: { timestampNs: bigint; hash: Uint8Array } | undefined;
  if (request.paginationCursor !== undefined) {
    if (request.paginationCursor.byteLength !== MESSAGE_HASH_BYTES) {
      return badRequest(`pagination_cursor must be a ${MESSAGE_HASH_BYTES}-byte message hash`);
    }
    after = archive.positionOf(request.paginationCursor);
    if (after === undefined) {
      return failure(
        STORE_STATUS.badResponse,
        'pagination_cursor does not name an archived message',
      );
    }
  }
  const pageSize = pageSizeOf(request.paginationLimit);
  const forward = request.paginationForward;
  const rows = archive.query({
    pubsubTopic: request.pubsubTopic,
    contentTopics: request.contentTopics,
    timeStartNs: request.timeStart,
    timeEndNs: request.timeEnd,
    messageHashes: request.messageHashes,
    after,
    forward,
    limit: pageSize + 1,
  });
  const page = rows.slice(0, pageSize);
  const last = page.at(-1);
  const cursor = rows.length > pageSize && last !== undefined ? last.hash : undefined;
  if (!forward) page.reverse();
  return {
    requestId,
    statusCode: STORE_STATUS.ok,
    statusDesc: 'OK',
    messages: page.map((message) => toKeyValue(message, request.includeData)),
    ...(cursor === undefined ? {} : { paginationCursor: cursor }),
  };
}

/** Where an injected store failure comes from (the fault controller). */
export interface StoreFailureSource {
  storeFailure(): 503 | 429 | undefined;
}

/**
 * The full store answer: an injected failure if one is due, else the archive's answer; an archive
 * that throws becomes status 300 "archive error", as nwaku reports it.
 */
export function answerStoreQueryWithFaults(
  archive: MessageArchive,
  faults: StoreFailureSource,
  request: StoreQueryRequest,
  log: (line: string) => void,
): StoreQueryResponse {
  const injected = faults.storeFailure();
  if (injected === STORE_STATUS.tooManyRequests) return rateLimited();
  if (injected !== undefined) return failure(injected, 'SERVICE_UNAVAILABLE');
  try {
    return answerStoreQuery(archive, request);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log(`store query failed: ${reason}`);
    return failure(STORE_STATUS.badResponse, `archive error: ${reason}`);
  }
}
