// One segment of a partition log: `<20-digit base offset>.log` plus its `.index` and `.timeindex`.
//
// The .log has a fixed logical size and is mapped whole. Batches lie back to back from position 0;
// after the last one there are only zeros (reservation writes zeros, recovery zeros a cut tail), so the
// end of the data is found by walking batch headers from the last index entry.
//
// The active segment is mapped read-write and keeps its fds (reservation, fdatasync). A sealed segment
// is opened lazily: at open only the last entries of its two index files are read (end offset, size,
// largest timestamp; see offset-index.ts and time-index.ts), and its files are mapped read-only on the
// first read, with the fds closed right after mapping; the partition log lets cold mappings go.
import fs from 'node:fs';
import path from 'node:path';
import { CorruptRecordError, DiskFullError, IoError, storageError } from './errors.js';
import { MappedFile, type MappedFileOptions, type ReserveHook } from './mapped-file.js';
import { OffsetIndex } from './offset-index.js';
import {
  HEADER_BYTES,
  LOG_OVERHEAD,
  MAGIC,
  OFF_BATCH_LENGTH,
  OFF_MAGIC,
  batchBaseOffset,
  batchLastOffset,
  batchLastOffsetDelta,
  batchMaxTimestamp,
  batchProblem,
  batchSize,
  setBatchBaseOffset,
} from './record-batch.js';
import { TimeIndex } from './time-index.js';

export interface SegmentConfig {
  /** Logical size of new .log files. */
  segmentBytes: number;
  indexIntervalBytes: number;
  /** Upper bound of blocks reserved ahead of the write position of the .log. */
  reserveAheadBytes: number;
  /** Reserve the .log's blocks on the process's reserver thread (reserver.ts). */
  backgroundReserve?: boolean;
  reserveHook?: ReserveHook;
  /** Test hook (mapped-file.ts): .log reservation writes past this position fail with ENOSPC. */
  failReservationFromBytes?: number;
}

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const DELETED_SUFFIX = '.deleted';

export function segmentFileName(baseOffset: number): string {
  return String(baseOffset).padStart(20, '0');
}

/** Index entries a segment of `segmentBytes` can need (one per batch at most, plus the seal entry). */
export function indexEntriesFor(segmentBytes: number, indexIntervalBytes: number): number {
  return Math.ceil(segmentBytes / Math.max(indexIntervalBytes, HEADER_BYTES)) + 2;
}

/** A batch header that is plausibly a batch (used to find the end of data; CRC is not checked). */
function headerLooksValid(buf: Buffer, pos: number, limit: number): boolean {
  if (limit - pos < HEADER_BYTES) return false;
  const length = buf.readInt32BE(pos + OFF_BATCH_LENGTH);
  return length >= HEADER_BYTES - LOG_OVERHEAD && length <= limit - pos - LOG_OVERHEAD && buf[pos + OFF_MAGIC] === MAGIC;
}

function logFileOptions(config: SegmentConfig): Omit<MappedFileOptions, 'writable'> {
  return {
    reserveAheadBytes: config.reserveAheadBytes,
    reserveHook: config.reserveHook,
    background: config.backgroundReserve === true,
    failReservationFromBytes: config.failReservationFromBytes,
  };
}

export class Segment {
  readonly dir: string;
  readonly baseOffset: number;
  readonly name: string;
  private readonly config: SegmentConfig;

  private logFile: MappedFile | null = null;
  private offsetIndexFile: OffsetIndex | null = null;
  private timeIndexFile: TimeIndex | null = null;

  /** Bytes of batches in the .log (the write position). */
  dataBytes = 0;
  /** Next offset after the last record (== baseOffset when empty). */
  endOffset: number;
  /** Largest batch maxTimestamp, -Infinity when empty. */
  maxTimestamp = -Infinity;
  /** Base offset of the last batch (for the seal's time-index entry). */
  private lastBatchBaseOffset = -1;
  private bytesSinceIndexEntry = 0;
  /**
   * CRC bookkeeping, so each batch's CRC is checked at most once per process: batches in
   * [0, verifiedEnd) were checked by a read; batches at or after verifiedFrom were appended (and
   * validated) by this process or re-checked by recovery. Everything else was on disk before open
   * and is checked on its first read.
   */
  private verifiedEnd = 0;
  private verifiedFrom = 0;
  /** Clock time the segment's first batch counts from for segmentMs (null when empty). */
  firstBatchTimeMs: number | null = null;
  active: boolean;
  /** Appended to since the last completed sync. */
  dirty = false;
  /** Logical size of the .log (known without mapping for sealed segments). */
  capacityBytes: number;

