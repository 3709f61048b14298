// What a watcher task reads from its environment (the names of fleet/function-environment.ts), checked at start so a bad task definition fails naming the variable.
import type { FleetConfig, VantagePointConfig } from '../../fleet/config.ts';
import { FUNCTION_ENVIRONMENT } from '../../fleet/function-environment.ts';
import { FunctionEnvironmentError, readFunctionEnvironment } from '../shared/environment.ts';

export interface WatcherSettings {
  fleet: string;
  vantageId: string;
  controlRegion: string;
  configParameter: string;
  deploymentParameter: string;
  probeResultsTable: string;
  nodeStateTable: string;
  /** Only the deciding watcher publishes; the others never read these. */
  registryBucket: string | undefined;
  signingKeyId: string | undefined;
  /** Host of a node's REST API inside the VPC; undefined: the node id (Cloud Map). */
  nodeRestHost: string | undefined;
}

/**
 * @throws FunctionEnvironmentError naming every missing variable.
 * @example const settings = readWatcherSettings(process.env, options.vantage);
 */
export function readWatcherSettings(
  env: NodeJS.ProcessEnv,
  vantageOverride?: string,
): WatcherSettings {
  const withVantage =
    vantageOverride === undefined
      ? env
      : { ...env, [FUNCTION_ENVIRONMENT.vantageId]: vantageOverride };
  const values = readFunctionEnvironment(
    [
      'fleet',
      'vantageId',
      'controlRegion',
      'configParameter',
      'deploymentParameter',
      'probeResultsTable',
      'nodeStateTable',
    ],
    withVantage,
  );
  const optional = (name: string) => {
    const value = env[name]?.trim();
    return value ? value : undefined;
  };
  return {
    ...values,
    registryBucket: optional(FUNCTION_ENVIRONMENT.registryBucket),
    signingKeyId: optional(FUNCTION_ENVIRONMENT.signingKeyId),
    nodeRestHost: optional(FUNCTION_ENVIRONMENT.nodeRestHost),
  };
}

/**
 * The one watcher that decides and publishes: the first vantage point of the config in the control
 * region. Every other watcher only probes and records. The state's optimistic lock still guards
 * against two deciders (a task overlapping its replacement).
 */
export function decidingVantage(
  config: Pick<FleetConfig, 'vantagePoints'>,
  controlRegion: string,
): VantagePointConfig | undefined {
  return config.vantagePoints.find((vantage) => vantage.region === controlRegion);
}

/** The deciding watcher needs the registry's bucket and key; say so at start rather than at the first publication. */
export function assertCanPublish(settings: WatcherSettings): {
  registryBucket: string;
  signingKeyId: string;
} {
  const missing = [
    settings.registryBucket === undefined ? FUNCTION_ENVIRONMENT.registryBucket : undefined,
    settings.signingKeyId === undefined ? FUNCTION_ENVIRONMENT.signingKeyId : undefined,
  ].filter((name) => name !== undefined) as string[];
  if (missing.length > 0) {
    throw new FunctionEnvironmentError(
      missing.map(
        (name) =>
          `${name} is not set, and vantage point "${settings.vantageId}" is the control region's watcher, which publishes the registry`,
      ),
    );
  }
  return {
    registryBucket: settings.registryBucket as string,
    signingKeyId: settings.signingKeyId as string,
  };
}
