// The fleet config: one declarative file read by the CDK app, the Lambdas and the local runtime alike.
import * as z from 'zod';
import { AwsSchema, DEFAULT_AWS_CONFIG, fargatePairProblem } from './aws-config.ts';
import { UserError } from './user-error.ts';
import { gotIssueLine, valueAtPath } from './zod-issues.ts';

/** Thrown for a config that does not validate; every line names a field path, the bad value and what was expected. */
export class FleetConfigError extends UserError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], source = 'fleet config') {
    super(`${source} is invalid:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'FleetConfigError';
    this.issues = issues;
  }
}

/** Commercial and GovCloud regions as of 2026; a typo such as eu-west-9 is refused here rather than at deploy time. */
export const AWS_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-gov-east-1',
  'us-gov-west-1',
  'us-west-1',
  'us-west-2',
] as const;
const awsRegion = z.enum(AWS_REGIONS, {
  error: () => 'is not an AWS region (expected e.g. eu-west-1)',
});
const DNS_LABELS_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const LOCATION_PATTERN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
/** `{role}-{NN}.{location}.{fleet}`, as in `store-01.do-ams3.status.prod`. */
const NODE_ID_PATTERN = /^([a-z]+)-(\d{2})\.([a-z0-9-]+)\.(.+)$/;

const port = z.number().int().min(1).max(65535);
const positiveSeconds = z.number().positive();
const positiveMs = z.number().int().positive();
const fraction = z.number().min(0).max(1);

const NodePortsSchema = z.strictObject({
  /** libp2p TCP listener (Status uses 30303; nwaku's default is 60000). */
  tcp: port,
  /** Plain websocket listener (nwaku: 8000). */
  websocket: port,
  /** TLS websocket for browsers, when a domain and certificate exist (443). */
  secureWebsocket: port.optional(),
  /** nwaku REST API (8645); reachable by probers only. */
  rest: port,
});

const ResourcesSchema = z.strictObject({
  /** Fargate CPU units (1024 = 1 vCPU). */
  cpu: z.union([z.literal(256), z.literal(512), z.literal(1024), z.literal(2048), z.literal(4096)]),
  memoryMiB: z.number().int().min(512).max(30720),
  /** Archive retention as nwaku spells it, e.g. `size:250GB` or `time:2592000` (seconds). */
  retention: z
    .string()
    .regex(
      /^(size:\d+(KB|MB|GB)|time:\d+|capacity:\d+)$/,
      'expected size:NGB, time:SECONDS or capacity:N',
    ),
});

const NodeSchema = z.strictObject({
  id: z
    .string()
    .regex(
      NODE_ID_PATTERN,
      'expected {role}-{NN}.{location}.{fleet}, e.g. store-01.do-ams3.status.prod',
    ),
  location: z
    .string()
    .regex(LOCATION_PATTERN, 'expected a lower-case location name such as do-ams3'),
  /** Overrides of defaults.ports for this node. */
  ports: NodePortsSchema.partial().optional(),
  image: z.string().min(1).optional(),
  resources: ResourcesSchema.partial().optional(),
});

const LocationSchema = z.strictObject({
  /** AWS region the location's nodes run in when deployed. */
  region: awsRegion,
  /** Availability zone suffix within the region (a, b, c...). */
  zone: z
    .string()
    .regex(/^[a-f]$/, 'expected an availability zone letter a-f')
    .optional(),
});

const VantagePointSchema = z.strictObject({
  id: z.string().regex(LOCATION_PATTERN, 'expected a lower-case id such as vp-eu'),
  region: awsRegion,
  /** Whether this vantage point can reach the nodes' REST port (only probers inside the VPC can). */
  reachesRest: z.boolean().default(true),
});

const ProbeSchema = z.strictObject({
  intervalSeconds: positiveSeconds.default(5),
  pingTimeoutMs: positiveMs.default(2000),
  metadataTimeoutMs: positiveMs.default(2000),
  storeTimeoutMs: positiveMs.default(3000),
  healthTimeoutMs: positiveMs.default(2000),
  /** No result of a round is waited for past this; late probes count as timeouts. */
  roundDeadlineMs: positiveMs.default(4000),
  /** How many nodes one vantage point probes at once. */
  concurrency: z.number().int().min(1).max(256).default(16),
  /** Dial a fresh connection (what a new client sees) every N rounds; other rounds reuse the open one. */
  freshDialEveryRounds: z.number().int().min(1).default(4),
  /** Store freshness looks at messages newer than this. */
  freshnessWindowSeconds: positiveSeconds.default(300),
  /** Content topics that probes and completeness ask for; the traffic generator publishes on them. */
  contentTopics: z
    .array(
      z.string().regex(/^\/[^/]+\/[^/]+\/[^/]+\/[^/]+$/, 'expected /app/version/name/encoding'),
    )
    .min(1)
    .max(10),
  /**
   * Pubsub topics (static shards) that freshness, completeness and the delivery probe measure,
   * each on its own. Status does not autoshard: its traffic is on static shards of cluster 16.
   * Default: every shard in `shards` (probedPubsubTopics).
   */
  pubsubTopics: z
    .array(
      z
        .string()
        .regex(/^\/waku\/2\/rs\/\d+\/\d+$/, 'expected a static shard /waku/2/rs/{cluster}/{shard}'),
    )
    .min(1)
    .optional(),
  /** A reply larger than this is cut off as a bad response. */
  maxResponseBytes: z
    .number()
    .int()
    .min(1024)
    .default(4 * 1024 * 1024),
});

const CompletenessSchema = z.strictObject({
  /**
   * The vantage point whose results completeness checks are recorded under (and, locally, whose
   * prober runs them). Default: the first vantage point.
   */
  vantageId: z.string().optional(),
  intervalSeconds: positiveSeconds.default(300),
  windowSeconds: positiveSeconds.default(120),
  /**
   * The window ends this long ago, so that relay has settled on every node (storenode-messages-counter:
   * 2-minute windows, 5 minutes behind).
   */
  lagSeconds: positiveSeconds.default(300),
  pageSize: z.number().int().min(1).max(100).default(100),
  hashBatchSize: z.number().int().min(1).max(100).default(25),
  retries: z.number().int().min(0).max(5).default(2),
});

const DeliverySchema = z.strictObject({
  /** Publish one probe message every N probe rounds (sonda publishes one per round). */
  everyRounds: z.number().int().min(1).default(12),
  /** Every store node must return the probe message by hash within this long. */
  deadlineSeconds: positiveSeconds.default(10),
  contentTopic: z
    .string()
    .regex(/^\/[^/]+\/[^/]+\/[^/]+\/[^/]+$/, 'expected /app/version/name/encoding')
    .default('/storefleet/1/delivery/proto'),
  /** How the probe message is published: nwaku's REST relay endpoint (needs REST) or lightpush. */
  transport: z.enum(['rest-relay', 'lightpush']).default('rest-relay'),
});

const HistorySchema = z.strictObject({
  /** How far back every node's history must reach, in days (Status users miss communities past 30). */
  promisedDays: z.number().positive(),
  /** A node whose oldest message is younger than this share of the promise raises HistoryTooShort. */
  toleranceFraction: fraction.default(0.9),
});

const StressSchema = z.strictObject({
  intervalSeconds: positiveSeconds.optional(),
  maxRatePerSecond: z.number().int().positive().default(2000),
  maxConnections: z.number().int().positive().max(2000).default(500),
  maxDurationSeconds: positiveSeconds.default(120),
  /** Abort when more than this share of requests fail. */
  errorBudget: fraction.default(0.05),
  sloP99Ms: positiveMs.default(2000),
});

const ReputationSchema = z.strictObject({
  weights: z
    .strictObject({
      availability: fraction.default(0.4),
      latency: fraction.default(0.2),
      freshness: fraction.default(0.15),
      completeness: fraction.default(0.2),
      stress: fraction.default(0.05),
    })
    .default({ availability: 0.4, latency: 0.2, freshness: 0.15, completeness: 0.2, stress: 0.05 }),
  /** Storj's lambda: the weight each past result keeps when a new one arrives. */
  forgettingFactor: z.number().gt(0).lt(1).default(0.95),
  /** A node this many times slower than the fleet's median RTT scores 0 on latency. */
  latencyToleranceRatio: z.number().gt(1).default(4),
  /** Newest message older than this scores 0 on freshness. */
  freshnessMaxAgeSeconds: positiveSeconds.default(600),
  /** Below this composite score a node is treated as failing. */
  suspectBelow: fraction.default(0.5),
});

const FailoverSchema = z.strictObject({
  /** Never list fewer healthy nodes than this in fleets.json. */
  minHealthy: z.number().int().min(1).default(2),
  maxDrainsPerRound: z.number().int().min(1).default(1),
  /** Consecutive failing rounds (seen by a quorum) before a drain. */
  failuresBeforeDrain: z.number().int().min(1).default(2),
  /** Vantage points that must agree that a node fails. */
  quorum: z.number().int().min(1).default(2),
  /** Consecutive good rounds before a drained node is listed again. */
  probationRounds: z.number().int().min(1).default(5),
  /** Each drain within the flap window multiplies the next probation by this. */
  flapProbationMultiplier: z.number().min(1).default(2),
  flapWindowRounds: z.number().int().min(1).default(120),
  /** Replacements that may fail before a human is paged. */
  maxReplaceAttempts: z.number().int().min(1).default(3),
  /** Rounds after a replacement in which failing probes do not count (the new task is starting). */
  replaceGraceRounds: z.number().int().min(0).default(3),
  /** A vantage point that sees more than this share of the fleet fail at once is blind. */
  blindFraction: fraction.default(0.5),
});

const SigningKeySchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('file'), path: z.string().min(1) }),
  z
    .strictObject({
      kind: z.literal('kms'),
      /** An existing key's alias; the CDK app creates a key only when neither this nor keyArn is set. */
      keyAlias: z
        .string()
        .regex(/^alias\/[A-Za-z0-9/_-]+$/, 'expected alias/NAME')
        .optional(),
      /** An existing key's ARN. */
      keyArn: z
        .string()
        .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]+$/, 'expected a KMS key ARN')
        .optional(),
    })
    .refine((key) => !(key.keyAlias && key.keyArn), {
      message: 'expected keyAlias or keyArn, not both',
    }),
]);

const RegistrySchema = z.strictObject({
  /** `meta.hostname` in fleets.json. */
  hostname: z.string().min(1).default('storefleet'),
  /** DNS suffix of node addresses: `/dns4/{node id}.{domain}/tcp/...`. Without it, addresses use `host`. */
  domain: z.string().regex(DNS_LABELS_PATTERN, 'expected a DNS name such as status.im').optional(),
  cacheMaxAgeSeconds: z.number().int().min(0).max(3600).default(30),
  /** Clients must not trust a registry older than this. */
  expiresAfterSeconds: z.number().int().min(60).default(900),
  signingKey: SigningKeySchema.default({
    kind: 'file',
    path: '.storefleet/registry-signing-key.pem',
  }),
  /**
   * The fleet's boot nodes (they run no store), by name: fleets.json passes them through under
   * `tcp/p2p/waku/boot` and `enr/p2p/waku/boot`, and fleets-config.json lists them as
   * `wakuNodes` and `discV5BootstrapNodes`. Readers of the split kinds need them.
   */
  bootNodes: z
    .record(
      z.string().regex(/^\S+$/, 'expected a node name such as boot-01.do-ams3.status.prod'),
      z.strictObject({
        tcp: z.string().regex(/^\/.+\/p2p\/[^/]+$/, 'expected a multiaddr ending in /p2p/PEER_ID'),
        enr: z
          .string()
          .regex(/^enr:[A-Za-z0-9_-]+$/, 'expected an enr: record')
          .optional(),
      }),
    )
    .optional(),
  /**
   * Other fleets to publish in fleets.json as given (`{KIND: {NAME: ADDRESS}}` each), so that readers
   * that expect several fleets (status-go's fleet update script wants status.prod, status.staging,
   * waku.sandbox, waku.test and notify.prod) find every one. They are not probed or signed for.
   */
  passThroughFleets: z
    .record(
      z.string().regex(DNS_LABELS_PATTERN, 'expected a fleet name such as status.staging'),
      z.record(z.string().min(1), z.record(z.string().min(1), z.string().min(1))),
    )
    .optional(),
});

const DefaultsSchema = z.strictObject({
  image: z.string().min(1).default('wakuorg/nwaku:v0.36.0'),
  ports: NodePortsSchema.default({ tcp: 30303, websocket: 8000, rest: 8645 }),
  resources: ResourcesSchema.default({ cpu: 1024, memoryMiB: 2048, retention: 'size:50GB' }),
});

export const FleetConfigSchema = z
  .strictObject({
    /** Fleet name as clients know it, e.g. `status.prod`; the key under `fleets` in fleets.json. */
    fleet: z
      .string()
      .regex(DNS_LABELS_PATTERN, 'expected a dotted lower-case name such as status.prod'),
    clusterId: z.number().int().min(0).max(65535),
    shards: z.array(z.number().int().min(0).max(1023)).min(1),
    defaults: DefaultsSchema.default({
      image: 'wakuorg/nwaku:v0.36.0',
      ports: { tcp: 30303, websocket: 8000, rest: 8645 },
      resources: { cpu: 1024, memoryMiB: 2048, retention: 'size:50GB' },
    }),
    locations: z.record(z.string().regex(LOCATION_PATTERN), LocationSchema),
    nodes: z.array(NodeSchema).min(1),
    vantagePoints: z.array(VantagePointSchema).min(1),
    probe: ProbeSchema,
    completeness: CompletenessSchema.default(CompletenessSchema.parse({})),
    /** The delivery probe (publish, then check every node stores it); off when absent. */
    delivery: DeliverySchema.optional(),
    /** The retention horizon every node must keep; unchecked when absent. */
    history: HistorySchema.optional(),
    stress: StressSchema.default(StressSchema.parse({})),
    reputation: ReputationSchema.default(ReputationSchema.parse({})),
    failover: FailoverSchema.default(FailoverSchema.parse({})),
    registry: RegistrySchema.default(RegistrySchema.parse({})),
    aws: AwsSchema.default(DEFAULT_AWS_CONFIG),
  })
  .superRefine((config, ctx) => {
    checkAwsSection(config, ctx);
    const seen = new Map<string, number>();
    config.nodes.forEach((node, index) => {
      const first = seen.get(node.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['nodes', index, 'id'],
          message: `duplicate node id (also nodes[${first}].id); expected every node id to be unique`,
          params: { value: node.id },
        });
      } else {
        seen.set(node.id, index);
      }
      const match = NODE_ID_PATTERN.exec(node.id);
      if (match && match[4] !== config.fleet) {
        ctx.addIssue({
          code: 'custom',
          path: ['nodes', index, 'id'],
          message: `expected the id to end in the fleet name ".${config.fleet}"`,
          params: { value: node.id },
        });
      }
      if (match && match[3] !== node.location) {
        ctx.addIssue({
          code: 'custom',
          path: ['nodes', index, 'id'],
          message: `expected the id's location part to equal nodes[${index}].location "${node.location}"`,
          params: { value: node.id },
        });
      }
      if (!(node.location in config.locations)) {
        ctx.addIssue({
          code: 'custom',
          path: ['nodes', index, 'location'],
          message: `unknown location; expected one of: ${Object.keys(config.locations).join(', ') || '(none declared under locations)'}`,
          params: { value: node.location },
        });
      }
      const ports = resolvePorts(config.defaults.ports, node.ports);
      const used = Object.entries(ports).filter(([, value]) => value !== undefined);
      const byPort = new Map<number, string>();
      for (const [name, value] of used) {
        const other = byPort.get(value as number);
        if (other) {
          ctx.addIssue({
            code: 'custom',
            path: ['nodes', index, 'ports', name],
            message: `port is also used for ${other}; expected distinct ports per node`,
            params: { value: value },
          });
        }
        byPort.set(value as number, name);
      }
    });
    const vantageIds = new Set<string>();
    config.vantagePoints.forEach((vantage, index) => {
      if (vantageIds.has(vantage.id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['vantagePoints', index, 'id'],
          message: 'duplicate vantage point id; expected unique ids',
          params: { value: vantage.id },
        });
      }
      vantageIds.add(vantage.id);
    });
    if (
      config.completeness.vantageId !== undefined &&
      !vantageIds.has(config.completeness.vantageId)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['completeness', 'vantageId'],
        message: `unknown vantage point; expected one of: ${[...vantageIds].join(', ')}`,
        params: { value: config.completeness.vantageId },
      });
    }
    if (config.failover.minHealthy > config.nodes.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['failover', 'minHealthy'],
        message: `larger than the fleet (${config.nodes.length} nodes); expected at most ${config.nodes.length}`,
        params: { value: config.failover.minHealthy },
      });
    }
    if (config.failover.quorum > config.vantagePoints.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['failover', 'quorum'],
        message: `larger than the number of vantage points (${config.vantagePoints.length}); expected at most ${config.vantagePoints.length}`,
        params: { value: config.failover.quorum },
      });
    }
    const deadline = config.probe.roundDeadlineMs;
    const intervalMs = config.probe.intervalSeconds * 1000;
    if (deadline > intervalMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['probe', 'roundDeadlineMs'],
        message: `longer than probe.intervalSeconds (${config.probe.intervalSeconds} s): a round would still run when the next one starts; expected at most ${intervalMs}`,
        params: { value: deadline },
      });
    }
    for (const field of [
      'pingTimeoutMs',
      'metadataTimeoutMs',
      'storeTimeoutMs',
      'healthTimeoutMs',
    ] as const) {
      if (config.probe[field] > deadline) {
        ctx.addIssue({
          code: 'custom',
          path: ['probe', field],
          message: `longer than probe.roundDeadlineMs (${deadline}); expected at most ${deadline}`,
          params: { value: config.probe[field] },
        });
      }
    }
    config.probe.pubsubTopics?.forEach((topic, index) => {
      const [cluster, shard] = topic.split('/').slice(4).map(Number);
      if (cluster !== config.clusterId || !config.shards.includes(shard as number)) {
        ctx.addIssue({
          code: 'custom',
          path: ['probe', 'pubsubTopics', index],
          message: `not a shard the fleet serves; expected one of: ${probedPubsubTopics({ ...config, probe: { ...config.probe, pubsubTopics: undefined } }).join(', ')}`,
          params: { value: topic },
        });
      }
    });
    if (
      config.delivery !== undefined &&
      config.delivery.deadlineSeconds * 1000 >
        config.delivery.everyRounds * config.probe.intervalSeconds * 1000
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['delivery', 'deadlineSeconds'],
        message: `longer than delivery.everyRounds x probe.intervalSeconds (${config.delivery.everyRounds * config.probe.intervalSeconds} s); expected a probe to end before the next starts`,
        params: { value: config.delivery.deadlineSeconds },
      });
    }
    if (config.registry.passThroughFleets?.[config.fleet] !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['registry', 'passThroughFleets', config.fleet],
        message: `is the fleet this config runs; expected only other fleets (${config.fleet} is built from the probes)`,
        params: { value: config.fleet },
      });
    }
    const weights = Object.values(config.reputation.weights);
    if (weights.reduce((sum, weight) => sum + weight, 0) <= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['reputation', 'weights'],
        message: 'all weights are zero; expected at least one positive weight',
        params: { value: config.reputation.weights },
      });
    }
  });

