// The local fleet's event log: actions, alarms and notes in SQLite, printed on the console where they matter, pushed to dashboards.
import type { LiveUpdate } from './api.ts';
import { isDiskFull } from './disk-full.ts';
import type { FleetEvent, SqliteStateStore } from './sqlite-state-store.ts';

/** Dashboard history and the event log carry this many entries per request. */
export const RECENT_EVENTS = 200;

export interface EventLogOptions {
  store: SqliteStateStore<unknown>;
  clock: () => number;
  /** Console lines. */
  print: (line: string) => void;
  /** Called when an event could not be written for lack of space; the event still reaches dashboards. */
  onDiskFull?: (error: unknown) => void;
}

/**
 * @example
 * const events = new EventLog({ store, clock: Date.now, print: console.log });
 * events.record('action', 'Drain', 'warning', nodeId, reason);
 */
export class EventLog {
  readonly #options: EventLogOptions;
  readonly #listeners = new Set<(update: LiveUpdate) => void>();

  constructor(options: EventLogOptions) {
    this.#options = options;
  }

  /** Appends an event, prints actions (or when `print` says so) and tells every dashboard. */
  record(
    kind: FleetEvent['kind'],
    name: string,
    severity: FleetEvent['severity'],
    nodeId: string | null,
    message: string,
    print = kind === 'action',
  ): FleetEvent {
    const entry = { atMs: this.#options.clock(), kind, name, severity, nodeId, message };
    let event: FleetEvent;
    try {
      event = this.#options.store.appendEvent(entry);
    } catch (error) {
      if (!isDiskFull(error)) throw error;
      // A full disk must not turn an alarm into a crash: the event lives on screen and in dashboards.
      event = { ...entry, id: -1 };
      this.#options.onDiskFull?.(error);
    }
    if (print) this.#options.print(`${name}${nodeId ? ` ${nodeId}` : ''}: ${message}`);
    this.emit({ type: 'event', event });
    return event;
  }

  recent(limit = RECENT_EVENTS): FleetEvent[] {
    return this.#options.store.recentEvents(limit);
  }

  subscribe(listener: (update: LiveUpdate) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(update: LiveUpdate): void {
    for (const listener of this.#listeners) {
      try {
        listener(update);
      } catch {
        // A broken dashboard connection must not stop the control loop.
      }
    }
  }
}
