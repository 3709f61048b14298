// `storefleet probe | completeness | stress`: the measuring half from a terminal, with the same code the runtimes call.
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { type FleetConfig, FleetConfigSchema, probedPubsubTopics } from '../../fleet/config.ts';
import type { CompletenessResult, ProbeResult, ProbeRound } from '../../fleet/observations.ts';
import { parseFleetsJson } from '../../fleet/registry/index.ts';
import { loadFleetConfig } from '../../local/config-file.ts';
import type { ProbeTarget } from '../../probes/probe-round.ts';
import type { StressReport } from '../../probes/stress/run-stress.ts';
import { storeTargetsFromFleetsJson } from '../../probes/targets.ts';
import type { StoreQuery } from '../../waku/client/store-types.ts';
import { autoshard } from '../../waku/node/autosharding.ts';
import { pubsubTopic } from '../../waku/protocols.ts';

/** Where the local runtime publishes its registry; probes read their targets there by default. */
export const DEFAULT_LOCAL_FLEETS_JSON = '.storefleet/registry/fleets.json';
/** Where the local runtime keeps the controller's state. */
export const DEFAULT_LOCAL_STATE_DB = '.storefleet/state.db';
/** Status fleets run in cluster 16. */
export const DEFAULT_CLUSTER_ID = 16;
export const DEFAULT_SHARDS = [32];
export const DEFAULT_CONTENT_TOPIC = '/storefleet/1/probe/proto';
/** A vantage point id for runs without a fleet config. */
export const CLI_VANTAGE_ID = 'cli';
/** A fleets.json download gives up after this long, or past this size. */
const FLEETS_JSON_FETCH_TIMEOUT_MS = 10_000;
const FLEETS_JSON_MAX_BYTES = 4 * 1024 * 1024;
/** Stress queries ask what a returning client asks: recent history of the fleet's topics, one page. */
export const STRESS_QUERY_PAGE_SIZE = 20;
export const STRESS_QUERY_WINDOW_SECONDS = 3600;
/** Plain progress lines (no terminal) are printed at most this often. */
const PLAIN_PROGRESS_INTERVAL_MS = 1000;

/** A flag the user got wrong; names the flag. Exits 2. */
export class ProbeUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbeUsageError';
  }
}

/** `30s`, `2m`, `1500ms` or plain seconds. */
export function parseDurationSeconds(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) {
    throw new ProbeUsageError(
      `${flag}: got "${text}"; expected a duration such as 30s, 2m or 1500ms`,
    );
  }
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  const seconds = unit === 'ms' ? value / 1000 : unit === 'm' ? value * 60 : value;
  if (seconds <= 0)
    throw new ProbeUsageError(`${flag}: got "${text}"; expected a duration above 0`);
  return seconds;
}

export function parsePositiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1) {
    throw new ProbeUsageError(`${flag}: got "${text}"; expected a positive integer`);
  }
  return value;
}

export function parsePositiveNumber(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new ProbeUsageError(`${flag}: got "${text}"; expected a number above 0`);
  }
  return value;
}

interface SourceOptions {
  config?: string;
  fleets?: string;
  fleet?: string;
  vantage?: string;
  clusterId?: string;
  shard?: string[];
  contentTopic?: string[];
}

/** Everything a command needs from a fleet config, or from flags and defaults without one. */
export interface ProbeSettings {
  fleet: string | undefined;
  clusterId: number;
  shards: number[];
  pubsubTopic: string;
  /** What freshness probes: `probe.pubsubTopics`, else every shard (Status does not autoshard). */
  pubsubTopics: string[];
  vantage: { id: string; reachesRest: boolean };
  probe: FleetConfig['probe'];
  completeness: FleetConfig['completeness'];
  stress: FleetConfig['stress'];
}