  private constructor(dir: string, baseOffset: number, config: SegmentConfig, active: boolean, capacityBytes: number) {
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.name = segmentFileName(baseOffset);
    this.config = config;
    this.endOffset = baseOffset;
    this.active = active;
    this.capacityBytes = capacityBytes;
  }

  get logPath(): string {
    return path.join(this.dir, this.name + LOG_SUFFIX);
  }
  get indexPath(): string {
    return path.join(this.dir, this.name + INDEX_SUFFIX);
  }
  get timeIndexPath(): string {
    return path.join(this.dir, this.name + TIME_INDEX_SUFFIX);
  }

  get isEmpty(): boolean {
    return this.dataBytes === 0;
  }

  get isMapped(): boolean {
    return this.logFile !== null;
  }

  /** The mapped .log (maps a sealed segment on first use). */
  get log(): MappedFile {
    if (this.logFile === null) this.mapSealed();
    return this.logFile!;
  }
  get offsetIndex(): OffsetIndex {
    if (this.offsetIndexFile === null) this.mapSealed();
    return this.offsetIndexFile!;
  }
  get timeIndex(): TimeIndex {
    if (this.timeIndexFile === null) this.mapSealed();
    return this.timeIndexFile!;
  }

  // --- creating and opening ---------------------------------------------------------------------

  /** A new, empty active segment. */
  static create(dir: string, baseOffset: number, config: SegmentConfig): Segment {
    const seg = new Segment(dir, baseOffset, config, true, config.segmentBytes);
    const entries = indexEntriesFor(config.segmentBytes, config.indexIntervalBytes);
    // Remove leftovers of an earlier attempt (e.g. a crash between creating files).
    for (const p of seg.filePaths()) fs.rmSync(p, { force: true });
    try {
      seg.logFile = MappedFile.create(seg.logPath, config.segmentBytes, logFileOptions(config));
      seg.offsetIndexFile = OffsetIndex.create(seg.indexPath, entries, config.reserveHook);
      seg.timeIndexFile = TimeIndex.create(seg.timeIndexPath, entries, config.reserveHook);
    } catch (e) {
      // E.g. no inode left: leave no half-made segment behind (a later roll tries again).
      seg.dropAll();
      for (const p of seg.filePaths()) fs.rmSync(p, { force: true });
      throw storageError(e, `creating segment ${seg.logPath}`);
    }
    return seg;
  }

  /**
   * Opens the newest segment for appending. Its data end is found by walking batch headers from the
   * last offset-index entry (cheap: at most about indexIntervalBytes plus one batch). Recovery (when
   * the shutdown was not clean) validates and rebuilds the tail afterwards with `resetTail`.
   */
  static openActive(dir: string, baseOffset: number, config: SegmentConfig): Segment {
    const seg = new Segment(dir, baseOffset, config, true, 0);
    seg.logFile = MappedFile.open(seg.logPath, { ...logFileOptions(config), writable: true });
    seg.capacityBytes = seg.logFile.sizeBytes;
    seg.openIndexes(true);
    const last = seg.offsetIndexFile!.lastEntry();
    seg.loadTail(last === null ? 0 : last.position, last === null ? baseOffset : baseOffset + last.relativeOffset);
    // A segment sealed just before a crash (no newer segment was created) ends with the seal's end
    // entry, which points at no batch; drop it so appends can continue the index.
    const end = seg.offsetIndexFile!.lastEntry();
    if (end !== null && end.position >= seg.dataBytes) seg.offsetIndexFile!.truncateTo(seg.offsetIndexFile!.entries - 1);
    seg.log.noteDataEnd(seg.dataBytes);
    seg.verifiedFrom = seg.dataBytes;
    seg.bytesSinceIndexEntry = seg.dataBytes - (seg.offsetIndexFile!.lastEntry()?.position ?? 0);
    if (!seg.isEmpty) seg.firstBatchTimeMs = batchMaxTimestamp(seg.log.buffer, 0);
    return seg;
  }

