// Figure 7: monthly AWS cost of the orchestrator for a 20-node fleet, from the synthesised CDK app and the loop design, vs Route 53 health checks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FleetConfig, parseFleetConfig } from '../../fleet/config.ts';
import { METRICS } from '../../fleet/metrics.ts';
import type { ProbeResult, ProbeRound } from '../../fleet/observations.ts';
import { initialFleetState } from '../../fleet/state.ts';
import { type Figure, verdict } from '../figure.ts';
import { formatNumber } from '../stats.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const NODE_COUNT = 20;
const TARGET_RATIO = 5;
const SECONDS_PER_MONTH = 30 * 24 * 3600;
const MINUTES_PER_MONTH = SECONDS_PER_MONTH / 60;

/**
 * Published on-demand prices, us-east-1, as read on 2026-11-21 (other regions, e.g. ap-east-1,
 * cost more). No free tier is subtracted: it is per account, not per fleet.
 * - Lambda (arm64): https://aws.amazon.com/lambda/pricing/ - $0.0000133334 per GB-s (first 7.5 bn GB-s), $0.20 per 1M requests.
 * - DynamoDB on demand: https://aws.amazon.com/dynamodb/pricing/on-demand/ - $0.625 per 1M write request units, $0.125 per 1M read request units (prices since 2024-11).
 * - CloudWatch: https://aws.amazon.com/cloudwatch/pricing/ - $0.30 per custom metric-month (first 10k), $0.10 per standard-resolution alarm metric, $0.30 per high-resolution alarm metric, $0.50 per composite alarm, $3.00 per dashboard, $0.50 per GB of logs ingested.
 * - KMS: https://aws.amazon.com/kms/pricing/ - $1 per key-month, $0.15 per 10,000 asymmetric (ECC) requests.
 * - S3: https://aws.amazon.com/s3/pricing/ - $0.005 per 1,000 PUT, $0.0004 per 1,000 GET.
 * - Route 53: https://aws.amazon.com/route53/pricing/ - health check on an AWS endpoint $0.50/month ($0.75 non-AWS); each optional feature (HTTPS, string matching, fast interval, latency measurement) $1.00/month on an AWS endpoint ($2.00 non-AWS).
 * - EC2 t4g.nano on demand $0.0042 per hour: https://aws.amazon.com/ec2/pricing/on-demand/
 */
export const PRICES = {
  readOn: '2026-11-21',
  region: 'us-east-1',
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaPerMillionRequests: 0.2,
  dynamoPerMillionWrites: 0.625,
  dynamoPerMillionReads: 0.125,
  customMetricPerMonth: 0.3,
  alarmMetricPerMonth: 0.1,
  highResolutionAlarmMetricPerMonth: 0.3,
  compositeAlarmPerMonth: 0.5,
  dashboardPerMonth: 3,
  logsPerGbIngested: 0.5,
  kmsKeyPerMonth: 1,
  kmsAsymmetricPer10k: 0.15,
  s3PutPer1k: 0.005,
  s3GetPer1k: 0.0004,
  route53HealthCheckAwsEndpoint: 0.5,
  route53OptionalFeatureAwsEndpoint: 1,
  route53HealthCheckNonAwsEndpoint: 0.75,
  route53OptionalFeatureNonAwsEndpoint: 2,
  ec2T4gNanoPerHour: 0.0042,
} as const;

const SOURCES = [
  'https://aws.amazon.com/lambda/pricing/',
  'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  'https://aws.amazon.com/cloudwatch/pricing/',
  'https://aws.amazon.com/kms/pricing/',
  'https://aws.amazon.com/s3/pricing/',
  'https://aws.amazon.com/route53/pricing/',
  'https://aws.amazon.com/ec2/pricing/on-demand/',
];

/** Work per invocation that the loop design does not fix; estimates, said so in the output. */
const ESTIMATED_SECONDS = {
  /** Signing (KMS) and four S3 writes. */
  publisher: 1,
  /** History completeness of 20 nodes over one window, hash batches of 25. */
  completeness: 5,
};
/** The controller stops looping when less than this is left before its timeout. */
const CONTROLLER_STOP_MARGIN_S = 8;
/** The registry objects a publication writes: fleets.json, its signature, registry.json, a versioned copy. */
const S3_PUTS_PER_PUBLICATION = 4;
/** One EMF record per node per round per vantage point, of about this size. */
const EMF_BYTES_PER_NODE_ROUND = 400;