/** Fargate CPU/memory pairs (nodes and watchers) and the ids the `aws` section refers to. */
function checkAwsSection(config: z.output<typeof FleetConfigSchema>, ctx: z.RefinementCtx): void {
  const pair = (cpu: number, memoryMiB: number, path: PropertyKey[]) => {
    const problem = fargatePairProblem(cpu, memoryMiB);
    const value = path[path.length - 1] === 'cpu' ? cpu : memoryMiB;
    if (problem) ctx.addIssue({ code: 'custom', path, message: problem, params: { value } });
  };
  const defaults = config.defaults.resources;
  pair(defaults.cpu, defaults.memoryMiB, ['defaults', 'resources', 'memoryMiB']);
  config.nodes.forEach((node, index) => {
    const own = node.resources ?? {};
    if (own.cpu === undefined && own.memoryMiB === undefined) return;
    const field = own.memoryMiB !== undefined ? 'memoryMiB' : 'cpu';
    pair(own.cpu ?? defaults.cpu, own.memoryMiB ?? defaults.memoryMiB, [
      'nodes',
      index,
      'resources',
      field,
    ]);
  });
  pair(config.aws.watcher.cpu, config.aws.watcher.memoryMiB, ['aws', 'watcher', 'memoryMiB']);
  const ids = new Set(config.nodes.map((node) => node.id));
  for (const [nodeId, existing] of Object.entries(config.aws.nodes)) {
    if (!ids.has(nodeId)) {
      ctx.addIssue({
        code: 'custom',
        path: ['aws', 'nodes', nodeId],
        message: 'no node has this id; expected the id of a node under nodes',
        params: { value: nodeId },
      });
    }
    if (existing.elasticIp && config.aws.loadBalancing !== 'perNode') {
      ctx.addIssue({
        code: 'custom',
        path: ['aws', 'nodes', nodeId, 'elasticIp'],
        message:
          'a node keeps its own Elastic IP only with its own balancer; expected aws.loadBalancing "perNode"',
        params: { value: existing.elasticIp },
      });
    }
  }
}

