// One writer per directory: a lock `.lock`, a symbolic link whose target is "<pid> <start time>"
// (Emacs-style). A symlink rather than a file with content, because creating it is one atomic call
// (EEXIST when taken) and a short target lives in the inode: it needs no data block, so the lock can
// be taken on a full disk (restart after ENOSPC). Locks written by earlier versions (a regular file
// holding "<pid> <start time>\n") are still read.
//
// The start time is field 22 of /proc/<pid>/stat (clock ticks since boot) where /proc exists, so a
// lock whose pid was reused by an unrelated process after a crash is still recognised as stale.
// Without /proc only the pid is checked (kill(pid, 0)).
//
// A second acquire in the same process is refused through an in-process registry (the lock file
// alone could not tell two opens of one process apart); another live process is refused through the
// file. A lock left by a dead process is taken over: the stale file is removed (only if it still holds
// what we read) and re-created with O_EXCL, so of two processes taking over at once one wins the create.
// Node has no flock(); a small window remains (one taker removes a lock the other just created between
// its read and its remove), acceptable for "two servers started on one directory by mistake".
import fs from 'node:fs';
import path from 'node:path';
import { DirectoryLockedError } from './format/errors.js';
import { storageError } from './storage-error.js';

export const LOCK_FILE = '.lock';

export interface DirLock {
  readonly dir: string;
  release(): void;
}

const heldInProcess = new Set<string>();

/** Start time of a process from /proc (a string of clock ticks), or null where unavailable. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTime = rest[22 - 3];
    return startTime !== undefined && /^\d+$/.test(startTime) ? startTime : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Holder {
  pid: number;
  startTime: string | null;
}

function parseHolder(text: string): Holder | null {
  const m = /^(\d+)(?: (\d+|-))?\n?$/.exec(text);
  if (m === null) return null;
  return { pid: Number(m[1]), startTime: m[2] === undefined || m[2] === '-' ? null : m[2] };
}

function holderIsAlive(holder: Holder): boolean {
  if (!isAlive(holder.pid)) return false;
  if (holder.startTime === null) return true;
  const current = processStartTime(holder.pid);
  return current === null || current === holder.startTime;
}

const myStartTime = processStartTime(process.pid);
const myIdentity = `${process.pid} ${myStartTime ?? '-'}`;

function tryCreate(lockPath: string): boolean {
  try {
    fs.symlinkSync(myIdentity, lockPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw storageError(e, `taking the lock ${lockPath}`);
  }
  return true;
}

/** The holder text of the lock (symlink target, or an old-style lock file's content), or null if none. */
export function readLockText(lockPath: string): string | null {
  try {
    return fs.readlinkSync(lockPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    if (code !== 'EINVAL') throw storageError(e, `reading the lock ${lockPath}`);
  }
  try {
    return fs.readFileSync(lockPath, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw storageError(e, `reading the lock ${lockPath}`);
  }
}

/** Whether `dir` holds a lock whose holder is gone (dead, or its pid reused): false if unlocked or held. */
export function lockIsStale(dir: string): boolean {
  const text = readLockText(path.join(dir, LOCK_FILE));
  if (text === null) return false;
  const holder = parseHolder(text);
  return holder !== null && !holderIsAlive(holder);
}

/** Whether a lock (of either form) exists at `lockPath`; existsSync would follow the symlink. */
export function lockExists(lockPath: string): boolean {
  return readLockText(lockPath) !== null;
}

const readText = readLockText;

/**
 * Takes the lock of `dir` (which must exist) or throws DirectoryLockedError naming the holder.
 * A bounded number of attempts covers races with a releasing or a crashed holder.
 */
export function acquireDirLock(dir: string): DirLock {
  const key = fs.realpathSync(dir);
  if (heldInProcess.has(key)) throw new DirectoryLockedError(dir, `this process (pid ${process.pid})`);
  const lockPath = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(lockPath)) {
      heldInProcess.add(key);
      return makeLock(dir, key, lockPath);
    }
    const text = readText(lockPath);
    if (text === null) continue; // released meanwhile
    const holder = parseHolder(text);
    if (holder !== null && holder.pid === process.pid && (holder.startTime ?? '-') === (myStartTime ?? '-')) {
      // Our own pid but not in the registry: left by an earlier instance that did not release
      // (e.g. a module copy). Treat as held: a live writer in this process may still use it.
      throw new DirectoryLockedError(dir, `this process (pid ${process.pid})`);
    }
    if (holder !== null && holderIsAlive(holder)) throw new DirectoryLockedError(dir, `process ${holder.pid}`);
    // Stale (dead holder, reused pid, or unreadable content): remove it only if it is still the same.
    if (readText(lockPath) === text) fs.rmSync(lockPath, { force: true });
  }
  throw new DirectoryLockedError(dir, 'another process (the lock kept changing while we tried to take it)');
}

function makeLock(dir: string, key: string, lockPath: string): DirLock {
  let released = false;
  return {
    dir,
    release(): void {
      if (released) return;
      released = true;
      heldInProcess.delete(key);
      if (readText(lockPath) === myIdentity) fs.rmSync(lockPath, { force: true });
    },
  };
}
