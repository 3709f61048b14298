// The store node's REST API, shaped as nwaku's: health, debug, store v3, relay publish, and admin fault injection.
import { timingSafeEqual } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type * as z from 'zod';
import { bytesToHex0x, hex0xToBytes } from '../message-hash.ts';
import { STORE_STATUS } from '../protocols.ts';
import {
  type HealthReport,
  parseJsonPreservingIntegers,
  RelayPostMessageSchema,
  stringifyJsonWithIntegers,
} from '../rest-schemas.ts';
import type { StoreQueryRequest, StoreQueryResponse } from '../wire.ts';
import { ContentTopicError } from './autosharding.ts';
import { type FaultController, FaultSettingsSchema } from './faults.ts';

/** Relay caps messages at 150 KiB; base64 and JSON framing fit in this. */
export const MAX_REST_BODY_BYTES = 512 * 1024;
export const NODE_VERSION = 'v0.1.0-storefleet';

export interface PublishRequest {
  contentTopic: string;
  payload: Uint8Array;
  timestampNs?: bigint | undefined;
  meta?: Uint8Array | undefined;
  version?: number | undefined;
  ephemeral?: boolean | undefined;
  pubsubTopic?: string | undefined;
}

/** A publish the node refuses because of what was asked (unknown topic, oversized message). */
export class PublishRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PublishRejectedError';
  }
}

export interface RestApiDeps {
  faults: FaultController;
  adminToken?: string | undefined;
  health(): HealthReport;
  info(): { listenAddresses: string[]; enrUri?: string | undefined };
  /** Answers from the node's own archive, with faults applied. */
  queryLocal(request: StoreQueryRequest): StoreQueryResponse;
  /** Forwards the query to another store node over libp2p. */
  queryRemote(peerAddr: string, request: StoreQueryRequest): Promise<StoreQueryResponse>;
  publish(request: PublishRequest): Promise<string>;
  /** Called after the crash fault's reply has been written. */
  crash(): void;
}

function jsonReply(c: Context, body: unknown, status: 200 | 202 = 200): Response {
  return c.body(stringifyJsonWithIntegers(body), status, { 'content-type': 'application/json' });
}

