// What the offset and time indexes of a segment share: a memory-mapped file of fixed-size entries
// whose filled entries form a prefix (counted at open with preads, since past the entries the file
// may be a hole), blocks reserved ahead of the last entry, truncation by zeroing, and sync. Each index
// keeps its own entry layout and its own rule for what an empty entry is.
import fs from 'node:fs';
import { MappedFile, type ReserveHook } from './mapped-file.js';
import { alignUp } from './reserve-unit.js';

/** Blocks reserved ahead of the last entry of an index file (index files grow slowly). */
export const INDEX_RESERVE_AHEAD_BYTES = 64 * 1024;

/**
 * The length of the filled prefix of entries [from, maxEntries): the first entry `filled` says is
 * empty, by binary search (the filled entries form a prefix).
 */
export function filledPrefix(from: number, maxEntries: number, filled: (i: number) => boolean): number {
  let lo = from;
  let hi = maxEntries;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (filled(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Runs `read` on an index file opened for reading (preads, no mapping); `maxEntries` from its size. */
export function withIndexFd<T>(path: string, entryBytes: number, read: (fd: number, maxEntries: number) => T): T {
  const fd = fs.openSync(path, 'r');
  try {
    return read(fd, Math.floor(fs.fstatSync(fd).size / entryBytes));
  } finally {
    fs.closeSync(fd);
  }
}

/** A new index file is all hole: no entries, and nothing of it is read (a read fault on tmpfs allocates). */
export function createIndexFile(path: string, maxEntries: number, entryBytes: number, reserveHook?: ReserveHook): MappedFile {
  return MappedFile.create(path, maxEntries * entryBytes, { reserveAheadBytes: INDEX_RESERVE_AHEAD_BYTES, reserveHook });
}

export function openIndexFile(path: string, writable: boolean, reserveHook?: ReserveHook): MappedFile {
  return MappedFile.open(path, { writable, reserveAheadBytes: INDEX_RESERVE_AHEAD_BYTES, reserveHook });
}

export abstract class IndexFile {
  readonly file: MappedFile;
  readonly maxEntries: number;
  protected count: number;
  private readonly entryBytes: number;

  protected constructor(file: MappedFile, entryBytes: number, count: number) {
    this.file = file;
    this.entryBytes = entryBytes;
    this.maxEntries = Math.floor(file.sizeBytes / entryBytes);
    this.count = count;
  }

  /**
   * After the entries were counted at open. Entries are only ever stored through the mapping, which
   * allocated their whole pages: the reservation can continue from the end of the last such page
   * without needing new space.
   */
  protected noteCountedEntries(): void {
    this.file.noteDataEnd(this.count === 0 ? 0 : alignUp(this.count * this.entryBytes, this.file.reserveUnitBytes, this.file.sizeBytes));
  }

  get entries(): number {
    return this.count;
  }

  /** Takes the new entry count after the file was rewritten under the mapping (index-rebuild.ts). */
  reload(count: number): void {
    this.count = count;
    if (this.file.writable) this.file.noteDataEnd(this.count * this.entryBytes);
  }

  /** Room for regular entries; the last slot is kept for the entry written at seal. */
  get isFull(): boolean {
    return this.count >= this.maxEntries - 1;
  }

  /** Reserves blocks for the next entry (call before writing data that will need it). */
  reserveNext(): void {
    this.file.ensureReserved((this.count + 1) * this.entryBytes);
  }

  /** Where the next entry goes, with its blocks reserved. */
  protected nextEntryPosition(): number {
    const p = this.count * this.entryBytes;
    this.file.ensureReserved(p + this.entryBytes);
    return p;
  }

  /** Drops (zeros) every entry from index `keep` on. */
  truncateTo(keep: number): void {
    if (keep >= this.count) return;
    this.file.buffer.fill(0, keep * this.entryBytes, this.count * this.entryBytes);
    this.count = keep;
  }

  async sync(): Promise<void> {
    await this.file.sync();
  }
}
