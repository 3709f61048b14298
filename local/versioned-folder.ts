// A folder of whole versions: each version's named files land together in their own folder, then one atomic switch makes it current.
import { createHash, randomBytes } from 'node:crypto';
import {
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  symlink,
  unlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { asDiskFull } from './disk-full.ts';

/** Versions live in `versions/<sequence>/`; `current` is a symbolic link to one of them. */
export const VERSIONS_DIR = 'versions';
export const CURRENT_LINK = 'current';
/** Written last inside a version folder: the sequence and a hash of every file, checked on load. */
export const MANIFEST_FILE = 'manifest.json';
/** Versions kept on disk besides the current one, so that a bad newest version has a fallback. */
export const DEFAULT_KEEP_VERSIONS = 3;
const STAGING_PREFIX = '.staging-';
const REJECTED_PREFIX = '.rejected-';
const LINK_TEMP_PREFIX = `${CURRENT_LINK}.tmp-`;
const SEQUENCE_DIGITS = 12;
const FILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const ManifestSchema = z.strictObject({
  sequence: z.number().int().positive(),
  files: z.record(z.string(), z.strictObject({ sha256: z.string(), sizeBytes: z.number() })),
  /** Small facts about the version that are not files (e.g. its cache time). */
  attributes: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
});

/** One whole version as it is on disk. */
export interface StoredVersion {
  sequence: number;
  files: ReadonlyMap<string, Uint8Array>;
  attributes: Readonly<Record<string, string | number>>;
}

/** Why a version on disk is not served; the message names the folder. */
export class VersionRejectedError extends Error {
  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'VersionRejectedError';
  }
}

export interface VersionedFolderOptions {
  /** Checks a version found on disk beyond its manifest (signature, schema...); throws to refuse it. */
  verify?: (version: StoredVersion) => void;
  /** @default DEFAULT_KEEP_VERSIONS */
  keepVersions?: number;
  /** What was cleaned up or refused on open. */
  log?: (line: string) => void;
}

/** What open() found: the newest version that verifies, and those that did not. */
export interface OpenedFolder {
  folder: VersionedFolder;
  current: StoredVersion | undefined;
  rejected: { sequence: number; reason: string }[];
  /** The highest sequence found on disk, served or not: never to be reused. */
  highestSequence: number;
}