  private openIndexes(writable: boolean): void {
    // pread, not the mapping: an empty segment's first page is a hole.
    const hasData = this.logFile!.readAt(OFF_BATCH_LENGTH, Buffer.alloc(4)).readInt32BE(0) !== 0;
    const entries = indexEntriesFor(this.capacityBytes, this.config.indexIntervalBytes);
    // Index files lost by hand are recreated empty: lookups then walk from position 0.
    if (!fs.existsSync(this.indexPath)) OffsetIndex.create(this.indexPath, entries).file.closeFd();
    if (!fs.existsSync(this.timeIndexPath)) TimeIndex.create(this.timeIndexPath, entries).file.closeFd();
    this.offsetIndexFile = OffsetIndex.open(this.indexPath, writable, this.config.reserveHook);
    this.timeIndexFile = TimeIndex.open(this.timeIndexPath, writable, hasData, this.config.reserveHook);
    if (writable) {
      // Only what recovery can trust: a clean increasing prefix inside the file.
      this.offsetIndexFile.sanitize(this.capacityBytes);
      this.timeIndexFile.sanitize();
    }
  }

  /**
   * A sealed segment whose successor starts at `nextBaseOffset`. Reads only the index tails: the end
   * entry gives end offset and size, the time index's last entry the largest timestamp. Segments
   * without a valid end entry (sealed by an older crash) are mapped and walked once instead.
   */
  static openSealed(dir: string, baseOffset: number, nextBaseOffset: number, config: SegmentConfig): Segment {
    const seg = new Segment(dir, baseOffset, config, false, 0);
    seg.capacityBytes = fs.statSync(seg.logPath).size;
    seg.endOffset = nextBaseOffset;
    let endEntry = null;
    let lastTime = null;
    try {
      endEntry = OffsetIndex.readLastEntry(seg.indexPath);
      lastTime = TimeIndex.readLastEntry(seg.timeIndexPath);
    } catch {
      // missing index files: fall through to the walk
    }
    if (endEntry !== null && lastTime !== null && baseOffset + endEntry.relativeOffset === nextBaseOffset && endEntry.position <= seg.capacityBytes) {
      seg.dataBytes = endEntry.position;
      seg.verifiedFrom = seg.dataBytes;
      seg.maxTimestamp = lastTime.timestamp;
      return seg;
    }
    seg.mapSealed();
    const last = seg.offsetIndexFile!.lastEntry();
    const fromPos = last !== null && last.position < seg.capacityBytes ? last.position : 0;
    seg.loadTail(fromPos, fromPos === 0 ? baseOffset : baseOffset + last!.relativeOffset);
    if (seg.endOffset !== nextBaseOffset) {
      throw new CorruptRecordError(
        `segment ends at offset ${seg.endOffset} but the next segment starts at ${nextBaseOffset}`,
        seg.logPath,
        seg.dataBytes,
      );
    }
    seg.verifiedFrom = seg.dataBytes;
    return seg;
  }

  /** Maps a sealed segment's files read-only and closes their fds (the mappings stay valid). */
  private mapSealed(): void {
    if (this.logFile !== null) return;
    if (this.active) throw new IoError(`active segment ${this.logPath} is not open`);
    const log = MappedFile.open(this.logPath, { writable: false });
    this.logFile = log;
    this.capacityBytes = log.sizeBytes;
    try {
      this.openIndexes(false);
    } catch (e) {
      this.releaseMapping();
      throw e;
    }
    this.logFile.closeFd();
    this.offsetIndexFile!.file.closeFd();
    this.timeIndexFile!.file.closeFd();
  }

