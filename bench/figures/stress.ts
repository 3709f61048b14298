// Figure 4: highest sustained REST store-query rate of storefleet's stress generator vs wrk, same node, same connection count.
import { systemClock } from '../../probes/clock.ts';
import { runStress, type StressConfig } from '../../probes/stress/run-stress.ts';
import {
  libp2pStressTarget,
  restStorePath,
  restStressTarget,
  type StressTarget,
} from '../../probes/stress/stress-targets.ts';
import { restWorkersStressTarget, workersFor } from '../../probes/stress/worker-load.ts';
import { createProbeDialer } from '../../waku/client/dialer.ts';
import { restPublish } from '../../waku/client/rest.ts';
import type { StoreQuery } from '../../waku/client/store-types.ts';
import { autoshard } from '../../waku/node/autosharding.ts';
import { pubsubTopic } from '../../waku/protocols.ts';
import { ownCpuMs } from '../cpu.ts';
import { type Figure, verdict } from '../figure.ts';
import { type LocalNode, startLocalNode } from '../local-node.ts';
import { formatNumber, formatRatio, formatSpread, spreadOf } from '../stats.ts';
import { runWrk } from '../wrk.ts';

const TARGET_RATIO = 0.9;
/** Connections for both generators (and concurrent streams for the libp2p run). */
const CONNECTIONS = 50;
const CLUSTER_ID = 16;
const SHARDS = [1, 32];
const CONTENT_TOPIC = '/storefleet/1/bench/proto';
const SEEDED_MESSAGES = 60;
const PUBLISH_TIMEOUT_MS = 5000;
/**
 * A rate is sustained when failed and dropped requests together stay within the error budget of
 * config/fleet.example.json (stress.errorBudget, 5 %): the bar a node's stress test is held to...
 */
const MAX_ERROR_SHARE = 0.05;
/** ...and the achieved rate is at least this share of the requested one. */
const MIN_ACHIEVED_SHARE = 0.95;
const REQUEST_TIMEOUT_MS = 5000;

const UNCAPPED: StressConfig = {
  maxRatePerSecond: Number.MAX_SAFE_INTEGER,
  maxConnections: Number.MAX_SAFE_INTEGER,
  maxDurationSeconds: Number.MAX_SAFE_INTEGER,
  errorBudget: 1,
  sloP99Ms: Number.MAX_SAFE_INTEGER,
};

interface Step {
  ratePerSecond: number;
  achievedPerSecond: number;
  failed: number;
  dropped: number;
  lateSends: number;
  scheduled: number;
  p99Ms: number;
  /** CPU of the whole generating process (all its threads) per answered request. */
  generatorCpuMsPerRequest: number;
  sustained: boolean;
}

/** Recent history of one topic, one page of 20 with payloads: what a returning client asks. */
function storeQuery(): StoreQuery {
  return {
    includeData: true,
    pubsubTopic: pubsubTopic(CLUSTER_ID, autoshard(CONTENT_TOPIC, SHARDS)),
    contentTopics: [CONTENT_TOPIC],
    timeStartNs: BigInt(Date.now() - 3_600_000) * 1_000_000n,
    forward: false,
    pageSize: 20,
  };
}

async function seed(node: LocalNode): Promise<void> {
  for (let i = 0; i < SEEDED_MESSAGES; i++) {
    await restPublish(
      node.restUrl,
      'auto',
      {
        contentTopic: CONTENT_TOPIC,
        payload: new TextEncoder().encode(`bench message ${i} `.repeat(8)),
      },
      { signal: AbortSignal.timeout(PUBLISH_TIMEOUT_MS) },
    );
  }
}

