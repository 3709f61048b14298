// The local HTTP API through app.request(): registry files with caching, the fleet API, operator actions and live updates.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { parseFleetConfig } from '../../fleet/config.ts';
import {
  createApi,
  type FleetControl,
  type FleetSnapshot,
  type LiveUpdate,
  NodeStateConflictError,
  type StressRequest,
} from '../../local/api.ts';
import { FileRegistryPublisher } from '../../local/file-publisher.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const config = parseFleetConfig(
  JSON.parse(readFileSync(join(ROOT, 'config', 'fleet.example.json'), 'utf8')),
);
const TOKEN = 'test-admin-token-0123456789';
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

class FakeFleet implements FleetControl {
  drained = new Set<string>();
  stressed: StressRequest[] = [];
  listeners = new Set<(update: LiveUpdate) => void>();
  publisher: FileRegistryPublisher | undefined;
  snapshot(): FleetSnapshot {
    const nodes = config.nodes.map((node) => ({
      id: node.id,
      location: node.location,
      state: this.drained.has(node.id) ? 'drained' : 'healthy',
      listed: !this.drained.has(node.id),
      operatorDrained: this.drained.has(node.id),
      taskState: 'running',
      reputation: 0.9,
      rttMs: 2,
      freshnessAgeMs: 1000,
      completeness: 1,
      probationRoundsLeft: null,
      lastError: null,
      tcp: null,
      wss: null,
    }));
    return {
      fleet: config.fleet,
      round: 7,
      atMs: 1,
      nodes,
      listedNodeIds: nodes.filter((n) => n.listed).map((n) => n.id),
      activeAlarms: [],
      blindVantageIds: [],
      reportingVantageIds: ['vp-eu', 'vp-us'],
    };
  }
  nodeHistory(nodeId: string, limit: number) {
    return Array.from({ length: Math.min(limit, 3) }, (_, i) => ({
      nodeId,
      atMs: i,
      round: i,
      state: 'healthy',
      reputation: 0.9,
      rttMs: 2,
      listed: true,
    }));
  }
  recentEvents() {
    return [];
  }
  registry() {
    return this.publisher?.current();
  }
  async drainNode(nodeId: string) {
    this.drained.add(nodeId);
    this.emit({ type: 'snapshot', snapshot: this.snapshot() });
  }
  async undrainNode(nodeId: string) {
    if (!this.drained.has(nodeId)) throw new NodeStateConflictError(`${nodeId} is not drained`);
    this.drained.delete(nodeId);
  }
  async startStress(request: StressRequest) {
    this.stressed.push(request);
  }
  subscribe(listener: (update: LiveUpdate) => void) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(update: LiveUpdate) {
    for (const listener of this.listeners) listener(update);
  }
}

async function publishedFleet(): Promise<FakeFleet> {
  const dir = mkdtempSync(join(tmpdir(), 'storefleet-api-'));
  dirs.push(dir);
  const fleet = new FakeFleet();
  // The guard is fleet/registry's concern; these tests look at HTTP behaviour only.
  fleet.publisher = await FileRegistryPublisher.open(dir, { assertPublishable: () => {} });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const fleetsJson = new TextEncoder().encode('{"meta":{"sequence":3},"fleets":{}}');
  await fleet.publisher.publish({
    sequence: 3,
    fleetsJson,
    fleetsJsonSignature: new Uint8Array(sign('sha256', fleetsJson, privateKey)),
    registryJson: new TextEncoder().encode('{"sequence":3}'),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    cacheMaxAgeSeconds: config.registry.cacheMaxAgeSeconds,
  });
  return fleet;
}

function appFor(fleet: FakeFleet) {
  return createApi({ config, control: fleet, adminToken: TOKEN, dashboardHtml: '<h1>fleet</h1>' });
}
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

describe('serving the registry', () => {
  it('serves fleets.json with an ETag, the configured max-age, and 304 when unchanged', async () => {
    const app = appFor(await publishedFleet());
    const first = await app.request('/fleets.json');
    assert.equal(first.status, 200);
    assert.equal(await first.text(), '{"meta":{"sequence":3},"fleets":{}}');
    assert.equal(first.headers.get('cache-control'), 'public, max-age=10');
    const etag = first.headers.get('etag');
    assert.match(etag ?? '', /^"[A-Za-z0-9_-]+"$/);
    const again = await app.request('/fleets.json', { headers: { 'if-none-match': etag ?? '' } });
    assert.equal(again.status, 304);
    const other = await app.request('/fleets.json', { headers: { 'if-none-match': '"other"' } });
    assert.equal(other.status, 200);
  });

  it('serves the signature, the public key and registry.json', async () => {
    const app = appFor(await publishedFleet());
    const sig = await app.request('/fleets.json.sig');
    assert.ok(Buffer.from((await sig.text()).trim(), 'base64').length > 8);
    assert.match(await (await app.request('/fleets.pub.pem')).text(), /BEGIN PUBLIC KEY/);
    assert.deepEqual(await (await app.request('/registry.json')).json(), { sequence: 3 });
  });

  it('answers 503 rather than an empty registry before the first version', async () => {
    const app = appFor(new FakeFleet());
    const res = await app.request('/fleets.json');
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '5');
  });
});

