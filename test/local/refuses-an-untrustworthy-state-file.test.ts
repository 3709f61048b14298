// An empty or corrupt state file is refused, naming the file and the remedy; a full disk is a DiskFullError, not a crash.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, it } from 'vitest';
import { DiskFullError } from '../../local/disk-full.ts';
import { SqliteStateStore, StateFileError } from '../../local/sqlite-state-store.ts';
import { mountTinyDisk, tinyDiskSkipReason } from './fixtures/tiny-tmpfs.ts';

const dirs: string[] = [];
function freshPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'storefleet-badstate-'));
  dirs.push(dir);
  return join(dir, 'state.db');
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function assertNamesFileAndRemedy(error: unknown, path: string): boolean {
  assert.ok(error instanceof StateFileError, String(error));
  assert.ok(error.message.includes(path), error.message);
  assert.match(error.message, /restore it from a backup, or start with --reset/);
  return true;
}

describe('a state file that exists but cannot be trusted is refused', () => {
  it('an empty state.db', () => {
    const path = freshPath();
    writeFileSync(path, '');
    assert.throws(
      () => SqliteStateStore.open(path),
      (error) => assertNamesFileAndRemedy(error, path) && /empty/.test((error as Error).message),
    );
  });

  it('a state.db that is not a database', () => {
    const path = freshPath();
    writeFileSync(path, 'this is not sqlite, it is a text file that got in the way\n'.repeat(100));
    assert.throws(
      () => SqliteStateStore.open(path),
      (error) => assertNamesFileAndRemedy(error, path),
    );
  });

  it('a state document that does not validate, shown only by a short prefix', async () => {
    const path = freshPath();
    SqliteStateStore.open(path).close();
    const db = new DatabaseSync(path);
    db.prepare('INSERT INTO fleet_state (id, version, doc) VALUES (1, 3, ?)').run(
      `{"schemaVersion": 1, "nodes": "${'x'.repeat(5000)}"}`,
    );
    db.close();
    const store = SqliteStateStore.open(path, {
      parseState: (json) => {
        if (typeof (json as { nodes: unknown }).nodes !== 'object') {
          throw new Error(`nodes: expected an object, got ${JSON.stringify(json)}`);
        }
        return json;
      },
    });
    await assert.rejects(store.loadFleetState(), (error: unknown) => {
      assertNamesFileAndRemedy(error, path);
      assert.match((error as Error).message, /fleet_state, version 3/);
      assert.ok((error as Error).message.length < 600, 'the bad value is not echoed whole');
      return true;
    });
    store.close();
  });

  it('a registry sequence that is not a number', () => {
    const path = freshPath();
    const store = SqliteStateStore.open(path);
    store.setSetting('registry.sequence', 'seven');
    assert.throws(
      () => store.reserveRegistrySequence(),
      (error) =>
        assertNamesFileAndRemedy(error, path) &&
        /registry\.sequence/.test((error as Error).message),
    );
    store.close();
  });

  it('a new file is not refused: the first start creates it', () => {
    const store = SqliteStateStore.open(freshPath());
    assert.equal(store.lastRegistrySequence(), 0);
    store.close();
  });
});

const skipDisk = tinyDiskSkipReason();
describe('a full disk', () => {
  it.skipIf(skipDisk !== undefined)(
    `is a DiskFullError naming the file, the transaction is rolled back whole, and the store works again once there is room${skipDisk ? ` (skipped: ${skipDisk})` : ''}`,
    async () => {
      const disk = mountTinyDisk(1024 * 1024);
      assert.ok(!('skipReason' in disk));
      try {
        const path = join(disk.dir, 'state.db');
        const store = SqliteStateStore.open<{ padding: string }>(path);
        let version = await store.saveFleetState({ padding: 'first' }, 0);
        const sequence = store.reserveRegistrySequence();
        const filler = join(disk.dir, 'filler');
        // Fill what is left, then ask for a write larger than any slack.
        try {
          writeFileSync(filler, Buffer.alloc(2 * 1024 * 1024));
        } catch {
          // ENOSPC: the disk is full now, as intended.
        }
        await assert.rejects(
          store.saveFleetState({ padding: 'y'.repeat(256 * 1024) }, version),
          (error: unknown) => {
            assert.ok(error instanceof DiskFullError, String(error));
            assert.ok(error.message.includes(path));
            assert.doesNotMatch(error.message, /cannot rollback/);
            return true;
          },
        );
        assert.deepEqual((await store.loadFleetState()).state, { padding: 'first' });
        assert.equal(store.lastRegistrySequence(), sequence);
        rmSync(filler);
        version = await store.saveFleetState({ padding: 'y'.repeat(256 * 1024) }, version);
        assert.equal(version, 2);
        store.close();
      } finally {
        disk.unmount();
      }
    },
  );
});
