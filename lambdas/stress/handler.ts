// Lambda entry of the stress function: wires it to SSM, DynamoDB and a libp2p store client.
import { systemClock } from '../../probes/clock.ts';
import { createProbeDialer } from '../../waku/client/dialer.ts';
import { defaultHandlerDependencies, dynamoFleetStateStore } from '../shared/defaults.ts';
import { readFunctionEnvironment } from '../shared/environment.ts';
import { dynamoFleetSettings } from '../shared/fleet-settings.ts';
import { dynamoNodeDirectory } from '../shared/node-directory.ts';
import { createStressHandler, type StressHandlerDeps } from './stress-handler.ts';

export function defaultStressDependencies(env: NodeJS.ProcessEnv = process.env): StressHandlerDeps {
  const values = readFunctionEnvironment(['fleet', 'probeResultsTable', 'nodeStateTable'], env);
  return {
    ...defaultHandlerDependencies(env),
    store: dynamoFleetStateStore(values),
    settings: dynamoFleetSettings(values),
    directory: dynamoNodeDirectory(values),
    createDialer: (options) => createProbeDialer(options),
    // The stress function runs outside the nodes' VPCs: REST is out of its reach.
    restUrlOf: () => undefined,
    clock: systemClock,
  };
}

export const handler = createStressHandler(defaultStressDependencies());
