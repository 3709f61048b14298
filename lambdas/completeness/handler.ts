// Lambda entry of the completeness check: wires it to SSM, DynamoDB and a libp2p store client.
import { systemClock } from '../../probes/clock.ts';
import { createProbeDialer } from '../../waku/client/dialer.ts';
import { defaultHandlerDependencies, dynamoFleetStateStore } from '../shared/defaults.ts';
import { readFunctionEnvironment } from '../shared/environment.ts';
import { dynamoNodeDirectory } from '../shared/node-directory.ts';
import { type CompletenessHandlerDeps, createCompletenessHandler } from './completeness-handler.ts';

export function defaultCompletenessDependencies(
  env: NodeJS.ProcessEnv = process.env,
): CompletenessHandlerDeps {
  const values = readFunctionEnvironment(['fleet', 'probeResultsTable', 'nodeStateTable'], env);
  return {
    ...defaultHandlerDependencies(env),
    store: dynamoFleetStateStore(values),
    directory: dynamoNodeDirectory(values),
    createDialer: (options) => createProbeDialer(options),
    clock: systemClock,
  };
}

export const handler = createCompletenessHandler(defaultCompletenessDependencies());
