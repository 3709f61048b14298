// The API under abuse: bodies are limited, errors never echo more than a short prefix, headers are safe, and a foreign Host is refused.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { parseFleetConfig } from '../../fleet/config.ts';
import { createApi, type FleetControl, type FleetSnapshot } from '../../local/api.ts';
import { MAX_ERROR_BODY_BYTES, MAX_REQUEST_BODY_BYTES } from '../../local/api-protections.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const config = parseFleetConfig(
  JSON.parse(readFileSync(join(ROOT, 'config', 'fleet.example.json'), 'utf8')),
);
const TOKEN = 'abuse-test-admin-token-0123';
const PORT = 8123;

const control: FleetControl = {
  snapshot: (): FleetSnapshot => ({
    fleet: config.fleet,
    round: 1,
    atMs: 1,
    nodes: [],
    listedNodeIds: [],
    activeAlarms: [],
    blindVantageIds: [],
    reportingVantageIds: [],
  }),
  nodeHistory: () => [],
  recentEvents: () => [],
  registry: () => undefined,
  drainNode: async () => {},
  undrainNode: async () => {},
  startStress: async () => {},
  subscribe: () => () => {},
};
const app = createApi({
  config,
  control,
  adminToken: TOKEN,
  dashboardHtml: '<h1>fleet</h1>',
  protections: { listeningPort: () => PORT },
});
const base = `http://127.0.0.1:${PORT}`;
const post = (path: string, body: string) =>
  app.request(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body,
  });

describe('request bodies', () => {
  it('a body over the limit is refused with 413 and a short answer, whatever its size', async () => {
    const huge = `{"nodeId":"${'A'.repeat(4 * 1024 * 1024)}"}`;
    const response = await post('/api/stress', huge);
    assert.equal(response.status, 413);
    const text = await response.text();
    assert.ok(text.length < 200, text);
    assert.match(text, new RegExp(`larger than ${MAX_REQUEST_BODY_BYTES} bytes`));
  });

  it('a bad value under the limit is echoed by a short prefix only', async () => {
    const value = 'B'.repeat(MAX_REQUEST_BODY_BYTES - 200);
    const response = await post('/api/stress', JSON.stringify({ nodeId: 'store-01', rate: value }));
    assert.equal(response.status, 400);
    const text = await response.text();
    assert.ok(text.length <= MAX_ERROR_BODY_BYTES, `${text.length} bytes`);
    assert.ok(!text.includes(value));
    assert.match(text, /characters\)/);
  });

  it('a long unknown node id in the path is not echoed whole', async () => {
    const id = 'C'.repeat(8000);
    const response = await app.request(`${base}/api/nodes/${id}`);
    assert.equal(response.status, 404);
    assert.ok((await response.text()).length <= MAX_ERROR_BODY_BYTES);
  });
});

describe('headers', () => {
  for (const path of ['/', '/api/nodes', '/fleets.json']) {
    it(`${path}: nosniff, no framing, no referrer`, async () => {
      const response = await app.request(`${base}${path}`);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('x-frame-options'), 'DENY');
      assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
    });
  }

  it('API JSON is not cached; the registry keeps its public max-age', async () => {
    assert.equal((await app.request(`${base}/api/nodes`)).headers.get('cache-control'), 'no-store');
    const registry = await app.request(`${base}/fleets.json`);
    assert.notEqual(registry.headers.get('cache-control'), 'no-store');
  });

  it('the dashboard keeps its own policy and gains frame-ancestors', async () => {
    const csp = (await app.request(`${base}/`)).headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
  });
});

describe('the Host header (DNS rebinding)', () => {
  it('non-compliant: another name, or another port, is refused with 421', async () => {
    for (const host of ['evil.example:8123', 'evil.example', `127.0.0.1:${PORT + 1}`]) {
      const response = await app.request(`${base}/api/nodes`, { headers: { host } });
      assert.equal(response.status, 421, host);
      assert.match(await response.text(), /is not this server/);
    }
  });

  it('compliant: the listening address and localhost', async () => {
    for (const host of [`127.0.0.1:${PORT}`, `localhost:${PORT}`, 'localhost']) {
      const response = await app.request(`${base}/api/nodes`, { headers: { host } });
      assert.equal(response.status, 200, host);
    }
  });
});
