// The embedded default, as a composition root: local adapters for the control loop's ports, the nodes, three probers, the API and the dashboard.
import { statfs } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { type ControllerRoundOutcome, FleetController } from '../control/controller-round.ts';
import { fleetView } from '../control/fleet-view.ts';
import {
  drainByOperator,
  OperatorDrainRefusedError,
  undrainByOperator,
} from '../control/operator-drains.ts';
import {
  OPERATOR_DRAINED_REASON,
  type PublicationOutcome,
  RegistryPublication,
} from '../control/publication.ts';
import { sequentialRounds, WatchLoop, watchForCrashes, watchRound } from '../control/watch-loop.ts';
import type { FleetConfig } from '../fleet/config.ts';
import type { FleetAction } from '../fleet/controller.ts';
import type { ProbeRound } from '../fleet/observations.ts';
import type { NodeRuntime } from '../fleet/ports.ts';
import { type FleetState, parseFleetState } from '../fleet/state.ts';
import {
  type ChaosRequest,
  createApi,
  type FleetControl,
  type FleetSnapshot,
  type LiveUpdate,
  NodeStateConflictError,
  type StressRequest,
} from './api.ts';
import { FleetChaos, resolveNodeId } from './chaos.ts';
import { CompletenessLoop } from './completeness-loop.ts';
import {
  LatestMetrics,
  processNodeDirectory,
  sqliteObservations,
  sqliteOperatorDrains,
  sqlitePublicationHistory,
  timerClock,
} from './control-ports.ts';
import { loadDashboardHtml } from './dashboard/page.ts';
import {
  ADMIN_TOKEN_FILE,
  type DataFolderLock,
  loadOrCreateAdminToken,
  prepareDataFolder,
  REGISTRY_DIR,
  STATE_DB_FILE,
  signingKeyPath,
  writeApiUrl,
} from './data-folder.ts';
import { isDiskFull } from './disk-full.ts';
import { EventLog, RECENT_EVENTS } from './event-log.ts';
import { FileRegistryPublisher, type PublishedRegistry } from './file-publisher.ts';
import { loadOrCreateFileSigner } from './file-signer.ts';
import {
  fleetSnapshot,
  nodeSamples,
  type RoundObservation,
  summarizeRounds,
} from './fleet-snapshot.ts';
import { JsonLinesLog, LOOP_LOG_FILE } from './loop-log.ts';
import {
  type NodeCommand,
  type NodeLaunch,
  type NodePortAssignment,
  ProcessRuntime,
} from './process-runtime.ts';
import { RuntimeAlarms } from './runtime-alarms.ts';
import { SqliteStateStore } from './sqlite-state-store.ts';
import { StressRuns } from './stress-runs.ts';
import { DEFAULT_TRAFFIC_RATE_PER_SECOND, TrafficGenerator } from './traffic.ts';
import { LocalVantageProber } from './vantage-probers.ts';

export { ADMIN_TOKEN_FILE, API_URL_FILE, DEFAULT_DATA_DIR, signingKeyPath } from './data-folder.ts';

export const DEFAULT_HTTP_PORT = 8080;
const LOOPBACK = '127.0.0.1';
/** The controller waits this long past the probe deadline for reports; locally they are all in by then. */
const REPORT_SETTLE_MS = 500;
const PORTS_SETTING = 'runtime.ports';
/** After a full disk, writing resumes once the data folder has this much free again. */
const DISK_FULL_RESUME_FREE_BYTES = 1024 * 1024;

/** Thrown by start() when its signal aborted start-up (Ctrl-C or SIGTERM while nodes were starting). */
export class StartAbortedError extends Error {
  constructor(reason: string) {
    super(`start-up stopped: ${reason}; every node started so far was stopped`);
    this.name = 'StartAbortedError';
  }
}

