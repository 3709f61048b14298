// Helpers that make every wait give up when its AbortSignal fires, even if the awaited work never settles.

// The race itself lives with the Waku clients, so that probes and clients give up the same way.
export { untilAborted } from '../waku/client/deadline.ts';

/** Waits `ms`, or rejects early with the signal's reason. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
