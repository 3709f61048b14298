// Lambda entry of the stress function (scheduled and on demand): wires it to SSM, DynamoDB and a libp2p store client, with Powertools middleware.
import { systemClock } from '../../probes/clock.ts';
import { createProbeDialer } from '../../waku/client/dialer.ts';
import { clientsFromEnvironment, defaultHandlerDependencies } from '../shared/defaults.ts';
import { withPowertools } from '../shared/powertools.ts';
import { createStressHandler, type StressHandlerDeps } from './stress-handler.ts';

export function stressDependencies(
  base: ReturnType<typeof defaultHandlerDependencies>,
): StressHandlerDeps {
  return {
    controlPlane: base.controlPlane,
    metrics: base.metrics,
    log: base.log,
    store: base.tables.store,
    drains: base.tables.drains,
    directory: base.tables.identities,
    createDialer: (options) => createProbeDialer(options),
    // The stress function runs outside the nodes' VPCs: REST is out of its reach.
    restUrlOf: () => undefined,
    clock: systemClock,
  };
}

const base = defaultHandlerDependencies(process.env, clientsFromEnvironment());
export const handler = withPowertools(
  'stress',
  createStressHandler(stressDependencies(base)),
  base.metrics,
);