  /** Drops our references to a sealed segment's mappings (they go when no view is left). */
  releaseMapping(): void {
    if (this.active) return;
    this.logFile?.closeFd();
    this.offsetIndexFile?.file.closeFd();
    this.timeIndexFile?.file.closeFd();
    this.logFile = null;
    this.offsetIndexFile = null;
    this.timeIndexFile = null;
  }

  /**
   * Walks batch headers from `position` (a batch boundary holding `expectedOffset`) to the first
   * position that holds no batch, setting dataBytes, endOffset and maxTimestamp. No CRC check: this is
   * for data known to be good (clean shutdown, or below the recovery point).
   */
  private loadTail(position: number, expectedOffset: number): void {
    const limit = this.capacityBytes;
    let pos = position;
    let next = expectedOffset;
    let max = this.timeIndexFile!.lastTimestamp;
    let lastBase = this.lastBatchBaseOffset;
    // Headers are read with pread: where the data ends is what this finds out, and the page after the
    // last batch may be a hole, which must not be touched through the mapping (mapped-file.ts).
    const header = Buffer.alloc(HEADER_BYTES);
    const fd = fs.openSync(this.logPath, 'r');
    try {
      const peek = (at: number): Buffer => {
        const n = at + HEADER_BYTES <= limit ? fs.readSync(fd, header, 0, HEADER_BYTES, at) : 0;
        if (n < HEADER_BYTES) header.fill(0, Math.max(0, n));
        return header;
      };
      for (let h = peek(pos); headerLooksValid(h, 0, limit - pos) && batchBaseOffset(h, 0) === next; h = peek(pos)) {
        const ts = batchMaxTimestamp(h, 0);
        if (ts > max) max = ts;
        lastBase = next;
        next = batchLastOffset(h, 0) + 1;
        pos += batchSize(h, 0);
      }
    } finally {
      fs.closeSync(fd);
    }
    this.dataBytes = pos;
    this.endOffset = pos === 0 ? this.baseOffset : next;
    this.maxTimestamp = pos === 0 ? -Infinity : max;
    this.lastBatchBaseOffset = lastBase;
  }

  // --- appending --------------------------------------------------------------------------------

  /** Whether a batch of `sizeBytes` fits without a roll. */
  canFit(sizeBytes: number, lastOffsetDelta: number): boolean {
    return (
      this.dataBytes + sizeBytes <= this.capacityBytes &&
      !this.offsetIndex.isFull &&
      !this.timeIndex.isFull &&
      this.endOffset + lastOffsetDelta - this.baseOffset <= 0xffffffff
    );
  }

  /**
   * Copies a validated batch to the end of the data and stamps `offset` as its base offset in the
   * segment copy. Reserves blocks (index entries first, data with the copy: MappedFile.writeData), so a
   * full disk throws DiskFullError with no byte of data or index changed.
   */
  append(batch: Uint8Array, offset: number, nowMs: number): void {
    const pos = this.dataBytes;
    const size = batch.length;
    if (!this.active) throw new Error(`append to sealed segment ${this.logPath}`);
    if (offset !== this.endOffset) throw new Error(`offset ${offset} does not continue ${this.endOffset} in ${this.logPath}`);
    if (pos + size > this.capacityBytes) throw new Error(`batch of ${size} bytes at ${pos} runs past ${this.logPath}`);
    const indexDue = pos === 0 || this.bytesSinceIndexEntry >= this.config.indexIntervalBytes;
    const log = this.log;
    if (indexDue) {
      this.offsetIndex.reserveNext();
      this.timeIndex.reserveNext();
    }
    log.writeData(pos, batch);
    setBatchBaseOffset(log.buffer, pos, offset);
    this.noteBatch(pos, size, offset, offset + batchLastOffsetDelta(batch, 0), batchMaxTimestamp(batch, 0));
    if (this.firstBatchTimeMs === null) this.firstBatchTimeMs = nowMs;
    this.dirty = true;
    log.reserveAhead(pos + size);
  }

