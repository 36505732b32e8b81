// Recovery of a partition log after an unclean shutdown (design.md §5).
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
import { batchBaseOffset, batchLastOffset, batchMaxTimestamp, batchProblem, batchSize } from './record-batch.js';
import type { Segment } from './segment.js';

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
      return { report, removed };
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
      return { report, removed };
    }
  }
  return { report, removed: [] };
}

interface ScanResult {
  scannedBytes: number;
  truncated: null | { segment: string; position: number; bytes: number; reason: string };
}

/** Validates one segment from `position` on, re-indexing good batches; cuts and zeros the rest. */
export function scanSegment(seg: Segment, position: number, offset: number): ScanResult {
  seg.resetTail(position, offset);
  const buf = seg.log.buffer;
  const limit = seg.capacityBytes;
  let pos = position;
  let expected = offset;
  let problem: string | null = null;
  let scannedBytes = 0;
  for (;;) {
    if (pos >= limit) break;
    problem = batchProblem(buf, pos, limit);
    if (problem === null && batchBaseOffset(buf, pos) !== expected) {
      problem = `base offset ${batchBaseOffset(buf, pos)} does not continue at ${expected}`;
    }
    if (problem !== null) break;
    const size = batchSize(buf, pos);
    const last = batchLastOffset(buf, pos);
    seg.noteBatch(pos, size, expected, last, batchMaxTimestamp(buf, pos));
    scannedBytes += size;
    expected = last + 1;
    pos += size;
  }
  seg.finishTail();
  const dirtyEnd = zeroTail(seg, pos);
  const truncated =
    dirtyEnd > pos
      ? { segment: path.basename(seg.logPath), position: pos, bytes: dirtyEnd - pos, reason: problem ?? 'bytes after the end of data' }
      : null;
  return { scannedBytes, truncated };
}

/**
 * Zeros every non-zero byte after `end` in the part of the file that has blocks (st_blocks tells how
 * far writes and reservations reached; past it the file is a hole and reads as zeros). Returns the end
 * of the last non-zero byte found (== end when the tail was already clean).
 */
function zeroTail(seg: Segment, end: number): number {
  const log = seg.log;
  const allocatedBytes = fs.statSync(seg.logPath).blocks * 512;
  const limit = Math.min(log.sizeBytes, Math.max(end, allocatedBytes));
  const buf = log.buffer;
  let lastDirty = end;
  for (let pos = end; pos < limit; pos += ZERO_CHECK_BYTES) {
    const to = Math.min(limit, pos + ZERO_CHECK_BYTES);
    if (buf.compare(zeroBlock, 0, to - pos, pos, to) === 0) continue;
    let last = to;
    while (last > pos && buf[last - 1] === 0) last--;
    log.writeZeros(pos, to);
    lastDirty = last;
  }
  return lastDirty;
}
