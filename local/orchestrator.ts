// The embedded default: a whole fleet, three probers, the controller, the signed registry and the dashboard in one process.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { serve } from '@hono/node-server';
import { decideRound } from '../control/decide-round.ts';
import { registryListing } from '../control/listing.ts';
import type { NodeMultiaddrs } from '../control/node-addresses.ts';
import { type AlarmSink, performActions } from '../control/perform-actions.ts';
import { buildRegistryArtifacts, listedNodesOf } from '../control/registry-artifacts.ts';
import { ALARMS, type AlarmDefinition } from '../fleet/alarms.ts';
import { completenessVantageId, type FleetConfig } from '../fleet/config.ts';
import { type FleetAction, fleetReputations } from '../fleet/controller.ts';
import { alarmDefinition } from '../fleet/failover/actions.ts';
import type { ProbeRound } from '../fleet/observations.ts';
import type { NodeRuntime, TaskState } from '../fleet/ports.ts';
import type { ListedNode, RegistrySigner } from '../fleet/registry/index.ts';
import { type FleetState, initialFleetState, parseFleetState } from '../fleet/state.ts';
import { laggedWindow, measureCompleteness, storeHashSource } from '../probes/completeness.ts';
import {
  type ProbeRoundDialer,
  type ProbeRoundRest,
  type ProbeTarget,
  runProbeRound,
} from '../probes/probe-round.ts';
import { runStress } from '../probes/stress/run-stress.ts';
import { libp2pStressTarget, restStressTarget } from '../probes/stress/stress-targets.ts';
import type { ProbeDialer } from '../waku/client/dialer.ts';
import { ConnectionRefusedError } from '../waku/errors.ts';
import { autoshard } from '../waku/node/autosharding.ts';
import { pubsubTopic } from '../waku/protocols.ts';
import {
  type ChaosRequest,
  createApi,
  type FleetControl,
  type FleetSnapshot,
  type LiveUpdate,
  NodeStateConflictError,
  type NodeView,
  type StressRequest,
  UnknownNodeError,
} from './api.ts';
import { loadDashboardHtml } from './dashboard/page.ts';
import { FileRegistryPublisher, type PublishedRegistry } from './file-publisher.ts';
import { loadOrCreateFileSigner } from './file-signer.ts';
import { type NodeLaunch, type NodePortAssignment, ProcessRuntime } from './process-runtime.ts';
import { type FleetEvent, SqliteStateStore } from './sqlite-state-store.ts';
import { DEFAULT_TRAFFIC_RATE_PER_SECOND, TrafficGenerator } from './traffic.ts';

export const DEFAULT_DATA_DIR = '.storefleet';
export const DEFAULT_HTTP_PORT = 8080;
/** The token file chaos commands read; only its owner may read it. */
export const ADMIN_TOKEN_FILE = 'admin-token';
/** Where the API listens, for chaos commands run from another shell. */
export const API_URL_FILE = 'api-url';
const ADMIN_TOKEN_FILE_MODE = 0o600;
const LOOPBACK = '127.0.0.1';
/** Republish when a third of the expiry is left, so no client ever holds an expired copy. */
const REPUBLISH_AT_EXPIRY_FRACTION = 2 / 3;
/** A flapping node stalls again once it has been back and healthy for this many rounds. */
const FLAP_HEALTHY_ROUNDS = 2;
/** Dashboard history and the event log carry this many entries per request. */
const RECENT_EVENTS = 200;
/** TasksBelowDesired waits this many rounds beyond a drain and replacement, so that routine repairs do not page. */
const TASKS_BELOW_DESIRED_GRACE_ROUNDS = 3;
/** First dials share the CPU with six starting nodes: give them far longer than a probe. */
const WARM_UP_TIMEOUT_MS = 10_000;
/** What registry.json says of a node an operator took out. */
const OPERATOR_DRAINED_REASON = 'drained by an operator';
const NODE_SETTINGS = { ports: 'runtime.ports', operatorDrained: 'operator.drained' } as const;

export interface OrchestratorOptions {
  config: FleetConfig;
  /** Nodes, state, registry and keys live here. @default .storefleet */
  dataDir?: string;
  /** HTTP port on 127.0.0.1; 0 picks a free one. @default 8080 */
  port?: number;
  /** Wipe state, registry and node data first (the signing key and admin token are kept). */
  reset?: boolean;
  /** Milliseconds since the epoch. @default Date.now */
  clock?: () => number;
  /** Time between probe rounds. @default config.probe.intervalSeconds */
  intervalMs?: number;
  /** Time between completeness runs. @default config.completeness.intervalSeconds */
  completenessIntervalMs?: number;
  /** @default DEFAULT_TRAFFIC_RATE_PER_SECOND */
  trafficRatePerSecond?: number;
  /** How node processes are launched; tests may wrap it. @default `storefleet node run` */
  nodeCommand?: (launch: NodeLaunch) => { file: string; args: string[] };
  /** Console lines (alarms, actions, lifecycle). @default console.log */
  log?: (line: string) => void;
}