function versionName(sequence: number): string {
  return String(sequence).padStart(SEQUENCE_DIGITS, '0');
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function writeDurably(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A rename or a new entry is durable only once its directory is on disk. */
async function syncDir(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Publishes generic sets of named files as one unit. A version is written into a staging folder
 * and synced, renamed to `versions/<sequence>/` (one atomic rename), and then `current` is
 * switched to it by renaming a new symbolic link over the old one. A crash at any point leaves
 * either the old version or the new one whole, plus a staging folder that the next open removes.
 * Names given in `stableNames` are also links at the top of the folder (`fleets.json ->
 * current/fleets.json`), so that readers of the folder always go through the one switch.
 * @example
 * const { folder, current } = await VersionedFolder.open('.storefleet/registry', { verify });
 * await folder.publish(42, new Map([['fleets.json', bytes], ['fleets.json.sig', sig]]));
 */
export class VersionedFolder {
  readonly dir: string;
  readonly #keepVersions: number;
  readonly #log: (line: string) => void;
  #currentSequence: number | undefined;

  private constructor(dir: string, options: VersionedFolderOptions) {
    this.dir = dir;
    this.#keepVersions = options.keepVersions ?? DEFAULT_KEEP_VERSIONS;
    this.#log = options.log ?? (() => {});
  }

  /**
   * Opens the folder: removes leftovers of interrupted publishes, then loads the newest version
   * whose manifest and `verify` both pass; versions that fail are renamed `.rejected-*` and never
   * served.
   */
  static async open(dir: string, options: VersionedFolderOptions = {}): Promise<OpenedFolder> {
    const versionsDir = join(dir, VERSIONS_DIR);
    await mkdir(versionsDir, { recursive: true });
    const folder = new VersionedFolder(dir, options);
    await folder.#removeLeftovers();
    const sequences = (await readdir(versionsDir))
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .sort((a, b) => b - a);
    const rejected: { sequence: number; reason: string }[] = [];
    let current: StoredVersion | undefined;
    for (const sequence of sequences) {
      try {
        const version = await folder.#read(sequence);
        options.verify?.(version);
        current = version;
        break;
      } catch (error) {
        const reason = (error as Error).message;
        rejected.push({ sequence, reason });
        const from = join(versionsDir, versionName(sequence));
        await rename(from, join(versionsDir, `${REJECTED_PREFIX}${versionName(sequence)}`)).catch(
          () => {},
        );
        folder.#log(`registry version ${sequence} is not served: ${reason}`);
      }
    }
    if (current) await folder.#switchTo(current.sequence);
    else await unlink(join(dir, CURRENT_LINK)).catch(() => {});
    return { folder, current, rejected, highestSequence: sequences[0] ?? 0 };
  }

  /**
   * Writes `files` as version `sequence` and makes it current; resolves once all of it is durable.
   * @throws DiskFullError when the disk is full (nothing of the version remains).
   */
  async publish(
    sequence: number,
    files: ReadonlyMap<string, Uint8Array>,
    attributes: Readonly<Record<string, string | number>> = {},
  ): Promise<void> {
    for (const name of files.keys()) {
      if (!FILE_NAME_PATTERN.test(name) || name === MANIFEST_FILE) {
        throw new Error(`"${name}" is not a file name a version may carry`);
      }
    }
    const versionsDir = join(this.dir, VERSIONS_DIR);
    const staging = join(
      versionsDir,
      `${STAGING_PREFIX}${versionName(sequence)}-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    const final = join(versionsDir, versionName(sequence));
    try {
      await mkdir(staging);
      const manifest: z.infer<typeof ManifestSchema> = {
        sequence,
        files: {},
        attributes: { ...attributes },
      };
      for (const [name, bytes] of files) {
        await writeDurably(join(staging, name), bytes);
        manifest.files[name] = { sha256: sha256(bytes), sizeBytes: bytes.byteLength };
      }
      await writeDurably(
        join(staging, MANIFEST_FILE),
        new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
      );
      await syncDir(staging);
      await rename(staging, final);
      await syncDir(versionsDir);
      await this.#switchTo(sequence);
    } catch (error) {
      await rm(staging, { recursive: true, force: true }).catch(() => {});
      // Written but not switched to: without the switch it is not published, so it goes too.
      if (this.#currentSequence !== sequence) {
        await rm(final, { recursive: true, force: true }).catch(() => {});
      }
      throw asDiskFull(error, this.dir);
    }
    await this.#prune().catch(() => {});
  }

  /** Top-level links to `current/<name>`, for readers of the folder (created once, never rewritten). */
  async linkStableNames(names: readonly string[]): Promise<void> {
    for (const name of names) {
      const path = join(this.dir, name);
      const target = join(CURRENT_LINK, name);
      const existing = await lstat(path).catch(() => undefined);
      if (existing?.isSymbolicLink() && (await readlink(path)) === target) continue;
      if (existing) await rm(path, { force: true });
      await symlink(target, path);
    }
  }

  async #switchTo(sequence: number): Promise<void> {
    const link = join(this.dir, CURRENT_LINK);
    const target = join(VERSIONS_DIR, versionName(sequence));
    const existing = await readlink(link).catch(() => undefined);
    if (existing !== target) {
      const temp = join(this.dir, `${LINK_TEMP_PREFIX}${process.pid}`);
      await rm(temp, { force: true });
      await symlink(target, temp);
      try {
        await rename(temp, link);
      } catch (error) {
        await rm(temp, { force: true }).catch(() => {});
        throw error;
      }
      this.#currentSequence = sequence;
      await syncDir(this.dir);
    }
    this.#currentSequence = sequence;
  }

  async #read(sequence: number): Promise<StoredVersion> {
    const path = join(this.dir, VERSIONS_DIR, versionName(sequence));
    let manifest: z.infer<typeof ManifestSchema>;
    try {
      manifest = ManifestSchema.parse(
        JSON.parse(await readFile(join(path, MANIFEST_FILE), 'utf8')),
      );
    } catch (error) {
      throw new VersionRejectedError(
        join(path, MANIFEST_FILE),
        `missing or not a valid manifest (${(error as Error).message.split('\n')[0]})`,
      );
    }
    if (manifest.sequence !== sequence) {
      throw new VersionRejectedError(
        join(path, MANIFEST_FILE),
        `names sequence ${manifest.sequence}, but the folder is version ${sequence}`,
      );
    }
    const files = new Map<string, Uint8Array>();
    for (const [name, expected] of Object.entries(manifest.files)) {
      const bytes = await readFile(join(path, name)).catch(() => undefined);
      if (!bytes) throw new VersionRejectedError(join(path, name), 'is missing');
      if (sha256(bytes) !== expected.sha256) {
        throw new VersionRejectedError(
          join(path, name),
          'does not match the hash in its manifest (changed or damaged after it was written)',
        );
      }
      files.set(name, new Uint8Array(bytes));
    }
    return { sequence, files, attributes: manifest.attributes };
  }

  /** Staging folders and link temporaries are what an interrupted publish leaves behind. */
  async #removeLeftovers(): Promise<void> {
    const versionsDir = join(this.dir, VERSIONS_DIR);
    for (const name of await readdir(versionsDir)) {
      if (!name.startsWith(STAGING_PREFIX)) continue;
      await rm(join(versionsDir, name), { recursive: true, force: true });
      this.#log(`removed ${join(versionsDir, name)}, left by an interrupted publish`);
    }
    for (const name of await readdir(this.dir)) {
      if (!name.startsWith(LINK_TEMP_PREFIX) && !name.endsWith('.tmp')) continue;
      await rm(join(this.dir, name), { recursive: true, force: true });
      this.#log(`removed ${join(this.dir, name)}, left by an interrupted publish`);
    }
  }

  async #prune(): Promise<void> {
    const versionsDir = join(this.dir, VERSIONS_DIR);
    const names = await readdir(versionsDir);
    const old = names
      .filter((name) => /^\d+$/.test(name) && Number(name) !== this.#currentSequence)
      .sort()
      .reverse()
      .slice(this.#keepVersions);
    const rejected = names
      .filter((name) => name.startsWith(REJECTED_PREFIX))
      .sort()
      .reverse();
    for (const name of [...old, ...rejected.slice(this.#keepVersions)]) {
      await rm(join(versionsDir, name), { recursive: true, force: true });
    }
  }
}
