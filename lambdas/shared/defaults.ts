// Default dependencies shared by the handlers: the SSM control plane and EMF metrics, configured from the environment.
import { EmfMetricsSink } from '../adapters/EmfMetricsSink.ts';
import { SsmControlPlane } from './control-plane.ts';
import { readFunctionEnvironment } from './environment.ts';

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
