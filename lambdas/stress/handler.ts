// Lambda entry of the stress function: wires it to SSM, DynamoDB and a libp2p store client.
import { FleetStateSchema } from '../../fleet/state.ts';
import { systemClock } from '../../probes/clock.ts';
import { createProbeDialer } from '../../waku/client/dialer.ts';
import { DynamoStateStore } from '../adapters/DynamoStateStore.ts';
import { logger } from '../adapters/logger.ts';
import { controlPlaneFromEnvironment, metricsFromEnvironment } from '../shared/defaults.ts';
import { readFunctionEnvironment } from '../shared/environment.ts';
import { DynamoFleetSettings } from '../shared/fleet-settings.ts';
import { DynamoNodeDirectory } from '../shared/node-directory.ts';
import { createStressHandler, type StressHandlerDeps } from './stress-handler.ts';

export function defaultStressDependencies(env: NodeJS.ProcessEnv = process.env): StressHandlerDeps {
  const values = readFunctionEnvironment(['fleet', 'probeResultsTable', 'nodeStateTable'], env);
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
    directory: new DynamoNodeDirectory({
      fleet: values.fleet,
      probeResultsTableName: values.probeResultsTable,
    }),
    createDialer: (options) => createProbeDialer(options),
    // The stress function runs outside the nodes' VPCs: REST is out of its reach.
    restUrlOf: () => undefined,
    clock: systemClock,
    metrics: metricsFromEnvironment(env),
    log: logger,
  };
}

export const handler = createStressHandler(defaultStressDependencies());