describe('the fleet API', () => {
  it('lists the nodes and one node with its history', async () => {
    const app = appFor(new FakeFleet());
    const list = (await (await app.request('/api/nodes')).json()) as FleetSnapshot;
    assert.equal(list.nodes.length, 6);
    const one = await app.request(`/api/nodes/${config.nodes[0]?.id}?limit=2`);
    const body = (await one.json()) as { node: { id: string }; history: unknown[] };
    assert.equal(body.node.id, config.nodes[0]?.id);
    assert.equal(body.history.length, 2);
    assert.equal((await app.request('/api/nodes/nope')).status, 404);
  });
});

describe('operator drain and undrain', () => {
  const nodeId = config.nodes[1]?.id as string;
  it('refuses without a token (401) and with a wrong one (403)', async () => {
    const fleet = new FakeFleet();
    const app = appFor(fleet);
    assert.equal((await app.request(`/api/nodes/${nodeId}/drain`, { method: 'POST' })).status, 401);
    const wrong = await app.request(`/api/nodes/${nodeId}/drain`, {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
    });
    assert.equal(wrong.status, 403);
    assert.equal(fleet.drained.size, 0);
  });

  it('drains and undrains through the fleet control with the token', async () => {
    const fleet = new FakeFleet();
    const app = appFor(fleet);
    const drained = await app.request(`/api/nodes/${nodeId}/drain`, {
      method: 'POST',
      headers: auth,
    });
    assert.equal(drained.status, 200);
    assert.ok(fleet.drained.has(nodeId));
    await app.request(`/api/nodes/${nodeId}/undrain`, { method: 'POST', headers: auth });
    assert.equal(fleet.drained.size, 0);
    const again = await app.request(`/api/nodes/${nodeId}/undrain`, {
      method: 'POST',
      headers: auth,
    });
    assert.equal(again.status, 409);
  });
});

describe('starting a stress test', () => {
  const nodeId = config.nodes[2]?.id as string;
  const valid = { nodeId, rate: 100, durationSeconds: 10, connections: 20, transport: 'rest' };
  const post = (app: ReturnType<typeof appFor>, body: unknown) =>
    app.request('/api/stress', { method: 'POST', headers: auth, body: JSON.stringify(body) });

  it('accepts a valid request', async () => {
    const fleet = new FakeFleet();
    const res = await post(appFor(fleet), valid);
    assert.equal(res.status, 202);
    assert.deepEqual(fleet.stressed, [valid]);
  });

  it('refuses values above the config caps, naming the field', async () => {
    const fleet = new FakeFleet();
    const app = appFor(fleet);
    const tooFast = await post(app, { ...valid, rate: 5000 });
    assert.equal(tooFast.status, 400);
    assert.match(
      ((await tooFast.json()) as { error: string }).error,
      /^rate: .*maxRatePerSecond \(2000\)/,
    );
    const tooMany = await post(app, { ...valid, connections: 501 });
    assert.match(
      ((await tooMany.json()) as { error: string }).error,
      /connections: .*maxConnections/,
    );
    const badTransport = await post(app, { ...valid, transport: 'udp' });
    assert.match(((await badTransport.json()) as { error: string }).error, /^transport: /);
    assert.equal(fleet.stressed.length, 0);
  });

  it('refuses a drained node', async () => {
    const fleet = new FakeFleet();
    fleet.drained.add(nodeId);
    const res = await post(appFor(fleet), valid);
    assert.equal(res.status, 409);
    assert.match(((await res.json()) as { error: string }).error, /not listed \(state drained\)/);
  });
});

describe('live updates', () => {
  it('sends a snapshot at once, then each change, as server-sent events', async () => {
    const fleet = new FakeFleet();
    const app = appFor(fleet);
    const res = await app.request('/api/events');
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}`);
        text += decoder.decode(value);
      }
    };
    await readUntil(/event: snapshot\ndata: .*\n\n/);
    await fleet.drainNode(config.nodes[0]?.id as string);
    await readUntil(/"operatorDrained":true/);
    await reader.cancel();
  });

  it('serves the dashboard page at /', async () => {
    const res = await appFor(new FakeFleet()).request('/');
    assert.equal(await res.text(), '<h1>fleet</h1>');
  });
});
