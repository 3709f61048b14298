// The round's alarm ledger: raises an alarm once while it is active, clears it once, and keys each by its raise count.
import type { FleetConfig } from '../config.ts';
import {
  type AlarmName,
  alarmDefinition,
  alarmInstanceId,
  alarmKey,
  clearAlarmKey,
  FLEET_SUBJECT,
  type FleetAction,
} from '../failover/actions.ts';
import type { AlarmSink } from '../failover/node-lifecycle.ts';
import type { ActiveAlarm, FleetState } from '../state.ts';

/** Alarm reasons list at most this many nodes. */
const MAX_NODES_NAMED_IN_REASON = 10;

/** A copy of the state's alarms that the round's phases change; the round's new state takes it over. */
export class AlarmLedger implements AlarmSink {
  readonly alarms: Record<string, ActiveAlarm>;
  readonly alarmRaises: Record<string, number>;
  readonly #fleet: string;
  readonly #round: number;
  readonly #nowMs: number;

  constructor(state: FleetState, fleet: string, round: number, nowMs: number) {
    this.alarms = { ...state.alarms };
    this.alarmRaises = { ...state.alarmRaises };
    this.#fleet = fleet;
    this.#round = round;
    this.#nowMs = nowMs;
  }

  /** Raises the alarm unless it is already active; each new raise gets a new idempotency key. */
  raise(into: FleetAction[], alarm: AlarmName, subject: string, reason: string): void {
    const id = alarmInstanceId(alarm, subject);
    if (this.alarms[id]) return;
    const raise = (this.alarmRaises[id] ?? 0) + 1;
    this.alarmRaises[id] = raise;
    this.alarms[id] = {
      alarm,
      subject,
      raisedAtRound: this.#round,
      raisedAtMs: this.#nowMs,
      reason,
    };
    const definition = alarmDefinition(alarm);
    into.push({
      kind: 'alarm',
      alarm,
      severity: definition.severity,
      subject,
      runbook: definition.runbook,
      reason,
      idempotencyKey: alarmKey(this.#fleet, alarm, subject, raise),
    });
  }

  /** Clears the alarm if it is active; a clear of an inactive alarm is no action. */
  clear(into: FleetAction[], alarm: AlarmName, subject: string, reason: string): void {
    const id = alarmInstanceId(alarm, subject);
    if (!this.alarms[id]) return;
    delete this.alarms[id];
    into.push({
      kind: 'clear-alarm',
      alarm,
      subject,
      reason,
      idempotencyKey: clearAlarmKey(this.#fleet, alarm, subject, this.alarmRaises[id] ?? 1),
    });
  }

  /** Alarms about nodes or vantage points that left the config would otherwise never clear. */
  clearDeparted(
    into: FleetAction[],
    config: FleetConfig,
    nodeIndex: ReadonlyMap<string, number>,
  ): void {
    const vantageIds = new Set(config.vantagePoints.map((vantage) => vantage.id));
    for (const active of Object.values(this.alarms)) {
      const subject = active.subject;
      if (subject === FLEET_SUBJECT || nodeIndex.has(subject) || vantageIds.has(subject)) continue;
      this.clear(
        into,
        active.alarm as AlarmName,
        subject,
        `${subject} is no longer in the fleet config`,
      );
    }
  }
}

/** Names the first few nodes of a list for an alarm reason, and counts the rest. */
export function nameSome(nodeIds: readonly string[]): string {
  if (nodeIds.length <= MAX_NODES_NAMED_IN_REASON) return nodeIds.join(', ');
  return `${nodeIds.slice(0, MAX_NODES_NAMED_IN_REASON).join(', ')} and ${nodeIds.length - MAX_NODES_NAMED_IN_REASON} more`;
}
