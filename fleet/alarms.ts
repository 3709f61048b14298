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
  controllerHeartbeat: alarm(
    'ControllerHeartbeat',
    'critical',
    'The controller decided no round for 3 minutes: nothing is drained or replaced, and the publisher only republishes the old list.',
  ),
  reportingBelowQuorum: alarm(
    'ReportingBelowQuorum',
    'critical',
    'Fewer vantage points report each round than failover.quorum: no node can be judged failing.',
  ),
  watcherTasksBelowDesired: alarm(
    'WatcherTasksBelowDesired',
    'critical',
    "A vantage point's watcher task is not running.",
  ),
  functionErrors: alarm(
    'FunctionErrors',
    'warning',
    'A storefleet Lambda function (publisher, completeness, stress, API) failed.',
  ),
  functionThrottles: alarm(
    'FunctionThrottles',
    'warning',
    'A storefleet Lambda function was throttled: a run was refused for lack of concurrency.',
  ),
  functionNearTimeout: alarm(
    'FunctionNearTimeout',
    'warning',
    'A storefleet Lambda function ran for more than 90 % of its timeout.',
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
  messagesNotStored: alarm(
    'MessagesNotStored',
    'warning',
    'A delivery probe message published through one node was not returned by hash by every store node within delivery.deadlineSeconds.',
  ),
  historyTooShort: alarm(
    'HistoryTooShort',
    'warning',
    "A node's oldest message is younger than the history the fleet promises (history.promisedDays): clients miss older messages from it.",
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
