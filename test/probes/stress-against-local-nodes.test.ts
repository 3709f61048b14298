// Acceptance: open-model stress against a real local store node over libp2p and REST, with injected latency, overload and errors.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { StressSummarySchema } from '../../fleet/observations.ts';
import { runStress, type StressConfig } from '../../probes/stress/run-stress.ts';
import {
  libp2pStressTarget,
  restStressTarget,
  type StressTarget,
} from '../../probes/stress/stress-targets.ts';
import { createProbeDialer, type ProbeDialer } from '../../waku/client/dialer.ts';
import type { StoreQuery } from '../../waku/client/store-types.ts';
import {
  type ChildStoreNode,
  CLUSTER_ID,
  CONTENT_TOPIC,
  PUBSUB_TOPIC,
  SHARD,
  startChildStoreNode,
} from './local-fleet.ts';

const INJECTED_LATENCY_MS = 60;
/** How far above the injected latency p50 may sit: the query itself, scheduling and timer jitter. */
const P50_MARGIN_MS = 30;
const settings: StressConfig = {
  maxRatePerSecond: 2000,
  maxConnections: 500,
  maxDurationSeconds: 10,
  errorBudget: 0.05,
  sloP99Ms: 1000,
};
const clock = { nowMs: () => Date.now() };
const QUERY: StoreQuery = {
  includeData: true,
  pubsubTopic: PUBSUB_TOPIC,
  contentTopics: [CONTENT_TOPIC],
  forward: false,
  pageSize: 20,
};

describe('stress against a local store node', () => {
  let target: ChildStoreNode;
  let dialer: ProbeDialer;

  before(async () => {
    target = await startChildStoreNode('eu-central');
    for (let i = 0; i < 30; i++) {
      await target.publish(CONTENT_TOPIC, new TextEncoder().encode(`stress ${i}`));
    }
    dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [SHARD] });
    // The connection is opened before the clock starts, as the stress of an open connection is measured.
    await dialer.ping(target.target.multiaddr, { signal: AbortSignal.timeout(5000) });
    // The first queries on a connection pay for JIT warm-up and stream setup (~100 ms); a prober's are long warm.
    for (let i = 0; i < 20; i++) {
      await dialer.storeQuery(target.target.multiaddr, QUERY, {
        signal: AbortSignal.timeout(5000),
      });
    }
  });

  beforeEach(async () => {
    await target.clearFaults();
  });

  after(async () => {
    await dialer.stop();
    await target.stop();
  });

  const transports: Array<[string, () => StressTarget]> = [
    ['libp2p', () => libp2pStressTarget(dialer, target.target.multiaddr, QUERY)],
    ['REST', () => restStressTarget(target.restUrl, QUERY, { connections: 40 })],
  ];
  for (const [name, makeTarget] of transports) {
    it(`over ${name}, measures a p50 just above the injected latency`, async () => {
      // Prepare
      await target.setFaults({ latencyMs: INJECTED_LATENCY_MS });
      const stressTarget = makeTarget();

      // Act
      const report = await runStress(
        { target: stressTarget, clock, isDrained: () => false },
        { nodeId: target.nodeId, ratePerSecond: 40, durationSeconds: 1.5, connections: 40 },
        settings,
      );
      await stressTarget.close();

      // Assess
      const counts = JSON.stringify({
        ...report.errorsByClass,
        dropped: report.dropped,
        latency: report.latency,
      });
      assert.equal(report.failed, 0, counts);
      assert.equal(report.dropped, 0, counts);
      assert.equal(report.succeeded, 60, counts);
      const { p50Ms } = report.summary;
      assert.ok(p50Ms >= INJECTED_LATENCY_MS, `p50 ${p50Ms} ms below the injected latency`);
      assert.ok(p50Ms <= INJECTED_LATENCY_MS + P50_MARGIN_MS, `p50 ${p50Ms} ms`);
      assert.ok(report.summary.sloMet);
      assert.equal(StressSummarySchema.parse(report.summary).transport, stressTarget.transport);
    });
  }

  it('shows an overloaded node as dropped requests and a p99 counted from the intended send time', async () => {
    // Prepare: 8 streams at 400 ms serve 20 req/s; 150 req/s are asked for.
    await target.setFaults({ latencyMs: 400 });
    const stressTarget = libp2pStressTarget(dialer, target.target.multiaddr, QUERY);

    // Act
    const report = await runStress(
      { target: stressTarget, clock, isDrained: () => false },
      { nodeId: target.nodeId, ratePerSecond: 150, durationSeconds: 1, connections: 8 },
      settings,
    );

    // Assess
    assert.equal(report.scheduled, 150);
    assert.ok(report.dropped >= 100, `dropped ${report.dropped}`);
    assert.equal(report.sent + report.dropped, report.scheduled);
    assert.ok(report.latency.p99Ms >= 400);
    assert.ok(report.summary.errorRate >= 0.6, `error rate ${report.summary.errorRate}`);
    assert.ok(report.summary.achievedRatePerSecond < 30);
    assert.equal(report.summary.sloMet, false);
  });

  it('aborts when the node answers errors beyond the error budget', async () => {
    // Prepare
    await target.setFaults({ storeErrorRate: 1, storeErrorCode: 503 });
    const stressTarget = libp2pStressTarget(dialer, target.target.multiaddr, QUERY);

    // Act
    const report = await runStress(
      { target: stressTarget, clock, isDrained: () => false },
      { nodeId: target.nodeId, ratePerSecond: 200, durationSeconds: 2, connections: 20 },
      settings,
    );

    // Assess
    assert.equal(report.summary.aborted, true);
    assert.match(report.abortReason ?? '', /error budget exceeded/);
    assert.ok((report.errorsByClass.store_error ?? 0) >= 20);
    assert.ok(report.notSent > 300, `only ${report.notSent} requests were spared`);
    assert.equal(report.summary.sloMet, false);
  });

  it('classifies a node answering 429 as rate limited', async () => {
    // Prepare
    await target.setFaults({ storeErrorRate: 1, storeErrorCode: 429 });
    const stressTarget = restStressTarget(target.restUrl, QUERY, { connections: 25 });

    // Act
    const report = await runStress(
      { target: stressTarget, clock, isDrained: () => false },
      { nodeId: target.nodeId, ratePerSecond: 50, durationSeconds: 0.5, connections: 25 },
      { ...settings, errorBudget: 1 },
    );
    await stressTarget.close();

    // Assess
    assert.equal(report.succeeded, 0);
    assert.equal(report.failed + report.dropped, 25);
    assert.deepEqual(report.errorsByClass, { rate_limited: report.failed });
    assert.ok(report.failed >= 20, `only ${report.failed} answers`);
  });
});
