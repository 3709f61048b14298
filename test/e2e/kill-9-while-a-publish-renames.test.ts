// End to end: `storefleet start` killed with -9 at the moment a publish moves its version into place; the next start serves only what verifies.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { VERSIONS_DIR } from '../../local/versioned-folder.ts';
import { fastFleetConfig, waitFor } from './fleet-harness.ts';
import { fetchVerifiedRegistry, isAlive, nodePids, StartProcess } from './npm-start-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'storefleet-tornpublish-'));
const configPath = join(dataDir, 'fleet.json');
// A short expiry makes the fleet republish every few seconds, so that kills land on publishes.
const config = { ...fastFleetConfig(3) };
config.registry = { ...config.registry, expiresAfterSeconds: 60 };
writeFileSync(configPath, JSON.stringify(config));
const started: StartProcess[] = [];
afterAll(async () => {
  for (const fleet of started) await fleet.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Resolves as soon as the folder of versions changes name: a staging folder appearing or being renamed. */
function nextRename(versionsDir: string): Promise<string> {
  return new Promise((resolve) => {
    const watcher = watch(versionsDir, (event, name) => {
      if (event !== 'rename') return;
      watcher.close();
      resolve(String(name));
    });
  });
}

describe('kill -9 at the moment a publish renames its files', () => {
  // Skipped until its publish hook follows the versioned folder's one atomic switch.
  it.skip('leaves a registry that the next start serves whole and verified, with no leftovers', async () => {
    const versionsDir = join(dataDir, 'registry', VERSIONS_DIR);
    let lastServed = 0;
    for (let attempt = 1; attempt <= 3; attempt++) {
      // Prepare: a running fleet that has published at least once.
      const fleet = new StartProcess(configPath, dataDir);
      started.push(fleet);
      const url = await fleet.url();
      const first = await waitFor(
        'a published registry',
        async () => (await fetch(`${url}/fleets.json`)).ok && fetchVerifiedRegistry(url),
        60_000,
      );
      assert.ok(first.sequence >= lastServed, 'never an older version after a restart');
      await waitFor('the versions folder', () => existsSync(versionsDir));
      // Act: trigger a publish (an operator drain changes the listing) and kill at its first rename.
      const renamed = nextRename(versionsDir);
      const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      const nodeId = config.nodes[attempt % config.nodes.length]!.id;
      const path = attempt % 2 === 1 ? 'drain' : 'undrain';
      void fetch(`${url}/api/nodes/${nodeId}/${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      }).catch(() => {});
      const name = await Promise.race([
        renamed,
        new Promise<string>((resolve) => setTimeout(() => resolve('(timer)'), 15_000)),
      ]);
      fleet.child.kill('SIGKILL');
      await fleet.exited;
      assert.notEqual(name, '(timer)', 'the kill landed on a publish');
      const pids = [...nodePids(dataDir, config).values()];
      // Assess: whatever was half done, the next start serves a whole version that verifies.
      const next = new StartProcess(configPath, dataDir);
      started.push(next);
      const nextUrl = await next.url();
      const served = await waitFor(
        `a served registry after the kill at ${name}`,
        async () => (await fetch(`${nextUrl}/fleets.json`)).ok && fetchVerifiedRegistry(nextUrl),
        60_000,
      );
      assert.ok(served.sequence >= first.sequence);
      lastServed = served.sequence;
      assert.deepEqual(
        readdirSync(versionsDir).filter((entry) => entry.startsWith('.staging')),
        [],
        'the interrupted staging folder was removed',
      );
      assert.deepEqual(
        readdirSync(join(dataDir, 'registry')).filter((entry) => entry.includes('.tmp')),
        [],
      );
      assert.doesNotMatch(next.output, /is not served/);
      assert.equal(await next.stop(), 0);
      // The nodes of the killed start stopped with it (their stdin closed).
      assert.deepEqual(pids.filter(isAlive), []);
    }
  }, 300_000);
});
