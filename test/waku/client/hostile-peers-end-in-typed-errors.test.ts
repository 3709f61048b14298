// Hostile peers (floods over the byte cap, stalls, garbage, wrong cluster) end in typed errors, within the deadline and bounded memory.
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createProbeDialer, type ProbeDialer } from '../../../waku/client/dialer.ts';
import { restStoreQuery } from '../../../waku/client/rest.ts';
import {
  BadResponseError,
  ConnectionRefusedError,
  ProtocolUnsupportedError,
  WakuTimeoutError,
  WrongClusterError,
} from '../../../waku/errors.ts';
import { encodeMetadata, writeLengthPrefixed } from '../../../waku/wire.ts';
import { echo, flood, garbage, type HostilePeer, stall, startHostilePeer } from './hostile-peer.ts';
import { type LoopbackServer, startRawHttp } from './loopback-http.ts';

const CLUSTER_ID = 16;
const DEADLINE_MS = 400;
/**
 * For calls that must fail fast with a type other than timeout: floods move up to a megabyte
 * through noise, and a first call dials; a deadline a loaded machine keeps.
 */
const GENEROUS_DEADLINE_MS = 3000;
/** Timer and event-loop slack allowed past a deadline on a loaded 2-core machine. */
const MARGIN_MS = 300;
const OFFERED_BYTES = 50 * 1024 * 1024;
const CAP_BYTES = 1024 * 1024;
/** Growth allowed while a peer offers 50 MB against a 1 MiB cap: the cap plus transport buffers. */
const MAX_MEMORY_GROWTH_BYTES = 16 * 1024 * 1024;
/** Yamux window, socket buffers and the flooder's own send queue between the two ends. */
const MAX_IN_FLIGHT_BYTES = 4 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Live memory: garbage (encrypted frames already handled) is collected first so only what is retained counts. */
function memoryInUse(): number {
  collectGarbage();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

async function assertTypedWithinDeadline<T>(
  call: (signal: AbortSignal) => Promise<T>,
  errorClass: new (...args: never[]) => Error,
  deadlineMs = DEADLINE_MS,
): Promise<number> {
  const startedAt = performance.now();
  await assert.rejects(call(AbortSignal.timeout(deadlineMs)), errorClass);
  const elapsedMs = performance.now() - startedAt;
  assert.ok(elapsedMs <= deadlineMs + MARGIN_MS, `took ${elapsedMs} ms`);
  return elapsedMs;
}

describe('hostile libp2p peers end in typed errors', () => {
  let dialer: ProbeDialer;
  const peers: HostilePeer[] = [];
  const floodCounter = { sent: 0 };
  const underCapCounter = { sent: 0 };
  let flooding: HostilePeer;
  let floodingUnderCap: HostilePeer;
  let stalling: HostilePeer;
  let garbled: HostilePeer;
  let otherCluster: HostilePeer;

  beforeAll(async () => {
    dialer = await createProbeDialer({ clusterId: CLUSTER_ID, shards: [32] });
    flooding = await startHostilePeer({
      store: flood(OFFERED_BYTES, { announcedBytes: OFFERED_BYTES, counter: floodCounter }),
      counter: floodCounter,
    });
    // Announces a frame just under the cap, then keeps sending: the reader must stop at the frame.
    floodingUnderCap = await startHostilePeer({
      store: flood(OFFERED_BYTES, { announcedBytes: CAP_BYTES - 1024, counter: underCapCounter }),
      counter: underCapCounter,
    });
    stalling = await startHostilePeer({ store: stall, metadata: stall, ping: stall });
    // Length prefix 4, then a field tag with wire type 7 (invalid) and junk.
    garbled = await startHostilePeer({
      store: garbage(Uint8Array.from([4, 0xff, 0xff, 0xff, 0xff])),
      ping: echo,
    });
    otherCluster = await startHostilePeer({
      metadata: (stream) => {
        stream.addEventListener(
          'message',
          () => {
            void writeLengthPrefixed(stream, encodeMetadata({ clusterId: 1, shards: [0] }));
          },
          { once: true },
        );
      },
    });
    peers.push(flooding, floodingUnderCap, stalling, garbled, otherCluster);
  });

  afterAll(async () => {
    await dialer.stop();
    await Promise.all(peers.map((peer) => peer.stop()));
  });

  it('stops reading a store reply announced over the byte cap, with memory bounded', async () => {
    // Prepare
    const before = memoryInUse();

    // Act
    const elapsedMs = await assertTypedWithinDeadline(
      (signal) =>
        dialer.storeQuery(
          flooding.tcpAddress,
          { includeData: true },
          { signal, maxResponseBytes: CAP_BYTES },
        ),
      BadResponseError,
      GENEROUS_DEADLINE_MS,
    );

    // Assess
    const growth = memoryInUse() - before;
    assert.ok(growth < MAX_MEMORY_GROWTH_BYTES, `memory grew by ${growth} bytes`);
    assert.ok(elapsedMs < GENEROUS_DEADLINE_MS);
    assert.ok(
      flooding.bytesSent() < CAP_BYTES + MAX_IN_FLIGHT_BYTES,
      `the peer got ${flooding.bytesSent()} bytes out`,
    );
  });

  it('stops reading at the announced frame when a peer keeps sending past it', async () => {
    // Prepare
    const before = memoryInUse();

    // Act
    await assertTypedWithinDeadline(
      (signal) =>
        dialer.storeQuery(
          floodingUnderCap.tcpAddress,
          { includeData: true },
          {
            signal,
            maxResponseBytes: CAP_BYTES,
          },
        ),
      BadResponseError,
      GENEROUS_DEADLINE_MS,
    );

    // Assess: the 0x0a filler decodes as a protobuf whose request id is not ours.
    const growth = memoryInUse() - before;
    assert.ok(growth < MAX_MEMORY_GROWTH_BYTES, `memory grew by ${growth} bytes`);
    // The flood is paced by what the client consumes: it stopped near the cap, not at 50 MB.
    assert.ok(
      floodingUnderCap.bytesSent() < CAP_BYTES + MAX_IN_FLIGHT_BYTES,
      `the peer got ${floodingUnderCap.bytesSent()} bytes out`,
    );
  });

  it('times out a stalled store stream, ping and metadata within the deadline', async () => {
    await assertTypedWithinDeadline(
      (signal) => dialer.storeQuery(stalling.tcpAddress, { includeData: true }, { signal }),
      WakuTimeoutError,
    );
    await assertTypedWithinDeadline(
      (signal) => dialer.ping(stalling.tcpAddress, { signal }),
      WakuTimeoutError,
    );
    await assertTypedWithinDeadline(
      (signal) => dialer.metadata(stalling.websocketAddress, { signal }),
      WakuTimeoutError,
    );
  });

  it('types garbage protobuf as a bad response and keeps pinging the peer', async () => {
    await assertTypedWithinDeadline(
      (signal) => dialer.storeQuery(garbled.tcpAddress, { includeData: true }, { signal }),
      BadResponseError,
      GENEROUS_DEADLINE_MS,
    );
    const { rttMs } = await dialer.ping(garbled.tcpAddress, { signal: AbortSignal.timeout(2000) });
    assert.ok(rttMs >= 0);
  });

  it('types a node of another cluster as WrongClusterError', async () => {
    await assert.rejects(
      dialer.metadata(otherCluster.tcpAddress, { signal: AbortSignal.timeout(2000) }),
      (error: unknown) =>
        error instanceof WrongClusterError &&
        error.actualClusterId === 1 &&
        error.expectedClusterId === CLUSTER_ID,
    );
  });

  it('types a peer without the store protocol as protocol unsupported', async () => {
    await assert.rejects(
      dialer.storeQuery(
        otherCluster.tcpAddress,
        { includeData: false },
        {
          signal: AbortSignal.timeout(2000),
        },
      ),
      ProtocolUnsupportedError,
    );
  });

  it('types a closed port as refused', async () => {
    const peerId = otherCluster.tcpAddress.split('/p2p/')[1];
    await assert.rejects(
      dialer.ping(`/ip4/127.0.0.1/tcp/1/p2p/${peerId}`, { signal: AbortSignal.timeout(2000) }),
      ConnectionRefusedError,
    );
  });
});

describe('hostile REST servers end in typed errors', () => {
  let server: LoopbackServer;
  let bytesWritten = 0;

  beforeAll(async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    server = await startRawHttp((request, response) => {
      if (request.url?.startsWith('/stalled')) return;
      // Chunked, no content-length: only the running count can stop the client.
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"requestId":"');
      const pump = (): void => {
        while (bytesWritten < OFFERED_BYTES && !response.destroyed) {
          bytesWritten += chunk.byteLength;
          if (!response.write(chunk)) {
            response.once('drain', pump);
            return;
          }
        }
        response.end('"}');
      };
      pump();
    });
  });

  afterAll(async () => {
    await server.close();
  });

  it('stops downloading a body over the byte cap, with memory bounded', async () => {
    // Prepare
    const before = memoryInUse();

    // Act
    await assertTypedWithinDeadline(
      (signal) =>
        restStoreQuery(server.url, { includeData: true }, { signal, maxResponseBytes: CAP_BYTES }),
      BadResponseError,
      GENEROUS_DEADLINE_MS,
    );

    // Assess
    const growth = memoryInUse() - before;
    assert.ok(growth < MAX_MEMORY_GROWTH_BYTES, `memory grew by ${growth} bytes`);
    assert.ok(bytesWritten < OFFERED_BYTES, `server wrote all ${bytesWritten} bytes`);
  });

  it('keeps the deadline when the server never answers', async () => {
    await assertTypedWithinDeadline(
      (signal) => restStoreQuery(`${server.url}/stalled`, { includeData: true }, { signal }),
      WakuTimeoutError,
    );
  });
});
