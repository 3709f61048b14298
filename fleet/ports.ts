// The seams between the control loop and the world: AWS adapters (lambdas/) and the local runtime (local/) implement these.
import type { CompletenessResult, ProbeRound, StressSummary } from './observations.ts';

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

/** One more file of a registry version, published under `name` beside fleets.json. */
export interface RegistryFile {
  /** e.g. `fleets-config.json`, `fleets-config.json.sig`, `candidates.json` (a plain file name). */
  name: string;
  /** The exact bytes to publish (a `.sig` file holds base64 text and a newline, as fleets.json.sig). */
  bytes: Uint8Array;
  /** The Content-Type to serve it with. */
  contentType: string;
}

/** The files a publisher writes: the exact bytes that were signed, and their detached signature. */
export interface RegistryArtifacts {
  sequence: number;
  fleetsJson: Uint8Array;
  fleetsJsonSignature: Uint8Array;
  registryJson: Uint8Array;
  publicKeyPem: string;
  cacheMaxAgeSeconds: number;
  /**
   * Further files of the same version, written beside fleets.json under their names with the same
   * cache time, as one unit with it (fleets-config.json and its signature, candidates.json).
   */
  files?: readonly RegistryFile[];
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
