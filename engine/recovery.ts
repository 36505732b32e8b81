// Recovery of a partition log after an unclean shutdown (engine/FORMAT.md §2.7).
//
// What is trusted: everything below the recovery point, a checkpoint of the end offset written after
// each successful flush (data and indexes of every segment holding offsets below it were synced).
// What is checked: the rest. That is the segment holding the recovery point, from its last offset-index
// entry below the point, and every segment after it, from position 0. Each batch must pass
// batchProblem (sane header, length inside the segment, CRC-32C) and continue the offsets (its base
// offset is the previous batch's last offset + 1, and each segment starts where the previous ended).
//
// At the first bad batch the log is cut: later segments are removed, the bytes after the cut are zeroed
// (they could otherwise be read as data later, e.g. a valid batch behind a torn one), and the index
// entries of the scanned range are rebuilt as the batches are re-noted. The work depends only on the
// unflushed tail, never on the number of sealed segments.
import fs from 'node:fs';
import path from 'node:path';
import { DiskFullError } from './format/errors.js';
import type { MappedFile } from './mapped-file.js';
import {
  HEADER_BYTES,
  LOG_OVERHEAD,
  OFF_BATCH_LENGTH,
  batchBaseOffset,
  batchLastOffset,
  batchMaxTimestamp,
  batchProblem,
  batchSize,
} from './record-batch.js';
import type { Segment } from './segment.js';
import { LIMITS } from './topic-registry.js';

export const CLEAN_SHUTDOWN_MARKER = '.clean-shutdown';
export const RECOVERY_POINT_FILE = 'recovery-point.checkpoint';

export interface RecoveryReport {
  clean: boolean;
  scannedBytes: number;
  truncated: null | { segment: string; position: number; bytes: number; reason: string };
}

export interface RecoveryOutcome {
  report: RecoveryReport;
  /** Segments (a suffix of the input) to remove entirely: they lie after the cut. */
  removed: Segment[];
  /**
   * Set when the bytes after the cut could not be zeroed for lack of space (DISK_FULL): the last kept
   * segment must not be appended to until `zeroTail(segment, segment.dataBytes)` succeeds.
   */
  pendingZero: Segment | null;
}

const ZERO_CHECK_BYTES = 64 * 1024;
const zeroBlock = Buffer.alloc(ZERO_CHECK_BYTES);

/**
 * Checks and repairs `segments` (opened writable, oldest first; the first one holds the recovery
 * point) in place. `startPosition`/`startOffset`: where checking begins in the first segment (0 and its
 * base offset, or an offset-index entry below the recovery point). All but the last kept segment must
 * be sealed by the caller afterwards.
 */
export function recoverSegments(segments: Segment[], startPosition: number, startOffset: number): RecoveryOutcome {
  const report: RecoveryReport = { clean: false, scannedBytes: 0, truncated: null };
  let expected = startOffset;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    if (i > 0 && seg.baseOffset !== expected) {
      // A gap or overlap between segments: nothing from here on can be trusted as contiguous.
      const removed = segments.slice(i);
      report.truncated ??= {
        segment: path.basename(seg.logPath),
        position: 0,
        bytes: removed.reduce((n, s) => n + s.capacityBytes, 0),
        reason: `segment starts at offset ${seg.baseOffset} but the previous one ends at ${expected}; ${removed.length} segment(s) removed`,
      };
      return { report, removed, pendingZero: null };
    }
    const from = i === 0 ? startPosition : 0;
    const fromOffset = i === 0 ? startOffset : seg.baseOffset;
    const result = scanSegment(seg, from, fromOffset);
    report.scannedBytes += result.scannedBytes;
    expected = seg.endOffset;
    if (result.truncated !== null) {
      const removed = segments.slice(i + 1);
      const suffix = removed.length > 0 ? `; ${removed.length} later segment(s) removed` : '';
      report.truncated = { ...result.truncated, reason: result.truncated.reason + suffix };
      return { report, removed, pendingZero: result.zeroed ? null : seg };
    }
  }
  return { report, removed: [], pendingZero: null };
}

interface ScanResult {
  scannedBytes: number;
  truncated: null | { segment: string; position: number; bytes: number; reason: string };
  /** False when zeroing after the cut failed for lack of space (see RecoveryOutcome.pendingZero). */
  zeroed: boolean;
}