async function tryRate(
  makeTarget: (rate: number) => StressTarget,
  ratePerSecond: number,
  durationSeconds: number,
): Promise<Step> {
  const target = makeTarget(ratePerSecond);
  const cpuBefore = ownCpuMs();
  try {
    const report = await runStress(
      { target, clock: systemClock, isDrained: () => false },
      {
        nodeId: 'bench',
        ratePerSecond,
        durationSeconds,
        connections: CONNECTIONS,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
      },
      UNCAPPED,
    );
    const scheduled = Math.max(1, report.scheduled);
    const achieved = report.summary.achievedRatePerSecond;
    return {
      ratePerSecond,
      achievedPerSecond: achieved,
      failed: report.failed,
      dropped: report.dropped,
      lateSends: report.lateSends,
      scheduled: report.scheduled,
      p99Ms: report.latency.p99Ms,
      generatorCpuMsPerRequest:
        (ownCpuMs() - cpuBefore) / Math.max(1, report.succeeded + report.failed),
      sustained:
        report.failed + report.dropped <= MAX_ERROR_SHARE * scheduled &&
        achieved >= MIN_ACHIEVED_SHARE * ratePerSecond,
    };
  } finally {
    await target.close();
  }
}

/**
 * Bisects for the highest rate the generator and node sustain together, starting at `first`
 * (the pass mark, so that the verdict is tested directly) within [0, high].
 */
async function highestSustained(
  makeTarget: (rate: number) => StressTarget,
  options: { first: number; high: number; steps: number; durationSeconds: number },
  log: (line: string) => void,
): Promise<{ ratePerSecond: number; steps: Step[] }> {
  let low = 0;
  let high = options.high;
  let rate = options.first;
  const steps: Step[] = [];
  for (let i = 0; i < options.steps; i++) {
    const step = await tryRate(makeTarget, Math.max(1, Math.round(rate)), options.durationSeconds);
    steps.push(step);
    log(
      `stress: ${step.ratePerSecond}/s -> ${step.achievedPerSecond.toFixed(0)}/s, failed ${step.failed}, dropped ${step.dropped}, late ${step.lateSends}, p99 ${step.p99Ms.toFixed(0)} ms, cpu ${step.generatorCpuMsPerRequest.toFixed(3)} ms/req: ${step.sustained ? 'sustained' : 'not sustained'}`,
    );
    if (step.sustained) low = Math.max(low, step.ratePerSecond);
    else high = Math.min(high, step.ratePerSecond);
    rate = (low + high) / 2;
  }
  return { ratePerSecond: low, steps };
}

/** The REST target as `storefleet stress --rest` builds it: worker threads once one thread cannot keep up. */
function restTarget(node: LocalNode, query: StoreQuery) {
  return (rate: number): StressTarget => {
    const workers = workersFor(rate);
    return workers > 1
      ? restWorkersStressTarget(node.restUrl, query, { connections: CONNECTIONS, workers })
      : restStressTarget(node.restUrl, query, { connections: CONNECTIONS });
  };
}

