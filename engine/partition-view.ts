// A partition seen without opening its log where that can be done: its figures (start, end, size,
// segments, newest timestamp) are live while the log is open, else kept from when it closed or read
// from its files (partition-figures.ts), so describing, offsets, retention planning and idle reads
// need not open it. Only what needs the data opens the log (through the log cache).
import { OffsetOutOfRangeError } from './format/errors.js';
import { isFdExhaustion, typedFdError } from './fd-budget.js';
import type { LogCache } from './log-cache.js';
import { readPartitionFigures, type PartitionFigures } from './partition-figures.js';
import { figuresOf, type PartitionState, type TopicState } from './partition-state.js';
import { TimeSlice } from './time-slice.js';
import type { OffsetRange } from './types.js';

/** Start, end, size and segments of a partition: live when its log is open, else without opening it. */
export function figures(cache: LogCache, ps: PartitionState): PartitionFigures {
  // An open log (also one being evicted, without cancelling that: figures are no use of its data).
  if (ps.log !== null && ps.closing === null) return figuresOf(ps.log);
  if (ps.figures !== null) return ps.figures;
  return figuresFromFiles(ps) ?? cache.withLog(ps, figuresOf);
}

/**
 * A closed partition's figures read from its files (kept: exact while it stays closed), or null
 * when they need its log (whose open then reports any problem with the files).
 */
function figuresFromFiles(ps: PartitionState): PartitionFigures | null {
  try {
    ps.figures = readPartitionFigures(ps.dir);
  } catch (e) {
    if (isFdExhaustion(e)) throw typedFdError(e, `reading the figures of ${ps.dir}`);
    return null;
  }
  return ps.figures;
}

/**
 * Reads the figures of every closed partition in the background after open, in time slices, so
 * that the first describeTopic or retention run after a restart finds them ready instead of
 * reading thousands of partitions' files in one synchronous call. Opens no log.
 */
export async function readAllFigures(topics: Iterable<TopicState>, isClosed: () => boolean): Promise<void> {
  const slice = new TimeSlice();
  for (const ts of [...topics]) {
    for (const ps of ts.partitions) {
      await slice.maybeYield();
      if (isClosed()) return;
      if (ts.deleted) break;
      if (ps.log !== null || ps.closing !== null || ps.figures !== null) continue;
      try {
        figuresFromFiles(ps);
      } catch {
        // Reported to whoever asks for this partition's figures.
      }
    }
  }
}

/** Start and end offset: live when the log is open, else from its figures. */
export function rangeOf(cache: LogCache, ps: PartitionState): OffsetRange {
  // Called per delivery step by the gateway: an open log answers without building its figures.
  if (ps.log !== null && ps.closing === null) return { startOffset: ps.log.startOffset, endOffset: ps.log.endOffset };
  const f = figures(cache, ps);
  return { startOffset: f.startOffset, endOffset: f.endOffset };
}

/**
 * True when the partition's log is closed and `offset` is its end offset: nothing to read, and no
 * reason to open the log (or to create the files of a never-written partition). Out of range throws.
 */
export function closedAtEnd(cache: LogCache, ps: PartitionState, offset: number): boolean {
  if (ps.log !== null) return false;
  const { startOffset, endOffset } = figures(cache, ps);
  if (offset < startOffset || offset > endOffset) throw new OffsetOutOfRangeError(offset, startOffset, endOffset, `${ps.topic.name}-${ps.partition}`);
  return offset === endOffset;
}

/** True when the partition's log is closed and holds no record with a timestamp ≥ `timestamp`. */
export function closedBefore(cache: LogCache, ps: PartitionState, timestamp: number): boolean {
  if (ps.log !== null) return false;
  const newest = figures(cache, ps).newestTimestamp;
  return newest === null || newest < timestamp;
}
