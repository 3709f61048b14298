// The completeness and stress handlers against local store nodes: an archive gap found and recorded, a capped stress test measured.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { identityFromInfo } from '../../../control/node-addresses.ts';
import { METRICS } from '../../../fleet/metrics.ts';
import { createCompletenessHandler } from '../../../lambdas/completeness/completeness-handler.ts';
import { DynamoObservationReader } from '../../../lambdas/shared/observation-reader.ts';
import { createStressHandler } from '../../../lambdas/stress/stress-handler.ts';
import { StressValidationError } from '../../../probes/stress/run-stress.ts';
import { info } from '../../../waku/client/rest.ts';
import {
  CONTENT_TOPIC,
  FLEET,
  fakeContext,
  type LocalFleet,
  NODE_IDS,
  PROBE_RESULTS_TABLE,
  quietLog,
  recordingMetrics,
  startLocalFleet,
} from './local-fleet-fixture.ts';

const WINDOW_MS = 60_000;
let fleet: LocalFleet;

beforeAll(async () => {
  fleet = await startLocalFleet();
  for (const [nodeId, node] of fleet.nodes) {
    const reply = await info(node.restUrl, { signal: AbortSignal.timeout(5000) });
    await fleet.directory.record(identityFromInfo(nodeId, reply, Date.now()));
  }
});

afterAll(async () => {
  await fleet.close();
});

describe('the completeness handler', () => {
  it('finds the message one archive lacks in the fleet-wide window and records it', async () => {
    // Prepare: a closed window in the past; store-02 never got the third message.
    const windowStartMs = Math.floor((Date.now() - 2 * WINDOW_MS) / WINDOW_MS) * WINDOW_MS;
    const [full, holed] = NODE_IDS.map((id) => fleet.nodes.get(id));
    for (let i = 0; i < 3; i++) {
      const message = {
        contentTopic: CONTENT_TOPIC,
        payload: new TextEncoder().encode(`message ${i}`),
        timestampNs: BigInt(windowStartMs + 1000 + i * 100) * 1_000_000n,
      };
      await full?.publish(message);
      if (i < 2) await holed?.publish(message);
    }
    const metrics = recordingMetrics();
    const clock = { nowMs: () => windowStartMs + WINDOW_MS + 1000 };
    const handler = createCompletenessHandler({
      controlPlane: fleet.controlPlane,
      store: fleet.store,
      directory: fleet.directory,
      createDialer: fleet.createDialer,
      clock,
      metrics,
      log: quietLog,
    });

    // Act
    const result = await handler({}, fakeContext('completeness', { nowMs: Date.now }, 60_000));

    // Assess
    assert.equal(result.windowStartMs, windowStartMs);
    const byNode = new Map(result.results.map((r) => [r.nodeId, r]));
    assert.equal(byNode.get(NODE_IDS[0] as string)?.completeness, 1);
    assert.equal(byNode.get(NODE_IDS[1] as string)?.missingCount, 1);
    const recorded = await new DynamoObservationReader({
      fleet: FLEET,
      probeResultsTableName: PROBE_RESULTS_TABLE,
      client: fleet.dynamo.client,
    }).latestCompleteness(NODE_IDS);
    assert.equal(recorded.length, 2);
    assert.ok(metrics.flushed.some((m) => m.name === METRICS.incompleteNodes && m.value === 1));
  });
});

describe('the stress handler', () => {
  function stressHandler(metrics = recordingMetrics()) {
    return createStressHandler({
      controlPlane: fleet.controlPlane,
      store: fleet.store,
      drains: fleet.drains,
      directory: fleet.directory,
      createDialer: fleet.createDialer,
      restUrlOf: (nodeId) => fleet.nodes.get(nodeId)?.restUrl,
      clock: { nowMs: Date.now },
      metrics,
      log: quietLog,
    });
  }

  it('stresses a listed node within the caps, records the summary and reports its p99', async () => {
    // Prepare
    const metrics = recordingMetrics();
    const request = {
      nodeId: NODE_IDS[0],
      rate: 20,
      durationSeconds: 1,
      connections: 2,
      transport: 'libp2p',
    };

    // Act
    const summary = await stressHandler(metrics)(
      request,
      fakeContext('stress', { nowMs: Date.now }),
    );

    // Assess
    assert.equal(summary.nodeId, NODE_IDS[0]);
    assert.equal(summary.transport, 'libp2p');
    assert.ok(summary.achievedRatePerSecond > 0);
    const recorded = await new DynamoObservationReader({
      fleet: FLEET,
      probeResultsTableName: PROBE_RESULTS_TABLE,
      client: fleet.dynamo.client,
    }).latestStress([NODE_IDS[0] as string]);
    assert.deepEqual(recorded, [summary]);
    assert.ok(metrics.flushed.some((m) => m.name === METRICS.stressP99Ms));
  });

  it('refuses a rate above stress.maxRatePerSecond before sending anything', async () => {
    await assert.rejects(
      stressHandler()(
        { nodeId: NODE_IDS[0], rate: 1000, durationSeconds: 1, connections: 1, transport: 'rest' },
        fakeContext('stress', { nowMs: Date.now }),
      ),
      (error: Error) => error instanceof StressValidationError && /rate/.test(error.message),
    );
  });

  it('refuses a node an operator drained', async () => {
    // Prepare
    const drains = fleet.drains();
    await drains.drained();
    await drains.setDrained(new Set([NODE_IDS[1] as string]));

    // Act and assess
    await assert.rejects(
      stressHandler()(
        { nodeId: NODE_IDS[1], rate: 10, durationSeconds: 1, connections: 1, transport: 'libp2p' },
        fakeContext('stress', { nowMs: Date.now }),
      ),
      (error: Error) => error instanceof StressValidationError && /drained/.test(error.message),
    );
  });
});
