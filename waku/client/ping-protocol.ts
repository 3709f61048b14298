// libp2p ping (/ipfs/ping/1.0.0) over the pool: 32 random bytes out, the same 32 back, the round trip timed.
import { randomBytes } from 'node:crypto';
import type { Stream } from '@libp2p/interface';
import { Uint8ArrayList } from 'uint8arraylist';
import { BadResponseError } from '../errors.ts';
import { PING_PROTOCOL } from '../protocols.ts';
import { WireFormatError } from '../wire.ts';
import { type ConnectionPool, exchangeOnStream } from './connection-pool.ts';
import { runProtocolCall } from './protocol-call.ts';

export const PING_PAYLOAD_BYTES = 32;

export interface PingResult {
  rttMs: number;
  freshDial: boolean;
  /** Time to dial, secure and multiplex the connection, when this ping dialed one. */
  dialMs?: number;
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

/**
 * Pings `address` on its cached connection, or on one of its own when `fresh`. A connection whose
 * ping failed is retired: it is not trusted for the next liveness check.
 */
export function ping(
  pool: ConnectionPool,
  address: string,
  options: { signal: AbortSignal; fresh?: boolean },
): Promise<PingResult> {
  const { signal } = options;
  const forceFresh = options.fresh === true;
  return runProtocolCall(address, 'ping', PING_PROTOCOL, signal, async () => {
    const dials = forceFresh || !pool.hasOpenConnection(address);
    return pool.withConnection(address, signal, forceFresh, async (connection) => {
      const dialMs = pool.dialDurationMs(connection);
      try {
        const rttMs = await exchangeOnStream(connection, PING_PROTOCOL, signal, async (stream) => {
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
        if (forceFresh) pool.adoptFresh(address, connection);
        return dials ? { rttMs, freshDial: true, dialMs } : { rttMs, freshDial: false };
      } catch (error) {
        pool.retire(address, connection);
        throw error;
      }
    });
  });
}