export const stressFigure: Figure = {
  id: 'stress',
  number: 4,
  title: 'Stress generator vs wrk',
  async run({ quick, log }) {
    const repeats = quick ? 1 : 3;
    const durationSeconds = quick ? 2 : 4;
    const libp2pSteps = quick ? 2 : 5;
    const steps = quick ? 3 : 5;
    const node = await startLocalNode();
    try {
      await seed(node);
      const query = storeQuery();
      const url = `${node.restUrl}${restStorePath(query)}`;
      const check = await fetch(url);
      const body = (await check.json()) as { statusCode?: number; messages?: unknown[] };
      if (body.statusCode !== 200 || (body.messages?.length ?? 0) === 0) {
        throw new Error(
          `the node answered the bench query with ${JSON.stringify(body).slice(0, 300)}`,
        );
      }
      // Warm-up of the node's query path and of both generators.
      if (!quick) await runWrk(url, { connections: CONNECTIONS, durationSeconds: 1 });
      const wrkRates: number[] = [];
      const wrkCpuMsPerRequest: number[] = [];
      const ourRates: number[] = [];
      const ratios: number[] = [];
      const allSteps: Step[][] = [];
      for (let repeat = 0; repeat < repeats; repeat++) {
        const wrk = await runWrk(url, { connections: CONNECTIONS, durationSeconds });
        if (wrk.non2xx + wrk.socketErrors > 0.01 * wrk.requests) {
          throw new Error(
            `wrk saw ${wrk.non2xx} non-2xx answers and ${wrk.socketErrors} socket errors`,
          );
        }
        log(
          `stress: wrk ${wrk.requestsPerSecond.toFixed(0)} req/s with ${CONNECTIONS} connections`,
        );
        const ours = await highestSustained(
          restTarget(node, query),
          {
            first: TARGET_RATIO * wrk.requestsPerSecond,
            high: 1.2 * wrk.requestsPerSecond,
            steps,
            durationSeconds,
          },
          log,
        );
        wrkRates.push(wrk.requestsPerSecond);
        wrkCpuMsPerRequest.push(wrk.cpuMs / Math.max(1, wrk.requests));
        ourRates.push(ours.ratePerSecond);
        ratios.push(ours.ratePerSecond / wrk.requestsPerSecond);
        allSteps.push(ours.steps);
      }
      const dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: SHARDS });
      let libp2p: { ratePerSecond: number; steps: Step[] };
      try {
        const wrkMedian = spreadOf(wrkRates).p50;
        libp2p = await highestSustained(
          () => libp2pStressTarget(dialer, node.tcpAddress, query),
          { first: 0.15 * wrkMedian, high: 0.6 * wrkMedian, steps: libp2pSteps, durationSeconds },
          log,
        );
      } finally {
        await dialer.stop();
      }
      const ratio = spreadOf(ratios);
      const sustainedCpu = allSteps
        .flat()
        .filter((step) => step.sustained)
        .map((step) => step.generatorCpuMsPerRequest);
      return {
        rows: [
          {
            figure: `4. Highest sustained REST store-query rate, ${CONNECTIONS} connections`,
            storefleet: formatSpread(spreadOf(ourRates), 'q/s'),
            peer: `wrk ${formatSpread(spreadOf(wrkRates), 'q/s')}`,
            ratio: formatRatio(ratio),
            target: `>= ${TARGET_RATIO}x`,
            met: verdict(ratio.p50 >= TARGET_RATIO),
          },
          {
            figure: `4. Highest sustained libp2p store-query rate, ${CONNECTIONS} streams on one connection`,
            storefleet: `${formatNumber(libp2p.ratePerSecond)} q/s (n=1)`,
            peer: '-',
            ratio: '-',
            target: 'report only',
            met: 'n/a',
          },
        ],
        notes: [
          `Stress: one local store node (own process) holding ${SEEDED_MESSAGES} messages; every request is \`GET ${restStorePath(query).replace(/startTime=\d+/, 'startTime=<now-1h>')}\` (a page of 20 with payloads). wrk: 1 thread, ${CONNECTIONS} connections, ${durationSeconds} s, closed loop (its rate is the node's capacity with wrk beside it). Ours: probes/stress runStress (open model, constant arrival rate, at most ${CONNECTIONS} in flight on ${CONNECTIONS} keep-alive connections; worker threads when \`workersFor(rate)\` asks, as \`storefleet stress --rest\` does), bisected over ${steps} rates of ${durationSeconds} s starting at ${TARGET_RATIO}x of wrk; a rate is sustained when failed plus dropped requests (dropped: due while all ${CONNECTIONS} were in flight) stay within the fleet's stress error budget of ${MAX_ERROR_SHARE * 100} % and >= ${MIN_ACHIEVED_SHARE * 100} % of the rate is achieved; late sends (the generator's own timing on a busy machine) are logged, not judged. ${repeats} repeat(s), each with its own wrk run. Both generators share the 2 cores with the node, so generator CPU is capacity taken from the node: that is the comparison. CPU per request: our generator ${formatNumber(spreadOf(sustainedCpu).p50)} ms at sustained rates (the whole generating process, all threads), wrk ${formatNumber(spreadOf(wrkCpuMsPerRequest).p50)} ms: on 2 cores every generator millisecond is taken from the node, which is why the open-model Node generator (node:http, HDR histograms, a timer per arrival) sustains less than wrk's C event loop. libp2p: the same bisection (from 0.15x of wrk) with the dialer's store v3 over one connection.`,
        ],
        raw: {
          connections: CONNECTIONS,
          durationSeconds,
          wrkRates,
          ourRates,
          ratios,
          steps: allSteps,
          libp2p,
        },
      };
    } finally {
      await node.stop();
    }
  },
};
