// Keeps every Waku call inside its caller's deadline and turns whatever libp2p or fetch threw into a typed WakuError.
import {
  ConnectionLostError,
  ConnectionRefusedError,
  PeerIdMismatchError,
  ProtocolUnsupportedError,
  WakuError,
  WakuTimeoutError,
} from '../errors.ts';

/**
 * Settles with `work`, or rejects as soon as `signal` aborts, even when `work` never settles
 * (js-libp2p sometimes leaves a ping or stream hanging): racing keeps a deadline a hard bound.
 * The rejection is the signal's reason, or what `reasonToError` makes of it.
 * @example
 * const rtt = await untilAborted(dialer.ping(address, { signal }), signal);
 */
export function untilAborted<T>(
  work: Promise<T>,
  signal: AbortSignal,
  reasonToError: (reason: unknown) => unknown = (reason) => reason,
): Promise<T> {
  // A late rejection of the losing promise must not surface as an unhandled rejection.
  work.catch(() => {});
  if (signal.aborted) return Promise.reject(reasonToError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(reasonToError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Like untilAborted, but the abort rejects with a WakuTimeoutError naming `what` timed out. */
export function raceDeadline<T>(work: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  return untilAborted(work, signal, (reason) => new WakuTimeoutError(what, undefined, reason));
}

const LOST_CONNECTION_NAMES = new Set([
  'StreamResetError',
  'StreamAbortedError',
  'StreamClosedError',
  'StreamStateError',
  'ConnectionClosedError',
  'MuxerClosedError',
  'UnexpectedEOFError',
]);
const LOST_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE']);

function causes(error: unknown): unknown[] {
  const seen: unknown[] = [];
  const pending: unknown[] = [error];
  while (pending.length > 0 && seen.length < 32) {
    const next = pending.shift();
    if (next === undefined || next === null || seen.includes(next)) continue;
    seen.push(next);
    if (next instanceof AggregateError) pending.push(...next.errors);
    if (next instanceof Error && next.cause !== undefined) pending.push(next.cause);
  }
  return seen;
}

function matches(error: unknown, test: (name: string, code: unknown, message: string) => boolean) {
  return causes(error).some(
    (e) => e instanceof Error && test(e.name, (e as { code?: unknown }).code, e.message),
  );
}

/** Maps an error thrown during `what` against `address` onto the WakuError classes probes count. */
export function toWakuError(
  error: unknown,
  context: { address: string; what: string; signal: AbortSignal; protocol?: string },
): WakuError {
  if (error instanceof WakuError) return error;
  if (
    context.signal.aborted ||
    matches(error, (name) => name === 'AbortError' || name === 'TimeoutError')
  ) {
    return new WakuTimeoutError(`${context.what} against ${context.address}`, undefined, error);
  }
  // Noise throws UnexpectedPeerError when the remote key is not the one the /p2p/ part of the
  // address names; libp2p's upgrader rethrows it as EncryptionFailedError keeping only the message.
  if (
    matches(
      error,
      (name, _code, message) =>
        name === 'UnexpectedPeerError' ||
        (name === 'EncryptionFailedError' &&
          /does not match expected remote identity key/.test(message)),
    )
  ) {
    return new PeerIdMismatchError(context.address, error);
  }
  if (matches(error, (name) => name === 'UnsupportedProtocolError')) {
    return new ProtocolUnsupportedError(context.protocol ?? context.what, context.address, error);
  }
  if (
    matches(
      error,
      (_name, code, message) => code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message),
    )
  ) {
    return new ConnectionRefusedError(context.address, error);
  }
  if (
    matches(
      error,
      (name, code, message) =>
        LOST_CONNECTION_NAMES.has(name) ||
        LOST_CONNECTION_CODES.has(String(code)) ||
        /stream that is closed|stream is closed|connection (is )?closed|ECONNRESET|EPIPE/i.test(
          message,
        ),
    )
  ) {
    return new ConnectionLostError(context.address, context.what, error);
  }
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new WakuError('unknown', `${context.what} against ${context.address} failed: ${detail}`, {
    cause: error,
  });
}