/** Validates one segment from `position` on, re-indexing good batches; cuts and zeros the rest. */
export function scanSegment(seg: Segment, position: number, offset: number): ScanResult {
  seg.resetTail(position, offset);
  const log = seg.log;
  const limit = seg.capacityBytes;
  let pos = position;
  let expected = offset;
  let problem: string | null = null;
  let scannedBytes = 0;
  for (;;) {
    if (pos >= limit) break;
    // Read with pread, not through the mapping: a torn tail can end in a hole (mapped-file.ts).
    const batch = readBatchAt(log, pos, limit);
    problem =
      batch === null
        ? `only ${limit - pos} bytes left, or a batch length beyond the ${RECOVERY_BATCH_BYTES_MAX} bytes any batch may have`
        : batchProblem(batch, 0, batch.length);
    if (problem === null && batchBaseOffset(batch!, 0) !== expected) {
      problem = `base offset ${batchBaseOffset(batch!, 0)} does not continue at ${expected}`;
    }
    if (problem !== null) break;
    const size = batchSize(batch!, 0);
    const last = batchLastOffset(batch!, 0);
    seg.noteBatch(pos, size, expected, last, batchMaxTimestamp(batch!, 0));
    scannedBytes += size;
    expected = last + 1;
    pos += size;
  }
  seg.finishTail();
  if (batchScratch.length > BATCH_SCRATCH_BYTES_KEPT) batchScratch = Buffer.alloc(BATCH_SCRATCH_BYTES_KEPT);
  let dirtyEnd: number;
  let zeroed = true;
  try {
    dirtyEnd = zeroTail(seg, pos);
  } catch (e) {
    if (!(e instanceof DiskFullError)) throw e;
    zeroed = false;
    dirtyEnd = fs.statSync(seg.logPath).blocks * 512;
  }
  const truncated =
    dirtyEnd > pos || !zeroed
      ? {
          segment: path.basename(seg.logPath),
          position: pos,
          bytes: Math.max(0, dirtyEnd - pos),
          reason: (problem ?? 'bytes after the end of data') + (zeroed ? '' : '; zeroing them needs free space, so the partition is read-only until space exists'),
        }
      : null;
  return { scannedBytes, truncated, zeroed };
}

/**
 * Zeros every non-zero byte after `end` in the part of the file that has blocks (st_blocks tells how
 * far writes and reservations reached; past it the file is a hole and reads as zeros). Returns the end
 * of the last non-zero byte found (== end when the tail was already clean).
 */
export function zeroTail(seg: Segment, end: number): number {
  const log = seg.log;
  const allocatedBytes = fs.statSync(seg.logPath).blocks * 512;
  const limit = Math.min(log.sizeBytes, Math.max(end, allocatedBytes));
  const chunk = Buffer.alloc(ZERO_CHECK_BYTES);
  let lastDirty = end;
  for (let pos = end; pos < limit; pos += ZERO_CHECK_BYTES) {
    const to = Math.min(limit, pos + ZERO_CHECK_BYTES);
    // pread: st_blocks can overcount (metadata blocks), so part of this range may be a hole.
    log.readAt(pos, chunk.subarray(0, to - pos));
    if (chunk.compare(zeroBlock, 0, to - pos, 0, to - pos) === 0) continue;
    let first = 0;
    while (chunk[first] === 0) first++;
    let last = to - pos;
    while (last > first && chunk[last - 1] === 0) last--;
    // Only the non-zero bytes are rewritten: they have blocks, so this needs no free space.
    log.writeZeros(pos + first, pos + last);
    lastDirty = pos + last;
  }
  return lastDirty;
}

/** Scratch for batches read during recovery; grows to the largest batch seen, shrinks back after a scan. */
const BATCH_SCRATCH_BYTES_KEPT = 1024 * 1024;
let batchScratch = Buffer.alloc(BATCH_SCRATCH_BYTES_KEPT);
const headerScratch = Buffer.alloc(HEADER_BYTES);

/**
 * No stored batch is larger than a topic's largest maxBatchBytes: a torn header claiming more is
 * refused before its bytes are read (a garbage length must not make recovery allocate up to a
 * whole segment).
 */
export const RECOVERY_BATCH_BYTES_MAX = LIMITS.maxBatchBytesMax;

/** The batch at `pos` read with pread (a view of the scratch), or null when no header fits or its length cannot be a batch's. */
function readBatchAt(log: MappedFile, pos: number, limit: number): Buffer | null {
  if (limit - pos < HEADER_BYTES) return null;
  log.readAt(pos, headerScratch);
  const length = headerScratch.readInt32BE(OFF_BATCH_LENGTH);
  const size = length + LOG_OVERHEAD;
  if (size > RECOVERY_BATCH_BYTES_MAX) return null;
  if (length < HEADER_BYTES - LOG_OVERHEAD || size > limit - pos) return headerScratch;
  if (batchScratch.length < size) batchScratch = Buffer.alloc(size);
  return log.readAt(pos, batchScratch.subarray(0, size));
}
