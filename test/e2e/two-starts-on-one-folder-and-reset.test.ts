// End to end against `storefleet start`: a second start on one folder is refused naming the first's pid; --reset keeps the registry sequence; a signal during start-up orphans nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { fastFleetConfig, waitFor } from './fleet-harness.ts';
import {
  fetchVerifiedRegistry,
  isAlive,
  nodePids,
  registryVerify,
  StartProcess,
} from './npm-start-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'storefleet-onefolder-'));
const configPath = join(dataDir, 'fleet.json');
const config = fastFleetConfig(3);
writeFileSync(configPath, JSON.stringify(config));
const started: StartProcess[] = [];
afterAll(async () => {
  for (const fleet of started) await fleet.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

function start(extra: string[] = []): StartProcess {
  const fleet = new StartProcess(configPath, dataDir, extra);
  started.push(fleet);
  return fleet;
}

describe('one data folder, one start', () => {
  it('a second start is refused naming the first one, which keeps its nodes and its one sequence', async () => {
    // Prepare
    const first = start();
    const url = await first.url();
    await waitFor(
      'a published registry',
      async () => (await fetch(`${url}/fleets.json`)).ok,
      60_000,
    );
    const pidsBefore = nodePids(dataDir, config);
    // Act
    const second = start();
    const code = await second.exited;
    // Assess
    assert.notEqual(code, 0);
    assert.match(
      second.output,
      new RegExp(`in use by another storefleet start \\(pid ${first.child.pid}\\)`),
    );
    assert.ok(first.running);
    assert.deepEqual(nodePids(dataDir, config), pidsBefore, 'the first start keeps its nodes');
    assert.ok([...pidsBefore.values()].every(isAlive));
    await fetchVerifiedRegistry(url);
    assert.equal(await first.stop(), 0);
    assert.ok(![...pidsBefore.values()].some(isAlive), 'SIGTERM stops every node');
  }, 120_000);

  it('--reset keeps the registry sequence: `registry verify --min-sequence` accepts the next version', async () => {
    // Prepare: a fleet that published, stopped cleanly.
    const first = start();
    const firstUrl = await first.url();
    const before = await waitFor(
      'a published registry',
      async () => (await fetch(`${firstUrl}/fleets.json`)).ok && fetchVerifiedRegistry(firstUrl),
      60_000,
    );
    assert.equal(await first.stop(), 0);
    // Act
    const reset = start(['--reset']);
    const url = await reset.url();
    const after = await waitFor(
      'a version after the reset',
      async () => (await fetch(`${url}/fleets.json`)).ok && fetchVerifiedRegistry(url),
      60_000,
    );
    // Assess: what a client that remembers the old sequence runs.
    assert.ok(after.sequence > before.sequence, `${before.sequence} -> ${after.sequence}`);
    assert.match(reset.output, /--reset: .*registry sequence \(\d+\) are kept/);
    const files = mkdtempSync(join(tmpdir(), 'storefleet-client-'));
    try {
      writeFileSync(join(files, 'fleets.json'), after.fleetsJson);
      writeFileSync(join(files, 'fleets.json.sig'), `${after.signature}\n`);
      writeFileSync(join(files, 'fleets.pub.pem'), after.publicKeyPem);
      const verified = registryVerify([
        join(files, 'fleets.json'),
        '--sig',
        join(files, 'fleets.json.sig'),
        '--pubkey',
        join(files, 'fleets.pub.pem'),
        '--min-sequence',
        String(before.sequence),
      ]);
      assert.equal(verified.status, 0, verified.output);
      // The same key signs before and after: the reset did not rotate it.
      assert.equal(after.publicKeyPem, before.publicKeyPem);
    } finally {
      rmSync(files, { recursive: true, force: true });
    }
    assert.equal(await reset.stop(), 0);
  }, 120_000);

  it('SIGINT while the nodes are still starting stops them all and exits', async () => {
    const fleet = start();
    const firstNode = await waitFor(
      'the first node process',
      () => [...nodePids(dataDir, config).values()].find(isAlive),
      60_000,
    );
    // Act: the fleet is mid start-up (the URL may exist, the rounds have not begun).
    fleet.child.kill('SIGINT');
    const code = await fleet.exited;
    // Assess
    assert.ok(code === 0 || code === 130, `exit code ${code}: ${fleet.output.slice(-500)}`);
    await waitFor('every node process gone', () => !isAlive(firstNode), 10_000);
    const alive = [...nodePids(dataDir, config).values()].filter(isAlive);
    assert.deepEqual(alive, []);
    assert.ok(!readdirSync(dataDir).includes('lock.pid'), 'the lock is released');
  }, 120_000);
});
