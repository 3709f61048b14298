// Default dependencies shared by the handlers: the SSM control plane, EMF metrics, the logger and the fleet state tables, configured from the environment.
import { type FleetState, FleetStateSchema } from '../../fleet/state.ts';
import { DynamoStateStore } from '../adapters/DynamoStateStore.ts';
import { EmfMetricsSink } from '../adapters/EmfMetricsSink.ts';
import { logger } from '../adapters/logger.ts';
import { SsmControlPlane } from './control-plane.ts';
import { type EnvironmentKey, readFunctionEnvironment } from './environment.ts';

/** The SSM-backed control plane named by this function's environment. */
export function controlPlaneFromEnvironment(env: NodeJS.ProcessEnv = process.env): SsmControlPlane {
  const values = readFunctionEnvironment(
    ['controlRegion', 'configParameter', 'deploymentParameter'],
    env,
  );
  return new SsmControlPlane({
    controlRegion: values.controlRegion,
    configParameter: values.configParameter,
    deploymentParameter: values.deploymentParameter,
  });
}

export function metricsFromEnvironment(env: NodeJS.ProcessEnv = process.env): EmfMetricsSink {
  return new EmfMetricsSink({ fleet: readFunctionEnvironment(['fleet'], env).fleet });
}

/**
 * What every scheduled function is wired to: the control plane, EMF metrics and the logger.
 * @example
 * return { ...defaultHandlerDependencies(env), store: dynamoFleetStateStore(values), clock: systemClock };
 */
export function defaultHandlerDependencies(env: NodeJS.ProcessEnv = process.env) {
  return {
    controlPlane: controlPlaneFromEnvironment(env),
    metrics: metricsFromEnvironment(env),
    log: logger,
  };
}

/** The fleet state and probe results tables, named by values read with readFunctionEnvironment. */
export function dynamoFleetStateStore(
  values: Record<Extract<EnvironmentKey, 'fleet' | 'probeResultsTable' | 'nodeStateTable'>, string>,
): DynamoStateStore<FleetState> {
  return new DynamoStateStore({
    fleet: values.fleet,
    nodeStateTableName: values.nodeStateTable,
    probeResultsTableName: values.probeResultsTable,
    stateSchema: FleetStateSchema,
  });
}
