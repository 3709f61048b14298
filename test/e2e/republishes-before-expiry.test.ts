// End to end: an unchanged fleet still gets a fresh registry version before the served one expires.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { parseFleetsJsonBytes } from '../../fleet/registry/index.ts';
import { Orchestrator } from '../../local/orchestrator.ts';
import { fastFleetConfig, PROBE_INTERVAL_MS, RegistryWatcher, waitFor } from './fleet-harness.ts';

const config = fastFleetConfig(2);
const dataDir = mkdtempSync(join(tmpdir(), 'storefleet-expiry-'));
let fleet: Orchestrator | undefined;
afterAll(async () => {
  await fleet?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('republishing', () => {
  it('publishes a new version of an unchanged registry before the current one expires', async () => {
    // Prepare: a clock the test can move forward.
    let offsetMs = 0;
    fleet = await Orchestrator.start({
      config,
      dataDir,
      port: 0,
      intervalMs: PROBE_INTERVAL_MS,
      clock: () => Date.now() + offsetMs,
      log: () => {},
    });
    const watcher = new RegistryWatcher(fleet.url, config.fleet);
    const first = await waitFor('the first version', async () => {
      await watcher.poll();
      return watcher.latest;
    });
    // Act: most of the expiry goes by without any change to the fleet.
    offsetMs = config.registry.expiresAfterSeconds * 1000 * 0.7;
    const next = await waitFor('a republished version', async () => {
      await watcher.poll();
      return watcher.latest && watcher.latest.sequence > first.sequence && watcher.latest;
    });
    // Assess
    assert.deepEqual(next.listed, first.listed);
    const published = fleet.registry();
    assert.ok(published);
    const expires = Date.parse(
      parseFleetsJsonBytes(published.artifacts.fleetsJson).meta.expires ?? '',
    );
    assert.ok(expires > Date.now() + offsetMs + (config.registry.expiresAfterSeconds * 1000) / 2);
    assert.deepEqual(watcher.problems, []);
  });
});
