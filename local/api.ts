// The local HTTP surface: the published registry for clients, the fleet API and live updates for the dashboard.
import { timingSafeEqual } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import * as z from 'zod';
import { type StressTestRequest, stressRequestSchema } from '../control/stress-request.ts';
import { describeIssues, type FleetConfig } from '../fleet/config.ts';
import {
  CANDIDATES_FILE,
  FLEETS_CONFIG_FILE,
  FLEETS_CONFIG_SIGNATURE_FILE,
} from '../fleet/registry/index.ts';
import { etagOf, type PublishedRegistry } from './file-publisher.ts';

/** Files every version carries beside fleets.json; before the first version they answer 503 like it. */
const VERSION_FILES = new Set([FLEETS_CONFIG_FILE, FLEETS_CONFIG_SIGNATURE_FILE, CANDIDATES_FILE]);

import type { CompletenessResult } from '../fleet/observations.ts';
import { type ApiProtectionOptions, protectApi } from './api-protections.ts';
import type { FleetEvent, NodeSample } from './sqlite-state-store.ts';

/** Keeps idle proxies and browsers from closing a quiet event stream. */
export const SSE_KEEPALIVE_MS = 15_000;
export const DEFAULT_HISTORY_POINTS = 360;
const MAX_HISTORY_POINTS = 2000;

/** One node as the dashboard and `GET /api/nodes` show it. */
export interface NodeView {
  id: string;
  location: string;
  /** The controller's state for the node (e.g. healthy, suspect, drained, probation, escalated). */
  state: string;
  listed: boolean;
  /** Set when an operator drained the node by hand; the controller keeps it unlisted until undrained. */
  operatorDrained: boolean;
  taskState: string;
  reputation: number | null;
  rttMs: number | null;
  /** Age of the newest message the node returned to a store probe. */
  freshnessAgeMs: number | null;
  completeness: number | null;
  /** Rounds left before a node on probation is listed again. */
  probationRoundsLeft: number | null;
  lastError: string | null;
  tcp: string | null;
  wss: string | null;
}

export interface FleetSnapshot {
  fleet: string;
  round: number;
  atMs: number;
  nodes: NodeView[];
  listedNodeIds: string[];
  /** Names of alarms currently raised. */
  activeAlarms: string[];
  /** Vantage points whose results are ignored because they look blind. */
  blindVantageIds: string[];
  /** Vantage points whose reports the latest decided round was decided on. */
  reportingVantageIds: string[];
}

/** The same request the stress function is invoked with on AWS. */
export type StressRequest = StressTestRequest;

/** A change pushed to dashboards over `GET /api/events`. */
export type LiveUpdate =
  | { type: 'snapshot'; snapshot: FleetSnapshot }
  | { type: 'event'; event: FleetEvent }
  | { type: 'registry'; sequence: number };

/** What the API reads and asks for; the orchestrator implements it. */
export interface FleetControl {
  snapshot(): FleetSnapshot;
  nodeHistory(nodeId: string, limit: number): NodeSample[];
  /** The node's latest completeness windows, each with the hashes it was confirmed to lack. */
  missingMessages?(nodeId: string): CompletenessResult[];
  recentEvents(limit: number): FleetEvent[];
  registry(): PublishedRegistry | undefined;
  drainNode(nodeId: string): Promise<void>;
  undrainNode(nodeId: string): Promise<void>;
  /** Starts a stress test in the background; resolves once accepted. */
  startStress(request: StressRequest): Promise<void>;
  subscribe(listener: (update: LiveUpdate) => void): () => void;
}

/** Faults the chaos commands may inject, forwarded to the orchestrator. */
export interface ChaosControl {
  chaos(request: ChaosRequest): Promise<string>;
}

export const ChaosRequestSchema = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.enum(['kill', 'stall', 'slow', 'hole', 'flap']),
    nodeId: z.string().min(1),
  }),
  z.strictObject({ action: z.literal('blind'), vantageId: z.string().min(1) }),
  z.strictObject({ action: z.literal('clear'), target: z.string().min(1).optional() }),
]);
export type ChaosRequest = z.infer<typeof ChaosRequestSchema>;

export interface ApiOptions {
  config: FleetConfig;
  control: FleetControl & Partial<ChaosControl>;
  /** Bearer token for every request that changes something. */
  adminToken: string;
  /** The dashboard page served at `/`. */
  dashboardHtml: string;
  /** Body limits, headers and the Host check (local/api-protections.ts). */
  protections?: ApiProtectionOptions;
}

