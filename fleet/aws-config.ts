// The `aws` section of the fleet config: how the CDK app lays the fleet out on AWS (watchers, load balancers, identities brought along).
import * as z from 'zod';

/**
 * The CPU/memory pairs Fargate accepts (MiB): 256 -> 512-2048; 512 -> 1-4 GB; 1024 -> 2-8 GB;
 * 2048 -> 4-16 GB; 4096 -> 8-30 GB, in 1 GB steps above 2 GB. Anything else fails at
 * RegisterTaskDefinition and rolls the region's stack back.
 */
export const FARGATE_MEMORY_MIB: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: gibSteps(1, 4),
  1024: gibSteps(2, 8),
  2048: gibSteps(4, 16),
  4096: gibSteps(8, 30),
};

function gibSteps(fromGiB: number, toGiB: number): number[] {
  return Array.from({ length: toGiB - fromGiB + 1 }, (_, index) => (fromGiB + index) * 1024);
}

/** Why Fargate would refuse this pair, or undefined when it accepts it. */
export function fargatePairProblem(cpu: number, memoryMiB: number): string | undefined {
  const allowed = FARGATE_MEMORY_MIB[cpu];
  if (!allowed) {
    return `Fargate has no ${cpu} CPU size; expected one of ${Object.keys(FARGATE_MEMORY_MIB).join(', ')}`;
  }
  if (allowed.includes(memoryMiB)) return undefined;
  const first = allowed[0] as number;
  const last = allowed[allowed.length - 1] as number;
  return `Fargate does not run ${memoryMiB} MiB with ${cpu} CPU units; expected ${allowed.length <= 3 ? allowed.join(', ') : `${first} to ${last} in steps of 1024`} MiB`;
}

const fargateCpu = z.union([
  z.literal(256),
  z.literal(512),
  z.literal(1024),
  z.literal(2048),
  z.literal(4096),
]);

const WatcherSchema = z.strictObject({
  /**
   * `spot`: Fargate Spot first, on demand when Spot has no capacity (an interruption costs one
   * vote for about a minute, which the quorum tolerates); `onDemand`: Fargate only.
   */
  capacity: z.enum(['spot', 'onDemand']).default('spot'),
  cpu: fargateCpu.default(256),
  memoryMiB: z.number().int().default(512),
});

const ExistingNodeSchema = z.strictObject({
  /** Secrets Manager secret holding the node key (64 hex characters): keeps a peer id clients know. */
  nodeKeySecretArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
      'expected a Secrets Manager secret ARN',
    )
    .optional(),
  /** An Elastic IP the node keeps (per-node balancers only): its allocation and its address, which the registry lists. */
  elasticIp: z
    .strictObject({
      allocationId: z
        .string()
        .regex(/^eipalloc-[0-9a-f]+$/, 'expected an allocation id such as eipalloc-0abc123'),
      address: z.ipv4(),
    })
    .optional(),
});

export const AwsSchema = z.strictObject({
  watcher: WatcherSchema.default(WatcherSchema.parse({})),
  /**
   * `shared`: one network load balancer per region, each node on its own ports (the default;
   * multiaddrs carry the port). `perNode`: a balancer and Elastic IP per node, every node on the
   * configured ports (about 20 USD a month more per node).
   */
  loadBalancing: z.enum(['shared', 'perNode']).default('shared'),
  /** Identities a fleet brings along, by node id. */
  nodes: z.record(z.string(), ExistingNodeSchema).default({}),
});

export type AwsConfig = z.output<typeof AwsSchema>;
export const DEFAULT_AWS_CONFIG: AwsConfig = AwsSchema.parse({});