export type FleetConfigInput = z.input<typeof FleetConfigSchema>;
export type FleetConfig = z.output<typeof FleetConfigSchema>;
export type NodeConfig = FleetConfig['nodes'][number];
export type NodePorts = z.output<typeof NodePortsSchema>;
export type VantagePointConfig = FleetConfig['vantagePoints'][number];
export type ReputationConfig = FleetConfig['reputation'];
export type FailoverConfig = FleetConfig['failover'];
export type RegistryConfig = FleetConfig['registry'];
export type ProbeConfig = FleetConfig['probe'];
export type DeliveryConfig = NonNullable<FleetConfig['delivery']>;
export type HistoryConfig = NonNullable<FleetConfig['history']>;

function resolvePorts(defaults: NodePorts, own: Partial<NodePorts> | undefined): NodePorts {
  return { ...defaults, ...own };
}

/** The pubsub topics probes measure: `probe.pubsubTopics`, or every shard the fleet serves. */
export function probedPubsubTopics(
  config: Pick<FleetConfig, 'clusterId' | 'shards'> & { probe: Pick<ProbeConfig, 'pubsubTopics'> },
): string[] {
  return (
    config.probe.pubsubTopics ??
    config.shards.map((shard) => `/waku/2/rs/${config.clusterId}/${shard}`)
  );
}

