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
import { MappedFile, type ReserveHook } from './mapped-file.js';
import { alignUp } from './reserve-unit.js';
import { INDEX_RESERVE_AHEAD_BYTES } from './offset-index.js';
import { readInt64, writeInt64 } from './record-batch.js';

export const TIME_ENTRY_BYTES = 12;

export interface TimeIndexEntry {
  timestamp: number;
  relativeOffset: number;
}

export class TimeIndex {
  readonly file: MappedFile;
  readonly maxEntries: number;
  private count: number;

  private constructor(file: MappedFile, count: number) {
    this.file = file;
    this.maxEntries = Math.floor(file.sizeBytes / TIME_ENTRY_BYTES);
    this.count = count;
  }

  /** A new file is all hole: no entries, and nothing of it is read (a read fault on tmpfs allocates). */
  static create(path: string, maxEntries: number, reserveHook?: ReserveHook): TimeIndex {
    return new TimeIndex(
      MappedFile.create(path, maxEntries * TIME_ENTRY_BYTES, { reserveAheadBytes: INDEX_RESERVE_AHEAD_BYTES, reserveHook }),
      0,
    );
  }

  static open(path: string, writable: boolean, segmentHasData: boolean, reserveHook?: ReserveHook): TimeIndex {
    const file = MappedFile.open(path, { writable, reserveAheadBytes: INDEX_RESERVE_AHEAD_BYTES, reserveHook });
    // Counted with preads: the entries' end is not known yet, and past it the file may be a hole.
    const maxEntries = Math.floor(file.sizeBytes / TIME_ENTRY_BYTES);
    const index = new TimeIndex(file, segmentHasData ? countEntries((i) => relativeOffsetAt(file, i), maxEntries) : 0);
    // Entries are only ever stored through the mapping, which allocated their whole pages: the
    // reservation can continue from the end of the last such page without needing new space.
    index.file.noteDataEnd(index.count === 0 ? 0 : alignUp(index.count * TIME_ENTRY_BYTES, file.reserveUnitBytes, file.sizeBytes));
    return index;
  }

  get entries(): number {
    return this.count;
  }

  /** Takes the new entry count after the file was rewritten under the mapping (index-rebuild.ts). */
  reload(count: number): void {
    this.count = count;
    if (this.file.writable) this.file.noteDataEnd(this.count * TIME_ENTRY_BYTES);
  }

  /** Room for regular entries; the last slot is kept for the entry written at seal. */
  get isFull(): boolean {
    return this.count >= this.maxEntries - 1;
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

  reserveNext(): void {
    this.file.ensureReserved((this.count + 1) * TIME_ENTRY_BYTES);
  }

  append(timestamp: number, relativeOffset: number): void {
    if (this.count >= this.maxEntries) throw new Error(`time index ${this.file.path} is full`);
    const last = this.lastEntry();
    if (last === null ? relativeOffset !== 0 : timestamp <= last.timestamp || relativeOffset <= last.relativeOffset) {
      throw new Error(
        `time index entry (${timestamp}, ${relativeOffset}) does not follow ${last ? `(${last.timestamp}, ${last.relativeOffset})` : 'an empty index'} in ${this.file.path}`,
      );
    }
    if (relativeOffset > 0xffffffff) throw new Error(`relative offset ${relativeOffset} does not fit the time index`);
    const p = this.count * TIME_ENTRY_BYTES;
    this.file.ensureReserved(p + TIME_ENTRY_BYTES);
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

  truncateTo(keep: number): void {
    if (keep >= this.count) return;
    this.file.buffer.fill(0, keep * TIME_ENTRY_BYTES, this.count * TIME_ENTRY_BYTES);
    this.count = keep;
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

  async sync(): Promise<void> {
    await this.file.sync();
  }

  /** Last entry of a (non-empty) sealed segment's time index, by preads, without mapping. */
  static readLastEntry(path: string): TimeIndexEntry | null {
    const fd = fs.openSync(path, 'r');
    try {
      const maxEntries = Math.floor(fs.fstatSync(fd).size / TIME_ENTRY_BYTES);
      if (maxEntries === 0) return null;
      const b = Buffer.alloc(TIME_ENTRY_BYTES);
      const read = (i: number): void => void fs.readSync(fd, b, 0, TIME_ENTRY_BYTES, i * TIME_ENTRY_BYTES);
      let lo = 1;
      let hi = maxEntries;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        read(mid);
        if (b.readUInt32BE(8) !== 0) lo = mid + 1;
        else hi = mid;
      }
      read(lo - 1);
      return { timestamp: readInt64(b, 0), relativeOffset: b.readUInt32BE(8) };
    } finally {
      fs.closeSync(fd);
    }
  }
}

const scratch = Buffer.alloc(TIME_ENTRY_BYTES);

function relativeOffsetAt(file: MappedFile, i: number): number {
  return file.readAt(i * TIME_ENTRY_BYTES, scratch).readUInt32BE(8);
}

/** Number of entries of a segment that holds data: entry 0 plus the non-empty prefix after it. */
function countEntries(relativeOffsetOf: (i: number) => number, maxEntries: number): number {
  if (maxEntries === 0) return 0;
  let lo = 1;
  let hi = maxEntries;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (relativeOffsetOf(mid) !== 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
