// Sparse time index of one segment: `<base>.timeindex`.
//
// Entry (12 bytes, big-endian): timestamp i64, relative offset u32. Entries are written for the
// segment's first batch and then at the same moments as offset-index entries, but only when the
// running maximum of batch maxTimestamps has grown beyond the last entry's timestamp; sealing appends
// a final entry if the maximum grew after the last one. So timestamps strictly increase and:
//
//   entry (T, r): T = the largest maxTimestamp of all batches up to and including the batch at r.
//
// This "prefix maximum" invariant is what lookups rely on: for the largest entry with T < ts, no batch
// up to r has a timestamp >= ts, so a forward scan from r finds the first batch that has. The last
// entry of a sealed segment is the segment's largest timestamp (read cheaply at open).
//
// Emptiness rule: entry 0 is the first batch's (relative offset 0, any timestamp, possibly all zero
// bytes) and exists exactly when the segment holds data; every later entry has a relative offset > 0,
// so an entry i > 0 with relative offset 0 is empty and the entries form a prefix of the file.
import fs from 'node:fs';
import { assert } from './format/errors.js';
import { IndexFile, createIndexFile, filledPrefix, openIndexFile, withIndexFd } from './index-file.js';
import type { MappedFile, ReserveHook } from './mapped-file.js';
import { readInt64, writeInt64 } from './record-batch.js';

export const TIME_ENTRY_BYTES = 12;
/** Largest relative offset an entry holds (u32). */
const RELATIVE_OFFSET_MAX = 0xffffffff;

export interface TimeIndexEntry {
  timestamp: number;
  relativeOffset: number;
}

export class TimeIndex extends IndexFile {
  private constructor(file: MappedFile, count: number) {
    super(file, TIME_ENTRY_BYTES, count);
  }

  static create(path: string, maxEntries: number, reserveHook?: ReserveHook): TimeIndex {
    return new TimeIndex(createIndexFile(path, maxEntries, TIME_ENTRY_BYTES, reserveHook), 0);
  }

  static open(path: string, writable: boolean, segmentHasData: boolean, reserveHook?: ReserveHook): TimeIndex {
    const file = openIndexFile(path, writable, reserveHook);
    const maxEntries = Math.floor(file.sizeBytes / TIME_ENTRY_BYTES);
    // A segment with data has entry 0; after it an entry is empty when its relative offset is 0.
    const count = segmentHasData && maxEntries > 0 ? filledPrefix(1, maxEntries, (i) => relativeOffsetAt(file, i) !== 0) : 0;
    const index = new TimeIndex(file, count);
    index.noteCountedEntries();
    return index;
  }

  entry(i: number): TimeIndexEntry {
    const p = i * TIME_ENTRY_BYTES;
    return { timestamp: readInt64(this.file.buffer, p), relativeOffset: this.file.buffer.readUInt32BE(p + 8) };
  }

  lastEntry(): TimeIndexEntry | null {
    return this.count === 0 ? null : this.entry(this.count - 1);
  }

  /** The last entry's timestamp, or -Infinity when there is none. */
  get lastTimestamp(): number {
    return this.count === 0 ? -Infinity : readInt64(this.file.buffer, (this.count - 1) * TIME_ENTRY_BYTES);
  }

  append(timestamp: number, relativeOffset: number): void {
    assert(this.count < this.maxEntries, () => `time index ${this.file.path} is full`);
    const last = this.lastEntry();
    assert(
      !(last === null ? relativeOffset !== 0 : timestamp <= last.timestamp || relativeOffset <= last.relativeOffset),
      () => `time index entry (${timestamp}, ${relativeOffset}) does not follow ${last ? `(${last.timestamp}, ${last.relativeOffset})` : 'an empty index'} in ${this.file.path}`,
    );
    assert(!(relativeOffset > RELATIVE_OFFSET_MAX), () => `relative offset ${relativeOffset} does not fit the time index`);
    const p = this.nextEntryPosition();
    writeInt64(this.file.buffer, p, timestamp);
    this.file.buffer.writeUInt32BE(relativeOffset, p + 8);
    this.count++;
  }

  /** The entry with the largest timestamp < `timestamp`, or null. */
  lastBelow(timestamp: number): TimeIndexEntry | null {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (readInt64(this.file.buffer, mid * TIME_ENTRY_BYTES) < timestamp) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? null : this.entry(found);
  }

  /** Drops (zeros) every entry whose relative offset is > `relativeOffset`. */
  truncateAfter(relativeOffset: number): void {
    let keep = this.count;
    while (keep > 0 && this.entry(keep - 1).relativeOffset > relativeOffset) keep--;
    this.truncateTo(keep);
  }

  /** Keeps only a prefix of entries that follows the rules (recovery, before trusting them). */
  sanitize(): void {
    for (let i = 0; i < this.count; i++) {
      const e = this.entry(i);
      const prev = i === 0 ? null : this.entry(i - 1);
      const ok = prev === null ? e.relativeOffset === 0 : e.timestamp > prev.timestamp && e.relativeOffset > prev.relativeOffset;
      if (!ok) {
        this.truncateTo(i);
        return;
      }
    }
  }

  /** Last entry of a (non-empty) sealed segment's time index, by preads, without mapping. */
  static readLastEntry(path: string): TimeIndexEntry | null {
    return withIndexFd(path, TIME_ENTRY_BYTES, (fd, maxEntries) => {
      if (maxEntries === 0) return null;
      const b = Buffer.alloc(TIME_ENTRY_BYTES);
      const read = (i: number): void => void fs.readSync(fd, b, 0, TIME_ENTRY_BYTES, i * TIME_ENTRY_BYTES);
      const filled = filledPrefix(1, maxEntries, (i) => {
        read(i);
        return b.readUInt32BE(8) !== 0;
      });
      read(filled - 1);
      return { timestamp: readInt64(b, 0), relativeOffset: b.readUInt32BE(8) };
    });
  }
}

const scratch = Buffer.alloc(TIME_ENTRY_BYTES);

function relativeOffsetAt(file: MappedFile, i: number): number {
  return file.readAt(i * TIME_ENTRY_BYTES, scratch).readUInt32BE(8);
}
