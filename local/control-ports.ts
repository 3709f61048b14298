// The local runtime's side of the control loop's ports: SQLite for observations, drains and publication history; the process runtime for addresses.
import type {
  Clock,
  ListableAddresses,
  MetricsSink,
  MetricUnit,
  NodeDirectory,
  ObservationSource,
  OperatorDrains,
  PublicationHistory,
  PublicationRecord,
} from '../fleet/ports.ts';
import type { ProcessRuntime } from './process-runtime.ts';
import type { SqliteStateStore } from './sqlite-state-store.ts';

export const OPERATOR_DRAINED_SETTING = 'operator.drained';

/** Wall-clock time from `nowMs`, waiting with timers (fake timers in tests replace them). */
export function timerClock(nowMs: () => number): Clock {
  return {
    nowMs,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const timer = setTimeout(done, ms);
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        }
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
}

export function sqliteObservations(store: SqliteStateStore<unknown>): ObservationSource {
  return {
    probeRounds: (round) => store.probeRounds(round),
    latestCompleteness: async () => store.latestCompleteness(),
    latestStress: async () => store.latestStress(),
  };
}

/** Operator drains in the state database's settings; `drainedNow` is the same read, for the synchronous dashboard view. */
export function sqliteOperatorDrains(
  store: SqliteStateStore<unknown>,
): OperatorDrains & { drainedNow(): Set<string> } {
  const drainedNow = () => new Set(store.getSetting<string[]>(OPERATOR_DRAINED_SETTING) ?? []);
  return {
    drainedNow,
    drained: async () => drainedNow(),
    setDrained: async (nodeIds) => store.setSetting(OPERATOR_DRAINED_SETTING, [...nodeIds]),
  };
}

/**
 * Sequences are reserved in SQLite (a restart never reuses one); the last publication is kept in
 * memory, so every start publishes a fresh version at once.
 */
export function sqlitePublicationHistory(store: SqliteStateStore<unknown>): PublicationHistory {
  let last: PublicationRecord | undefined;
  return {
    last: async () => last,
    reserveSequence: async (atLeastAbove) => store.reserveRegistrySequence(atLeastAbove),
    record: async (publication) => {
      last = publication;
    },
  };
}

/** The runtime learns each node's address as it starts it; the local fleet serves no websockets. */
export function processNodeDirectory(runtime: ProcessRuntime): NodeDirectory & {
  addressesOf(nodeId: string): ListableAddresses | undefined;
} {
  const addressesOf = (nodeId: string): ListableAddresses | undefined => {
    const addresses = runtime.addressesOf(nodeId);
    return addresses ? { tcp: addresses.tcpAddress } : undefined;
  };
  return {
    addressesOf,
    addresses: async () => {
      const byNode = new Map<string, ListableAddresses>();
      const unreachable = new Map<string, string>();
      for (const nodeId of runtime.nodeIds) {
        const addresses = addressesOf(nodeId);
        if (addresses) byNode.set(nodeId, addresses);
        else unreachable.set(nodeId, 'not started yet');
      }
      return { byNode, unreachable };
    },
  };
}

export interface MetricValue {
  value: number;
  unit: MetricUnit;
  atMs: number;
}

/** Keeps the latest value of each fleet-level metric, for the console and tests; nothing leaves the process. */
export class LatestMetrics implements MetricsSink {
  readonly #values = new Map<string, MetricValue>();
  readonly #nowMs: () => number;

  constructor(nowMs: () => number) {
    this.#nowMs = nowMs;
  }

  record(
    name: string,
    value: number,
    unit: MetricUnit,
    dimensions?: Readonly<Record<string, string>>,
  ): void {
    const key =
      dimensions && Object.keys(dimensions).length > 0
        ? `${name}${JSON.stringify(dimensions)}`
        : name;
    this.#values.set(key, { value, unit, atMs: this.#nowMs() });
  }

  async flush(): Promise<void> {}

  latest(): ReadonlyMap<string, MetricValue> {
    return this.#values;
  }
}