interface CostLine {
  item: string;
  monthlyUsd: number;
  basis: string;
}

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON
type Template = { Resources: Record<string, { Type: string; Properties?: any }> };

function scaledConfig(): FleetConfig {
  const example = JSON.parse(readFileSync(join(ROOT, 'config', 'fleet.example.json'), 'utf8'));
  const locations = Object.keys(example.locations);
  const nodes = Array.from({ length: NODE_COUNT }, (_, index) => {
    const location = locations[index % locations.length] as string;
    const ordinal = String(Math.floor(index / locations.length) + 1).padStart(2, '0');
    return { id: `store-${ordinal}.${location}.${example.fleet}`, location };
  });
  return parseFleetConfig({ ...example, nodes });
}

/** Synthesises the CDK app for `config` without bundling, as the infra tests do. */
async function synthesize(config: FleetConfig): Promise<Template[]> {
  const { App } = await import('aws-cdk-lib');
  const { defineStorefleet } = await import('../../infra/define-storefleet.ts');
  const { readDeployContext } = await import('../../infra/deploy-context.ts');
  const cdkContext = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context;
  const app = new App({
    context: {
      ...cdkContext,
      'aws:cdk:bundling-stacks': [],
      // Any existing file: nothing is bundled, and the handlers may not exist yet.
      lambdaEntryOverride: 'bench/run.ts',
    },
    outdir: join(ROOT, 'node_modules', '.cache', 'storefleet-bench', 'cdk.out'),
  });
  defineStorefleet(app, config, readDeployContext(app.node));
  return app.synth().stacks.map((stack) => stack.template as Template);
}

function resources(templates: Template[], type: string) {
  return templates.flatMap((template) =>
    Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === type)
      .map(([id, resource]) => ({ id, properties: resource.Properties ?? {} })),
  );
}

/** A probe round as a vantage point stores it: every node, every probe kind. */
function probeRoundItemBytes(config: FleetConfig): number {
  const startedAtMs = 1_800_000_000_000;
  const results: ProbeResult[] = config.nodes.flatMap((node) => {
    const base = { nodeId: node.id, vantageId: 'vp-eu', startedAtMs, ok: true };
    return [
      { ...base, kind: 'ping', latencyMs: 23.456, freshDial: false },
      { ...base, kind: 'metadata', latencyMs: 24.5, clusterId: 16 },
      { ...base, kind: 'store', latencyMs: 31.25, statusCode: 200, newestMessageAgeMs: 1234 },
      { ...base, kind: 'health', latencyMs: 3.5, statusCode: 200, nodeHealth: 'READY' },
    ];
  });
  const round: ProbeRound = {
    vantageId: 'vp-eu',
    round: 123456,
    startedAtMs,
    finishedAtMs: startedAtMs + 900,
    results,
  };
  // Key attributes and the DynamoDB attribute names come on top of the JSON body.
  return JSON.stringify(round).length + 100;
}