  /** Index bookkeeping for the batch now lying at `pos` (append and recovery share it). */
  noteBatch(pos: number, size: number, baseOffset: number, lastOffset: number, maxTimestamp: number): void {
    const rel = baseOffset - this.baseOffset;
    if (maxTimestamp > this.maxTimestamp) this.maxTimestamp = maxTimestamp;
    if (pos === 0) {
      this.timeIndex.append(maxTimestamp, 0);
    } else if (this.bytesSinceIndexEntry >= this.config.indexIntervalBytes) {
      this.offsetIndex.append(rel, pos);
      this.bytesSinceIndexEntry = 0;
      if (this.maxTimestamp > this.timeIndex.lastTimestamp) this.timeIndex.append(this.maxTimestamp, rel);
    }
    this.bytesSinceIndexEntry += size;
    this.dataBytes = pos + size;
    this.endOffset = lastOffset + 1;
    this.lastBatchBaseOffset = baseOffset;
  }

  /**
   * Recovery: forget everything from `position` on (0 or an offset-index entry's position, where
   * the batch with base offset `offset` starts) and the index entries for it, so the tail can be
   * re-validated and re-indexed with noteBatch.
   *
   * The time-index entry written at `position` (if any) is dropped too, but its timestamp is kept as
   * the running maximum: by the entry rule the last entry at or before an offset-index moment equals
   * the maximum up to and including that batch, so it is an upper bound for everything before, which
   * is all that lookups need (time-index.ts). Re-noting the batch writes the same entry again.
   */
  resetTail(position: number, offset: number): void {
    const oi = this.offsetIndex;
    let keep = oi.entries;
    while (keep > 0 && oi.entry(keep - 1).position >= position) keep--;
    oi.truncateTo(keep);
    const ti = this.timeIndex;
    const rel = offset - this.baseOffset;
    let runningMax = -Infinity;
    if (position === 0) {
      ti.truncateTo(0);
    } else {
      ti.truncateAfter(rel);
      runningMax = ti.lastTimestamp;
      ti.truncateAfter(rel - 1);
    }
    this.dataBytes = position;
    // Recovery re-checks every batch from here on (recovery.ts).
    this.verifiedFrom = position;
    if (this.verifiedEnd > position) this.verifiedEnd = position;
    this.endOffset = offset;
    this.maxTimestamp = runningMax;
    this.bytesSinceIndexEntry = position - (oi.lastEntry()?.position ?? 0);
    this.lastBatchBaseOffset = -1;
  }

  /** Recovery ends: an empty segment has no timestamp. */
  finishTail(): void {
    if (this.isEmpty) this.maxTimestamp = -Infinity;
    this.log.resetReservedTo(this.dataBytes);
  }

  /**
   * Seals the segment: writes the end entries to both indexes (see offset-index.ts, time-index.ts).
   * `bestEffort` (recovery on a full disk): when the entries need blocks that cannot be had, the
   * segment is sealed without them; the next open finds no end entry and walks its batches instead.
   */
  seal(bestEffort = false): void {
    if (!this.active) return;
    if (bestEffort) {
      try {
        this.seal(false);
      } catch (e) {
        if (!(e instanceof DiskFullError)) throw e;
        this.active = false;
        this.logFile?.stopReserving();
      }
      return;
    }
    if (!this.isEmpty) {
      this.offsetIndex.append(this.endOffset - this.baseOffset, this.dataBytes);
      if (this.lastBatchBaseOffset < 0) this.lastBatchBaseOffset = batchBaseOffset(this.log.buffer, this.positionOf(this.endOffset - 1));
      const rel = this.lastBatchBaseOffset - this.baseOffset;
      const last = this.timeIndex.lastEntry();
      // After a recovery cut the maximum may already sit in the entry of the last batch.
      if (this.maxTimestamp > this.timeIndex.lastTimestamp && (last === null || rel > last.relativeOffset)) {
        this.timeIndex.append(this.maxTimestamp, rel);
      }
    }
    this.active = false;
    // No more appends: the reserver leaves this file alone from now on.
    this.logFile?.stopReserving();
  }

  // --- reading ----------------------------------------------------------------------------------

