// History completeness over in-memory archives: holes, late answers by hash, silent nodes and window choice.
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  type CompletenessConfig,
  type HistoryWindow,
  laggedWindow,
  measureCompleteness,
  type StoreHashSource,
  storeHashSource,
} from '../../probes/completeness.ts';
import type { StoreQuery, StoreQueryPage } from '../../waku/client/store-types.ts';

const settings: CompletenessConfig = {
  intervalSeconds: 60,
  windowSeconds: 120,
  lagSeconds: 30,
  pageSize: 10,
  hashBatchSize: 4,
  retries: 1,
};
const window: HistoryWindow = { startMs: 1_000_000, endMs: 1_120_000 };
const clock = { nowMs: () => 2_000_000 };

const hash = (i: number) => `0x${i.toString(16).padStart(64, '0')}`;

/** An archive in memory; `listed` may hide hashes that `holds` still finds (as a lagging index would). */
function memorySource(
  nodeId: string,
  archive: string[],
  options: { unlisted?: Set<string>; failListing?: boolean; failLookups?: number } = {},
): StoreHashSource & { lookups: number } {
  let failuresLeft = options.failLookups ?? 0;
  const source = {
    nodeId,
    lookups: 0,
    async hashPage({ cursor, pageSize }: { cursor?: string; pageSize: number }) {
      if (options.failListing) throw new Error('connection refused');
      const listed = archive.filter((h) => !options.unlisted?.has(h));
      const start = cursor === undefined ? 0 : listed.indexOf(cursor) + 1;
      const hashes = listed.slice(start, start + pageSize);
      const last = hashes.at(-1);
      return start + pageSize < listed.length && last !== undefined
        ? { hashes, cursor: last }
        : { hashes };
    },
    async holds(hashes: string[]) {
      source.lookups++;
      if (failuresLeft > 0) {
        failuresLeft--;
        throw new Error('stream reset');
      }
      return new Set(hashes.filter((h) => archive.includes(h)));
    },
  };
  return source;
}

const all = Array.from({ length: 30 }, (_, i) => hash(i));

describe('history completeness', () => {
  it('gives completeness below 1 to exactly the node with a hole', async () => {
    // Prepare
    const holey = all.filter((_, i) => i % 5 !== 0);
    const sources = [
      memorySource('store-01.eu.t', all),
      memorySource('store-02.eu.t', holey),
      memorySource('store-03.eu.t', all),
    ];

    // Act
    const results = await measureCompleteness({
      sources,
      vantageId: 'vp-eu',
      settings,
      clock,
      window,
    });

    // Assess
    assert.deepEqual(
      results.map((r) => [r.nodeId, r.completeness, r.heldCount, r.missingCount, r.unknownCount]),
      [
        ['store-01.eu.t', 1, 30, 0, 0],
        ['store-02.eu.t', 24 / 30, 24, 6, 0],
        ['store-03.eu.t', 1, 30, 0, 0],
      ],
    );
    assert.ok(results.every((r) => r.unionCount === 30 && r.windowStartMs === window.startMs));
  });

  it('counts a hash found when re-asked by hash as held', async () => {
    // Prepare: the node holds everything but its listing skips two messages.
    const sources = [
      memorySource('store-01.eu.t', all),
      memorySource('store-02.eu.t', all, { unlisted: new Set([hash(3), hash(4)]) }),
    ];

    // Act
    const [, lagging] = await measureCompleteness({
      sources,
      vantageId: 'vp-eu',
      settings,
      clock,
      window,
    });

    // Assess
    assert.equal(lagging?.completeness, 1);
    assert.equal(lagging?.heldCount, 30);
  });

  it('reports a silent node as null and a failed re-ask as unknown', async () => {
    // Prepare: store-03 lacks 8 hashes (two batches of 4) and its lookups fail more often than retries allow for the first batch.
    const sources = [
      memorySource('store-01.eu.t', all),
      memorySource('store-02.eu.t', all, { failListing: true }),
      memorySource('store-03.eu.t', all.slice(0, 22), { failLookups: 2 }),
    ];

    // Act
    const [, silent, flaky] = await measureCompleteness({
      sources,
      vantageId: 'vp-eu',
      settings,
      clock,
      window,
    });

    // Assess
    assert.equal(silent?.completeness, null);
    assert.equal(silent?.unknownCount, 30);
    assert.equal(flaky?.unknownCount, 4);
    assert.equal(flaky?.missingCount, 4);
    assert.equal(flaky?.completeness, 22 / 26);
  });

  it('asks about an aligned window that ended at least lagSeconds ago', () => {
    const nowMs = Date.UTC(2026, 0, 1, 12, 5, 10);
    const chosen = laggedWindow(nowMs, settings);
    assert.equal(chosen.endMs, Date.UTC(2026, 0, 1, 12, 4, 0));
    assert.equal(chosen.endMs - chosen.startMs, 120_000);
    assert.ok(chosen.endMs <= nowMs - settings.lagSeconds * 1000);
  });

  it('asks a store for hashes only, with the fleet topics, and looks hashes up without topics', async () => {
    // Prepare
    const queries: StoreQuery[] = [];
    const source = storeHashSource(
      async (query): Promise<StoreQueryPage> => {
        queries.push(query);
        return {
          requestId: 'r',
          statusCode: 200,
          statusDesc: 'OK',
          messages: [{ hash: hash(1).toUpperCase().replace('0X', '0x') }],
        };
      },
      { nodeId: 'n', pubsubTopic: '/waku/2/rs/16/32', contentTopics: ['/a/1/b/proto'] },
    );

    // Act
    const page = await source.hashPage(
      { window, pageSize: 100 },
      { signal: AbortSignal.timeout(1000) },
    );
    const held = await source.holds([hash(1), hash(2)], { signal: AbortSignal.timeout(1000) });

    // Assess
    assert.deepEqual(queries[0], {
      includeData: false,
      pubsubTopic: '/waku/2/rs/16/32',
      contentTopics: ['/a/1/b/proto'],
      timeStartNs: 1_000_000_000_000n,
      timeEndNs: 1_119_999_999_999n,
      forward: true,
      pageSize: 100,
    });
    assert.deepEqual(queries[1], {
      includeData: false,
      messageHashes: [hash(1), hash(2)],
      pageSize: 2,
    });
    assert.equal(page.hashes.length, 1);
    assert.deepEqual([...held], [hash(1)]);
  });
});
