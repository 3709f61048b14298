// The libp2p client that probes, completeness checks and stress tests use: ping, metadata and store v3 against one peer address.
// The connection pool (connection-pool.ts) is apart from the protocols that run over it (ping-, metadata-, store-protocol.ts).
import { encodeMetadata } from '../wire.ts';
import {
  ConnectionPool,
  createDialingHost,
  DEFAULT_MAX_STREAMS_PER_CONNECTION,
  type LearnedPeer,
} from './connection-pool.ts';
import { queryMetadata, serveMetadata } from './metadata-protocol.ts';
import { type PingResult, ping } from './ping-protocol.ts';
import { runProtocolCall } from './protocol-call.ts';
import {
  DEFAULT_MAX_PAGES,
  DEFAULT_MAX_STORE_RESPONSE_BYTES,
  followStorePages,
  storeQuery,
} from './store-protocol.ts';
import type { StoreQuery, StoreQueryPage } from './store-types.ts';

export { DEFAULT_MAX_STREAMS_PER_CONNECTION, type LearnedPeer } from './connection-pool.ts';
export { MAX_METADATA_RESPONSE_BYTES } from './metadata-protocol.ts';
export { PING_PAYLOAD_BYTES, type PingResult } from './ping-protocol.ts';
export { DEFAULT_MAX_PAGES, DEFAULT_MAX_STORE_RESPONSE_BYTES } from './store-protocol.ts';

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

class Libp2pProbeDialer implements ProbeDialer {
  readonly #pool: ConnectionPool;
  readonly #options: ProbeDialerOptions;
  readonly #metadataMessage: Uint8Array;

  constructor(pool: ConnectionPool, options: ProbeDialerOptions, metadataMessage: Uint8Array) {
    this.#pool = pool;
    this.#options = options;
    this.#metadataMessage = metadataMessage;
  }

  get peerId(): string {
    return this.#pool.peerId;
  }

  learnPeerId(address: string, options: { signal: AbortSignal }): Promise<LearnedPeer> {
    const { signal } = options;
    return runProtocolCall(address, 'peer id lookup', undefined, signal, () =>
      this.#pool.learnPeer(address, signal),
    );
  }

  ping(address: string, options: { signal: AbortSignal; fresh?: boolean }): Promise<PingResult> {
    return ping(this.#pool, address, options);
  }

  metadata(
    address: string,
    options: { signal: AbortSignal },
  ): Promise<{ clusterId: number; shards: number[] }> {
    return queryMetadata(
      this.#pool,
      address,
      { clusterId: this.#options.clusterId, request: this.#metadataMessage },
      options.signal,
    );
  }

  storeQuery(
    address: string,
    query: StoreQuery,
    options: { signal: AbortSignal; maxResponseBytes?: number },
  ): Promise<StoreQueryPage> {
    const maxBytes =
      options.maxResponseBytes ??
      this.#options.maxResponseBytes ??
      DEFAULT_MAX_STORE_RESPONSE_BYTES;
    return storeQuery(this.#pool, address, query, { signal: options.signal, maxBytes });
  }

  storeQueryPages(
    address: string,
    query: StoreQuery,
    options: { signal: AbortSignal; maxPages?: number; maxResponseBytes?: number },
  ): AsyncIterable<StoreQueryPage> {
    return followStorePages(query, options.maxPages ?? DEFAULT_MAX_PAGES, (page) =>
      this.storeQuery(address, page, options),
    );
  }

  closeConnection(address: string): Promise<void> {
    return this.#pool.closeConnection(address);
  }

  stop(): Promise<void> {
    return this.#pool.stop();
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
  const node = await createDialingHost(options);
  const metadataMessage = encodeMetadata(options);
  await serveMetadata(node, metadataMessage);
  const pool = new ConnectionPool(
    node,
    options.maxStreamsPerConnection ?? DEFAULT_MAX_STREAMS_PER_CONNECTION,
  );
  return new Libp2pProbeDialer(pool, options, metadataMessage);
}
