// The log of one partition on disk: a directory of segments (segment.ts), the newest one active.
//
// Files in the directory:
//   <20-digit base>.log/.index/.timeindex   segments (see segment.ts, offset-index.ts, time-index.ts)
//   log-start-offset.checkpoint             first readable offset (rises with retention; checkpoint-file.ts)
//   recovery-point.checkpoint               end offset known flushed (recovery.ts)
//   .clean-shutdown                         written by close(), removed right after open
//   .lock                                   one writer per directory (dir-lock.ts)
//   <20-digit offset>.snapshot              idempotent producers' state below that offset (producer-state.ts)
//   *.deleted                               segments waiting for their delayed deletion
//
// Durability (README "Durability contract"): append() returns when the batch is in the mapping, i.e. the page cache
// ("written": survives a process crash). flush() resolves when it is on disk ("flushed"), with group
// commit: one sync cycle serves every caller that arrived before it started.
import fs from 'node:fs';
import { writeCleanMarker } from './clean-marker.js';
import path from 'node:path';
import { writeCheckpoint, writeCheckpointSync } from './checkpoint-file.js';
import { acquireDirLock, type DirLock } from './dir-lock.js';
import {
  BatchTooLargeError,
  ClosedError,
  CorruptRecordError,
  DiskFullError,
  InvalidArgumentError,
  InvalidRecordError,
  IoError,
  OffsetOutOfRangeError,
  SeglogError,
} from './format/errors.js';
import { PARTITION_LOG_LIMITS, PRODUCER_STATE_LIMITS } from './limits.js';
import {
  dropSnapshotsAfter,
  lastSequence,
  loadNewestSnapshot,
  ProducerStateTable,
  writeSnapshot,
  writeSnapshotSync,
} from './producer-state.js';
import { warn } from './warn.js';
import { storageError } from './storage-error.js';
import { RESERVE_AHEAD_BYTES_DEFAULT, type ReserveHook } from './mapped-file.js';
import {
  batchBaseOffset,
  batchLastOffsetDelta,
  forEachRecord,
  OFF_BASE_SEQUENCE,
  OFF_PRODUCER_EPOCH,
  OFF_PRODUCER_ID,
  readInt32,
  readInt64,
  validateOwnBatch,
  validateProducerBatch,
} from './record-batch.js';
import { LOG_START_OFFSET_FILE, loadLog, type LoadedLog } from './log-loader.js';
import { CLEAN_SHUTDOWN_MARKER, RECOVERY_POINT_FILE, zeroTail, type RecoveryReport } from './recovery.js';
import { DELETED_SUFFIX, Segment, type SegmentConfig } from './segment.js';

export type { RecoveryReport } from './recovery.js';

/** Re-exported from log-loader.ts, which reads it at open. */
export { LOG_START_OFFSET_FILE } from './log-loader.js';

export const SEGMENT_BYTES_MIN = PARTITION_LOG_LIMITS.segmentBytesMin;
export const SEGMENT_BYTES_MAX = PARTITION_LOG_LIMITS.segmentBytesMax;
export const MAPPED_SEALED_SEGMENTS_MAX = PARTITION_LOG_LIMITS.mappedSealedSegmentsMax;
const L = PARTITION_LOG_LIMITS;

