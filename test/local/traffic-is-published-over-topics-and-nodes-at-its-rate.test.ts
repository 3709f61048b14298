// The traffic generator: messages on the configured content topics, spread over the nodes, failures counted and not thrown.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, it, vi } from 'vitest';
import { TrafficGenerator } from '../../local/traffic.ts';

const TOPICS = ['/storefleet/1/probe/proto', '/storefleet/1/chat/proto'];
const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

/** A REST endpoint that records what nwaku's auto-sharded publish route would receive. */
async function recordingNode(): Promise<{ url: string; bodies: Record<string, unknown>[] }> {
  const bodies: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/relay/v1/auto/messages') {
        bodies.push(JSON.parse(body));
        res.writeHead(200).end('OK');
      } else {
        res.writeHead(404).end();
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bodies };
}

describe('generating traffic', () => {
  it('publishes over REST on the content topics, alternating, to random nodes', async () => {
    const a = await recordingNode();
    const b = await recordingNode();
    let draw = 0;
    const traffic = new TrafficGenerator({
      contentTopics: TOPICS,
      targets: () => [a.url, b.url],
      random: () => (draw++ % 2 === 0 ? 0.1 : 0.9),
      nowMs: () => 1_700_000_000_000,
    });
    for (let i = 0; i < 6; i++) assert.equal(await traffic.publishOnce(), true);
    assert.equal(a.bodies.length, 3);
    assert.equal(b.bodies.length, 3);
    assert.deepEqual(traffic.stats, {
      sent: 6,
      failed: 0,
      byTopic: { [TOPICS[0] as string]: 3, [TOPICS[1] as string]: 3 },
    });
    const first = a.bodies[0] as { contentTopic: string; payload: string; timestamp: number };
    assert.equal(first.contentTopic, TOPICS[0]);
    assert.equal(first.timestamp, 1_700_000_000_000_000_000);
    assert.deepEqual(JSON.parse(Buffer.from(first.payload, 'base64').toString('utf8')), {
      n: 1,
      atMs: 1_700_000_000_000,
    });
  });

  it('counts a node that is down, and no nodes at all, as failures without throwing', async () => {
    const traffic = new TrafficGenerator({
      contentTopics: TOPICS,
      targets: () => ['http://127.0.0.1:1'],
      publishTimeoutMs: 500,
    });
    assert.equal(await traffic.publishOnce(), false);
    const none = new TrafficGenerator({ contentTopics: TOPICS, targets: () => [] });
    assert.equal(await none.publishOnce(), false);
    assert.equal(traffic.stats.failed + none.stats.failed, 2);
  });

  it('publishes once per interval of its rate until stopped, and nothing after', async () => {
    // Prepare: only the generator's interval is fake; the HTTP exchange with the node is real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const node = await recordingNode();
    const traffic = new TrafficGenerator({
      contentTopics: TOPICS,
      targets: () => [node.url],
      ratePerSecond: 50,
      nowMs: () => 1_700_000_000_000,
    });

    // Act: 50 per second is one every 20 ms; 119 ms hold five intervals.
    traffic.start();
    vi.advanceTimersByTime(119);
    await traffic.stop();
    vi.advanceTimersByTime(1000);
    // Waits for anything a timer still fired after the first stop.
    await traffic.stop();

    // Assess
    assert.equal(node.bodies.length, 5);
    assert.deepEqual(traffic.stats, {
      sent: 5,
      failed: 0,
      byTopic: { [TOPICS[0] as string]: 3, [TOPICS[1] as string]: 2 },
    });
  });
});

afterEach(() => {
  vi.useRealTimers();
});