interface VantageProber {
  id: string;
  reachesRest: boolean;
  dialer: ProbeDialer;
}

interface RoundObservation {
  rttMs: number | null;
  freshnessAgeMs: number | null;
  lastError: string | null;
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
  readonly #options: OrchestratorOptions;
  readonly #clock: () => number;
  readonly #log: (line: string) => void;
  readonly #store: SqliteStateStore<FleetState>;
  readonly #publisher: FileRegistryPublisher;
  readonly #signer: RegistrySigner;
  readonly #runtime: ProcessRuntime;
  readonly #listeners = new Set<(update: LiveUpdate) => void>();
  readonly #blindVantages = new Set<string>();
  readonly #flapping = new Set<string>();
  readonly #pubsubTopic: string;
  #probers: VantageProber[] = [];
  #traffic: TrafficGenerator | undefined;
  #server: Server | undefined;
  #state: FleetState;
  #version: number;
  #round: number;
  #snapshot: FleetSnapshot;
  #observations = new Map<string, RoundObservation>();
  #lastPublishedKey: string | undefined;
  #lastPublishedAtMs = 0;
  #tasksBelowDesiredRounds = 0;
  #localAlarms = new Set<string>();
  #roundTimer: NodeJS.Timeout | undefined;
  #completenessTimer: NodeJS.Timeout | undefined;
  #currentRound: Promise<void> = Promise.resolve();
  #completenessRun: Promise<void> | undefined;
  #stressRuns = new Set<Promise<void>>();
  #stopping = false;
  #publishing: Promise<void> = Promise.resolve();
  #roundsCompleted = 0;

