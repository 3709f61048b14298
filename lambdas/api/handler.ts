// Lambda entry of the API: the hono app behind the function URL, wired to SSM, DynamoDB and the stress function.
import { LambdaClient } from '@aws-sdk/client-lambda';
import { FleetStateSchema } from '../../fleet/state.ts';
import { DynamoStateStore } from '../adapters/DynamoStateStore.ts';
import { invokeAsync } from '../shared/aws-wiring.ts';
import { controlPlaneFromEnvironment } from '../shared/defaults.ts';
import { readFunctionEnvironment } from '../shared/environment.ts';
import { DynamoFleetSettings } from '../shared/fleet-settings.ts';
import { type ApiDeps, createApiHandler } from './api-app.ts';

const lambdaClient = new LambdaClient({});

export function defaultApiDependencies(env: NodeJS.ProcessEnv = process.env): ApiDeps {
  const values = readFunctionEnvironment(
    ['fleet', 'probeResultsTable', 'nodeStateTable', 'stressFunction'],
    env,
  );
  return {
    controlPlane: controlPlaneFromEnvironment(env),
    store: new DynamoStateStore({
      fleet: values.fleet,
      nodeStateTableName: values.nodeStateTable,
      probeResultsTableName: values.probeResultsTable,
      stateSchema: FleetStateSchema,
    }),
    settings: new DynamoFleetSettings({
      fleet: values.fleet,
      nodeStateTableName: values.nodeStateTable,
    }),
    invokeStress: (request) => invokeAsync(lambdaClient, values.stressFunction, request),
  };
}

export const handler = createApiHandler(defaultApiDependencies());