  /** Position of the batch containing `offset` (which must lie in this segment). */
  positionOf(offset: number): number {
    const buf = this.log.buffer;
    const entry = this.offsetIndex.lookup(offset - this.baseOffset);
    let pos = entry === null ? 0 : entry.position;
    const end = this.dataBytes;
    while (pos < end) {
      if (!headerLooksValid(buf, pos, end)) throw new CorruptRecordError('invalid batch header while seeking', this.logPath, pos);
      if (batchLastOffset(buf, pos) >= offset) return pos;
      pos += batchSize(buf, pos);
    }
    throw new CorruptRecordError(`offset ${offset} not found in segment`, this.logPath, pos);
  }

  /**
   * Pushes whole batches from `position` (a batch boundary) on into `out` (views into the mapping), at
   * least one, then while the total stays within `maxBytes`. Returns bytes pushed. A batch's CRC is
   * checked unless this process already did (see verifiedEnd).
   */
  readFrom(position: number, maxBytes: number, out: Buffer[]): number {
    const buf = this.log.buffer;
    const end = this.dataBytes;
    let pos = position;
    let total = 0;
    while (pos < end) {
      if (pos >= this.verifiedEnd && pos < this.verifiedFrom) this.verifyBatch(pos);
      const size = batchSize(buf, pos);
      if (size < HEADER_BYTES || size > end - pos) throw new CorruptRecordError(`batch size ${size} does not fit the segment`, this.logPath, pos);
      if (out.length > 0 && total + size > maxBytes) break;
      out.push(buf.subarray(pos, pos + size));
      total += size;
      pos += size;
      if (total >= maxBytes) break;
    }
    return total;
  }

  /** Checks the batch at `pos` in full (header, bounds, CRC) unless already done in this process. */
  verifyBatch(pos: number): void {
    if (pos < this.verifiedEnd || pos >= this.verifiedFrom) return;
    const buf = this.log.buffer;
    const problem = batchProblem(buf, pos, this.dataBytes);
    if (problem !== null) throw new CorruptRecordError(`stored record batch is corrupt: ${problem}`, this.logPath, pos);
    if (pos === this.verifiedEnd) this.verifiedEnd = pos + batchSize(buf, pos);
  }

  /**
   * Position of the first batch with maxTimestamp >= `timestamp` whose last offset is >= `minOffset`,
   * or -1. Starts from the time index's last entry below the timestamp (see time-index.ts).
   */
  positionForTimestamp(timestamp: number, minOffset: number): number {
    if (this.isEmpty || this.maxTimestamp < timestamp) return -1;
    const buf = this.log.buffer;
    const entry = this.timeIndex.lastBelow(timestamp);
    const from = Math.max(minOffset, this.baseOffset + (entry === null ? 0 : entry.relativeOffset));
    if (from >= this.endOffset) return -1;
    let pos = this.positionOf(from);
    const end = this.dataBytes;
    while (pos < end) {
      if (!headerLooksValid(buf, pos, end)) throw new CorruptRecordError('invalid batch header while seeking', this.logPath, pos);
      if (batchMaxTimestamp(buf, pos) >= timestamp) return pos;
      pos += batchSize(buf, pos);
    }
    return -1;
  }

  // --- durability and lifecycle -----------------------------------------------------------------

  /** fdatasync of the .log, then the indexes (see MappedFile.sync for why fdatasync covers the map). */
  async sync(): Promise<void> {
    const log = this.logFile;
    const oi = this.offsetIndexFile;
    const ti = this.timeIndexFile;
    if (log === null || !log.hasFd) return;
    await log.sync();
    await Promise.all([oi?.sync(), ti?.sync()]);
  }

  /** Closes fds (the active segment's too); mappings stay valid until collected. */
  closeFds(): void {
    this.logFile?.closeFd();
    this.offsetIndexFile?.file.closeFd();
    this.timeIndexFile?.file.closeFd();
  }

  /** Drops every reference (segment deleted or log closed). */
  dropAll(): void {
    this.closeFds();
    this.logFile = null;
    this.offsetIndexFile = null;
    this.timeIndexFile = null;
  }

  filePaths(): string[] {
    return [this.logPath, this.indexPath, this.timeIndexPath];
  }
}
