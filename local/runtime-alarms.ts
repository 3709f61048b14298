// Alarms locally: the controller's alarm actions on the console and in the event log, and the two the runtime raises itself (TasksBelowDesired, RegistryStale).
import type { PublicationOutcome } from '../control/publication.ts';
import { ALARMS, type AlarmDefinition } from '../fleet/alarms.ts';

const ALARM_BY_NAME = new Map<string, AlarmDefinition>(
  Object.values(ALARMS).map((alarm) => [alarm.name, alarm]),
);

import type { FleetConfig } from '../fleet/config.ts';
import { alarmDefinition } from '../fleet/failover/actions.ts';
import { tasksBelowDesiredAfterRounds, tasksDown } from '../fleet/failover/tasks-below-desired.ts';
import type { AlarmSink, TaskState } from '../fleet/ports.ts';
import type { EventLog } from './event-log.ts';

export { TASKS_BELOW_DESIRED_GRACE_ROUNDS } from '../fleet/failover/tasks-below-desired.ts';

/**
 * @example
 * const alarms = new RuntimeAlarms({ config, events, print: console.log });
 * controllerPorts.alarms = alarms.sink;
 * alarms.checkTasks(await runtime.taskStates());
 */
export class RuntimeAlarms {
  readonly #config: FleetConfig;
  readonly #events: EventLog;
  readonly #print: (line: string) => void;
  readonly #active = new Set<string>();
  #tasksBelowDesiredRounds = 0;

  constructor(options: { config: FleetConfig; events: EventLog; print: (line: string) => void }) {
    this.#config = options.config;
    this.#events = options.events;
    this.#print = options.print;
  }

  /** The alarms the runtime itself holds raised (the controller's are in its state). */
  active(): string[] {
    return [...this.#active];
  }

  /** Where the controller's alarm actions go. */
  readonly sink: AlarmSink = {
    raise: (action) =>
      this.raise(
        ALARM_BY_NAME.get(action.alarm) ?? {
          name: action.alarm,
          severity: action.severity,
          summary: action.reason,
          runbook: action.runbook,
        },
        action.subject,
        action.reason,
      ),
    clear: (action) => {
      this.#events.record(
        'alarm',
        `${action.alarm} cleared`,
        'info',
        this.#subjectNode(action.subject),
        action.reason,
      );
    },
  };

  raise(alarm: AlarmDefinition, subject: string, reason: string): void {
    this.#print(
      `ALARM [${alarm.severity}] ${alarm.name} ${subject}: ${reason}\n  ${alarm.summary}\n  runbook: ${alarm.runbook}`,
    );
    this.#events.record(
      'alarm',
      alarm.name,
      alarm.severity,
      this.#subjectNode(subject),
      `${subject}: ${reason} — ${alarm.summary} (runbook: ${alarm.runbook})`,
      false,
    );
  }

  /** TasksBelowDesired is the runtime's alarm: the controller sees probes, this sees processes. */
  checkTasks(taskStates: ReadonlyMap<string, TaskState>): void {
    const running = [...taskStates.values()].filter((state) => state === 'running').length;
    const desired = this.#config.nodes.length;
    // A pending task is a replacement under way: the routine repair does not page (failover/tasks-below-desired.ts).
    this.#tasksBelowDesiredRounds =
      tasksDown(taskStates) > 0 ? this.#tasksBelowDesiredRounds + 1 : 0;
    const name = ALARMS.tasksBelowDesired.name;
    const threshold = tasksBelowDesiredAfterRounds(this.#config.failover);
    if (this.#tasksBelowDesiredRounds >= threshold && !this.#active.has(name)) {
      this.#active.add(name);
      this.raise(ALARMS.tasksBelowDesired, 'fleet', `${running} of ${desired} node tasks running`);
    } else if (running === desired && this.#active.delete(name)) {
      this.#events.record(
        'alarm',
        `${name} cleared`,
        'info',
        null,
        `all ${desired} node tasks running`,
      );
    }
  }

  /** DiskFull: raised once when a write fails for lack of space (printed only: the event log cannot be written). */
  diskFull(path: string, reason: string): void {
    const name = ALARMS.diskFull.name;
    if (this.#active.has(name)) return;
    this.#active.add(name);
    this.raise(ALARMS.diskFull, 'fleet', `${path}: ${reason}`);
  }

  get isDiskFull(): boolean {
    return this.#active.has(ALARMS.diskFull.name);
  }

  /** There is room again: writing resumes. */
  diskFullCleared(freeBytes: number): void {
    if (!this.#active.delete(ALARMS.diskFull.name)) return;
    this.#events.record(
      'alarm',
      `${ALARMS.diskFull.name} cleared`,
      'info',
      null,
      `${Math.round(freeBytes / 1024)} KiB free in the data folder again; writing resumes`,
      true,
    );
  }

  /** RegistryStale when publishing keeps failing; cleared by the next publication. */
  afterPublication(outcome: PublicationOutcome): void {
    const name = ALARMS.registryStale.name;
    if (outcome.published) {
      this.#active.delete(name);
    } else if (outcome.reason === 'refused' && outcome.stale && !this.#active.has(name)) {
      this.#active.add(name);
      this.raise(ALARMS.registryStale, 'fleet', outcome.error.message);
    }
  }

  #subjectNode(subject: string): string | null {
    return this.#config.nodes.some((node) => node.id === subject) ? subject : null;
  }
}
