// Lambda entry of a vantage point's prober: wires the probe handler to SSM, DynamoDB, libp2p and nwaku REST.
import { createProbeDialer } from '../../waku/client/dialer.ts';
import { health, info } from '../../waku/client/rest.ts';
import { defaultHandlerDependencies, dynamoFleetStateStore } from '../shared/defaults.ts';
import {
  DEFAULT_LOOP_SECONDS,
  readFunctionEnvironment,
  readLoopSeconds,
} from '../shared/environment.ts';
import { sameRegionRestUrl } from '../shared/fleet-targets.ts';
import { systemLoopClock } from '../shared/invocation.ts';
import { dynamoNodeDirectory } from '../shared/node-directory.ts';
import { createProbeHandler, type ProbeHandlerDeps } from './probe-handler.ts';

export function defaultProbeDependencies(env: NodeJS.ProcessEnv = process.env): ProbeHandlerDeps {
  const values = readFunctionEnvironment(['fleet', 'vantageId', 'probeResultsTable'], env);
  return {
    vantageId: values.vantageId,
    loopSeconds: readLoopSeconds(DEFAULT_LOOP_SECONDS, env),
    ...defaultHandlerDependencies(env),
    // Probers only append probe rounds; the node state table is the controller's.
    store: dynamoFleetStateStore({ ...values, nodeStateTable: '' }),
    directory: dynamoNodeDirectory(values),
    createDialer: (options) => createProbeDialer(options),
    rest: { health, info },
    restUrlOf: sameRegionRestUrl,
    clock: systemLoopClock,
  };
}

export const handler = createProbeHandler(defaultProbeDependencies());