export interface PartitionLogOptions {
  /** The partition directory, created if missing. */
  dir: string;
  /** Fixed logical size of each segment file; default 128 MiB; 64 KiB..1 GiB. */
  segmentBytes?: number;
  /** Roll after this long since the segment's first batch; default 7 days. */
  segmentMs?: number;
  /** Default 4096. */
  indexIntervalBytes?: number;
  /** Default 1 MiB (a batch must also fit in one segment). */
  maxBatchBytes?: number;
  /** Background flush of written data; default 1000; 0 = off. */
  flushIntervalMs?: number;
  /** Delay between a segment's removal from the log and the freeing of its blocks; default 60_000. */
  fileDeleteDelayMs?: number;
  /** Injectable clock (segmentMs). */
  now?: () => number;
  /** E.g. "orders-0", used in error messages. */
  name?: string;
  /**
   * Upper bound of real disk blocks (zeros) kept reserved ahead of the active segment's write
   * position, so a full disk is a DiskFullError and never a SIGBUS. The window starts at 64 KiB (or
   * this, if smaller) and grows with the segment's data up to this bound, so a quiet partition holds
   * little. Default 8 MiB; 4 KiB..segmentBytes. On tmpfs (memory mode) reserved blocks are RAM: keep
   * it small there.
   */
  reserveAheadBytes?: number;
  /**
   * Write the reservation zeros on the process's reserver thread (one per process, shared by all
   * logs), so appends rarely pay for them. Default true; false reserves on the calling thread.
   */
  backgroundReserve?: boolean;
  /** Test hook: runs before every block reservation; throw an ENOSPC error to simulate a full disk. */
  reserveHook?: ReserveHook;
  /** Test hook: reservation writes reaching past this position of a .log fail with ENOSPC, in either thread. */
  failReservationFromBytes?: number;
  /** Idempotent producers remembered (least recently appended forgotten first); default 2000. */
  maxProducers?: number;
}

export interface AppendOptions {
  /**
   * The batch was encoded by this process (e.g. Engine.produce), so its CRC is known good: skip the
   * CRC check (header and length are still checked). Never set it for bytes from elsewhere.
   */
  trusted?: boolean;
}

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** An idempotent producer's batch that is already stored: nothing was written, the offsets are the stored batch's. */
  duplicate?: boolean;
}

/** A producer field of a batch header: int16 at `at`, signed. */
const readInt16 = (buf: Uint8Array, at: number): number => (((buf[at]! << 8) | buf[at + 1]!) << 16) >> 16;

export interface SegmentInfo {
  baseOffset: number;
  /** Next offset after its last record. */
  endOffset: number;
  /** Bytes of data. */
  sizeBytes: number;
  maxTimestamp: number | null;
  active: boolean;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function intOption(value: number | undefined, fallback: number, min: number, max: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${what} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return v;
}

interface PendingDelete {
  paths: string[];
  timer: NodeJS.Timeout;
}

export class PartitionLog {
  readonly dir: string;
  readonly name: string;
  readonly recovery: RecoveryReport;
  private readonly segmentConfig: SegmentConfig;
  private readonly segmentMs: number;
  private readonly maxBatchBytes: number;
  private readonly fileDeleteDelayMs: number;
  private readonly now: () => number;
  private readonly lock: DirLock;

  /** Oldest first; the last one is active. */
  private segs: Segment[];
  private logStartOffset: number;
  private sealedMaxTimestamp = -Infinity;
  private readonly mappedSealed = new Map<Segment, true>();
  private readonly pendingDeletes = new Set<PendingDelete>();

  /**
   * Recovery cut the log but could not zero the bytes after the cut for lack of space: until that
   * succeeds (tried again at every append) the log is read-only, because an append could otherwise
   * leave old bytes behind its data that a later open would take for batches.
   */
  private pendingZero: Segment | null = null;
  private closed = false;
  private closePromise: Promise<void> | null = null;
  private flushCycle: Promise<void> | null = null;
  private nextFlush: Deferred | null = null;
  private recoveryPoint: number;
  private flushTimer: NodeJS.Timeout | null = null;
  /**
   * Idempotent producers' state; null until the first batch with a producer id, then loaded from
   * the newest snapshot plus the batch headers after it (so a partition without idempotent
   * producers never reads either).
   */
  private producers: ProducerStateTable | null = null;
  private readonly maxProducers: number;
  /** The offset of the newest snapshot on disk that this process wrote or loaded, if any. */
  private snapshotOffset: number | null = null;
  /** Taken at a roll (the state as of the sealed segment's end), written by the next flush cycle once that is on disk. */
  private pendingSnapshot: { offset: number; bytes: Buffer } | null = null;

