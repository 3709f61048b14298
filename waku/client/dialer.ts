// The libp2p client that probes, completeness checks and stress tests use: ping, metadata and store v3 against one peer address.
import { randomBytes, randomUUID } from 'node:crypto';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import type { Connection, Libp2p, Stream } from '@libp2p/interface';
import { mplex } from '@libp2p/mplex';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { Uint8ArrayList } from 'uint8arraylist';
import { BadResponseError, ConnectionLostError, WakuError, WrongClusterError } from '../errors.ts';
import { METADATA_PROTOCOL, PING_PROTOCOL, STORE_QUERY_PROTOCOL } from '../protocols.ts';
import {
  decodeMetadata,
  encodeMetadata,
  MAX_METADATA_BYTES,
  readLengthPrefixed,
  WireFormatError,
  writeLengthPrefixed,
} from '../wire.ts';
import { raceDeadline, toWakuError } from './deadline.ts';
import { checkStorePage, decodeStoreResponse, encodeStoreQuery } from './store-codec.ts';
import type { StoreQuery, StoreQueryPage } from './store-types.ts';

/** A full store page: 100 messages of up to 150 KiB (nwaku's max message size) plus framing. */
export const DEFAULT_MAX_STORE_RESPONSE_BYTES = 16 * 1024 * 1024;
export const MAX_METADATA_RESPONSE_BYTES = MAX_METADATA_BYTES;
/** Largest metadata request this dialer answers when a node asks for ours. */
const MAX_METADATA_REQUEST_BYTES = MAX_METADATA_BYTES;
export const PING_PAYLOAD_BYTES = 32;
/**
 * Half of js-libp2p's default 32 inbound streams per protocol: streams a node has not yet seen
 * closed still count against its limit.
 */
export const DEFAULT_MAX_STREAMS_PER_CONNECTION = 16;
/** Pages storeQueryPages follows unless told otherwise. */
export const DEFAULT_MAX_PAGES = 1000;
/** Bytes a peer may send after its reply before the stream is reset. */
const TRAILING_BYTES_TOLERATED = 64 * 1024;
/** Connection close waits this long for a graceful goodbye before aborting. */
const CLOSE_GRACE_MS = 1000;
/**
 * The caller's AbortSignal is the real deadline; libp2p's own dial timeout only has to be
 * longer than any deadline a caller passes.
 */
const LIBP2P_DIAL_TIMEOUT_MS = 60_000;
/** Stress tests open many concurrent queries on one connection; libp2p's default is 64. */
const MAX_STREAMS_PER_PROTOCOL = 4096;
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

export interface ProbeDialerOptions {
  /** The fleet's cluster id: answered to nodes that ask, and required of nodes we ask. */
  clusterId: number;
  /** Shards announced in our metadata replies. */
  shards: number[];
  /**
   * Run identify on every connection. Off for probes: it roughly doubles the CPU of a fresh dial.
   * @default false
   */
  identify?: boolean;
  /**
   * Concurrent calls per connection; more wait (within their deadline) for a free slot.
   * @default DEFAULT_MAX_STREAMS_PER_CONNECTION (16)
   */
  maxStreamsPerConnection?: number;
  /**
   * Default cap on a store reply, in bytes.
   * @default DEFAULT_MAX_STORE_RESPONSE_BYTES (16 MiB)
   */
  maxResponseBytes?: number;
}

export interface PingResult {
  rttMs: number;
  freshDial: boolean;
  /** Time to dial, secure and multiplex the connection, when this ping dialed one. */
  dialMs?: number;
}

/** Who answered at an address dialled without `/p2p/`. */
export interface LearnedPeer {
  /** The remote's libp2p peer id, as proven by its noise handshake. */
  peerId: string;
  /** The dialled address with `/p2p/{peerId}`: the address other calls use for this node. */
  address: string;
}

