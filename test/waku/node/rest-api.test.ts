// The node's REST API over a real HTTP port, each reply checked against the schemas clients use (waku/rest-schemas.ts).
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { pubsubTopic } from '../../../waku/protocols.ts';
import {
  ActiveFaultsSchema,
  DebugInfoSchema,
  HealthReportSchema,
  parseJsonPreservingIntegers,
  StoreQueryResponseSchema,
} from '../../../waku/rest-schemas.ts';
import { CLUSTER_ID, startTestNode } from './fixtures.ts';

const CONTENT_TOPIC = '/rest-test/1/chat/proto';
const TIMESTAMP_NS = 1_700_000_000_123_456_789n;

describe('store node REST API', () => {
  let node: Awaited<ReturnType<typeof startTestNode>>;
  let hash: string;

  const get = async (path: string) => {
    const reply = await fetch(`${node.restUrl}${path}`);
    return { status: reply.status, text: await reply.text() };
  };
  const postJson = async (path: string, body: string, headers: Record<string, string> = {}) => {
    const reply = await fetch(`${node.restUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: reply.status, text: await reply.text() };
  };

  beforeAll(async () => {
    node = await startTestNode();
    hash = await node.publish({
      contentTopic: CONTENT_TOPIC,
      payload: new TextEncoder().encode('stored'),
      timestampNs: TIMESTAMP_NS,
      meta: Uint8Array.of(1, 2),
      pubsubTopic: pubsubTopic(CLUSTER_ID, 1),
    });
  });

  afterAll(async () => {
    await node?.stop();
    node?.removeDataDir();
  });

  it('reports READY health in the v0.36 spelling', async () => {
    const { status, text } = await get('/health');
    assert.equal(status, 200);
    const report = HealthReportSchema.parse(JSON.parse(text));
    assert.equal(report.nodeHealth, 'READY');
    assert.deepEqual(report.protocolsHealth.slice(0, 2), [{ Relay: 'READY' }, { Store: 'READY' }]);
  });

  it('lists its listen addresses and version', async () => {
    const info = DebugInfoSchema.parse(JSON.parse((await get('/debug/v1/info')).text));
    assert.ok(info.listenAddresses.includes(node.tcpAddress));
    assert.ok(info.listenAddresses.includes(node.websocketAddress));
    const version = await get('/debug/v1/version');
    assert.equal(version.status, 200);
    assert.match(version.text, /^v\d+\.\d+\.\d+/);
  });

  it('answers store queries from its own archive with 0x-hex hashes and exact timestamps', async () => {
    const { status, text } = await get(
      `/store/v3/messages?includeData=true&contentTopics=${encodeURIComponent(CONTENT_TOPIC)}&pageSize=5`,
    );
    assert.equal(status, 200);
    const reply = StoreQueryResponseSchema.parse(parseJsonPreservingIntegers(text));
    assert.equal(reply.statusCode, 200);
    assert.equal(reply.messages.length, 1);
    const [entry] = reply.messages;
    assert.equal(entry?.messageHash, hash);
    assert.equal(entry?.pubsubTopic, pubsubTopic(CLUSTER_ID, 1));
    assert.equal(Buffer.from(entry?.message?.payload ?? '', 'base64').toString(), 'stored');
    assert.equal(entry?.message?.timestamp, TIMESTAMP_NS);
    assert.equal(entry?.message?.meta, Buffer.from([1, 2]).toString('base64'));
  });

  it('looks up by 0x-hex hash and pages with a 0x-hex cursor', async () => {
    const byHash = StoreQueryResponseSchema.parse(
      JSON.parse((await get(`/store/v3/messages?hashes=${hash}`)).text),
    );
    assert.deepEqual(
      byHash.messages.map((entry) => entry.messageHash),
      [hash],
    );
    assert.equal(byHash.messages[0]?.message, undefined, 'includeData defaults to false');
    for (let index = 0; index < 3; index++) {
      await node.publish({
        contentTopic: '/rest-test/1/paging/proto',
        payload: Uint8Array.of(index),
        timestampNs: TIMESTAMP_NS + BigInt(index + 1),
      });
    }
    const topic = encodeURIComponent('/rest-test/1/paging/proto');
    const first = StoreQueryResponseSchema.parse(
      JSON.parse((await get(`/store/v3/messages?contentTopics=${topic}&pageSize=2`)).text),
    );
    assert.equal(first.messages.length, 2);
    assert.ok(first.paginationCursor);
    const second = StoreQueryResponseSchema.parse(
      JSON.parse(
        (
          await get(
            `/store/v3/messages?contentTopics=${topic}&pageSize=2&cursor=${first.paginationCursor}`,
          )
        ).text,
      ),
    );
    assert.equal(second.messages.length, 1);
    assert.equal(second.paginationCursor, undefined);
  });

  it('ANDs a hash query with topic filters, as nwaku does', async () => {
    const query = (contentTopic: string) =>
      `/store/v3/messages?hashes=${hash}&contentTopics=${encodeURIComponent(contentTopic)}`;
    const matching = StoreQueryResponseSchema.parse(
      JSON.parse((await get(query(CONTENT_TOPIC))).text),
    );
    assert.equal(matching.statusCode, 200);
    assert.deepEqual(
      matching.messages.map((entry) => entry.messageHash),
      [hash],
    );
    const other = StoreQueryResponseSchema.parse(
      JSON.parse((await get(query('/rest-test/1/elsewhere/proto'))).text),
    );
    assert.deepEqual(other.messages, []);
  });

  it('rejects malformed query parameters with 400 naming the parameter', async () => {
    for (const [query, field] of [
      ['startTime=yesterday', 'startTime'],
      ['hashes=0x1234', 'hashes'],
      ['cursor=nope', 'cursor'],
      ['pageSize=-1', 'pageSize'],
    ] as const) {
      const { status, text } = await get(`/store/v3/messages?${query}`);
      assert.equal(status, 400, query);
      assert.match(text, new RegExp(`^${field}:`), query);
    }
  });

  it('publishes to a named pubsub topic and refuses one it does not relay', async () => {
    const topic = encodeURIComponent(pubsubTopic(CLUSTER_ID, 32));
    const ok = await postJson(
      `/relay/v1/messages/${topic}`,
      JSON.stringify({ payload: 'aGk=', contentTopic: '/rest-test/1/named/proto' }),
    );
    assert.deepEqual(ok, { status: 200, text: 'OK' });
    const stored = StoreQueryResponseSchema.parse(
      JSON.parse(
        (
          await get(
            `/store/v3/messages?pubsubTopic=${topic}&contentTopics=${encodeURIComponent('/rest-test/1/named/proto')}`,
          )
        ).text,
      ),
    );
    assert.equal(stored.messages.length, 1);
    const foreign = await postJson(
      `/relay/v1/messages/${encodeURIComponent(pubsubTopic(CLUSTER_ID, 7))}`,
      JSON.stringify({ payload: 'aGk=', contentTopic: '/rest-test/1/named/proto' }),
    );
    assert.equal(foreign.status, 400);
    assert.match(foreign.text, /^pubsubTopic:/);
  });

  it('rejects bad relay bodies with 400 naming the field', async () => {
    const cases: [string, RegExp][] = [
      ['{"payload": 5, "contentTopic": "/a/1/b/proto"}', /^payload:/],
      ['{"payload": "aGk="}', /^contentTopic:/],
      ['{"payload": "aGk=", "contentTopic": "not-a-topic"}', /^contentTopic:/],
      ['{"payload": "aGk=", "contentTopic": "/a/1/b/proto", "timestamp": -1}', /^timestamp:/],
      ['not json', /^body:/],
    ];
    for (const [body, expected] of cases) {
      const { status, text } = await postJson('/relay/v1/auto/messages', body);
      assert.equal(status, 400, body);
      assert.match(text, expected, body);
    }
  });

  it('guards the fault endpoint with the admin bearer token', async () => {
    const anonymous = await fetch(`${node.restUrl}/admin/v1/faults`);
    assert.equal(anonymous.status, 401);
    const wrong = await fetch(`${node.restUrl}/admin/v1/faults`, {
      headers: { authorization: 'Bearer wrong' },
    });
    assert.equal(wrong.status, 403);
    const right = await fetch(`${node.restUrl}/admin/v1/faults`, {
      headers: { authorization: 'Bearer test-admin-token' },
    });
    assert.equal(right.status, 200);
    assert.deepEqual(ActiveFaultsSchema.parse(await right.json()).stall, false);
    const invalid = await postJson('/admin/v1/faults', '{"storeErrorRate": 2}', {
      authorization: 'Bearer test-admin-token',
    });
    assert.equal(invalid.status, 400);
    assert.match(invalid.text, /^storeErrorRate:/);
  });
});

describe('store node REST API without an admin token', () => {
  it('refuses fault injection with 403', async () => {
    const node = await startTestNode({ adminToken: undefined });
    try {
      const reply = await fetch(`${node.restUrl}/admin/v1/faults`, {
        method: 'POST',
        headers: { authorization: 'Bearer anything' },
        body: '{"stall": true}',
      });
      assert.equal(reply.status, 403);
      assert.equal(node.faults.active.stall, false);
    } finally {
      await node.stop();
      node.removeDataDir();
    }
  });
});
