// nwaku REST client: health, info, store v3 and relay publish, each under a deadline and a byte cap, replies checked with zod.
import type * as z from 'zod';
import { BadResponseError, RateLimitedError, StoreError, UnhealthyError } from '../errors.ts';
import { STORE_STATUS } from '../protocols.ts';
import {
  DebugInfoSchema,
  type HEALTH_STATUSES,
  HealthReportSchema,
  normalizeHealthStatus,
  parseJsonPreservingIntegers,
  StoreQueryResponseSchema,
  stringifyJsonWithIntegers,
} from '../rest-schemas.ts';
import { raceDeadline, toWakuError } from './deadline.ts';
import type { StoredMessage, StoreQuery, StoreQueryPage } from './store-types.ts';

/** Health and info replies are a few hundred bytes; anything near this is not nwaku. */
export const DEFAULT_MAX_REST_RESPONSE_BYTES = 1024 * 1024;
/** A full store page (16 MiB of messages) grows by a third in base64, plus JSON framing. */
export const DEFAULT_MAX_REST_STORE_RESPONSE_BYTES = 32 * 1024 * 1024;
const HTTP_TOO_MANY_REQUESTS = 429;

/** Upper snake case, whichever spelling the node used. */
export type NodeHealth = (typeof HEALTH_STATUSES)[number];

export interface RestOptions {
  signal: AbortSignal;
  /** @default DEFAULT_MAX_REST_RESPONSE_BYTES (1 MiB; 32 MiB for store queries) */
  maxResponseBytes?: number;
}

export interface HealthReport {
  /** HTTP status: nwaku answers 200 even when not ready, 503 when its report is incomplete. */
  statusCode: number;
  nodeHealth: NodeHealth;
  protocols: Record<string, NodeHealth>;
}

export interface PublishedMessage {
  payload: Uint8Array;
  contentTopic: string;
  timestampNs?: bigint;
  version?: number;
  meta?: Uint8Array;
  ephemeral?: boolean;
}

function endpoint(restUrl: string, path: string): string {
  return new URL(path, restUrl.endsWith('/') ? restUrl : `${restUrl}/`).toString();
}

