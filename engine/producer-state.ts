// Idempotent producers: per partition, the last batches of each producer id, so a batch sent again
// (a producer's retry after a lost answer) is recognised and answered with its original offsets
// instead of being stored twice, and a gap in a producer's sequence numbers is refused. The rules
// are Kafka's (ProducerStateManager / ProducerAppendInfo):
//   - epoch lower than the producer's current one → ProducerFencedError (INVALID_PRODUCER_EPOCH);
//   - epoch higher: a new epoch starts at sequence 0 (else OutOfOrderSequenceError), older batches forgotten;
//   - same epoch: a batch whose sequence range equals one of the last `batchesKept` is a duplicate;
//     otherwise its first sequence must follow the last one (wrapping after 2^31 - 1);
//   - a producer the partition does not know (new, or its batches went with retention or eviction)
//     may start at any sequence, as in Kafka: there is nothing to compare with.
// The state is derived data: everything in it can be rebuilt from the producer fields of the stored
// batch headers (producerId, producerEpoch, baseSequence, lastOffsetDelta). Snapshots (FORMAT.md
// 2.12) only bound how much of the log that rebuild reads.
import { crc32c } from './crc32c.js';
import fs from 'node:fs';
import path from 'node:path';
import { replaceFile, replaceFileSync } from './checkpoint-file.js';
import { OutOfOrderSequenceError, ProducerFencedError } from './format/errors.js';
import { PRODUCER_STATE_LIMITS } from './limits.js';
import { storageError } from './storage-error.js';

export const PRODUCER_SNAPSHOT_SUFFIX = '.snapshot';
const SNAPSHOT_NAME = /^(\d{20})\.snapshot$/;
const SNAPSHOT_MAGIC = 0x534c5053; // "SLPS"
const SNAPSHOT_VERSION = 1;
/** magic u32, version u16, crc u32, offset i64, producer count u32. */
const SNAPSHOT_HEADER_BYTES = 22;
const SNAPSHOT_CRC_FROM = 10;
/** producerId i64, epoch i16, batch count u8. */
const PRODUCER_BYTES = 11;
/** firstSeq i32, lastSeq i32, baseOffset i64, lastOffsetDelta i32. */
const BATCH_ENTRY_BYTES = 20;
const INT32_MAX = 0x7fffffff;

/** One stored batch of a producer, enough to answer its duplicate. */
export interface ProducerBatch {
  firstSeq: number;
  lastSeq: number;
  baseOffset: number;
  lastOffsetDelta: number;
}

interface ProducerEntry {
  epoch: number;
  /** Oldest first, at most batchesKept. */
  batches: ProducerBatch[];
}

/** The last sequence number of a batch: Kafka's sequences wrap from 2^31 - 1 to 0. */
export function lastSequence(baseSequence: number, lastOffsetDelta: number): number {
  return baseSequence > INT32_MAX - lastOffsetDelta ? lastOffsetDelta - (INT32_MAX - baseSequence) - 1 : baseSequence + lastOffsetDelta;
}

const inSequence = (lastSeq: number, nextSeq: number): boolean => nextSeq === lastSeq + 1 || (lastSeq === INT32_MAX && nextSeq === 0);

export class ProducerStateTable {
  /** Insertion order = least recently appended first: the producer evicted beyond maxProducers. */
  private readonly producers = new Map<number, ProducerEntry>();

  constructor(
    private readonly name: string,
    readonly maxProducers: number = PRODUCER_STATE_LIMITS.producersPerPartitionDefault,
  ) {}

  get size(): number {
    return this.producers.size;
  }

  clear(): void {
    this.producers.clear();
  }

