// `storefleet probe | completeness | stress`: the measuring half from a terminal, with the same code the runtimes call.
// Each command is in cli/commands/probe/, apart from its flags, fetching and tables.
import type { Command } from 'commander';
import { registerCompletenessCommand } from './probe/completeness-command.ts';
import { registerProbeCommand } from './probe/probe-command.ts';
import { registerStressCommand } from './probe/stress-command.ts';

export { loadProbeTargets } from './probe/fetching.ts';
export {
  CLI_VANTAGE_ID,
  DEFAULT_CLUSTER_ID,
  DEFAULT_CONTENT_TOPIC,
  DEFAULT_LOCAL_FLEETS_JSON,
  DEFAULT_LOCAL_STATE_DB,
  DEFAULT_SHARDS,
  type ProbeSettings,
  ProbeUsageError,
  parseDurationSeconds,
  parsePositiveInteger,
  parsePositiveNumber,
  parseStressFlags,
  resolveProbeSettings,
  STRESS_QUERY_PAGE_SIZE,
  STRESS_QUERY_WINDOW_SECONDS,
} from './probe/flags.ts';
export { formatCompleteness, formatProbeRound, formatStressReport } from './probe/tables.ts';

export function registerProbeCommands(program: Command): void {
  registerProbeCommand(program);
  registerCompletenessCommand(program);
  registerStressCommand(program);
}