/** Reads at most `maxBytes` of the body, cancelling the download the moment the cap is passed. */
async function readCapped(response: Response, url: string, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new BadResponseError(url, `body of ${declared} bytes is over the ${maxBytes}-byte cap`);
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel();
      throw new BadResponseError(url, `body exceeds the ${maxBytes}-byte cap`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string, url: string): unknown {
  try {
    return parseJsonPreservingIntegers(text);
  } catch (error) {
    throw new BadResponseError(url, 'body is not JSON', error);
  }
}

function validate<T>(schema: z.ZodType<T>, body: unknown, url: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BadResponseError(
      url,
      `unexpected JSON at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

async function request<T>(
  url: string,
  what: string,
  options: RestOptions,
  defaultMaxBytes: number,
  init: RequestInit,
  handle: (status: number, body: string) => T,
): Promise<T> {
  const { signal } = options;
  const work = async (): Promise<T> => {
    const response = await fetch(url, { ...init, signal, redirect: 'error' });
    if (response.status === HTTP_TOO_MANY_REQUESTS) {
      await response.body?.cancel();
      throw new RateLimitedError(url, HTTP_TOO_MANY_REQUESTS);
    }
    const body = await readCapped(response, url, options.maxResponseBytes ?? defaultMaxBytes);
    return handle(response.status, body);
  };
  try {
    return await raceDeadline(work(), signal, `${what} ${url}`);
  } catch (error) {
    throw toWakuError(error, { address: url, what, signal });
  }
}

/**
 * GET /health, accepting both spellings of the states.
 *
 * @example
 * const { nodeHealth } = await health('http://127.0.0.1:8645', { signal: AbortSignal.timeout(5000) });
 */
export function health(restUrl: string, options: RestOptions): Promise<HealthReport> {
  const url = endpoint(restUrl, 'health');
  return request(url, 'health', options, DEFAULT_MAX_REST_RESPONSE_BYTES, {}, (status, body) => {
    let reply: z.infer<typeof HealthReportSchema>;
    try {
      reply = validate(HealthReportSchema, parseJson(body, url), url);
    } catch (error) {
      // 500 (internal timeout) and 503 may carry no report at all: the node is not healthy.
      if (status >= 500) throw new UnhealthyError(url, `unknown (HTTP ${status})`, status);
      throw error;
    }
    const protocols: Record<string, NodeHealth> = {};
    for (const entry of reply.protocolsHealth) {
      for (const [name, state] of Object.entries(entry)) {
        if (name === 'desc' || state === undefined) continue;
        protocols[name] = normalizeHealthStatus(
          state as Parameters<typeof normalizeHealthStatus>[0],
        );
      }
    }
    return {
      statusCode: status,
      nodeHealth: normalizeHealthStatus(reply.nodeHealth),
      protocols,
    };
  });
}

const HTTP_NOT_FOUND = 404;

/**
 * GET /info, and GET /debug/v1/info where that is 404: nwaku deprecated the debug path in 2025-03,
 * and nodes from before then serve only it.
 */
export async function info(
  restUrl: string,
  options: RestOptions,
): Promise<{ listenAddresses: string[]; enrUri?: string }> {
  const current = await infoAt(restUrl, 'info', options);
  return current ?? ((await infoAt(restUrl, 'debug/v1/info', options)) as NodeInfo);
}

type NodeInfo = { listenAddresses: string[]; enrUri?: string };

/** undefined on 404 from the current path, so the caller can try the deprecated one. */
function infoAt(
  restUrl: string,
  path: 'info' | 'debug/v1/info',
  options: RestOptions,
): Promise<NodeInfo | undefined> {
  const url = endpoint(restUrl, path);
  return request(url, 'info', options, DEFAULT_MAX_REST_RESPONSE_BYTES, {}, (status, body) => {
    if (status === HTTP_NOT_FOUND && path === 'info') return undefined;
    if (status !== 200) throw new BadResponseError(url, `HTTP ${status}`);
    const reply = validate(DebugInfoSchema, parseJson(body, url), url);
    return reply.enrUri === undefined
      ? { listenAddresses: reply.listenAddresses }
      : { listenAddresses: reply.listenAddresses, enrUri: reply.enrUri };
  });
}

/**
 * The query string of `/store/v3/messages` as nwaku's REST API spells it; `ascending` only when
 * the query sets `forward`, since nwaku's default is already ascending.
 * @example `${restUrl}/store/v3/messages?${restStoreSearchParams({ includeData: true, pageSize: 20 })}`
 */
export function restStoreSearchParams(query: StoreQuery, peerAddr?: string): URLSearchParams {
  const params = new URLSearchParams();
  if (peerAddr !== undefined) params.set('peerAddr', peerAddr);
  params.set('includeData', String(query.includeData));
  if (query.pubsubTopic !== undefined) params.set('pubsubTopic', query.pubsubTopic);
  if (query.contentTopics?.length) params.set('contentTopics', query.contentTopics.join(','));
  if (query.timeStartNs !== undefined) params.set('startTime', query.timeStartNs.toString());
  if (query.timeEndNs !== undefined) params.set('endTime', query.timeEndNs.toString());
  if (query.messageHashes?.length) params.set('hashes', query.messageHashes.join(','));
  if (query.cursor !== undefined) params.set('cursor', query.cursor);
  if (query.pageSize !== undefined) params.set('pageSize', String(query.pageSize));
  if (query.forward !== undefined) params.set('ascending', String(query.forward));
  return params;
}

function toStoredMessage(
  entry: z.infer<typeof StoreQueryResponseSchema>['messages'][number],
): StoredMessage {
  const stored: StoredMessage = { hash: entry.messageHash.toLowerCase() };
  if (entry.pubsubTopic != null) stored.pubsubTopic = entry.pubsubTopic;
  const message = entry.message;
  if (message != null) {
    stored.message = {
      payload: new Uint8Array(Buffer.from(message.payload, 'base64')),
      contentTopic: message.contentTopic,
    };
    if (message.version != null) stored.message.version = message.version;
    if (message.timestamp != null) stored.message.timestampNs = message.timestamp;
    if (message.meta != null)
      stored.message.meta = new Uint8Array(Buffer.from(message.meta, 'base64'));
    if (message.ephemeral === true) stored.message.ephemeral = true;
  }
  return stored;
}

/**
 * GET /store/v3/messages: the node's own archive, or `peerAddr`'s when given. Hashes and cursors
 * are 0x-hex as nwaku sends them (the OpenAPI spec's base64 is wrong).
 */
export function restStoreQuery(
  restUrl: string,
  query: StoreQuery,
  options: RestOptions & { peerAddr?: string },
): Promise<StoreQueryPage> {
  const url = `${endpoint(restUrl, 'store/v3/messages')}?${restStoreSearchParams({ ...query, forward: query.forward ?? true }, options.peerAddr)}`;
  return request(
    url,
    'store query',
    options,
    DEFAULT_MAX_REST_STORE_RESPONSE_BYTES,
    {},
    (status, body) => {
      let reply: z.infer<typeof StoreQueryResponseSchema>;
      try {
        reply = validate(StoreQueryResponseSchema, parseJson(body, url), url);
      } catch (error) {
        // nwaku answers some rejections (bad parameters, dial failures) with a plain-text body.
        if (status >= 400) throw new StoreError(url, status, body.slice(0, 200));
        throw error;
      }
      if (reply.statusCode === STORE_STATUS.tooManyRequests) {
        throw new RateLimitedError(url, reply.statusCode);
      }
      if (reply.statusCode !== STORE_STATUS.ok) {
        throw new StoreError(url, reply.statusCode, reply.statusDesc);
      }
      const page: StoreQueryPage = {
        requestId: reply.requestId,
        statusCode: reply.statusCode,
        statusDesc: reply.statusDesc,
        messages: reply.messages.map(toStoredMessage),
      };
      if (reply.paginationCursor != null) page.cursor = reply.paginationCursor.toLowerCase();
      return page;
    },
  );
}

function publishBody(message: PublishedMessage): string {
  const body: Record<string, unknown> = {
    payload: Buffer.from(message.payload).toString('base64'),
    contentTopic: message.contentTopic,
  };
  if (message.timestampNs !== undefined) body['timestamp'] = message.timestampNs;
  if (message.version !== undefined) body['version'] = message.version;
  if (message.meta !== undefined) body['meta'] = Buffer.from(message.meta).toString('base64');
  if (message.ephemeral !== undefined) body['ephemeral'] = message.ephemeral;
  // Nanosecond timestamps exceed 2^53: written as exact JSON integers.
  return stringifyJsonWithIntegers(body);
}

/**
 * POST /relay/v1/messages/{pubsubTopic}, or /relay/v1/auto/messages with 'auto' (autosharding
 * picks the shard from the content topic).
 */
export function restPublish(
  restUrl: string,
  pubsubTopic: string,
  message: PublishedMessage,
  options: RestOptions,
): Promise<void> {
  const path =
    pubsubTopic === 'auto'
      ? 'relay/v1/auto/messages'
      : `relay/v1/messages/${encodeURIComponent(pubsubTopic)}`;
  const url = endpoint(restUrl, path);
  return request(
    url,
    'publish',
    options,
    DEFAULT_MAX_REST_RESPONSE_BYTES,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: publishBody(message) },
    (status, body) => {
      if (status < 200 || status >= 300) {
        throw new StoreError(url, status, body.slice(0, 200));
      }
    },
  );
}
