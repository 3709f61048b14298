// Store v3 (/vac/waku/store-query/3.0.0) over the pool: one page per call, and cursor-following across pages.
import { randomUUID } from 'node:crypto';
import { BadResponseError, RateLimitedError, StoreError } from '../errors.ts';
import { STORE_QUERY_PROTOCOL, STORE_STATUS } from '../protocols.ts';
import { writeLengthPrefixed } from '../wire.ts';
import { type ConnectionPool, exchangeOnStream } from './connection-pool.ts';
import { readReply, runProtocolCall } from './protocol-call.ts';
import { decodeStoreResponse, encodeStoreQuery } from './store-codec.ts';
import type { StoreQuery, StoreQueryPage } from './store-types.ts';

/** A full store page: 100 messages of up to 150 KiB (nwaku's max message size) plus framing. */
export const DEFAULT_MAX_STORE_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Pages storeQueryPages follows unless told otherwise. */
export const DEFAULT_MAX_PAGES = 1000;

/** One store v3 page of at most `maxBytes`; non-200 statuses throw (429 RateLimitedError, others StoreError). */
export function storeQuery(
  pool: ConnectionPool,
  address: string,
  query: StoreQuery,
  options: { signal: AbortSignal; maxBytes: number },
): Promise<StoreQueryPage> {
  const { signal, maxBytes } = options;
  const requestId = query.requestId ?? randomUUID();
  // Encoding errors (bad hex) are the caller's mistake: thrown before any I/O.
  const request = encodeStoreQuery(query, requestId);
  return runProtocolCall(address, 'store query', STORE_QUERY_PROTOCOL, signal, () =>
    pool.withConnection(address, signal, false, async (connection) => {
      let page: StoreQueryPage;
      try {
        page = await exchangeOnStream(connection, STORE_QUERY_PROTOCOL, signal, async (stream) => {
          await writeLengthPrefixed(stream, request, { signal });
          const bytes = await readReply(stream, connection, {
            address,
            what: 'store query',
            maxBytes,
            signal,
          });
          return decodeStoreResponse(bytes, address);
        });
      } catch (error) {
        // A peer that floods or garbles replies gets no second stream on this connection.
        if (error instanceof BadResponseError) pool.retire(address, connection);
        throw error;
      }
      if (page.requestId !== requestId && page.requestId !== '') {
        throw new BadResponseError(
          address,
          `reply is for request "${page.requestId}", expected "${requestId}"`,
        );
      }
      if (page.statusCode === STORE_STATUS.tooManyRequests) {
        throw new RateLimitedError(address, page.statusCode);
      }
      if (page.statusCode !== STORE_STATUS.ok) {
        throw new StoreError(address, page.statusCode, page.statusDesc);
      }
      return page;
    }),
  );
}

/**
 * Follows cursors from `query`, fetching each page with `fetchPage`; yields pages until the node
 * returns no new cursor or `maxPages` were read. Only the first page keeps the caller's request id.
 */
export async function* followStorePages(
  query: StoreQuery,
  maxPages: number,
  fetchPage: (query: StoreQuery) => Promise<StoreQueryPage>,
): AsyncIterable<StoreQueryPage> {
  let cursor = query.cursor;
  for (let pageIndex = 0; pageIndex < maxPages; pageIndex++) {
    const { requestId: _firstRequestId, ...rest } = query;
    const page = await fetchPage({
      ...rest,
      ...(pageIndex === 0 && query.requestId !== undefined ? { requestId: query.requestId } : {}),
      ...(cursor === undefined ? {} : { cursor }),
    });
    yield page;
    if (page.cursor === undefined || page.cursor === cursor) return;
    cursor = page.cursor;
  }
}
