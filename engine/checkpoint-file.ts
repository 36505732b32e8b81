// A tiny file holding one offset: `<name>` in the partition directory, text, "v1 <offset>\n".
// Written to `<name>.tmp`, synced, then renamed over the old one, so a reader sees the old or the new
// value, never a torn one. A missing or unreadable file reads as null (callers then fall back to the
// safe choice: a full recovery scan, or the first segment's base offset).
import fs from 'node:fs';

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
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`checkpoint value ${value} is not a valid offset`);
  return `${PREFIX}${value}\n`;
}

/** Synchronous and durable (fsync before rename): for rare writes that must hold before what follows. */
export function writeCheckpointSync(path: string, value: number): void {
  const tmp = path + '.tmp';
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, encode(value));
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
}

/** The same, off the event loop. */
export async function writeCheckpoint(path: string, value: number): Promise<void> {
  const tmp = path + '.tmp';
  const handle = await fs.promises.open(tmp, 'w');
  try {
    await handle.writeFile(encode(value));
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(tmp, path);
}
