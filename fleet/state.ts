// FleetState: everything the controller remembers between rounds, as one JSON document that stores can validate.
import * as z from 'zod';
import { ALARMS } from './alarms.ts';
import type { FleetConfig } from './config.ts';
import {
  emptyNodeReputationState,
  NodeReputationStateSchema,
} from './reputation/reputation-state.ts';

export const NODE_STATUSES = [
  'active',
  'suspect',
  'drained',
  'replacing',
  'probation',
  'escalated',
] as const;
export const NodeStatusSchema = z.enum(NODE_STATUSES);
export type NodeStatus = z.infer<typeof NodeStatusSchema>;

/** Statuses whose nodes belong in fleets.json. */
export function isListedStatus(status: NodeStatus): boolean {
  return status === 'active' || status === 'suspect';
}

const count = z.number().int().nonnegative();
const roundNumber = z.number().int().nonnegative();
const ALARM_NAMES = Object.values(ALARMS).map((alarm) => alarm.name) as [string, ...string[]];

/** Lifetime counts of what happened to a node; they change rarely, so the object is mostly shared between rounds. */
export const NodeCountersSchema = z.strictObject({
  drains: count,
  replacements: count,
  readmissions: count,
  escalations: count,
});

export const NodeStateSchema = z.strictObject({
  status: NodeStatusSchema,
  /** Incident number: 0 until the first drain, +1 on every drain. Part of every action key. */
  generation: count,
  /** Consecutive failing verdicts (a quorum of witnesses saw it fail). */
  failStreak: count,
  /** Consecutive good verdicts; probation progress while drained. */
  goodStreak: count,
  /** Good rounds this node needs before re-admission (grows when it flaps). */
  requiredProbationRounds: count,
  /** Replacements in the current incident. */
  replaceAttempts: count,
  lastReplaceRound: roundNumber.nullable(),
  /** Rounds in which it was drained, within failover.flapWindowRounds. */
  drainRounds: z.array(roundNumber),
  /** Why a drain it qualified for was held back this round, if it was. */
  heldBack: z.enum(['drain-cap', 'min-healthy']).nullable(),
  counters: NodeCountersSchema,
  reputation: NodeReputationStateSchema,
});
export type NodeState = z.infer<typeof NodeStateSchema>;

export const ActiveAlarmSchema = z.strictObject({
  alarm: z.enum(ALARM_NAMES),
  subject: z.string().min(1),
  raisedAtRound: roundNumber,
  raisedAtMs: z.number().int().nonnegative(),
  reason: z.string(),
});
export type ActiveAlarm = z.infer<typeof ActiveAlarmSchema>;

export const VantageStateSchema = z.strictObject({
  blind: z.boolean(),
  blindSinceRound: roundNumber.nullable(),
  /** Rounds in which this vantage point was judged blind. */
  blindRounds: count,
});
export type VantageState = z.infer<typeof VantageStateSchema>;

export const FLEET_STATE_SCHEMA_VERSION = 1;

export const FleetStateSchema = z.strictObject({
  schemaVersion: z.literal(FLEET_STATE_SCHEMA_VERSION),
  fleet: z.string().min(1),
  /** The last round applied; re-running it or an older one changes nothing. */
  lastProcessedRound: roundNumber.nullable(),
  lastProcessedAtMs: z.number().int().nonnegative().nullable(),
  nodes: z.record(z.string(), NodeStateSchema),
  vantagePoints: z.record(z.string(), VantageStateSchema),
  /** Keyed by `${alarm}:${subject}`. */
  alarms: z.record(z.string(), ActiveAlarmSchema),
  /** How often each alarm instance was raised; numbers its idempotency keys. */
  alarmRaises: z.record(z.string(), count),
  /** Who is in fleets.json after the last round, in config order. */
  listedNodeIds: z.array(z.string()),
  /** Vantage points whose report of lastProcessedRound the controller decided on (absent in older states). */
  reportingVantageIds: z.array(z.string()).optional(),
});
export type FleetState = z.infer<typeof FleetStateSchema>;

export function freshNodeState(
  status: NodeStatus,
  config: Pick<FleetConfig, 'failover'>,
): NodeState {
  return {
    status,
    generation: 0,
    failStreak: 0,
    goodStreak: 0,
    requiredProbationRounds: config.failover.probationRounds,
    replaceAttempts: 0,
    lastReplaceRound: null,
    drainRounds: [],
    heldBack: null,
    counters: { drains: 0, replacements: 0, readmissions: 0, escalations: 0 },
    reputation: emptyNodeReputationState(),
  };
}

/**
 * A new fleet: every configured node listed and active (there is no evidence against any yet, and
 * clients need a registry from the first publication on).
 * @example const state = initialFleetState(parseFleetConfig(json));
 */
export function initialFleetState(config: FleetConfig): FleetState {
  const nodes: Record<string, NodeState> = {};
  for (const node of config.nodes) nodes[node.id] = freshNodeState('active', config);
  const vantagePoints: Record<string, VantageState> = {};
  for (const vantage of config.vantagePoints) {
    vantagePoints[vantage.id] = { blind: false, blindSinceRound: null, blindRounds: 0 };
  }
  return {
    schemaVersion: FLEET_STATE_SCHEMA_VERSION,
    fleet: config.fleet,
    lastProcessedRound: null,
    lastProcessedAtMs: null,
    nodes,
    vantagePoints,
    alarms: {},
    alarmRaises: {},
    listedNodeIds: config.nodes.map((node) => node.id),
  };
}

/**
 * Validates a state document loaded from a store.
 * @example const state = parseFleetState(JSON.parse(text));
 */
export function parseFleetState(input: unknown): FleetState {
  return FleetStateSchema.parse(input);
}
