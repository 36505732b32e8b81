// A tiny file holding one offset: `<name>` in the partition directory, text, "v1 <offset>\n".
// Written to `<name>.tmp`, synced, then renamed over the old one, so a reader sees the old or the new
// value, never a torn one. A missing or unreadable file reads as null (callers then fall back to the
// safe choice: a full recovery scan, or the first segment's base offset).
//
// On a full disk the temp file cannot get a block. Then the existing file is rewritten in place (its
// block is already there; the content is a few bytes inside one sector, so the write is not torn in
// practice, and a torn one would read as null, the safe fallback). Retention depends on this: it must
// persist the new log start before it can free space.
import { assert } from './format/errors.js';
import fs from 'node:fs';
import nodePath from 'node:path';
import { isNoSpace, storageError } from './storage-error.js';

const PREFIX = 'v1 ';

export function readCheckpoint(path: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  if (!text.startsWith(PREFIX) || !text.endsWith('\n')) return null;
  const value = Number(text.slice(PREFIX.length, -1));
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function encode(value: number): string {
  assert(Number.isSafeInteger(value) && value >= 0, () => `checkpoint value ${value} is not a valid offset`);
  return `${PREFIX}${value}\n`;
}

/**
 * Replaces the file at `path` durably: the bytes go to `<path>.tmp`, are fdatasync'd, then renamed
 * over it, so a reader (or a crash) sees the old content or the new, never a mix. On failure the
 * temp file is removed and the error thrown as it came. Checkpoints and producer snapshots use it.
 */
export function replaceFileSync(path: string, bytes: string | Uint8Array, mode = 0o666): void {
  const tmp = path + '.tmp';
  try {
    const fd = fs.openSync(tmp, 'w', mode);
    try {
      fs.writeFileSync(fd, bytes); // loops over short writes
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** replaceFileSync, off the event loop. */
export async function replaceFile(path: string, bytes: string | Uint8Array): Promise<void> {
  const tmp = path + '.tmp';
  try {
    const handle = await fs.promises.open(tmp, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(tmp, path);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true });
    throw e;
  }
}

/** Synchronous and durable (fsync before rename): for rare writes that must hold before what follows. */
export function writeCheckpointSync(path: string, value: number): void {
  const text = encode(value);
  try {
    replaceFileSync(path, text);
  } catch (e) {
    if (!isNoSpace(e) || !fs.existsSync(path)) throw storageError(e, `writing ${path}`);
    writeInPlaceSync(path, text, e);
  }
}

function writeInPlaceSync(path: string, text: string, cause: unknown): void {
  try {
    const fd = fs.openSync(path, 'r+');
    try {
      const bytes = Buffer.from(text);
      if (fs.writeSync(fd, bytes, 0, bytes.length, 0) !== bytes.length) throw cause;
      fs.ftruncateSync(fd, bytes.length);
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    throw storageError(e, `writing ${path}`);
  }
}

/** The same, off the event loop. */
export async function writeCheckpoint(path: string, value: number): Promise<void> {
  const text = encode(value);
  try {
    await replaceFile(path, text);
  } catch (e) {
    if (!isNoSpace(e) || !fs.existsSync(path)) throw storageError(e, `writing ${path}`);
    writeInPlaceSync(path, text, e);
  }
}

/** temp file + fsync + rename + fsync(dir): the file is either the old or the new content after a crash. */
export async function writeAtomically(file: string, content: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    const fh = await fs.promises.open(tmp, 'w');
    try {
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.promises.rename(tmp, file);
    await syncDir(nodePath.dirname(file));
  } catch (e) {
    // A failed write leaves the old file and no temp file (a rename that failed leaves it in place).
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    throw storageError(e, `writing ${file}`);
  }
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
