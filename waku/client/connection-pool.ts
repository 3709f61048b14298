// The connection pool under the probe dialer: dialling, one cached connection per address, fresh dials, stream slots and retirement.
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import type { Connection, Libp2p, Stream } from '@libp2p/interface';
import { mplex } from '@libp2p/mplex';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { WakuError } from '../errors.ts';
import { raceDeadline } from './deadline.ts';

/**
 * Half of js-libp2p's default 32 inbound streams per protocol: streams a node has not yet seen
 * closed still count against its limit.
 */
export const DEFAULT_MAX_STREAMS_PER_CONNECTION = 16;
/** Connection and stream close waits this long for a graceful goodbye before aborting. */
export const CLOSE_GRACE_MS = 1000;
/** Stress tests open many concurrent queries on one connection; libp2p's default is 64. */
export const MAX_STREAMS_PER_PROTOCOL = 4096;
/**
 * The caller's AbortSignal is the real deadline; libp2p's own dial timeout only has to be
 * longer than any deadline a caller passes.
 */
const LIBP2P_DIAL_TIMEOUT_MS = 60_000;
/**
 * libp2p's default inbound limit (5 connections/s per host) and pending-connection caps throttle
 * loopback fleets, where every node shares 127.0.0.1.
 */
const CONNECTION_LIMITS = {
  inboundConnectionThreshold: 100_000,
  maxIncomingPendingConnections: 10_000,
  maxParallelDials: 1000,
  maxConnections: 100_000,
  maxDialQueueLength: 100_000,
  dialTimeout: LIBP2P_DIAL_TIMEOUT_MS,
} as const;

/** Who answered at an address dialled without `/p2p/`. */
export interface LearnedPeer {
  /** The remote's libp2p peer id, as proven by its noise handshake. */
  peerId: string;
  /** The dialled address with `/p2p/{peerId}`: the address other calls use for this node. */
  address: string;
}

export function parseAddress(address: string): Multiaddr {
  try {
    return multiaddr(address);
  } catch (error) {
    throw new WakuError(
      'unknown',
      `"${address}" is not a multiaddr (expected e.g. /ip4/127.0.0.1/tcp/60000/p2p/16Uiu2...)`,
      {
        cause: error,
      },
    );
  }
}

/** `address` with `/p2p/{peerId}` appended, unless it already names a peer. */
export function withPeerId(address: string, peerId: string): string {
  const parsed = parseAddress(address);
  if (parsed.getComponents().some((component) => component.name === 'p2p')) {
    return parsed.toString();
  }
  return parsed.encapsulate(`/p2p/${peerId}`).toString();
}

export function closeQuietly(target: Stream | Connection): void {
  target.close({ signal: AbortSignal.timeout(CLOSE_GRACE_MS) }).catch((error: unknown) => {
    target.abort(error instanceof Error ? error : new Error(String(error)));
  });
}

/**
 * A libp2p host that dials Waku nodes over TCP or websockets (noise; yamux or mplex), with
 * connection limits fit for loopback fleets. Identify only when asked: it roughly doubles the CPU
 * of a fresh dial.
 */
export async function createDialingHost(options: { identify?: boolean }): Promise<Libp2p> {
  // Typed as identify-or-nothing; libp2p's ServiceFactoryMap cannot express an optional entry.
  const services = (options.identify === true ? { identify: identify() } : {}) as {
    identify: ReturnType<typeof identify>;
  };
  const node = await createLibp2p({
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    // nim-libp2p prefers yamux; js-waku and older nwaku only speak mplex.
    streamMuxers: [yamux(), mplex()],
    connectionManager: CONNECTION_LIMITS,
    services,
  });
  return node as unknown as Libp2p;
}

interface ConnectionLease {
  /** Calls holding or waiting for a stream slot. */
  users: number;
  /** Streams open by calls that hold a slot. */
  streams: number;
  /** Callers waiting for a slot, first come first served. */
  waiting: Array<() => void>;
}

/**
 * Connections by address for the protocol calls: a cached one shared by concurrent callers, or a
 * fresh one of the caller's own; at most `maxStreamsPerConnection` calls on one at a time.
 */
