// Acceptance: each fault of the local store node (latency, 503, 429, stall, crash) gives the expected typed error within the caller's deadline.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
import { createProbeDialer, type ProbeDialer } from '../../../waku/client/dialer.ts';
import { health, restStoreQuery } from '../../../waku/client/rest.ts';
import { RateLimitedError, StoreError, WakuError, WakuTimeoutError } from '../../../waku/errors.ts';
import { CLUSTER_ID, type LocalNode, PUBSUB_TOPIC, SHARD, startLocalNode } from './local-node.ts';

const DEADLINE_MS = 400;
/** Timer and event-loop slack allowed past a deadline on a loaded 2-core machine. */
const MARGIN_MS = 300;
const LATENCY_MS = 150;
/** For outcomes other than timeouts: room for injected latency or a dial on a loaded machine. */
const SLOW_ANSWER_DEADLINE_MS = 2000;
const QUERY = { includeData: true, pubsubTopic: PUBSUB_TOPIC, pageSize: 5 } as const;

type Call = (signal: AbortSignal) => Promise<unknown>;

async function timed(
  call: Call,
  deadlineMs = DEADLINE_MS,
): Promise<{ outcome: unknown; elapsedMs: number }> {
  const startedAt = performance.now();
  let outcome: unknown;
  try {
    outcome = await call(AbortSignal.timeout(deadlineMs));
  } catch (error) {
    outcome = error;
  }
  return { outcome, elapsedMs: performance.now() - startedAt };
}

function assertWithinDeadline(elapsedMs: number, deadlineMs = DEADLINE_MS): void {
  assert.ok(elapsedMs <= deadlineMs + MARGIN_MS, `took ${elapsedMs} ms, deadline ${deadlineMs} ms`);
}

describe('faults of the local store node produce typed errors within the deadline', () => {
  let local: LocalNode;
  let dialer: ProbeDialer;

  beforeAll(async () => {
    local = await startLocalNode();
    dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [SHARD] });
    await local.node.publish({
      contentTopic: '/storefleet/1/faults/proto',
      payload: new Uint8Array([1]),
      pubsubTopic: PUBSUB_TOPIC,
    });
    // Warm the connection so each fault is measured on the call, not on the dial.
    await dialer.ping(local.node.tcpAddress, { signal: AbortSignal.timeout(5000) });
  });

  beforeEach(async () => {
    await local.clearFaults();
  });

  afterAll(async () => {
    await dialer.stop();
    await local.stop();
  });

  it('latency below the deadline slows the answer but succeeds', async () => {
    // Prepare
    await local.setFaults({ latencyMs: LATENCY_MS });

    // Act
    const { outcome, elapsedMs } = await timed(
      (signal) => dialer.storeQuery(local.node.tcpAddress, QUERY, { signal }),
      SLOW_ANSWER_DEADLINE_MS,
    );

    // Assess
    assert.ok(!(outcome instanceof Error), String(outcome));
    assert.ok(
      // Node timers have millisecond granularity and may fire a fraction early.
      elapsedMs >= LATENCY_MS - 1,
      `answered in ${elapsedMs} ms despite ${LATENCY_MS} ms latency`,
    );
    assertWithinDeadline(elapsedMs, SLOW_ANSWER_DEADLINE_MS);
  });

  it('latency beyond the deadline is a timeout, for ping, store and REST alike', async () => {
    await local.setFaults({ latencyMs: DEADLINE_MS * 5 });
    for (const call of [
      (signal: AbortSignal) => dialer.ping(local.node.tcpAddress, { signal }),
      (signal: AbortSignal) => dialer.storeQuery(local.node.tcpAddress, QUERY, { signal }),
      (signal: AbortSignal) => health(local.node.restUrl, { signal }),
    ]) {
      const { outcome, elapsedMs } = await timed(call);
      assert.ok(outcome instanceof WakuTimeoutError, String(outcome));
      assertWithinDeadline(elapsedMs);
    }
  });

  it('503 store answers are StoreError 503', async () => {
    await local.setFaults({ storeErrorRate: 1, storeErrorCode: 503 });
    const { outcome, elapsedMs } = await timed(
      (signal) => dialer.storeQuery(local.node.tcpAddress, QUERY, { signal }),
      SLOW_ANSWER_DEADLINE_MS,
    );
    assert.ok(outcome instanceof StoreError && outcome.statusCode === 503, String(outcome));
    assertWithinDeadline(elapsedMs, SLOW_ANSWER_DEADLINE_MS);
  });

  it('429 store answers are RateLimitedError over libp2p and REST', async () => {
    await local.setFaults({ storeErrorRate: 1, storeErrorCode: 429 });
    for (const call of [
      (signal: AbortSignal) => dialer.storeQuery(local.node.tcpAddress, QUERY, { signal }),
      (signal: AbortSignal) => restStoreQuery(local.node.restUrl, QUERY, { signal }),
    ]) {
      const { outcome, elapsedMs } = await timed(call, SLOW_ANSWER_DEADLINE_MS);
      assert.ok(outcome instanceof RateLimitedError && outcome.statusCode === 429, String(outcome));
      assertWithinDeadline(elapsedMs, SLOW_ANSWER_DEADLINE_MS);
    }
  });

  it('a stalled node is a timeout for ping, metadata and store', async () => {
    await local.setFaults({ stall: true });
    for (const call of [
      (signal: AbortSignal) => dialer.ping(local.node.websocketAddress, { signal }),
      (signal: AbortSignal) => dialer.metadata(local.node.tcpAddress, { signal }),
      (signal: AbortSignal) => dialer.storeQuery(local.node.tcpAddress, QUERY, { signal }),
    ]) {
      const { outcome, elapsedMs } = await timed(call);
      assert.ok(outcome instanceof WakuTimeoutError, String(outcome));
      assertWithinDeadline(elapsedMs);
    }
  });

  it('a crash fails the query in flight and refuses the next call, within the deadline', async () => {
    // Prepare: a query held by a stall is in flight when the node crashes.
    await local.setFaults({ stall: true });
    // Its deadline is far off, so only the crash can end it early.
    const inFlight = timed(
      (signal) => dialer.storeQuery(local.node.tcpAddress, QUERY, { signal }),
      SLOW_ANSWER_DEADLINE_MS,
    );

    // Act
    await local.setFaults({ crash: true });
    const failed = await inFlight;
    const next = await timed(
      (signal) => dialer.ping(local.node.tcpAddress, { signal, fresh: true }),
      SLOW_ANSWER_DEADLINE_MS,
    );

    // Assess
    for (const { outcome, elapsedMs } of [failed, next]) {
      assert.ok(outcome instanceof WakuError, String(outcome));
      assert.equal(outcome.errorClass, 'refused', String(outcome));
      assert.ok(elapsedMs < SLOW_ANSWER_DEADLINE_MS, `took ${elapsedMs} ms: the deadline ended it`);
    }
  });
});