function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`)
    .join('; ');
}

class QueryParamError extends Error {}

/** 0x-hex as nwaku writes it; standard or URL-safe base64 as the OpenAPI spec says, for old clients. */
function parseHashParam(name: string, text: string): Uint8Array {
  const trimmed = text.trim();
  const hex = hex0xToBytes(trimmed);
  const bytes =
    hex !== undefined && trimmed.length === 66
      ? hex
      : /^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)
        ? new Uint8Array(Buffer.from(trimmed, 'base64'))
        : undefined;
  if (bytes?.byteLength !== 32) {
    throw new QueryParamError(`${name}: "${text}" is not a 32-byte message hash (0x-hex)`);
  }
  return bytes;
}

function parseNsParam(name: string, text: string | undefined): bigint | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^-?\d{1,19}$/.test(text)) {
    throw new QueryParamError(`${name}: "${text}" is not a Unix time in nanoseconds`);
  }
  return BigInt(text);
}

/** Builds the store request from nwaku's query parameters. */
export function storeRequestFromQuery(query: Record<string, string>): StoreQueryRequest {
  const split = (text: string | undefined): string[] =>
    (text ?? '')
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part.length > 0);
  const pageSizeText = query['pageSize'];
  if (pageSizeText !== undefined && pageSizeText !== '' && !/^\d{1,19}$/.test(pageSizeText)) {
    throw new QueryParamError(`pageSize: "${pageSizeText}" is not a non-negative integer`);
  }
  const cursor = query['cursor'];
  return {
    requestId: crypto.randomUUID(),
    includeData: query['includeData'] === 'true',
    pubsubTopic: query['pubsubTopic'] || undefined,
    contentTopics: split(query['contentTopics']),
    timeStart: parseNsParam('startTime', query['startTime']),
    timeEnd: parseNsParam('endTime', query['endTime']),
    messageHashes: split(query['hashes']).map((hash) => parseHashParam('hashes', hash)),
    paginationCursor:
      cursor === undefined || cursor === '' ? undefined : parseHashParam('cursor', cursor),
    // nwaku's REST default is ascending, unlike the protocol's default.
    paginationForward: query['ascending'] !== 'false',
    paginationLimit:
      pageSizeText === undefined || pageSizeText === '' ? undefined : BigInt(pageSizeText),
  };
}

/** The JSON shape nwaku's REST API gives a store response: 0x-hex hashes, base64 payloads. */
export function storeResponseToJson(response: StoreQueryResponse): Record<string, unknown> {
  return {
    requestId: response.requestId,
    statusCode: response.statusCode ?? 0,
    statusDesc: response.statusDesc ?? '',
    messages: response.messages.map((entry) => ({
      messageHash: bytesToHex0x(entry.messageHash ?? new Uint8Array(0)),
      ...(entry.message === undefined
        ? {}
        : {
            message: {
              payload: Buffer.from(entry.message.payload).toString('base64'),
              contentTopic: entry.message.contentTopic,
              version: entry.message.version ?? 0,
              timestamp: entry.message.timestamp ?? 0n,
              ephemeral: entry.message.ephemeral ?? false,
              ...(entry.message.meta === undefined || entry.message.meta.byteLength === 0
                ? {}
                : { meta: Buffer.from(entry.message.meta).toString('base64') }),
            },
          }),
      ...(entry.pubsubTopic === undefined ? {} : { pubsubTopic: entry.pubsubTopic }),
    })),
    ...(response.paginationCursor === undefined
      ? {}
      : { paginationCursor: bytesToHex0x(response.paginationCursor) }),
  };
}

function tokensMatch(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.byteLength === b.byteLength && timingSafeEqual(a, b);
}

/**
 * @example
 * const app = buildRestApi(deps);
 * const reply = await app.request('/health');
 */
export function buildRestApi(deps: RestApiDeps): Hono {
  const app = new Hono();
  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_REST_BODY_BYTES,
      onError: (c) => c.text(`body: larger than ${MAX_REST_BODY_BYTES} bytes`, 413),
    }),
  );

  // Faults slow or stall everything but the admin routes, which must stay usable to lift them.
  app.use('*', async (c, next) => {
    if (!c.req.path.startsWith('/admin/')) await deps.faults.beforeAnswer(c.req.raw.signal);
    if (deps.faults.stopped) return c.text('node is shutting down', 503);
    await next();
  });

  app.get('/health', (c) => jsonReply(c, deps.health()));
  // nwaku serves /info and /version, and still the /debug/v1/ spellings deprecated in 2025-03.
  const info = (c: Context): Response => {
    const { listenAddresses, enrUri } = deps.info();
    return jsonReply(c, { listenAddresses, ...(enrUri === undefined ? {} : { enrUri }) });
  };
  app.get('/info', info);
  app.get('/debug/v1/info', info);
  app.get('/version', (c) => c.text(NODE_VERSION));
  app.get('/debug/v1/version', (c) => c.text(NODE_VERSION));

  app.get('/store/v3/messages', async (c) => {
    let request: StoreQueryRequest;
    try {
      request = storeRequestFromQuery(c.req.query());
    } catch (error) {
      if (error instanceof QueryParamError) return c.text(error.message, 400);
      throw error;
    }
    const peerAddr = c.req.query('peerAddr');
    let response: StoreQueryResponse;
    if (peerAddr === undefined || peerAddr === '') {
      response = deps.queryLocal(request);
    } else {
      try {
        response = await deps.queryRemote(peerAddr, request);
      } catch (error) {
        return c.text(
          `peerAddr: store query to ${peerAddr} failed: ${error instanceof Error ? error.message : String(error)}`,
          500,
        );
      }
    }
    // nwaku turns a rate-limited store answer into HTTP 429; other outcomes travel in statusCode.
    if (response.statusCode === STORE_STATUS.tooManyRequests) {
      return c.text('Request rate limit reached', 429);
    }
    return jsonReply(c, storeResponseToJson(response));
  });

  const publishFromBody = async (c: Context, pubsubTopic: string | undefined) => {
    let body: unknown;
    try {
      body = parseJsonPreservingIntegers(await c.req.text());
    } catch {
      return c.text('body: not valid JSON', 400);
    }
    const parsed = RelayPostMessageSchema.safeParse(body);
    if (!parsed.success) return c.text(describeZodError(parsed.error), 400);
    const message = parsed.data;
    try {
      await deps.publish({
        pubsubTopic,
        contentTopic: message.contentTopic,
        payload: new Uint8Array(Buffer.from(message.payload, 'base64')),
        timestampNs: message.timestamp,
        meta:
          message.meta === undefined
            ? undefined
            : new Uint8Array(Buffer.from(message.meta, 'base64')),
        version: message.version,
        ephemeral: message.ephemeral,
      });
    } catch (error) {
      if (error instanceof PublishRejectedError || error instanceof ContentTopicError) {
        return c.text(error.message, 400);
      }
      throw error;
    }
    return c.text('OK');
  };
  app.post('/relay/v1/messages/:pubsubTopic', (c) =>
    publishFromBody(c, c.req.param('pubsubTopic')),
  );
  app.post('/relay/v1/auto/messages', (c) => publishFromBody(c, undefined));

  app.use('/admin/*', async (c, next) => {
    if (deps.adminToken === undefined || deps.adminToken === '') {
      return c.text('fault injection is disabled: start the node with an admin token', 403);
    }
    const header = c.req.header('authorization');
    if (header === undefined || !/^Bearer\s+/i.test(header)) {
      c.header('www-authenticate', 'Bearer');
      return c.text('authorization: expected "Bearer <admin token>"', 401);
    }
    if (!tokensMatch(deps.adminToken, header.replace(/^Bearer\s+/i, ''))) {
      return c.text('authorization: wrong admin token', 403);
    }
    await next();
  });
  app.get('/admin/v1/faults', (c) => jsonReply(c, deps.faults.active));
  app.delete('/admin/v1/faults', (c) => jsonReply(c, deps.faults.clear()));
  app.post('/admin/v1/faults', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.text('body: not valid JSON', 400);
    }
    const parsed = FaultSettingsSchema.safeParse(body);
    if (!parsed.success) return c.text(describeZodError(parsed.error), 400);
    const { crash, ...lasting } = parsed.data;
    const active = deps.faults.set(lasting);
    if (crash) {
      // Reply first so the caller learns the crash was accepted, then go down hard.
      setImmediate(() => deps.crash());
      return jsonReply(c, { ...active, crashing: true }, 202);
    }
    return jsonReply(c, active);
  });

  app.onError((error, c) => {
    console.error(`rest: ${c.req.method} ${c.req.path} failed:`, error);
    return c.text('internal error', 500);
  });
  return app;
}
