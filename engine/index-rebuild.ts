// Rebuilding a segment's .index and .timeindex from its log. Both are derived data (FORMAT.md 2.3,
// 2.4): when they disagree with the log, the log wins and they are rewritten in place. The builder
// applies the same rules as appends (Segment.noteBatch) and sealing, to the intact batches of a walk;
// damaged ranges get no entry, and the first intact batch after one gets an entry, so seeks past the
// damage start after it.
import { assert } from './format/errors.js';
import fs from 'node:fs';
import { OFFSET_ENTRY_BYTES } from './offset-index.js';
import { writeInt64 } from './record-batch.js';
import { TIME_ENTRY_BYTES } from './time-index.js';

export class IndexBuilder {
  private readonly offsets: number[] = [];
  private readonly times: number[] = [];
  private bytesSinceEntry = 0;
  private runningMax = -Infinity;
  private lastRel = -1;
  private afterDamage = false;

  constructor(private readonly indexIntervalBytes: number) {}

  /** Relative offset of the last intact batch added (-1: none). */
  get lastRelativeOffset(): number {
    return this.lastRel;
  }

  /** The largest timestamp of the intact batches added (-Infinity when none). */
  get maxTimestamp(): number {
    return this.runningMax;
  }

  /** An intact batch at `pos` with base offset `base + rel`; batches come in log order. */
  add(pos: number, size: number, rel: number, maxTimestamp: number): void {
    if (maxTimestamp > this.runningMax) this.runningMax = maxTimestamp;
    const moment = pos > 0 && (this.bytesSinceEntry >= this.indexIntervalBytes || this.afterDamage);
    this.afterDamage = false;
    if (moment) {
      this.offsets.push(rel, pos);
      this.bytesSinceEntry = 0;
    }
    const timeCount = this.times.length / 2;
    // Entry 0 (relative offset 0) exists whenever the segment holds data; if the first batch is
    // damaged, lookups that select it walk from position 0 and step over the damage.
    if (timeCount === 0) this.times.push(this.runningMax, 0);
    else if (moment && this.runningMax > this.times[this.times.length - 2]!) this.times.push(this.runningMax, rel);
    this.bytesSinceEntry += size;
    this.lastRel = rel;
  }

  /** A damaged range was stepped over before the next batch. */
  skipped(): void {
    this.afterDamage = true;
  }

  /** The end entries of a sealed segment (Segment.seal). */
  seal(endRel: number, dataBytes: number): void {
    this.offsets.push(endRel, dataBytes);
    const n = this.times.length;
    if (n > 0 && this.runningMax > this.times[n - 2]! && this.lastRel > this.times[n - 1]!) this.times.push(this.runningMax, this.lastRel);
  }

  offsetIndexBytes(): Buffer {
    const out = Buffer.alloc((this.offsets.length / 2) * OFFSET_ENTRY_BYTES);
    for (let i = 0; i < this.offsets.length; i += 2) {
      out.writeUInt32BE(this.offsets[i]!, i * 4);
      out.writeUInt32BE(this.offsets[i + 1]!, i * 4 + 4);
    }
    return out;
  }

  timeIndexBytes(): Buffer {
    const out = Buffer.alloc((this.times.length / 2) * TIME_ENTRY_BYTES);
    for (let i = 0, p = 0; i < this.times.length; i += 2, p += TIME_ENTRY_BYTES) {
      writeInt64(out, p, this.times[i]!);
      out.writeUInt32BE(this.times[i + 1]!, p + 8);
    }
    return out;
  }
}

/**
 * Writes `entries` at the start of the index file at `path` and zeros what followed them up to
 * `oldEnd` (the end of the old entries), with pwrite: a full disk is an error here, never a SIGBUS
 * in a mapping. Mappings of the file see the new bytes (one page cache). Synced: the next open
 * trusts the file again.
 */
export function rewriteIndexFile(path: string, entries: Buffer, oldEnd: number): void {
  const fd = fs.openSync(path, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    assert(entries.length <= size, () => `${entries.length} bytes of entries do not fit ${path} (${size} bytes)`);
    if (entries.length > 0) fs.writeSync(fd, entries, 0, entries.length, 0);
    const clearTo = Math.min(size, oldEnd);
    if (clearTo > entries.length) fs.writeSync(fd, Buffer.alloc(clearTo - entries.length), 0, clearTo - entries.length, entries.length);
    fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The end of the last non-zero byte of `buf` (0 when all zero): how far an index file holds anything. */
export function usedBytes(buf: Buffer): number {
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--;
  return end;
}
