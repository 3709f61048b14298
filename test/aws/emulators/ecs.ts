// An ECS emulator (awsJson1_1) whose services are real local store nodes: DescribeServices reports their processes, UpdateService redeploys them.
import type { TaskState } from '../../../fleet/ports.ts';
import type { ProcessRuntime } from '../../../local/process-runtime.ts';
import { AwsFault, type RunningService, startJsonService } from './json-service.ts';

/** One store node's service, as StoreNodeFleet deploys it. */
export interface EmulatedService {
  nodeId: string;
  region: string;
  cluster: string;
  service: string;
}

export interface EcsEmulator extends RunningService {
  /** Every UpdateService call received, in order. */
  readonly updates: Array<{ region: string; service: string; forceNewDeployment: boolean }>;
  /** What DescribeServices reports for a node now. */
  taskStateOf(nodeId: string): TaskState;
}

/** DescribeServices accepts at most 10 services, as on AWS. */
const DESCRIBE_SERVICES_MAX = 10;

/**
 * Tasks are the runtime's processes: a killed process reads as runningCount 0, a starting one as
 * pendingCount 1. Like a service with minimumHealthyPercent 0 and maximumPercent 100, a forced
 * deployment stops the old task before it starts the new one (ProcessRuntime.replaceNode).
 */
export async function startEcsEmulator(options: {
  port: number;
  regions: readonly string[];
  services: readonly EmulatedService[];
  runtime: ProcessRuntime;
  accountId?: string;
}): Promise<EcsEmulator> {
  const account = options.accountId ?? '000000000000';
  const updates: EcsEmulator['updates'] = [];
  const find = (region: string, cluster: unknown, service: unknown) =>
    options.services.find(
      (candidate) =>
        candidate.region === region &&
        candidate.cluster === cluster &&
        (candidate.service === service ||
          service ===
            `arn:aws:ecs:${region}:${account}:service/${candidate.cluster}/${candidate.service}`),
    );
  const taskStateOf = (nodeId: string): TaskState =>
    options.runtime.taskStatesNow().get(nodeId) ?? 'missing';
  const describe = (entry: EmulatedService) => {
    const state = taskStateOf(entry.nodeId);
    return {
      serviceArn: `arn:aws:ecs:${entry.region}:${account}:service/${entry.cluster}/${entry.service}`,
      serviceName: entry.service,
      clusterArn: `arn:aws:ecs:${entry.region}:${account}:cluster/${entry.cluster}`,
      status: 'ACTIVE',
      desiredCount: 1,
      runningCount: state === 'running' ? 1 : 0,
      pendingCount: state === 'pending' ? 1 : 0,
      launchType: 'FARGATE',
      deploymentConfiguration: { maximumPercent: 100, minimumHealthyPercent: 0 },
    };
  };
  const service = await startJsonService({
    targetPrefix: 'AmazonEC2ContainerServiceV20141113',
    jsonVersion: '1.1',
    port: options.port,
    regions: options.regions,
    operations: {
      DescribeServices: (input, { region }) => {
        const names = Array.isArray(input['services']) ? (input['services'] as unknown[]) : [];
        if (names.length > DESCRIBE_SERVICES_MAX) {
          throw new AwsFault('InvalidParameterException', 'services can have at most 10 items.');
        }
        const cluster = input['cluster'] ?? 'default';
        const found = names.map((name) => [name, find(region, cluster, name)] as const);
        return {
          services: found.flatMap(([, entry]) => (entry ? [describe(entry)] : [])),
          failures: found.flatMap(([name, entry]) =>
            entry
              ? []
              : [
                  {
                    arn: `arn:aws:ecs:${region}:${account}:service/${String(cluster)}/${String(name)}`,
                    reason: 'MISSING',
                  },
                ],
          ),
        };
      },
      UpdateService: (input, { region }) => {
        const entry = find(region, input['cluster'] ?? 'default', input['service']);
        if (!entry) throw new AwsFault('ServiceNotFoundException', 'Service not found.');
        const forceNewDeployment = input['forceNewDeployment'] === true;
        updates.push({ region, service: entry.service, forceNewDeployment });
        if (forceNewDeployment) {
          // ECS answers at once and rolls the deployment out afterwards.
          options.runtime.replaceNode(entry.nodeId, 'forced new deployment').catch(() => {});
        }
        return { service: describe(entry) };
      },
    },
  });
  return { ...service, updates, taskStateOf };
}
