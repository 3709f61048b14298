// The completeness loop: every completeness.intervalSeconds, one seeing vantage point compares the nodes' archives over a lagged window.
import { completenessVantageId, type FleetConfig } from '../fleet/config.ts';
import { laggedWindow, measureCompleteness, storeHashSource } from '../probes/completeness.ts';
import type { ProcessRuntime } from './process-runtime.ts';
import type { SqliteStateStore } from './sqlite-state-store.ts';
import type { LocalVantageProber } from './vantage-probers.ts';
import { fleetPubsubTopic, processTargets } from './vantage-probers.ts';

export interface CompletenessLoopOptions {
  config: FleetConfig;
  runtime: ProcessRuntime;
  store: SqliteStateStore<unknown>;
  probers: () => readonly LocalVantageProber[];
  isBlind: (vantageId: string) => boolean;
  clock: () => number;
  /** @default config.completeness.intervalSeconds */
  intervalMs?: number;
  log: (line: string) => void;
}

/**
 * @example
 * const loop = new CompletenessLoop({ config, runtime, store, probers, isBlind, clock, log });
 * loop.start();
 * await loop.stop();
 */
export class CompletenessLoop {
  readonly #options: CompletenessLoopOptions;
  #timer: NodeJS.Timeout | undefined;
  #run: Promise<void> | undefined;
  #stopped = false;

  constructor(options: CompletenessLoopOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#stopped) return;
    const intervalMs =
      this.#options.intervalMs ?? this.#options.config.completeness.intervalSeconds * 1000;
    this.#timer = setTimeout(() => {
      this.#run = this.runOnce()
        .catch((error: unknown) =>
          this.#options.log(`completeness failed: ${(error as Error).message}`),
        )
        .finally(() => this.start());
    }, intervalMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#run?.catch(() => {});
  }

  async runOnce(): Promise<void> {
    const { config, clock } = this.#options;
    const seeing = this.#options
      .probers()
      .filter((candidate) => !this.#options.isBlind(candidate.vantageId));
    const preferred = completenessVantageId(config);
    const prober = seeing.find((candidate) => candidate.vantageId === preferred) ?? seeing[0];
    if (!prober) return;
    const topic = fleetPubsubTopic(config);
    const sources = processTargets(config, this.#options.runtime).map((target) =>
      storeHashSource(
        (query, signal) =>
          prober.dialer.storeQuery(target.multiaddr, query, {
            signal,
            maxResponseBytes: config.probe.maxResponseBytes,
          }),
        { nodeId: target.nodeId, pubsubTopic: topic, contentTopics: config.probe.contentTopics },
      ),
    );
    if (sources.length < 2) return;
    const results = await measureCompleteness({
      sources,
      vantageId: prober.vantageId,
      settings: config.completeness,
      clock: { nowMs: clock },
      window: laggedWindow(clock(), config.completeness),
      requestTimeoutMs: config.probe.storeTimeoutMs,
    });
    if (!this.#stopped) await this.#options.store.recordCompleteness(results);
  }
}
