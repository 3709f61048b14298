// libp2p stream handlers of the store node: ping, metadata and store-query v3, each gated by the fault controller.
import type { Connection, Stream } from '@libp2p/interface';
import {
  decodeMetadata,
  decodeStoreQueryRequest,
  encodeMetadata,
  encodeStoreQueryResponse,
  MAX_METADATA_BYTES,
  MAX_STORE_REQUEST_BYTES,
  readLengthPrefixed,
  type StoreQueryResponse,
  WireFormatError,
  writeLengthPrefixed,
} from '../wire.ts';
import type { MessageArchive } from './archive.ts';
import type { FaultController } from './faults.ts';
import { answerStoreQueryWithFaults, badRequest } from './store-query.ts';

/** How long a peer may take to send its request once the stream is open. */
export const REQUEST_READ_TIMEOUT_MS = 10_000;
/** How long writing a reply and closing the stream may take before the stream is aborted. */
export const REPLY_WRITE_TIMEOUT_MS = 10_000;
export const PING_PAYLOAD_BYTES = 32;
/** A ping stream is reused for many rounds; this bounds one stream's lifetime work. */
export const MAX_PINGS_PER_STREAM = 1_000;

export interface HandlerContext {
  faults: FaultController;
  log: (message: string) => void;
}

async function finish(stream: Stream): Promise<void> {
  try {
    await stream.close({ signal: AbortSignal.timeout(REPLY_WRITE_TIMEOUT_MS) });
  } catch {
    stream.abort(new Error('closing the stream timed out'));
  }
}

/** Echoes each 32-byte ping, like `/ipfs/ping/1.0.0`, after any injected stall or latency. */
export function pingHandler(context: HandlerContext) {
  return async (stream: Stream): Promise<void> => {
    let pending = new Uint8Array(0);
    let answered = 0;
    try {
      for await (const chunk of stream) {
        const bytes = chunk instanceof Uint8Array ? chunk : chunk.subarray();
        const joined = new Uint8Array(pending.byteLength + bytes.byteLength);
        joined.set(pending);
        joined.set(bytes, pending.byteLength);
        pending = joined;
        while (pending.byteLength >= PING_PAYLOAD_BYTES) {
          const ping = pending.slice(0, PING_PAYLOAD_BYTES);
          pending = pending.slice(PING_PAYLOAD_BYTES);
          await context.faults.beforeAnswer();
          if (context.faults.stopped) {
            stream.abort(new Error('node stopping'));
            return;
          }
          if (!stream.send(ping))
            await stream.onDrain({ signal: AbortSignal.timeout(REPLY_WRITE_TIMEOUT_MS) });
          answered += 1;
          if (answered >= MAX_PINGS_PER_STREAM) {
            await finish(stream);
            return;
          }
        }
      }
      await finish(stream);
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)));
    }
  };
}

export interface MetadataHandlerOptions extends HandlerContext {
  clusterId: number;
  shards: readonly number[];
}

/**
 * Answers with our cluster and shards. Like nwaku, a peer that says it is in another cluster is
 * disconnected, after it has had our answer so it can tell why.
 */
export function metadataHandler(options: MetadataHandlerOptions) {
  return async (stream: Stream, connection: Connection): Promise<void> => {
    try {
      const request = decodeMetadata(
        await readLengthPrefixed(stream, {
          maxBytes: MAX_METADATA_BYTES,
          signal: AbortSignal.timeout(REQUEST_READ_TIMEOUT_MS),
        }),
      );
      await options.faults.beforeAnswer();
      if (options.faults.stopped) return stream.abort(new Error('node stopping'));
      await writeLengthPrefixed(
        stream,
        encodeMetadata({ clusterId: options.clusterId, shards: options.shards }),
        { signal: AbortSignal.timeout(REPLY_WRITE_TIMEOUT_MS) },
      );
      await finish(stream);
      if (request.clusterId !== undefined && request.clusterId !== options.clusterId) {
        options.log(
          `closing connection to ${connection.remotePeer}: cluster ${request.clusterId} is not ours (${options.clusterId})`,
        );
        await connection.close().catch(() => connection.abort(new Error('wrong cluster')));
      }
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)));
    }
  };
}

export interface StoreHandlerOptions extends HandlerContext {
  archive: MessageArchive;
}

/**
 * Answers store v3 queries and any injected store errors in the reply's status code. A request
 * that is not a protobuf gets a 400 reply; one above the size cap gets the stream reset.
 */
export function storeQueryHandler(options: StoreHandlerOptions) {
  return async (stream: Stream): Promise<void> => {
    let frame: Uint8Array;
    try {
      frame = await readLengthPrefixed(stream, {
        maxBytes: MAX_STORE_REQUEST_BYTES,
        signal: AbortSignal.timeout(REQUEST_READ_TIMEOUT_MS),
      });
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    let response: StoreQueryResponse;
    try {
      const request = decodeStoreQueryRequest(frame);
      await options.faults.beforeAnswer();
      if (options.faults.stopped) return stream.abort(new Error('node stopping'));
      response = answerStoreQueryWithFaults(options.archive, options.faults, request, options.log);
    } catch (error) {
      if (!(error instanceof WireFormatError)) {
        stream.abort(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      response = badRequest(`decoding rpc failed: ${error.message}`);
    }
    try {
      await writeLengthPrefixed(stream, encodeStoreQueryResponse(response), {
        signal: AbortSignal.timeout(REPLY_WRITE_TIMEOUT_MS),
      });
      await finish(stream);
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)));
    }
  };
}
