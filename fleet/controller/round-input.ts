// What a controller round reads and what it returns.
import type { FleetConfig } from '../config.ts';
import type { FleetAction } from '../failover/actions.ts';
import type { CompletenessResult, ProbeRound, StressSummary } from '../observations.ts';
import type { TaskState } from '../ports.ts';
import type { FleetState } from '../state.ts';

export interface ControllerRoundInput {
  config: FleetConfig;
  state: FleetState;
  /** The round being decided; a round at or below state.lastProcessedRound changes nothing. */
  round: number;
  /** Stamped on alarms; decisions never depend on it. */
  nowMs: number;
  /** This round's report from every vantage point that reported (others simply have no vote). */
  probeRounds: readonly ProbeRound[];
  /** Completeness results; windows already counted are skipped, so passing the latest ones again is safe. */
  completeness?: readonly CompletenessResult[];
  /** Stress summaries; ones already counted are skipped. */
  stress?: readonly StressSummary[];
  /** The runtime's view of each node's task (see failover/runtime-evidence.ts for what it may decide). */
  taskStates?: ReadonlyMap<string, TaskState>;
}

export interface ControllerRoundResult {
  state: FleetState;
  /** In the order to perform them: prober alarms, drains, replacements, re-admissions, other alarms. */
  actions: FleetAction[];
  /** Who goes into fleets.json, in config order. */
  listedNodeIds: string[];
}
