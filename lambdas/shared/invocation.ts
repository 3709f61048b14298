// What every handler gets from Lambda and gives back: the part of the Context it reads, a clock that can wait, and a logger.
import type { Context } from 'aws-lambda';

/** The Context fields handlers read; tests pass a fake with these. */
export type InvocationContext = Pick<
  Context,
  'functionName' | 'awsRequestId' | 'getRemainingTimeInMillis'
>;

/** Wall clock plus waiting, injected so tests can run a minute-long loop in milliseconds. */
export interface LoopClock {
  nowMs(): number;
  sleep(ms: number): Promise<void>;
}

export const systemLoopClock: LoopClock = {
  nowMs: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/** The logger calls handlers make; Powertools' Logger fits it. */
export interface HandlerLog {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}
