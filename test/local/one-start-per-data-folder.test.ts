// The data folder lock: a second holder is refused with the first one's pid; a killed holder frees it; --reset keeps the sequence.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import {
  DataFolderInUseError,
  DataFolderLock,
  knownRegistrySequence,
  resetDataFolder,
} from '../../local/data-folder.ts';
import { SqliteStateStore } from '../../local/sqlite-state-store.ts';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'storefleet-lock-'));
  dirs.push(dir);
  return dir;
}
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Another process that takes the lock and holds it until killed. */
async function holdInChild(dir: string): Promise<ChildProcess> {
  const module = JSON.stringify(join(import.meta.dirname, '../../local/data-folder.ts'));
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { DataFolderLock } = await import(${module}); DataFolderLock.acquire(process.argv[1]); console.log('held'); setInterval(() => {}, 1000);`,
      dir,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

describe('one start per data folder', () => {
  it('a second start is refused, naming the pid of the one that holds the folder', async () => {
    const dir = freshDir();
    const holder = await holdInChild(dir);
    assert.throws(
      () => DataFolderLock.acquire(dir),
      (error: unknown) => {
        assert.ok(error instanceof DataFolderInUseError);
        assert.equal(error.holderPid, holder.pid);
        assert.match(error.message, new RegExp(`pid ${holder.pid}`));
        assert.ok(error.message.includes(dir));
        return true;
      },
    );
  });

  it('kill -9 of the holder frees the folder: the kernel drops the lock with the process', async () => {
    const dir = freshDir();
    const holder = await holdInChild(dir);
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    const lock = DataFolderLock.acquire(dir);
    lock.release();
  });

  it('within one process too, and release lets the next one in', () => {
    const dir = freshDir();
    const first = DataFolderLock.acquire(dir);
    assert.throws(() => DataFolderLock.acquire(dir), DataFolderInUseError);
    first.release();
    DataFolderLock.acquire(dir).release();
  });
});

describe('--reset', () => {
  it('forgets the state but keeps the registry sequence, so the next version is above it', () => {
    const dir = freshDir();
    const store = SqliteStateStore.open(join(dir, 'state.db'));
    store.reserveRegistrySequence();
    store.reserveRegistrySequence();
    store.setSetting('runtime.ports', { a: 1 });
    store.close();
    assert.equal(knownRegistrySequence(dir), 2);
    assert.equal(resetDataFolder(dir), 2);
    const after = SqliteStateStore.open(join(dir, 'state.db'));
    assert.equal(after.getSetting('runtime.ports'), undefined);
    assert.equal(after.reserveRegistrySequence(), 3);
    after.close();
  });

  it('keeps the sequence even when state.db is unreadable, from the published versions', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'state.db'), '');
    mkdirSync(join(dir, 'registry', 'versions', '000000000041'), { recursive: true });
    assert.equal(resetDataFolder(dir), 41);
    const after = SqliteStateStore.open(join(dir, 'state.db'));
    assert.equal(after.reserveRegistrySequence(), 42);
    after.close();
  });
});
