// Custom CloudWatch metrics: one spelling shared by the Lambdas that emit them (EMF) and the alarms and dashboard that read them.

export const METRIC_NAMESPACE = 'Storefleet';

/**
 * Dimension names. Every metric that an alarm reads is emitted with exactly the dimension set
 * `[Fleet]` (an EMF record may carry further dimension sets, such as `[Fleet, NodeId]`, for graphs).
 */
export const METRIC_DIMENSIONS = {
  fleet: 'Fleet',
  node: 'NodeId',
  vantage: 'VantageId',
} as const;

export const METRICS = {
  /** Controller, every round: vantage points whose report of the decided round arrived in time (count, `[Fleet]`). */
  reportingVantagePoints: 'ReportingVantagePoints',
  /** Controller, every round: nodes in fleets.json after the round, operator drains applied (count, `[Fleet]`). */
  listedNodes: 'ListedNodes',
  /** Controller, every round: listed nodes the controller holds healthy (status active) (count, `[Fleet]`). */
  healthyListedNodes: 'HealthyListedNodes',
  /** Controller, every round: gathering, deciding, performing and publishing, in milliseconds (`[Fleet]`). */
  roundDurationMs: 'RoundDurationMs',
  /** Controller, every round: vantage points that judged themselves blind (count, `[Fleet]`). */
  blindVantagePoints: 'BlindVantagePoints',
  /** Controller: nodes that stayed unhealthy after failover.maxReplaceAttempts (count, `[Fleet]`). */
  escalatedNodes: 'EscalatedNodes',
  /** Controller: failing nodes left listed because failover.maxDrainsPerRound was reached (count, `[Fleet]`). */
  drainsDeferred: 'DrainsDeferred',
  /** Publisher, after each successful publication: 1 (count, `[Fleet]`). Missing data means stale. */
  registryPublications: 'RegistryPublications',
  /** Publisher: healthy nodes listed in the version just published (count, `[Fleet]`). */
  registryHealthyNodes: 'RegistryHealthyNodes',
  /** Stress: one per test that missed stress.sloP99Ms or the error budget (count, `[Fleet]` and `[Fleet, NodeId]`). */
  stressSloBreaches: 'StressSloBreaches',
  /** Completeness: nodes whose archive lacks messages the rest of the fleet holds (count, `[Fleet]`). */
  incompleteNodes: 'IncompleteNodes',
  /** Probe: 1 for a successful probe, 0 for a failed one (`[Fleet, NodeId]`, `[Fleet, VantageId]`). */
  probeSuccess: 'ProbeSuccess',
  /** Probe: round trip or answer time in milliseconds (`[Fleet, NodeId]`). */
  probeLatencyMs: 'ProbeLatencyMs',
  /** Controller: the reputation score 0..1 of each node (`[Fleet, NodeId]`). */
  reputationScore: 'ReputationScore',
  /** Completeness: held / union over the last window, 0..1 (`[Fleet, NodeId]`). */
  completeness: 'Completeness',
  /** Stress: the measured p99 in milliseconds (`[Fleet, NodeId]`). */
  stressP99Ms: 'StressP99Ms',
} as const;

export type MetricName = (typeof METRICS)[keyof typeof METRICS];
