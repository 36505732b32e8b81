// The figures of a partition (start and end offset, bytes, segments, newest timestamp) read from its
// files without opening its log: no lock, no mapping, one descriptor at a time for a few preads. So
// describing or planning retention for thousands of partitions neither holds their descriptors nor
// creates the files of partitions never written (a missing directory is an empty partition).
//
// The reads are the ones PartitionLog.open makes after a clean shutdown (engine/FORMAT.md 2.3–2.6):
// sealed segments from their index tails, the active one by a header walk from its last offset-index
// entry. Only a partition whose log was closed cleanly (its .clean-shutdown marker present) is read
// this way: after a crash its figures are what recovery leaves, so its log must be opened.
import fs from 'node:fs';
import { readCleanMarkerEnd } from './clean-marker.js';
import path from 'node:path';
import { readCheckpoint } from './checkpoint-file.js';
import { OFFSET_ENTRY_BYTES, OffsetIndex, type OffsetIndexEntry } from './offset-index.js';
import { LOG_START_OFFSET_FILE } from './log-loader.js';
import type { SegmentInfo } from './partition-log.js';
import { CLEAN_SHUTDOWN_MARKER } from './recovery.js';
import {
  HEADER_BYTES,
  LOG_OVERHEAD,
  MAGIC,
  OFF_BATCH_LENGTH,
  OFF_MAGIC,
  batchBaseOffset,
  batchLastOffset,
  batchMaxTimestamp,
  batchSize,
  readInt64,
} from './record-batch.js';
import { INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, segmentFileName } from './segment.js';
import { TIME_ENTRY_BYTES, TimeIndex, type TimeIndexEntry } from './time-index.js';

export interface PartitionFigures {
  startOffset: number;
  endOffset: number;
  sizeBytes: number;
  newestTimestamp: number | null;
  segments: SegmentInfo[];
}

/** Digits of a segment file's name (segmentFileName's padding). */
const SEGMENT_NAME_DIGITS = 20;
/** Read at once from the start of an index file (one read answers for most segments). */
const INDEX_HEAD_READ_BYTES = 4096;
/** Read at once while walking the active segment's batch headers (past its last index entry: about indexIntervalBytes). */
const WALK_READ_BYTES = 8192;

/** What an empty log starting at `baseOffset` reports: one empty active segment, as an opened log. */
export function emptyFigures(baseOffset = 0): PartitionFigures {
  return {
    startOffset: baseOffset,
    endOffset: baseOffset,
    sizeBytes: 0,
    newestTimestamp: null,
    segments: [{ baseOffset, endOffset: baseOffset, sizeBytes: 0, maxTimestamp: null, active: true }],
  };
}

/**
 * The figures of the closed partition log in `dir`, or null when its files need the log's own open
 * to be understood (no clean-shutdown marker: recovery decides; a sealed segment without its end
 * entry, a missing index, an empty .log left by an interrupted roll): the caller then opens the log.
 * Errors other than a missing directory propagate.
 */
export function readPartitionFigures(dir: string): PartitionFigures | null {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyFigures(0);
    throw e;
  }
  if (!names.includes(CLEAN_SHUTDOWN_MARKER)) return names.length === 0 ? emptyFigures(0) : null;
  const bases = segmentBases(names);
  const checkpointedStart = names.includes(LOG_START_OFFSET_FILE) ? readCheckpoint(path.join(dir, LOG_START_OFFSET_FILE)) : null;
  if (bases.length === 0) return emptyFigures(checkpointedStart ?? 0);
  const segments: SegmentInfo[] = [];
  for (let i = 0; i < bases.length - 1; i++) {
    const seg = sealedSegment(dir, bases[i]!, bases[i + 1]!);
    if (seg === null) return null;
    segments.push(seg);
  }
  const active = activeSegment(dir, bases[bases.length - 1]!);
  if (active === null) return null;
  // The walk stopped short of the end the clean close recorded: damage (FORMAT.md 2.6), which only
  // opening the log sorts out.
  const markedEnd = readCleanMarkerEnd(path.join(dir, CLEAN_SHUTDOWN_MARKER));
  if (markedEnd !== null && markedEnd !== active.endOffset) return null;
  segments.push(active);
  let sizeBytes = 0;
  let newest = -Infinity;
  for (const s of segments) {
    sizeBytes += s.sizeBytes;
    if (s.maxTimestamp !== null && s.maxTimestamp > newest) newest = s.maxTimestamp;
  }
  const first = segments[0]!;
  return {
    startOffset: Math.min(Math.max(checkpointedStart ?? first.baseOffset, first.baseOffset), active.endOffset),
    endOffset: active.endOffset,
    sizeBytes,
    newestTimestamp: newest === -Infinity ? null : newest,
    segments,
  };
}


function segmentBases(names: readonly string[]): number[] {
  const bases: number[] = [];
  for (const name of names) {
    if (name.length !== SEGMENT_NAME_DIGITS + LOG_SUFFIX.length || !name.endsWith(LOG_SUFFIX)) continue;
    const digits = name.slice(0, SEGMENT_NAME_DIGITS);
    const base = Number(digits);
    if (/^\d+$/.test(digits) && Number.isSafeInteger(base)) bases.push(base);
  }
  return bases.sort((a, b) => a - b);
}