  private constructor(
    options: OrchestratorOptions,
    parts: {
      dataDir: string;
      adminToken: string;
      store: SqliteStateStore<FleetState>;
      publisher: FileRegistryPublisher;
      signer: RegistrySigner;
      state: FleetState;
      version: number;
    },
  ) {
    this.#options = options;
    this.config = options.config;
    this.dataDir = parts.dataDir;
    this.adminToken = parts.adminToken;
    this.#clock = options.clock ?? Date.now;
    this.#log = options.log ?? ((line) => console.log(line));
    this.#store = parts.store;
    this.#publisher = parts.publisher;
    this.#signer = parts.signer;
    this.#state = parts.state;
    this.#version = parts.version;
    this.#round = Math.max(parts.state.lastProcessedRound ?? 0, parts.store.latestProbeRound());
    const topic = this.config.probe.contentTopics[0] as string;
    this.#pubsubTopic = pubsubTopic(this.config.clusterId, autoshard(topic, this.config.shards));
    this.#runtime = new ProcessRuntime({
      config: this.config,
      rootDir: this.dataDir,
      adminToken: this.adminToken,
      knownPorts: parts.store.getSetting<Record<string, NodePortAssignment>>(NODE_SETTINGS.ports),
      savePorts: (ports) => parts.store.setSetting(NODE_SETTINGS.ports, ports),
      ...(options.nodeCommand ? { command: options.nodeCommand } : {}),
      log: (line) => this.#log(`runtime: ${line}`),
    });
    this.#snapshot = this.#buildSnapshot();
  }

  /** Starts nodes, probers, traffic, the loops and the HTTP server; resolves once the URL is live. */
  static async start(options: OrchestratorOptions): Promise<Orchestrator> {
    const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
    mkdirSync(dataDir, { recursive: true });
    if (options.reset) {
      for (const name of ['state.db', 'state.db-wal', 'state.db-shm', 'registry', 'nodes']) {
        rmSync(join(dataDir, name), { recursive: true, force: true });
      }
    }
    const adminToken = loadOrCreateAdminToken(dataDir);
    const store = SqliteStateStore.open<FleetState>(join(dataDir, 'state.db'), {
      parseState: parseFleetState,
    });
    const signer = await loadOrCreateFileSigner(signingKeyPath(options.config, dataDir));
    const clock = options.clock ?? Date.now;
    const publisher = await FileRegistryPublisher.open(join(dataDir, 'registry'), {
      nowMs: clock,
    });
    const loaded = await store.loadFleetState();
    const orchestrator = new Orchestrator(options, {
      dataDir,
      adminToken,
      store,
      publisher,
      signer,
      state: loaded.state ?? initialFleetState(options.config),
      version: loaded.version,
    });
    try {
      await orchestrator.#startParts();
    } catch (error) {
      await orchestrator.stop();
      throw error;
    }
    return orchestrator;
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
    return this.#state;
  }

  get stateVersion(): number {
    return this.#version;
  }

  async #startParts(): Promise<void> {
    const { createProbeDialer } = await import('../waku/client/dialer.ts');
    this.#server = await this.#listen();
    writeFileSync(join(this.dataDir, API_URL_FILE), `${this.url}\n`);
    this.#log(`storefleet: ${this.config.fleet}, ${this.config.nodes.length} nodes`);
    this.#log(`  dashboard    ${this.url}/`);
    this.#log(`  fleets.json  ${this.url}/fleets.json`);
    this.#log(
      `  admin token  ${this.adminToken}  (also in ${join(this.dataDir, ADMIN_TOKEN_FILE)})`,
    );
    this.#log(`  data         ${this.dataDir}`);
    this.#event('info', 'Starting', 'info', null, `starting ${this.config.nodes.length} nodes`);
    await this.#runtime.startAll();
    this.#probers = await Promise.all(
      this.config.vantagePoints.map(async (vantage) => ({
        id: vantage.id,
        reachesRest: vantage.reachesRest,
        dialer: await createProbeDialer({
          clusterId: this.config.clusterId,
          shards: [...this.config.shards],
        }),
      })),
    );
    await this.#warmUp();
    this.#traffic = new TrafficGenerator({
      contentTopics: this.config.probe.contentTopics,
      ratePerSecond: this.#options.trafficRatePerSecond ?? DEFAULT_TRAFFIC_RATE_PER_SECOND,
      targets: () => this.#runningRestUrls(),
      nowMs: this.#clock,
    });
    this.#traffic.start();
    this.#event(
      'info',
      'Started',
      'info',
      null,
      `fleet up; probing every ${this.#intervalMs()} ms`,
    );
    this.#scheduleRound(0);
    this.#scheduleCompleteness();
  }

  /**
   * Opens every prober's connection to every node before the first round: eighteen simultaneous
   * first dials would otherwise time out together and read as blind probers at each start.
   */
  async #warmUp(): Promise<void> {
    const targets = this.#targets();
    await Promise.allSettled(
      this.#probers.flatMap((prober) =>
        targets.map((target) =>
          prober.dialer.ping(target.multiaddr, { signal: AbortSignal.timeout(WARM_UP_TIMEOUT_MS) }),
        ),
      ),
    );
  }

  async #listen(): Promise<Server> {
    const app = createApi({
      config: this.config,
      control: this,
      adminToken: this.adminToken,
      dashboardHtml: loadDashboardHtml(),
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
    clearTimeout(this.#roundTimer);
    clearTimeout(this.#completenessTimer);
    await this.#currentRound.catch(() => {});
    await this.#completenessRun?.catch(() => {});
    await this.#traffic?.stop();
    await Promise.allSettled([...this.#stressRuns]);
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
  }

  #intervalMs(): number {
    return this.#options.intervalMs ?? this.config.probe.intervalSeconds * 1000;
  }

  #scheduleRound(delayMs: number): void {
    if (this.#stopping) return;
    this.#roundTimer = setTimeout(() => {
      const startedAt = performance.now();
      this.#currentRound = this.#runRound().catch((error: unknown) => {
        this.#log(`round ${this.#round} failed: ${(error as Error).stack ?? error}`);
      });
      this.#currentRound.then(() =>
        this.#scheduleRound(Math.max(0, this.#intervalMs() - (performance.now() - startedAt))),
      );
    }, delayMs);
  }

  #scheduleCompleteness(): void {
    if (this.#stopping) return;
    const intervalMs =
      this.#options.completenessIntervalMs ?? this.config.completeness.intervalSeconds * 1000;
    this.#completenessTimer = setTimeout(() => {
      this.#completenessRun = this.#runCompleteness()
        .catch((error: unknown) => this.#log(`completeness failed: ${(error as Error).message}`))
        .finally(() => this.#scheduleCompleteness());
    }, intervalMs);
  }

  /** One probe interval: three vantage points probe, the controller decides, actions run, the registry follows. */
  async #runRound(): Promise<void> {
    const round = this.#round + 1;
    const targets = this.#targets();
    const rounds = await Promise.all(
      this.#probers.map((prober) =>
        runProbeRound(
          {
            dialer: this.#blindable(prober),
            ...(prober.reachesRest ? { rest: this.#blindableRest(prober) } : {}),
            clock: { nowMs: this.#clock },
          },
          {
            vantage: { id: prober.id, reachesRest: prober.reachesRest },
            round,
            targets,
            probe: this.config.probe,
            clusterId: this.config.clusterId,
            pubsubTopic: this.#pubsubTopic,
          },
        ),
      ),
    );
    if (this.#stopping) return;
    for (const probeRound of rounds) await this.#store.recordProbeRound(probeRound);
    this.#round = round;
    this.#observations = summarizeRounds(rounds);
    const taskStates = await this.#runtime.taskStates();
    const nowMs = this.#clock();
    const decided = await decideRound({
      config: this.config,
      store: this.#store,
      round,
      nowMs,
      taskStates,
      completeness: this.#store.latestCompleteness(),
      stress: this.#store.latestStress(),
      current: { state: this.#state, version: this.#version },
    });
    this.#state = decided.state;
    this.#version = decided.version;
    await performActions(decided.actions, {
      claimAction: (key, atMs) => this.#store.claimAction(key, atMs),
      runtime: this.#replacingRuntime,
      alarms: this.#alarmSink,
      nowMs,
      onClaimed: (action) => this.#recordAction(action),
    });
    this.#checkTasks(taskStates);
    this.#flapAgain();
    await this.#publishIfChanged(nowMs);
    this.#recordSamples(round, nowMs);
    this.#roundsCompleted++;
    this.#snapshot = this.#buildSnapshot();
    this.#emit({ type: 'snapshot', snapshot: this.#snapshot });
  }

  /**
   * Replacements start in the background: a node process takes seconds to come up, and the round
   * (probes, publishing, the dashboard) must not wait for it. A failure is recorded when it happens.
   */
  readonly #replacingRuntime: Pick<NodeRuntime, 'replaceNode'> = {
    replaceNode: async (nodeId, reason) => {
      this.#runtime
        .replaceNode(nodeId, reason)
        .catch((error: unknown) =>
          this.#event('info', 'ReplaceFailed', 'warning', nodeId, (error as Error).message),
        );
    },
  };

  readonly #alarmSink: AlarmSink = {
    raise: (action) =>
      this.#raiseAlarm(alarmDefinition(action.alarm), action.subject, action.reason),
    clear: (action) =>
      this.#event(
        'alarm',
        `${action.alarm} cleared`,
        'info',
        subjectNode(action.subject, this.config),
        action.reason,
      ),
  };

  /** Drains, re-admissions and replacements go to the event log; alarms reach it through the alarm sink. */
  #recordAction(action: FleetAction): void {
    switch (action.kind) {
      case 'drain':
        this.#event('action', 'Drain', 'warning', action.nodeId, action.reason);
        return;
      case 'readmit':
        this.#event('action', 'Readmit', 'info', action.nodeId, action.reason);
        return;
      case 'replace':
        this.#event('action', 'Replace', 'warning', action.nodeId, action.reason);
        return;
    }
  }

  #raiseAlarm(alarm: AlarmDefinition, subject: string, reason: string): void {
    this.#log(
      `ALARM [${alarm.severity}] ${alarm.name} ${subject}: ${reason}\n  ${alarm.summary}\n  runbook: ${alarm.runbook}`,
    );
    this.#event(
      'alarm',
      alarm.name,
      alarm.severity,
      subjectNode(subject, this.config),
      `${subject}: ${reason} — ${alarm.summary} (runbook: ${alarm.runbook})`,
      false,
    );
  }

  /** TasksBelowDesired is the runtime's alarm: the controller sees probes, this sees processes. */
  #checkTasks(taskStates: ReadonlyMap<string, TaskState>): void {
    const running = [...taskStates.values()].filter((state) => state === 'running').length;
    const desired = this.config.nodes.length;
    this.#tasksBelowDesiredRounds = running < desired ? this.#tasksBelowDesiredRounds + 1 : 0;
    const name = ALARMS.tasksBelowDesired.name;
    const threshold = this.config.failover.failuresBeforeDrain + TASKS_BELOW_DESIRED_GRACE_ROUNDS;
    if (this.#tasksBelowDesiredRounds >= threshold && !this.#localAlarms.has(name)) {
      this.#localAlarms.add(name);
      this.#raiseAlarm(
        ALARMS.tasksBelowDesired,
        'fleet',
        `${running} of ${desired} node tasks running`,
      );
    } else if (this.#tasksBelowDesiredRounds === 0 && this.#localAlarms.delete(name)) {
      this.#event('alarm', `${name} cleared`, 'info', null, `all ${desired} node tasks running`);
    }
  }

  #listedNodeIds(): string[] {
    return registryListing(this.config, this.#state, this.#operatorDrained());
  }

  #operatorDrained(): Set<string> {
    return new Set(this.#store.getSetting<string[]>(NODE_SETTINGS.operatorDrained) ?? []);
  }

  /** Rounds and operator actions both publish; one at a time, so sequences reach the publisher in order. */
  #publishIfChanged(nowMs: number): Promise<void> {
    const run = this.#publishing.then(() => this.#publishIfChangedNow(nowMs));
    this.#publishing = run.catch(() => {});
    return run;
  }

  async #publishIfChangedNow(nowMs: number): Promise<void> {
    const listed = listedNodesOf(this.#listedNodeIds(), this.#multiaddrsOf);
    const key = JSON.stringify(listed);
    const expiresAfterMs = this.config.registry.expiresAfterSeconds * 1000;
    const due =
      nowMs - this.#lastPublishedAtMs >= expiresAfterMs * (1 - REPUBLISH_AT_EXPIRY_FRACTION);
    if (key === this.#lastPublishedKey && !due) return;
    if (listed.length === 0) {
      this.#event(
        'info',
        'PublishSkipped',
        'warning',
        null,
        'no listable node has an address yet; keeping the previous registry',
      );
      return;
    }
    try {
      await this.#publish(listed, nowMs);
      this.#lastPublishedKey = key;
      this.#lastPublishedAtMs = nowMs;
      this.#localAlarms.delete(ALARMS.registryStale.name);
    } catch (error) {
      this.#event('info', 'PublishRefused', 'warning', null, (error as Error).message);
      const current = this.#publisher.current();
      const ageMs = current ? nowMs - this.#lastPublishedAtMs : Number.POSITIVE_INFINITY;
      if (ageMs > expiresAfterMs / 2 && !this.#localAlarms.has(ALARMS.registryStale.name)) {
        this.#localAlarms.add(ALARMS.registryStale.name);
        this.#raiseAlarm(ALARMS.registryStale, 'fleet', (error as Error).message);
      }
    }
  }

  /** The runtime knows each node's address as it starts it; the local fleet serves no websockets. */
  readonly #multiaddrsOf = (nodeId: string): NodeMultiaddrs | undefined => {
    const addresses = this.#runtime.addressesOf(nodeId);
    return addresses ? { tcp: addresses.tcpAddress } : undefined;
  };

  async #publish(listed: ListedNode[], nowMs: number): Promise<void> {
    const sequence = this.#store.reserveRegistrySequence(await this.#publisher.lastSequence());
    const operatorDrained = this.#operatorDrained();
    const { artifacts } = await buildRegistryArtifacts({
      config: this.config,
      state: this.#state,
      listed: listed.map((node) => node.id),
      addressesOf: this.#multiaddrsOf,
      signer: this.#signer,
      sequence,
      nowMs,
      reasons: new Map([...operatorDrained].map((id) => [id, OPERATOR_DRAINED_REASON])),
    });
    await this.#publisher.publish(artifacts);
    this.#event(
      'info',
      'Published',
      'info',
      null,
      `fleets.json #${sequence}: ${listed.length} node(s) listed`,
    );
    this.#emit({ type: 'registry', sequence });
  }

  async #runCompleteness(): Promise<void> {
    const seeing = this.#probers.filter((candidate) => !this.#blindVantages.has(candidate.id));
    const preferred = completenessVantageId(this.config);
    const prober = seeing.find((candidate) => candidate.id === preferred) ?? seeing[0];
    if (!prober) return;
    const sources = this.#targets().map((target) =>
      storeHashSource(
        (query, signal) =>
          prober.dialer.storeQuery(target.multiaddr, query, {
            signal,
            maxResponseBytes: this.config.probe.maxResponseBytes,
          }),
        {
          nodeId: target.nodeId,
          pubsubTopic: this.#pubsubTopic,
          contentTopics: this.config.probe.contentTopics,
        },
      ),
    );
    if (sources.length < 2) return;
    const results = await measureCompleteness({
      sources,
      vantageId: prober.id,
      settings: this.config.completeness,
      clock: { nowMs: this.#clock },
      window: laggedWindow(this.#clock(), this.config.completeness),
      requestTimeoutMs: this.config.probe.storeTimeoutMs,
    });
    if (!this.#stopping) await this.#store.recordCompleteness(results);
  }

  #targets(): ProbeTarget[] {
    const targets: ProbeTarget[] = [];
    for (const node of this.config.nodes) {
      const addresses = this.#runtime.addressesOf(node.id);
      if (addresses) {
        targets.push({
          nodeId: node.id,
          multiaddr: addresses.tcpAddress,
          restUrl: addresses.restUrl,
        });
      }
    }
    return targets;
  }

  #runningRestUrls(): string[] {
    return this.#targets()
      .filter(
        (target) =>
          this.#snapshot.nodes.find((node) => node.id === target.nodeId)?.taskState !== 'stopped',
      )
      .map((target) => target.restUrl as string);
  }

  /** A blinded vantage point (chaos blind) fails every probe at once, as a prober cut off from the network would. */
  #blindable(prober: VantageProber): ProbeRoundDialer {
    const blind = () => this.#blindVantages.has(prober.id);
    const refuse = (address: string) =>
      Promise.reject(
        new ConnectionRefusedError(`${address} (vantage point ${prober.id} is blinded)`),
      );
    return {
      ping: (address, options) =>
        blind() ? refuse(address) : prober.dialer.ping(address, options),
      metadata: (address, options) =>
        blind() ? refuse(address) : prober.dialer.metadata(address, options),
      storeQuery: (address, query, options) =>
        blind() ? refuse(address) : prober.dialer.storeQuery(address, query, options),
    };
  }

  #blindableRest(prober: VantageProber): ProbeRoundRest {
    return {
      health: async (restUrl, options) => {
        if (this.#blindVantages.has(prober.id))
          return Promise.reject(new ConnectionRefusedError(restUrl));
        const { health } = await import('../waku/client/rest.ts');
        return health(restUrl, options);
      },
    };
  }

  #recordSamples(round: number, nowMs: number): void {
    const listed = new Set(this.#listedNodeIds());
    const reputations = new Map(
      fleetReputations(this.config, this.#state).map((rep) => [rep.nodeId, rep.composite]),
    );
    this.#store.recordNodeSamples(
      this.config.nodes.map((node) => ({
        nodeId: node.id,
        atMs: nowMs,
        round,
        state: this.#state.nodes[node.id]?.status ?? 'active',
        reputation: reputations.get(node.id) ?? null,
        rttMs: this.#observations.get(node.id)?.rttMs ?? null,
        listed: listed.has(node.id),
      })),
    );
  }

  #buildSnapshot(): FleetSnapshot {
    const listed = this.#listedNodeIds();
    const listedSet = new Set(listed);
    const operatorDrained = this.#operatorDrained();
    const reputations = new Map(
      fleetReputations(this.config, this.#state).map((rep) => [rep.nodeId, rep]),
    );
    const taskStates = this.#runtime.taskStatesNow();
    const nodes: NodeView[] = this.config.nodes.map((node) => {
      const state = this.#state.nodes[node.id];
      const rep = reputations.get(node.id);
      const observed = this.#observations.get(node.id);
      const addresses = this.#runtime.addressesOf(node.id);
      const status = state?.status ?? 'active';
      const probationLeft =
        state && (status === 'probation' || status === 'replacing')
          ? Math.max(0, state.requiredProbationRounds - state.goodStreak)
          : null;
      return {
        id: node.id,
        location: node.location,
        state:
          operatorDrained.has(node.id) && !listedSet.has(node.id)
            ? 'drained'
            : displayStatus(status),
        listed: listedSet.has(node.id),
        operatorDrained: operatorDrained.has(node.id),
        taskState: taskStates.get(node.id) ?? 'missing',
        reputation: rep?.composite ?? null,
        rttMs: observed?.rttMs ?? null,
        freshnessAgeMs: observed?.freshnessAgeMs ?? null,
        completeness: rep?.completeness ?? null,
        probationRoundsLeft: probationLeft,
        lastError: observed?.lastError ?? null,
        tcp: addresses?.tcpAddress ?? null,
        wss: null,
      };
    });
    const alarms = Object.values(this.#state.alarms).map((alarm) =>
      alarm.subject === 'fleet' ? alarm.alarm : `${alarm.alarm}: ${alarm.subject}`,
    );
    return {
      fleet: this.config.fleet,
      round: this.#round,
      atMs: this.#clock(),
      nodes,
      listedNodeIds: listed,
      activeAlarms: [...alarms, ...this.#localAlarms],
      blindVantageIds: Object.entries(this.#state.vantagePoints)
        .filter(([, vantage]) => vantage.blind)
        .map(([id]) => id),
    };
  }

  #event(
    kind: FleetEvent['kind'],
    name: string,
    severity: FleetEvent['severity'],
    nodeId: string | null,
    message: string,
    print = kind === 'action',
  ): void {
    const event = this.#store.appendEvent({
      atMs: this.#clock(),
      kind,
      name,
      severity,
      nodeId,
      message,
    });
    if (print) this.#log(`${name}${nodeId ? ` ${nodeId}` : ''}: ${message}`);
    this.#emit({ type: 'event', event });
  }

  #emit(update: LiveUpdate): void {
    for (const listener of this.#listeners) {
      try {
        listener(update);
      } catch {
        // A broken dashboard connection must not stop the control loop.
      }
    }
  }

  // FleetControl, for the HTTP API.

  snapshot(): FleetSnapshot {
    return this.#snapshot;
  }

  nodeHistory(nodeId: string, limit: number) {
    return this.#store.nodeHistory(nodeId, limit);
  }

  recentEvents(limit = RECENT_EVENTS) {
    return this.#store.recentEvents(limit);
  }

  registry(): PublishedRegistry | undefined {
    return this.#publisher.current();
  }

  subscribe(listener: (update: LiveUpdate) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async drainNode(nodeId: string): Promise<void> {
    const nodeIdResolved = this.#resolveNode(nodeId);
    const drained = this.#operatorDrained();
    if (drained.has(nodeIdResolved)) return;
    const remaining = this.#listedNodeIds().filter((id) => id !== nodeIdResolved);
    if (remaining.length < this.config.failover.minHealthy) {
      throw new NodeStateConflictError(
        `draining ${nodeIdResolved} would leave ${remaining.length} listed node(s), below failover.minHealthy (${this.config.failover.minHealthy}); undrain or repair another node first`,
      );
    }
    drained.add(nodeIdResolved);
    this.#store.setSetting(NODE_SETTINGS.operatorDrained, [...drained]);
    this.#event('action', 'OperatorDrain', 'warning', nodeIdResolved, OPERATOR_DRAINED_REASON);
    await this.#afterOperatorChange();
  }

  async undrainNode(nodeId: string): Promise<void> {
    const nodeIdResolved = this.#resolveNode(nodeId);
    const drained = this.#operatorDrained();
    if (!drained.delete(nodeIdResolved)) {
      throw new NodeStateConflictError(`${nodeIdResolved} was not drained by an operator`);
    }
    this.#store.setSetting(NODE_SETTINGS.operatorDrained, [...drained]);
    this.#event(
      'action',
      'OperatorUndrain',
      'info',
      nodeIdResolved,
      'undrained by an operator; the controller decides whether it is listed',
    );
    await this.#afterOperatorChange();
  }

  async #afterOperatorChange(): Promise<void> {
    await this.#publishIfChanged(this.#clock());
    this.#snapshot = this.#buildSnapshot();
    this.#emit({ type: 'snapshot', snapshot: this.#snapshot });
  }

  async startStress(request: StressRequest): Promise<void> {
    const nodeId = this.#resolveNode(request.nodeId);
    const addresses = this.#runtime.addressesOf(nodeId);
    if (!addresses) throw new NodeStateConflictError(`${nodeId} has no address yet`);
    const prober = this.#probers[0];
    if (!prober) throw new NodeStateConflictError('no prober is running');
    const query = {
      includeData: false,
      pubsubTopic: this.#pubsubTopic,
      contentTopics: [...this.config.probe.contentTopics],
      pageSize: 20,
    };
    const target =
      request.transport === 'rest'
        ? restStressTarget(addresses.restUrl, query, { connections: request.connections })
        : libp2pStressTarget(prober.dialer, addresses.tcpAddress, query);
    const listed = new Set(this.#listedNodeIds());
    this.#event(
      'action',
      'StressStarted',
      'info',
      nodeId,
      `${request.rate} req/s for ${request.durationSeconds} s over ${request.connections} ${request.transport} connection(s)`,
    );
    const run = runStress(
      { target, clock: { nowMs: this.#clock }, isDrained: (id) => !listed.has(id) },
      {
        nodeId,
        ratePerSecond: request.rate,
        durationSeconds: request.durationSeconds,
        connections: request.connections,
      },
      this.config.stress,
    )
      .then(async (report) => {
        await this.#store.recordStress(report.summary);
        const s = report.summary;
        this.#event(
          'action',
          'StressFinished',
          s.sloMet ? 'info' : 'warning',
          nodeId,
          `${s.achievedRatePerSecond.toFixed(0)} req/s achieved, p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms, errors ${(s.errorRate * 100).toFixed(1)} %${s.sloMet ? '' : ' — SLO missed'}`,
        );
      })
      .catch((error: unknown) =>
        this.#event('info', 'StressFailed', 'warning', nodeId, (error as Error).message),
      )
      .finally(async () => {
        this.#stressRuns.delete(run);
        await target.close();
      });
    this.#stressRuns.add(run);
  }

  /** Chaos for demos and tests: kill, stall, slow, hole, flap a node; blind a vantage point; clear. */
  async chaos(request: ChaosRequest): Promise<string> {
    switch (request.action) {
      case 'blind': {
        if (!this.config.vantagePoints.some((vantage) => vantage.id === request.vantageId)) {
          throw new UnknownNodeError(`vantage point ${request.vantageId}`);
        }
        this.#blindVantages.add(request.vantageId);
        return this.#chaosNote(`vantage point ${request.vantageId} blinded: its probes now fail`);
      }
      case 'clear':
        return this.#clearChaos(request.target);
      default: {
        const nodeId = this.#resolveNode(request.nodeId);
        switch (request.action) {
          case 'kill':
            this.#runtime.killNode(nodeId);
            return this.#chaosNote(`killed ${nodeId} (SIGKILL)`, nodeId);
          case 'stall':
            await this.#runtime.setFaults(nodeId, { stall: true });
            return this.#chaosNote(`${nodeId} stalls: accepts connections, never answers`, nodeId);
          case 'slow': {
            const latencyMs = Math.round(this.config.probe.pingTimeoutMs / 2);
            await this.#runtime.setFaults(nodeId, { latencyMs });
            return this.#chaosNote(`${nodeId} answers ${latencyMs} ms late`, nodeId);
          }
          case 'hole':
            await this.#runtime.setFaults(nodeId, { dropArchiveRate: 0.6 });
            return this.#chaosNote(`${nodeId} drops 60 % of new messages from its archive`, nodeId);
          case 'flap':
            this.#flapping.add(nodeId);
            await this.#runtime.setFaults(nodeId, { stall: true });
            return this.#chaosNote(
              `${nodeId} flaps: it stalls, and stalls again each time it has been back for ${FLAP_HEALTHY_ROUNDS} good rounds`,
              nodeId,
            );
        }
      }
    }
  }

  #chaosNote(message: string, nodeId: string | null = null): string {
    this.#event('action', 'Chaos', 'warning', nodeId, message);
    return message;
  }

  /**
   * A replacement starts a process without faults; a flapping node fails again soon after it is
   * back, which is what makes the controller lengthen its probation.
   */
  #flapAgain(): void {
    for (const nodeId of this.#flapping) {
      const node = this.#state.nodes[nodeId];
      if (node?.status === 'active' && node.goodStreak >= FLAP_HEALTHY_ROUNDS) {
        this.#runtime.setFaults(nodeId, { stall: true }).catch(() => {
          // Down or being replaced: the next round tries again.
        });
      }
    }
  }

  async #clearChaos(target: string | undefined): Promise<string> {
    const cleared: string[] = [];
    for (const vantage of [...this.#blindVantages]) {
      if (target === undefined || target === vantage) {
        this.#blindVantages.delete(vantage);
        cleared.push(vantage);
      }
    }
    const nodeIds =
      target === undefined
        ? this.config.nodes.map((node) => node.id)
        : cleared.includes(target)
          ? []
          : [this.#resolveNode(target)];
    for (const nodeId of nodeIds) {
      this.#flapping.delete(nodeId);
      const running = this.#runtime.taskStatesNow().get(nodeId) === 'running';
      if (running) {
        await this.#runtime.clearFaults(nodeId).catch(() => {});
        cleared.push(nodeId);
      }
    }
    return this.#chaosNote(`cleared faults on ${cleared.length ? cleared.join(', ') : 'nothing'}`);
  }

  /** Exact node id, or a unique prefix such as `store-01.us-east`. */
  #resolveNode(nodeId: string): string {
    const ids = this.config.nodes.map((node) => node.id);
    if (ids.includes(nodeId)) return nodeId;
    const matches = ids.filter((id) => id.startsWith(`${nodeId}.`) || id.startsWith(nodeId));
    if (matches.length === 1) return matches[0] as string;
    throw new UnknownNodeError(nodeId);
  }
}