  private constructor(
    options: PartitionLogOptions,
    lock: DirLock,
    segs: Segment[],
    logStartOffset: number,
    recoveryPoint: number,
    report: RecoveryReport,
    segmentConfig: SegmentConfig,
  ) {
    this.dir = options.dir;
    this.name = options.name ?? path.basename(options.dir);
    this.segmentConfig = segmentConfig;
    this.segmentMs = intOption(options.segmentMs, L.segmentMsDefault, 1, Number.MAX_SAFE_INTEGER, 'segmentMs');
    this.maxBatchBytes = Math.min(
      intOption(options.maxBatchBytes, L.maxBatchBytesDefault, L.maxBatchBytesMin, SEGMENT_BYTES_MAX, 'maxBatchBytes'),
      segmentConfig.segmentBytes,
    );
    this.fileDeleteDelayMs = intOption(options.fileDeleteDelayMs, L.fileDeleteDelayMsDefault, 0, L.timerDelayMsMax, 'fileDeleteDelayMs');
    this.now = options.now ?? Date.now;
    this.maxProducers = intOption(options.maxProducers, PRODUCER_STATE_LIMITS.producersPerPartitionDefault, 1, PRODUCER_STATE_LIMITS.producersPerPartitionMax, 'maxProducers');
    this.lock = lock;
    this.segs = segs;
    this.logStartOffset = logStartOffset;
    this.recoveryPoint = recoveryPoint;
    this.recovery = report;
    for (let i = 0; i < segs.length - 1; i++) this.sealedMaxTimestamp = Math.max(this.sealedMaxTimestamp, segs[i]!.maxTimestamp);
    const flushIntervalMs = intOption(options.flushIntervalMs, L.flushIntervalMsDefault, 0, L.timerDelayMsMax, 'flushIntervalMs');
    if (flushIntervalMs > 0) {
      this.flushTimer = setInterval(() => this.backgroundFlush(), flushIntervalMs);
      this.flushTimer.unref();
    }
  }

  /** Opens (creating if needed) the partition directory: takes its lock, then recovers if needed. */
  static open(options: PartitionLogOptions): PartitionLog {
    if (typeof options?.dir !== 'string' || options.dir === '') throw new InvalidArgumentError('PartitionLog needs a dir');
    const segmentBytes = intOption(options.segmentBytes, L.segmentBytesDefault, SEGMENT_BYTES_MIN, SEGMENT_BYTES_MAX, 'segmentBytes');
    const indexIntervalBytes = intOption(options.indexIntervalBytes, L.indexIntervalBytesDefault, 1, SEGMENT_BYTES_MAX, 'indexIntervalBytes');
    const config: SegmentConfig = {
      segmentBytes,
      indexIntervalBytes,
      reserveAheadBytes: intOption(options.reserveAheadBytes, RESERVE_AHEAD_BYTES_DEFAULT, L.reserveAheadOptionBytesMin, SEGMENT_BYTES_MAX, 'reserveAheadBytes'),
      backgroundReserve: options.backgroundReserve !== false,
      reserveHook: options.reserveHook,
      failReservationFromBytes: options.failReservationFromBytes,
    };
    const dir = options.dir;
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw storageError(e, `creating partition directory ${dir}`);
    }
    const lock = acquireDirLock(dir);
    let loaded: LoadedLog | null = null;
    try {
      loaded = loadLog(dir, config);
      // Snapshots past the recovered end hold batches a crash took away: gone before any append can pass them.
      dropSnapshotsAfter(dir, loaded.segments[loaded.segments.length - 1]!.endOffset);
      const log = new PartitionLog(options, lock, loaded.segments, loaded.logStartOffset, loaded.recoveryPoint, loaded.report, config);
      log.pendingZero = loaded.pendingZero;
      return log;
    } catch (e) {
      for (const seg of loaded?.segments ?? []) seg.dropAll();
      lock.release();
      throw storageError(e, `opening partition log ${dir}`);
    }
  }