export interface OrchestratorOptions {
  config: FleetConfig;
  /** Nodes, state, registry and keys live here. @default .storefleet */
  dataDir?: string;
  /** HTTP port on 127.0.0.1; 0 picks a free one. @default 8080 */
  port?: number;
  /** Forget state, registry and node data first (the signing key, admin token and registry sequence are kept). */
  reset?: boolean;
  /** Aborting it during start-up stops what was started and rejects with StartAbortedError. */
  signal?: AbortSignal;
  /** Milliseconds since the epoch. @default Date.now */
  clock?: () => number;
  /** Time between probe rounds. @default config.probe.intervalSeconds */
  intervalMs?: number;
  /** Time between completeness runs. @default config.completeness.intervalSeconds */
  completenessIntervalMs?: number;
  /** @default DEFAULT_TRAFFIC_RATE_PER_SECOND */
  trafficRatePerSecond?: number;
  /** How node processes are launched; tests may wrap it. @default `storefleet node run` */
  nodeCommand?: (launch: NodeLaunch) => NodeCommand;
  /** Console lines (alarms, actions, lifecycle). @default console.log */
  log?: (line: string) => void;
}

/**
 * Runs everything `npm start` promises.
 * @example
 * const fleet = await Orchestrator.start({ config, port: 8080 });
 * console.log(fleet.url, fleet.adminToken);
 * await fleet.stop();
 */
export class Orchestrator implements FleetControl {
  readonly config: FleetConfig;
  readonly dataDir: string;
  readonly adminToken: string;
  url = '';
  /** The latest value of each fleet-level metric the loop emitted. */
  readonly metrics: LatestMetrics;
  readonly #options: OrchestratorOptions;
  readonly #clock: () => number;
  readonly #log: (line: string) => void;
  readonly #store: SqliteStateStore<FleetState>;
  readonly #publisher: FileRegistryPublisher;
  readonly #runtime: ProcessRuntime;
  readonly #drains: ReturnType<typeof sqliteOperatorDrains>;
  readonly #events: EventLog;
  readonly #alarms: RuntimeAlarms;
  readonly #chaos: FleetChaos;
  readonly #stress: StressRuns;
  readonly #completeness: CompletenessLoop;
  readonly #controller: FleetController;
  readonly #lock: DataFolderLock;
  #probers: LocalVantageProber[] = [];
  #loopLog: JsonLinesLog | undefined;
  #loop: WatchLoop | undefined;
  #unwatchCrashes: (() => void) | undefined;
  #traffic: TrafficGenerator | undefined;
  #server: Server | undefined;
  #round: number;
  #snapshot: FleetSnapshot;
  #observations = new Map<string, RoundObservation>();
  #stopping = false;
  #roundsCompleted = 0;

