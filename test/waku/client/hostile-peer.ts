// A libp2p host on loopback whose store, metadata and ping handlers misbehave on purpose.
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { Libp2p, Stream } from '@libp2p/interface';
import { mplex } from '@libp2p/mplex';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { createLibp2p } from 'libp2p';
import { METADATA_PROTOCOL, PING_PROTOCOL, STORE_QUERY_PROTOCOL } from '../../../waku/protocols.ts';

/** Bytes a flooding handler lets queue up in its own send buffer. */
const FLOOD_HIGH_WATER_BYTES = 256 * 1024;

export type StreamBehaviour = (stream: Stream) => void | Promise<void>;

export interface HostilePeer {
  tcpAddress: string;
  websocketAddress: string;
  /** Bytes the store handler managed to hand to its transport (flood tests). */
  bytesSent(): number;
  stop(): Promise<void>;
}

/** Never answers; keeps the stream open until the peer is stopped. */
export const stall: StreamBehaviour = () => {};

/** Writes a length prefix and bytes that are not a protobuf message. */
export function garbage(bytes: Uint8Array): StreamBehaviour {
  return (stream) => {
    stream.addEventListener(
      'message',
      () => {
        stream.send(bytes);
      },
      { once: true },
    );
  };
}

/** Echoes ping payloads, as @libp2p/ping does. */
export const echo: StreamBehaviour = (stream) => {
  stream.addEventListener('message', (event) => {
    if (stream.writeStatus === 'writable') stream.send(event.data);
  });
};

/** Answers the first message with a length prefix announcing `announcedBytes`, then streams `totalBytes`. */
export function flood(
  totalBytes: number,
  options: { announcedBytes: number; counter: { sent: number } },
): StreamBehaviour {
  return (stream) => {
    stream.addEventListener(
      'message',
      async () => {
        const prefix: number[] = [];
        let value = options.announcedBytes;
        while (value >= 0x80) {
          prefix.push((value & 0x7f) | 0x80);
          value = Math.floor(value / 128);
        }
        prefix.push(value);
        stream.send(Uint8Array.from(prefix));
        // 0x0a = field 1, length-delimited: keeps the bytes plausibly protobuf-shaped.
        const chunk = new Uint8Array(64 * 1024).fill(0x0a);
        while (options.counter.sent < totalBytes && stream.writeStatus === 'writable') {
          options.counter.sent += chunk.byteLength;
          stream.send(chunk);
          // send() queues without bound; wait for the queue to drain so the flood is paced by
          // the reader (as a remote peer's would be by TCP), not buffered in this process.
          if (stream.writeBufferLength > FLOOD_HIGH_WATER_BYTES) {
            await new Promise<void>((resolve) => {
              stream.addEventListener('idle', () => resolve(), { once: true });
              stream.addEventListener('close', () => resolve(), { once: true });
            });
          }
        }
      },
      { once: true },
    );
  };
}

export async function startHostilePeer(handlers: {
  store?: StreamBehaviour;
  metadata?: StreamBehaviour;
  ping?: StreamBehaviour;
  counter?: { sent: number };
}): Promise<HostilePeer> {
  const node: Libp2p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux(), mplex()],
    connectionManager: {
      inboundConnectionThreshold: 100_000,
      maxIncomingPendingConnections: 10_000,
    },
  });
  const options = { maxInboundStreams: 1024, runOnLimitedConnection: true };
  if (handlers.store) await node.handle(STORE_QUERY_PROTOCOL, handlers.store, options);
  if (handlers.metadata) await node.handle(METADATA_PROTOCOL, handlers.metadata, options);
  if (handlers.ping) await node.handle(PING_PROTOCOL, handlers.ping, options);
  const addresses = node.getMultiaddrs().map((address) => address.toString());
  const tcpAddress = addresses.find((address) => !address.includes('/ws'));
  const websocketAddress = addresses.find((address) => address.includes('/ws'));
  if (tcpAddress === undefined || websocketAddress === undefined) {
    throw new Error(`hostile peer did not listen on tcp and ws: ${addresses.join(', ')}`);
  }
  return {
    tcpAddress,
    websocketAddress,
    bytesSent: () => handlers.counter?.sent ?? 0,
    stop: async () => {
      await node.stop();
    },
  };
}
