// The client's binding of the record batch v2 codec (engine/format/batch-codec.ts): plain
// Uint8Arrays, CRC-32C and LZ4 from crc32c.ts and lz4.ts (native in Node when they load, plain
// JavaScript in browsers), UTF-8 through TextEncoder/TextDecoder.
import { CorruptRecordError } from '../../engine/format/errors.js';
import { createBatchCodec, type BatchRuntime } from '../../engine/format/batch-codec.js';
import { HEADER_BYTES, batchSize } from '../../engine/format/batch-header.js';
import type { PartitionRecord, RecordHeader, RecordInput, Compression } from '../../engine/format/record-types.js';
import { crc32c } from './crc32c.js';
import { lz4CompressFrame, lz4DecompressFrame } from './lz4.js';

export {
  CODEC_LZ4,
  CODEC_NONE,
  MAX_RECORDS_PER_BATCH,
  MAX_TIMESTAMP_DELTA_MS,
  batchBaseOffset,
  batchCodec,
  batchLastOffset,
  batchRecordCount,
  batchSize,
} from '../../engine/format/batch-header.js';
export type { Compression };
export const BATCH_HEADER_BYTES = HEADER_BYTES;

export type ClientRecordHeader = RecordHeader<Uint8Array>;
/** A record as the client library yields it. */
export type ClientRecord = PartitionRecord<Uint8Array>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes of `s` in UTF-8, as TextEncoder writes it (a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export const portableRuntime: BatchRuntime<Uint8Array> = {
  from: (b) => b,
  alloc: (size) => new Uint8Array(size),
  view: (ab, byteOffset, length) => new Uint8Array(ab, byteOffset, length),
  crc32c: (b, start, end) => crc32c(b.subarray(start, end)),
  lz4CompressFrame,
  lz4DecompressFrame,
  utf8Length,
  utf8Write: (out, pos, s, length) => {
    if (length > 0) encoder.encodeInto(s, out.subarray(pos, pos + length));
  },
  utf8Decode: (b, start, end) => decoder.decode(b.subarray(start, end)),
};

const codec = createBatchCodec(portableRuntime);

export const { batchProblem, recordsSection: batchRecordsSection, decompressBatch } = codec;

export interface ClientEncodeOptions {
  compression?: Compression;
  /** Clock for records without a timestamp. */
  now?: number;
  /** Free bytes to leave before the batch (the client writes its frame header there: no copy). */
  headroomBytes?: number;
}

/** Encodes records into one batch (baseOffset 0: the server assigns offsets). */
export function encodeRecordBatch(records: readonly RecordInput[], options: ClientEncodeOptions = {}): Uint8Array {
  return codec.encodeBatch(records, options);
}

/**
 * Walks whole batches lying back to back in `bytes` (a DELIVER or FETCH_RESULT body). Throws
 * CorruptRecordError when a batch does not fit or (with checkCrc) fails its CRC.
 */
export function forEachBatch(bytes: Uint8Array, onBatch: (pos: number, size: number) => void, checkCrc = false): void {
  let pos = 0;
  while (pos < bytes.byteLength) {
    const problem = batchProblem(bytes, pos, bytes.byteLength, checkCrc);
    if (problem !== null) throw new CorruptRecordError(`received batch at byte ${pos}: ${problem}`);
    const size = batchSize(bytes, pos);
    onBatch(pos, size);
    pos += size;
  }
}

/**
 * Appends to `out` the records (offset ≥ `fromOffset`) of the one batch at `pos`, each its own
 * object with views into `b` (no copy). Returns how many. Throws CorruptRecordError when the
 * records do not parse.
 */
export function decodeBatchInto(b: Uint8Array, topic: string, partition: number, out: ClientRecord[], fromOffset = 0, pos = 0): number {
  return codec.decodeRecordsInto(b, topic, partition, fromOffset, out, Infinity, pos);
}

/** Decodes every record (offset ≥ fromOffset) of the batches lying back to back in `bytes`. */
export function decodeBatches(bytes: Uint8Array, topic: string, partition: number, fromOffset = 0, checkCrc = false): ClientRecord[] {
  const out: ClientRecord[] = [];
  forEachBatch(bytes, (pos) => void codec.decodeRecordsInto(bytes, topic, partition, fromOffset, out, Infinity, pos), checkCrc);
  return out;
}
