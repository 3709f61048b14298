// The loop's structured log locally: one JSON line per vantage round, controller round and action, in the data folder, rotated by size.
import { appendFileSync, renameSync, statSync } from 'node:fs';
import type { StructuredLog } from '../fleet/ports.ts';

export const LOOP_LOG_FILE = 'loop.jsonl';
/** The file is moved to `loop.jsonl.1` (replacing the older one) when it grows past this. */
export const LOOP_LOG_MAX_BYTES = 10 * 1024 * 1024;
/** Size is checked every this many lines, not on each. */
const LINES_PER_SIZE_CHECK = 100;

/**
 * Per-node figures (each vantage point's view of each node, each node's status and reputation)
 * are queryable here with `jq`, as they are with Logs Insights on AWS.
 * @example const log = new JsonLinesLog(join(dataDir, LOOP_LOG_FILE), Date.now);
 */
export class JsonLinesLog implements StructuredLog {
  readonly #path: string;
  readonly #nowMs: () => number;
  readonly #maxBytes: number;
  #linesSinceCheck = 0;

  constructor(path: string, nowMs: () => number, maxBytes = LOOP_LOG_MAX_BYTES) {
    this.#path = path;
    this.#nowMs = nowMs;
    this.#maxBytes = maxBytes;
  }

  info(message: string, attributes: Record<string, unknown>): void {
    this.#write('info', message, attributes);
  }

  warn(message: string, attributes: Record<string, unknown>): void {
    this.#write('warn', message, attributes);
  }

  #write(level: 'info' | 'warn', message: string, attributes: Record<string, unknown>): void {
    const line = JSON.stringify({ atMs: this.#nowMs(), level, message, ...attributes });
    try {
      appendFileSync(this.#path, `${line}\n`);
      if (++this.#linesSinceCheck >= LINES_PER_SIZE_CHECK) this.#rotateIfLarge();
    } catch {
      // A full or read-only disk must not stop the control loop; the event log still records actions.
    }
  }

  #rotateIfLarge(): void {
    this.#linesSinceCheck = 0;
    if (statSync(this.#path).size > this.#maxBytes) renameSync(this.#path, `${this.#path}.1`);
  }
}
