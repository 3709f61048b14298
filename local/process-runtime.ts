// NodeRuntime over child processes: each store node is `storefleet node run`, with its own data folder and stable ports.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  mkdirSync,
  readFileSync,
  rmSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as z from 'zod';
import type { FleetConfig } from '../fleet/config.ts';
import type { NodeRuntime, TaskState, TaskStopNotifier } from '../fleet/ports.ts';

const REPO_ROOT = join(import.meta.dirname, '..');
/** A node that has not printed its ready line by then is killed and reported stopped. */
export const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** SIGTERM first; SIGKILL when the node is still there after this. */
export const DEFAULT_STOP_GRACE_MS = 5_000;
const LOOPBACK = '127.0.0.1';
const FAULTS_PATH = '/admin/v1/faults';
const ADMIN_REQUEST_TIMEOUT_MS = 5_000;
/** Each node's pid, so that a supervisor killed with -9 does not leave nodes holding the ports. */
const PID_FILE = 'node.pid';
const LEFTOVER_EXIT_WAIT_MS = 5_000;
/**
 * The environment variable that carries a node's admin token to its process: a child's
 * environment is readable by its owner only, where its command line is visible to every local
 * user in `ps`.
 */
export const NODE_ADMIN_TOKEN_ENV = 'STOREFLEET_NODE_ADMIN_TOKEN';
const NODE_TOKEN_BYTES = 24;

/** The line `storefleet node run` prints once it listens. */
export const ReadyLineSchema = z.object({
  event: z.literal('ready'),
  peerId: z.string().min(1),
  tcpAddress: z.string().min(1),
  websocketAddress: z.string().min(1).optional(),
  restUrl: z.string().url(),
  enr: z.string().startsWith('enr:').optional(),
});
export type NodeAddresses = Omit<z.infer<typeof ReadyLineSchema>, 'event'>;

export interface NodePortAssignment {
  tcp: number;
  websocket: number;
  rest: number;
}

/** What one node process is started with. */
export interface NodeLaunch {
  nodeId: string;
  index: number;
  dataDir: string;
  ports: NodePortAssignment;
  clusterId: number;
  shards: readonly number[];
  /** This node's own admin token; reaches the process through NODE_ADMIN_TOKEN_ENV, never its arguments. */
  adminToken: string;
  peers: readonly string[];
  /** The config's archive retention for this node (`size:50GB`, `time:SECONDS`, `capacity:N`). */
  retention: string;
}

/** How a node process is started: its arguments, and environment variables besides the admin token. */
export interface NodeCommand {
  file: string;
  args: string[];
  env?: Readonly<Record<string, string>>;
}

/** The default launch: this repository's CLI on the Node 24 that runs us. */
export function storefleetNodeCommand(launch: NodeLaunch): NodeCommand {
  const args = [
    join(REPO_ROOT, 'cli', 'main.ts'),
    'node',
    'run',
    '--data-dir',
    launch.dataDir,
    '--cluster',
    String(launch.clusterId),
    '--shards',
    launch.shards.join(','),
    '--tcp-port',
    String(launch.ports.tcp),
    '--ws-port',
    String(launch.ports.websocket),
    '--rest-port',
    String(launch.ports.rest),
    '--retention',
    launch.retention,
    '--seed',
    String(launch.index + 1),
    '--stop-with-parent',
  ];
  for (const peer of launch.peers) args.push('--peer', peer);
  return { file: process.execPath, args };
}

export interface ProcessRuntimeOptions {
  config: FleetConfig;
  /** Node data lives under `${rootDir}/nodes/<node id>/`. */
  rootDir: string;
  /**
   * Not passed to nodes: each node gets its own random token for its admin endpoint.
   * @deprecated kept so that existing callers compile; ignored.
   */
  adminToken?: string;
  /** Ports remembered from an earlier run; nodes missing here get new ones. */
  knownPorts?: Readonly<Record<string, NodePortAssignment>>;
  /** Called whenever ports were allocated, to persist them (the state store's settings). */
  savePorts?: (ports: Record<string, NodePortAssignment>) => void;
  /** First port to try; 0 lets the OS pick free ephemeral ports. @default 0 */
  basePort?: number;
  /** @default storefleetNodeCommand */
  command?: (launch: NodeLaunch) => NodeCommand;
  /** @default DEFAULT_READY_TIMEOUT_MS */
  readyTimeoutMs?: number;
  /** @default DEFAULT_STOP_GRACE_MS */
  stopGraceMs?: number;
  /** Lifecycle messages (started, exited); node output goes to each node's node.log. */
  log?: (message: string) => void;
}