function subjectNode(subject: string, config: FleetConfig): string | null {
  return config.nodes.some((node) => node.id === subject) ? subject : null;
}

/** The dashboard speaks of healthy nodes; the controller calls them active. */
function displayStatus(status: string): string {
  return status === 'active' ? 'healthy' : status;
}

/** Per node: the fastest ping, the freshest store answer and the first error across vantage points. */
function summarizeRounds(rounds: readonly ProbeRound[]): Map<string, RoundObservation> {
  const byNode = new Map<string, RoundObservation>();
  for (const round of rounds) {
    for (const result of round.results) {
      const seen = byNode.get(result.nodeId) ?? {
        rttMs: null,
        freshnessAgeMs: null,
        lastError: null,
      };
      if (result.ok && result.kind === 'ping' && result.latencyMs !== undefined) {
        seen.rttMs =
          seen.rttMs === null ? result.latencyMs : Math.min(seen.rttMs, result.latencyMs);
      }
      if (result.ok && result.kind === 'store' && typeof result.newestMessageAgeMs === 'number') {
        seen.freshnessAgeMs =
          seen.freshnessAgeMs === null
            ? result.newestMessageAgeMs
            : Math.min(seen.freshnessAgeMs, result.newestMessageAgeMs);
      }
      if (!result.ok && seen.lastError === null) {
        seen.lastError = `${round.vantageId} ${result.kind}: ${result.errorClass ?? 'failed'}${result.errorMessage ? ` (${result.errorMessage})` : ''}`;
      }
      byNode.set(result.nodeId, seen);
    }
  }
  return byNode;
}

function loadOrCreateAdminToken(dataDir: string): string {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(path)) {
    const token = readFileSync(path, 'utf8').trim();
    if (token.length >= 16) return token;
  }
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: ADMIN_TOKEN_FILE_MODE });
  return token;
}

/**
 * The config's key path, with a leading `.storefleet/` moved into the data folder, so that
 * `--data-dir` keeps each fleet's key beside its registry.
 */
export function signingKeyPath(config: FleetConfig, dataDir: string): string {
  const key = config.registry.signingKey;
  if (key.kind !== 'file') {
    throw new Error(
      'registry.signingKey.kind "kms" needs AWS; the local runtime signs with a key file (kind "file")',
    );
  }
  if (isAbsolute(key.path)) return key.path;
  const inside = relative(DEFAULT_DATA_DIR, key.path);
  if (!inside.startsWith('..')) return join(dataDir, inside);
  return resolve(key.path);
}
