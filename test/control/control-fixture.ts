// In-memory implementations of the control loop's ports, a stepping clock and a real P-256 signer, for control/ tests.
import { FleetController } from '../../control/controller-round.ts';
import { RegistryPublication } from '../../control/publication.ts';
import type { FleetConfig } from '../../fleet/config.ts';
import type { ProbeRound } from '../../fleet/observations.ts';
import {
  type Clock,
  type ListableAddresses,
  type MetricsSink,
  type MetricUnit,
  type NodeRuntime,
  type OperatorDrains,
  type PublicationHistory,
  type PublicationRecord,
  type RegistryArtifacts,
  type RegistryPublisher,
  StaleStateError,
  type StructuredLog,
  type TaskState,
} from '../../fleet/ports.ts';
import { parseFleetsJsonBytes } from '../../fleet/registry/index.ts';
import type { FleetState } from '../../fleet/state.ts';
import { generateRegistryKeyPem, registrySignerFromPem } from '../../local/file-signer.ts';
import { peerIdFor } from '../fleet/registry/fixtures.ts';

/** A clock whose sleep moves time forward at once: deadlines pass without waiting. */
export class SteppingClock implements Clock {
  #nowMs: number;
  readonly sleeps: number[] = [];

  constructor(startMs: number) {
    this.#nowMs = startMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  advance(ms: number): void {
    this.#nowMs += ms;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.#nowMs += ms;
  }
}

export class MemoryStore {
  state: FleetState | undefined;
  version = 0;
  readonly rounds: ProbeRound[] = [];
  readonly claimed = new Set<string>();
  /** Called on every probeRounds read, so a test can land reports while the controller waits. */
  onRead: (round: number) => void = () => {};

  async loadFleetState() {
    return { state: this.state, version: this.version };
  }

  async saveFleetState(state: FleetState, expectedVersion: number): Promise<number> {
    if (expectedVersion !== this.version)
      throw new StaleStateError('the fleet state', expectedVersion);
    this.state = state;
    this.version += 1;
    return this.version;
  }

  async claimAction(key: string): Promise<boolean> {
    if (this.claimed.has(key)) return false;
    this.claimed.add(key);
    return true;
  }

  async recordProbeRound(round: ProbeRound): Promise<void> {
    this.rounds.push(round);
  }

  async probeRounds(round: number): Promise<ProbeRound[]> {
    this.onRead(round);
    return this.rounds.filter((candidate) => candidate.round === round);
  }

  async latestCompleteness() {
    return [];
  }

  async latestStress() {
    return [];
  }
}

export class MemoryDrains implements OperatorDrains {
  #drained = new Set<string>();

  async drained(): Promise<ReadonlySet<string>> {
    return new Set(this.#drained);
  }

  async setDrained(nodeIds: ReadonlySet<string>): Promise<void> {
    this.#drained = new Set(nodeIds);
  }
}

export class MemoryHistory implements PublicationHistory {
  lastRecord: PublicationRecord | undefined;
  #reserved = 0;

  async last() {
    return this.lastRecord;
  }

  async reserveSequence(atLeastAbove: number): Promise<number> {
    this.#reserved = Math.max(this.#reserved, atLeastAbove) + 1;
    return this.#reserved;
  }

  async record(publication: PublicationRecord): Promise<void> {
    this.lastRecord = publication;
  }
}

/** Keeps every version; refuses a sequence that is not above the last, as the real publishers do. */
export class MemoryPublisher implements RegistryPublisher {
  readonly published: RegistryArtifacts[] = [];
  refuseWith: Error | undefined;

  async publish(artifacts: RegistryArtifacts): Promise<void> {
    if (this.refuseWith) throw this.refuseWith;
    if (artifacts.sequence <= (await this.lastSequence())) {
      throw new Error(`sequence ${artifacts.sequence} is not above ${await this.lastSequence()}`);
    }
    this.published.push(artifacts);
  }