  // --- state ------------------------------------------------------------------------------------

  private get active(): Segment {
    return this.segs[this.segs.length - 1]!;
  }

  get startOffset(): number {
    return this.logStartOffset;
  }

  get endOffset(): number {
    return this.active.endOffset;
  }

  get sizeBytes(): number {
    let total = 0;
    for (const seg of this.segs) total += seg.dataBytes;
    return total;
  }

  get newestTimestamp(): number | null {
    const max = Math.max(this.sealedMaxTimestamp, this.active.maxTimestamp);
    return max === -Infinity ? null : max;
  }

  segments(): SegmentInfo[] {
    return this.segs.map((seg) => ({
      baseOffset: seg.baseOffset,
      endOffset: seg.endOffset,
      sizeBytes: seg.dataBytes,
      maxTimestamp: seg.maxTimestamp === -Infinity ? null : seg.maxTimestamp,
      active: seg.active,
    }));
  }

  /**
   * Before retention deletes the oldest `count` segments by age: confirms their largest timestamps
   * against the log (Segment.confirmMaxTimestamp). True when one rose, so the plan must be made again.
   */
  confirmTimestampsForRetention(count: number): boolean {
    let changed = false;
    for (let i = 0; i < count && i < this.segs.length; i++) {
      const seg = this.segs[i]!;
      if (seg.active) break;
      this.touch(seg);
      if (seg.confirmMaxTimestamp()) changed = true;
    }
    if (changed) for (let i = 0; i < this.segs.length - 1; i++) this.sealedMaxTimestamp = Math.max(this.sealedMaxTimestamp, this.segs[i]!.maxTimestamp);
    return changed;
  }

  private checkOpen(): void {
    if (this.closed) throw new ClosedError(`partition log ${this.name}`);
  }

  // --- appending --------------------------------------------------------------------------------

  /**
   * Validates the batch, then copies it into the active segment and stamps its base offset there (the
   * caller's buffer is not touched). On any error nothing was written.
   */
  append(batch: Uint8Array, options?: AppendOptions): AppendResult {
    this.checkOpen();
    if (!(batch instanceof Uint8Array)) throw new InvalidArgumentError('append needs the batch as a Uint8Array');
    const size = batch.length;
    if (size > this.maxBatchBytes) throw new BatchTooLargeError(size, this.maxBatchBytes);
    if (options?.trusted === true) validateOwnBatch(batch);
    else validateProducerBatch(batch);
    const lastOffsetDelta = batchLastOffsetDelta(batch, 0);
    // Idempotent producers (producerId >= 0): a batch already stored is answered with its offsets
    // and not written again; a gap or an old epoch is refused before anything is written.
    const producerId = readInt64(batch, OFF_PRODUCER_ID);
    let table: ProducerStateTable | null = null;
    let epoch = 0;
    let firstSeq = 0;
    let lastSeq = 0;
    if (producerId >= 0) {
      epoch = readInt16(batch, OFF_PRODUCER_EPOCH);
      firstSeq = readInt32(batch, OFF_BASE_SEQUENCE);
      if (epoch < 0 || firstSeq < 0) throw new InvalidRecordError(`batch of producer ${producerId} has epoch ${epoch} and base sequence ${firstSeq}: both must be >= 0`);
      lastSeq = lastSequence(firstSeq, lastOffsetDelta);
      table = this.producerState();
      const stored = table.check(producerId, epoch, firstSeq, lastSeq);
      if (stored !== null) return { baseOffset: stored.baseOffset, lastOffset: stored.baseOffset + stored.lastOffsetDelta, duplicate: true };
    }
    if (this.pendingZero !== null) this.finishRepair();
    const nowMs = this.now();
    let seg = this.active;
    if (
      !seg.isEmpty &&
      (!seg.canFit(size, lastOffsetDelta) || (seg.firstBatchTimeMs !== null && nowMs - seg.firstBatchTimeMs >= this.segmentMs))
    ) {
      this.rollActive();
      seg = this.active;
    }
    const baseOffset = seg.endOffset;
    seg.append(batch, baseOffset, nowMs);
    if (table !== null) table.record(producerId, epoch, firstSeq, lastSeq, baseOffset, lastOffsetDelta);
    return { baseOffset, lastOffset: baseOffset + lastOffsetDelta };
  }

