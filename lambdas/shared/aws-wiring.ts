// AWS wiring shared by handler entries: the ECS runtime of a deployed topology and asynchronous function invocation.
import type { ECSClient } from '@aws-sdk/client-ecs';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { DeploymentTopology } from '../../fleet/function-environment.ts';
import { callAws } from '../adapters/aws-call-error.ts';
import { EcsNodeRuntime } from '../adapters/EcsNodeRuntime.ts';

/** The controller's ECS runtime for the deployed topology: every node's service in its own region. */
export function ecsRuntime(
  topology: DeploymentTopology,
  clientForRegion?: (region: string) => ECSClient,
): EcsNodeRuntime {
  const services = new Map(topology.nodes.map((node) => [node.nodeId, node.service]));
  return new EcsNodeRuntime({
    clusterName: topology.nodes[0]?.cluster ?? '',
    nodes: topology.nodes.map((node) => ({ id: node.nodeId, region: node.region })),
    serviceName: (nodeId) => services.get(nodeId) ?? nodeId,
    ...(clientForRegion ? { clientForRegion } : {}),
  });
}

/** Starts a function without waiting for it (InvocationType Event). */
export async function invokeAsync(
  client: LambdaClient,
  functionName: string,
  payload: unknown,
): Promise<void> {
  await callAws({ action: 'lambda:InvokeFunction', resource: `function "${functionName}"` }, () =>
    client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    ),
  );
}