export interface ProbeDialer {
  /**
   * Dials `address` (e.g. `/ip4/IP/tcp/PORT`, without `/p2p/`) and returns the peer id the node
   * proved in the noise handshake. The connection is kept for the returned full address, so the
   * next call to it needs no second dial. An address with `/p2p/` is checked instead
   * (PeerIdMismatchError when another key answers).
   */
  learnPeerId(address: string, options: { signal: AbortSignal }): Promise<LearnedPeer>;
  /** libp2p ping; reuses an open connection unless fresh is true. */
  ping(address: string, options: { signal: AbortSignal; fresh?: boolean }): Promise<PingResult>;
  /** Waku metadata handshake; throws WrongClusterError when the node is in another cluster. */
  metadata(
    address: string,
    options: { signal: AbortSignal },
  ): Promise<{ clusterId: number; shards: number[] }>;
  /** One store v3 page; non-200 statuses throw (429 RateLimitedError, others StoreError). */
  storeQuery(
    address: string,
    query: StoreQuery,
    options: { signal: AbortSignal; maxResponseBytes?: number },
  ): Promise<StoreQueryPage>;
  /** Follows cursors; yields pages until done or maxPages. */
  storeQueryPages(
    address: string,
    query: StoreQuery,
    options: { signal: AbortSignal; maxPages?: number; maxResponseBytes?: number },
  ): AsyncIterable<StoreQueryPage>;
  closeConnection(address: string): Promise<void>;
  stop(): Promise<void>;
  /** The dialer's own libp2p peer id (nodes see it in their peer lists). */
  readonly peerId: string;
}

function parseAddress(address: string): Multiaddr {
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
function withPeerId(address: string, peerId: string): string {
  const parsed = parseAddress(address);
  if (parsed.getComponents().some((component) => component.name === 'p2p')) {
    return parsed.toString();
  }
  return parsed.encapsulate(`/p2p/${peerId}`).toString();
}

function closeQuietly(target: Stream | Connection): void {
  target.close({ signal: AbortSignal.timeout(CLOSE_GRACE_MS) }).catch((error: unknown) => {
    target.abort(error instanceof Error ? error : new Error(String(error)));
  });
}

function isClosedStreamWrite(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'StreamStateError' &&
    /Cannot write to a stream that is (closed|closing)/.test(error.message)
  );
}

/**
 * Answers a node's metadata request with our cluster and shards, as nwaku drops peers that do not,
 * and remembers the cluster the node's request named: nwaku hangs up on a peer of another cluster
 * right after asking, so that request may be all a prober ever hears of the node's cluster.
 */