export function costLines(
  config: FleetConfig,
  templates: Template[],
): {
  storefleet: CostLine[];
  route53: CostLine[];
  facts: Record<string, number>;
} {
  const p = PRICES;
  const roundsPerMonth = SECONDS_PER_MONTH / config.probe.intervalSeconds;
  const vantagePoints = config.vantagePoints.length;
  const lines: CostLine[] = [];

  // Lambda: memory from the template, duration from the loop design (infra/VantagePointProber.ts).
  const functions = resources(templates, 'AWS::Lambda::Function').filter(
    ({ id }) => !id.startsWith('Custom') && !id.includes('CustomResource'),
  );
  const memoryOf = (pattern: RegExp): number[] =>
    functions
      .filter(({ id }) => pattern.test(id))
      .map(({ properties }) => Number(properties.MemorySize ?? 128));
  const probeMemories = memoryOf(/Probe.*Function/);
  // The handler probes for the whole minute, then finishes its last round: half a round deadline on average.
  const probeSecondsPerInvocation = 60 + config.probe.roundDeadlineMs / 2000;
  const probeGbSeconds = probeMemories.reduce(
    (sum, memoryMb) => sum + (memoryMb / 1024) * probeSecondsPerInvocation * MINUTES_PER_MONTH,
    0,
  );
  lines.push({
    item: `Lambda probe functions (${probeMemories.length} x ${probeMemories[0] ?? '?'} MB, looping all minute)`,
    monthlyUsd: probeGbSeconds * p.lambdaArmPerGbSecond,
    basis: `${formatNumber(probeGbSeconds)} GB-s: ${probeSecondsPerInvocation} s per invocation x ${MINUTES_PER_MONTH} invocations each`,
  });
  // The controller loops too (lambdas/controller), deciding each round, until its timeout draws near.
  const controller = functions.find(({ id }) => /^WatchController/.test(id));
  const controllerMemoryMb = Number(controller?.properties.MemorySize ?? 512);
  const controllerSeconds = Math.min(
    60,
    Number(controller?.properties.Timeout ?? 60) - CONTROLLER_STOP_MARGIN_S,
  );
  const controllerGbSeconds = (controllerMemoryMb / 1024) * controllerSeconds * MINUTES_PER_MONTH;
  lines.push({
    item: `Lambda controller (${controllerMemoryMb} MB, looping within the minute)`,
    monthlyUsd: controllerGbSeconds * p.lambdaArmPerGbSecond,
    basis: `${formatNumber(controllerGbSeconds)} GB-s: ~${controllerSeconds} s per invocation (timeout less its stop margin)`,
  });
  const scheduled: Array<[string, RegExp, number]> = [
    ['publisher', /^WatchPublisher/, ESTIMATED_SECONDS.publisher],
    ['completeness', /^WatchCompleteness/, ESTIMATED_SECONDS.completeness],
  ];
  let invocationsPerMonth = (probeMemories.length + 1) * MINUTES_PER_MONTH;
  for (const [name, pattern, seconds] of scheduled) {
    const memoryMb = memoryOf(pattern)[0] ?? 512;
    const periodMinutes =
      name === 'completeness' ? Math.ceil(config.completeness.intervalSeconds / 60) : 1;
    const invocations = MINUTES_PER_MONTH / periodMinutes;
    invocationsPerMonth += invocations;
    const gbSeconds = (memoryMb / 1024) * seconds * invocations;
    lines.push({
      item: `Lambda ${name} (${memoryMb} MB, every ${periodMinutes} min)`,
      monthlyUsd: gbSeconds * p.lambdaArmPerGbSecond,
      basis: `${formatNumber(gbSeconds)} GB-s at an estimated ${seconds} s per run`,
    });
  }
  lines.push({
    item: 'Lambda requests',
    monthlyUsd: (invocationsPerMonth / 1e6) * p.lambdaPerMillionRequests,
    basis: `${formatNumber(invocationsPerMonth)} scheduled invocations (API calls excluded)`,
  });

  // DynamoDB: one PutItem per vantage point per round; the controller reads a minute of rounds and the state.
  const roundBytes = probeRoundItemBytes(config);
  const roundWrus = Math.ceil(roundBytes / 1024);
  const stateBytes = JSON.stringify(initialFleetState(config)).length + 100;
  const stateWrus = Math.ceil(stateBytes / 1024);
  const stateRrus = Math.ceil(stateBytes / 4096);
  const roundWrites = roundsPerMonth * vantagePoints * roundWrus;
  const stateWrites = MINUTES_PER_MONTH * stateWrus;
  const roundReads = roundsPerMonth * vantagePoints * Math.ceil(roundBytes / 4096) * 0.5;
  // The controller and the publisher each read the state (strongly consistent) once a minute.
  const stateReads = MINUTES_PER_MONTH * 2 * stateRrus;
  lines.push({
    item: 'DynamoDB on-demand writes',
    monthlyUsd: ((roundWrites + stateWrites) / 1e6) * p.dynamoPerMillionWrites,
    basis: `probe rounds ${formatNumber(roundBytes / 1024)} KB = ${roundWrus} WRU x ${vantagePoints} VPs x ${formatNumber(roundsPerMonth)} rounds; state ${formatNumber(stateBytes / 1024)} KB once a minute`,
  });
  lines.push({
    item: 'DynamoDB on-demand reads',
    monthlyUsd: ((roundReads + stateReads) / 1e6) * p.dynamoPerMillionReads,
    basis:
      'controller reads every round (eventually consistent); controller and publisher read the state',
  });

  // CloudWatch: alarms and dashboards as synthesised; custom metrics from the metric catalogue's dimension sets.
  const alarms = resources(templates, 'AWS::CloudWatch::Alarm');
  let alarmMetricUsd = 0;
  let alarmMetrics = 0;
  for (const { properties } of alarms) {
    const stats: Array<{ period?: number }> = Array.isArray(properties.Metrics)
      ? properties.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).map(
          (m: { MetricStat: { Period?: number } }) => ({ period: m.MetricStat.Period }),
        )
      : [{ period: properties.Period }];
    for (const stat of stats) {
      alarmMetrics += 1;
      alarmMetricUsd +=
        (stat.period ?? 60) < 60 ? p.highResolutionAlarmMetricPerMonth : p.alarmMetricPerMonth;
    }
  }
  const composites = resources(templates, 'AWS::CloudWatch::CompositeAlarm').length;
  const dashboards = resources(templates, 'AWS::CloudWatch::Dashboard').length;
  lines.push({
    item: `CloudWatch alarms (${alarms.length} alarms, ${alarmMetrics} alarm metrics, ${composites} composite)`,
    monthlyUsd: alarmMetricUsd + composites * p.compositeAlarmPerMonth,
    basis: 'counted in the synthesised templates',
  });
  lines.push({
    item: `CloudWatch dashboards (${dashboards})`,
    monthlyUsd: dashboards * p.dashboardPerMonth,
    basis: 'counted in the synthesised templates; the 3 free per account not subtracted',
  });
  // fleet/metrics.ts: alarm metrics carry [Fleet]; per-node ones [Fleet, NodeId]; ProbeSuccess also [Fleet, VantageId].
  const perNode: readonly string[] = [
    METRICS.probeSuccess,
    METRICS.probeLatencyMs,
    METRICS.reputationScore,
    METRICS.completeness,
    METRICS.stressP99Ms,
    METRICS.stressSloBreaches,
  ];
  const fleetLevel = Object.values(METRICS).filter(
    (name) => !perNode.includes(name) || name === METRICS.stressSloBreaches,
  ).length;
  const customMetrics = fleetLevel + perNode.length * config.nodes.length + vantagePoints;
  lines.push({
    item: `CloudWatch custom metrics (${customMetrics})`,
    monthlyUsd: customMetrics * p.customMetricPerMonth,
    basis: `${fleetLevel} fleet-level + ${perNode.length} per node x ${config.nodes.length} + ProbeSuccess per vantage point (fleet/metrics.ts)`,
  });
  const emfGb =
    (roundsPerMonth * vantagePoints * config.nodes.length * EMF_BYTES_PER_NODE_ROUND) / 1e9;
  lines.push({
    item: 'CloudWatch Logs ingestion (EMF)',
    monthlyUsd: emfGb * p.logsPerGbIngested,
    basis: `estimate: ${formatNumber(emfGb)} GB, one ~${EMF_BYTES_PER_NODE_ROUND} B record per node per round per VP`,
  });

  // KMS and S3: one signed publication a minute at most (changes, or a third of the expiry left).
  const keys = resources(templates, 'AWS::KMS::Key').length;
  lines.push({
    item: `KMS (${keys} keys, one Sign per publication)`,
    monthlyUsd: keys * p.kmsKeyPerMonth + (MINUTES_PER_MONTH / 10_000) * p.kmsAsymmetricPer10k,
    basis: `${keys} keys in the templates; at most ${formatNumber(MINUTES_PER_MONTH)} Sign calls`,
  });
  lines.push({
    item: 'S3 registry writes and reads (CloudFront origin)',
    monthlyUsd:
      ((MINUTES_PER_MONTH * S3_PUTS_PER_PUBLICATION) / 1000) * p.s3PutPer1k +
      ((MINUTES_PER_MONTH * 2) / 1000) * p.s3GetPer1k,
    basis: `${S3_PUTS_PER_PUBLICATION} PUTs per publication, once a minute at most; client downloads through CloudFront excluded (same for any registry host)`,
  });

  const route53: CostLine[] = [
    {
      item: `Route 53 health checks, ${config.nodes.length} AWS endpoints, fast interval + string matching + latency measurement`,
      monthlyUsd:
        config.nodes.length *
        (p.route53HealthCheckAwsEndpoint + 3 * p.route53OptionalFeatureAwsEndpoint),
      basis: `${config.nodes.length} x ($${p.route53HealthCheckAwsEndpoint} + 3 x $${p.route53OptionalFeatureAwsEndpoint})`,
    },
  ];
  return {
    storefleet: lines,
    route53,
    facts: {
      probeGbSeconds,
      roundBytes,
      stateBytes,
      customMetrics,
      perNodeMetrics: perNode.length * config.nodes.length + vantagePoints,
      alarms: alarms.length,
      alarmMetrics,
      dashboards,
      keys,
      probeLambdaUsd: lines[0]?.monthlyUsd ?? 0,
      controllerLambdaUsd: lines[1]?.monthlyUsd ?? 0,
    },
  };
}