export class ConnectionPool {
  readonly #node: Libp2p;
  readonly #connections = new Map<string, Connection>();
  readonly #pendingDials = new Map<string, Promise<Connection>>();
  /** The last fresh dial queued per address; the next one starts when it settles. */
  readonly #freshDials = new Map<string, Promise<void>>();
  /** How long each connection took to dial, secure and multiplex. */
  readonly #dialDurations = new WeakMap<Connection, number>();
  /** Calls holding or waiting for a stream slot, per connection. */
  readonly #leases = new Map<Connection, ConnectionLease>();
  readonly #maxStreamsPerConnection: number;
  /** Connections no longer handed out, to close when their last call ends. */
  readonly #retired = new Set<Connection>();

  constructor(node: Libp2p, maxStreamsPerConnection = DEFAULT_MAX_STREAMS_PER_CONNECTION) {
    this.#node = node;
    this.#maxStreamsPerConnection = maxStreamsPerConnection;
  }

  get peerId(): string {
    return this.#node.peerId.toString();
  }

  /** Whether a call to `address` now would find an open cached connection (no dial). */
  hasOpenConnection(address: string): boolean {
    return this.#connections.get(address)?.status === 'open';
  }

  /** How long `connection` took to dial, secure and multiplex. */
  dialDurationMs(connection: Connection): number {
    return this.#dialDurations.get(connection) ?? 0;
  }

