// Lambda entry of the API: the hono app behind the function URL, wired to SSM, DynamoDB, ECS, CloudWatch and the stress function, with Powertools middleware.
import { handle } from 'hono/aws-lambda';
import { AwsClients, endpointMapFromEnvironment } from '../shared/aws-clients.ts';
import { ecsRuntime, invokeAsync } from '../shared/aws-wiring.ts';
import { controlTables } from '../shared/control-ports.ts';
import { controlPlaneFromEnvironment } from '../shared/defaults.ts';
import { readFunctionEnvironment } from '../shared/environment.ts';
import { withPowertools } from '../shared/powertools.ts';
import { type ApiDeps, createApiApp } from './api-app.ts';

export function defaultApiDependencies(
  env: NodeJS.ProcessEnv = process.env,
  clients = new AwsClients(endpointMapFromEnvironment(env)),
): ApiDeps {
  const values = readFunctionEnvironment(
    ['fleet', 'controlRegion', 'probeResultsTable', 'nodeStateTable', 'stressFunction'],
    env,
  );
  const controlPlane = controlPlaneFromEnvironment(env, clients);
  const tables = controlTables(values, clients);
  let runtime: ReturnType<typeof ecsRuntime> | undefined;
  return {
    controlPlane,
    store: tables.store,
    drains: tables.drains,
    runtime: {
      taskStates: async () => {
        runtime ??= ecsRuntime((await controlPlane.load()).topology, (region) =>
          clients.ecs(region),
        );
        return runtime.taskStates();
      },
    },
    cloudWatch: clients.cloudwatch(values.controlRegion),
    invokeStress: (request) =>
      invokeAsync(clients.lambda(values.controlRegion), values.stressFunction, request),
  };
}

/** The API's Lambda handler for a set of dependencies (function URL events). */
export function createApiHandler(deps: ApiDeps) {
  return withPowertools('api', handle(createApiApp(deps)));
}

export const handler = createApiHandler(defaultApiDependencies());