interface NodeProcess {
  child: ChildProcess;
  state: 'pending' | 'running' | 'stopped';
  exited: Promise<void>;
  addresses: NodeAddresses | undefined;
  /** Set when we asked it to stop, so that the exit is not reported as a crash. */
  stopping: boolean;
}

const PORT_NAMES: Record<keyof NodePortAssignment, string> = {
  tcp: 'libp2p TCP',
  websocket: 'websocket',
  rest: 'REST',
};

/** Thrown when a node process does not come up; names the node and where its log is. */
export class NodeStartError extends Error {
  constructor(nodeId: string, reason: string, logPath: string) {
    super(`node ${nodeId} did not start: ${reason}; see ${logPath}`);
    this.name = 'NodeStartError';
  }
}

async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: LOOPBACK, exclusive: true }, () =>
      server.close(() => resolve(true)),
    );
  });
}

async function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: LOOPBACK, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Runs the fleet's nodes as child processes.
 * @example
 * const runtime = new ProcessRuntime({ config, rootDir: '.storefleet', adminToken });
 * await runtime.startAll();
 * await runtime.replaceNode('store-01.eu-central.storefleet.test', 'stopped answering');
 */
export class ProcessRuntime implements NodeRuntime, TaskStopNotifier {
  readonly #options: ProcessRuntimeOptions;
  readonly #stopListeners = new Set<(nodeId: string) => void>();
  readonly #ports: Record<string, NodePortAssignment>;
  readonly #processes = new Map<string, NodeProcess>();
  /** Addresses survive a node's exit: its identity and ports do not change on restart. */
  readonly #lastAddresses = new Map<string, NodeAddresses>();
  readonly #replacing = new Map<string, Promise<void>>();
  /** Per node, for this run: a leaked token opens one node's faults, not the fleet's. */
  readonly #nodeTokens = new Map<string, string>();
  #closed = false;

  constructor(options: ProcessRuntimeOptions) {
    this.#options = options;
    this.#ports = { ...options.knownPorts };
  }

  get nodeIds(): string[] {
    return this.#options.config.nodes.map((node) => node.id);
  }

