// Probe command fetching: the fleet's store nodes from a fleets.json file or URL, a dialer for one command, and the drained-node guard.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseFleetsJson } from '../../../fleet/registry/index.ts';
import type { ProbeTarget } from '../../../probes/probe-round.ts';
import { storeTargetsFromFleetsJson } from '../../../probes/targets.ts';
import type { ProbeDialer } from '../../../waku/client/dialer.ts';
import {
  DEFAULT_LOCAL_FLEETS_JSON,
  DEFAULT_LOCAL_STATE_DB,
  type ProbeSettings,
  ProbeUsageError,
  type SourceOptions,
} from './flags.ts';

/** A fleets.json download gives up after this long, or past this size. */
const FLEETS_JSON_FETCH_TIMEOUT_MS = 10_000;
const FLEETS_JSON_MAX_BYTES = 4 * 1024 * 1024;

/** The fleet's store nodes from a fleets.json file or URL. */
export async function loadProbeTargets(source: string, fleet: string): Promise<ProbeTarget[]> {
  let text: string;
  if (/^https?:\/\//.test(source)) {
    const response = await fetch(source, {
      signal: AbortSignal.timeout(FLEETS_JSON_FETCH_TIMEOUT_MS),
    }).catch((error: unknown) => {
      throw new ProbeUsageError(`--fleets: cannot fetch ${source}: ${(error as Error).message}`);
    });
    if (!response.ok)
      throw new ProbeUsageError(`--fleets: ${source} answered HTTP ${response.status}`);
    text = await response.text();
  } else {
    text = await readFile(source, 'utf8').catch((error: unknown) => {
      throw new ProbeUsageError(
        `--fleets: cannot read ${source}: ${(error as Error).message}${source === DEFAULT_LOCAL_FLEETS_JSON ? ' (is the local fleet running? otherwise pass --fleets)' : ''}`,
      );
    });
  }
  if (text.length > FLEETS_JSON_MAX_BYTES) {
    throw new ProbeUsageError(`--fleets: ${source} is larger than ${FLEETS_JSON_MAX_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ProbeUsageError(`--fleets: ${source} is not JSON: ${(error as Error).message}`);
  }
  try {
    return storeTargetsFromFleetsJson(parseFleetsJson(json, source), fleet);
  } catch (error) {
    if (error instanceof Error && error.name === 'NoProbeTargetsError') {
      throw new ProbeUsageError(`--fleet: ${error.message}`);
    }
    throw error;
  }
}

/** The targets of a `probe` or `completeness` run: the fleet named by the flags or config. */
export async function targetsFor(
  options: SourceOptions,
  settings: ProbeSettings,
): Promise<ProbeTarget[]> {
  if (settings.fleet === undefined) {
    throw new ProbeUsageError('--fleet: required without --config (e.g. --fleet status.prod)');
  }
  return loadProbeTargets(options.fleets ?? DEFAULT_LOCAL_FLEETS_JSON, settings.fleet);
}

/** Runs `work` with a dialer for the settings' cluster, and stops the dialer after. */
export async function withDialer<T>(
  settings: ProbeSettings,
  work: (dialer: ProbeDialer) => Promise<T>,
): Promise<T> {
  // libp2p takes ~0.3 s to import: only commands that dial pay for it.
  const { createProbeDialer } = await import('../../../waku/client/dialer.ts');
  const dialer = await createProbeDialer({
    clusterId: settings.clusterId,
    shards: settings.shards,
    maxResponseBytes: settings.probe.maxResponseBytes,
  });
  try {
    return await work(dialer);
  } finally {
    await dialer.stop();
  }
}

export /** The local controller's state, read only to learn which nodes must not be stressed. */
async function drainedGuardFromState(
  path: string | undefined,
): Promise<(nodeId: string) => boolean> {
  const { unlistedNodeGuard } = await import('../../../probes/stress/stress-guard.ts');
  const file = path ?? DEFAULT_LOCAL_STATE_DB;
  if (!existsSync(file)) {
    if (path !== undefined) throw new ProbeUsageError(`--state: ${path} does not exist`);
    return unlistedNodeGuard(undefined);
  }
  const [{ SqliteStateStore }, { FleetStateSchema }] = await Promise.all([
    import('../../../local/sqlite-state-store.ts'),
    import('../../../fleet/state.ts'),
  ]);
  const store = SqliteStateStore.open(file, { parseState: FleetStateSchema.parse });
  try {
    return unlistedNodeGuard((await store.loadFleetState()).state);
  } finally {
    store.close();
  }
}
