// Memory mode keeps its data in a fresh directory on tmpfs (`seglog-mem-XXXXXX`), which is RAM. A
// clean close removes it; a process killed with SIGKILL (or by the OOM killer) cannot, and its
// directory would hold that RAM until reboot. So each memory-mode open first removes the
// directories whose lock names a process that is gone. A directory without a lock is left alone:
// another process may have just created it and not yet taken its lock.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireDirLock, lockIsStale } from './dir-lock.js';
import { DirectoryLockedError } from './format/errors.js';
import { ENGINE_DEFAULTS } from './limits.js';
import { warn } from './warn.js';

export const MEMORY_DIR_PREFIX = 'seglog-mem-';

/** Where memory mode puts its directory: /dev/shm when it is there and writable, else the temp dir. */
export function tmpfsRoot(): string {
  try {
    if (fs.statSync('/dev/shm').isDirectory()) {
      fs.accessSync('/dev/shm', fs.constants.W_OK);
      return '/dev/shm';
    }
  } catch {
    // no tmpfs: fall back to the temp dir
  }
  return os.tmpdir();
}

/** A fresh memory-mode directory under tmpfsRoot(), after removing those dead processes left there. */
export function createMemoryDir(): string {
  const root = tmpfsRoot();
  sweepOrphanMemoryDirs(root);
  return fs.mkdtempSync(path.join(root, MEMORY_DIR_PREFIX));
}

/** Removes memory-mode directories under `root` left by dead processes; returns how many. */
export function sweepOrphanMemoryDirs(root: string, entriesMax: number = ENGINE_DEFAULTS.memoryDirSweepEntriesMax): number {
  let names: string[];
  try {
    names = fs.readdirSync(root).filter((n) => n.startsWith(MEMORY_DIR_PREFIX));
  } catch {
    return 0; // an unreadable root: the open reports what matters when it creates its own directory
  }
  let removed = 0;
  for (const name of names.slice(0, entriesMax)) {
    const dir = path.join(root, name);
    try {
      if (!lockIsStale(dir)) continue;
      // Taking the lock first: of two processes sweeping at once, one removes the directory.
      const lock = acquireDirLock(dir);
      try {
        fs.rmSync(dir, { recursive: true, force: true });
        removed++;
      } finally {
        lock.release();
      }
    } catch (e) {
      // Taken meanwhile, or not ours to remove (permissions): not this open's business.
      if (!(e instanceof DirectoryLockedError)) warn(`leaving ${dir} (left by a dead process)`, e);
    }
  }
  return removed;
}