/** Settings from `--config` (its vantage point chosen by `--vantage`), else from flags and defaults. */
export async function resolveProbeSettings(options: SourceOptions): Promise<ProbeSettings> {
  const shape = FleetConfigSchema.shape;
  let config: FleetConfig | undefined;
  if (options.config !== undefined) config = await loadFleetConfig(options.config);
  const clusterId =
    options.clusterId !== undefined
      ? parseNonNegativeInteger(options.clusterId, '--cluster-id')
      : (config?.clusterId ?? DEFAULT_CLUSTER_ID);
  const shards =
    options.shard && options.shard.length > 0
      ? options.shard.map((shard) => parseNonNegativeInteger(shard, '--shard'))
      : (config?.shards ?? DEFAULT_SHARDS);
  let probe = config?.probe;
  if (probe === undefined || options.contentTopic?.length) {
    const parsed = shape.probe.safeParse({
      ...probe,
      contentTopics: options.contentTopic?.length
        ? options.contentTopic
        : (probe?.contentTopics ?? [DEFAULT_CONTENT_TOPIC]),
    });
    if (!parsed.success) {
      throw new ProbeUsageError(
        `--content-topic: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`,
      );
    }
    probe = parsed.data;
  }
  let vantage = { id: options.vantage ?? CLI_VANTAGE_ID, reachesRest: true };
  if (config !== undefined) {
    const chosen =
      options.vantage === undefined
        ? config.vantagePoints[0]
        : config.vantagePoints.find((point) => point.id === options.vantage);
    if (chosen === undefined) {
      throw new ProbeUsageError(
        `--vantage: got "${options.vantage}"; expected one of ${config.vantagePoints.map((p) => p.id).join(', ')}`,
      );
    }
    vantage = { id: chosen.id, reachesRest: chosen.reachesRest };
  }
  const firstTopic = probe.contentTopics[0] ?? DEFAULT_CONTENT_TOPIC;
  return {
    fleet: options.fleet ?? config?.fleet,
    clusterId,
    shards,
    // Status's content topics share an application and version, so autosharding puts them on one shard.
    pubsubTopic: pubsubTopic(clusterId, autoshard(firstTopic, shards)),
    pubsubTopics: probedPubsubTopics({ clusterId, shards, probe }),
    vantage,
    probe,
    completeness: config?.completeness ?? shape.completeness.parse(undefined),
    stress: config?.stress ?? shape.stress.parse(undefined),
  };
}

function parseNonNegativeInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) {
    throw new ProbeUsageError(`${flag}: got "${text}"; expected a non-negative integer`);
  }
  return value;
}

