// Waku metadata (/vac/waku/metadata/1.0.0) over the pool: asking a node its cluster, and answering a node that asks ours.
import type { Libp2p, Stream } from '@libp2p/interface';
import { BadResponseError, WrongClusterError } from '../errors.ts';
import { METADATA_PROTOCOL } from '../protocols.ts';
import {
  decodeMetadata,
  MAX_METADATA_BYTES,
  readLengthPrefixed,
  writeLengthPrefixed,
} from '../wire.ts';
import {
  CLOSE_GRACE_MS,
  type ConnectionPool,
  exchangeOnStream,
  MAX_STREAMS_PER_PROTOCOL,
} from './connection-pool.ts';
import { readReply, runProtocolCall } from './protocol-call.ts';

export const MAX_METADATA_RESPONSE_BYTES = MAX_METADATA_BYTES;
/** Largest metadata request this dialer answers when a node asks for ours. */
const MAX_METADATA_REQUEST_BYTES = MAX_METADATA_BYTES;

/** Answers a node's metadata request with our cluster and shards, as nwaku drops peers that do not. */
async function answerMetadata(stream: Stream, reply: Uint8Array): Promise<void> {
  const signal = AbortSignal.timeout(CLOSE_GRACE_MS * 5);
  try {
    await readLengthPrefixed(stream, { maxBytes: MAX_METADATA_REQUEST_BYTES, signal });
    await writeLengthPrefixed(stream, reply, { signal });
    await stream.close({ signal });
  } catch (error) {
    stream.abort(error instanceof Error ? error : new Error(String(error)));
  }
}

/** Makes `node` answer metadata requests with `reply` (our encoded cluster and shards). */
export async function serveMetadata(node: Libp2p, reply: Uint8Array): Promise<void> {
  await node.handle(METADATA_PROTOCOL, (stream) => answerMetadata(stream, reply), {
    maxInboundStreams: MAX_STREAMS_PER_PROTOCOL,
    runOnLimitedConnection: true,
  });
}

/**
 * Sends our metadata (`request`) and reads the node's; throws WrongClusterError when the node is
 * in another cluster than `clusterId`.
 */
export function queryMetadata(
  pool: ConnectionPool,
  address: string,
  own: { clusterId: number; request: Uint8Array },
  signal: AbortSignal,
): Promise<{ clusterId: number; shards: number[] }> {
  return runProtocolCall(address, 'metadata', METADATA_PROTOCOL, signal, () =>
    pool.withConnection(address, signal, false, async (connection) => {
      const bytes = await exchangeOnStream(
        connection,
        METADATA_PROTOCOL,
        signal,
        async (stream) => {
          await writeLengthPrefixed(stream, own.request, { signal });
          return readReply(stream, connection, {
            address,
            what: 'metadata',
            maxBytes: MAX_METADATA_RESPONSE_BYTES,
            signal,
          });
        },
      );
      let reply: ReturnType<typeof decodeMetadata>;
      try {
        reply = decodeMetadata(bytes);
      } catch (error) {
        throw new BadResponseError(address, 'metadata reply is not a WakuMetadata protobuf', error);
      }
      if (reply.clusterId !== own.clusterId) {
        throw new WrongClusterError(own.clusterId, reply.clusterId, address);
      }
      return { clusterId: reply.clusterId, shards: reply.shards };
    }),
  );
}