/** The vantage point that runs history completeness checks. */
export function completenessVantageId(config: FleetConfig): string {
  // The schema requires at least one vantage point.
  return config.completeness.vantageId ?? (config.vantagePoints[0] as VantagePointConfig).id;
}

/** A node with every default applied: what runtimes and the CDK app use. */
export interface ResolvedNode {
  id: string;
  role: string;
  index: number;
  location: string;
  region: string;
  zone: string | undefined;
  ports: NodePorts;
  image: string;
  resources: FleetConfig['defaults']['resources'];
}

export function resolveNodes(config: FleetConfig): ResolvedNode[] {
  return config.nodes.map((node) => {
    const match = NODE_ID_PATTERN.exec(node.id);
    const location = config.locations[node.location];
    if (!match || !location) {
      // parseFleetConfig has already refused such a config; reaching this is a programming error.
      throw new FleetConfigError([`nodes: "${node.id}" was not validated`]);
    }
    return {
      id: node.id,
      role: match[1] as string,
      index: Number(match[2]),
      location: node.location,
      region: location.region,
      zone: location.zone,
      ports: resolvePorts(config.defaults.ports, node.ports),
      image: node.image ?? config.defaults.image,
      resources: { ...config.defaults.resources, ...node.resources },
    };
  });
}

