// buildFleetsJson lists the nodes clients should use, in Status's format, as deterministic bytes.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { EmptyRegistryError, InvalidRegistryError } from '../../../fleet/registry/errors.ts';
import {
  type BuildFleetsJsonInput,
  buildFleetsJson,
  type ListedNode,
} from '../../../fleet/registry/fleets-json.ts';
import { parseFleetsJsonBytes } from '../../../fleet/registry/fleets-json-schema.ts';
import { LOCATIONS, listedNode, sixStoreNodes } from './fixtures.ts';

const SEED = 20260121;
const NOW_MS = Date.UTC(2026, 0, 21, 5, 0, 0, 123);

function input(
  nodes: ListedNode[],
  overrides: Partial<BuildFleetsJsonInput> = {},
): BuildFleetsJsonInput {
  return {
    fleet: 'status.prod',
    hostname: 'storefleet.example.org',
    sequence: 42,
    nowMs: NOW_MS,
    expiresAfterSeconds: 900,
    nodes,
    ...overrides,
  };
}

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('lists the nodes under the kinds clients read', () => {
  it('writes tcp/p2p/waku, the store split and meta with sequence and expiry', () => {
    // Prepare
    const nodes = sixStoreNodes();

    // Act
    const { document } = buildFleetsJson(input(nodes));

    // Assess
    assert.deepEqual(document.meta, {
      hostname: 'storefleet.example.org',
      timestamp: '2026-01-21T05:00:00.123Z',
      sequence: 42,
      expires: '2026-01-21T05:15:00.123Z',
    });
    const fleet = document.fleets['status.prod'] ?? {};
    assert.deepEqual(Object.keys(fleet), [
      'tcp/p2p/waku',
      'tcp/p2p/waku/store',
      'wss/p2p/waku/store',
      'enr/p2p/waku/store',
    ]);
    const first = nodes[0] as ListedNode;
    assert.equal(fleet['tcp/p2p/waku/store']?.[first.id], first.tcp);
    assert.equal(fleet['tcp/p2p/waku']?.[first.id], first.tcp);
    assert.equal(fleet['wss/p2p/waku/store']?.[first.id], first.wss);
    assert.equal(fleet['enr/p2p/waku/store']?.[first.id], first.enr);
    for (const table of Object.values(fleet)) assert.equal(Object.keys(table).length, 6);
    assert.deepEqual(Object.keys(document.fleets), ['status.prod']);
  });

  it('sorts node names and leaves out kinds no node has an address for', () => {
    // Prepare
    const nodes = ['store-02', 'store-01'].map((name) => ({
      id: `${name}.do-ams3.status.prod`,
      tcp: listedNode('store', name === 'store-01' ? 1 : 2, 'do-ams3', 'status.prod').tcp,
    }));

    // Act
    const { document, bytes } = buildFleetsJson(input(nodes));

    // Assess
    const fleet = document.fleets['status.prod'] ?? {};
    assert.deepEqual(Object.keys(fleet), ['tcp/p2p/waku', 'tcp/p2p/waku/store']);
    assert.deepEqual(Object.keys(fleet['tcp/p2p/waku/store'] ?? {}), [
      'store-01.do-ams3.status.prod',
      'store-02.do-ams3.status.prod',
    ]);
    assert.ok(decode(bytes).endsWith('}\n'));
    assert.ok(decode(bytes).indexOf('store-01') < decode(bytes).indexOf('store-02'));
  });

  it('encodes the document as the bytes it returns, which parse back to the same document', () => {
    const { document, bytes } = buildFleetsJson(input(sixStoreNodes()));
    assert.equal(decode(bytes), `${JSON.stringify(document, null, 2)}\n`);
    assert.deepEqual(parseFleetsJsonBytes(bytes), document);
  });
});

describe('refuses what clients must not get', () => {
  it('refuses to build an empty registry', () => {
    assert.throws(
      () => buildFleetsJson(input([])),
      (error: unknown) => {
        assert.ok(error instanceof EmptyRegistryError);
        assert.match(
          error.message,
          /status\.prod that lists no node; keep the previous version published/,
        );
        return true;
      },
    );
  });

  it('refuses malformed addresses, duplicates and a bad sequence, naming each input field', () => {
    // Prepare
    const good = listedNode('store', 1, 'do-ams3', 'status.prod');
    const nodes: ListedNode[] = [
      good,
      { ...good },
      { id: 'store-02.do-ams3.status.prod', tcp: good.wss as string },
      { id: 'store-03.do-ams3.status.prod', tcp: '/dns4/store-03.example.org/tcp/30303' },
      { id: 'store-04.do-ams3.status.prod', tcp: good.tcp, wss: good.tcp, enr: 'enr-nope' },
    ];

    // Act
    const attempt = () => buildFleetsJson(input(nodes, { sequence: 0 }));

    // Assess
    assert.throws(attempt, (error: unknown) => {
      assert.ok(error instanceof InvalidRegistryError);
      assert.deepEqual(
        error.issues.map((issue) => issue.split(':')[0]),
        ['sequence', 'nodes[1].id', 'nodes[2].tcp', 'nodes[3].tcp', 'nodes[4].wss', 'nodes[4].enr'],
      );
      assert.match(error.issues[2] ?? '', /expected plain TCP, found a websocket part/);
      assert.match(error.issues[3] ?? '', /expected it to end in \/p2p\/PEER_ID/);
      assert.match(error.issues[4] ?? '', /expected a secure websocket/);
      return true;
    });
  });
});

/** Any non-empty set of distinct store nodes, in any order, with or without wss and ENR. */
const nodesArbitrary = fc
  .uniqueArray(
    fc.record({
      location: fc.constantFrom(...LOCATIONS),
      index: fc.integer({ min: 1, max: 99 }),
      wss: fc.boolean(),
      enr: fc.boolean(),
    }),
    { minLength: 1, maxLength: 12, selector: (node) => `${node.location}/${node.index}` },
  )
  .map((specs) =>
    specs.map((spec) => {
      const node = listedNode('store', spec.index, spec.location, 'status.prod');
      return {
        id: node.id,
        tcp: node.tcp,
        wss: spec.wss ? node.wss : undefined,
        enr: spec.enr ? node.enr : undefined,
      };
    }),
  );

describe('properties', () => {
  it('build, then parse with the schema, gives back the same document', () => {
    fc.assert(
      fc.property(
        nodesArbitrary,
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        fc.integer({ min: 60, max: 86_400 }),
        (nodes, sequence, nowMs, expiresAfterSeconds) => {
          const built = buildFleetsJson(input(nodes, { sequence, nowMs, expiresAfterSeconds }));
          assert.deepEqual(parseFleetsJsonBytes(built.bytes), built.document);
          assert.equal(
            Date.parse(built.document.meta.expires ?? '') - nowMs,
            expiresAfterSeconds * 1000,
          );
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('the bytes depend on the nodes, not on their order', () => {
    fc.assert(
      fc.property(
        nodesArbitrary.chain((nodes) =>
          fc.tuple(fc.constant(nodes), fc.shuffledSubarray(nodes, { minLength: nodes.length })),
        ),
        ([nodes, shuffled]) => {
          assert.deepEqual(
            buildFleetsJson(input(shuffled)).bytes,
            buildFleetsJson(input(nodes)).bytes,
          );
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });
});
