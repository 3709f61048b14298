// Lambda entry of a vantage point's prober: wires the probe handler to SSM, DynamoDB, libp2p and nwaku REST.
import { FleetStateSchema } from '../../fleet/state.ts';
import { createProbeDialer } from '../../waku/client/dialer.ts';
import { health, info } from '../../waku/client/rest.ts';
import { DynamoStateStore } from '../adapters/DynamoStateStore.ts';
import { logger } from '../adapters/logger.ts';
import { controlPlaneFromEnvironment, metricsFromEnvironment } from '../shared/defaults.ts';
import {
  DEFAULT_LOOP_SECONDS,
  readFunctionEnvironment,
  readLoopSeconds,
} from '../shared/environment.ts';
import { sameRegionRestUrl } from '../shared/fleet-targets.ts';
import { systemLoopClock } from '../shared/invocation.ts';
import { DynamoNodeDirectory } from '../shared/node-directory.ts';
import { createProbeHandler, type ProbeHandlerDeps } from './probe-handler.ts';

export function defaultProbeDependencies(env: NodeJS.ProcessEnv = process.env): ProbeHandlerDeps {
  const values = readFunctionEnvironment(['fleet', 'vantageId', 'probeResultsTable'], env);
  return {
    vantageId: values.vantageId,
    loopSeconds: readLoopSeconds(DEFAULT_LOOP_SECONDS, env),
    controlPlane: controlPlaneFromEnvironment(env),
    store: new DynamoStateStore({
      fleet: values.fleet,
      // Probers only append probe rounds; the node state table is the controller's.
      nodeStateTableName: '',
      probeResultsTableName: values.probeResultsTable,
      stateSchema: FleetStateSchema,
    }),
    directory: new DynamoNodeDirectory({
      fleet: values.fleet,
      probeResultsTableName: values.probeResultsTable,
    }),
    createDialer: (options) => createProbeDialer(options),
    rest: { health, info },
    restUrlOf: sameRegionRestUrl,
    clock: systemLoopClock,
    metrics: metricsFromEnvironment(env),
    log: logger,
  };
}

export const handler = createProbeHandler(defaultProbeDependencies());