  async lastSequence(): Promise<number> {
    return this.published.at(-1)?.sequence ?? 0;
  }

  /** The node ids the latest fleets.json lists. */
  listed(fleet: string): string[] {
    const latest = this.published.at(-1);
    if (!latest) return [];
    const document = parseFleetsJsonBytes(latest.fleetsJson);
    return Object.keys(document.fleets[fleet]?.['tcp/p2p/waku/store'] ?? {});
  }
}

export interface RecordedMetric {
  name: string;
  value: number;
  unit: MetricUnit;
  dimensions: Readonly<Record<string, string>> | undefined;
}

export class MemoryMetrics implements MetricsSink {
  readonly records: RecordedMetric[] = [];
  flushes = 0;

  record(
    name: string,
    value: number,
    unit: MetricUnit,
    dimensions?: Readonly<Record<string, string>>,
  ) {
    this.records.push({ name, value, unit, dimensions });
  }

  async flush(): Promise<void> {
    this.flushes += 1;
  }

  /** The last value recorded under `name`. */
  last(name: string): number | undefined {
    return this.records.filter((record) => record.name === name).at(-1)?.value;
  }
}

export class MemoryLog implements StructuredLog {
  readonly lines: Array<{
    level: 'info' | 'warn';
    message: string;
    attributes: Record<string, unknown>;
  }> = [];

  info(message: string, attributes: Record<string, unknown>) {
    this.lines.push({ level: 'info', message, attributes });
  }

  warn(message: string, attributes: Record<string, unknown>) {
    this.lines.push({ level: 'warn', message, attributes });
  }
}

export class MemoryRuntime implements NodeRuntime {
  readonly tasks = new Map<string, TaskState>();
  readonly replaced: string[] = [];

  async replaceNode(nodeId: string): Promise<void> {
    this.replaced.push(nodeId);
  }

  async taskStates(): Promise<ReadonlyMap<string, TaskState>> {
    return new Map(this.tasks);
  }
}

/** Every node at a loopback TCP address with a stable peer id. */
export function loopbackDirectory(config: FleetConfig) {
  const byNode = new Map<string, ListableAddresses>(
    config.nodes.map((node, index) => [
      node.id,
      { tcp: `/ip4/127.0.0.1/tcp/${30303 + index}/p2p/${peerIdFor(node.id)}` },
    ]),
  );
  return { addresses: async () => ({ byNode, unreachable: new Map<string, string>() }) };
}

export interface ControlRig {
  config: FleetConfig;
  clock: SteppingClock;
  store: MemoryStore;
  drains: MemoryDrains;
  history: MemoryHistory;
  publisher: MemoryPublisher;
  metrics: MemoryMetrics;
  log: MemoryLog;
  runtime: MemoryRuntime;
  publication: RegistryPublication;
  controller: FleetController;
}

/** A controller over in-memory ports, its publication signing with a fresh P-256 key. */
export async function controlRig(config: FleetConfig, startMs: number): Promise<ControlRig> {
  const clock = new SteppingClock(startMs);
  const store = new MemoryStore();
  const drains = new MemoryDrains();
  const history = new MemoryHistory();
  const publisher = new MemoryPublisher();
  const metrics = new MemoryMetrics();
  const log = new MemoryLog();
  const runtime = new MemoryRuntime();
  for (const node of config.nodes) runtime.tasks.set(node.id, 'running');
  const publication = new RegistryPublication(config, {
    directory: loopbackDirectory(config),
    drains,
    history,
    signer: registrySignerFromPem(generateRegistryKeyPem(), 'a test key'),
    publisher,
    metrics,
    log,
  });
  const controller = await FleetController.open(config, {
    state: store,
    observations: store,
    runtime,
    drains,
    publication,
    alarms: { raise: () => {}, clear: () => {} },
    metrics,
    log,
    clock,
  });
  return {
    config,
    clock,
    store,
    drains,
    history,
    publisher,
    metrics,
    log,
    runtime,
    publication,
    controller,
  };
}