function fileBase(dir: string, baseOffset: number): string {
  return path.join(dir, segmentFileName(baseOffset));
}

interface TailEntries {
  offset: OffsetIndexEntry | null;
  time: TimeIndexEntry | null;
}

/** The last entries of a segment's two indexes, or null when an index file is missing. */
function tailEntries(base: string): TailEntries | null {
  try {
    return { offset: lastOffsetEntry(base + INDEX_SUFFIX), time: lastTimeEntry(base + TIME_INDEX_SUFFIX) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * The first INDEX_HEAD_READ_BYTES of an index file. When its entries end inside them (a segment of up
 * to about 512 index intervals of data) the last entry is found from this one read; otherwise the
 * index's own binary search over the file (OffsetIndex/TimeIndex.readLastEntry) finds it.
 */
function indexHead(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(INDEX_HEAD_READ_BYTES);
    return head.subarray(0, fs.readSync(fd, head, 0, INDEX_HEAD_READ_BYTES, 0));
  } finally {
    fs.closeSync(fd);
  }
}

/** Offset index: entries are a prefix of non-zero positions (FORMAT.md 2.3). */
function lastOffsetEntry(file: string): OffsetIndexEntry | null {
  const head = indexHead(file);
  const entries = Math.floor(head.length / OFFSET_ENTRY_BYTES);
  for (let i = 0; i < entries; i++) {
    if (head.readUInt32BE(i * OFFSET_ENTRY_BYTES + 4) !== 0) continue;
    if (i === 0) return null;
    const at = (i - 1) * OFFSET_ENTRY_BYTES;
    return { relativeOffset: head.readUInt32BE(at), position: head.readUInt32BE(at + 4) };
  }
  return OffsetIndex.readLastEntry(file);
}

/** Time index: entry 0, then a prefix of entries with non-zero relative offsets (FORMAT.md 2.4). */
function lastTimeEntry(file: string): TimeIndexEntry | null {
  const head = indexHead(file);
  const entries = Math.floor(head.length / TIME_ENTRY_BYTES);
  if (entries === 0) return null;
  for (let i = 1; i < entries; i++) {
    if (head.readUInt32BE(i * TIME_ENTRY_BYTES + 8) !== 0) continue;
    const at = (i - 1) * TIME_ENTRY_BYTES;
    return { timestamp: readInt64(head, at), relativeOffset: head.readUInt32BE(at + 8) };
  }
  return TimeIndex.readLastEntry(file);
}

/** A sealed segment from its index tails: the end entry (end offset, bytes), the time index's last entry. */
function sealedSegment(dir: string, baseOffset: number, nextBaseOffset: number): SegmentInfo | null {
  const base = fileBase(dir, baseOffset);
  const capacity = fs.statSync(base + LOG_SUFFIX).size;
  const tails = tailEntries(base);
  const end = tails?.offset ?? null;
  const time = tails?.time ?? null;
  if (end === null || time === null || baseOffset + end.relativeOffset !== nextBaseOffset || end.position > capacity) return null;
  return { baseOffset, endOffset: nextBaseOffset, sizeBytes: end.position, maxTimestamp: time.timestamp, active: false };
}

/**
 * The active segment: a walk of batch headers from its last offset-index entry to the end of data
 * (as Segment.openActive), reading WALK_READ_BYTES at a time.
 */
function activeSegment(dir: string, baseOffset: number): SegmentInfo | null {
  const base = fileBase(dir, baseOffset);
  const tails = tailEntries(base);
  if (tails === null) return null;
  const fd = fs.openSync(base + LOG_SUFFIX, 'r');
  try {
    const capacity = fs.fstatSync(fd).size;
    if (capacity === 0) return null;
    const last = tails.offset;
    if (last !== null && last.position > capacity) return null;
    let pos = last === null ? 0 : last.position;
    let next = last === null ? baseOffset : baseOffset + last.relativeOffset;
    let max = tails.time === null ? -Infinity : tails.time.timestamp;
    const chunk = Buffer.alloc(WALK_READ_BYTES);
    let chunkStart = 0;
    let chunkLength = 0;
    while (capacity - pos >= HEADER_BYTES) {
      if (pos < chunkStart || pos + HEADER_BYTES > chunkStart + chunkLength) {
        chunkStart = pos;
        chunkLength = fs.readSync(fd, chunk, 0, Math.min(WALK_READ_BYTES, capacity - pos), pos);
        if (chunkLength < HEADER_BYTES) break;
      }
      const at = pos - chunkStart;
      const length = chunk.readInt32BE(at + OFF_BATCH_LENGTH);
      const plausible = length >= HEADER_BYTES - LOG_OVERHEAD && length <= capacity - pos - LOG_OVERHEAD && chunk[at + OFF_MAGIC] === MAGIC;
      if (!plausible || batchBaseOffset(chunk, at) !== next) break;
      max = Math.max(max, batchMaxTimestamp(chunk, at));
      next = batchLastOffset(chunk, at) + 1;
      pos += batchSize(chunk, at);
    }
    const empty = pos === 0;
    return { baseOffset, endOffset: empty ? baseOffset : next, sizeBytes: pos, maxTimestamp: empty || max === -Infinity ? null : max, active: true };
  } finally {
    fs.closeSync(fd);
  }
}