  private constructor(
    options: OrchestratorOptions,
    parts: {
      dataDir: string;
      adminToken: string;
      store: SqliteStateStore<FleetState>;
      publisher: FileRegistryPublisher;
      runtime: ProcessRuntime;
      events: EventLog;
      alarms: RuntimeAlarms;
      metrics: LatestMetrics;
      controller: FleetController;
      drains: ReturnType<typeof sqliteOperatorDrains>;
      lock: DataFolderLock;
    },
  ) {
    this.#lock = parts.lock;
    this.#options = options;
    this.config = options.config;
    this.dataDir = parts.dataDir;
    this.adminToken = parts.adminToken;
    this.#clock = options.clock ?? Date.now;
    this.#log = options.log ?? ((line) => console.log(line));
    this.#store = parts.store;
    this.#publisher = parts.publisher;
    this.#runtime = parts.runtime;
    this.#events = parts.events;
    this.#alarms = parts.alarms;
    this.metrics = parts.metrics;
    this.#controller = parts.controller;
    this.#drains = parts.drains;
    this.#round = Math.max(
      this.#controller.state.lastProcessedRound ?? 0,
      parts.store.latestProbeRound(),
    );
    this.#chaos = new FleetChaos({
      config: this.config,
      runtime: this.#runtime,
      events: this.#events,
    });
    this.#stress = new StressRuns({
      config: this.config,
      runtime: this.#runtime,
      store: this.#store,
      events: this.#events,
      clock: this.#clock,
      dialer: () => this.#probers[0]?.dialer,
      listedNodeIds: () => this.#listedNodeIds(),
    });
    this.#completeness = new CompletenessLoop({
      config: this.config,
      runtime: this.#runtime,
      store: this.#store,
      probers: () => this.#probers,
      isBlind: (vantageId) => this.#chaos.isBlind(vantageId),
      clock: this.#clock,
      ...(options.completenessIntervalMs !== undefined
        ? { intervalMs: options.completenessIntervalMs }
        : {}),
      log: this.#log,
    });
    this.#snapshot = this.#buildSnapshot();
  }

  /** Starts nodes, probers, traffic, the loops and the HTTP server; resolves once the URL is live. */
  static async start(options: OrchestratorOptions): Promise<Orchestrator> {
    const log = options.log ?? ((line: string) => console.log(line));
    // The lock first: a second start on this folder is refused before it touches anything.
    const folder = prepareDataFolder(options.dataDir, options.reset ?? false);
    const dataDir = folder.path;
    if (folder.keptRegistrySequence !== undefined) {
      log(
        `--reset: state, registry versions and node data forgotten; the signing key, the admin token and the registry sequence (${folder.keptRegistrySequence}) are kept`,
      );
    }
    let store: SqliteStateStore<FleetState> | undefined;
    try {
      const adminToken = loadOrCreateAdminToken(dataDir);
      store = SqliteStateStore.open<FleetState>(join(dataDir, STATE_DB_FILE), {
        parseState: parseFleetState,
      });
      return await Orchestrator.#assemble(options, { dataDir, adminToken, store, log, folder });
    } catch (error) {
      store?.close();
      folder.lock.release();
      throw error;
    }
  }

  static async #assemble(
    options: OrchestratorOptions,
    parts: {
      dataDir: string;
      adminToken: string;
      store: SqliteStateStore<FleetState>;
      log: (line: string) => void;
      folder: { lock: DataFolderLock };
    },
  ): Promise<Orchestrator> {
    const { config } = options;
    const { dataDir, adminToken, store, log } = parts;
    const clock = options.clock ?? Date.now;
    const signer = await loadOrCreateFileSigner(signingKeyPath(config, dataDir));
    const publisher = await FileRegistryPublisher.open(join(dataDir, REGISTRY_DIR), {
      nowMs: clock,
      expectedPublicKeyPem: await signer.publicKeyPem(),
      log: (line) => log(`registry: ${line}`),
    });
    const runtime = new ProcessRuntime({
      config,
      rootDir: dataDir,
      knownPorts: store.getSetting<Record<string, NodePortAssignment>>(PORTS_SETTING),
      savePorts: (ports) => store.setSetting(PORTS_SETTING, ports),
      ...(options.nodeCommand ? { command: options.nodeCommand } : {}),
      log: (line) => log(`runtime: ${line}`),
    });
    let onDiskFull: (error: unknown) => void = () => {};
    const events = new EventLog({ store, clock, print: log, onDiskFull: (e) => onDiskFull(e) });
    const alarms = new RuntimeAlarms({ config, events, print: log });
    const metrics = new LatestMetrics(clock);
    const drains = sqliteOperatorDrains(store);
    const structuredLog = new JsonLinesLog(join(dataDir, LOOP_LOG_FILE), clock);
    const publication = new RegistryPublication(config, {
      directory: processNodeDirectory(runtime),
      drains,
      history: sqlitePublicationHistory(store),
      signer,
      publisher,
      metrics,
      log: structuredLog,
    });
    let onClaimed: (action: FleetAction) => void = () => {};
    const controller = await FleetController.open(config, {
      state: store,
      observations: sqliteObservations(store),
      runtime: backgroundReplacements(runtime, events),
      drains,
      publication,
      alarms: alarms.sink,
      metrics,
      log: structuredLog,
      clock: timerClock(clock),
      onClaimed: (action) => onClaimed(action),
    });
    const orchestrator = new Orchestrator(options, {
      dataDir,
      adminToken,
      store,
      publisher,
      runtime,
      events,
      alarms,
      metrics,
      controller,
      drains,
      lock: parts.folder.lock,
    });
    onClaimed = (action) => orchestrator.#recordAction(action);
    orchestrator.#loopLog = structuredLog;
    onDiskFull = (error) => orchestrator.#onDiskFull(error);
    const signal = options.signal;
    const abort = () => {
      // Stops node starts at once; the start-up sequence notices and unwinds.
      orchestrator.#runtime.stopAll().catch(() => {});
    };
    signal?.addEventListener('abort', abort, { once: true });
    try {
      if (signal?.aborted) throw new StartAbortedError(String(signal.reason ?? 'aborted'));
      await orchestrator.#startParts();
      if (signal?.aborted) throw new StartAbortedError(String(signal.reason ?? 'aborted'));
    } catch (error) {
      await orchestrator.stop();
      if (signal?.aborted && !(error instanceof StartAbortedError)) {
        throw new StartAbortedError(String(signal.reason ?? 'aborted'));
      }
      throw error;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
    return orchestrator;
  }

  /** Writing failed for lack of space: stop writing (rounds pause), keep serving, raise DiskFull. */
  #onDiskFull(error: unknown): void {
    this.#alarms.diskFull(this.dataDir, (error as Error).message);
  }

  /** While the disk is full, a round only checks whether there is room again. */
  async #mayWrite(): Promise<boolean> {
    if (!this.#alarms.isDiskFull) return true;
    const stats = await statfs(this.dataDir).catch(() => undefined);
    const freeBytes = stats ? stats.bavail * stats.bsize : 0;
    if (freeBytes < DISK_FULL_RESUME_FREE_BYTES) return false;
    this.#alarms.diskFullCleared(freeBytes);
    return true;
  }

  get roundsCompleted(): number {
    return this.#roundsCompleted;
  }

  get round(): number {
    return this.#round;
  }

  get runtime(): ProcessRuntime {
    return this.#runtime;
  }

  get state(): FleetState {
    return this.#controller.state;
  }

  get stateVersion(): number {
    return this.#controller.stateVersion;
  }

  async #startParts(): Promise<void> {
    const { createProbeDialer } = await import('../waku/client/dialer.ts');
    this.#server = await this.#listen();
    writeApiUrl(this.dataDir, this.url);
    this.#log(`storefleet: ${this.config.fleet}, ${this.config.nodes.length} nodes`);
    this.#log(`  dashboard    ${this.url}/`);
    this.#log(`  fleets.json  ${this.url}/fleets.json`);
    this.#log(
      `  admin token  ${this.adminToken}  (also in ${join(this.dataDir, ADMIN_TOKEN_FILE)})`,
    );
    this.#log(`  data         ${this.dataDir}`);
    this.#events.record(
      'info',
      'Starting',
      'info',
      null,
      `starting ${this.config.nodes.length} nodes`,
    );
    await this.#runtime.startAll();
    if (this.#runtime.closed) throw new StartAbortedError('stopped while nodes were starting');
    this.#probers = await Promise.all(
      this.config.vantagePoints.map(
        async (vantage) =>
          new LocalVantageProber({
            config: this.config,
            vantage: { id: vantage.id, reachesRest: vantage.reachesRest },
            dialer: await createProbeDialer({
              clusterId: this.config.clusterId,
              shards: [...this.config.shards],
            }),
            runtime: this.#runtime,
            clock: this.#clock,
            isBlind: () => this.#chaos.isBlind(vantage.id),
          }),
      ),
    );
    await Promise.all(this.#probers.map((prober) => prober.warmUp()));
    this.#traffic = new TrafficGenerator({
      contentTopics: this.config.probe.contentTopics,
      ratePerSecond: this.#options.trafficRatePerSecond ?? DEFAULT_TRAFFIC_RATE_PER_SECOND,
      targets: () => this.#runningRestUrls(),
      nowMs: this.#clock,
    });
    this.#traffic.start();
    this.#events.record(
      'info',
      'Started',
      'info',
      null,
      `fleet up; probing every ${this.#intervalMs()} ms`,
    );
    if (this.#stopping) return;
    this.#startLoop();
    this.#completeness.start();
  }

  #startLoop(): void {
    const clock = timerClock(this.#clock);
    const round = watchRound({
      vantages: this.#probers.map((prober) => ({
        prober,
        recorder: this.#store,
        ...(this.#loopLog ? { log: this.#loopLog } : {}),
      })),
      controller: this.#controller,
      reportDeadlineMs: this.config.probe.roundDeadlineMs + REPORT_SETTLE_MS,
      clock,
    });
    this.#loop = new WatchLoop({
      schedule: sequentialRounds(this.#intervalMs(), this.#round),
      clock,
      runRound: async (number) => {
        if (!(await this.#mayWrite())) return;
        const outcome = await round(number);
        this.#afterRound(number, outcome.reports, outcome.controller);
      },
      onRoundFailed: (number, error) => {
        if (isDiskFull(error)) this.#onDiskFull(error);
        else this.#log(`round ${number} failed: ${error.stack ?? error}`);
      },
    });
    this.#unwatchCrashes = watchForCrashes(this.#loop, {
      runtime: this.#runtime,
      probers: this.#probers,
    });
    this.#loop.start();
  }

  async #listen(): Promise<Server> {
    const app = createApi({
      config: this.config,
      control: this,
      adminToken: this.adminToken,
      dashboardHtml: loadDashboardHtml(),
      protections: { listeningPort: () => (this.url ? Number(new URL(this.url).port) : undefined) },
    });
    const port = this.#options.port ?? DEFAULT_HTTP_PORT;
    return new Promise<Server>((resolvePromise, reject) => {
      const server = serve({ fetch: app.fetch, port, hostname: LOOPBACK }, (info: AddressInfo) => {
        this.url = `http://${LOOPBACK}:${info.port}`;
        resolvePromise(server as Server);
      }) as Server;
      server.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EADDRINUSE') return reject(error);
        const inUse = new Error(
          `port ${port} on ${LOOPBACK} is already in use (another npm start?); pass --port N, or --port 0 for any free port`,
        );
        inUse.name = 'StartUsageError';
        reject(inUse);
      });
    });
  }

  /** Stops loops, traffic, probers, nodes and the server; the state on disk stays for the next start. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#unwatchCrashes?.();
    await this.#loop?.stop();
    await this.#completeness.stop();
    await this.#traffic?.stop();
    await this.#stress.settle();
    await this.#runtime.stopAll();
    await Promise.allSettled(this.#probers.map((prober) => prober.dialer.stop()));
    if (this.#server) {
      const server = this.#server;
      await new Promise<void>((resolvePromise) => {
        server.close(() => resolvePromise());
        server.closeAllConnections();
      });
    }
    this.#store.close();
    this.#lock.release();
  }

  #intervalMs(): number {
    return this.#options.intervalMs ?? this.config.probe.intervalSeconds * 1000;
  }

  /** What only the local runtime does after a round: its own alarms, chaos, the event log, samples and the dashboard. */
  #afterRound(
    round: number,
    reports: readonly ProbeRound[],
    outcome: ControllerRoundOutcome | undefined,
  ): void {
    this.#round = round;
    this.#observations = summarizeRounds(reports);
    if (!outcome) return;
    this.#alarms.checkTasks(outcome.taskStates ?? this.#runtime.taskStatesNow());
    this.#chaos.flapAgain(outcome.decided.state);
    this.#afterPublication(outcome.publication);
    this.#snapshot = this.#buildSnapshot();
    this.#store.recordNodeSamples(nodeSamples(this.#snapshot, this.state, round));
    this.#roundsCompleted++;
    this.#events.emit({ type: 'snapshot', snapshot: this.#snapshot });
  }

  #afterPublication(outcome: PublicationOutcome): void {
    this.#alarms.afterPublication(outcome);
    if (outcome.published) {
      this.#events.record(
        'info',
        'Published',
        'info',
        null,
        `fleets.json #${outcome.sequence}: ${outcome.listedNodeIds.length} node(s) listed`,
      );
      this.#events.emit({ type: 'registry', sequence: outcome.sequence });
    } else if (outcome.reason === 'nothing-listable') {
      this.#events.record(
        'info',
        'PublishSkipped',
        'warning',
        null,
        'no listable node has an address yet; keeping the previous registry',
      );
    } else if (outcome.reason === 'refused') {
      this.#events.record('info', 'PublishRefused', 'warning', null, outcome.error.message);
    }
  }

  /** Drains, re-admissions and replacements go to the event log; alarms reach it through the alarm sink. */
  #recordAction(action: FleetAction): void {
    switch (action.kind) {
      case 'drain':
        this.#events.record('action', 'Drain', 'warning', action.nodeId, action.reason);
        return;
      case 'readmit':
        this.#events.record('action', 'Readmit', 'info', action.nodeId, action.reason);
        return;
      case 'replace':
        this.#events.record('action', 'Replace', 'warning', action.nodeId, action.reason);
        return;
    }
  }

  #listedNodeIds(): string[] {
    return fleetView(this.config, this.state, this.#drains.drainedNow()).listedNodeIds;
  }

  #buildSnapshot(): FleetSnapshot {
    return fleetSnapshot({
      config: this.config,
      state: this.state,
      operatorDrained: this.#drains.drainedNow(),
      observations: this.#observations,
      taskStates: this.#runtime.taskStatesNow(),
      addressesOf: (nodeId) => this.#runtime.addressesOf(nodeId),
      round: this.#round,
      atMs: this.#clock(),
      runtimeAlarms: this.#alarms.active(),
    });
  }

  #runningRestUrls(): string[] {
    const urls: string[] = [];
    for (const node of this.config.nodes) {
      const addresses = this.#runtime.addressesOf(node.id);
      const view = this.#snapshot.nodes.find((candidate) => candidate.id === node.id);
      if (addresses && view?.taskState !== 'stopped') urls.push(addresses.restUrl);
    }
    return urls;
  }

  // FleetControl, for the HTTP API.

  snapshot(): FleetSnapshot {
    return this.#snapshot;
  }

  nodeHistory(nodeId: string, limit: number) {
    return this.#store.nodeHistory(nodeId, limit);
  }

  missingMessages(nodeId: string) {
    return this.#store.latestCompleteness().filter((result) => result.nodeId === nodeId);
  }

  recentEvents(limit = RECENT_EVENTS) {
    return this.#events.recent(limit);
  }

  registry(): PublishedRegistry | undefined {
    return this.#publisher.current();
  }

  subscribe(listener: (update: LiveUpdate) => void): () => void {
    return this.#events.subscribe(listener);
  }

  async drainNode(nodeId: string): Promise<void> {
    const resolved = resolveNodeId(this.config, nodeId);
    const change = await asConflict(() =>
      drainByOperator(this.config, this.state, this.#drains, resolved),
    );
    if (!change.changed) return;
    this.#events.record('action', 'OperatorDrain', 'warning', resolved, OPERATOR_DRAINED_REASON);
    await this.#afterOperatorChange();
  }

  async undrainNode(nodeId: string): Promise<void> {
    const resolved = resolveNodeId(this.config, nodeId);
    await asConflict(() => undrainByOperator(this.#drains, resolved));
    this.#events.record(
      'action',
      'OperatorUndrain',
      'info',
      resolved,
      'undrained by an operator; the controller decides whether it is listed',
    );
    await this.#afterOperatorChange();
  }

  async #afterOperatorChange(): Promise<void> {
    this.#afterPublication(await this.#controller.publishIfDue());
    this.#snapshot = this.#buildSnapshot();
    this.#events.emit({ type: 'snapshot', snapshot: this.#snapshot });
  }

  startStress(request: StressRequest): Promise<void> {
    return this.#stress.start(resolveNodeId(this.config, request.nodeId), request);
  }

  /** Chaos for demos and tests: kill, stall, slow, hole, flap a node; blind a vantage point; clear. */
  chaos(request: ChaosRequest): Promise<string> {
    return this.#chaos.apply(request);
  }
}

/**
 * Replacements start in the background: a node process takes seconds to come up, and the round
 * (probes, publishing, the dashboard) must not wait for it. A failure is recorded when it happens.
 */
function backgroundReplacements(runtime: ProcessRuntime, events: EventLog): NodeRuntime {
  return {
    taskStates: () => runtime.taskStates(),
    replaceNode: async (nodeId, reason) => {
      runtime
        .replaceNode(nodeId, reason)
        .catch((error: unknown) =>
          events.record('info', 'ReplaceFailed', 'warning', nodeId, (error as Error).message),
        );
    },
  };
}

/** The control loop refuses operator changes with its own error; the API answers those with 409. */
async function asConflict<T>(change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (error) {
    if (error instanceof OperatorDrainRefusedError) throw new NodeStateConflictError(error.message);
    throw error;
  }
}