  /**
   * Always a new connection: libp2p would otherwise hand back any connection to the same peer,
   * and a probe of a node's websocket address must not ride on its TCP connection.
   */
  async #dial(address: string, signal: AbortSignal): Promise<Connection> {
    const startedAt = performance.now();
    const connection = await this.#node.dial(parseAddress(address), { signal, force: true });
    this.#dialDurations.set(connection, performance.now() - startedAt);
    return connection;
  }

  /**
   * A new connection of its own. libp2p joins concurrent dials to one peer (even with `force`),
   * which would hand every concurrent fresh caller the same connection; dialing one after the
   * other gives each its own, as each new client has.
   */
  dialFresh(address: string, signal: AbortSignal): Promise<Connection> {
    const previous = this.#freshDials.get(address) ?? Promise.resolve();
    const dialed = previous.then(() => {
      signal.throwIfAborted();
      return this.#dial(address, signal);
    });
    const settled = dialed.then(
      () => {},
      () => {},
    );
    this.#freshDials.set(address, settled);
    void settled.then(() => {
      if (this.#freshDials.get(address) === settled) this.#freshDials.delete(address);
    });
    return dialed;
  }

  /**
   * Dials `address` fresh and returns who proved its key in the noise handshake; the connection
   * is kept for the full address (with `/p2p/`), which the next call uses.
   */
  async learnPeer(address: string, signal: AbortSignal): Promise<LearnedPeer> {
    // Fresh and serialised per address like any other fresh dial: who answers now, at this address.
    const connection = await this.dialFresh(address, signal);
    const peerId = connection.remotePeer.toString();
    const fullAddress = withPeerId(address, peerId);
    // Probers ping this very address next; handing it the connection saves a second handshake
    // (~9 ms CPU against a secp256k1 node).
    this.adoptFresh(fullAddress, connection);
    return { peerId, address: fullAddress };
  }

  /** The cached connection for `address`, dialing one (shared by concurrent callers) when none is open. */
  async #connectionFor(address: string, signal: AbortSignal): Promise<Connection> {
    const cached = this.#connections.get(address);
    if (cached?.status === 'open') return cached;
    this.#connections.delete(address);
    let pending = this.#pendingDials.get(address);
    if (pending === undefined) {
      // The shared dial must not be cancelled by the first caller's deadline alone.
      pending = this.#dial(address, AbortSignal.timeout(LIBP2P_DIAL_TIMEOUT_MS))
        .then((connection) => {
          this.#connections.set(address, connection);
          return connection;
        })
        .finally(() => this.#pendingDials.delete(address));
      this.#pendingDials.set(address, pending);
    }
    return raceDeadline(pending, signal, `dial ${address}`);
  }

  /**
   * Runs `use` on a connection leased for the call, so that retiring a connection (after a failed
   * ping, say) never cuts a concurrent caller's stream: it closes when its last user is done.
   */
  async withConnection<T>(
    address: string,
    signal: AbortSignal,
    fresh: boolean,
    use: (connection: Connection) => Promise<T>,
  ): Promise<T> {
    let connection = fresh
      ? await this.dialFresh(address, signal)
      : await this.#connectionFor(address, signal);
    // Another call may have retired it between the cache lookup and this lease.
    if (!fresh && connection.status !== 'open')
      connection = await this.#connectionFor(address, signal);
    let lease = this.#leases.get(connection);
    if (lease === undefined) {
      lease = { users: 0, streams: 0, waiting: [] };
      this.#leases.set(connection, lease);
    }
    lease.users += 1;
    try {
      await this.#takeStreamSlot(lease, signal);
      try {
        return await use(connection);
      } finally {
        const next = lease.waiting.shift();
        if (next !== undefined) next();
        else lease.streams -= 1;
      }
    } finally {
      lease.users -= 1;
      if (lease.users === 0) {
        this.#leases.delete(connection);
        if (this.#retired.delete(connection)) closeQuietly(connection);
      }
    }
  }

  /**
   * Waits for one of the connection's stream slots. Nodes reset streams beyond a per-protocol
   * limit (js-libp2p: 32 inbound per protocol and connection), which would read as a lost
   * connection; queueing here keeps concurrent callers under it. A slot freed by a caller is
   * handed straight to the next waiter.
   */
  #takeStreamSlot(lease: ConnectionLease, signal: AbortSignal): Promise<void> {
    if (lease.streams < this.#maxStreamsPerConnection) {
      lease.streams += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = lease.waiting.indexOf(grant);
        if (index !== -1) lease.waiting.splice(index, 1);
        reject(signal.reason);
      };
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      lease.waiting.push(grant);
    });
  }

  /** Stops handing `connection` out; it closes once no call uses it. */
  retire(address: string, connection: Connection): void {
    if (this.#connections.get(address) === connection) this.#connections.delete(address);
    if (this.#leases.get(connection) === undefined) closeQuietly(connection);
    else this.#retired.add(connection);
  }

  /** Keeps a fresh connection only when no other is open, so concurrent callers are not disturbed. */
  adoptFresh(address: string, connection: Connection): void {
    const cached = this.#connections.get(address);
    if (cached === connection) return;
    if (cached?.status === 'open') this.retire(address, connection);
    else this.#connections.set(address, connection);
  }

  async closeConnection(address: string): Promise<void> {
    const cached = this.#connections.get(address);
    this.#connections.delete(address);
    if (cached !== undefined) this.#retired.delete(cached);
    const signal = AbortSignal.timeout(CLOSE_GRACE_MS);
    try {
      if (cached !== undefined) await cached.close({ signal });
      else await this.#node.hangUp(parseAddress(address), { signal });
    } catch (error) {
      cached?.abort(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async stop(): Promise<void> {
    this.#connections.clear();
    await raceDeadline(
      Promise.resolve(this.#node.stop()),
      AbortSignal.timeout(CLOSE_GRACE_MS * 5),
      'dialer stop',
    ).catch(() => {});
  }
}

/**
 * Opens a stream for one exchange. It is reset on any failure, so a half-used stream never
 * keeps counting against the node's per-protocol stream limit, and closed after success.
 */
export async function exchangeOnStream<T>(
  connection: Connection,
  protocol: string,
  signal: AbortSignal,
  exchange: (stream: Stream) => Promise<T>,
): Promise<T> {
  const stream = await connection.newStream(protocol, {
    signal,
    maxOutboundStreams: MAX_STREAMS_PER_PROTOCOL,
    runOnLimitedConnection: true,
  });
  try {
    const result = await exchange(stream);
    closeQuietly(stream);
    return result;
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
}
