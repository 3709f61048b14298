// The stress generator against a loopback HTTP server: coordinated omission, drops under overload, the error budget and the caps.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { StressSummarySchema } from '../../fleet/observations.ts';
import { renderStressReportHtml } from '../../probes/stress/report-html.ts';
import {
  checkStressLimits,
  runStress,
  type StressConfig,
  StressValidationError,
} from '../../probes/stress/run-stress.ts';
import { restStressTarget } from '../../probes/stress/stress-targets.ts';
import { restWorkersStressTarget } from '../../probes/stress/worker-load.ts';

const settings: StressConfig = {
  maxRatePerSecond: 2000,
  maxConnections: 500,
  maxDurationSeconds: 120,
  errorBudget: 0.05,
  sloP99Ms: 2000,
};
const clock = { nowMs: () => Date.now() };
const INJECTED_LATENCY_MS = 100;
/** Above injected latency + the uninjected p50: timer and scheduling jitter on a busy machine. */
const P50_MARGIN_MS = 30;
const notDrained = () => false;
const query = { includeData: false, pubsubTopic: '/waku/2/rs/16/32', pageSize: 20 };

/** A REST store stand-in whose latency and status the test sets per request. */
let behaviour: { latencyMs: number; httpStatus: number; storeStatus: number } = {
  latencyMs: 0,
  httpStatus: 200,
  storeStatus: 200,
};
let server: Server;
let restUrl: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const { latencyMs, httpStatus, storeStatus } = behaviour;
    const answer = () => {
      res.writeHead(httpStatus, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ requestId: '', statusCode: storeStatus, statusDesc: '', messages: [] }),
      );
    };
    if (latencyMs > 0) setTimeout(answer, latencyMs);
    else answer();
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  restUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('the stress generator', () => {
  it('measures a p50 just above the injected latency', async () => {
    // Prepare
    // Room for 0.5 s of stall at 200/s, so a busy machine shows up as lateness rather than drops.
    const target = restStressTarget(restUrl, query, { connections: 120 });
    const load = { nodeId: 'store-01.eu.t', ratePerSecond: 200, connections: 120 };
    behaviour = { latencyMs: 0, httpStatus: 200, storeStatus: 200 };
    const baseline = await runStress(
      { target, clock, isDrained: notDrained },
      { ...load, durationSeconds: 0.3 },
      settings,
    );
    behaviour = { latencyMs: INJECTED_LATENCY_MS, httpStatus: 200, storeStatus: 200 };

    // Act
    const report = await runStress(
      { target, clock, isDrained: notDrained },
      { ...load, durationSeconds: 1 },
      settings,
    );
    await target.close();

    // Assess
    assert.equal(report.succeeded + report.dropped, 200);
    assert.ok(report.succeeded >= 190, `succeeded ${report.succeeded}`);
    const { p50Ms } = report.summary;
    assert.ok(p50Ms >= INJECTED_LATENCY_MS, `p50 ${p50Ms}`);
    assert.ok(
      p50Ms < INJECTED_LATENCY_MS + baseline.latency.p50Ms + P50_MARGIN_MS,
      `p50 ${p50Ms}, baseline ${baseline.latency.p50Ms}`,
    );
    assert.doesNotThrow(() => StressSummarySchema.parse(report.summary));
  });

  it('counts requests it could not send as dropped when the target falls behind', async () => {
    // Prepare: 10 connections at 200 ms serve 50 req/s; 300 req/s are asked for.
    behaviour = { latencyMs: 200, httpStatus: 200, storeStatus: 200 };
    const target = restStressTarget(restUrl, query, { connections: 10 });

    // Act
    const report = await runStress(
      { target, clock, isDrained: notDrained },
      { nodeId: 'store-01.eu.t', ratePerSecond: 300, durationSeconds: 1, connections: 10 },
      settings,
    );
    await target.close();

    // Assess
    assert.equal(report.scheduled, 300);
    assert.ok(report.dropped >= 200, `dropped ${report.dropped}`);
    assert.equal(report.sent + report.dropped, report.scheduled);
    assert.ok(report.summary.errorRate > 0.5);
    assert.equal(report.summary.sloMet, false);
    assert.ok(report.summary.achievedRatePerSecond < 100);
  });

  it('aborts once the error budget is spent', async () => {
    // Prepare
    behaviour = { latencyMs: 0, httpStatus: 200, storeStatus: 503 };
    const target = restStressTarget(restUrl, query, { connections: 20 });

    // Act
    const report = await runStress(
      { target, clock, isDrained: notDrained },
      { nodeId: 'store-01.eu.t', ratePerSecond: 400, durationSeconds: 2, connections: 20 },
      settings,
    );
    await target.close();

    // Assess
    assert.equal(report.summary.aborted, true);
    assert.match(report.abortReason ?? '', /error budget/);
    assert.ok(report.sent < 100, `sent ${report.sent} before aborting`);
    assert.ok(report.notSent > 600);
    assert.ok((report.errorsByClass.store_error ?? 0) >= 20);
    assert.equal(report.summary.sloMet, false);
  });

  it('classifies HTTP 429 answers as rate limited', async () => {
    // Prepare
    behaviour = { latencyMs: 0, httpStatus: 429, storeStatus: 429 };
    const target = restStressTarget(restUrl, query, { connections: 30 });

    // Act
    const report = await runStress(
      { target, clock, isDrained: notDrained },
      { nodeId: 'store-01.eu.t', ratePerSecond: 100, durationSeconds: 0.3, connections: 30 },
      { ...settings, errorBudget: 1 },
    );
    await target.close();

    // Assess
    assert.equal(report.failed + report.dropped, 30);
    assert.deepEqual(report.errorsByClass, { rate_limited: report.failed });
    assert.ok(report.failed >= 20, `only ${report.failed} answers`);
  });

  it('refuses requests above the caps, naming the field', () => {
    const request = { nodeId: 'n', ratePerSecond: 5000, durationSeconds: 500, connections: 501 };
    assert.throws(
      () =>
        checkStressLimits(request, settings, {
          rate: '--rate',
          duration: '--duration',
          connections: '--connections',
        }),
      (error: Error) =>
        error instanceof StressValidationError &&
        /--rate 5000 is above stress\.maxRatePerSecond \(2000\)/.test(error.message) &&
        /--duration 500 s is above stress\.maxDurationSeconds/.test(error.message) &&
        /--connections 501 is above stress\.maxConnections \(500\)/.test(error.message),
    );
  });

  it('never stresses a drained node', async () => {
    const target = restStressTarget(restUrl, query, { connections: 1 });
    await assert.rejects(
      runStress(
        { target, clock, isDrained: (id) => id === 'store-02.eu.t' },
        { nodeId: 'store-02.eu.t', ratePerSecond: 10, durationSeconds: 1, connections: 1 },
        settings,
      ),
      /store-02\.eu\.t is drained/,
    );
    await target.close();
  });

  it('renders a self-contained HTML report with an inline percentile plot', async () => {
    // Prepare
    behaviour = { latencyMs: 5, httpStatus: 200, storeStatus: 200 };
    const target = restStressTarget(restUrl, query, { connections: 10 });
    const report = await runStress(
      { target, clock, isDrained: notDrained },
      { nodeId: 'store-<01>', ratePerSecond: 100, durationSeconds: 0.3, connections: 10 },
      settings,
    );
    await target.close();

    // Act
    const html = renderStressReportHtml(report);

    // Assess
    assert.match(html, /<svg [^>]*viewBox/);
    assert.match(html, /<path d="M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+"/);
    assert.match(html, /store-&#60;01&#62;/);
    assert.doesNotMatch(html, /<script|<link|<img|src=|href=|url\(/);
  });
});

describe('the stress generator across worker threads', () => {
  it('splits the rate over workers and merges their counts and histograms', async () => {
    // Prepare
    behaviour = { latencyMs: 20, httpStatus: 200, storeStatus: 200 };
    const target = restWorkersStressTarget(restUrl, query, { connections: 40, workers: 2 });

    // Act
    const report = await runStress(
      { target, clock, isDrained: notDrained },
      { nodeId: 'store-01.eu.t', ratePerSecond: 200, durationSeconds: 1, connections: 40 },
      settings,
    );
    await target.close();

    // Assess
    assert.equal(report.scheduled, 200);
    assert.equal(report.succeeded + report.dropped, 200);
    assert.equal(report.latency.count, report.succeeded);
    assert.ok(report.succeeded >= 190, `succeeded ${report.succeeded}`);
    assert.ok(report.latency.p50Ms >= 20, `p50 ${report.latency.p50Ms}`);
  });

  it('stops every worker when one spends the error budget', async () => {
    // Prepare
    behaviour = { latencyMs: 0, httpStatus: 503, storeStatus: 503 };
    const target = restWorkersStressTarget(restUrl, query, { connections: 20, workers: 2 });

    // Act
    const report = await runStress(
      { target, clock, isDrained: notDrained },
      { nodeId: 'store-01.eu.t', ratePerSecond: 300, durationSeconds: 2, connections: 20 },
      settings,
    );
    await target.close();

    // Assess
    assert.equal(report.summary.aborted, true);
    assert.match(report.abortReason ?? '', /error budget/);
    assert.ok(report.notSent > 400, `only ${report.notSent} of 600 were spared`);
  });
});
