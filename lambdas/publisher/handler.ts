// Lambda entry of the scheduled republisher: when the watchers have published nothing new, control/'s publish policy republishes the same listing before it expires.

import type { PublicationOutcome, RegistryPublication } from '../../control/publication.ts';
import { initialFleetState } from '../../fleet/state.ts';
import { awsRegistryPublication } from '../shared/control-ports.ts';
import { clientsFromEnvironment, defaultHandlerDependencies } from '../shared/defaults.ts';
import { readFunctionEnvironment } from '../shared/environment.ts';
import { withPowertools } from '../shared/powertools.ts';

export type { PublicationOutcome };

export interface RepublishDeps {
  base: ReturnType<typeof defaultHandlerDependencies>;
  registryBucket: string;
  signingKeyId: string;
  clients: ReturnType<typeof clientsFromEnvironment>;
  nowMs?: () => number;
}

/**
 * Publishes only if the listed set changed or the last version is due (RegistryPublication
 * decides): a watcher that is up publishes every change itself, so this run usually does nothing.
 * @example const outcome = await createRepublishHandler(deps)({}, context);
 */
export function createRepublishHandler(deps: RepublishDeps) {
  let publication: RegistryPublication | undefined;
  return async function republishHandler(_event: unknown): Promise<PublicationOutcome> {
    const { base } = deps;
    const { config } = await base.controlPlane.load();
    publication ??= awsRegistryPublication({
      config,
      controlPlane: base.controlPlane,
      tables: base.tables,
      controlRegion: base.values.controlRegion,
      registryBucket: deps.registryBucket,
      signingKeyId: deps.signingKeyId,
      clients: deps.clients,
      metrics: base.metrics,
      log: base.log,
    });
    const loaded = await base.tables.store.loadFleetState();
    return publication.publishIfDue(
      loaded.state ?? initialFleetState(config),
      (deps.nowMs ?? Date.now)(),
    );
  };
}

const clients = clientsFromEnvironment();
const base = defaultHandlerDependencies(process.env, clients);
const registry = readFunctionEnvironment(['registryBucket', 'signingKeyId']);
export const handler = withPowertools(
  'republish',
  createRepublishHandler({ base, clients, ...registry }),
  base.metrics,
);