/** Thrown by FleetControl when a request names a node that does not exist. */
export class UnknownNodeError extends Error {
  constructor(nodeId: string) {
    super(`no node "${nodeId}" in this fleet`);
    this.name = 'UnknownNodeError';
  }
}

/** Thrown by FleetControl when a request conflicts with the node's state (e.g. stress on a drained node). */
export class NodeStateConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeStateConflictError';
  }
}

function tokensMatch(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function errorResponse(c: Context, error: unknown): Response {
  if (error instanceof UnknownNodeError) return c.json({ error: error.message }, 404);
  if (error instanceof NodeStateConflictError) return c.json({ error: error.message }, 409);
  throw error;
}

/**
 * Builds the app; serve it with @hono/node-server or call `app.request()` in tests.
 * @example
 * const app = createApi({ config, control, adminToken, dashboardHtml });
 * const res = await app.request('/fleets.json');
 */
export function createApi(options: ApiOptions): Hono {
  const { config, control, adminToken } = options;
  const app = new Hono();
  protectApi(app, options.protections);
  const cacheControl = `public, max-age=${config.registry.cacheMaxAgeSeconds}`;
  const stressSchema = stressRequestSchema(config);
  const knownNodes = new Set(config.nodes.map((node) => node.id));

  const requireToken = async (c: Context, next: () => Promise<void>) => {
    const header = c.req.header('authorization');
    if (!header) {
      c.header('WWW-Authenticate', 'Bearer');
      return c.json({ error: 'missing bearer token; use the admin token printed at start' }, 401);
    }
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !tokensMatch(match[1] as string, adminToken)) {
      return c.json({ error: 'wrong admin token' }, 403);
    }
    await next();
  };

  const registryFile = (
    c: Context,
    body: (published: PublishedRegistry) => { bytes: Uint8Array | string; etag?: string },
    contentType: string,
  ) => {
    const published = control.registry();
    if (!published) {
      return c.json({ error: 'no registry version published yet; retry shortly' }, 503, {
        'Retry-After': '5',
      });
    }
    const { bytes, etag } = body(published);
    c.header('Cache-Control', cacheControl);
    c.header('Content-Type', contentType);
    c.header('X-Registry-Sequence', String(published.artifacts.sequence));
    if (etag) {
      c.header('ETag', etag);
      const ifNoneMatch = c.req.header('if-none-match');
      if (ifNoneMatch?.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) {
        return c.body(null, 304);
      }
    }
    return c.body(typeof bytes === 'string' ? bytes : new Uint8Array(bytes));
  };

  app.get('/fleets.json', (c) =>
    registryFile(
      c,
      (p) => ({ bytes: p.artifacts.fleetsJson, etag: p.fleetsEtag }),
      'application/json',
    ),
  );
  app.get('/fleets.json.sig', (c) =>
    registryFile(c, (p) => ({ bytes: `${p.signatureBase64}\n` }), 'text/plain; charset=utf-8'),
  );
  app.get('/fleets.pub.pem', (c) =>
    registryFile(
      c,
      (p) => ({ bytes: p.artifacts.publicKeyPem }),
      'application/x-pem-file; charset=utf-8',
    ),
  );
  app.get('/registry.json', (c) =>
    registryFile(
      c,
      (p) => ({ bytes: p.artifacts.registryJson, etag: p.registryEtag }),
      'application/json',
    ),
  );

  // The version's further files (fleets-config.json and its .sig, candidates.json), by name.
  app.get('/:file{[A-Za-z0-9._-]+}', (c, next) => {
    const name = c.req.param('file');
    const file = control.registry()?.artifacts.files?.find((candidate) => candidate.name === name);
    if (file === undefined && (control.registry() !== undefined || !VERSION_FILES.has(name))) {
      return next();
    }
    return registryFile(
      c,
      () => ({
        bytes: file?.bytes ?? new Uint8Array(0),
        etag: etagOf(file?.bytes ?? new Uint8Array(0)),
      }),
      file?.contentType ?? 'application/json',
    );
  });

  app.get('/api/nodes', (c) => c.json(control.snapshot()));

  app.get('/api/nodes/:id', (c) => {
    const nodeId = c.req.param('id');
    if (!knownNodes.has(nodeId)) return c.json({ error: `no node "${nodeId}" in this fleet` }, 404);
    const limitParam = Number(c.req.query('limit') ?? DEFAULT_HISTORY_POINTS);
    const limit = Number.isInteger(limitParam)
      ? Math.min(Math.max(limitParam, 1), MAX_HISTORY_POINTS)
      : DEFAULT_HISTORY_POINTS;
    const node = control.snapshot().nodes.find((candidate) => candidate.id === nodeId);
    return c.json({ node, history: control.nodeHistory(nodeId, limit) });
  });

  // Which messages node X lacks, per completeness window (storenode-messages-counter's question).
  app.get('/api/nodes/:id/missing', (c) => {
    const nodeId = c.req.param('id');
    if (!knownNodes.has(nodeId)) return c.json({ error: `no node "${nodeId}" in this fleet` }, 404);
    const windows = (control.missingMessages?.(nodeId) ?? []).map((result) => ({
      vantageId: result.vantageId,
      windowStart: new Date(result.windowStartMs).toISOString(),
      windowEnd: new Date(result.windowEndMs).toISOString(),
      pubsubTopics: result.pubsubTopics ?? [],
      unionCount: result.unionCount,
      missingCount: result.missingCount,
      unknownCount: result.unknownCount,
      missingHashes: result.missingHashes ?? [],
    }));
    return c.json({ nodeId, windows });
  });

  app.get('/api/log', (c) => c.json({ events: control.recentEvents(200) }));

  app.post('/api/stress', requireToken, async (c) => {
    const body = await c.req.json().catch(() => undefined);
    if (body === undefined) return c.json({ error: 'expected a JSON body' }, 400);
    const parsed = stressSchema.safeParse(body);
    if (!parsed.success) {
      return c.json({ error: describeIssues(parsed.error, body).join('; ') }, 400);
    }
    if (!knownNodes.has(parsed.data.nodeId)) {
      return c.json({ error: `nodeId: no node "${parsed.data.nodeId}" in this fleet` }, 404);
    }
    const node = control.snapshot().nodes.find((candidate) => candidate.id === parsed.data.nodeId);
    if (node && !node.listed) {
      return c.json(
        {
          error: `nodeId: "${node.id}" is not listed (state ${node.state}); stress only listed nodes`,
        },
        409,
      );
    }
    try {
      await control.startStress(parsed.data);
    } catch (error) {
      return errorResponse(c, error);
    }
    return c.json({ accepted: parsed.data }, 202);
  });

  const operatorAction = (action: 'drain' | 'undrain') => async (c: Context) => {
    const nodeId = c.req.param('id') as string;
    if (!knownNodes.has(nodeId)) return c.json({ error: `no node "${nodeId}" in this fleet` }, 404);
    try {
      if (action === 'drain') await control.drainNode(nodeId);
      else await control.undrainNode(nodeId);
    } catch (error) {
      return errorResponse(c, error);
    }
    return c.json({ nodeId, operatorDrained: action === 'drain' });
  };
  app.post('/api/nodes/:id/drain', requireToken, operatorAction('drain'));
  app.post('/api/nodes/:id/undrain', requireToken, operatorAction('undrain'));

  app.post('/api/chaos', requireToken, async (c) => {
    if (!control.chaos) return c.json({ error: 'chaos is not available on this fleet' }, 404);
    const body = await c.req.json().catch(() => undefined);
    const parsed = ChaosRequestSchema.safeParse(body);
    if (!parsed.success) {
      return c.json({ error: describeIssues(parsed.error, body).join('; ') }, 400);
    }
    try {
      return c.json({ done: await control.chaos(parsed.data) });
    } catch (error) {
      return errorResponse(c, error);
    }
  });

  app.get('/api/events', (c) =>
    streamSSE(c, async (stream) => {
      const queue: LiveUpdate[] = [{ type: 'snapshot', snapshot: control.snapshot() }];
      let wake: (() => void) | undefined;
      const unsubscribe = control.subscribe((update) => {
        queue.push(update);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      try {
        while (!stream.aborted && !stream.closed) {
          const update = queue.shift();
          if (update) {
            await stream.writeSSE({ event: update.type, data: JSON.stringify(update) });
            continue;
          }
          await new Promise<void>((resolve) => {
            const keepalive = setTimeout(resolve, SSE_KEEPALIVE_MS);
            wake = () => {
              clearTimeout(keepalive);
              resolve();
            };
          });
          wake = undefined;
          if (queue.length === 0 && !stream.aborted) await stream.write(': keepalive\n\n');
        }
      } finally {
        unsubscribe();
      }
    }),
  );

  app.get('/', (c) => {
    c.header('Cache-Control', 'no-store');
    c.header(
      'Content-Security-Policy',
      "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self' data:",
    );
    return c.html(options.dashboardHtml);
  });

  return app;
}