async function answerMetadata(
  stream: Stream,
  reply: Uint8Array,
  onRequest: (clusterId: number | undefined) => void,
): Promise<void> {
  const signal = AbortSignal.timeout(CLOSE_GRACE_MS * 5);
  try {
    const request = await readLengthPrefixed(stream, {
      maxBytes: MAX_METADATA_REQUEST_BYTES,
      signal,
    });
    try {
      onRequest(decodeMetadata(request).clusterId);
    } catch {
      // An undecodable request still gets our answer.
    }
    await writeLengthPrefixed(stream, reply, { signal });
    await stream.close({ signal });
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * Reads one length-prefixed reply of at most `maxBytes`. A frame cut short on a connection that
 * went down is a lost connection (crash); on a live connection it is a malformed reply.
 */
async function readReply(
  stream: Stream,
  connection: Connection,
  options: { address: string; what: string; maxBytes: number; signal: AbortSignal },
): Promise<Uint8Array> {
  try {
    const reply = await readLengthPrefixed(stream, {
      maxBytes: options.maxBytes,
      signal: options.signal,
    });
    // Nothing may follow the reply: bytes a peer keeps sending now pile up unread in the stream's
    // buffer (4 MiB by default) until libp2p resets it, so shrink that buffer to a token size.
    stream.maxReadBufferLength = TRAILING_BYTES_TOLERATED;
    return reply;
  } catch (error) {
    if (!(error instanceof WireFormatError)) throw error;
    if (connection.status !== 'open' || stream.status === 'reset') {
      throw new ConnectionLostError(options.address, options.what, error);
    }
    throw new BadResponseError(options.address, error.message, error);
  }
}

/** Reads the ping echo; stops at `byteCount` so a peer cannot make us buffer more. */
async function readEcho(
  stream: Stream,
  byteCount: number,
  signal: AbortSignal,
): Promise<Uint8Array> {
  const onAbort = (): void => stream.abort(new Error('ping deadline reached'));
  signal.addEventListener('abort', onAbort, { once: true });
  const echo = new Uint8ArrayList();
  try {
    for await (const chunk of stream) {
      echo.append(chunk);
      if (echo.byteLength >= byteCount) return echo.subarray(0, byteCount);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  signal.throwIfAborted();
  throw new WireFormatError(`ping stream ended after ${echo.byteLength} of ${byteCount} bytes`);
}

interface ConnectionLease {
  /** Calls holding or waiting for a stream slot. */
  users: number;
  /** Streams open by calls that hold a slot. */
  streams: number;
  /** Callers waiting for a slot, first come first served. */
  waiting: Array<() => void>;
}

class Libp2pProbeDialer implements ProbeDialer {
  readonly #node: Libp2p;
  readonly #options: ProbeDialerOptions;
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
  readonly #metadataMessage: Uint8Array;
  /** The cluster each connection's node named when it asked for our metadata. */
  readonly #askedClusters: WeakMap<Connection, number>;

  constructor(
    node: Libp2p,
    options: ProbeDialerOptions,
    askedClusters: WeakMap<Connection, number>,
  ) {
    this.#askedClusters = askedClusters;
    this.#node = node;
    this.#options = options;
    this.#metadataMessage = encodeMetadata(options);
    this.#maxStreamsPerConnection =
      options.maxStreamsPerConnection ?? DEFAULT_MAX_STREAMS_PER_CONNECTION;
  }

  get peerId(): string {
    return this.#node.peerId.toString();
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
  #dialFresh(address: string, signal: AbortSignal): Promise<Connection> {
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
  async #withConnection<T>(
    address: string,
    signal: AbortSignal,
    fresh: boolean,
    use: (connection: Connection) => Promise<T>,
  ): Promise<T> {
    let connection = fresh
      ? await this.#dialFresh(address, signal)
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
  #retire(address: string, connection: Connection): void {
    if (this.#connections.get(address) === connection) this.#connections.delete(address);
    if (this.#leases.get(connection) === undefined) closeQuietly(connection);
    else this.#retired.add(connection);
  }

  /**
   * Opens a stream for one exchange. It is reset on any failure, so a half-used stream never
   * keeps counting against the node's per-protocol stream limit, and closed after success.
   */
  async #exchange<T>(
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

  async #run<T>(
    address: string,
    what: string,
    protocol: string | undefined,
    signal: AbortSignal,
    work: () => Promise<T>,
  ): Promise<T> {
    const label = `${what} against ${address}`;
    try {
      try {
        return await raceDeadline(work(), signal, label);
      } catch (error) {
        // js-libp2p sometimes hands out a stream that is already closed for writing (0.5-2 % of
        // fresh probes under concurrency): a local state error, not the node's, so try once more.
        if (!isClosedStreamWrite(error) || signal.aborted) throw error;
        return await raceDeadline(work(), signal, label);
      }
    } catch (error) {
      throw toWakuError(error, { address, what, signal, ...(protocol ? { protocol } : {}) });
    }
  }

  ping(address: string, options: { signal: AbortSignal; fresh?: boolean }): Promise<PingResult> {
    const { signal } = options;
    const forceFresh = options.fresh === true;
    return this.#run(address, 'ping', PING_PROTOCOL, signal, async () => {
      const dials = forceFresh || this.#connections.get(address)?.status !== 'open';
      return this.#withConnection(address, signal, forceFresh, async (connection) => {
        const dialMs = this.#dialDurations.get(connection) ?? 0;
        try {
          const rttMs = await this.#exchange(connection, PING_PROTOCOL, signal, async (stream) => {
            const challenge = randomBytes(PING_PAYLOAD_BYTES);
            const sentAt = performance.now();
            stream.send(challenge);
            const echo = await readEcho(stream, PING_PAYLOAD_BYTES, signal);
            const elapsedMs = performance.now() - sentAt;
            if (!Buffer.from(echo).equals(challenge)) {
              throw new BadResponseError(address, 'ping echo differs from the 32 bytes sent');
            }
            return elapsedMs;
          });
          if (forceFresh) this.#adoptFresh(address, connection);
          return dials ? { rttMs, freshDial: true, dialMs } : { rttMs, freshDial: false };
        } catch (error) {
          // A connection whose ping failed is not trusted for the next liveness check.
          this.#retire(address, connection);
          throw error;
        }
      });
    });
  }

  learnPeerId(address: string, options: { signal: AbortSignal }): Promise<LearnedPeer> {
    const { signal } = options;
    return this.#run(address, 'peer id lookup', undefined, signal, async () => {
      // Fresh and serialised per address like any other fresh dial: who answers now, at this address.
      const connection = await this.#dialFresh(address, signal);
      const peerId = connection.remotePeer.toString();
      const fullAddress = withPeerId(address, peerId);
      // Probers ping this very address next; handing it the connection saves a second handshake
      // (~9 ms CPU against a secp256k1 node).
      this.#adoptFresh(fullAddress, connection);
      return { peerId, address: fullAddress };
    });
  }

  /** Keeps a fresh connection only when no other is open, so concurrent callers are not disturbed. */
  #adoptFresh(address: string, connection: Connection): void {
    const cached = this.#connections.get(address);
    if (cached === connection) return;
    if (cached?.status === 'open') this.#retire(address, connection);
    else this.#connections.set(address, connection);
  }

  metadata(
    address: string,
    options: { signal: AbortSignal },
  ): Promise<{ clusterId: number; shards: number[] }> {
    const { signal } = options;
    return this.#run(address, 'metadata', METADATA_PROTOCOL, signal, () =>
      this.#withConnection(address, signal, false, async (connection) => {
        let bytes: Uint8Array;
        try {
          bytes = await this.#exchange(connection, METADATA_PROTOCOL, signal, async (stream) => {
            await writeLengthPrefixed(stream, this.#metadataMessage, { signal });
            return readReply(stream, connection, {
              address,
              what: 'metadata',
              maxBytes: MAX_METADATA_RESPONSE_BYTES,
              signal,
            });
          });
        } catch (error) {
          // The node told us its cluster when it asked for ours, then hung up on us (nwaku does).
          const asked = this.#askedClusters.get(connection);
          if (asked !== undefined && asked !== this.#options.clusterId) {
            throw new WrongClusterError(this.#options.clusterId, asked, address);
          }
          throw error;
        }
        let reply: ReturnType<typeof decodeMetadata>;
        try {
          reply = decodeMetadata(bytes);
        } catch (error) {
          throw new BadResponseError(
            address,
            'metadata reply is not a WakuMetadata protobuf',
            error,
          );
        }
        if (reply.clusterId !== this.#options.clusterId) {
          throw new WrongClusterError(this.#options.clusterId, reply.clusterId, address);
        }
        return { clusterId: reply.clusterId, shards: reply.shards };
      }),
    );
  }

  storeQuery(
    address: string,
    query: StoreQuery,
    options: { signal: AbortSignal; maxResponseBytes?: number },
  ): Promise<StoreQueryPage> {
    const { signal } = options;
    const maxBytes =
      options.maxResponseBytes ??
      this.#options.maxResponseBytes ??
      DEFAULT_MAX_STORE_RESPONSE_BYTES;
    const requestId = query.requestId ?? randomUUID();
    // Encoding errors (bad hex) are the caller's mistake: thrown before any I/O.
    const request = encodeStoreQuery(query, requestId);
    return this.#run(address, 'store query', STORE_QUERY_PROTOCOL, signal, () =>
      this.#withConnection(address, signal, false, async (connection) => {
        let page: StoreQueryPage;
        try {
          page = await this.#exchange(connection, STORE_QUERY_PROTOCOL, signal, async (stream) => {
            await writeLengthPrefixed(stream, request, { signal });
            const bytes = await readReply(stream, connection, {
              address,
              what: 'store query',
              maxBytes,
              signal,
            });
            return decodeStoreResponse(bytes, address);
          });
        } catch (error) {
          // A peer that floods or garbles replies gets no second stream on this connection.
          if (error instanceof BadResponseError) this.#retire(address, connection);
          throw error;
        }
        return checkStorePage(page, requestId, address);
      }),
    );
  }

  async *storeQueryPages(
    address: string,
    query: StoreQuery,
    options: { signal: AbortSignal; maxPages?: number; maxResponseBytes?: number },
  ): AsyncIterable<StoreQueryPage> {
    const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    let cursor = query.cursor;
    for (let pageIndex = 0; pageIndex < maxPages; pageIndex++) {
      const { requestId: _firstRequestId, ...rest } = query;
      const page = await this.storeQuery(
        address,
        {
          ...rest,
          ...(pageIndex === 0 && query.requestId !== undefined
            ? { requestId: query.requestId }
            : {}),
          ...(cursor === undefined ? {} : { cursor }),
        },
        options,
      );
      yield page;
      if (page.cursor === undefined || page.cursor === cursor) return;
      cursor = page.cursor;
    }
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
 * Starts a libp2p host that dials Waku nodes over TCP or websockets (noise; yamux or mplex) and
 * answers their metadata requests with the fleet's cluster.
 *
 * @example
 * const dialer = await createProbeDialer({ clusterId: 16, shards: [32] });
 * const { rttMs } = await dialer.ping(address, { signal: AbortSignal.timeout(4000) });
 * await dialer.stop();
 */
export async function createProbeDialer(options: ProbeDialerOptions): Promise<ProbeDialer> {
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
  const metadataReply = encodeMetadata(options);
  const askedClusters = new WeakMap<Connection, number>();
  await node.handle(
    METADATA_PROTOCOL,
    (stream, connection) =>
      answerMetadata(stream, metadataReply, (clusterId) => {
        if (clusterId !== undefined) askedClusters.set(connection, clusterId);
      }),
    { maxInboundStreams: MAX_STREAMS_PER_PROTOCOL, runOnLimitedConnection: true },
  );
  return new Libp2pProbeDialer(node as unknown as Libp2p, options, askedClusters);
}
