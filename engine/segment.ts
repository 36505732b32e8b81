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
import { chainOk, chainProblem, findResume } from './batch-chain.js';
import { CorruptRecordError, DiskFullError, IoError, assert } from './format/errors.js';
import { storageError } from './storage-error.js';
import { IndexBuilder, rewriteIndexFile, usedBytes } from './index-rebuild.js';
import { MappedFile, type MappedFileOptions, type ReserveHook } from './mapped-file.js';
import { OFFSET_ENTRY_BYTES, OffsetIndex, type OffsetIndexEntry } from './offset-index.js';
import {
  HEADER_BYTES,
  OFF_BATCH_LENGTH,
  batchBaseOffset,
  batchLastOffset,
  batchLastOffsetDelta,
  batchMaxTimestamp,
  batchProblem,
  batchRecordCount,
  batchSize,
  setBatchBaseOffset,
} from './record-batch.js';
import { TIME_ENTRY_BYTES, TimeIndex } from './time-index.js';

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

function logFileOptions(config: SegmentConfig): Omit<MappedFileOptions, 'writable'> {
  return {
    reserveAheadBytes: config.reserveAheadBytes,
    reserveHook: config.reserveHook,
    background: config.backgroundReserve === true,
    failReservationFromBytes: config.failReservationFromBytes,
  };
}

/** Rewrites an index file whose mapped content `current` is not `entries` (then zeros); true if it did. */
function rewriteIfChanged(file: string, entries: Buffer): boolean {
  // read(), not the mapping: past its entries an index file is a hole (mapped-file.ts).
  const current = fs.readFileSync(file);
  const used = usedBytes(current);
  if (used <= entries.length && current.compare(entries, 0, entries.length, 0, entries.length) === 0) return false;
  rewriteIndexFile(file, entries, used);
  return true;
}

/** A damaged range of a .log: [offset, nextOffset) is unreadable; intact data resumes at resumePos. */
interface Damage {
  pos: number;
  offset: number;
  resumePos: number;
  nextOffset: number;
  reason: string;
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
  /** maxTimestamp was checked against the log's batch headers (confirmMaxTimestamp). */
  private timestampConfirmed = false;
  /** Base offset of the last batch (for the seal's time-index entry). */
  private lastBatchBaseOffset = -1;
  private bytesSinceIndexEntry = 0;
  /**
   * CRC bookkeeping, so each batch's CRC is checked at most once per process: batches in
   * [0, verifiedEnd) and in [runStart, runEnd) (the latest run of reads that did not start at
   * verifiedEnd) were checked by a read; batches at or after verifiedFrom were appended (and
   * validated) by this process or re-checked by recovery. Everything else was on disk before open
   * and is checked on its first read.
   */
  private verifiedEnd = 0;
  private verifiedFrom = 0;
  private runStart = 0;
  private runEnd = 0;
  /** Damaged ranges of the .log found so far (few; each is searched for once per process). */
  private damages: Damage[] = [];
  /** While rebuildIndexes walks past the known data: the pread copy it reads instead of the mapping. */
  private scanCopy: Buffer | null = null;
  /** The index files disagreed with the log and could not be rewritten: seeks start at position 0. */
  private indexUntrusted = false;
  /** The indexes were rebuilt from the log in this process (at most once). */
  private indexRebuilt = false;
  /** A sealed segment's end entry, taken on trust at open, was checked against the log. */
  private tailChecked = false;
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
  static openActive(dir: string, baseOffset: number, config: SegmentConfig, cleanEndOffset?: number): Segment {
    const seg = new Segment(dir, baseOffset, config, true, 0);
    seg.logFile = MappedFile.open(seg.logPath, { ...logFileOptions(config), writable: true });
    seg.capacityBytes = seg.logFile.sizeBytes;
    seg.openIndexes(true);
    const last = seg.offsetIndexFile!.lastEntry();
    // The walk to the end of the data starts at the last entry: one that points where no batch with
    // its offset starts (damaged; the seal's end entry points at zeros) would cut the data short.
    // (pread: the end entry points past the data, where the file may be a hole; mapped-file.ts.)
    const lastHeader = last === null ? null : seg.readCopy(last.position, Math.min(HEADER_BYTES, Math.max(0, seg.capacityBytes - last.position)));
    const lastUsable =
      last === null ||
      chainOk(lastHeader!, 0, seg.capacityBytes - last.position, baseOffset + last.relativeOffset) ||
      (lastHeader!.length === HEADER_BYTES && lastHeader!.readInt32BE(OFF_BATCH_LENGTH) === 0);
    if (lastUsable) seg.loadTail(last === null ? 0 : last.position, last === null ? baseOffset : baseOffset + last.relativeOffset);
    else seg.loadTail(0, baseOffset);
    // A segment sealed just before a crash (no newer segment was created) ends with the seal's end
    // entry, which points at no batch; drop it so appends can continue the index.
    const end = seg.offsetIndexFile!.lastEntry();
    if (end !== null && end.position >= seg.dataBytes) seg.offsetIndexFile!.truncateTo(seg.offsetIndexFile!.entries - 1);
    seg.bytesSinceIndexEntry = seg.dataBytes - (seg.offsetIndexFile!.lastEntry()?.position ?? 0);
    // The walk stopped before the end offset the clean shutdown recorded: damage, not the end of the
    // data. Appending there would give its offsets (and overwrite the batches after it) to new
    // records: the log past the damage is found instead. (At most one offset per byte is plausible.)
    const cut =
      cleanEndOffset !== undefined && cleanEndOffset > seg.endOffset && cleanEndOffset - seg.endOffset <= seg.capacityBytes - seg.dataBytes;
    if (cut) {
      seg.endOffset = cleanEndOffset;
      seg.rebuildIndexes(true);
    } else if (!lastUsable) seg.rebuildIndexes();
    seg.log.noteDataEnd(seg.dataBytes);
    seg.verifiedFrom = seg.dataBytes;
    if (!seg.isEmpty) seg.firstBatchTimeMs = batchMaxTimestamp(seg.log.buffer, 0);
    return seg;
  }

