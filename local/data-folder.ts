// The local fleet's data folder: where state, registry, nodes and keys live, the admin token, and what --reset wipes.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { FleetConfig } from '../fleet/config.ts';

export const DEFAULT_DATA_DIR = '.storefleet';
/** The token file chaos commands read; only its owner may read it. */
export const ADMIN_TOKEN_FILE = 'admin-token';
/** Where the API listens, for chaos commands run from another shell. */
export const API_URL_FILE = 'api-url';
const ADMIN_TOKEN_FILE_MODE = 0o600;
/** Shorter tokens in the file are treated as damaged and replaced. */
const MIN_ADMIN_TOKEN_CHARS = 16;
const ADMIN_TOKEN_BYTES = 24;
/** What --reset removes; the signing key and the admin token stay. */
const RESET_ENTRIES = ['state.db', 'state.db-wal', 'state.db-shm', 'registry', 'nodes'] as const;

export const STATE_DB_FILE = 'state.db';
export const REGISTRY_DIR = 'registry';

/** Creates the folder (and wipes state, registry and nodes when `reset`); returns its absolute path. */
export function prepareDataFolder(dataDir: string | undefined, reset: boolean): string {
  const path = resolve(dataDir ?? DEFAULT_DATA_DIR);
  mkdirSync(path, { recursive: true });
  if (reset) {
    for (const name of RESET_ENTRIES) rmSync(join(path, name), { recursive: true, force: true });
  }
  return path;
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