  dataDirOf(nodeId: string): string {
    return join(this.#options.rootDir, 'nodes', nodeId);
  }

  portsOf(nodeId: string): NodePortAssignment | undefined {
    return this.#ports[nodeId];
  }

  /** The node's addresses from its last ready line (kept while it is down). */
  addressesOf(nodeId: string): NodeAddresses | undefined {
    return this.#lastAddresses.get(nodeId);
  }

  /**
   * Starts every node, one after the other, each told to dial the ones already up so that relay
   * forms a full mesh.
   */
  async startAll(): Promise<void> {
    await this.#allocatePorts();
    for (const nodeId of this.nodeIds) await this.#killLeftover(nodeId);
    for (const nodeId of this.nodeIds) {
      // Stopped while starting (a signal during start-up): start no more nodes.
      if (this.#closed) return;
      await this.#start(nodeId);
    }
  }

  /** Whether stopAll() was called; nodes are no longer started or replaced. */
  get closed(): boolean {
    return this.#closed;
  }

  async replaceNode(nodeId: string, reason: string): Promise<void> {
    const pending = this.#replacing.get(nodeId);
    if (pending) return pending;
    const run = (async () => {
      this.#options.log?.(`replacing ${nodeId}: ${reason}`);
      await this.stopNode(nodeId);
      if (!this.#closed) await this.#start(nodeId);
    })().finally(() => this.#replacing.delete(nodeId));
    this.#replacing.set(nodeId, run);
    return run;
  }

  async taskStates(): Promise<ReadonlyMap<string, TaskState>> {
    return this.taskStatesNow();
  }

  taskStatesNow(): ReadonlyMap<string, TaskState> {
    const states = new Map<string, TaskState>();
    for (const nodeId of this.nodeIds) {
      const running = this.#processes.get(nodeId);
      states.set(nodeId, running ? running.state : 'missing');
    }
    return states;
  }

  /** Tells `listener` of every node process that exits without having been asked to stop. */
  onTaskStopped(listener: (nodeId: string) => void): () => void {
    this.#stopListeners.add(listener);
    return () => this.#stopListeners.delete(listener);
  }

  /** Kills a node at once, as a crash would; the controller decides what happens next. */
  killNode(nodeId: string, signal: NodeJS.Signals = 'SIGKILL'): void {
    const running = this.#processes.get(nodeId);
    if (running && running.state !== 'stopped') running.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves once the process has exited. */
  async stopNode(nodeId: string): Promise<void> {
    const running = this.#processes.get(nodeId);
    if (!running || running.state === 'stopped') return;
    running.stopping = true;
    running.child.kill('SIGTERM');
    const grace = setTimeout(
      () => running.child.kill('SIGKILL'),
      this.#options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
    );
    await running.exited;
    clearTimeout(grace);
  }

  async stopAll(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#replacing.values()].map((run) => run.catch(() => {})));
    await Promise.all(this.nodeIds.map((nodeId) => this.stopNode(nodeId)));
  }

  /** Sets faults on a node through its admin endpoint (`POST /admin/v1/faults`). */
  async setFaults(nodeId: string, faults: Record<string, unknown>): Promise<unknown> {
    return this.#admin(nodeId, 'POST', faults);
  }

  async clearFaults(nodeId: string): Promise<unknown> {
    return this.#admin(nodeId, 'DELETE');
  }

  async #admin(nodeId: string, method: 'POST' | 'DELETE', body?: unknown): Promise<unknown> {
    const addresses = this.#lastAddresses.get(nodeId);
    const running = this.#processes.get(nodeId);
    if (!addresses || running?.state !== 'running') {
      throw new Error(
        `node ${nodeId} is not running; start it (or wait for its replacement) first`,
      );
    }
    const response = await fetch(new URL(FAULTS_PATH, addresses.restUrl), {
      method,
      headers: {
        authorization: `Bearer ${this.#tokenOf(nodeId)}`,
        'content-type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(ADMIN_REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`node ${nodeId} refused the faults (${response.status}): ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  async #allocatePorts(): Promise<void> {
    const taken = new Set(Object.values(this.#ports).flatMap((p) => [p.tcp, p.websocket, p.rest]));
    let next = this.#options.basePort ?? 0;
    const nextFree = async (): Promise<number> => {
      if (next === 0) {
        for (;;) {
          const port = await ephemeralPort();
          if (!taken.has(port)) return port;
        }
      }
      for (; next < 65536; next++) {
        if (!taken.has(next) && (await isPortFree(next))) return next++;
      }
      throw new Error('no free port left above the base port; pick a lower --base-port');
    };
    let allocated = false;
    for (const nodeId of this.nodeIds) {
      if (this.#ports[nodeId]) continue;
      const ports = { tcp: await nextFree(), websocket: 0, rest: 0 };
      taken.add(ports.tcp);
      ports.websocket = await nextFree();
      taken.add(ports.websocket);
      ports.rest = await nextFree();
      taken.add(ports.rest);
      this.#ports[nodeId] = ports;
      allocated = true;
    }
    if (allocated) this.#options.savePorts?.({ ...this.#ports });
  }

  #tokenOf(nodeId: string): string {
    let token = this.#nodeTokens.get(nodeId);
    if (token === undefined) {
      token = randomBytes(NODE_TOKEN_BYTES).toString('base64url');
      this.#nodeTokens.set(nodeId, token);
    }
    return token;
  }

  async #start(nodeId: string): Promise<void> {
    const { config } = this.#options;
    const ports = this.#ports[nodeId];
    if (!ports) throw new Error(`no ports allocated for ${nodeId}; call startAll first`);
    const dataDir = this.dataDirOf(nodeId);
    mkdirSync(dataDir, { recursive: true });
    const logPath = join(dataDir, 'node.log');
    for (const [name, port] of Object.entries(ports) as [keyof NodePortAssignment, number][]) {
      if (!(await isPortFree(port))) {
        throw new NodeStartError(
          nodeId,
          `its ${PORT_NAMES[name]} port ${port} on ${LOOPBACK} is taken by another process (find it with: ss -ltnp 'sport = :${port}')`,
          logPath,
        );
      }
    }
    const node = config.nodes.find((candidate) => candidate.id === nodeId);
    const peers = this.nodeIds
      .filter((other) => other !== nodeId && this.#processes.get(other)?.state === 'running')
      .map((other) => this.#lastAddresses.get(other)?.tcpAddress)
      .filter((address): address is string => address !== undefined);
    const launch: NodeLaunch = {
      nodeId,
      index: this.nodeIds.indexOf(nodeId),
      dataDir,
      ports,
      clusterId: config.clusterId,
      shards: config.shards,
      adminToken: this.#tokenOf(nodeId),
      peers,
      retention: node?.resources?.retention ?? config.defaults.resources.retention,
    };
    const { file, args, env } = (this.#options.command ?? storefleetNodeCommand)(launch);
    const logFile = createWriteStream(logPath, { flags: 'a' });
    // stdin stays open while we live: a node started with --stop-with-parent stops when it closes, kill -9 of us included.
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, [NODE_ADMIN_TOKEN_ENV]: launch.adminToken },
    });
    child.stdin?.on('error', () => {
      // The node exited; its stdin pipe is gone with it.
    });
    const pidFile = join(dataDir, PID_FILE);
    if (child.pid !== undefined) writeFileSync(pidFile, String(child.pid));
    child.stderr?.pipe(logFile, { end: false });
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    const entry: NodeProcess = {
      child,
      state: 'pending',
      exited,
      addresses: undefined,
      stopping: false,
    };
    this.#processes.set(nodeId, entry);
    exited.then(() => {
      entry.state = 'stopped';
      rmSync(pidFile, { force: true });
      closeLog(logFile);
      if (!entry.stopping) {
        this.#options.log?.(
          `node ${nodeId} exited (${child.signalCode ?? `code ${child.exitCode}`})`,
        );
        for (const listener of this.#stopListeners) listener(nodeId);
      }
    });
    const ready = await this.#awaitReady(nodeId, entry, logFile, logPath);
    entry.addresses = ready;
    entry.state = 'running';
    this.#lastAddresses.set(nodeId, ready);
    this.#options.log?.(`node ${nodeId} up: ${ready.tcpAddress}`);
  }

  /**
   * Kills a node process left by an earlier supervisor that died without stopping it. Only a
   * process whose command line names this node's data folder is touched.
   */
  async #killLeftover(nodeId: string): Promise<void> {
    const dataDir = this.dataDirOf(nodeId);
    let pid: number;
    try {
      pid = Number(readFileSync(join(dataDir, PID_FILE), 'utf8'));
    } catch {
      return;
    }
    if (!Number.isInteger(pid) || pid <= 1 || !commandLineMentions(pid, dataDir)) {
      rmSync(join(dataDir, PID_FILE), { force: true });
      return;
    }
    this.#options.log?.(`stopping ${nodeId} left over from an earlier run (pid ${pid})`);
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + LEFTOVER_EXIT_WAIT_MS;
    while (commandLineMentions(pid, dataDir) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    rmSync(join(dataDir, PID_FILE), { force: true });
  }

  #awaitReady(
    nodeId: string,
    entry: NodeProcess,
    logFile: WriteStream,
    logPath: string,
  ): Promise<NodeAddresses> {
    const timeoutMs = this.#options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    return new Promise<NodeAddresses>((resolve, reject) => {
      let settled = false;
      const fail = (reason: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        entry.child.kill('SIGKILL');
        reject(new NodeStartError(nodeId, reason, logPath));
      };
      const timer = setTimeout(() => fail(`no ready line within ${timeoutMs} ms`), timeoutMs);
      const lines = createInterface({ input: entry.child.stdout as NodeJS.ReadableStream });
      lines.on('line', (line) => {
        if (!logFile.closed) logFile.write(`${line}\n`);
        if (settled) return;
        let json: unknown;
        try {
          json = JSON.parse(line);
        } catch {
          return;
        }
        const parsed = ReadyLineSchema.safeParse(json);
        if (!parsed.success) return;
        settled = true;
        clearTimeout(timer);
        const { event: _event, ...addresses } = parsed.data;
        resolve(addresses);
      });
      entry.exited.then(() =>
        fail(
          `exited (${entry.child.signalCode ?? `code ${entry.child.exitCode}`}) before it was ready`,
        ),
      );
    });
  }
}

/** Linux: whether process `pid` is alive and was started with `text` among its arguments. */
function commandLineMentions(pid: number, text: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(text);
  } catch {
    return false;
  }
}

function closeLog(logFile: WriteStream): void {
  if (!logFile.closed) logFile.end();
}
