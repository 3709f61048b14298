// Cross-cutting protections of the local HTTP surface: body limits, safe headers, a Host check against DNS rebinding, short error echoes.
import type { Context, Hono, Next } from 'hono';
import { bodyLimit } from 'hono/body-limit';

/** The largest request body accepted: every POST of the API is a small JSON object. */
export const MAX_REQUEST_BODY_BYTES = 16 * 1024;
/** An error response longer than this is cut: it must never echo a large bad value back. */
export const MAX_ERROR_BODY_BYTES = 2 * 1024;
/** Names the API answers to: the loopback address it listens on, and how browsers spell it. */
const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);
const SHOWN_HOST_CHARS = 60;

export interface ApiProtectionOptions {
  /** The port the server listens on, once known; a Host naming another port is refused. */
  listeningPort?: () => number | undefined;
}

function hostnameAndPort(host: string): { hostname: string; port: string | undefined } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  return { hostname: (match?.[1] ?? host).toLowerCase(), port: match?.[2] };
}

/**
 * Adds the protections to `app`; call before any route.
 * @example
 * const app = new Hono();
 * protectApi(app, { listeningPort: () => port });
 */
export function protectApi(app: Hono, options: ApiProtectionOptions = {}): void {
  // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends Host: evil.example.
  app.use('*', async (c: Context, next: Next) => {
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    const { hostname, port } = hostnameAndPort(host);
    const listening = options.listeningPort?.();
    const portOk = port === undefined || listening === undefined || Number(port) === listening;
    if (!LOOPBACK_HOSTNAMES.has(hostname) || !portOk) {
      const shown = host.length > SHOWN_HOST_CHARS ? `${host.slice(0, SHOWN_HOST_CHARS)}...` : host;
      return c.json(
        {
          error: `Host "${shown}" is not this server; it answers only as 127.0.0.1${listening === undefined ? '' : `:${listening}`} or localhost`,
        },
        421,
      );
    }
    await next();
  });

  app.use('*', async (c: Context, next: Next) => {
    await next();
    const headers = c.res.headers;
    headers.set('X-Content-Type-Options', 'nosniff');
    headers.set('X-Frame-Options', 'DENY');
    headers.set('Referrer-Policy', 'no-referrer');
    const csp = headers.get('Content-Security-Policy');
    if (!csp) headers.set('Content-Security-Policy', "frame-ancestors 'none'");
    else if (!/frame-ancestors/.test(csp)) {
      headers.set('Content-Security-Policy', `${csp}; frame-ancestors 'none'`);
    }
    const isApiJson =
      c.req.path.startsWith('/api/') &&
      (headers.get('Content-Type') ?? '').startsWith('application/json');
    if (isApiJson && !headers.has('Cache-Control')) headers.set('Cache-Control', 'no-store');
    if (c.res.status >= 400) await shortenErrorBody(c);
  });

  app.use(
    '*',
    bodyLimit({
      maxSize: MAX_REQUEST_BODY_BYTES,
      onError: (c) =>
        c.json(
          {
            error: `request body larger than ${MAX_REQUEST_BODY_BYTES} bytes; send a small JSON object`,
          },
          413,
        ),
    }),
  );
}

async function shortenErrorBody(c: Context): Promise<void> {
  const length = Number(c.res.headers.get('Content-Length') ?? Number.NaN);
  if (Number.isFinite(length) && length <= MAX_ERROR_BODY_BYTES) return;
  const text = await c.res.clone().text();
  if (text.length <= MAX_ERROR_BODY_BYTES) return;
  let message = text;
  try {
    message = String((JSON.parse(text) as { error?: unknown }).error ?? text);
  } catch {
    // Not JSON: cut the text itself.
  }
  const cut = `${message.slice(0, MAX_ERROR_BODY_BYTES / 4)}... (error cut: ${message.length} characters)`;
  const headers = new Headers(c.res.headers);
  headers.delete('Content-Length');
  headers.set('Content-Type', 'application/json');
  c.res = new Response(JSON.stringify({ error: cut }), { status: c.res.status, headers });
}
