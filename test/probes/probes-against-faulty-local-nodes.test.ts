// Acceptance: probe rounds and completeness against real local store nodes with injected faults, over real libp2p and HTTP.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
import type { ProbeResult } from '../../fleet/observations.ts';
import { measureCompleteness, storeHashSource } from '../../probes/completeness.ts';
import { runProbeRound } from '../../probes/probe-round.ts';
import { createProbeDialer, type ProbeDialer } from '../../waku/client/dialer.ts';
import { health, restStoreQuery } from '../../waku/client/rest.ts';
import {
  type ChildStoreNode,
  CLUSTER_ID,
  CONTENT_TOPIC,
  fastProbeConfig,
  PUBSUB_TOPIC,
  SHARD,
  startChildFleet,
} from './local-fleet.ts';

/** Timer and event-loop slack past a deadline on a loaded 2-core machine. */
const DEADLINE_MARGIN_MS = 250;
const clock = { nowMs: () => Date.now() };

function resultOf(results: readonly ProbeResult[], nodeId: string, kind: string): ProbeResult {
  const found = results.find((r) => r.nodeId === nodeId && r.kind === kind);
  assert.ok(found, `no ${kind} result for ${nodeId}`);
  return found;
}

describe('probes against faulty local store nodes', () => {
  let fleet: Awaited<ReturnType<typeof startChildFleet>>;
  let dialer: ProbeDialer;

  beforeAll(async () => {
    fleet = await startChildFleet([
      { name: 'eu-central' },
      { name: 'us-east' },
      { name: 'ap-east' },
      { name: 'misconfigured', clusterId: 1 },
    ]);
    dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [SHARD] });
  });

  beforeEach(async () => {
    await fleet.clearFaults();
  });

  afterAll(async () => {
    await dialer.stop();
    await fleet.stop();
  });

  it('reports a stalled node as timeouts within the deadline, 429 as rate_limited and a foreign cluster as wrong_cluster', async () => {
    // Prepare
    const [healthy, stalled, limited, foreign] = fleet.nodes as [
      ChildStoreNode,
      ChildStoreNode,
      ChildStoreNode,
      ChildStoreNode,
    ];
    await healthy.publish(
      CONTENT_TOPIC,
      new TextEncoder().encode('fresh'),
      BigInt(Date.now() - 2000) * 1_000_000n,
    );
    await stalled.setFaults({ stall: true });
    await limited.setFaults({ storeErrorRate: 1, storeErrorCode: 429 });
    const probe = fastProbeConfig();
    const startedAt = performance.now();

    // Act
    const round = await runProbeRound(
      { dialer, rest: { health }, clock },
      {
        vantage: { id: 'vp-eu', reachesRest: true },
        round: 0,
        targets: fleet.nodes.map((n) => n.target),
        probe,
        clusterId: CLUSTER_ID,
        pubsubTopic: PUBSUB_TOPIC,
      },
    );
    const elapsedMs = performance.now() - startedAt;

    // Assess
    assert.ok(
      elapsedMs <= probe.roundDeadlineMs + DEADLINE_MARGIN_MS,
      `round took ${elapsedMs} ms, deadline ${probe.roundDeadlineMs} ms`,
    );
    for (const kind of ['ping', 'metadata', 'store'] as const) {
      const late = resultOf(round.results, stalled.nodeId, kind);
      assert.equal(late.errorClass, 'timeout', `${kind}: ${late.errorMessage}`);
    }
    for (const kind of ['ping', 'metadata', 'store', 'health'] as const) {
      const ok = resultOf(round.results, healthy.nodeId, kind);
      assert.equal(ok.ok, true, `${kind}: ${ok.errorMessage}`);
    }
    const freshness = resultOf(round.results, healthy.nodeId, 'store').newestMessageAgeMs;
    assert.ok(
      freshness !== null && freshness !== undefined && freshness >= 2000 && freshness < 10_000,
    );
    assert.equal(resultOf(round.results, healthy.nodeId, 'ping').freshDial, true);
    assert.equal(resultOf(round.results, healthy.nodeId, 'health').nodeHealth, 'READY');

    const limitedStore = resultOf(round.results, limited.nodeId, 'store');
    assert.equal(limitedStore.errorClass, 'rate_limited');
    assert.equal(limitedStore.statusCode, 429);
    assert.equal(resultOf(round.results, limited.nodeId, 'ping').ok, true);

    const foreignMetadata = resultOf(round.results, foreign.nodeId, 'metadata');
    assert.equal(
      foreignMetadata.errorClass,
      'wrong_cluster',
      JSON.stringify(round.results.filter((r) => r.nodeId === foreign.nodeId)),
    );
    assert.equal(foreignMetadata.clusterId, 1);
  });

  it('finds completeness below 1 for exactly the node with a history hole', async () => {
    // Prepare: the same 40 messages reach every cluster-16 node; one node drops half from its archive.
    const nodes = fleet.nodes.slice(0, 3);
    const holey = nodes[2];
    assert.ok(holey);
    await holey.setFaults({ dropArchiveRate: 0.5 });
    // Its own topic keeps the freshness test's message out of the window.
    const HISTORY_TOPIC = '/storefleet/1/history/proto';
    // Within the 20 s nodes allow between a message's timestamp and their clock, as nwaku.
    const firstMs = Date.now() - 10_000;
    for (let i = 0; i < 40; i++) {
      const payload = new TextEncoder().encode(`history ${i}`);
      const timestampNs = BigInt(firstMs + i * 100) * 1_000_000n;
      for (const node of nodes) await node.publish(HISTORY_TOPIC, payload, timestampNs);
    }
    const window = { startMs: firstMs - 1000, endMs: firstMs + 10_000 };

    // Act
    const results = await measureCompleteness({
      sources: nodes.map(({ target }) =>
        storeHashSource((query, signal) => dialer.storeQuery(target.multiaddr, query, { signal }), {
          nodeId: target.nodeId,
          pubsubTopic: PUBSUB_TOPIC,
          contentTopics: [HISTORY_TOPIC],
        }),
      ),
      vantageId: 'vp-eu',
      settings: {
        intervalSeconds: 60,
        windowSeconds: 11,
        lagSeconds: 30,
        pageSize: 100,
        hashBatchSize: 25,
        retries: 1,
      },
      clock,
      window,
    });

    // Assess
    const byNode = new Map(results.map((r) => [r.nodeId, r]));
    for (const { nodeId } of nodes.slice(0, 2)) {
      assert.equal(byNode.get(nodeId)?.completeness, 1, nodeId);
      assert.equal(byNode.get(nodeId)?.unionCount, 40);
    }
    const hole = byNode.get(holey.nodeId);
    assert.ok(hole && hole.completeness !== null && hole.completeness < 1, JSON.stringify(hole));
    assert.equal(hole.heldCount + hole.missingCount, 40);
    // What the node itself lists over REST agrees with what libp2p completeness found.
    const own = await restStoreQuery(
      holey.restUrl,
      {
        includeData: false,
        pubsubTopic: PUBSUB_TOPIC,
        contentTopics: [HISTORY_TOPIC],
        timeStartNs: BigInt(window.startMs) * 1_000_000n,
        timeEndNs: BigInt(window.endMs) * 1_000_000n,
        pageSize: 100,
      },
      { signal: AbortSignal.timeout(5000) },
    );
    assert.equal(hole.heldCount, own.messages.length);
    assert.ok(hole.missingCount > 0);
    assert.equal(hole.unknownCount, 0);
  });
});