  /**
   * [from, from + length) of the .log read with pread into a new buffer: for the slow paths that
   * look past the known data (finding it again after damage), where the file may be a hole that
   * must not be touched through the mapping (on tmpfs a read fault allocates: SIGBUS when full).
   */
  private readCopy(from: number, length: number): Buffer {
    const out = Buffer.alloc(Math.max(0, length));
    if (this.logFile?.hasFd) return this.logFile.readAt(from, out);
    const fd = fs.openSync(this.logPath, 'r');
    try {
      for (let done = 0; done < out.length; ) {
        const n = fs.readSync(fd, out, done, out.length - done, from + done);
        if (n <= 0) break;
        done += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    return out;
  }

  /**
   * Whether a batch with base offset `offset` starts at `position` (header plausible, chain holds),
   * read with pread: for a position taken from an index entry that is not trusted yet (recovery).
   */
  batchStartsAt(position: number, offset: number): boolean {
    const room = this.capacityBytes - position;
    return room >= HEADER_BYTES && chainOk(this.readCopy(position, HEADER_BYTES), 0, room, offset);
  }

  /** Whether the batch the index entry names starts at its position (below `limit`). */
  private entryHolds(e: OffsetIndexEntry, limit: number): boolean {
    return e.position < limit && chainOk(this.log.buffer, e.position, limit, this.baseOffset + e.relativeOffset);
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
   * entry gives end offset and size, the time index's last entry the largest timestamp; the end
   * entry is checked against the log when the segment is first mapped (checkTail). When the end
   * entry disagrees with `nextBaseOffset` (damaged, or sealed by an older crash), the index is not
   * believed: the log is walked (headers, chain, CRC) and both indexes are rebuilt from it.
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
    seg.tailChecked = true;
    seg.mapSealed();
    seg.rebuildIndexes();
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
    try {
      // While the fds are open, so its preads need no open of their own.
      if (!this.tailChecked) this.checkTail();
    } finally {
      this.logFile?.closeFd();
      this.offsetIndexFile?.file.closeFd();
      this.timeIndexFile?.file.closeFd();
    }
  }

  /**
   * The end entry of a sealed segment was taken on trust at open; check it once against the log, by
   * walking batch headers from the last regular entry to the end (about indexIntervalBytes). When
   * they disagree, the indexes are rebuilt from the log.
   */
  private checkTail(): void {
    this.tailChecked = true;
    const oi = this.offsetIndexFile!;
    const n = oi.entries;
    const end = n > 0 ? oi.entry(n - 1) : null;
    let agrees = end !== null && this.baseOffset + end.relativeOffset === this.endOffset && end.position === this.dataBytes;
    if (agrees) {
      const from = n >= 2 ? oi.entry(n - 2) : null;
      const fromHeader = from === null ? null : this.readCopy(from.position, Math.min(HEADER_BYTES, Math.max(0, this.dataBytes - from.position)));
      if (from !== null && !(from.position < this.dataBytes && chainOk(fromHeader!, 0, this.dataBytes - from.position, this.baseOffset + from.relativeOffset))) agrees = false;
      else {
        // Headers by pread: the end entry is what is being checked, and past the real data the file
        // may be a hole (mapped-file.ts). About indexIntervalBytes of batches: a few reads.
        let pos = from?.position ?? 0;
        let expected = this.baseOffset + (from?.relativeOffset ?? 0);
        while (agrees && pos < this.dataBytes) {
          const h = this.readCopy(pos, Math.min(HEADER_BYTES, this.dataBytes - pos));
          if (!chainOk(h, 0, this.dataBytes - pos, expected)) agrees = false;
          else {
            expected = batchLastOffset(h, 0) + 1;
            pos += batchSize(h, 0);
          }
        }
        agrees &&= expected === this.endOffset;
      }
    }
    if (!agrees) this.rebuildIndexes();
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
      for (let h = peek(pos); chainOk(h, 0, limit - pos, next); h = peek(pos)) {
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
    assert(this.active, () => `append to sealed segment ${this.logPath}`);
    assert(offset === this.endOffset, () => `offset ${offset} does not continue ${this.endOffset} in ${this.logPath}`);
    assert(pos + size <= this.capacityBytes, () => `batch of ${size} bytes at ${pos} runs past ${this.logPath}`);
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
    if (this.runEnd > position) this.runStart = this.runEnd = 0;
    this.damages = []; // found again on use
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
    // Indexes that could not be rewritten get no end entries: the next open rebuilds them.
    if (!this.isEmpty && !this.indexUntrusted) {
      this.offsetIndex.append(this.endOffset - this.baseOffset, this.dataBytes);
      if (this.lastBatchBaseOffset < 0) {
        // Unknown after a recovery or a rebuild; a damaged last batch has none to trust.
        const pos = this.seek(this.endOffset - 1, -Infinity, true);
        if (pos >= 0) this.lastBatchBaseOffset = batchBaseOffset(this.log.buffer, pos);
      }
      const rel = this.lastBatchBaseOffset - this.baseOffset;
      const last = this.timeIndex.lastEntry();
      // After a recovery cut the maximum may already sit in the entry of the last batch.
      if (this.lastBatchBaseOffset >= 0 && this.maxTimestamp > this.timeIndex.lastTimestamp && (last === null || rel > last.relativeOffset)) {
        this.timeIndex.append(this.maxTimestamp, rel);
      }
    }
    this.active = false;
    // No more appends: the reserver leaves this file alone from now on.
    this.logFile?.stopReserving();
  }

  // --- reading ----------------------------------------------------------------------------------
  //
  // Every walk knows the offset the next batch must start with (the index entry's, the segment's
  // base, then the previous batch's last offset + 1) and checks it once per batch, with the header
  // (chainOk); a batch is CRC-checked before it is returned or its offsets believed. Damage is
  // stepped over to where intact data resumes (damageAt), or reported with its range.

  /** Position of the batch containing `offset` (which must lie in this segment). */
  positionOf(offset: number): number {
    const pos = this.seek(offset, -Infinity, false);
    if (pos < 0) throw new CorruptRecordError(`offset ${offset} not found in segment`, this.logPath, this.dataBytes);
    return pos;
  }

  /**
   * Pushes whole batches from the one containing `offset` on into `out` (views into the mapping), at
   * least one, then while the total stays within `maxBytes`: only intact ones, so the read stops before
   * damage (a read from there reports it). Returns bytes pushed. Throws CorruptRecordError with the
   * damaged range when `offset` lies in one.
   */
  read(offset: number, maxBytes: number, out: Buffer[]): number {
    return this.readFrom(this.positionOf(offset), maxBytes, out);
  }

  /** As read(), from `position`: an intact batch found by a seek (its chain and CRC are checked). */
  private readFrom(position: number, maxBytes: number, out: Buffer[]): number {
    const buf = this.log.buffer;
    const end = this.dataBytes;
    let pos = position;
    let expected = batchBaseOffset(buf, pos);
    let total = 0;
    while (pos < end) {
      if (pos !== position && !chainOk(buf, pos, end, expected)) break;
      const size = batchSize(buf, pos);
      if (out.length > 0 && total + size > maxBytes) break;
      if (pos !== position && this.crcProblem(pos) !== null) break;
      out.push(buf.subarray(pos, pos + size));
      total += size;
      expected += batchRecordCount(buf, pos); // the chain holds: lastOffsetDelta = count - 1
      pos += size;
      if (total >= maxBytes) break;
    }
    return total;
  }

  /** Checks the batch at `pos` in full (header, bounds, CRC) unless already done in this process. */
  verifyBatch(pos: number): void {
    const problem = this.crcProblem(pos);
    if (problem !== null) throw new CorruptRecordError(`stored record batch is corrupt: ${problem}`, this.logPath, pos);
  }

  /** Why the batch at `pos` fails batchProblem (CRC included), or null; a pass is remembered. */
  private crcProblem(pos: number): string | null {
    if (pos < this.verifiedEnd || pos >= this.verifiedFrom || (pos >= this.runStart && pos < this.runEnd)) return null;
    const buf = this.log.buffer;
    const problem = batchProblem(buf, pos, this.dataBytes);
    if (problem !== null) return problem;
    const next = pos + batchSize(buf, pos);
    if (pos === this.verifiedEnd) this.verifiedEnd = next;
    else if (pos === this.runEnd) this.runEnd = next;
    else {
      this.runStart = pos;
      this.runEnd = next;
    }
    if (this.runStart <= this.verifiedEnd && this.runEnd > this.verifiedEnd) this.verifiedEnd = this.runEnd;
    return null;
  }

  /**
   * Position of the first batch with maxTimestamp >= `timestamp` whose last offset is >= `minOffset`,
   * or -1. Starts from the time index's last entry below the timestamp (see time-index.ts); damaged
   * ranges are stepped over (they hold no timestamp one can trust).
   */
  positionForTimestamp(timestamp: number, minOffset: number): number {
    if (this.isEmpty || this.maxTimestamp < timestamp) return -1;
    const entry = this.indexUntrusted ? null : this.timeIndex.lastBelow(timestamp);
    const from = Math.max(minOffset, this.baseOffset + (entry === null ? 0 : entry.relativeOffset));
    if (from >= this.endOffset) return -1;
    return this.seek(from, timestamp, true);
  }

  /**
   * Walks the chain from the index entry for `offset` to the first intact batch whose last offset is
   * >= `offset` and whose maxTimestamp is >= `timestamp`; returns its position (CRC checked), or -1
   * when the segment ends first. A damaged range on the way is stepped over when `skipDamage`, or
   * when it lies wholly before `offset`; otherwise it is thrown as CorruptRecordError with its range.
   */
  private seek(offset: number, timestamp: number, skipDamage: boolean): number {
    const buf = this.log.buffer;
    let pos = this.startPosition(offset);
    let expected = pos === 0 ? this.baseOffset : batchBaseOffset(buf, pos);
    let prevPos = -1;
    let prevExpected = 0;
    while (expected < this.endOffset) {
      let problem = chainOk(buf, pos, this.dataBytes, expected) ? null : chainProblem(buf, pos, this.dataBytes, expected);
      // A break in the chain is this batch's baseOffset or the previous batch's lastOffsetDelta,
      // which lies inside that batch's CRC: the CRC tells which.
      if (problem !== null && prevPos >= 0) {
        const prevProblem = this.crcProblem(prevPos);
        if (prevProblem !== null) {
          pos = prevPos;
          expected = prevExpected;
          problem = prevProblem;
        }
      }
      if (problem === null) {
        const last = expected + batchRecordCount(buf, pos) - 1;
        if (last >= this.endOffset) problem = `last offset ${last} runs past the segment's end offset ${this.endOffset}`;
        else if (last >= offset && (timestamp === -Infinity || batchMaxTimestamp(buf, pos) >= timestamp)) {
          problem = this.crcProblem(pos);
          if (problem === null) return pos;
        } else {
          prevPos = pos;
          prevExpected = expected;
          expected = last + 1;
          pos += batchSize(buf, pos);
          continue;
        }
      }
      const d = this.damageAt(pos, expected, problem);
      if (!skipDamage && offset < d.nextOffset) throw this.damageError(d);
      prevPos = -1;
      pos = d.resumePos;
      expected = d.nextOffset;
    }
    return -1;
  }

  /**
   * Where a seek for `offset` starts: the index entry for it, checked against the log (the batch
   * there must carry the entry's offset). An entry that points elsewhere means the index (derived
   * data) or the log is damaged there: the log is walked and the index rebuilt from it, once.
   */
  private startPosition(offset: number): number {
    if (this.indexUntrusted) return 0;
    const entry = this.offsetIndex.lookup(offset - this.baseOffset);
    if (entry === null || this.entryHolds(entry, this.dataBytes)) return entry?.position ?? 0;
    if (!this.indexRebuilt) {
      this.rebuildIndexes();
      if (!this.indexUntrusted) {
        const again = this.offsetIndex.lookup(offset - this.baseOffset);
        if (again === null || this.entryHolds(again, this.dataBytes)) return again?.position ?? 0;
      }
    }
    this.indexUntrusted = true;
    return 0;
  }

  /**
   * The damage at `pos`, where a batch with base offset `expected` should start: the damaged range
   * runs to the next intact batch that continues the log (its own end, the next index entries, or
   * a byte search; findResume), else to the end of the segment. Remembered.
   */
  private damageAt(pos: number, expected: number, reason: string): Damage {
    for (const d of this.damages) if (d.pos === pos) return d;
    const buf = this.scanCopy ?? this.log.buffer;
    const end = this.dataBytes;
    let resumePos = end;
    let nextOffset = this.endOffset;
    if (pos < end) {
      const hints: number[] = [];
      if (end - pos >= HEADER_BYTES) hints.push(pos + batchSize(buf, pos));
      if (!this.indexUntrusted) {
        const oi = this.offsetIndex;
        for (let i = 0; i < oi.entries && hints.length < 4; i++) if (oi.entry(i).position > pos) hints.push(oi.entry(i).position);
      }
      const p = findResume(buf, pos, end, expected + 1, this.endOffset, hints);
      if (p >= 0) {
        resumePos = p;
        nextOffset = batchBaseOffset(buf, p);
      }
    }
    const d: Damage = { pos, offset: expected, resumePos, nextOffset, reason };
    this.damages.push(d);
    process.emitWarning(`seglog: ${this.logPath} holds damaged records at offsets ${d.offset}..${d.nextOffset - 1} (position ${pos}: ${reason}); reads of them fail with CORRUPT_RECORD`);
    return d;
  }

  private damageError(d: Damage): CorruptRecordError {
    return new CorruptRecordError(`stored records ${d.offset}..${d.nextOffset - 1} are damaged: ${d.reason}`, this.logPath, d.pos, {
      offset: d.offset,
      nextOffset: d.nextOffset,
    });
  }

  /**
   * Walks the whole log (headers, chain and CRC, stepping over damage) and rewrites both index files
   * from its intact batches (index-rebuild.ts). The log is the truth: the indexes are derived data. A
   * sealed segment's data end is found by the walk too (where the chain reaches endOffset). When
   * the files cannot be rewritten (full disk, read-only), seeks start at position 0 instead.
   */
  private rebuildIndexes(findEnd = !this.active): void {
    this.indexRebuilt = true;
    const sealed = !this.active;
    // The data end (a sealed segment's end entry) is what may be wrong: search as far as the file has
    // blocks, to where the chain reaches endOffset.
    if (findEnd) this.dataBytes = this.scanLimit();
    // Past the known data the file may be a hole: then the walk reads a pread copy, not the mapping.
    const buf = findEnd ? (this.scanCopy = this.readCopy(0, this.dataBytes)) : this.log.buffer;
    try {
      this.rebuildFrom(buf, findEnd, sealed);
    } finally {
      this.scanCopy = null;
    }
  }

  private rebuildFrom(buf: Buffer, findEnd: boolean, sealed: boolean): void {
    const builder = new IndexBuilder(this.config.indexIntervalBytes);
    this.damages = [];
    let firstDamage = -1;
    let pos = 0;
    let expected = this.baseOffset;
    while (expected < this.endOffset) {
      let problem = chainProblem(buf, pos, this.dataBytes, expected) ?? batchProblem(buf, pos, this.dataBytes);
      const last = problem === null ? batchLastOffset(buf, pos) : -1;
      if (problem === null && last >= this.endOffset) problem = `last offset ${last} runs past the segment's end offset ${this.endOffset}`;
      if (problem === null) {
        const size = batchSize(buf, pos);
        builder.add(pos, size, expected - this.baseOffset, batchMaxTimestamp(buf, pos));
        expected = last + 1;
        pos += size;
        continue;
      }
      const d = this.damageAt(pos, expected, problem);
      if (firstDamage < 0) firstDamage = pos;
      builder.skipped();
      pos = d.resumePos;
      expected = d.nextOffset;
    }
    if (findEnd) {
      // Damage that runs to the end leaves the end of the data unknown: the damaged batch's own
      // length if it fits, or the last non-zero byte.
      if (pos === this.dataBytes && firstDamage >= 0) {
        const last = this.damages[this.damages.length - 1]!.pos;
        const claimed = this.dataBytes - last >= HEADER_BYTES ? batchSize(buf, last) : 0;
        pos = Math.max(last + 1, claimed >= HEADER_BYTES && claimed <= pos - last ? last + claimed : 0, usedBytes(buf.subarray(0, pos)));
      }
      for (const d of this.damages) if (d.resumePos > pos) d.resumePos = pos;
      this.dataBytes = pos;
    }
    if (sealed) {
      this.verifiedFrom = Number.MAX_SAFE_INTEGER; // nothing appended by this process
      builder.seal(this.endOffset - this.baseOffset, this.dataBytes);
    }
    this.maxTimestamp = builder.maxTimestamp;
    this.verifiedEnd = firstDamage >= 0 ? firstDamage : this.dataBytes;
    this.runStart = this.runEnd = 0;
    let rewritten = false;
    try {
      const offsetEntries = builder.offsetIndexBytes();
      const timeEntries = this.dataBytes > 0 ? builder.timeIndexBytes() : Buffer.alloc(0);
      rewritten = rewriteIfChanged(this.indexPath, offsetEntries);
      rewritten = rewriteIfChanged(this.timeIndexPath, timeEntries) || rewritten;
      this.offsetIndex.reload(offsetEntries.length / OFFSET_ENTRY_BYTES);
      this.timeIndex.reload(timeEntries.length / TIME_ENTRY_BYTES);
      this.indexUntrusted = false;
    } catch (e) {
      this.indexUntrusted = true;
      process.emitWarning(`seglog: could not rewrite the indexes of ${this.logPath}; seeks start at position 0: ${(e as Error).message}`);
    }
    if (this.active) {
      this.bytesSinceIndexEntry = this.dataBytes - (this.offsetIndex.lastEntry()?.position ?? 0);
      this.lastBatchBaseOffset = builder.lastRelativeOffset < 0 ? -1 : this.baseOffset + builder.lastRelativeOffset;
    }
    if (rewritten) process.emitWarning(`seglog: the indexes of ${this.logPath} disagreed with the log and were rebuilt from it`);
  }

  /** How far a sealed segment's file holds blocks (a hole reads as zeros: no data past it). */
  private scanLimit(): number {
    let allocated = 0;
    try {
      allocated = fs.statSync(this.logPath).blocks * 512;
    } catch {
      // unknown: the whole file
    }
    return Math.min(this.capacityBytes, allocated > 0 ? Math.max(allocated, this.dataBytes) : this.capacityBytes);
  }

  /**
   * Checks a sealed segment's largest timestamp (read from its time index at open) against the log's
   * batch headers, once per process, before retention deletes the segment by age: a damaged index
   * entry that still looks ordered must not make records look older than they are. The result only
   * ever rises (a walk stopped by damage keeps the larger of both), so it can delay a deletion,
   * never hasten one. Returns whether the figure changed.
   */
  confirmMaxTimestamp(): boolean {
    if (this.active || this.timestampConfirmed || this.isEmpty) return false;
    this.timestampConfirmed = true;
    const buf = this.log.buffer;
    const end = this.dataBytes;
    let max = -Infinity;
    let expected = this.baseOffset;
    for (let pos = 0, batches = 0; pos < end && batches < end; batches++) {
      if (!chainOk(buf, pos, end, expected)) break;
      const ts = batchMaxTimestamp(buf, pos);
      if (ts > max) max = ts;
      expected = batchLastOffset(buf, pos) + 1;
      pos += batchSize(buf, pos);
    }
    if (max <= this.maxTimestamp) return false;
    process.emitWarning(`seglog: the time index of ${this.logPath} said its newest record is from ${this.maxTimestamp}, the log says ${max}; using the log's`);
    this.maxTimestamp = max;
    return true;
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
