// A local Waku store node (stand-in for nwaku): libp2p host with relay, store v3, metadata and ping, a SQLite archive and nwaku's REST subset.
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { serve } from '@hono/node-server';
import { type GossipSub, gossipsub, type Message, TopicValidatorResult } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { type Connection, KEEP_ALIVE, type PeerId, type PrivateKey } from '@libp2p/interface';
import { mplex } from '@libp2p/mplex';
import { peerIdFromString } from '@libp2p/peer-id';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import { bytesToHex0x, computeMessageHash } from '../message-hash.ts';
import {
  METADATA_PROTOCOL,
  PING_PROTOCOL,
  pubsubTopic,
  RELAY_PROTOCOL,
  STORE_QUERY_PROTOCOL,
  STORE_STATUS,
} from '../protocols.ts';
import type { HealthReport } from '../rest-schemas.ts';
import {
  decodeMetadata,
  decodeStoreQueryResponse,
  decodeWakuMessage,
  encodeMetadata,
  encodeStoreQueryRequest,
  encodeWakuMessage,
  MAX_METADATA_BYTES,
  MAX_STORE_RESPONSE_BYTES,
  readLengthPrefixed,
  type StoreQueryRequest,
  type StoreQueryResponse,
  type WakuMessage,
  writeLengthPrefixed,
} from '../wire.ts';
import { MessageArchive } from './archive.ts';
import { autoshard } from './autosharding.ts';
import { encodeEnr, WAKU2_CAPABILITY } from './enr.ts';
import { FaultController } from './faults.ts';
import { loadOrCreateNodeKey } from './node-key.ts';
import { metadataHandler, pingHandler, storeQueryHandler } from './protocol-handlers.ts';
import { buildRestApi, PublishRejectedError, type PublishRequest } from './rest-api.ts';
import { answerStoreQueryWithFaults } from './store-query.ts';

export { FaultController, type FaultSettings } from './faults.ts';

export const ARCHIVE_FILE = 'archive.sqlite';
/** nwaku's default maximum relayed message size. */
export const MAX_RELAY_MESSAGE_BYTES = 150 * 1024;
export const DIAL_TIMEOUT_MS = 10_000;
/** Bounds how long `connect` waits for the peer's relay subscriptions to arrive. */
export const RELAY_SUBSCRIPTION_TIMEOUT_MS = 10_000;
export const REMOTE_STORE_QUERY_TIMEOUT_MS = 30_000;
/** Loopback fleets and probers open many connections a second; js-libp2p's default of 5 would refuse them. */
export const INBOUND_CONNECTIONS_PER_SECOND = 10_000;
export const MAX_CONNECTIONS = 500;
/** Concurrent store queries one connection may have open. */
export const MAX_STORE_STREAMS_PER_CONNECTION = 64;
/** Streams a client may open on a new connection before the upgrade completes. */
export const MAX_EARLY_STREAMS = 64;
/** New mplex streams a connection may open per second before it is cut. */
export const MPLEX_NEW_STREAMS_PER_SECOND = 1_000;
const NS_PER_MS = 1_000_000n;
const RELAYED_MEMORY = 10_000;
/** How often static peers that are not connected are dialled again. */
export const STATIC_PEER_REDIAL_MS = 1_000;
/** nwaku's MaxMessageTimestampVariance: a message further than this from the node's clock is not archived. */
export const MAX_TIMESTAMP_DRIFT_MS = 20_000;
/** How long the metadata request to a new peer may take. */
export const PEER_METADATA_TIMEOUT_MS = 5_000;