  /**
   * Before appending a batch of producer `producerId`: the stored batch it duplicates, or null when it
   * is new and in sequence. Throws ProducerFencedError / OutOfOrderSequenceError (nothing changes).
   */
  check(producerId: number, epoch: number, firstSeq: number, lastSeq: number): ProducerBatch | null {
    const entry = this.producers.get(producerId);
    if (entry === undefined) return null;
    if (epoch < entry.epoch) {
      throw new ProducerFencedError(`producer ${producerId} epoch ${epoch} is older than its current epoch ${entry.epoch} on ${this.name}`);
    }
    if (epoch > entry.epoch) {
      if (firstSeq !== 0) throw new OutOfOrderSequenceError(`producer ${producerId} starts epoch ${epoch} at sequence ${firstSeq}, not 0, on ${this.name}`);
      return null;
    }
    const batches = entry.batches;
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      if (b.firstSeq === firstSeq && b.lastSeq === lastSeq) return b;
    }
    const last = batches[batches.length - 1];
    if (last !== undefined && !inSequence(last.lastSeq, firstSeq)) {
      throw new OutOfOrderSequenceError(`producer ${producerId} epoch ${epoch}: sequence ${firstSeq} does not follow ${last.lastSeq} on ${this.name}`);
    }
    return null;
  }

  /** After an append (or while rebuilding from the log): the batch joins its producer's last ones. */
  record(producerId: number, epoch: number, firstSeq: number, lastSeq: number, baseOffset: number, lastOffsetDelta: number): void {
    let entry = this.producers.get(producerId);
    if (entry === undefined || epoch > entry.epoch) {
      entry = { epoch, batches: [] };
    } else if (epoch < entry.epoch) {
      return; // an older epoch's batch met while rebuilding: it cannot be retried any more
    }
    this.producers.delete(producerId); // re-inserted last: the most recently appended
    this.producers.set(producerId, entry);
    if (entry.batches.length >= PRODUCER_STATE_LIMITS.batchesKeptPerProducer) entry.batches.shift();
    entry.batches.push({ firstSeq, lastSeq, baseOffset, lastOffsetDelta });
    if (this.producers.size > this.maxProducers) {
      // The least recently appended producer goes; if it comes back it is treated as unknown (any sequence).
      this.producers.delete(this.producers.keys().next().value!);
    }
  }

  /** The snapshot file's bytes for the state as of `offset` (every batch below it included). */
  serialize(offset: number): Buffer {
    let size = SNAPSHOT_HEADER_BYTES;
    for (const e of this.producers.values()) size += PRODUCER_BYTES + e.batches.length * BATCH_ENTRY_BYTES;
    const buf = Buffer.alloc(size);
    buf.writeUInt32BE(SNAPSHOT_MAGIC, 0);
    buf.writeUInt16BE(SNAPSHOT_VERSION, 4);
    buf.writeBigInt64BE(BigInt(offset), 10);
    buf.writeUInt32BE(this.producers.size, 18);
    let pos = SNAPSHOT_HEADER_BYTES;
    for (const [producerId, e] of this.producers) {
      buf.writeBigInt64BE(BigInt(producerId), pos);
      buf.writeInt16BE(e.epoch, pos + 8);
      buf.writeUInt8(e.batches.length, pos + 10);
      pos += PRODUCER_BYTES;
      for (const b of e.batches) {
        buf.writeInt32BE(b.firstSeq, pos);
        buf.writeInt32BE(b.lastSeq, pos + 4);
        buf.writeBigInt64BE(BigInt(b.baseOffset), pos + 8);
        buf.writeInt32BE(b.lastOffsetDelta, pos + 16);
        pos += BATCH_ENTRY_BYTES;
      }
    }
    buf.writeUInt32BE(crc32c(buf.subarray(SNAPSHOT_CRC_FROM)), 6);
    return buf;
  }

  /** Reads a snapshot's bytes into this (empty) table; the offset it covers, or null if damaged or foreign. */
  load(buf: Buffer): number | null {
    if (buf.length < SNAPSHOT_HEADER_BYTES || buf.readUInt32BE(0) !== SNAPSHOT_MAGIC || buf.readUInt16BE(4) !== SNAPSHOT_VERSION) return null;
    if (crc32c(buf.subarray(SNAPSHOT_CRC_FROM)) !== buf.readUInt32BE(6)) return null;
    const offset = Number(buf.readBigInt64BE(10));
    const count = buf.readUInt32BE(18);
    let pos = SNAPSHOT_HEADER_BYTES;
    // Bounded by the file's bytes: each producer takes at least PRODUCER_BYTES.
    for (let i = 0; i < count; i++) {
      if (pos + PRODUCER_BYTES > buf.length) return null;
      const producerId = Number(buf.readBigInt64BE(pos));
      const epoch = buf.readInt16BE(pos + 8);
      const n = buf.readUInt8(pos + 10);
      pos += PRODUCER_BYTES;
      if (pos + n * BATCH_ENTRY_BYTES > buf.length) return null;
      for (let j = 0; j < n; j++) {
        this.record(producerId, epoch, buf.readInt32BE(pos), buf.readInt32BE(pos + 4), Number(buf.readBigInt64BE(pos + 8)), buf.readInt32BE(pos + 16));
        pos += BATCH_ENTRY_BYTES;
      }
    }
    return pos === buf.length && Number.isSafeInteger(offset) && offset >= 0 ? offset : null;
  }
}

