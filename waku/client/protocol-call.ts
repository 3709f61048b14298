// What every protocol call shares: its deadline, one retry on js-libp2p's closed-stream race, typed errors, bounded replies.
import type { Connection, Stream } from '@libp2p/interface';
import { BadResponseError, ConnectionLostError } from '../errors.ts';
import { readLengthPrefixed, WireFormatError } from '../wire.ts';
import { raceDeadline, toWakuError } from './deadline.ts';

/** Bytes a peer may send after its reply before the stream is reset. */
const TRAILING_BYTES_TOLERATED = 64 * 1024;

function isClosedStreamWrite(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'StreamStateError' &&
    /Cannot write to a stream that is (closed|closing)/.test(error.message)
  );
}

/** Runs one call against `address` within `signal`, and turns whatever it throws into a WakuError. */
export async function runProtocolCall<T>(
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

/**
 * Reads one length-prefixed reply of at most `maxBytes`. A frame cut short on a connection that
 * went down is a lost connection (crash); on a live connection it is a malformed reply.
 */
export async function readReply(
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
