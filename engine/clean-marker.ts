// The clean-shutdown marker's content (engine/FORMAT.md 2.6): the end offset at the clean close,
// "<offset>\n", which the next open checks the data against. Its presence is what says "clean".
import fs from 'node:fs';
import { isNoSpace } from './storage-error.js';

/**
 * Writes the marker holding `endOffset`. On a full disk, where its content gets no block, it is left
 * empty: its presence still says "clean", and an empty file needs an inode only.
 */
export function writeCleanMarker(file: string, endOffset: number): void {
  try {
    fs.writeFileSync(file, `${endOffset}\n`);
  } catch (e) {
    if (!isNoSpace(e)) throw e;
    fs.closeSync(fs.openSync(file, 'w'));
  }
}

/** The end offset in a marker, or null when it is missing or holds none (empty on a full disk). */
export function readCleanMarkerEnd(file: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  if (!/^\d{1,16}\n$/.test(text)) return null;
  const end = Number(text.trim());
  return Number.isSafeInteger(end) ? end : null;
}