// --- snapshot files ---------------------------------------------------------------------------

export function snapshotFileName(offset: number): string {
  return `${String(offset).padStart(20, '0')}${PRODUCER_SNAPSHOT_SUFFIX}`;
}

/** Offsets of the snapshot files in `dir`, newest first. */
export function listSnapshots(dir: string): number[] {
  const offsets: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    const m = SNAPSHOT_NAME.exec(name);
    if (m !== null) offsets.push(Number(m[1]));
  }
  return offsets.sort((a, b) => b - a);
}

/**
 * At open, after recovery: snapshots past the log's end describe batches a crash took away (the
 * recovery cut below them), so they are removed before any append could bring the end past them.
 */
export function dropSnapshotsAfter(dir: string, endOffset: number): void {
  for (const offset of listSnapshots(dir)) {
    if (offset > endOffset) fs.rmSync(path.join(dir, snapshotFileName(offset)), { force: true });
  }
}

/** The newest readable snapshot at or below `endOffset`, loaded into `table`; its offset, or null. */
export function loadNewestSnapshot(dir: string, endOffset: number, table: ProducerStateTable): number | null {
  for (const offset of listSnapshots(dir)) {
    if (offset > endOffset) continue;
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(path.join(dir, snapshotFileName(offset)));
    } catch {
      continue;
    }
    const covered = table.load(bytes);
    if (covered === offset) return offset;
    // Damaged (or names another offset than it holds): ignore it, an older one or the log will do.
    table.clear();
  }
  return null;
}

/**
 * Writes a snapshot durably (temp file, fdatasync, rename) and keeps only the newest
 * `snapshotsKept`. A full disk is a DiskFullError; nothing else is touched then (the older
 * snapshots and the log still give the state).
 */
export async function writeSnapshot(dir: string, offset: number, bytes: Buffer): Promise<void> {
  const file = path.join(dir, snapshotFileName(offset));
  try {
    await replaceFile(file, bytes);
  } catch (e) {
    throw storageError(e, `writing producer snapshot ${file}`);
  }
  pruneSnapshots(dir);
}

/** The same, synchronously (close). */
export function writeSnapshotSync(dir: string, offset: number, bytes: Buffer): void {
  const file = path.join(dir, snapshotFileName(offset));
  try {
    replaceFileSync(file, bytes);
  } catch (e) {
    throw storageError(e, `writing producer snapshot ${file}`);
  }
  pruneSnapshots(dir);
}

function pruneSnapshots(dir: string): void {
  const offsets = listSnapshots(dir);
  for (let i = PRODUCER_STATE_LIMITS.snapshotsKept; i < offsets.length; i++) {
    fs.rmSync(path.join(dir, snapshotFileName(offsets[i]!)), { force: true });
  }
}