/** The gossip message id of relayed data: sha256 of the data alone, as nwaku, go-waku and js-waku compute it. */
export function relayMessageId(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

export interface StoreNodeOptions {
  /** Node key file and SQLite archive live here. */
  dataDir: string;
  clusterId: number;
  shards: number[];
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 or undefined = ephemeral. */
  tcpPort?: number;
  websocketPort?: number;
  restPort?: number;
  /** Required for the fault injection endpoints; without it they answer 403. */
  adminToken?: string;
  retention?: { maxMessages?: number; maxAgeMs?: number };
  /**
   * Messages whose timestamp is further than this from the node's clock (timestamp 0 included) are
   * relayed but not archived, as nwaku does. Tests that archive history from the past raise it.
   * @default MAX_TIMESTAMP_DRIFT_MS (20 s)
   */
  maxTimestampDriftMs?: number;
  /**
   * Mount the store protocol. Off for a boot node: it relays and answers ping and metadata only,
   * as the `boot-*` nodes of Status fleets do.
   * @default true
   */
  store?: boolean;
  /** Multiaddrs (with /p2p/) to stay connected to for relay. */
  peers?: string[];
  /** Milliseconds since the epoch; injected in tests. @default Date.now */
  clock?: () => number;
  /** Seed of the fault controller's random choices. @default 1 */
  seed?: number;
  /** What a crash fault does; @default stops the node abruptly (the CLI exits the process instead). */
  onCrash?: () => void;
  /** @default writes to stderr */
  log?: (line: string) => void;
}

export interface PublishMessage {
  contentTopic: string;
  payload: Uint8Array;
  timestampNs?: bigint;
  meta?: Uint8Array;
  /** @default the shard autosharding picks for the content topic */
  pubsubTopic?: string;
}

export interface StoreNodeHandle {
  /** 16Uiu2... (secp256k1) */
  peerId: string;
  /** Full multiaddr including /p2p/. */
  tcpAddress: string;
  websocketAddress: string;
  /** http://127.0.0.1:PORT */
  restUrl: string;
  enr?: string;
  /** Publishes on relay and archives locally; resolves to the 0x message hash. */
  publish(message: PublishMessage): Promise<string>;
  /** Dials a peer and waits until it has announced a relay subscription on one of our shards. */
  connect(multiaddr: string): Promise<void>;
  /** Resolves once the peer has announced a relay subscription on one of our shards. */
  waitForRelayPeer(peerId: string, timeoutMs?: number): Promise<void>;
  /** Resolves once the message with this 0x hash is in the archive (rejects after `timeoutMs`). */
  waitForMessage(hash: string, timeoutMs?: number): Promise<void>;
  /** Resolves once relay delivered this 0x hash to the node, archived or deliberately dropped by a fault. */
  waitForRelayed(hash: string, timeoutMs?: number): Promise<void>;
  /** Number of archived messages. */
  archivedCount(): number;
  faults: FaultController;
  stop(): Promise<void>;
}

export class RelayPeerTimeoutError extends Error {
  constructor(peer: string, timeoutMs: number) {
    super(
      `${peer} announced no relay subscription on our shards within ${timeoutMs} ms (does it share a shard and speak ${RELAY_PROTOCOL}?)`,
    );
    this.name = 'RelayPeerTimeoutError';
  }
}

function defaultLog(line: string): void {
  process.stderr.write(`${new Date().toISOString()} store-node ${line}\n`);
}

function waitForEvent<T>(
  register: (resolve: (value: T) => void) => () => void,
  timeoutMs: number,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let unregister = (): void => {};
    const timer = setTimeout(() => {
      unregister();
      reject(onTimeout());
    }, timeoutMs);
    unregister = register((value) => {
      clearTimeout(timer);
      unregister();
      resolve(value);
    });
  });
}

/**
 * Starts a store node and resolves once every listener is up.
 *
 * @example
 * const node = await startStoreNode({ dataDir: '/tmp/node-1', clusterId: 16, shards: [1, 32] });
 * const hash = await node.publish({ contentTopic: '/app/1/chat/proto', payload: new Uint8Array([1]) });
 * await node.stop();
 */