  /** Producers this partition remembers now (loads the state if needed). */
  get producerCount(): number {
    this.checkOpen();
    return this.producerState().size;
  }

  private producerState(): ProducerStateTable {
    if (this.producers !== null) return this.producers;
    const table = new ProducerStateTable(this.name, this.maxProducers);
    const end = this.endOffset;
    const from = loadNewestSnapshot(this.dir, end, table);
    this.snapshotOffset = from;
    this.rebuildProducers(table, Math.max(from ?? 0, this.logStartOffset), end);
    this.producers = table;
    return table;
  }

  /**
   * Replays the producer fields of the batch headers in [from, end) into `table`: what a snapshot
   * does not cover (the tail written since, or everything when there is none). Damaged ranges are
   * skipped (their batches cannot be read, so no retry can be answered from them either). Each round
   * moves `offset` forward by at least one batch, so the loop ends at `end`.
   */
  private rebuildProducers(table: ProducerStateTable, from: number, end: number): void {
    let offset = from;
    while (offset < end) {
      let batches: Buffer[];
      try {
        batches = this.read(offset, PRODUCER_STATE_LIMITS.rebuildReadBytes);
      } catch (e) {
        if (e instanceof CorruptRecordError && e.nextOffset !== undefined && e.nextOffset > offset) {
          offset = e.nextOffset;
          continue;
        }
        throw e;
      }
      if (batches.length === 0) break;
      for (const b of batches) {
        const base = batchBaseOffset(b, 0);
        const delta = batchLastOffsetDelta(b, 0);
        const producerId = readInt64(b, OFF_PRODUCER_ID);
        // A batch starting before `from` is in the snapshot already.
        if (base >= from && producerId >= 0) {
          const seq = readInt32(b, OFF_BASE_SEQUENCE);
          table.record(producerId, readInt16(b, OFF_PRODUCER_EPOCH), seq, lastSequence(seq, delta), base, delta);
        }
        offset = base + delta + 1;
      }
    }
  }

  /** Whether appends are refused until space exists (see pendingZero), and why; null when writable. */
  get readOnlyReason(): string | null {
    return this.pendingZero === null
      ? null
      : `partition log ${this.name} is read-only until space exists: recovery must zero the bytes after the cut in ${path.basename(this.pendingZero.logPath)}`;
  }

  private finishRepair(): void {
    const seg = this.pendingZero!;
    try {
      zeroTail(seg, seg.dataBytes);
    } catch (e) {
      if (e instanceof DiskFullError) throw new DiskFullError(`appending to ${this.name}`, e, this.readOnlyReason!);
      throw e;
    }
    seg.finishTail();
    this.pendingZero = null;
  }

  /** Seals the active segment now and starts a new one (no-op if the active segment is empty). */
  roll(): void {
    this.checkOpen();
    if (this.active.isEmpty) return;
    this.rollActive();
  }

  private rollActive(): void {
    const old = this.active;
    const next = Segment.create(this.dir, old.endOffset, this.segmentConfig);
    try {
      old.seal();
    } catch (e) {
      next.dropAll();
      for (const p of next.filePaths()) fs.rmSync(p, { force: true });
      throw e;
    }
    this.segs.push(next);
    // The producer state as of the sealed segment's end, written once that segment is on disk: a
    // later recovery then reads the batch headers of the newer segments only.
    if (this.producers !== null) this.pendingSnapshot = { offset: old.endOffset, bytes: this.producers.serialize(old.endOffset) };
    this.sealedMaxTimestamp = Math.max(this.sealedMaxTimestamp, old.maxTimestamp);
    this.touch(old);
    // The sealed segment is synced (and its fds closed) off the produce path.
    void this.requestFlush().catch(() => {});
  }

