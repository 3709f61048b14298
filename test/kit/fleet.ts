// Test kit, fleets: a valid config of any size, probe rounds described node by node, and rounds run in a row.
import { type FleetConfig, type FleetConfigInput, parseFleetConfig } from '../../fleet/config.ts';
import {
  type ControllerRoundResult,
  type FleetAction,
  runControllerRound,
} from '../../fleet/controller.ts';
import type { ProbeResult, ProbeRound } from '../../fleet/observations.ts';
import type { TaskState } from '../../fleet/ports.ts';
import type { FleetState } from '../../fleet/state.ts';

export const ROUND_MS = 5000;
export const T0_MS = 1_800_000_000_000;

export interface FixtureOptions {
  nodes?: number;
  vantagePoints?: number;
  failover?: Partial<NonNullable<FleetConfigInput['failover']>>;
  reputation?: Partial<NonNullable<FleetConfigInput['reputation']>>;
}

/** Node ids `store-NN.loc-LLL.storefleet.test`, 100 per location so that any fleet size is valid. */
export function nodeIdOf(index: number): string {
  const location = `loc-${String(Math.floor(index / 100)).padStart(3, '0')}`;
  return `store-${String(index % 100).padStart(2, '0')}.${location}.storefleet.test`;
}

export function makeConfig(options: FixtureOptions = {}): FleetConfig {
  const nodeCount = options.nodes ?? 6;
  const vantageCount = options.vantagePoints ?? 3;
  const locations: Record<string, { region: 'eu-central-1' }> = {};
  const nodes = Array.from({ length: nodeCount }, (_, index) => {
    const id = nodeIdOf(index);
    const location = id.split('.')[1] as string;
    locations[location] = { region: 'eu-central-1' };
    return { id, location };
  });
  return parseFleetConfig({
    fleet: 'storefleet.test',
    clusterId: 16,
    shards: [1],
    locations,
    nodes,
    vantagePoints: Array.from({ length: vantageCount }, (_, index) => ({
      id: `vp-${String.fromCharCode(97 + index)}`,
      region: 'eu-central-1',
    })),
    probe: { contentTopics: ['/storefleet/1/probe/proto'] },
    failover: { minHealthy: Math.min(2, nodeCount), ...options.failover },
    reputation: options.reputation,
  });
}

/** How one vantage point saw one node in one round. */
export type Sight =
  | 'ok'
  | 'fail'
  | 'absent'
  | { pingMs?: number; newestMessageAgeMs?: number | null; fail?: boolean };

export function probeResults(
  nodeId: string,
  vantageId: string,
  startedAtMs: number,
  sight: Sight,
): ProbeResult[] {
  if (sight === 'absent') return [];
  const base = { nodeId, vantageId, startedAtMs };
  if (sight === 'fail' || (typeof sight === 'object' && sight.fail)) {
    return [
      { ...base, kind: 'ping', ok: false, errorClass: 'timeout' },
      { ...base, kind: 'store', ok: false, errorClass: 'timeout' },
    ];
  }
  const detail = sight === 'ok' ? {} : sight;
  return [
    { ...base, kind: 'ping', ok: true, latencyMs: detail.pingMs ?? 20 },
    {
      ...base,
      kind: 'store',
      ok: true,
      latencyMs: 30,
      statusCode: 200,
      newestMessageAgeMs:
        detail.newestMessageAgeMs === undefined ? 1000 : detail.newestMessageAgeMs,
    },
  ];
}

/**
 * One ProbeRound per vantage point; `sight(nodeId, vantageId)` says what it saw.
 * @example probeRoundsFor(config, 3, (node, vantage) => (node === dead ? 'fail' : 'ok'))
 */
export function probeRoundsFor(
  config: FleetConfig,
  round: number,
  sight: (nodeId: string, vantageId: string) => Sight,
): ProbeRound[] {
  const startedAtMs = T0_MS + round * ROUND_MS;
  return config.vantagePoints.map((vantage) => ({
    vantageId: vantage.id,
    round,
    startedAtMs,
    finishedAtMs: startedAtMs + 1000,
    results: config.nodes.flatMap((node) =>
      probeResults(node.id, vantage.id, startedAtMs, sight(node.id, vantage.id)),
    ),
  }));
}

export interface RoundOutcome {
  round: number;
  result: ControllerRoundResult;
}

/**
 * Runs consecutive rounds from `state`, each seen through `sight(nodeId, vantageId, round)`.
 * @example const { state, outcomes } = runRounds(config, initialFleetState(config), 1, 10, () => 'ok');
 */
export function runRounds(
  config: FleetConfig,
  initial: FleetState,
  firstRound: number,
  count: number,
  sight: (nodeId: string, vantageId: string, round: number) => Sight,
  taskStates?: (round: number) => ReadonlyMap<string, TaskState> | undefined,
): { state: FleetState; outcomes: RoundOutcome[] } {
  let state = initial;
  const outcomes: RoundOutcome[] = [];
  for (let round = firstRound; round < firstRound + count; round++) {
    const result = runControllerRound({
      config,
      state,
      round,
      nowMs: T0_MS + round * ROUND_MS,
      probeRounds: probeRoundsFor(config, round, (nodeId, vantageId) =>
        sight(nodeId, vantageId, round),
      ),
      taskStates: taskStates?.(round),
    });
    outcomes.push({ round, result });
    state = result.state;
  }
  return { state, outcomes };
}

export function actionsOf(
  outcomes: readonly RoundOutcome[],
  kind: FleetAction['kind'],
): FleetAction[] {
  return outcomes.flatMap((outcome) =>
    outcome.result.actions.filter((action) => action.kind === kind),
  );
}
