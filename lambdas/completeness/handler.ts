// Lambda entry of the completeness check: wires it to SSM, DynamoDB and a libp2p store client.
import { FleetStateSchema } from '../../fleet/state.ts';
import { systemClock } from '../../probes/clock.ts';
import { createProbeDialer } from '../../waku/client/dialer.ts';
import { DynamoStateStore } from '../adapters/DynamoStateStore.ts';
import { logger } from '../adapters/logger.ts';
import { controlPlaneFromEnvironment, metricsFromEnvironment } from '../shared/defaults.ts';
import { readFunctionEnvironment } from '../shared/environment.ts';
import { DynamoNodeDirectory } from '../shared/node-directory.ts';
import { type CompletenessHandlerDeps, createCompletenessHandler } from './completeness-handler.ts';

export function defaultCompletenessDependencies(
  env: NodeJS.ProcessEnv = process.env,
): CompletenessHandlerDeps {
  const values = readFunctionEnvironment(['fleet', 'probeResultsTable', 'nodeStateTable'], env);
  return {
    controlPlane: controlPlaneFromEnvironment(env),
    store: new DynamoStateStore({
      fleet: values.fleet,
      nodeStateTableName: values.nodeStateTable,
      probeResultsTableName: values.probeResultsTable,
      stateSchema: FleetStateSchema,
    }),
    directory: new DynamoNodeDirectory({
      fleet: values.fleet,
      probeResultsTableName: values.probeResultsTable,
    }),
    createDialer: (options) => createProbeDialer(options),
    clock: systemClock,
    metrics: metricsFromEnvironment(env),
    log: logger,
  };
}

export const handler = createCompletenessHandler(defaultCompletenessDependencies());
