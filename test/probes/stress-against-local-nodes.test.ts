// Acceptance: open-model stress against a real local store node over libp2p and REST, with injected latency, overload and errors.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
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

const INJECTED_LATENCY_MS = 100;
/** How far above injected latency + the twin's p50 the p50 may sit: scheduling and timer jitter. */
const P50_MARGIN_MS = 25;
/** On a quiet machine the twin's p50 is a few ms, so the ceiling stays near L + 35 ms. */
const TWIN_WAKE_UPS = 3;
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
  /** A twin node without faults, loaded at the same time: the machine's own noise, measured. */
  let control: ChildStoreNode;
  let dialer: ProbeDialer;

  beforeAll(async () => {
    [target, control] = await Promise.all([
      startChildStoreNode('eu-central'),
      startChildStoreNode('us-east', { index: 1 }),
    ]);
    dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [SHARD] });
    for (const node of [target, control]) {
      for (let i = 0; i < 30; i++) {
        await node.publish(CONTENT_TOPIC, new TextEncoder().encode(`stress ${i}`));
      }
      // The connection is opened before the clock starts, as the stress of an open connection is measured.
      await dialer.ping(node.target.multiaddr, { signal: AbortSignal.timeout(5000) });
      // The first queries on a connection pay for JIT warm-up and stream setup (~100 ms); a prober's are long warm.
      for (let i = 0; i < 20; i++) {
        await dialer.storeQuery(node.target.multiaddr, QUERY, {
          signal: AbortSignal.timeout(5000),
        });
      }
    }
  });

  beforeEach(async () => {
    await Promise.all([target.clearFaults(), control.clearFaults()]);
  });

  afterAll(async () => {
    await dialer.stop();
    await Promise.all([target.stop(), control.stop()]);
  });

  const transports: Array<[string, (node: ChildStoreNode) => StressTarget]> = [
    ['libp2p', (node) => libp2pStressTarget(dialer, node.target.multiaddr, QUERY)],
    ['REST', (node) => restStressTarget(node.restUrl, QUERY, { connections: 40 })],
  ];
  for (const [name, makeTarget] of transports) {
    it(`over ${name}, measures a p50 just above the injected latency`, async () => {
      // Prepare
      await target.setFaults({ latencyMs: INJECTED_LATENCY_MS });
      const faulty = makeTarget(target);
      const twin = makeTarget(control);
      const load = { ratePerSecond: 40, durationSeconds: 1.5, connections: 40 };

      // Act: both at once, so that whatever else the machine does weighs on both alike.
      const [report, baseline] = await Promise.all([
        runStress(
          { target: faulty, clock, isDrained: () => false },
          { ...load, nodeId: target.nodeId },
          settings,
        ),
        runStress(
          { target: twin, clock, isDrained: () => false },
          { ...load, nodeId: control.nodeId },
          settings,
        ),
      ]);
      await Promise.all([faulty.close(), twin.close()]);

      // Assess
      const counts = JSON.stringify({
        ...report.errorsByClass,
        dropped: report.dropped,
        latency: report.latency,
      });
      assert.equal(report.failed, 0, counts);
      assert.equal(report.succeeded + report.dropped, 60, counts);
      assert.ok(report.succeeded >= 57, counts);
      const { p50Ms } = report.summary;
      assert.ok(p50Ms >= INJECTED_LATENCY_MS, `p50 ${p50Ms} ms below the injected latency`);
      // Each wake-up of a starved process costs about the twin's p50; the injected delay adds
      // wake-ups (its timer, the reply) that the twin's answers do not have.
      const ceilingMs =
        INJECTED_LATENCY_MS + TWIN_WAKE_UPS * baseline.latency.p50Ms + P50_MARGIN_MS;
      assert.ok(p50Ms <= ceilingMs, `p50 ${p50Ms} ms, twin's p50 ${baseline.latency.p50Ms} ms`);
      assert.equal(StressSummarySchema.parse(report.summary).transport, faulty.transport);
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
