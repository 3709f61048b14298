// What a controller round asks the world to do, each with an idempotency key stable per (node, generation).
import { ALARMS, type AlarmSeverity } from '../alarms.ts';

export type AlarmName = (typeof ALARMS)[keyof typeof ALARMS]['name'];

interface ActionBase {
  /** Same decision, same key: callers claim it in the state store before acting, so a retried run acts once. */
  idempotencyKey: string;
  /** One sentence for logs and the dashboard: what happened and why. */
  reason: string;
}

/** Take the node out of fleets.json. */
export interface DrainAction extends ActionBase {
  kind: 'drain';
  nodeId: string;
  /** The incident number: increases by one on every drain of this node. */
  generation: number;
}

/** Stop the node's task and start a new one with the same identity. */
export interface ReplaceAction extends ActionBase {
  kind: 'replace';
  nodeId: string;
  generation: number;
  /** 1 for the first replacement of this incident. */
  attempt: number;
}

/** Put the node back into fleets.json after its probation. */
export interface ReadmitAction extends ActionBase {
  kind: 'readmit';
  nodeId: string;
  generation: number;
}

export interface RaiseAlarmAction extends ActionBase {
  kind: 'alarm';
  alarm: AlarmName;
  severity: AlarmSeverity;
  /** What the alarm is about: a node id, a vantage point id, or `fleet`. */
  subject: string;
  /** Path and anchor of the runbook section, e.g. docs/runbooks.md#proberblind. */
  runbook: string;
}

export interface ClearAlarmAction extends ActionBase {
  kind: 'clear-alarm';
  alarm: AlarmName;
  subject: string;
}

export type FleetAction =
  | DrainAction
  | ReplaceAction
  | ReadmitAction
  | RaiseAlarmAction
  | ClearAlarmAction;

/** The subject of fleet-wide alarms. */
export const FLEET_SUBJECT = 'fleet';

const ALARM_BY_NAME = new Map(Object.values(ALARMS).map((alarm) => [alarm.name, alarm]));

export function alarmDefinition(name: AlarmName): (typeof ALARMS)[keyof typeof ALARMS] {
  return ALARM_BY_NAME.get(name) as (typeof ALARMS)[keyof typeof ALARMS];
}

/** Identifies one alarm instance in the state: `ProberBlind:vp-eu`. */
export function alarmInstanceId(alarm: AlarmName, subject: string): string {
  return `${alarm}:${subject}`;
}

export function drainKey(fleet: string, nodeId: string, generation: number): string {
  return `${fleet}/drain/${nodeId}/g${generation}`;
}

export function replaceKey(
  fleet: string,
  nodeId: string,
  generation: number,
  attempt: number,
): string {
  return `${fleet}/replace/${nodeId}/g${generation}/a${attempt}`;
}

/** A restart of a node that stays listed (see replaceInPlace): one per node and round. */
export function restartInPlaceKey(
  fleet: string,
  nodeId: string,
  generation: number,
  round: number,
): string {
  return `${fleet}/restart/${nodeId}/g${generation}/r${round}`;
}

export function readmitKey(fleet: string, nodeId: string, generation: number): string {
  return `${fleet}/readmit/${nodeId}/g${generation}`;
}

/** `raise` counts how many times this alarm instance was raised, so a re-raise after a clear is a new action. */
export function alarmKey(fleet: string, alarm: AlarmName, subject: string, raise: number): string {
  return `${fleet}/alarm/${alarm}/${subject}/r${raise}`;
}

export function clearAlarmKey(
  fleet: string,
  alarm: AlarmName,
  subject: string,
  raise: number,
): string {
  return `${fleet}/clear-alarm/${alarm}/${subject}/r${raise}`;
}