  // --- reading ----------------------------------------------------------------------------------

  /**
   * Whole batches from the one containing `offset` on, as views into the mapping: at least one when
   * offset < endOffset, then as many as fit in maxBytes; may stop at a segment boundary, and stops
   * before a damaged batch (the intact ones come first). When `offset` lies in a damaged range:
   * CorruptRecordError with `offset`/`nextOffset` (a read from nextOffset goes on past it).
   */
  read(offset: number, maxBytes: number): Buffer[] {
    this.checkOpen();
    if (!Number.isSafeInteger(offset)) throw new InvalidArgumentError(`offset must be an integer, got ${String(offset)}`);
    const end = this.endOffset;
    if (offset < this.logStartOffset || offset > end) throw new OffsetOutOfRangeError(offset, this.logStartOffset, end, this.name);
    const out: Buffer[] = [];
    if (offset === end) return out;
    const seg = this.segmentFor(offset);
    this.touch(seg);
    seg.read(offset, Math.max(0, maxBytes), out);
    return out;
  }

  /** First offset (>= startOffset) whose record timestamp is >= `timestamp`, or null. */
  offsetForTimestamp(timestamp: number): number | null {
    this.checkOpen();
    if (typeof timestamp !== 'number' || Number.isNaN(timestamp)) throw new InvalidArgumentError('timestamp must be a number');
    const start = this.logStartOffset;
    for (let i = this.segmentIndexFor(Math.min(start, this.endOffset)); i < this.segs.length; i++) {
      const seg = this.segs[i]!;
      if (seg.isEmpty || seg.endOffset <= start || seg.maxTimestamp < timestamp) continue;
      this.touch(seg);
      const pos = seg.positionForTimestamp(timestamp, start);
      if (pos < 0) continue;
      const buf = seg.log.buffer;
      seg.verifyBatch(pos);
      let found: number | null = null;
      forEachRecord(
        buf,
        (record) => {
          if (record.timestamp < timestamp) return true;
          found = record.offset;
          return false;
        },
        start,
        pos,
      );
      return found ?? Math.max(batchBaseOffset(buf, pos), start);
    }
    return null;
  }

  private segmentIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.segs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.segs[mid]!.baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private segmentFor(offset: number): Segment {
    return this.segs[this.segmentIndexFor(offset)]!;
  }

  /** LRU of mapped sealed segments: the coldest beyond the cap lose their mappings. */
  private touch(seg: Segment): void {
    if (seg.active) return;
    this.mappedSealed.delete(seg);
    this.mappedSealed.set(seg, true);
    if (this.mappedSealed.size <= MAPPED_SEALED_SEGMENTS_MAX) return;
    for (const cold of this.mappedSealed.keys()) {
      if (this.mappedSealed.size <= MAPPED_SEALED_SEGMENTS_MAX) break;
      if (cold === seg) continue;
      this.mappedSealed.delete(cold);
      if (!cold.dirty) cold.releaseMapping(); // a segment waiting for its sync keeps its fds until then
    }
  }

  // --- durability -------------------------------------------------------------------------------

