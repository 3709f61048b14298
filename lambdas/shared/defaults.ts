// Default dependencies shared by the function entries: AWS clients with explicit regions, the SSM control plane, EMF metrics, the logger and the control region's tables, from the environment.
import { EmfMetricsSink } from '../adapters/EmfMetricsSink.ts';
import { logger } from '../adapters/logger.ts';
import { AwsClients, endpointMapFromEnvironment } from './aws-clients.ts';
import { SsmControlPlane } from './control-plane.ts';
import { controlTables } from './control-ports.ts';
import { readFunctionEnvironment } from './environment.ts';

/** One set of clients per execution environment, each created for the region it serves. */
export function clientsFromEnvironment(env: NodeJS.ProcessEnv = process.env): AwsClients {
  return new AwsClients(endpointMapFromEnvironment(env));
}

/** The SSM-backed control plane named by this function's environment. */
export function controlPlaneFromEnvironment(
  env: NodeJS.ProcessEnv,
  clients: AwsClients,
): SsmControlPlane {
  const values = readFunctionEnvironment(
    ['controlRegion', 'configParameter', 'deploymentParameter'],
    env,
  );
  return new SsmControlPlane({
    controlRegion: values.controlRegion,
    configParameter: values.configParameter,
    deploymentParameter: values.deploymentParameter,
    clientForRegion: (region) => clients.ssm(region),
    onUnreadableAddresses: (problem) =>
      logger.warn(
        'a region’s node addresses are unreadable; its nodes are left out until they are',
        {
          region: problem.region,
          parameter: problem.parameter,
          nodeIds: problem.nodeIds,
          error: problem.error.message,
        },
      ),
  });
}

export function metricsFromEnvironment(env: NodeJS.ProcessEnv = process.env): EmfMetricsSink {
  return new EmfMetricsSink({ fleet: readFunctionEnvironment(['fleet'], env).fleet });
}

/**
 * What every function is wired to: the control plane, EMF metrics, the logger and the tables.
 * @example
 * const { controlPlane, metrics, log, tables } = defaultHandlerDependencies(env, clients);
 */
export function defaultHandlerDependencies(env: NodeJS.ProcessEnv, clients: AwsClients) {
  const values = readFunctionEnvironment(
    ['fleet', 'controlRegion', 'probeResultsTable', 'nodeStateTable'],
    env,
  );
  return {
    controlPlane: controlPlaneFromEnvironment(env, clients),
    metrics: metricsFromEnvironment(env),
    log: logger,
    tables: controlTables(values, clients),
    values,
  };
}
