// A full disk, recognised wherever the local runtime writes (files, SQLite), so that it stops writing instead of crashing.

/** Thrown when a write to the data folder failed for lack of space; the last good state stays as it was. */
export class DiskFullError extends Error {
  readonly path: string;
  constructor(path: string, cause: unknown) {
    super(
      `${path}: the disk is full (${(cause as Error).message}); nothing was written. Free space in that folder or move the data folder to a larger disk`,
      { cause },
    );
    this.name = 'DiskFullError';
    this.path = path;
  }
}

/** SQLite's SQLITE_FULL primary result code. */
const SQLITE_FULL = 13;

/** ENOSPC from the file system, EDQUOT from a quota, SQLITE_FULL from SQLite. */
export function isDiskFull(error: unknown): boolean {
  if (error instanceof DiskFullError) return true;
  if (!(error instanceof Error)) return false;
  const { code, errcode } = error as NodeJS.ErrnoException & { errcode?: number };
  if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  if (typeof errcode === 'number' && (errcode & 0xff) === SQLITE_FULL) return true;
  return /database or disk is full|no space left on device/i.test(error.message);
}

/** Rethrows a full-disk failure as DiskFullError naming `path`; other errors pass unchanged. */
export function asDiskFull(error: unknown, path: string): unknown {
  if (error instanceof DiskFullError || !isDiskFull(error)) return error;
  return new DiskFullError(path, error);
}
