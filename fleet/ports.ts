// The seams between the control loop and the world: AWS adapters (lambdas/) and the local runtime (local/) implement these.
import type { ClearAlarmAction, RaiseAlarmAction } from './failover/actions.ts';
import type { CompletenessResult, ProbeRound, StressSummary } from './observations.ts';

export type { RegistrySigner } from './registry/signer.ts';

/** What the node runtime (ECS in AWS, child processes locally) says about a node's task. */
export type TaskState = 'running' | 'pending' | 'stopped' | 'missing';

export interface NodeRuntime {
  /** Stops the node's task and starts a new one with the same identity (node key, archive). */
  replaceNode(nodeId: string, reason: string): Promise<void>;
  taskStates(): Promise<ReadonlyMap<string, TaskState>>;
}

/** Thrown by a StateStore when a conditional write lost a race: re-read and decide again. */
export class StaleStateError extends Error {
  constructor(what: string, expectedVersion: number) {
    super(
      `${what} changed since version ${expectedVersion} was read; re-read the state and decide again`,
    );
    this.name = 'StaleStateError';
  }
}

/** Durable state: probe history, the fleet's state document and the action ledger. */
export interface StateStore<FleetState> {
  /** The latest fleet state and its version (0 when none was ever saved). */
  loadFleetState(): Promise<{ state: FleetState | undefined; version: number }>;
  /** Saves only if the stored version is still `expectedVersion`; otherwise throws StaleStateError. */
  saveFleetState(state: FleetState, expectedVersion: number): Promise<number>;
  recordProbeRound(round: ProbeRound): Promise<void>;
  /** Probe rounds of one round number from every vantage point that reported it. */
  probeRounds(round: number): Promise<ProbeRound[]>;
  recordCompleteness(results: readonly CompletenessResult[]): Promise<void>;
  recordStress(summary: StressSummary): Promise<void>;
  /**
   * Claims an action's idempotency key; true the first time only, so a retried or duplicated
   * controller run performs each (node, generation) action once.
   */
  claimAction(idempotencyKey: string, nowMs: number): Promise<boolean>;
}

/** The files a publisher writes: the exact bytes that were signed, and their detached signature. */
export interface RegistryArtifacts {
  sequence: number;
  fleetsJson: Uint8Array;
  fleetsJsonSignature: Uint8Array;
  registryJson: Uint8Array;
  publicKeyPem: string;
  cacheMaxAgeSeconds: number;
}

export interface RegistryPublisher {
  /** Publishes a new version; must refuse a sequence that is not above the last one published. */
  publish(artifacts: RegistryArtifacts): Promise<void>;
  /** The sequence of the last version published (0 when none). */
  lastSequence(): Promise<number>;
}

export type MetricUnit = 'Count' | 'Milliseconds' | 'Percent' | 'None' | 'Seconds';

export interface MetricsSink {
  record(
    name: string,
    value: number,
    unit: MetricUnit,
    dimensions?: Readonly<Record<string, string>>,
  ): void;
  flush(): Promise<void>;
}

/** Wall-clock time and waiting, injected so loops run on fake timers in tests. */
export interface Clock {
  nowMs(): number;
  /** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Structured log lines: per-node figures and decisions go here, not into one metric each. */
export interface StructuredLog {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
}

/**
 * One vantage point's probing half: probes every node it can address once and reports the
 * round. Implementations keep their libp2p connections between rounds and dial fresh on the
 * configured schedule; a node's failure is a failed result in the round, never a rejection.
 */
export interface VantageProber {
  readonly vantageId: string;
  probeRound(round: number): Promise<ProbeRound>;
  /**
   * Tells `listener` when a held connection to a node drops (a crash is then noticed at once,
   * not a round later). Optional: a prober without held connections has nothing to tell.
   */
  onConnectionLost?(listener: (nodeId: string) => void): () => void;
}

/** Where vantage points write their rounds (the control region's table on AWS, SQLite locally). */
export type ProbeRoundRecorder = Pick<StateStore<unknown>, 'recordProbeRound'>;

/** What the controller reads besides its own state: the vantage points' rounds and the slower measurements. */
export interface ObservationSource {
  /** Probe rounds of one round number from every vantage point that reported it so far. */
  probeRounds(round: number): Promise<ProbeRound[]>;
  /** The newest completeness results per node; windows already counted are skipped by the controller. */
  latestCompleteness(nodeIds: readonly string[]): Promise<CompletenessResult[]>;
  latestStress(nodeIds: readonly string[]): Promise<StressSummary[]>;
}

/** The controller's own durable state: the fleet state document and the action ledger. */
export type FleetStateStore<FleetState> = Pick<
  StateStore<FleetState>,
  'loadFleetState' | 'saveFleetState' | 'claimAction'
>;

/** Nodes an operator took out of fleets.json by hand, whatever the probes say. */
export interface OperatorDrains {
  drained(): Promise<ReadonlySet<string>>;
  setDrained(nodeIds: ReadonlySet<string>): Promise<void>;
}

/** The last registry version published, as the republish policy needs it. */
export interface PublicationRecord {
  sequence: number;
  /** The listed nodes and their addresses, as JSON: a different key means a different fleets.json. */
  listedKey: string;
  publishedAtMs: number;
}

export interface PublicationHistory {
  last(): Promise<PublicationRecord | undefined>;
  /**
   * A sequence above `atLeastAbove` and above every one reserved before, kept durably before it is
   * used, so that a crash between reserving and publishing never reuses a number.
   */
  reserveSequence(atLeastAbove: number): Promise<number>;
  record(publication: PublicationRecord): Promise<void>;
}

/** The addresses of one node as fleets.json lists them. */
export interface ListableAddresses {
  tcp: string;
  wss?: string;
  enr?: string;
}

/** Where each node can be reached, as far as the runtime knows (deployed addresses joined with identities). */
export interface NodeDirectory {
  addresses(): Promise<{
    byNode: ReadonlyMap<string, ListableAddresses>;
    /** Nodes without addresses, with a one-line reason (registry.json shows it). */
    unreachable: ReadonlyMap<string, string>;
  }>;
}

/** Where alarm actions go: CloudWatch metrics and logs on AWS, the event log locally. */
export interface AlarmSink {
  raise(action: RaiseAlarmAction): void | Promise<void>;
  clear(action: ClearAlarmAction): void | Promise<void>;
}

/**
 * Tells the loop at once when a node's task stops (a local process exit, an ECS task-stopped
 * event), so it re-probes that node instead of waiting for the next round. Runtimes that only
 * answer taskStates() each round leave it out.
 */
export interface TaskStopNotifier {
  onTaskStopped(listener: (nodeId: string) => void): () => void;
}
