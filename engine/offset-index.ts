// Sparse offset index of one segment: `<base>.index`.
//
// Entry (8 bytes, big-endian): relative offset u32 (batch base offset - segment base offset), position
// u32 (where that batch starts in the .log). One entry for the batch that starts after at least
// indexIntervalBytes were appended since the previous entry; never one for position 0, so an entry
// whose position is 0 is empty and the entries form a prefix of the file (count by binary search).
//
// Sealing a segment appends one extra "end" entry: (endOffset - base, dataBytes), pointing just past
// the last batch. No lookup inside the segment can select it (every offset in the segment is below its
// relative offset), and it lets a sealed segment's end offset and size be read from 8 bytes at open.
//
// Lookups use a plain binary search over the mapped entries (Kafka searches the newest 8 KiB first to
// keep cold pages out of the produce path; our produce path never searches, so we keep it simple).
import fs from 'node:fs';
import { assert } from './format/errors.js';
import { IndexFile, createIndexFile, filledPrefix, openIndexFile, withIndexFd } from './index-file.js';
import type { MappedFile, ReserveHook } from './mapped-file.js';

export { INDEX_RESERVE_AHEAD_BYTES } from './index-file.js';
export const OFFSET_ENTRY_BYTES = 8;
/** Largest relative offset and position an entry holds (u32). */
const ENTRY_FIELD_MAX = 0xffffffff;

export interface OffsetIndexEntry {
  relativeOffset: number;
  position: number;
}

export class OffsetIndex extends IndexFile {
  private constructor(file: MappedFile, count: number) {
    super(file, OFFSET_ENTRY_BYTES, count);
  }

  static create(path: string, maxEntries: number, reserveHook?: ReserveHook): OffsetIndex {
    return new OffsetIndex(createIndexFile(path, maxEntries, OFFSET_ENTRY_BYTES, reserveHook), 0);
  }

  static open(path: string, writable: boolean, reserveHook?: ReserveHook): OffsetIndex {
    const file = openIndexFile(path, writable, reserveHook);
    // An entry is empty when its position is 0 (no entry is ever made for position 0).
    const index = new OffsetIndex(file, filledPrefix(0, Math.floor(file.sizeBytes / OFFSET_ENTRY_BYTES), (i) => positionAt(file, i) !== 0));
    index.noteCountedEntries();
    return index;
  }

  entry(i: number): OffsetIndexEntry {
    const b = this.file.buffer;
    const p = i * OFFSET_ENTRY_BYTES;
    return { relativeOffset: b.readUInt32BE(p), position: b.readUInt32BE(p + 4) };
  }

  lastEntry(): OffsetIndexEntry | null {
    return this.count === 0 ? null : this.entry(this.count - 1);
  }

  append(relativeOffset: number, position: number): void {
    assert(this.count < this.maxEntries, () => `offset index ${this.file.path} is full`);
    assert(
      !(position <= 0 || relativeOffset <= 0 || relativeOffset > ENTRY_FIELD_MAX || position > ENTRY_FIELD_MAX),
      () => `offset index entry (${relativeOffset}, ${position}) is invalid for ${this.file.path}`,
    );
    const last = this.lastEntry();
    assert(
      !(last !== null && (relativeOffset <= last.relativeOffset || position <= last.position)),
      () => `offset index entries must increase: (${relativeOffset}, ${position}) after (${last!.relativeOffset}, ${last!.position}) in ${this.file.path}`,
    );
    const p = this.nextEntryPosition();
    this.file.buffer.writeUInt32BE(relativeOffset, p);
    this.file.buffer.writeUInt32BE(position, p + 4);
    this.count++;
  }

  /** The entry with the largest relative offset <= `relativeOffset`, or null (start at position 0). */
  lookup(relativeOffset: number): OffsetIndexEntry | null {
    const b = this.file.buffer;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (b.readUInt32BE(mid * OFFSET_ENTRY_BYTES) <= relativeOffset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? null : this.entry(found);
  }

  /** The last entry whose position is < `position` (used by recovery), or null. */
  lastBeforePosition(position: number): OffsetIndexEntry | null {
    for (let i = this.count - 1; i >= 0; i--) {
      const e = this.entry(i);
      if (e.position < position) return e;
    }
    return null;
  }

  /** Keeps only a clean, strictly increasing prefix of entries inside `[1, maxPosition]`. */
  sanitize(maxPosition: number): void {
    let prevRel = 0;
    let prevPos = 0;
    for (let i = 0; i < this.count; i++) {
      const e = this.entry(i);
      if (e.relativeOffset <= prevRel || e.position <= prevPos || e.position > maxPosition) {
        this.truncateTo(i);
        return;
      }
      prevRel = e.relativeOffset;
      prevPos = e.position;
    }
  }

  /** Last entry of an index file, read with a few preads and no mapping (sealed segments at open). */
  static readLastEntry(path: string): OffsetIndexEntry | null {
    return withIndexFd(path, OFFSET_ENTRY_BYTES, (fd, maxEntries) => {
      const b = Buffer.alloc(OFFSET_ENTRY_BYTES);
      const filled = filledPrefix(0, maxEntries, (i) => {
        fs.readSync(fd, b, 0, OFFSET_ENTRY_BYTES, i * OFFSET_ENTRY_BYTES);
        return b.readUInt32BE(4) !== 0;
      });
      if (filled === 0) return null;
      fs.readSync(fd, b, 0, OFFSET_ENTRY_BYTES, (filled - 1) * OFFSET_ENTRY_BYTES);
      return { relativeOffset: b.readUInt32BE(0), position: b.readUInt32BE(4) };
    });
  }
}

const scratch = Buffer.alloc(OFFSET_ENTRY_BYTES);

function positionAt(file: MappedFile, i: number): number {
  return file.readAt(i * OFFSET_ENTRY_BYTES, scratch).readUInt32BE(4);
}
