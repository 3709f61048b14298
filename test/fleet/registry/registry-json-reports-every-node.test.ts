// registry.json reports every node, listed or not, with state, reputation and last probe.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { InvalidRegistryError } from '../../../fleet/registry/errors.ts';
import {
  buildRegistryJson,
  parseRegistryJson,
  type RegistryNodeEntry,
} from '../../../fleet/registry/registry-json.ts';
import { listedNode } from './fixtures.ts';

const NOW_MS = Date.UTC(2026, 0, 21, 6, 30, 0);

function entry(index: number, overrides: Partial<RegistryNodeEntry> = {}): RegistryNodeEntry {
  const node = listedNode('store', index, 'do-ams3', 'status.prod');
  return {
    id: node.id,
    status: 'healthy',
    listed: true,
    reputation: 0.97,
    components: { latency: 0.9, availability: 1, completeness: null },
    lastProbe: { atMs: NOW_MS - 5000, ok: true, latencyMs: 12.5, round: 310, vantagePoints: 2 },
    addresses: { tcp: node.tcp, wss: node.wss, enr: node.enr },
    ...overrides,
  };
}

describe('reports every node', () => {
  it('includes drained and never-measured nodes beside listed ones, sorted by name', () => {
    // Prepare
    const drained = entry(2, {
      status: 'drained',
      listed: false,
      reputation: 0.31,
      reason: 'drained after 2 failing rounds seen by 2 vantage points',
      lastProbe: { atMs: NOW_MS - 5000, ok: false, errorClass: 'timeout', latencyMs: null },
    });
    const fresh = entry(3, {
      status: 'pending',
      listed: false,
      reputation: null,
      components: undefined,
      lastProbe: undefined,
      addresses: {},
    });

    // Act
    const { document, bytes } = buildRegistryJson({
      fleet: 'status.prod',
      hostname: 'storefleet',
      sequence: 7,
      nowMs: NOW_MS,
      expiresAfterSeconds: 900,
      nodes: [fresh, drained, entry(1)],
    });

    // Assess
    assert.deepEqual(document.meta, {
      fleet: 'status.prod',
      hostname: 'storefleet',
      timestamp: '2026-01-21T06:30:00.000Z',
      sequence: 7,
      expires: '2026-01-21T06:45:00.000Z',
    });
    assert.deepEqual(Object.keys(document.nodes), [
      'store-01.do-ams3.status.prod',
      'store-02.do-ams3.status.prod',
      'store-03.do-ams3.status.prod',
    ]);
    assert.deepEqual(document.nodes['store-02.do-ams3.status.prod'], {
      status: 'drained',
      listed: false,
      reputation: 0.31,
      components: { availability: 1, completeness: null, latency: 0.9 },
      lastProbe: {
        at: '2026-01-21T06:29:55.000Z',
        ok: false,
        latencyMs: null,
        errorClass: 'timeout',
      },
      reason: 'drained after 2 failing rounds seen by 2 vantage points',
      addresses: drained.addresses,
    });
    assert.deepEqual(document.nodes['store-03.do-ams3.status.prod'], {
      status: 'pending',
      listed: false,
      reputation: null,
      addresses: {},
    });
    assert.deepEqual(parseRegistryJson(JSON.parse(new TextDecoder().decode(bytes))), document);
  });

  it('refuses duplicate ids, non-finite scores, bad addresses and a listed node without TCP address', () => {
    // Prepare
    const nodes = [
      entry(1),
      entry(1),
      entry(2, { reputation: Number.NaN }),
      entry(3, { components: { latency: Number.POSITIVE_INFINITY } }),
      entry(4, { addresses: { tcp: '/dns4/x.example.org/tcp/1' } }),
      entry(5, { addresses: {} }),
    ];

    // Act + Assess
    assert.throws(
      () =>
        buildRegistryJson({
          fleet: 'status.prod',
          hostname: 'h',
          sequence: 1,
          nowMs: NOW_MS,
          nodes,
        }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidRegistryError);
        assert.deepEqual(
          error.issues.map((issue) => issue.split(':')[0]),
          [
            'nodes[1].id',
            'nodes[2].reputation',
            'nodes[3].components.latency',
            'nodes[4].addresses.tcp',
            'nodes[5].addresses.tcp',
          ],
        );
        return true;
      },
    );
  });
});

describe('properties', () => {
  it('the bytes depend on the entries, not on their order or on the order of component names', () => {
    const entries = fc
      .uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 10 })
      .map((indexes) => indexes.map((i) => entry(i, { reputation: i / 100 })));
    fc.assert(
      fc.property(
        entries.chain((nodes) =>
          fc.tuple(fc.constant(nodes), fc.shuffledSubarray(nodes, { minLength: nodes.length })),
        ),
        ([nodes, shuffled]) => {
          const reordered = shuffled.map((node) => ({
            ...node,
            components: Object.fromEntries(Object.entries(node.components ?? {}).reverse()),
          }));
          const input = { fleet: 'status.prod', hostname: 'h', sequence: 3, nowMs: NOW_MS };
          assert.deepEqual(
            buildRegistryJson({ ...input, nodes: reordered }).bytes,
            buildRegistryJson({ ...input, nodes }).bytes,
          );
        },
      ),
      { seed: 11, numRuns: 100 },
    );
  });
});
