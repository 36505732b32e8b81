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
import { MappedFile, type ReserveHook } from './mapped-file.js';
import { alignUp } from './reserve-unit.js';

export const OFFSET_ENTRY_BYTES = 8;
/** Blocks reserved ahead of the last entry of an index file (index files grow slowly). */
export const INDEX_RESERVE_AHEAD_BYTES = 64 * 1024;

export interface OffsetIndexEntry {
  relativeOffset: number;
  position: number;
}

export class OffsetIndex {
  readonly file: MappedFile;
  readonly maxEntries: number;
  private count: number;

  private constructor(file: MappedFile, count: number) {
    this.file = file;
    this.maxEntries = Math.floor(file.sizeBytes / OFFSET_ENTRY_BYTES);
    this.count = count;
  }

  /** A new file is all hole: no entries, and nothing of it is read (a read fault on tmpfs allocates). */
  static create(path: string, maxEntries: number, reserveHook?: ReserveHook): OffsetIndex {
    return new OffsetIndex(
      MappedFile.create(path, maxEntries * OFFSET_ENTRY_BYTES, { reserveAheadBytes: INDEX_RESERVE_AHEAD_BYTES, reserveHook }),
      0,
    );
  }

  static open(path: string, writable: boolean, reserveHook?: ReserveHook): OffsetIndex {
    const file = MappedFile.open(path, { writable, reserveAheadBytes: INDEX_RESERVE_AHEAD_BYTES, reserveHook });
    // Counted with preads: the entries' end is not known yet, and past it the file may be a hole.
    const index = new OffsetIndex(file, countEntries((i) => positionAt(file, i), Math.floor(file.sizeBytes / OFFSET_ENTRY_BYTES)));
    // Entries are only ever stored through the mapping, which allocated their whole pages: the
    // reservation can continue from the end of the last such page without needing new space.
    index.file.noteDataEnd(index.count === 0 ? 0 : alignUp(index.count * OFFSET_ENTRY_BYTES, file.reserveUnitBytes, file.sizeBytes)); // reservation continues after the entries
    return index;
  }

  get entries(): number {
    return this.count;
  }

  /** Takes the new entry count after the file was rewritten under the mapping (index-rebuild.ts). */
  reload(count: number): void {
    this.count = count;
    if (this.file.writable) this.file.noteDataEnd(this.count * OFFSET_ENTRY_BYTES);
  }

  /** Room for regular entries; the last slot is kept for the end entry written at seal. */
  get isFull(): boolean {
    return this.count >= this.maxEntries - 1;
  }

  entry(i: number): OffsetIndexEntry {
    const b = this.file.buffer;
    const p = i * OFFSET_ENTRY_BYTES;
    return { relativeOffset: b.readUInt32BE(p), position: b.readUInt32BE(p + 4) };
  }

  lastEntry(): OffsetIndexEntry | null {
    return this.count === 0 ? null : this.entry(this.count - 1);
  }

  /** Reserves blocks for the next entry (call before writing data that will need it). */
  reserveNext(): void {
    this.file.ensureReserved((this.count + 1) * OFFSET_ENTRY_BYTES);
  }

  append(relativeOffset: number, position: number): void {
    if (this.count >= this.maxEntries) throw new Error(`offset index ${this.file.path} is full`);
    if (position <= 0 || relativeOffset <= 0 || relativeOffset > 0xffffffff || position > 0xffffffff) {
      throw new Error(`offset index entry (${relativeOffset}, ${position}) is invalid for ${this.file.path}`);
    }
    const last = this.lastEntry();
    if (last !== null && (relativeOffset <= last.relativeOffset || position <= last.position)) {
      throw new Error(
        `offset index entries must increase: (${relativeOffset}, ${position}) after (${last.relativeOffset}, ${last.position}) in ${this.file.path}`,
      );
    }
    const p = this.count * OFFSET_ENTRY_BYTES;
    this.file.ensureReserved(p + OFFSET_ENTRY_BYTES);
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

  /** Drops (zeros) every entry from index `keep` on. */
  truncateTo(keep: number): void {
    if (keep >= this.count) return;
    this.file.buffer.fill(0, keep * OFFSET_ENTRY_BYTES, this.count * OFFSET_ENTRY_BYTES);
    this.count = keep;
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

  async sync(): Promise<void> {
    await this.file.sync();
  }

  /** Last entry of an index file, read with a few preads and no mapping (sealed segments at open). */
  static readLastEntry(path: string): OffsetIndexEntry | null {
    const fd = fs.openSync(path, 'r');
    try {
      const maxEntries = Math.floor(fs.fstatSync(fd).size / OFFSET_ENTRY_BYTES);
      const b = Buffer.alloc(OFFSET_ENTRY_BYTES);
      const positionAt = (i: number): number => {
        fs.readSync(fd, b, 0, OFFSET_ENTRY_BYTES, i * OFFSET_ENTRY_BYTES);
        return b.readUInt32BE(4);
      };
      // first empty entry by binary search over "position != 0"
      let lo = 0;
      let hi = maxEntries;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (positionAt(mid) !== 0) lo = mid + 1;
        else hi = mid;
      }
      if (lo === 0) return null;
      fs.readSync(fd, b, 0, OFFSET_ENTRY_BYTES, (lo - 1) * OFFSET_ENTRY_BYTES);
      return { relativeOffset: b.readUInt32BE(0), position: b.readUInt32BE(4) };
    } finally {
      fs.closeSync(fd);
    }
  }
}

const scratch = Buffer.alloc(OFFSET_ENTRY_BYTES);

function positionAt(file: MappedFile, i: number): number {
  return file.readAt(i * OFFSET_ENTRY_BYTES, scratch).readUInt32BE(4);
}

/** Entries form a prefix of non-zero positions: the first empty one by binary search. */
function countEntries(positionOf: (i: number) => number, maxEntries: number): number {
  let lo = 0;
  let hi = maxEntries;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (positionOf(mid) !== 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
