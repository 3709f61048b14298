// The local fleet's data folder: where state, registry, nodes and keys live, its exclusive lock, the admin token, and what --reset forgets and keeps.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { FleetConfig } from '../fleet/config.ts';
import { SqliteStateStore } from './sqlite-state-store.ts';
import { VERSIONS_DIR } from './versioned-folder.ts';

export const DEFAULT_DATA_DIR = '.storefleet';
/** The token file chaos commands read; only its owner may read it. */
export const ADMIN_TOKEN_FILE = 'admin-token';
/** Where the API listens, for chaos commands run from another shell. */
export const API_URL_FILE = 'api-url';
const ADMIN_TOKEN_FILE_MODE = 0o600;
/** Shorter tokens in the file are treated as damaged and replaced. */
const MIN_ADMIN_TOKEN_CHARS = 16;
const ADMIN_TOKEN_BYTES = 24;
/** What --reset removes; the signing key, the admin token and the registry sequence stay. */
export const RESET_FORGETS = [
  'state.db',
  'state.db-wal',
  'state.db-shm',
  'registry',
  'nodes',
] as const;

export const STATE_DB_FILE = 'state.db';
export const REGISTRY_DIR = 'registry';

/** A data folder ready for one start: its absolute path and the lock that keeps others out. */
export interface PreparedDataFolder {
  path: string;
  lock: DataFolderLock;
  /** With `reset`: the registry sequence carried over (0 when the folder had none). */
  keptRegistrySequence: number | undefined;
}

/**
 * Creates the folder, takes its lock (DataFolderInUseError when another start holds it), and
 * with `reset` forgets what resetDataFolder forgets.
 */
export function prepareDataFolder(dataDir: string | undefined, reset: boolean): PreparedDataFolder {
  const path = resolve(dataDir ?? DEFAULT_DATA_DIR);
  mkdirSync(path, { recursive: true });
  const lock = DataFolderLock.acquire(path);
  try {
    return { path, lock, keptRegistrySequence: reset ? resetDataFolder(path) : undefined };
  } catch (error) {
    lock.release();
    throw error;
  }
}

export function loadOrCreateAdminToken(dataDir: string): string {
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(path)) {
    const token = readFileSync(path, 'utf8').trim();
    if (token.length >= MIN_ADMIN_TOKEN_CHARS) return token;
  }
  const token = randomBytes(ADMIN_TOKEN_BYTES).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: ADMIN_TOKEN_FILE_MODE });
  return token;
}

/** Tells chaos commands in another shell where the API listens. */
export function writeApiUrl(dataDir: string, url: string): void {
  writeFileSync(join(dataDir, API_URL_FILE), `${url}\n`);
}

/**
 * The config's key path, with a leading `.storefleet/` moved into the data folder, so that
 * `--data-dir` keeps each fleet's key beside its registry.
 */
export function signingKeyPath(config: FleetConfig, dataDir: string): string {
  const key = config.registry.signingKey;
  if (key.kind !== 'file') {
    throw new Error(
      'registry.signingKey.kind "kms" needs AWS; the local runtime signs with a key file (kind "file")',
    );
  }
  if (isAbsolute(key.path)) return key.path;
  const inside = relative(DEFAULT_DATA_DIR, key.path);
  if (!inside.startsWith('..')) return join(dataDir, inside);
  return resolve(key.path);
}

/** A SQLite file whose exclusive lock the running instance holds; the kernel drops it when the process dies, kill -9 included. */
export const LOCK_FILE = 'lock';
/** The holder's pid, for the message a second start prints. */
export const LOCK_PID_FILE = 'lock.pid';
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
    const store = SqliteStateStore.open(join(dataDir, STATE_DB_FILE));
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
    for (const name of readdirSync(join(dataDir, REGISTRY_DIR, VERSIONS_DIR))) {
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
    const store = SqliteStateStore.open(join(dataDir, STATE_DB_FILE));
    try {
      store.keepRegistrySequenceAtLeast(kept);
    } finally {
      store.close();
    }
  }
  return kept;
}
