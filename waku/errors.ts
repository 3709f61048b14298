// Typed failures of Waku calls; each maps to one ProbeErrorClass so that probes never parse messages.
import type { ProbeErrorClass } from '../fleet/observations.ts';

export class WakuError extends Error {
  readonly errorClass: ProbeErrorClass;
  /** Store status code or HTTP status, when the peer answered with one. */
  readonly statusCode: number | undefined;
  constructor(
    errorClass: ProbeErrorClass,
    message: string,
    options?: { statusCode?: number; cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WakuError';
    this.errorClass = errorClass;
    this.statusCode = options?.statusCode;
  }
}

export class WakuTimeoutError extends WakuError {
  constructor(what: string, timeoutMs: number | undefined, cause?: unknown) {
    super(
      'timeout',
      `${what} did not complete${timeoutMs === undefined ? ' before its deadline' : ` within ${timeoutMs} ms`}`,
      { cause },
    );
    this.name = 'WakuTimeoutError';
  }
}

export class ConnectionRefusedError extends WakuError {
  constructor(address: string, cause?: unknown) {
    super('refused', `${address} refused the connection (is the node running and the port open?)`, {
      cause,
    });
    this.name = 'ConnectionRefusedError';
  }
}

export class ProtocolUnsupportedError extends WakuError {
  constructor(protocol: string, address: string, cause?: unknown) {
    super('protocol_unsupported', `${address} does not speak ${protocol}`, { cause });
    this.name = 'ProtocolUnsupportedError';
  }
}

export class WrongClusterError extends WakuError {
  readonly expectedClusterId: number;
  readonly actualClusterId: number | undefined;
  constructor(expected: number, actual: number | undefined, address: string) {
    super(
      'wrong_cluster',
      `${address} is in cluster ${actual ?? '(none)'}, expected cluster ${expected}`,
    );
    this.name = 'WrongClusterError';
    this.expectedClusterId = expected;
    this.actualClusterId = actual;
  }
}

export class RateLimitedError extends WakuError {
  constructor(address: string, statusCode = 429) {
    super(
      'rate_limited',
      `${address} answered ${statusCode}: too many requests; back off before retrying`,
      { statusCode },
    );
    this.name = 'RateLimitedError';
  }
}

export class BadResponseError extends WakuError {
  constructor(address: string, reason: string, cause?: unknown) {
    super('bad_response', `${address} sent a malformed reply: ${reason}`, { cause });
    this.name = 'BadResponseError';
  }
}

export class StoreError extends WakuError {
  constructor(address: string, statusCode: number, statusDesc: string) {
    super(
      'store_error',
      `${address} store query failed with ${statusCode}${statusDesc ? ` (${statusDesc})` : ''}`,
      { statusCode },
    );
    this.name = 'StoreError';
  }
}

export class UnhealthyError extends WakuError {
  constructor(address: string, nodeHealth: string, statusCode?: number) {
    super(
      'unhealthy',
      `${address} reports nodeHealth ${nodeHealth}`,
      statusCode === undefined ? undefined : { statusCode },
    );
    this.name = 'UnhealthyError';
  }
}

/** Classifies anything thrown by a Waku call; non-Waku errors become `unknown` unless they look like a refusal or abort. */
export function classifyError(error: unknown): ProbeErrorClass {
  if (error instanceof WakuError) return error.errorClass;
  if (error instanceof Error) {
    if (error.name === 'AbortError' || error.name === 'TimeoutError') return 'timeout';
    const code = (error as { code?: unknown }).code;
    if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ERR_CONNECTION_REFUSED')
      return 'refused';
  }
  return 'unknown';
}

/** The peer went away mid-call (reset, crash, closed stream): classed with refusals, as a client sees both as "down". */
export class ConnectionLostError extends WakuError {
  constructor(address: string, what: string, cause?: unknown) {
    super(
      'refused',
      `${address} dropped the connection during ${what} (did the node crash or restart?)`,
      {
        cause,
      },
    );
    this.name = 'ConnectionLostError';
  }
}

/**
 * The node at an address answered the noise handshake with another key than the peer id we dialled:
 * its node key changed (or another node took the address). Classed with refusals, as a client
 * dialling the listed address fails just the same; re-learn the peer id from the bare address.
 */
export class PeerIdMismatchError extends WakuError {
  constructor(address: string, cause?: unknown) {
    super(
      'refused',
      `${address} answered with another peer id than the one dialled (was the node key rotated? dial the address without /p2p/ to learn the current one)`,
      { cause },
    );
    this.name = 'PeerIdMismatchError';
  }
}
