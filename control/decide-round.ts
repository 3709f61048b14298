// The control step's decision half: load the fleet state, run one controller round, save it, retrying when another run saved first.
import type { FleetConfig } from '../fleet/config.ts';
import { type ControllerRoundResult, runControllerRound } from '../fleet/controller.ts';
import type { CompletenessResult, ProbeRound, StressSummary } from '../fleet/observations.ts';
import { StaleStateError, type StateStore, type TaskState } from '../fleet/ports.ts';
import { type FleetState, initialFleetState } from '../fleet/state.ts';

/** Lost races in a row before giving up: another controller keeps saving first, so this one's decision is not needed. */
export const DEFAULT_DECIDE_MAX_ATTEMPTS = 5;

export type DecisionStore = Pick<
  StateStore<FleetState>,
  'loadFleetState' | 'saveFleetState' | 'probeRounds'
>;

export interface DecideRoundInput {
  config: FleetConfig;
  /** probeRounds is only read when the input carries no probeRounds. */
  store: Pick<DecisionStore, 'loadFleetState' | 'saveFleetState'> &
    Partial<Pick<DecisionStore, 'probeRounds'>>;
  round: number;
  /** The round's reports, already gathered; read from the store when absent. */
  probeRounds?: readonly ProbeRound[];
  nowMs: number;
  taskStates?: ReadonlyMap<string, TaskState>;
  completeness?: readonly CompletenessResult[];
  stress?: readonly StressSummary[];
  /** The state and version already in hand (a long-running loop keeps them); loaded from the store when absent. */
  current?: { state: FleetState; version: number };
  /** @default DEFAULT_DECIDE_MAX_ATTEMPTS */
  maxAttempts?: number;
}

export interface DecidedRound extends ControllerRoundResult {
  /** The version the state was saved as (unchanged when nothing was saved). */
  version: number;
  /** Who was listed before this round: compare with listedNodeIds to know whether to publish. */
  previousListedNodeIds: string[];
}

/**
 * Decides `round` and saves the new state. Perform the returned actions after this resolves: a
 * run that dies in between is re-run from the saved state, which yields no actions again, and the
 * action claims keep a retried run from acting twice.
 * @example
 * const decided = await decideRound({ config, store, round: 42, nowMs: Date.now(), taskStates });
 * await performActions(decided.actions, { claimAction: (key, now) => store.claimAction(key, now), runtime, nowMs });
 */
export async function decideRound(input: DecideRoundInput): Promise<DecidedRound> {
  const maxAttempts = input.maxAttempts ?? DEFAULT_DECIDE_MAX_ATTEMPTS;
  const probeRounds = input.probeRounds ?? (await readProbeRounds(input));
  let current = input.current ?? (await load(input));
  for (let attempt = 1; ; attempt++) {
    const result = runControllerRound({
      config: input.config,
      state: current.state,
      round: input.round,
      nowMs: input.nowMs,
      probeRounds,
      ...(input.completeness ? { completeness: input.completeness } : {}),
      ...(input.stress ? { stress: input.stress } : {}),
      ...(input.taskStates ? { taskStates: input.taskStates } : {}),
    });
    const previousListedNodeIds = [...current.state.listedNodeIds];
    if (result.state === current.state) {
      return { ...result, version: current.version, previousListedNodeIds };
    }
    const state: FleetState = {
      ...result.state,
      reportingVantageIds: reportingVantageIds(probeRounds),
    };
    try {
      const version = await input.store.saveFleetState(state, current.version);
      return { ...result, state, version, previousListedNodeIds };
    } catch (error) {
      if (!(error instanceof StaleStateError) || attempt >= maxAttempts) throw error;
      current = await load(input);
    }
  }
}

async function load(input: DecideRoundInput): Promise<{ state: FleetState; version: number }> {
  const loaded = await input.store.loadFleetState();
  return { state: loaded.state ?? initialFleetState(input.config), version: loaded.version };
}

async function readProbeRounds(input: DecideRoundInput): Promise<ProbeRound[]> {
  if (!input.store.probeRounds) {
    throw new TypeError('decideRound needs probeRounds in its input or a store that reads them');
  }
  return input.store.probeRounds(input.round);
}

/** The distinct vantage points behind a round's reports, sorted. */
export function reportingVantageIds(probeRounds: readonly ProbeRound[]): string[] {
  return [...new Set(probeRounds.map((probeRound) => probeRound.vantageId))].sort();
}