/** The fleet's store nodes from a fleets.json file or URL. */
export async function loadProbeTargets(source: string, fleet: string): Promise<ProbeTarget[]> {
  let text: string;
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source, {
      signal: AbortSignal.timeout(FLEETS_JSON_FETCH_TIMEOUT_MS),
    }).catch((error: unknown) => {
      throw new ProbeUsageError(`--fleets: cannot fetch ${source}: ${(error as Error).message}`);
    });
    if (!response.ok)
      throw new ProbeUsageError(`--fleets: ${source} answered HTTP ${response.status}`);
    text = await response.text();
  } else {
    text = await readFile(source, 'utf8').catch((error: unknown) => {
      throw new ProbeUsageError(
        `--fleets: cannot read ${source}: ${(error as Error).message}${source === DEFAULT_LOCAL_FLEETS_JSON ? ' (is the local fleet running? otherwise pass --fleets)' : ''}`,
      );
    });
  }
  if (text.length > FLEETS_JSON_MAX_BYTES) {
    throw new ProbeUsageError(`--fleets: ${source} is larger than ${FLEETS_JSON_MAX_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ProbeUsageError(`--fleets: ${source} is not JSON: ${(error as Error).message}`);
  }
  try {
    return storeTargetsFromFleetsJson(parseFleetsJson(json, source), fleet);
  } catch (error) {
    if (error instanceof Error && error.name === 'NoProbeTargetsError') {
      throw new ProbeUsageError(`--fleet: ${error.message}`);
    }
    throw error;
  }
}

function describeProbe(result: ProbeResult | undefined): string {
  if (result === undefined) return '-';
  if (!result.ok) return `FAIL ${result.errorClass ?? 'unknown'}`;
  if (result.storeNode === false) return 'not a store node';
  switch (result.kind) {
    case 'ping':
      return `${(result.latencyMs ?? 0).toFixed(1)} ms${result.freshDial ? ' (fresh)' : ''}`;
    case 'metadata':
      return `cluster ${result.clusterId}`;
    case 'store':
      return result.newestMessageAgeMs === null || result.newestMessageAgeMs === undefined
        ? 'no recent msg'
        : `newest ${(result.newestMessageAgeMs / 1000).toFixed(1)} s ago`;
    case 'health':
      return result.nodeHealth ?? 'ok';
  }
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join(
    '\n',
  );
}

/** A probe round as a table: one row per node, one column per probe kind. */
export function formatProbeRound(round: ProbeRound): string {
  const nodes = [...new Set(round.results.map((result) => result.nodeId))];
  const rows = nodes.map((nodeId) => {
    const of = (kind: ProbeResult['kind']) =>
      round.results.find((result) => result.nodeId === nodeId && result.kind === kind);
    return [
      nodeId,
      describeProbe(of('ping')),
      describeProbe(of('metadata')),
      describeProbe(of('store')),
      describeProbe(of('health')),
    ];
  });
  return `${table(['node', 'ping', 'metadata', 'store', 'health'], rows)}\nround ${round.round} from ${round.vantageId} in ${round.finishedAtMs - round.startedAtMs} ms`;
}

export function formatCompleteness(results: readonly CompletenessResult[]): string {
  const first = results[0];
  const rows = results.map((result) => [
    result.nodeId,
    result.completeness === null ? 'no answer' : `${(result.completeness * 100).toFixed(2)} %`,
    String(result.heldCount),
    String(result.missingCount),
    String(result.unknownCount),
  ]);
  const window = first
    ? `window ${new Date(first.windowStartMs).toISOString()} .. ${new Date(first.windowEndMs).toISOString()}, ${first.unionCount} messages in the union`
    : 'no nodes';
  return `${table(['node', 'completeness', 'held', 'missing', 'unknown'], rows)}\n${window}`;
}

export function formatStressReport(report: StressReport): string {
  const { summary, latency } = report;
  const errors = Object.entries(report.errorsByClass)
    .map(([errorClass, count]) => `${errorClass} ${count}`)
    .join(', ');
  return [
    `${summary.transport} stress of ${summary.nodeId} (${report.target})${summary.aborted ? `: ABORTED (${report.abortReason})` : ''}`,
    `rate: target ${summary.targetRatePerSecond}/s, sent ${report.sentRatePerSecond.toFixed(1)}/s, answered well ${summary.achievedRatePerSecond.toFixed(1)}/s`,
    `requests: scheduled ${report.scheduled}, sent ${report.sent}, ok ${report.succeeded}, failed ${report.failed}, dropped ${report.dropped}, late ${report.lateSends}, cancelled ${report.cancelled}, not sent ${report.notSent}`,
    `latency from intended send: p50 ${latency.p50Ms.toFixed(2)} ms, p90 ${latency.p90Ms.toFixed(2)} ms, p99 ${latency.p99Ms.toFixed(2)} ms, p99.9 ${latency.p999Ms.toFixed(2)} ms, max ${latency.maxMs.toFixed(2)} ms`,
    `errors: ${errors || 'none'} (error rate incl. dropped ${(summary.errorRate * 100).toFixed(2)} %)`,
    `SLO (p99 <= ${report.sloP99Ms} ms, errors <= budget): ${summary.sloMet ? 'met' : 'MISSED'}`,
  ].join('\n');
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function addSourceOptions(command: Command): Command {
  return command
    .option('--config <file>', 'fleet config: settings, vantage points and the fleet name')
    .option(
      '--fleets <url-or-file>',
      `fleets.json to take store nodes from (default ${DEFAULT_LOCAL_FLEETS_JSON}, the local fleet's)`,
    )
    .option('--fleet <name>', "fleet name in fleets.json (default: the config's fleet)")
    .option('--vantage <id>', "vantage point from the config (default: the config's first)")
    .option('--cluster-id <n>', `cluster id without a config (default ${DEFAULT_CLUSTER_ID})`)
    .option('--shard <n>', 'shard the fleet relays (repeatable)', collect)
    .option(
      '--content-topic <topic>',
      `content topic to ask about (repeatable; default ${DEFAULT_CONTENT_TOPIC})`,
      collect,
    )
    .option('--json', 'print JSON instead of a table');
}

async function targetsFor(options: SourceOptions, settings: ProbeSettings): Promise<ProbeTarget[]> {
  if (settings.fleet === undefined) {
    throw new ProbeUsageError('--fleet: required without --config (e.g. --fleet status.prod)');
  }
  return loadProbeTargets(options.fleets ?? DEFAULT_LOCAL_FLEETS_JSON, settings.fleet);
}

async function withDialer<T>(
  settings: ProbeSettings,
  work: (dialer: import('../../waku/client/dialer.ts').ProbeDialer) => Promise<T>,
): Promise<T> {
  // libp2p takes ~0.3 s to import: only commands that dial pay for it.
  const { createProbeDialer } = await import('../../waku/client/dialer.ts');
  const dialer = await createProbeDialer({
    clusterId: settings.clusterId,
    shards: settings.shards,
    maxResponseBytes: settings.probe.maxResponseBytes,
  });
  try {
    return await work(dialer);
  } finally {
    await dialer.stop();
  }
}

interface StressOptions {
  target?: string;
  rate?: string;
  duration?: string;
  connections?: string;
  rest?: boolean;
  json?: boolean;
  report?: string;
  nodeId?: string;
  requestTimeout?: string;
  workers?: string;
  calibrate?: boolean;
  state?: string;
  config?: string;
  clusterId?: string;
  shard?: string[];
  contentTopic?: string[];
}

/** The validated numbers of a stress command line; each error names its flag. */
export function parseStressFlags(options: StressOptions): {
  target: string;
  ratePerSecond: number;
  durationSeconds: number;
  connections: number;
  requestTimeoutMs: number | undefined;
} {
  if (options.target === undefined) throw new ProbeUsageError('--target: required');
  if (options.rest === true && !/^https?:\/\//.test(options.target)) {
    throw new ProbeUsageError(
      `--target: got "${options.target}"; with --rest expected a REST URL such as http://127.0.0.1:8645`,
    );
  }
  if (options.rest !== true && !options.target.startsWith('/')) {
    throw new ProbeUsageError(
      `--target: got "${options.target}"; expected a multiaddr such as /ip4/127.0.0.1/tcp/60000/p2p/16Uiu2... (or pass --rest with a REST URL)`,
    );
  }
  if (options.rate === undefined)
    throw new ProbeUsageError('--rate: required (requests per second)');
  return {
    target: options.target,
    ratePerSecond: parsePositiveNumber(options.rate, '--rate'),
    durationSeconds: parseDurationSeconds(options.duration ?? '30s', '--duration'),
    connections: parsePositiveInteger(options.connections ?? '50', '--connections'),
    requestTimeoutMs:
      options.requestTimeout === undefined
        ? undefined
        : Math.round(parseDurationSeconds(options.requestTimeout, '--request-timeout') * 1000),
  };
}

/** Progress on stderr: a bar on a terminal, a line a second otherwise. */
async function progressReporter(scheduled: number): Promise<{
  update: (progress: import('../../probes/stress/open-model.ts').OpenModelProgress) => void;
  stop: () => void;
}> {
  if (process.stderr.isTTY) {
    const { SingleBar, Presets } = (await import('cli-progress')).default;
    const bar = new SingleBar(
      {
        stream: process.stderr,
        format:
          '{bar} {percentage}% | {elapsed}s/{total_s}s | sent {sent} ok {ok} failed {failed} dropped {dropped} in flight {inflight}',
        hideCursor: true,
      },
      Presets.shades_classic,
    );
    bar.start(scheduled, 0, { sent: 0, ok: 0, failed: 0, dropped: 0, inflight: 0, elapsed: 0 });
    return {
      update: (p) =>
        bar.update(p.sent + p.dropped, {
          sent: p.sent,
          ok: p.succeeded,
          failed: p.failed,
          dropped: p.dropped,
          inflight: p.inFlight,
          elapsed: (p.elapsedMs / 1000).toFixed(1),
          total_s: (p.durationMs / 1000).toFixed(0),
        }),
      stop: () => bar.stop(),
    };
  }
  let lastPrintedAt = 0;
  return {
    update: (p) => {
      if (p.elapsedMs - lastPrintedAt < PLAIN_PROGRESS_INTERVAL_MS) return;
      lastPrintedAt = p.elapsedMs;
      console.error(
        `${(p.elapsedMs / 1000).toFixed(1)}s: sent ${p.sent}/${p.scheduled}, ok ${p.succeeded}, failed ${p.failed}, dropped ${p.dropped}, in flight ${p.inFlight}`,
      );
    },
    stop: () => {},
  };
}

/** The local controller's state, read only to learn which nodes must not be stressed. */
async function drainedGuardFromState(
  path: string | undefined,
): Promise<(nodeId: string) => boolean> {
  const { unlistedNodeGuard } = await import('../../probes/stress/stress-guard.ts');
  const file = path ?? DEFAULT_LOCAL_STATE_DB;
  const { existsSync } = await import('node:fs');
  if (!existsSync(file)) {
    if (path !== undefined) throw new ProbeUsageError(`--state: ${path} does not exist`);
    return unlistedNodeGuard(undefined);
  }
  const [{ SqliteStateStore }, { FleetStateSchema }] = await Promise.all([
    import('../../local/sqlite-state-store.ts'),
    import('../../fleet/state.ts'),
  ]);
  const store = SqliteStateStore.open(file, { parseState: FleetStateSchema.parse });
  try {
    return unlistedNodeGuard((await store.loadFleetState()).state);
  } finally {
    store.close();
  }
}

async function calibrate(options: StressOptions & { json?: boolean }): Promise<void> {
  const workers =
    options.workers === undefined ? 0 : parsePositiveInteger(options.workers, '--workers');
  const connections = parsePositiveInteger(options.connections ?? '50', '--connections');
  const durationSeconds = parseDurationSeconds(options.duration ?? '3s', '--duration');
  const { measureGeneratorCapacity } = await import('../../probes/stress/generator-capacity.ts');
  const { systemClock } = await import('../../probes/clock.ts');
  const capacity = await measureGeneratorCapacity({
    workers,
    connections,
    durationSeconds,
    clock: systemClock,
    onStep: (step) => {
      if (options.json) return;
      console.error(
        `${step.targetRatePerSecond}/s: answered ${step.achievedRatePerSecond.toFixed(0)}/s, dropped ${step.dropped}, late ${step.lateSends}, p50 ${step.p50Ms.toFixed(2)} ms, p99 ${step.p99Ms.toFixed(2)} ms${step.busyMicrosPerRequest === undefined ? '' : `, ${step.busyMicrosPerRequest.toFixed(0)} µs busy/request`}${step.keptUp ? '' : ' (fell behind)'}`,
      );
    },
  });
  console.log(
    options.json
      ? JSON.stringify(capacity, null, 2)
      : `generator ceiling: ${capacity.maxRatePerSecond}/s over REST with ${workers === 0 ? 'this thread' : `${workers} worker threads`} and ${connections} connections`,
  );
}

export function registerProbeCommands(program: Command): void {
  addSourceOptions(
    program
      .command('probe')
      .description(
        'Probe every store node of a fleet once: libp2p ping, metadata, store freshness and REST health',
      ),
  ).action(async (options: SourceOptions & { json?: boolean }) => {
    const settings = await resolveProbeSettings(options);
    const targets = await targetsFor(options, settings);
    const [{ runProbeRound }, rest, { systemClock }] = await Promise.all([
      import('../../probes/probe-round.ts'),
      import('../../waku/client/rest.ts'),
      import('../../probes/clock.ts'),
    ]);
    const round = await withDialer(settings, (dialer) =>
      runProbeRound(
        { dialer, rest: { health: rest.health }, clock: systemClock },
        {
          vantage: settings.vantage,
          // Round 0 dials fresh: a one-off probe sees what a new client sees.
          round: 0,
          targets,
          probe: settings.probe,
          clusterId: settings.clusterId,
          pubsubTopic: settings.pubsubTopic,
          pubsubTopics: settings.pubsubTopics,
        },
      ),
    );
    console.log(options.json ? JSON.stringify(round, null, 2) : formatProbeRound(round));
  });

  addSourceOptions(
    program
      .command('completeness')
      .description(
        "Compare the fleet's archives over one lagged window: union of hashes, re-asked by hash",
      ),
  )
    .option(
      '--window-end <iso>',
      'end of the window (default: the last aligned window before the lag)',
    )
    .action(async (options: SourceOptions & { json?: boolean; windowEnd?: string }) => {
      const settings = await resolveProbeSettings(options);
      const targets = await targetsFor(options, settings);
      const { measureCompleteness, storeHashSource } = await import('../../probes/completeness.ts');
      const { systemClock } = await import('../../probes/clock.ts');
      let window: { startMs: number; endMs: number } | undefined;
      if (options.windowEnd !== undefined) {
        const endMs = Date.parse(options.windowEnd);
        if (Number.isNaN(endMs)) {
          throw new ProbeUsageError(
            `--window-end: got "${options.windowEnd}"; expected an ISO time such as 2026-01-01T12:00:00Z`,
          );
        }
        window = { startMs: endMs - settings.completeness.windowSeconds * 1000, endMs };
      }
      const results = await withDialer(settings, (dialer) =>
        measureCompleteness({
          sources: targets.map((target) =>
            storeHashSource(
              (query, signal) =>
                dialer.storeQuery(target.multiaddr, query, {
                  signal,
                  maxResponseBytes: settings.probe.maxResponseBytes,
                }),
              {
                nodeId: target.nodeId,
                pubsubTopic: settings.pubsubTopic,
                contentTopics: settings.probe.contentTopics,
              },
            ),
          ),
          vantageId: settings.vantage.id,
          settings: settings.completeness,
          clock: systemClock,
          ...(window === undefined ? {} : { window }),
        }),
      );
      console.log(options.json ? JSON.stringify(results, null, 2) : formatCompleteness(results));
    });

  program
    .command('stress')
    .description(
      'Open-model stress test of one node: constant arrival rate, latency from intended send time, drops counted',
    )
    .option('--target <addr>', 'multiaddr of the node (or its REST URL with --rest)')
    .option('--rate <n>', 'requests per second')
    .option('--duration <time>', 'how long to send, e.g. 30s or 2m', '30s')
    .option('--connections <n>', 'connections (REST) or concurrent streams (libp2p) at most', '50')
    .option('--rest', 'query over REST instead of libp2p store v3')
    .option('--request-timeout <time>', 'give up on one request after this long (default 5s)')
    .option('--node-id <id>', 'name of the node in reports (default: the target)')
    .option('--config <file>', 'fleet config: caps (stress.*), cluster and content topics')
    .option(
      '--state <file>',
      `controller state; nodes it has drained are refused (default ${DEFAULT_LOCAL_STATE_DB} when present)`,
    )
    .option('--cluster-id <n>', `cluster id without a config (default ${DEFAULT_CLUSTER_ID})`)
    .option('--shard <n>', 'shard the fleet relays (repeatable)', collect)
    .option('--content-topic <topic>', 'content topic to query (repeatable)', collect)
    .option(
      '--workers <n>',
      'REST only: generate the load in N worker threads (default: as many as the rate needs)',
    )
    .option(
      '--calibrate',
      "measure this machine's own generator ceiling against a canned loopback server instead",
    )
    .option('--json', 'print the full report as JSON')
    .option('--report <file>', 'write a self-contained HTML report here')
    .action(async (options: StressOptions) => {
      if (options.calibrate) {
        await calibrate(options);
        return;
      }
      const flags = parseStressFlags(options);
      const settings = await resolveProbeSettings(options);
      const { runStress, checkStressLimits } = await import('../../probes/stress/run-stress.ts');
      const flagNames = { rate: '--rate', duration: '--duration', connections: '--connections' };
      const request = {
        nodeId: options.nodeId ?? flags.target,
        ratePerSecond: flags.ratePerSecond,
        durationSeconds: flags.durationSeconds,
        connections: flags.connections,
        ...(flags.requestTimeoutMs === undefined
          ? {}
          : { requestTimeoutMs: flags.requestTimeoutMs }),
      };
      // Refuse before importing libp2p or opening anything.
      checkStressLimits(request, settings.stress, flagNames);
      const { systemClock } = await import('../../probes/clock.ts');
      const targets = await import('../../probes/stress/stress-targets.ts');
      const query: StoreQuery = {
        includeData: true,
        pubsubTopic: settings.pubsubTopic,
        contentTopics: [...settings.probe.contentTopics],
        timeStartNs: BigInt(Date.now() - STRESS_QUERY_WINDOW_SECONDS * 1000) * 1_000_000n,
        forward: false,
        pageSize: STRESS_QUERY_PAGE_SIZE,
      };
      const isDrained = await drainedGuardFromState(options.state);
      if (isDrained(request.nodeId)) {
        throw new ProbeUsageError(
          `--node-id: ${request.nodeId} is not listed by the controller (drained, replacing, in probation or escalated); stress tests never target such a node`,
        );
      }
      const interrupt = new AbortController();
      const onSigint = () => interrupt.abort('interrupted');
      process.once('SIGINT', onSigint);
      const progress = await progressReporter(
        Math.floor(flags.ratePerSecond * flags.durationSeconds),
      );
      const run = async (
        target: import('../../probes/stress/stress-targets.ts').StressTarget,
      ): Promise<StressReport> =>
        runStress(
          {
            target,
            clock: systemClock,
            isDrained,
            onProgress: progress.update,
            signal: interrupt.signal,
          },
          request,
          settings.stress,
          flagNames,
        );
      let report: StressReport;
      try {
        if (options.rest) {
          const { restWorkersStressTarget, workersFor } = await import(
            '../../probes/stress/worker-load.ts'
          );
          const workers =
            options.workers === undefined
              ? workersFor(flags.ratePerSecond)
              : parsePositiveInteger(options.workers, '--workers');
          const target =
            workers > 1
              ? restWorkersStressTarget(flags.target, query, {
                  connections: flags.connections,
                  workers,
                })
              : targets.restStressTarget(flags.target, query, { connections: flags.connections });
          try {
            report = await run(target);
          } finally {
            await target.close();
          }
        } else {
          report = await withDialer(settings, (dialer) =>
            run(
              targets.libp2pStressTarget(dialer, flags.target, query, {
                maxResponseBytes: settings.probe.maxResponseBytes,
              }),
            ),
          );
        }
      } finally {
        progress.stop();
        process.removeListener('SIGINT', onSigint);
      }
      if (options.report !== undefined) {
        const { renderStressReportHtml } = await import('../../probes/stress/report-html.ts');
        await writeFile(options.report, renderStressReportHtml(report));
      }
      console.log(options.json ? JSON.stringify(report, null, 2) : formatStressReport(report));
      if (options.report !== undefined && !options.json) console.log(`report: ${options.report}`);
      if (!report.summary.sloMet) process.exitCode = 1;
    });
}
