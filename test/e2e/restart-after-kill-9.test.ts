// End to end: `storefleet start` killed with -9 and started again continues its state and registry sequence.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import type { FleetState } from '../../fleet/state.ts';
import type { FleetSnapshot } from '../../local/api.ts';
import { SqliteStateStore } from '../../local/sqlite-state-store.ts';
import { fastFleetConfig, RegistryWatcher, waitFor } from './fleet-harness.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const dataDir = mkdtempSync(join(tmpdir(), 'storefleet-restart-'));
const configPath = join(dataDir, 'fleet.json');
const config = fastFleetConfig(3);
writeFileSync(configPath, JSON.stringify(config));
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
});

function startFleet(): ChildProcess {
  rmSync(join(dataDir, 'api-url'), { force: true });
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'cli', 'main.ts'),
      'start',
      '--config',
      configPath,
      '--port',
      '0',
      '--data-dir',
      dataDir,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.resume();
  child.stderr?.resume();
  children.push(child);
  return child;
}

async function apiUrl(): Promise<string> {
  return waitFor('the API URL file', () => {
    const path = join(dataDir, 'api-url');
    return existsSync(path) && readFileSync(path, 'utf8').trim();
  });
}

async function snapshot(url: string): Promise<FleetSnapshot> {
  return (await (await fetch(`${url}/api/nodes`)).json()) as FleetSnapshot;
}

async function stateVersion(): Promise<{ version: number; round: number | null }> {
  const store = SqliteStateStore.open<FleetState>(join(dataDir, 'state.db'));
  try {
    const { state, version } = await store.loadFleetState();
    return { version, round: state?.lastProcessedRound ?? null };
  } finally {
    store.close();
  }
}

describe('restarting after kill -9', () => {
  it('continues the state and the registry sequence', async () => {
    // Prepare: a running fleet that has decided a few rounds and published.
    const first = startFleet();
    const firstUrl = await apiUrl();
    assert.equal(statSync(join(dataDir, 'admin-token')).mode & 0o777, 0o600);
    const firstWatcher = new RegistryWatcher(firstUrl, config.fleet);
    await waitFor(
      'three rounds and a published registry',
      async () => {
        await firstWatcher.poll().catch(() => {});
        return (await snapshot(firstUrl)).round >= 3 && firstWatcher.latest !== undefined;
      },
      60_000,
    );
    // Act
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    const before = await stateVersion();
    const sequenceBefore = firstWatcher.latest?.sequence ?? 0;
    const second = startFleet();
    const secondUrl = await apiUrl();
    const secondWatcher = new RegistryWatcher(secondUrl, config.fleet);
    await waitFor(
      'two rounds after the restart, all nodes running',
      async () => {
        const now = await snapshot(secondUrl);
        return (
          now.round >= (before.round ?? 0) + 2 &&
          now.nodes.every((node) => node.taskState === 'running')
        );
      },
      60_000,
    );
    // Assess
    const afterRestart = await stateVersion();
    assert.ok(
      afterRestart.version > before.version,
      `state version ${before.version} -> ${afterRestart.version}`,
    );
    assert.ok((afterRestart.round ?? 0) > (before.round ?? 0));
    await secondWatcher.poll();
    assert.ok(
      (secondWatcher.latest?.sequence ?? 0) >= sequenceBefore,
      'the restarted fleet serves no older version',
    );
    await waitFor(
      'a version published after the restart, numbered above the last one',
      async () => {
        await secondWatcher.poll();
        return (secondWatcher.latest?.sequence ?? 0) > sequenceBefore;
      },
      60_000,
    );
    assert.deepEqual(secondWatcher.problems, []);
    assert.equal((await snapshot(secondUrl)).listedNodeIds.length, 3);
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));
    assert.equal(second.exitCode, 0);
  });
});
