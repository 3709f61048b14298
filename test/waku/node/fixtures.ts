// Test fixtures for the local store node: temp data dirs, nodes on ephemeral ports, and a bare libp2p client speaking raw frames.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Stream } from '@libp2p/interface';
import { mplex } from '@libp2p/mplex';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import {
  type StoreNodeHandle,
  type StoreNodeOptions,
  startStoreNode,
} from '../../../waku/node/store-node.ts';
import { STORE_QUERY_PROTOCOL } from '../../../waku/protocols.ts';
import {
  decodeStoreQueryResponse,
  encodeStoreQueryRequest,
  MAX_STORE_RESPONSE_BYTES,
  readLengthPrefixed,
  type StoreQueryRequest,
  type StoreQueryResponse,
  writeLengthPrefixed,
} from '../../../waku/wire.ts';

export const CLUSTER_ID = 16;
export const SHARDS = [1, 32];
export const TEST_TIMEOUT_MS = 5_000;

export function makeTempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `storefleet-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function startTestNode(
  overrides: Partial<StoreNodeOptions> = {},
): Promise<StoreNodeHandle & { dataDir: string; removeDataDir: () => void }> {
  const dir = overrides.dataDir === undefined ? makeTempDir('node') : undefined;
  const dataDir = overrides.dataDir ?? (dir?.path as string);
  const node = await startStoreNode({
    dataDir,
    clusterId: CLUSTER_ID,
    shards: SHARDS,
    adminToken: 'test-admin-token',
    log: () => {},
    // Tests archive history at fixed past times; nwaku's 20 s drift rule is tested on its own.
    maxTimestampDriftMs: Number.POSITIVE_INFINITY,
    ...overrides,
  });
  return { ...node, dataDir, removeDataDir: () => dir?.remove() };
}

/** A libp2p peer with no Waku services: it only dials and speaks raw frames, as a prober would. */
export async function startRawClient(): Promise<Libp2p> {
  return createLibp2p({
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(), mplex()],
    connectionManager: { inboundConnectionThreshold: 10_000 },
  });
}

export async function openStream(
  client: Libp2p,
  address: string,
  protocol: string,
): Promise<Stream> {
  return client.dialProtocol(multiaddr(address), protocol, {
    signal: AbortSignal.timeout(TEST_TIMEOUT_MS),
  });
}

export async function storeQuery(
  client: Libp2p,
  address: string,
  request: Partial<StoreQueryRequest>,
): Promise<StoreQueryResponse> {
  const signal = AbortSignal.timeout(TEST_TIMEOUT_MS);
  const stream = await openStream(client, address, STORE_QUERY_PROTOCOL);
  await writeLengthPrefixed(stream, encodeStoreQueryRequest({ requestId: 'test', ...request }), {
    signal,
  });
  const reply = decodeStoreQueryResponse(
    await readLengthPrefixed(stream, { maxBytes: MAX_STORE_RESPONSE_BYTES, signal }),
  );
  await stream.close({ signal }).catch(() => {});
  return reply;
}

export const NS_PER_MS = 1_000_000n;

/** Races `promise` against a deadline, clearing the timer either way so the test process can exit. */
export async function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
