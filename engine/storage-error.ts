// Filesystem errors of the storage engine as typed errors (format/errors.ts): the one place where
// errno codes are read.
import { DiskFullError, IoError, SeglogError, TooManyOpenFilesError } from './format/errors.js';

/** errno codes that mean "no space": the disk, or the user's quota. */
export function isNoSpace(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * The typed error for a failed filesystem call of the engine: SeglogErrors pass through, ENOSPC and
 * EDQUOT become DISK_FULL, anything else IO_ERROR; `what` says what was being done (and on what file).
 * Node's errno message ("EEXIST: file already exists, mkdir '…'") is kept as it is.
 */
export function storageError(e: unknown, what: string): SeglogError {
  if (e instanceof SeglogError) return e;
  if (isNoSpace(e)) return new DiskFullError(what, e);
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'EMFILE' || code === 'ENFILE') {
    return new TooManyOpenFilesError(`${what}: the process is out of file descriptors (${String((e as Error).message)})`, e);
  }
  const err = e as NodeJS.ErrnoException;
  return new IoError(`${what} failed: ${String(err?.message ?? e)}`, e);
}

