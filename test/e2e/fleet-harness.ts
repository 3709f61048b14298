// Shared by the end-to-end tests: a fast fleet config, bounded waiting on state, and a watcher that checks every registry version served.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FleetConfig, parseFleetConfig } from '../../fleet/config.ts';
import { parseFleetsJsonBytes, verifyRegistrySignature } from '../../fleet/registry/index.ts';

const ROOT = join(import.meta.dirname, '..', '..');
export const PROBE_INTERVAL_MS = 1250;

/**
 * The example fleet with every timing scaled to a 1 s probe interval, so that scenarios take
 * seconds; `nodeCount` keeps the first N nodes where a scenario does not need all six.
 */
export function fastFleetConfig(nodeCount = 6): FleetConfig {
  const example = JSON.parse(readFileSync(join(ROOT, 'config', 'fleet.example.json'), 'utf8'));
  return parseFleetConfig({
    ...example,
    nodes: example.nodes.slice(0, nodeCount),
    probe: {
      ...example.probe,
      intervalSeconds: PROBE_INTERVAL_MS / 1000,
      // Generous for loopback: two test files may each run a fleet on the same two cores.
      pingTimeoutMs: 1000,
      metadataTimeoutMs: 1000,
      storeTimeoutMs: 1100,
      healthTimeoutMs: 1000,
      roundDeadlineMs: 1150,
      // Fresh secp256k1 dials to every node at once cost a CPU burst that, on a loaded test
      // machine, reads as a blind prober; reused connections measure liveness the same way.
      freshDialEveryRounds: 1000,
      freshnessWindowSeconds: 30,
    },
    completeness: { ...example.completeness, intervalSeconds: 2, windowSeconds: 3, lagSeconds: 1 },
    failover: {
      ...example.failover,
      minHealthy: Math.min(3, nodeCount),
      probationRounds: 3,
    },
  });
}

/**
 * Waits until `rounds` consecutive rounds passed with no probe failing and no alarm raised: the
 * starting burst (nodes, dials, meshes) is over and a scenario's effects are its own.
 */
export async function waitForSettledFleet(
  fleet: {
    snapshot(): { round: number; activeAlarms: string[]; nodes: { lastError: string | null }[] };
  },
  rounds = 2,
  timeoutMs = 30_000,
): Promise<void> {
  let cleanSince: number | undefined;
  await waitFor(
    `${rounds} clean rounds`,
    () => {
      const snapshot = fleet.snapshot();
      const clean =
        snapshot.activeAlarms.length === 0 &&
        snapshot.nodes.every((node) => node.lastError === null);
      if (!clean) cleanSince = undefined;
      else cleanSince ??= snapshot.round;
      return cleanSince !== undefined && snapshot.round - cleanSince >= rounds;
    },
    timeoutMs,
  );
}

/** Polls `condition` every 100 ms; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  condition: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (performance.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface ServedVersion {
  sequence: number;
  listed: string[];
  signatureVerified: boolean;
}

/** Fetches fleets.json as a client would, and checks every new version's signature and sequence. */
export class RegistryWatcher {
  readonly versions: ServedVersion[] = [];
  readonly problems: string[] = [];
  readonly #baseUrl: string;
  readonly #fleet: string;
  #etag = '';
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> = Promise.resolve();

  constructor(baseUrl: string, fleet: string) {
    this.#baseUrl = baseUrl;
    this.#fleet = fleet;
  }

  start(intervalMs = 150): void {
    this.#timer = setInterval(() => {
      this.#polling = this.#polling
        .then(() => this.poll())
        .catch((error: unknown) => {
          this.problems.push(`poll failed: ${(error as Error).message}`);
        });
    }, intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#polling;
  }

  get latest(): ServedVersion | undefined {
    return this.versions.at(-1);
  }

  async poll(): Promise<void> {
    const res = await fetch(`${this.#baseUrl}/fleets.json`, {
      headers: this.#etag ? { 'if-none-match': this.#etag } : {},
    });
    if (res.status === 304 || res.status === 503) return;
    const bytes = new Uint8Array(await res.arrayBuffer());
    const sequenceHeader = res.headers.get('x-registry-sequence');
    const [sig, pem] = await Promise.all([
      fetch(`${this.#baseUrl}/fleets.json.sig`),
      fetch(`${this.#baseUrl}/fleets.pub.pem`),
    ]);
    // A publish landed between the requests: take the next poll's consistent pair.
    if (sig.headers.get('x-registry-sequence') !== sequenceHeader) return;
    const signature = new Uint8Array(Buffer.from((await sig.text()).trim(), 'base64'));
    const verified = verifyRegistrySignature(bytes, signature, await pem.text());
    const document = parseFleetsJsonBytes(bytes);
    const sequence = document.meta.sequence ?? 0;
    const listed = Object.keys(document.fleets[this.#fleet]?.['tcp/p2p/waku/store'] ?? {});
    const previous = this.latest;
    if (!verified) this.problems.push(`sequence ${sequence}: signature does not verify`);
    if (previous && sequence <= previous.sequence) {
      this.problems.push(`sequence went from ${previous.sequence} to ${sequence}`);
    }
    this.versions.push({ sequence, listed, signatureVerified: verified });
    this.#etag = res.headers.get('etag') ?? '';
  }
}
