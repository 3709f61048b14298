// Lambda entry of the API: the hono app behind the function URL, wired to SSM, DynamoDB and the stress function.
import { LambdaClient } from '@aws-sdk/client-lambda';
import { invokeAsync } from '../shared/aws-wiring.ts';
import { controlPlaneFromEnvironment, dynamoFleetStateStore } from '../shared/defaults.ts';
import { readFunctionEnvironment } from '../shared/environment.ts';
import { dynamoFleetSettings } from '../shared/fleet-settings.ts';
import { type ApiDeps, createApiHandler } from './api-app.ts';

const lambdaClient = new LambdaClient({});

export function defaultApiDependencies(env: NodeJS.ProcessEnv = process.env): ApiDeps {
  const values = readFunctionEnvironment(
    ['fleet', 'probeResultsTable', 'nodeStateTable', 'stressFunction'],
    env,
  );
  return {
    controlPlane: controlPlaneFromEnvironment(env),
    store: dynamoFleetStateStore(values),
    settings: dynamoFleetSettings(values),
    invokeStress: (request) => invokeAsync(lambdaClient, values.stressFunction, request),
  };
}

export const handler = createApiHandler(defaultApiDependencies());
