// REST health: nwaku's v0.36+ and legacy spellings both normalise to UPPER_SNAKE; failures are typed.
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { health, info } from '../../../waku/client/rest.ts';
import {
  BadResponseError,
  RateLimitedError,
  UnhealthyError,
  WakuTimeoutError,
} from '../../../waku/errors.ts';
import { type LoopbackServer, startHono } from './loopback-http.ts';

const DEADLINE_MS = 300;
/** Timer and event-loop slack allowed past a deadline on a loaded 2-core machine. */
const MARGIN_MS = 300;

const SPELLINGS: ReadonlyArray<readonly [string, string]> = [
  ['READY', 'READY'],
  ['Ready', 'READY'],
  ['NOT_READY', 'NOT_READY'],
  ['Not Ready', 'NOT_READY'],
  ['INITIALIZING', 'INITIALIZING'],
  ['Initializing', 'INITIALIZING'],
  ['SYNCHRONIZING', 'SYNCHRONIZING'],
  ['Synchronizing', 'SYNCHRONIZING'],
  ['NOT_MOUNTED', 'NOT_MOUNTED'],
  ['Not Mounted', 'NOT_MOUNTED'],
  ['SHUTTING_DOWN', 'SHUTTING_DOWN'],
  ['Shutting Down', 'SHUTTING_DOWN'],
];

describe('REST health accepts both spellings of node states', () => {
  let server: LoopbackServer;

  beforeAll(async () => {
    const app = new Hono();
    app.get('/spelling/:index/health', (c) => {
      const [state] = SPELLINGS[Number(c.req.param('index'))] ?? ['?'];
      return c.json({
        nodeHealth: state,
        protocolsHealth: [{ Relay: state }, { Store: state, desc: 'archive' }],
      });
    });
    app.get('/incomplete/health', (c) => c.text('health report incomplete', 503));
    app.get('/limited/health', (c) => c.text('slow down', 429));
    app.get('/unknown-state/health', (c) => c.json({ nodeHealth: 'Sleepy', protocolsHealth: [] }));
    app.get('/not-json/health', (c) => c.html('<html>proxy error</html>'));
    app.get('/stalled/health', () => new Promise<Response>(() => {}));
    app.get('/debug/v1/info', (c) =>
      c.json({ listenAddresses: ['/ip4/127.0.0.1/tcp/60000'], enrUri: 'enr:-abc' }),
    );
    server = await startHono(app);
  });

  afterAll(async () => {
    await server.close();
  });

  for (const [index, [spelling, normalised]] of SPELLINGS.entries()) {
    it(`reads "${spelling}" as ${normalised} for the node and every protocol`, async () => {
      // Act
      const report = await health(`${server.url}/spelling/${index}`, {
        signal: AbortSignal.timeout(2000),
      });

      // Assess
      assert.equal(report.statusCode, 200);
      assert.equal(report.nodeHealth, normalised);
      assert.deepEqual(report.protocols, { Relay: normalised, Store: normalised });
    });
  }

  it('treats a 503 without a report as unhealthy, keeping the status', async () => {
    await assert.rejects(
      health(`${server.url}/incomplete`, { signal: AbortSignal.timeout(2000) }),
      (error: unknown) => error instanceof UnhealthyError && error.statusCode === 503,
    );
  });

  it('types HTTP 429 as rate limited', async () => {
    await assert.rejects(
      health(`${server.url}/limited`, { signal: AbortSignal.timeout(2000) }),
      (error: unknown) => error instanceof RateLimitedError && error.errorClass === 'rate_limited',
    );
  });

  it('rejects a state nwaku never sends and a body that is not JSON as bad responses', async () => {
    await assert.rejects(
      health(`${server.url}/unknown-state`, { signal: AbortSignal.timeout(2000) }),
      BadResponseError,
    );
    await assert.rejects(
      health(`${server.url}/not-json`, { signal: AbortSignal.timeout(2000) }),
      BadResponseError,
    );
  });

  it('keeps its deadline when the server never answers', async () => {
    // Prepare
    const startedAt = performance.now();

    // Act
    const outcome = health(`${server.url}/stalled`, { signal: AbortSignal.timeout(DEADLINE_MS) });

    // Assess
    await assert.rejects(outcome, WakuTimeoutError);
    assert.ok(performance.now() - startedAt <= DEADLINE_MS + MARGIN_MS);
  });

  it('reads debug info', async () => {
    const reply = await info(server.url, { signal: AbortSignal.timeout(2000) });
    assert.deepEqual(reply, { listenAddresses: ['/ip4/127.0.0.1/tcp/60000'], enrUri: 'enr:-abc' });
  });
});
