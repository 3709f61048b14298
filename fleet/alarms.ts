// The alarm catalogue: one name, severity and runbook per condition, shared by CloudWatch and the local console.

export type AlarmSeverity = 'critical' | 'warning';

export interface AlarmDefinition {
  /** Stable name; CloudWatch alarm names are `${fleet}-${name}`. */
  name: string;
  severity: AlarmSeverity;
  summary: string;
  /** Anchor in docs/runbooks.md. */
  runbook: string;
}

function alarm(name: string, severity: AlarmSeverity, summary: string): AlarmDefinition {
  return { name, severity, summary, runbook: `docs/runbooks.md#${name.toLowerCase()}` };
}

export const ALARMS = {
  proberBlind: alarm(
    'ProberBlind',
    'critical',
    'One vantage point sees most of the fleet fail at once; its results are ignored until it recovers.',
  ),
  nodeEscalated: alarm(
    'NodeEscalated',
    'critical',
    'A node stayed unhealthy after the allowed replacements; a human must look at it.',
  ),
  registryBelowMinHealthy: alarm(
    'RegistryBelowMinHealthy',
    'critical',
    'Fewer healthy nodes than failover.minHealthy: unhealthy nodes are kept listed rather than emptying the registry.',
  ),
  registryStale: alarm(
    'RegistryStale',
    'critical',
    'fleets.json has not been republished in time and will soon expire for clients.',
  ),
  tasksBelowDesired: alarm(
    'TasksBelowDesired',
    'critical',
    'Fewer store node tasks are running than desired.',
  ),
  drainCapReached: alarm(
    'DrainCapReached',
    'warning',
    'More nodes failed than failover.maxDrainsPerRound allows draining in one round.',
  ),
  stressSloBreach: alarm(
    'StressSloBreach',
    'warning',
    'A stress test measured a p99 above stress.sloP99Ms or errors above the budget.',
  ),
  historyIncomplete: alarm(
    'HistoryIncomplete',
    'warning',
    "A node's archive lacks messages that the rest of the fleet holds.",
  ),
  nodeFlapping: alarm(
    'NodeFlapping',
    'warning',
    'A node was drained twice or more within failover.flapWindowRounds; each probation is longer than the last.',
  ),
  diskFull: alarm(
    'DiskFull',
    'critical',
    'The data folder is full: nothing new is written or published; the last good registry is still served.',
  ),
} as const satisfies Record<string, AlarmDefinition>;

export type AlarmKey = keyof typeof ALARMS;