  /** Resolves when everything appended before the call is on disk (group commit). */
  flush(): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError(`partition log ${this.name}`));
    return this.requestFlush();
  }

  private requestFlush(): Promise<void> {
    if (this.flushCycle === null) return this.startFlushCycle();
    // A sync is in flight and may have started before the caller's appends: wait for the next one.
    this.nextFlush ??= deferred();
    return this.nextFlush.promise;
  }

  /**
   * One sync cycle: fdatasync every segment appended to (or sealed) since its last sync, resolve the
   * callers, then advance the recovery point; the next cycle starts only after that.
   */
  private startFlushCycle(): Promise<void> {
    const target = this.endOffset;
    const dirty = this.segs.filter((s) => s.dirty);
    for (const seg of dirty) seg.dirty = false;
    const synced = Promise.all(dirty.map((seg) => seg.sync())).then(
      () => {
        for (const seg of dirty) if (!seg.active && !this.mappedSealed.has(seg)) seg.releaseMapping();
        for (const seg of dirty) if (!seg.active) seg.closeFds();
      },
      (e: unknown) => {
        for (const seg of dirty) seg.dirty = true;
        if (e instanceof SeglogError) throw e;
        throw new IoError(`flush of partition log ${this.name} failed: ${(e as Error).message}`, e);
      },
    );
    this.flushCycle = synced
      .then(() => (target > this.recoveryPoint ? writeCheckpoint(path.join(this.dir, RECOVERY_POINT_FILE), target) : undefined))
      .then(() => {
        if (target > this.recoveryPoint) this.recoveryPoint = target;
        return this.writePendingSnapshot(target);
      })
      .catch(() => {})
      .then(() => {
        this.flushCycle = null;
        const next = this.nextFlush;
        this.nextFlush = null;
        if (next !== null) this.startFlushCycle().then(next.resolve, next.reject);
      });
    return synced;
  }

  /**
   * Writes the snapshot taken at the last roll once the data it covers is synced. A failure (a full
   * disk) only costs a longer rebuild at the next open: the older snapshot and the log still hold the
   * state, so it is dropped, never fatal.
   */
  private async writePendingSnapshot(synced: number): Promise<void> {
    const pending = this.pendingSnapshot;
    if (pending === null || pending.offset > synced) return;
    this.pendingSnapshot = null;
    try {
      await writeSnapshot(this.dir, pending.offset, pending.bytes);
      if (this.snapshotOffset === null || pending.offset > this.snapshotOffset) this.snapshotOffset = pending.offset;
    } catch (e) {
      warn(`producer state snapshot of ${this.name} not written (the next open reads more of the log instead): ${(e as Error).message}`);
    }
  }

  private backgroundFlush(): void {
    if (this.closed || this.flushCycle !== null) return;
    if (!this.segs.some((s) => s.dirty) && this.endOffset <= this.recoveryPoint) return;
    this.requestFlush().catch(() => {
      // the next explicit flush reports it; dirty flags stay set so it is retried
    });
  }

  // --- retention and deletion -------------------------------------------------------------------

  /**
   * Raises the log start offset to max(startOffset, offset) (capped at endOffset; persisted first),
   * then removes every sealed segment that lies wholly below it. Returns how many went.
   */
  deleteSegmentsBefore(offset: number): number {
    this.checkOpen();
    if (!Number.isSafeInteger(offset)) throw new InvalidArgumentError(`offset must be an integer, got ${String(offset)}`);
    const newStart = Math.min(Math.max(this.logStartOffset, offset), this.endOffset);
    if (newStart > this.logStartOffset) {
      writeCheckpointSync(path.join(this.dir, LOG_START_OFFSET_FILE), newStart);
      this.logStartOffset = newStart;
    }
    let removed = 0;
    while (this.segs.length > 1 && this.segs[0]!.endOffset <= newStart) {
      this.retire(this.segs.shift()!);
      removed++;
    }
    if (removed > 0) {
      this.sealedMaxTimestamp = -Infinity;
      for (let i = 0; i < this.segs.length - 1; i++) this.sealedMaxTimestamp = Math.max(this.sealedMaxTimestamp, this.segs[i]!.maxTimestamp);
    }
    return removed;
  }

  /**
   * Removes a segment the way Kafka does (file.delete.delay.ms): views handed out by read() may still
   * sit in socket queues, and mmap-io cannot unmap. So the files are renamed to *.deleted now and our
   * references dropped; after fileDeleteDelayMs they are truncated to 0 (which frees the blocks even
   * while a stale mapping lingers; touching such a mapping afterwards would fault, hence the delay) and
   * unlinked.
   */
  private retire(seg: Segment): void {
    this.mappedSealed.delete(seg);
    seg.dirty = false;
    seg.dropAll();
    const paths: string[] = [];
    for (const p of seg.filePaths()) {
      try {
        fs.renameSync(p, p + DELETED_SUFFIX);
        paths.push(p + DELETED_SUFFIX);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    const pending: PendingDelete = {
      paths,
      timer: setTimeout(() => {
        this.pendingDeletes.delete(pending);
        for (const p of paths) {
          try {
            fs.truncateSync(p, 0);
            fs.rmSync(p, { force: true });
          } catch {
            // already gone (e.g. directory destroyed)
          }
        }
      }, this.fileDeleteDelayMs),
    };
    pending.timer.unref();
    this.pendingDeletes.add(pending);
  }

  // --- closing ----------------------------------------------------------------------------------

  /**
   * Flushes, writes the clean-shutdown marker and releases the lock. Idempotent. Segments waiting for
   * their delayed deletion are unlinked now WITHOUT truncation: unlinking cannot fault a view that is
   * still alive (the inode lives until the last mapping goes), while truncating early could; their
   * blocks are freed when the last view is collected or the process exits.
   */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    if (this.flushTimer !== null) clearInterval(this.flushTimer);
    let flushError: unknown = null;
    try {
      // Twice at most: one cycle may be in flight and have started before the last appends.
      await this.requestFlush();
      if (this.flushCycle !== null) await this.flushCycle;
    } catch (e) {
      flushError = e;
    }
    if (flushError === null) this.snapshotAtClose();
    this.releaseFiles(flushError === null);
    if (flushError !== null) throw flushError;
  }

  /**
   * Closes now, synchronously, if that needs no I/O but the clean-shutdown marker: nothing appended
   * since the last completed flush and no flush running. Returns whether it closed. Lets the engine
   * free a log's descriptors inside a synchronous loop (a read over many partitions).
   */
  closeIfIdleSync(): boolean {
    if (this.closed || this.flushCycle !== null || this.nextFlush !== null) return false;
    if (this.endOffset > this.recoveryPoint || this.segs.some((s) => s.dirty)) return false;
    this.closed = true;
    this.closePromise = Promise.resolve();
    if (this.flushTimer !== null) clearInterval(this.flushTimer);
    this.releaseFiles(true);
    return true;
  }

  /**
   * After the final flush: the producer state as of the end, so the next open reads no batch header
   * at all. Best effort, for the reason given at writePendingSnapshot.
   */
  private snapshotAtClose(): void {
    const end = this.endOffset;
    if (this.producers === null || this.snapshotOffset === end) return;
    try {
      writeSnapshotSync(this.dir, end, this.producers.serialize(end));
      this.snapshotOffset = end;
    } catch (e) {
      warn(`producer state snapshot of ${this.name} not written at close (the next open reads more of the log instead): ${(e as Error).message}`);
    }
  }

  /** The end of a close: pending deletions, descriptors, the clean-shutdown marker, the lock. */
  private releaseFiles(clean: boolean): void {
    for (const pending of this.pendingDeletes) {
      clearTimeout(pending.timer);
      for (const p of pending.paths) fs.rmSync(p, { force: true });
    }
    this.pendingDeletes.clear();
    for (const seg of this.segs) seg.closeFds();
    this.mappedSealed.clear();
    try {
      if (clean && this.pendingZero === null) writeCleanMarker(path.join(this.dir, CLEAN_SHUTDOWN_MARKER), this.endOffset);
    } catch (e) {
      throw storageError(e, `writing the clean-shutdown marker of ${this.name}`);
    } finally {
      this.lock.release();
    }
  }

  /**
   * Topic deletion: closes, then removes the directory. Files are unlinked, not truncated, for the
   * reason given at close(): space held by views still alive is freed when they are collected.
   */
  async destroy(): Promise<void> {
    await this.close().catch(() => {});
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

