// Probe command flags: defaults, the usage error, number and duration parsing, and the settings a command runs with.
import type { Command } from 'commander';
import { type FleetConfig, FleetConfigSchema } from '../../../fleet/config.ts';
import { loadFleetConfig } from '../../../local/config-file.ts';
import { autoshard } from '../../../waku/node/autosharding.ts';
import { pubsubTopic } from '../../../waku/protocols.ts';

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
/** Stress queries ask what a returning client asks: recent history of the fleet's topics, one page. */
export const STRESS_QUERY_PAGE_SIZE = 20;
export const STRESS_QUERY_WINDOW_SECONDS = 3600;

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

/** The flags `probe` and `completeness` share: where the fleet and its settings come from. */
export interface SourceOptions {
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

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addSourceOptions(command: Command): Command {
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

/** The flags of `stress`. */
export interface StressOptions {
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