const total = (lines: CostLine[]) => lines.reduce((sum, line) => sum + line.monthlyUsd, 0);
const usd = (value: number) => `$${value.toFixed(2)}`;

export const costModelFigure: Figure = {
  id: 'cost',
  number: 7,
  title: 'Monthly AWS cost, 20 nodes, vs Route 53 health checks',
  async run({ log }) {
    const config = scaledConfig();
    const templates = await synthesize(config);
    const { storefleet, route53, facts } = costLines(config, templates);
    const ours = total(storefleet);
    const peer = total(route53);
    const ratio = peer / ours;
    // What would close the gap: the loops on one small always-on instance per vantage point, per-node metrics only in logs.
    const probeFix = config.vantagePoints.length * PRICES.ec2T4gNanoPerHour * 24 * 30;
    const perNodeMetricsUsd = (facts.perNodeMetrics ?? 0) * PRICES.customMetricPerMonth;
    // The controller's loop moves onto the control region's instance too.
    const fixed =
      ours -
      (facts.probeLambdaUsd ?? 0) -
      (facts.controllerLambdaUsd ?? 0) +
      probeFix -
      perNodeMetricsUsd;
    log(`cost: storefleet ${usd(ours)}/month, Route 53 ${usd(peer)}/month`);
    const table = [
      '| item | USD/month | basis |',
      '| --- | --- | --- |',
      ...storefleet.map((line) => `| ${line.item} | ${usd(line.monthlyUsd)} | ${line.basis} |`),
      `| **storefleet total** | **${usd(ours)}** | |`,
      ...route53.map((line) => `| ${line.item} | ${usd(line.monthlyUsd)} | ${line.basis} |`),
    ].join('\n');
    return {
      rows: [
        {
          figure: `7. Monthly AWS cost, ${config.nodes.length} nodes, ${config.vantagePoints.length} VPs, ${config.probe.intervalSeconds} s interval (ratio = Route 53 / ours)`,
          storefleet: `${usd(ours)}/month (model)`,
          peer: `Route 53 health checks ${usd(peer)}/month`,
          ratio: `${ratio.toFixed(2)}x`,
          target: `>= ${TARGET_RATIO}x cheaper`,
          met: verdict(ratio >= TARGET_RATIO),
        },
      ],
      notes: [
        `Cost model: config/fleet.example.json scaled to ${config.nodes.length} nodes, the CDK app synthesised for it (function memory, alarms, dashboards, KMS keys counted from the templates), on-demand prices for ${PRICES.region} as read on ${PRICES.readOn} (the fleet's other regions, such as eu-central-1 and ap-east-1, charge somewhat more for Lambda, DynamoDB and CloudWatch, so this understates storefleet a little; Route 53 prices are global) (${SOURCES.join(', ')}); no free tier subtracted; store nodes themselves (Fargate, load balancers, databases) and client downloads are excluded on both sides. Durations of the publisher and completeness runs are estimates (${ESTIMATED_SECONDS.publisher} s, ${ESTIMATED_SECONDS.completeness} s); probe and controller functions are billed for their loops. Breakdown:\n\n${table}`,
        `Cost verdict: the loop design makes storefleet dearer, not cheaper: each probe function is billed for the whole minute it waits between rounds (${usd(facts.probeLambdaUsd ?? 0)} of ${usd(ours)}), the controller for most of it (${usd(facts.controllerLambdaUsd ?? 0)}), and the per-node custom metrics add ${usd(perNodeMetricsUsd)}. Running each vantage point's prober loop on one t4g.nano (${usd(probeFix)} for all ${config.vantagePoints.length}, the controller's loop beside the control region's prober) and keeping per-node figures in the EMF logs only (no per-node metrics) would bring the model to about ${usd(fixed)}/month, ${(peer / fixed).toFixed(2)}x cheaper than Route 53; reaching 5x (${usd(peer / TARGET_RATIO)}) would also need fewer DynamoDB writes (probe rounds batched per minute, not per round) and fewer dashboards. Route 53 checks only HTTP(S)/TCP: no libp2p ping, no store query, no history completeness.`,
      ],
      raw: {
        config: { nodes: config.nodes.length, vantagePoints: config.vantagePoints.length },
        prices: PRICES,
        storefleet,
        route53,
        facts,
        totalUsd: ours,
        route53Usd: peer,
        ratio,
        fixedUsd: fixed,
      },
    };
  },
};
