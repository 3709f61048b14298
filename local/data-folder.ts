// The data folder's exclusive lock (one `storefleet start` per folder) and what `--reset` forgets and keeps.
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SqliteStateStore } from './sqlite-state-store.ts';
import { VERSIONS_DIR } from './versioned-folder.ts';

/** A SQLite file whose exclusive lock the running instance holds; the kernel drops it when the process dies, kill -9 included. */
export const LOCK_FILE = 'lock';
/** The holder's pid, for the message a second start prints. */
export const LOCK_PID_FILE = 'lock.pid';
/** What `--reset` deletes. The signing key, the admin token and the lock are kept. */
export const RESET_FORGETS = [
  'state.db',
  'state.db-wal',
  'state.db-shm',
  'registry',
  'nodes',
] as const;

/** Thrown when another process holds the data folder. */
export class DataFolderInUseError extends Error {
  readonly holderPid: number | undefined;
  constructor(dataDir: string, holderPid: number | undefined) {
    super(
      `${dataDir} is in use by another storefleet start${holderPid === undefined ? '' : ` (pid ${holderPid})`}; stop it first (Ctrl-C, or kill ${holderPid ?? '<pid>'}), or give this one its own --data-dir`,
    );
    this.name = 'DataFolderInUseError';
    this.holderPid = holderPid;
  }
}

/**
 * Holds the data folder for this process until release() or exit.
 * @example
 * const lock = DataFolderLock.acquire('.storefleet'); // throws DataFolderInUseError naming the holder's pid
 * lock.release();
 */
export class DataFolderLock {
  readonly #db: DatabaseSync;
  readonly #pidPath: string;

  private constructor(db: DatabaseSync, pidPath: string) {
    this.#db = db;
    this.#pidPath = pidPath;
  }

  static acquire(dataDir: string): DataFolderLock {
    const db = new DatabaseSync(join(dataDir, LOCK_FILE), { timeout: 0 });
    try {
      // In exclusive locking mode the first write takes the lock and keeps it until close.
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL)');
      db.exec('DELETE FROM holder');
      db.prepare('INSERT INTO holder (pid) VALUES (?)').run(process.pid);
      db.exec('COMMIT');
    } catch (error) {
      db.close();
      if (/locked|busy/i.test((error as Error).message)) {
        throw new DataFolderInUseError(dataDir, readPid(join(dataDir, LOCK_PID_FILE)));
      }
      throw error;
    }
    const pidPath = join(dataDir, LOCK_PID_FILE);
    writeFileSync(pidPath, `${process.pid}\n`);
    return new DataFolderLock(db, pidPath);
  }

  release(): void {
    if (!this.#db.isOpen) return;
    rmSync(this.#pidPath, { force: true });
    this.#db.close();
  }
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The highest registry sequence the data folder knows of: reserved in state.db, or published in registry/. */
export function knownRegistrySequence(dataDir: string): number {
  let stored = 0;
  try {
    const store = SqliteStateStore.open(join(dataDir, 'state.db'));
    try {
      stored = store.lastRegistrySequence();
    } finally {
      store.close();
    }
  } catch {
    // An unreadable state database: the published versions still tell.
  }
  let published = 0;
  try {
    for (const name of readdirSync(join(dataDir, 'registry', VERSIONS_DIR))) {
      const match = /(\d+)$/.exec(name);
      if (match) published = Math.max(published, Number(match[1]));
    }
  } catch {
    // No registry yet.
  }
  return Math.max(stored, published);
}

/**
 * `--reset`: forgets the fleet state, probe history, event log, operator drains, registry versions
 * and node data (identities, ports, archives); keeps the signing key, the admin token and the
 * registry sequence, so that clients that remember a sequence accept the next version.
 * Returns the kept sequence.
 */
export function resetDataFolder(dataDir: string): number {
  const kept = knownRegistrySequence(dataDir);
  for (const name of RESET_FORGETS) rmSync(join(dataDir, name), { recursive: true, force: true });
  if (kept > 0) {
    const store = SqliteStateStore.open(join(dataDir, 'state.db'));
    try {
      store.keepRegistrySequenceAtLeast(kept);
    } finally {
      store.close();
    }
  }
  return kept;
}
