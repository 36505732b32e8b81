// Loading a partition's log from its directory at open, as Kafka's LogLoader: removes what an
// earlier process left (deleted segments, temp files, unsized files of a cut-short roll), opens the
// segments, and after an unclean shutdown (no clean marker) recovers the tail from the recovery
// point (recovery.ts). The caller holds the directory's lock.
import fs from 'node:fs';
import { readCleanMarkerEnd } from './clean-marker.js';
import path from 'node:path';
import { readCheckpoint } from './checkpoint-file.js';
import { CLEAN_SHUTDOWN_MARKER, RECOVERY_POINT_FILE, recoverSegments, type RecoveryReport } from './recovery.js';
import { DELETED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, Segment, TIME_INDEX_SUFFIX, type SegmentConfig } from './segment.js';

export const LOG_START_OFFSET_FILE = 'log-start-offset.checkpoint';

/** What a PartitionLog starts from. */
export interface LoadedLog {
  /** Oldest first; the last one is active. */
  segments: Segment[];
  logStartOffset: number;
  /** End offset known flushed. */
  recoveryPoint: number;
  report: RecoveryReport;
  /** Recovery cut this segment but could not zero the bytes after the cut (full disk): see PartitionLog. */
  pendingZero: Segment | null;
}

/** Loads the log in `dir`; on failure the segments it opened are let go again (the error is thrown as is). */
export function loadLog(dir: string, config: SegmentConfig): LoadedLog {
  const opened: Segment[] = [];
  try {
    removeLeftovers(dir);
    const bases = listSegmentBases(dir);
    const checkpointedStart = readCheckpoint(path.join(dir, LOG_START_OFFSET_FILE));
    const markerPath = path.join(dir, CLEAN_SHUTDOWN_MARKER);
    const clean = fs.existsSync(markerPath);
    // The marker holds the end offset at close: the active segment's data must reach it.
    const cleanEndOffset = clean ? (readCleanMarkerEnd(markerPath) ?? undefined) : undefined;
    // Gone right away, so a crash from now on is detected at the next open.
    fs.rmSync(markerPath, { force: true });
    let report: RecoveryReport = { clean: true, scannedBytes: 0, truncated: null };
    let pendingZero: Segment | null = null;
    let recoveryPoint: number;
    if (bases.length === 0) {
      const base = checkpointedStart ?? 0;
      opened.push(Segment.create(dir, base, config));
      // No recovery-point file yet: its absence means "from the first segment", which is this one.
      recoveryPoint = base;
    } else if (clean) {
      for (let i = 0; i < bases.length - 1; i++) opened.push(Segment.openSealed(dir, bases[i]!, bases[i + 1]!, config));
      opened.push(Segment.openActive(dir, bases[bases.length - 1]!, config, cleanEndOffset));
      recoveryPoint = opened[opened.length - 1]!.endOffset;
    } else {
      const point = readCheckpoint(path.join(dir, RECOVERY_POINT_FILE)) ?? bases[0]!;
      let k = 0;
      while (k + 1 < bases.length && bases[k + 1]! <= point) k++;
      for (let i = 0; i < k; i++) opened.push(Segment.openSealed(dir, bases[i]!, bases[i + 1]!, config));
      const tail: Segment[] = [];
      for (let i = k; i < bases.length; i++) {
        const seg = Segment.openActive(dir, bases[i]!, config);
        opened.push(seg);
        tail.push(seg);
      }
      const first = tail[0]!;
      const found = point > first.baseOffset ? first.offsetIndex.lookup(point - first.baseOffset - 1) : null;
      // A damaged entry would make the scan start mid-batch and cut good data: then scan from 0.
      const entry = found !== null && first.batchStartsAt(found.position, first.baseOffset + found.relativeOffset) ? found : null;
      const outcome = recoverSegments(
        tail,
        entry === null ? 0 : entry.position,
        entry === null ? first.baseOffset : first.baseOffset + entry.relativeOffset,
      );
      report = outcome.report;
      pendingZero = outcome.pendingZero;
      for (const seg of outcome.removed) {
        // A fresh process has no views into these: delete at once.
        seg.dropAll();
        for (const p of seg.filePaths()) fs.rmSync(p, { force: true });
        opened.splice(opened.indexOf(seg), 1);
      }
      for (let i = k; i < opened.length; i++) {
        const seg = opened[i]!;
        seg.dirty = true; // repaired bytes and indexes get synced by the next flush
        // Best effort: on a full disk a segment may stay without its end entries (walked at next open).
        if (i < opened.length - 1) seg.seal(true);
      }
      recoveryPoint = Math.min(point, opened[opened.length - 1]!.endOffset);
    }
    const first = opened[0]!;
    const last = opened[opened.length - 1]!;
    const logStartOffset = Math.min(Math.max(checkpointedStart ?? first.baseOffset, first.baseOffset), last.endOffset);
    return { segments: opened, logStartOffset, recoveryPoint, report, pendingZero };
  } catch (e) {
    for (const seg of opened) seg.dropAll();
    throw e;
  }
}


function listSegmentBases(dir: string): number[] {
  const bases: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (!name.endsWith(LOG_SUFFIX) || name.length !== 20 + LOG_SUFFIX.length) continue;
    const base = Number(name.slice(0, 20));
    if (Number.isSafeInteger(base) && /^\d{20}$/.test(name.slice(0, 20))) bases.push(base);
  }
  return bases.sort((a, b) => a - b);
}

/** Leftovers of an earlier process: *.deleted (no mappings exist in a new process) and *.tmp files. */
function removeLeftovers(dir: string): void {
  // A segment file of size 0 was created but not yet sized when a crash cut a roll short (segment files
  // are created at their full size otherwise): it holds nothing, and mapping it would fail. A .log goes
  // (the previous segment is the active one again; its indexes go below); an index is recreated empty.
  for (const name of fs.readdirSync(dir)) {
    if (!(name.endsWith(LOG_SUFFIX) || name.endsWith(INDEX_SUFFIX) || name.endsWith(TIME_INDEX_SUFFIX))) continue;
    const file = path.join(dir, name);
    if (fs.statSync(file).size === 0) fs.rmSync(file, { force: true });
  }
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith(DELETED_SUFFIX) || name.endsWith('.tmp')) fs.rmSync(path.join(dir, name), { force: true });
    // An index without its .log (crash while creating a segment) is recreated with the segment.
    else if ((name.endsWith(INDEX_SUFFIX) || name.endsWith(TIME_INDEX_SUFFIX)) && !fs.existsSync(path.join(dir, name.replace(/\.(index|timeindex)$/, LOG_SUFFIX)))) {
      fs.rmSync(path.join(dir, name), { force: true });
    }
  }
}
