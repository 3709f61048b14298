// Lambda entry of the controller: wires the control step to SSM, DynamoDB, ECS and the publisher function.
import { LambdaClient } from '@aws-sdk/client-lambda';
import { FleetStateSchema } from '../../fleet/state.ts';
import { DynamoStateStore } from '../adapters/DynamoStateStore.ts';
import { logger } from '../adapters/logger.ts';
import { ecsRuntime, invokeAsync } from '../shared/aws-wiring.ts';
import { controlPlaneFromEnvironment, metricsFromEnvironment } from '../shared/defaults.ts';
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
    controlPlane: controlPlaneFromEnvironment(env),
    store: new DynamoStateStore({
      fleet: values.fleet,
      nodeStateTableName: values.nodeStateTable,
      probeResultsTableName: values.probeResultsTable,
      stateSchema: FleetStateSchema,
    }),
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
    metrics: metricsFromEnvironment(env),
    log: logger,
  };
}

export const handler = createControllerHandler(defaultControllerDependencies());
