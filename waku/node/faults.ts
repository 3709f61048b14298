// Run-time fault injection for chaos tests: latency, store errors, archive holes, stalls and crashes.
import * as z from 'zod';
import { type RandomSource, seededRandom } from '../../fleet/random.ts';

export const FaultSettingsSchema = z
  .object({
    latencyMs: z.number().int().min(0).max(600_000).optional(),
    storeErrorRate: z.number().min(0).max(1).optional(),
    storeErrorCode: z.union([z.literal(503), z.literal(429)]).optional(),
    dropArchiveRate: z.number().min(0).max(1).optional(),
    stall: z.boolean().optional(),
    crash: z.literal(true).optional(),
  })
  .strict();

export type FaultSettings = z.infer<typeof FaultSettingsSchema>;

/** What the node is doing wrong right now; `crash` is an action, never a lasting state. */
export interface ActiveFaults {
  latencyMs: number;
  storeErrorRate: number;
  storeErrorCode: 503 | 429;
  dropArchiveRate: number;
  stall: boolean;
}

const NO_FAULTS: ActiveFaults = {
  latencyMs: 0,
  storeErrorRate: 0,
  storeErrorCode: 503,
  dropArchiveRate: 0,
  stall: false,
};

export interface FaultControllerOptions {
  /** @default 1 */
  seed?: number;
  /** Called once when a crash is requested; the node stops (or the process exits) there. */
  onCrash?: () => void;
}

/**
 * Switches faults on and off while the node runs. Every protocol handler and REST route asks it
 * before answering, so a fault takes effect on the next request without a restart.
 *
 * @example
 * node.faults.set({ storeErrorRate: 1, storeErrorCode: 429 });
 * node.faults.clear();
 */
export class FaultController {
  #active: ActiveFaults = { ...NO_FAULTS };
  readonly #random: RandomSource;
  readonly #onCrash: (() => void) | undefined;
  #stallRelease: { promise: Promise<void>; release: () => void } | undefined;
  #stopped = false;

  constructor(options: FaultControllerOptions = {}) {
    this.#random = seededRandom(options.seed ?? 1);
    this.#onCrash = options.onCrash;
  }

  get active(): ActiveFaults {
    return { ...this.#active };
  }

  /** Merges `settings` into the active faults; fields left out keep their value. */
  set(settings: FaultSettings): ActiveFaults {
    const parsed = FaultSettingsSchema.parse(settings);
    const { crash, ...lasting } = parsed;
    const defined = Object.fromEntries(
      Object.entries(lasting).filter(([, value]) => value !== undefined),
    ) as Partial<ActiveFaults>;
    this.#active = { ...this.#active, ...defined };
    if (!this.#active.stall) this.#releaseStalled();
    if (crash) this.#onCrash?.();
    return this.active;
  }

  clear(): ActiveFaults {
    this.#active = { ...NO_FAULTS };
    this.#releaseStalled();
    return this.active;
  }

  /** Resolves when the stall is lifted or the node stops; immediately when no stall is on. */
  async waitWhileStalled(): Promise<void> {
    if (!this.#active.stall || this.#stopped) return;
    if (this.#stallRelease === undefined) {
      let release!: () => void;
      const promise = new Promise<void>((resolve) => {
        release = resolve;
      });
      this.#stallRelease = { promise, release };
    }
    await this.#stallRelease.promise;
  }

  /** Applies stall then latency: the delay a request sees before the node starts answering. */
  async beforeAnswer(signal?: AbortSignal): Promise<void> {
    await this.waitWhileStalled();
    const { latencyMs } = this.#active;
    if (latencyMs > 0 && !this.#stopped) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, latencyMs);
        signal?.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
  }

  /** The status code to fail this store query with, or undefined to answer normally. */
  storeFailure(): 503 | 429 | undefined {
    const { storeErrorRate, storeErrorCode } = this.#active;
    if (storeErrorRate <= 0) return undefined;
    return this.#random() < storeErrorRate ? storeErrorCode : undefined;
  }

  /** True when this relayed message should be left out of the archive (a history hole). */
  dropFromArchive(): boolean {
    const { dropArchiveRate } = this.#active;
    if (dropArchiveRate <= 0) return false;
    return this.#random() < dropArchiveRate;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Lets every stalled request go so that shutdown never waits on them. */
  shutdown(): void {
    this.#stopped = true;
    this.#releaseStalled();
  }

  #releaseStalled(): void {
    this.#stallRelease?.release();
    this.#stallRelease = undefined;
  }
}