/** Longest rendering of a bad value in an error line: a message never echoes a whole large input. */
export const MAX_SHOWN_VALUE_CHARS = 80;

/** JSON of the value, cut to MAX_SHOWN_VALUE_CHARS with its full length said. */
export function shownValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? String(value);
  if (json.length <= MAX_SHOWN_VALUE_CHARS) return json;
  return `${json.slice(0, MAX_SHOWN_VALUE_CHARS)}... (${json.length} characters)`;
}

/** Formats one zod issue as `path: "value" message`. */
function describeIssue(issue: z.core.$ZodIssue, input: unknown): string[] {
  if (issue.code === 'unrecognized_keys') {
    // Name the keys, not the parent object they sit in.
    return issue.keys.map((key) =>
      gotIssueLine(
        formatPath([...issue.path, key]),
        'an unknown key',
        `not a setting${issue.path.length > 0 ? ` of ${formatPath(issue.path)}` : ''}; check its spelling or remove it`,
      ),
    );
  }
  const path = formatPath(issue.path);
  // Cross-field checks pass the value they judged (it may be a default the file never spelled out).
  const judged =
    issue.code === 'custom' ? (issue.params as { value?: unknown } | undefined)?.value : undefined;
  const value = judged !== undefined ? judged : valueAtPath(input, issue.path);
  return [gotIssueLine(path, shownValue(value), issue.message)];
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) =>
      typeof key === 'number' ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`,
    )
    .join('');
}

/** Turns zod issues into readable lines that name the path and the bad value. */
export function describeIssues(error: z.ZodError, input: unknown): string[] {
  return error.issues.flatMap((issue) => describeIssue(issue, input));
}

/**
 * Validates a parsed JSON value as a fleet config.
 * @example
 * const config = parseFleetConfig(JSON.parse(text), 'config/fleet.example.json');
 */
export function parseFleetConfig(input: unknown, source = 'fleet config'): FleetConfig {
  const result = FleetConfigSchema.safeParse(input);
  if (!result.success) throw new FleetConfigError(describeIssues(result.error, input), source);
  return result.data;
}

/**
 * Validates the text of a fleet config file, so that the CDK app and the local runtime report a
 * file that is not JSON the same way; reading the file stays with them (sync for synth, async locally).
 * @example
 * const config = parseFleetConfigText(readFileSync(path, 'utf8'), path);
 */
export function parseFleetConfigText(text: string, source = 'fleet config'): FleetConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FleetConfigError([`not valid JSON: ${(error as Error).message}`], source);
  }
  return parseFleetConfig(json, source);
}