export async function startStoreNode(options: StoreNodeOptions): Promise<StoreNodeHandle> {
  const clock = options.clock ?? Date.now;
  const log = options.log ?? defaultLog;
  const host = options.host ?? '127.0.0.1';
  const { clusterId, shards } = options;
  if (shards.length === 0) throw new RangeError('a store node needs at least one shard');
  const topics = shards.map((shard) => pubsubTopic(clusterId, shard));

  const privateKey = loadOrCreateNodeKey(options.dataDir);
  const archive = MessageArchive.open(
    join(options.dataDir, ARCHIVE_FILE),
    options.retention ?? {},
    clock,
  );
  let crash = (): void => {};
  const faults = new FaultController({
    seed: options.seed ?? 1,
    onCrash: () => crash(),
  });
  const archivedListeners = new Set<(hash: string) => void>();
  const relayedListeners = new Set<(hash: string) => void>();
  const relayedRecently = new Set<string>();

  const storeMounted = options.store ?? true;
  const maxDriftNs =
    BigInt(Math.trunc(Math.min(options.maxTimestampDriftMs ?? MAX_TIMESTAMP_DRIFT_MS, 1e15))) *
    NS_PER_MS;
  const withinDrift = (timestampNs: bigint): boolean => {
    const nowNs = BigInt(Math.trunc(clock())) * NS_PER_MS;
    return timestampNs >= nowNs - maxDriftNs && timestampNs <= nowNs + maxDriftNs;
  };

  const archiveMessage = (topic: string, message: WakuMessage): string => {
    const hash = computeMessageHash(topic, message);
    const hashHex = bytesToHex0x(hash);
    if (!storeMounted || message.ephemeral === true) return hashHex;
    if (!withinDrift(message.timestamp ?? 0n)) {
      log(`not archiving ${hashHex}: its timestamp is more than ${maxDriftNs / NS_PER_MS} ms off`);
      return hashHex;
    }
    if (faults.dropFromArchive()) return hashHex;
    if (
      archive.insert({
        hash,
        pubsubTopic: topic,
        contentTopic: message.contentTopic,
        timestampNs: message.timestamp ?? 0n,
        payload: message.payload,
        version: message.version ?? 0,
        meta: message.meta !== undefined && message.meta.byteLength > 0 ? message.meta : undefined,
      })
    ) {
      for (const listener of archivedListeners) listener(hashHex);
    }
    return hashHex;
  };

  let libp2p: Libp2p<{ relay: GossipSub }>;
  try {
    libp2p = await createLibp2p({
      start: false,
      privateKey,
      addresses: {
        listen: [
          `/ip4/${host}/tcp/${options.tcpPort ?? 0}`,
          `/ip4/${host}/tcp/${options.websocketPort ?? 0}/ws`,
        ],
      },
      transports: [tcp(), webSockets()],
      connectionEncrypters: [noise()],
      // nim-libp2p prefers yamux; js-waku browsers still dial with mplex. mplex 12 counts every
      // inbound stream against `disconnectThreshold` (not only those over the stream limit, as
      // documented), so its default of 5 a second drops any client that queries a little faster.
      // Both muxers reset the whole connection when a client opens more than `maxEarlyStreams`
      // (default 10) streams before the upgrade has finished, as a prober's first burst does.
      streamMuxers: [
        yamux({ maxEarlyStreams: MAX_EARLY_STREAMS }),
        mplex({
          disconnectThreshold: MPLEX_NEW_STREAMS_PER_SECOND,
          maxEarlyStreams: MAX_EARLY_STREAMS,
        } as Parameters<typeof mplex>[0]),
      ],
      connectionManager: {
        maxConnections: MAX_CONNECTIONS,
        inboundConnectionThreshold: INBOUND_CONNECTIONS_PER_SECOND,
        maxIncomingPendingConnections: MAX_CONNECTIONS,
      },
      services: {
        identify: identify(),
        relay: gossipsub({
          globalSignaturePolicy: 'StrictNoSign',
          allowPublishToZeroTopicPeers: true,
          ignoreDuplicatePublishError: true,
          fallbackToFloodsub: false,
          emitSelf: false,
          allowedTopics: topics,
          maxInboundDataLength: MAX_RELAY_MESSAGE_BYTES,
          msgIdFn: (message: Message) => relayMessageId(message.data),
        }),
      },
    });
  } catch (error) {
    archive.close();
    throw error;
  }
  const relay = libp2p.services.relay;
  // gossipsub 17 ignores its `protocols` option; Waku relay is gossipsub spoken under its own id.
  relay.protocols.splice(0, relay.protocols.length, RELAY_PROTOCOL);

  const handlerContext = { faults, log };
  await libp2p.handle(PING_PROTOCOL, pingHandler(handlerContext));
  await libp2p.handle(METADATA_PROTOCOL, metadataHandler({ ...handlerContext, clusterId, shards }));
  if (storeMounted) {
    await libp2p.handle(STORE_QUERY_PROTOCOL, storeQueryHandler({ ...handlerContext, archive }), {
      maxInboundStreams: MAX_STORE_STREAMS_PER_CONNECTION,
    });
  }
  // Like nwaku's peer manager: ask every new peer for its metadata and drop it when it is in another cluster.
  libp2p.addEventListener('connection:open', (event) => {
    void checkPeerCluster(event.detail, { clusterId, shards, log });
  });

  for (const topic of topics) {
    relay.topicValidators.set(topic, (_peer, message) => {
      try {
        const decoded = decodeWakuMessage(message.data);
        return decoded.contentTopic.length > 0
          ? TopicValidatorResult.Accept
          : TopicValidatorResult.Reject;
      } catch {
        return TopicValidatorResult.Reject;
      }
    });
  }
  relay.addEventListener('message', (event) => {
    const { topic, data } = event.detail;
    if (!topics.includes(topic)) return;
    try {
      const hash = archiveMessage(topic, decodeWakuMessage(data));
      relayedRecently.add(hash);
      // Only tests wait on this; a bounded memory of recent hashes is enough for them.
      if (relayedRecently.size > RELAYED_MEMORY) {
        relayedRecently.delete(relayedRecently.values().next().value as string);
      }
      for (const listener of relayedListeners) listener(hash);
    } catch (error) {
      log(
        `dropping relayed message on ${topic}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  });

  try {
    await libp2p.start();
  } catch (error) {
    archive.close();
    await Promise.resolve(libp2p.stop()).catch(() => {});
    throw new Error(
      `libp2p could not listen on ${host} (tcp ${options.tcpPort ?? 'any'}, ws ${options.websocketPort ?? 'any'}): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  for (const topic of topics) relay.subscribe(topic);

  const peerId = libp2p.peerId.toString();
  const listenAddresses = libp2p.getMultiaddrs().map((address) => address.toString());
  const websocketAddress = listenAddresses.find((address) => /\/wss?\//.test(address));
  const tcpAddress = listenAddresses.find((address) => !/\/wss?\//.test(address));
  if (tcpAddress === undefined || websocketAddress === undefined) {
    await libp2p.stop();
    archive.close();
    throw new Error(`listeners did not come up (got ${listenAddresses.join(', ') || 'none'})`);
  }

  const enr = buildEnr(
    privateKey,
    { tcpAddress, websocketAddress, clusterId, shards, store: storeMounted },
    clock,
    log,
  );

  let stopping = false;
  const queryLocal = (request: StoreQueryRequest): StoreQueryResponse =>
    storeMounted
      ? answerStoreQueryWithFaults(archive, faults, request, log)
      : {
          requestId: '',
          statusCode: STORE_STATUS.serviceUnavailable,
          statusDesc: 'store protocol is not mounted',
          messages: [],
        };

  const queryRemote = async (
    peerAddr: string,
    request: StoreQueryRequest,
  ): Promise<StoreQueryResponse> => {
    const signal = AbortSignal.timeout(REMOTE_STORE_QUERY_TIMEOUT_MS);
    const stream = await libp2p.dialProtocol(multiaddr(peerAddr), STORE_QUERY_PROTOCOL, { signal });
    try {
      await writeLengthPrefixed(stream, encodeStoreQueryRequest(request), { signal });
      const reply = decodeStoreQueryResponse(
        await readLengthPrefixed(stream, { maxBytes: MAX_STORE_RESPONSE_BYTES, signal }),
      );
      await stream.close({ signal }).catch(() => stream.abort(new Error('close failed')));
      return reply;
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  };

  const publish = async (request: PublishRequest): Promise<string> => {
    const topic =
      request.pubsubTopic ?? pubsubTopic(clusterId, autoshard(request.contentTopic, shards));
    if (!topics.includes(topic)) {
      throw new PublishRejectedError(
        `pubsubTopic: "${topic}" is not relayed by this node (it relays ${topics.join(', ')})`,
      );
    }
    if (request.contentTopic.length === 0) throw new PublishRejectedError('contentTopic: empty');
    const message: WakuMessage = {
      payload: request.payload,
      contentTopic: request.contentTopic,
      version: request.version ?? 0,
      timestamp: request.timestampNs ?? BigInt(Math.trunc(clock())) * NS_PER_MS,
      ...(request.meta === undefined ? {} : { meta: request.meta }),
      ...(request.ephemeral ? { ephemeral: true } : {}),
    };
    const encoded = encodeWakuMessage(message);
    if (encoded.byteLength > MAX_RELAY_MESSAGE_BYTES) {
      throw new PublishRejectedError(
        `payload: message is ${encoded.byteLength} bytes, above relay's ${MAX_RELAY_MESSAGE_BYTES}`,
      );
    }
    const hash = archiveMessage(topic, message);
    await relay.publish(topic, encoded);
    return hash;
  };

  const health = (): HealthReport => {
    const status = stopping ? 'SHUTTING_DOWN' : 'READY';
    return {
      nodeHealth: status,
      protocolsHealth: [
        { Relay: status },
        { Store: storeMounted ? status : 'NOT_MOUNTED' },
        { Lightpush: 'NOT_MOUNTED' },
        { Filter: 'NOT_MOUNTED' },
      ],
    };
  };

  const app = buildRestApi({
    faults,
    adminToken: options.adminToken,
    health,
    info: () => ({ listenAddresses, enrUri: enr }),
    queryLocal,
    queryRemote,
    publish,
    crash: () => crash(),
  });
  const server = serve({ fetch: app.fetch, port: options.restPort ?? 0, hostname: host });
  await new Promise<void>((resolve, reject) => {
    if (server.listening) return resolve();
    server.once('listening', resolve);
    server.once('error', reject);
  }).catch(async (error: unknown) => {
    await libp2p.stop();
    archive.close();
    throw error;
  });
  const restPort = (server.address() as AddressInfo).port;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      clearInterval(staticPeerTimer);
      faults.shutdown();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      if ('closeAllConnections' in server) server.closeAllConnections();
      await closed;
      await libp2p.stop();
      archive.close();
    })();
    return stopped;
  };
  crash =
    options.onCrash ??
    (() => {
      log('crash fault: stopping now');
      void stop();
    });

  // A peer is reachable over relay once it is subscribed to one of our topics and gossipsub has
  // its own outbound stream to it: publishing before that stream exists silently skips the peer.
  const outboundStreams = (relay as unknown as { streamsOutbound?: ReadonlyMap<string, unknown> })
    .streamsOutbound;
  const isRelayPeer = (remote: PeerId): boolean =>
    topics.some((topic) => relay.getSubscribers(topic).some((peer) => peer.equals(remote))) &&
    (outboundStreams === undefined || outboundStreams.has(remote.toString()));
  const waitForRelayPeer = (
    remote: PeerId,
    timeoutMs = RELAY_SUBSCRIPTION_TIMEOUT_MS,
  ): Promise<void> => {
    if (isRelayPeer(remote)) return Promise.resolve();
    return waitForEvent<void>(
      (resolve) => {
        const listener = (): void => {
          if (isRelayPeer(remote)) resolve();
        };
        // The outbound stream has no event of its own; the next heartbeat (1 s) re-checks.
        relay.addEventListener('subscription-change', listener);
        relay.addEventListener('gossipsub:heartbeat', listener);
        return () => {
          relay.removeEventListener('subscription-change', listener);
          relay.removeEventListener('gossipsub:heartbeat', listener);
        };
      },
      timeoutMs,
      () => new RelayPeerTimeoutError(remote.toString(), timeoutMs),
    );
  };

  const connect = async (address: string): Promise<void> => {
    const target = multiaddr(address);
    const connection = await libp2p.dial(target, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) });
    await waitForRelayPeer(connection.remotePeer);
  };

  // Static peers, as nwaku keeps them: redialled whenever they are not connected, so a fleet whose
  // nodes start in any order, or restart, meshes without outside help.
  const staticPeers: { target: Multiaddr; peerId: PeerId }[] = [];
  for (const peer of options.peers ?? []) {
    const target = multiaddr(peer);
    const remotePeerId = target.getComponents().find((c) => c.name === 'p2p')?.value;
    if (remotePeerId === undefined) {
      log(`ignoring peer ${peer}: it has no /p2p/ component`);
      continue;
    }
    staticPeers.push({ target, peerId: peerIdFromString(remotePeerId) });
  }
  const dialing = new Set<string>();
  // Logged once per outage, not once per redial.
  const unreachable = new Set<string>();
  const dialStaticPeers = (): void => {
    for (const { target, peerId: remote } of staticPeers) {
      const key = remote.toString();
      if (stopping || dialing.has(key) || libp2p.getConnections(remote).length > 0) continue;
      dialing.add(key);
      libp2p
        .dial(target, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
        .then(
          () => {
            if (unreachable.delete(key)) log(`peer ${target} reachable again`);
          },
          (error: unknown) => {
            if (unreachable.has(key) || stopping) return;
            unreachable.add(key);
            log(
              `peer ${target} not reachable, redialling every ${STATIC_PEER_REDIAL_MS} ms: ${error instanceof Error ? error.message : String(error)}`,
            );
          },
        )
        .finally(() => dialing.delete(key));
    }
  };
  for (const { target, peerId: remote } of staticPeers) {
    await libp2p.peerStore.merge(remote, {
      multiaddrs: [target],
      tags: { [KEEP_ALIVE]: { value: 1 } },
    });
  }
  dialStaticPeers();
  const staticPeerTimer =
    staticPeers.length > 0 ? setInterval(dialStaticPeers, STATIC_PEER_REDIAL_MS) : undefined;
  staticPeerTimer?.unref();

  const waitForMessage = (
    hash: string,
    timeoutMs = RELAY_SUBSCRIPTION_TIMEOUT_MS,
  ): Promise<void> => {
    const wanted = hash.toLowerCase();
    const bytes = Buffer.from(wanted.replace(/^0x/, ''), 'hex');
    if (archive.positionOf(new Uint8Array(bytes)) !== undefined) return Promise.resolve();
    return waitForEvent<void>(
      (resolve) => {
        const listener = (archived: string): void => {
          if (archived === wanted) resolve();
        };
        archivedListeners.add(listener);
        return () => archivedListeners.delete(listener);
      },
      timeoutMs,
      () => new Error(`message ${hash} was not archived within ${timeoutMs} ms`),
    );
  };

  const waitForRelayed = (
    hash: string,
    timeoutMs = RELAY_SUBSCRIPTION_TIMEOUT_MS,
  ): Promise<void> => {
    const wanted = hash.toLowerCase();
    if (relayedRecently.has(wanted)) return Promise.resolve();
    return waitForEvent<void>(
      (resolve) => {
        const listener = (relayed: string): void => {
          if (relayed === wanted) resolve();
        };
        relayedListeners.add(listener);
        return () => relayedListeners.delete(listener);
      },
      timeoutMs,
      () => new Error(`message ${hash} was not relayed to this node within ${timeoutMs} ms`),
    );
  };

  log(`started ${peerId} tcp=${tcpAddress} ws=${websocketAddress} rest=http://${host}:${restPort}`);
  return {
    peerId,
    tcpAddress,
    websocketAddress,
    restUrl: `http://${host}:${restPort}`,
    ...(enr === undefined ? {} : { enr }),
    publish: (message) =>
      publish({
        contentTopic: message.contentTopic,
        payload: message.payload,
        timestampNs: message.timestampNs,
        meta: message.meta,
        pubsubTopic: message.pubsubTopic,
      }),
    connect,
    waitForRelayPeer: (remote, timeoutMs) => waitForRelayPeer(peerIdFromString(remote), timeoutMs),
    waitForMessage,
    waitForRelayed,
    archivedCount: () => archive.count,
    faults,
    stop,
  };
}

/** The ENR nwaku would announce for these listeners; undefined (logged) where one cannot be built. */
function buildEnr(
  privateKey: PrivateKey,
  node: {
    tcpAddress: string;
    websocketAddress: string;
    clusterId: number;
    shards: readonly number[];
    store: boolean;
  },
  clock: () => number,
  log: (line: string) => void,
): string | undefined {
  const { tcpAddress, websocketAddress, clusterId, shards } = node;
  const tcp = multiaddr(tcpAddress).getComponents();
  const ip4 = tcp.find((component) => component.name === 'ip4')?.value;
  const port = tcp.find((component) => component.name === 'tcp')?.value;
  if (ip4 === undefined || port === undefined) {
    log(`no ENR: ${tcpAddress} is not an IPv4 TCP address`);
    return undefined;
  }
  try {
    return encodeEnr(privateKey, {
      // A clock-based sequence keeps increasing across restarts, so peers take the newest record.
      seq: BigInt(Math.trunc(clock())),
      ip4,
      tcpPort: Number(port),
      multiaddrs: [websocketAddress.replace(/\/p2p\/[^/]+$/, '')],
      clusterId,
      shards,
      capabilities: node.store
        ? WAKU2_CAPABILITY.relay | WAKU2_CAPABILITY.store
        : WAKU2_CAPABILITY.relay,
    });
  } catch (error) {
    log(`no ENR: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

/**
 * Asks a newly connected peer for its metadata and closes the connection when it names another
 * cluster. A peer that cannot answer (no metadata protocol, as a bare libp2p client) is kept.
 */
async function checkPeerCluster(
  connection: Connection,
  own: { clusterId: number; shards: readonly number[]; log: (line: string) => void },
): Promise<void> {
  const signal = AbortSignal.timeout(PEER_METADATA_TIMEOUT_MS);
  let reply: ReturnType<typeof decodeMetadata>;
  try {
    const stream = await connection.newStream(METADATA_PROTOCOL, {
      signal,
      runOnLimitedConnection: true,
    });
    try {
      await writeLengthPrefixed(stream, encodeMetadata(own), { signal });
      reply = decodeMetadata(
        await readLengthPrefixed(stream, { maxBytes: MAX_METADATA_BYTES, signal }),
      );
      await stream.close({ signal }).catch(() => stream.abort(new Error('close failed')));
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)));
      return;
    }
  } catch {
    return;
  }
  if (reply.clusterId === own.clusterId) return;
  own.log(
    `closing connection to ${connection.remotePeer}: its metadata names cluster ${reply.clusterId ?? '(none)'}, ours is ${own.clusterId}`,
  );
  await connection.close().catch(() => connection.abort(new Error('wrong cluster')));
}
