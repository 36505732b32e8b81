// The read path: records (decoded, copied out of the log's map) and raw batches (views) of one
// partition from an offset, checking the range and stopping before damaged data with the intact
// records (a read from inside damage throws CorruptRecordError with its range).
import { CorruptRecordError, OffsetOutOfRangeError } from './format/errors.js';
import { ENGINE_LOOP_BOUNDS } from './limits.js';
import type { LogCache } from './log-cache.js';
import type { PartitionLog } from './partition-log.js';
import type { PartitionState } from './partition-state.js';
import { CODEC_NONE, batchBaseOffset, batchCodec, batchLastOffset, batchRecordCount, decodeRecordsInto } from './record-batch.js';
import type { ConsumedRecord, RawBatchRead } from './types.js';
import { closedAtEnd, rangeOf } from './partition-view.js';

export interface RecordsRead {
  records: ConsumedRecord[];
  nextOffset: number;
}

/**
 * How many of `batches` a read from `fromOffset` needs to reach `wanted` records (at least one):
 * batches beyond that are neither copied nor decoded.
 */
function batchesNeeded(batches: readonly Buffer[], fromOffset: number, wanted: number): number {
  let records = 0;
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b]!;
    const last = batchLastOffset(batch);
    if (last >= fromOffset) records += last + 1 - Math.max(fromOffset, last + 1 - batchRecordCount(batch));
    if (records >= wanted) return b + 1;
  }
  return batches.length;
}

/** One buffer holding copies of the uncompressed batches among the first `count` of `batches`, in order. */
function copyOutPlainBatches(batches: readonly Buffer[], count: number): Buffer {
  let total = 0;
  for (let b = 0; b < count; b++) if (batchCodec(batches[b]!) === CODEC_NONE) total += batches[b]!.length;
  const copy = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let b = 0; b < count; b++) {
    const batch = batches[b]!;
    if (batchCodec(batch) !== CODEC_NONE) continue;
    copy.set(batch, pos);
    pos += batch.length;
  }
  return copy;
}

function checkRange(ps: PartitionState, log: PartitionLog, offset: number): void {
  const start = log.startOffset;
  const end = log.endOffset;
  if (offset < start || offset > end) throw new OffsetOutOfRangeError(offset, start, end, `${ps.topic.name}-${ps.partition}`);
}

/** Records of the partition from `offset` (Engine.read, subscriptions); a closed log at its end is not opened. */
export function readRecords(cache: LogCache, ps: PartitionState, offset: number, maxRecords: number, maxBytes: number): RecordsRead {
  if (closedAtEnd(cache, ps, offset)) return { records: [], nextOffset: offset };
  return cache.withLog(ps, (log) => readRecordsFrom(ps, log, offset, maxRecords, maxBytes));
}

function readRecordsFrom(ps: PartitionState, log: PartitionLog, offset: number, maxRecords: number, maxBytes: number): RecordsRead {
  checkRange(ps, log, offset);
  const topic = ps.topic.name;
  const partition = ps.partition;
  const records: ConsumedRecord[] = [];
  const end = log.endOffset;
  let next = offset;
  let bytes = 0;
  let damaged = false;
  // A read may stop at a segment boundary: continue into the next segment, a bounded number of times.
  for (let round = 0; round < ENGINE_LOOP_BOUNDS.readRoundsMax && !damaged && bytes < maxBytes && records.length < maxRecords && next < end; round++) {
    // The log checks every batch it returns (CRC): ask for about what maxRecords needs, estimated
    // from the bytes per record seen so far (the first round asks for one batch).
    const wanted = maxRecords - records.length;
    const estimate = records.length === 0 ? 1 : Math.ceil((bytes / records.length) * wanted * 1.1);
    let batches: Buffer[];
    try {
      batches = log.read(next, Math.min(maxBytes - bytes, estimate));
    } catch (e) {
      // The intact records come first; the next read, from the damaged offset, reports the damage.
      if (e instanceof CorruptRecordError && records.length > 0) break;
      throw e instanceof CorruptRecordError ? e.inPartition(topic, partition) : e;
    }
    if (batches.length === 0) break;
    // Records handed out must not be views into the map: retention truncates deleted segment
    // files after fileDeleteDelayMs, and touching a view then would fault (SIGBUS). One copy per
    // read of the uncompressed batches (not per record); an LZ4 batch decompresses into a fresh
    // buffer anyway. The records are views into that copy.
    const count = batchesNeeded(batches, next, maxRecords - records.length);
    const copy = copyOutPlainBatches(batches, count);
    let copyPos = 0;
    for (let b = 0; b < count; b++) {
      const batch = batches[b]!;
      const before = records.length;
      try {
        if (batchCodec(batch) === CODEC_NONE) decodeRecordsInto(copy, topic, partition, next, records, maxRecords, copyPos);
        else decodeRecordsInto(batch, topic, partition, next, records, maxRecords);
      } catch (e) {
        if (!(e instanceof CorruptRecordError)) throw e;
        // Its CRC held but its records do not parse (a producer wrote it so): the batch is the
        // damaged range. Its records decoded so far are not handed out.
        records.length = before;
        if (records.length > 0) {
          damaged = true;
          break;
        }
        throw new CorruptRecordError(`${topic}-${partition}: ${e.message}`, undefined, undefined, {
          offset: batchBaseOffset(batch),
          nextOffset: batchLastOffset(batch) + 1,
          topic,
          partition,
        });
      }
      if (batchCodec(batch) === CODEC_NONE) copyPos += batch.length;
      bytes += batch.length;
      if (records.length >= maxRecords) {
        next = records[records.length - 1]!.offset + 1;
        break;
      }
      const after = batchLastOffset(batch) + 1;
      if (after > next) next = after;
    }
  }
  return { records, nextOffset: next };
}

/** Whole batches from the one containing `offset` (Engine.readBatches); a closed log at its end is not opened. */
export function readBatches(cache: LogCache, ps: PartitionState, offset: number, maxBytes: number): RawBatchRead {
  if (closedAtEnd(cache, ps, offset)) return { batches: [], nextOffset: offset, ...rangeOf(cache, ps) };
  return cache.withLog(ps, (log) => {
    checkRange(ps, log, offset);
    let batches: Buffer[] = [];
    try {
      if (offset < log.endOffset) batches = log.read(offset, maxBytes);
    } catch (e) {
      throw e instanceof CorruptRecordError ? e.inPartition(ps.topic.name, ps.partition) : e;
    }
    const last = batches[batches.length - 1];
    const nextOffset = last === undefined ? offset : Math.max(offset, batchLastOffset(last) + 1);
    return { batches, nextOffset, startOffset: log.startOffset, endOffset: log.endOffset };
  });
}
