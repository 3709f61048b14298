// Lambda entry of the controller: wires the control step to SSM, DynamoDB, ECS and the publisher function.
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ecsRuntime, invokeAsync } from '../shared/aws-wiring.ts';
import { defaultHandlerDependencies, dynamoFleetStateStore } from '../shared/defaults.ts';
import {
  DEFAULT_LOOP_SECONDS,
  readFunctionEnvironment,
  readLoopSeconds,
} from '../shared/environment.ts';
import { systemLoopClock } from '../shared/invocation.ts';
import { DynamoObservationReader } from '../shared/observation-reader.ts';
import { type ControllerHandlerDeps, createControllerHandler } from './controller-handler.ts';

const lambdaClient = new LambdaClient({});

export function defaultControllerDependencies(
  env: NodeJS.ProcessEnv = process.env,
): ControllerHandlerDeps {
  const values = readFunctionEnvironment(
    ['fleet', 'probeResultsTable', 'nodeStateTable', 'publisherFunction'],
    env,
  );
  return {
    loopSeconds: readLoopSeconds(DEFAULT_LOOP_SECONDS, env),
    ...defaultHandlerDependencies(env),
    store: dynamoFleetStateStore(values),
    observations: new DynamoObservationReader({
      fleet: values.fleet,
      probeResultsTableName: values.probeResultsTable,
    }),
    runtimeFor: (_config, topology) => ecsRuntime(topology),
    invokePublisher: (request) =>
      invokeAsync(lambdaClient, values.publisherFunction, {
        source: 'storefleet.controller',
        ...request,
      }),
    clock: systemLoopClock,
  };
}

export const handler = createControllerHandler(defaultControllerDependencies());
