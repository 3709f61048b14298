// Lambda entry of the completeness check: wires it to SSM, DynamoDB and a libp2p store client, with Powertools middleware.
import { systemClock } from '../../probes/clock.ts';
import { createProbeDialer } from '../../waku/client/dialer.ts';
import { clientsFromEnvironment, defaultHandlerDependencies } from '../shared/defaults.ts';
import { withPowertools } from '../shared/powertools.ts';
import { type CompletenessHandlerDeps, createCompletenessHandler } from './completeness-handler.ts';

export function completenessDependencies(
  base: ReturnType<typeof defaultHandlerDependencies>,
): CompletenessHandlerDeps {
  return {
    controlPlane: base.controlPlane,
    metrics: base.metrics,
    log: base.log,
    store: base.tables.store,
    directory: base.tables.identities,
    createDialer: (options) => createProbeDialer(options),
    clock: systemClock,
  };
}

const base = defaultHandlerDependencies(process.env, clientsFromEnvironment());
export const handler = withPowertools(
  'completeness',
  createCompletenessHandler(completenessDependencies(base)),
  base.metrics,
);
