// The engine's binding of the record batch v2 codec (engine/format/batch-codec.ts) to Node: native
// CRC-32C (engine/crc32c.ts) and LZ4 (lz4-napi), records as Buffers viewing the batch (no copies).
// Engine code imports the codec and the header accessors from here. Plain function declarations
// over the codec's module functions: the engine's hot paths call constants.
import { crc32c } from './crc32c.js';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { gunzipSync } from 'node:zlib';
import { BatchTooLargeError, CorruptRecordError, InvalidArgumentError } from './format/errors.js';
import {
  CODEC_LZ4,
  CODEC_MASK,
  CODEC_NONE,
  HEADER_BYTES,
  LOG_OVERHEAD,
  OFF_ATTRIBUTES,
  OFF_BATCH_LENGTH,
  OFF_CRC,
  batchAttributes,
  batchCodec,
  batchSize,
  writeInt16,
  writeInt32,
} from './format/batch-header.js';
import * as codec from './format/batch-codec.js';
import type { BatchRuntime } from './format/batch-codec.js';
import type * as Format from './format/record-types.js';
import type { EncodeOptions, RecordInput } from './format/record-types.js';

export * from './format/batch-header.js';
export type { Bytes, Compression, EncodeOptions, RecordHeaderInput, RecordInput } from './format/record-types.js';
export type RecordHeader = Format.RecordHeader<Buffer>;
export type DecodedRecord = Format.DecodedRecord<Buffer>;
/** A decoded record with the topic and partition it came from (the engine's ConsumedRecord shape). */
export type PartitionRecord = Format.PartitionRecord<Buffer>;

// Buffer's species is Node's internal FastBuffer (Buffer.prototype is its prototype). Making the
// views with it directly, as Node's own Buffer#slice does, skips the species lookup that
// `Buffer#subarray` pays on every call; the results are ordinary Buffers in every respect.
type ViewConstructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;
const FastBuffer = (Buffer as unknown as { [Symbol.species]: unknown })[Symbol.species] as ViewConstructor;
const fastViews = typeof FastBuffer === 'function' && (FastBuffer as unknown) !== Buffer && FastBuffer.prototype === Buffer.prototype;

const asBuffer = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export const nodeRuntime: BatchRuntime<Buffer> = {
  from: asBuffer,
  alloc: (size) => Buffer.allocUnsafe(size),
  view: fastViews
    ? (ab, byteOffset, length) => new FastBuffer(ab, byteOffset, length)
    : (ab, byteOffset, length) => Buffer.from(ab as ArrayBuffer, byteOffset, length),
  crc32c: (b, start, end) => crc32c(b.subarray(start, end)),
  lz4CompressFrame: (src) => compressFrameSync(src),
  lz4DecompressFrame: (src) => decompressFrameSync(src),
  utf8Length: (s) => Buffer.byteLength(s, 'utf8'),
  utf8Write: (out, pos, s, length) => void out.write(s, pos, length, 'utf8'),
  utf8Decode: (b, start, end) => b.toString('utf8', start, end),
};

export function computeBatchCrc(buf: Uint8Array, pos: number, size: number): number {
  return codec.computeBatchCrc(nodeRuntime, buf, pos, size);
}

export function batchProblem(buf: Uint8Array, pos: number, limit: number, checkCrc = true): string | null {
  return codec.batchProblem(nodeRuntime, buf, pos, limit, checkCrc);
}

/** Throws CorruptRecordError for a bad CRC or a lying length, InvalidRecordError for an unsupported codec or attribute. */
export function validateProducerBatch(bytes: Uint8Array): void {
  codec.validateBatchBytes(nodeRuntime, bytes, true);
}

/** validateProducerBatch without the CRC, for a batch this process encoded itself. */
export function validateOwnBatch(bytes: Uint8Array): void {
  codec.validateBatchBytes(nodeRuntime, bytes, false);
}

export function encodeBatch(records: readonly RecordInput[], options?: EncodeOptions): Buffer {
  return codec.encodeBatch(nodeRuntime, records, options);
}

export function recordsSection(batch: Uint8Array, pos = 0): Buffer {
  return codec.recordsSection(nodeRuntime, batch, pos);
}

export function compressBatchLz4(batch: Uint8Array, pos = 0): Buffer {
  return codec.compressBatchLz4(nodeRuntime, batch, pos);
}

export function decompressBatch(batch: Uint8Array, pos = 0): Buffer {
  return codec.decompressBatch(nodeRuntime, batch, pos);
}

export function forEachRecord(batch: Uint8Array, onRecord: (record: DecodedRecord) => boolean | void, fromOffset = 0, pos = 0): number {
  return codec.forEachRecord(nodeRuntime, batch, onRecord, fromOffset, pos);
}

export function decodeRecords(batch: Uint8Array, fromOffset = 0, pos = 0): DecodedRecord[] {
  return codec.decodeRecords(nodeRuntime, batch, fromOffset, pos);
}

export function decodeRecordsInto(
  batch: Uint8Array,
  topic: string,
  partition: number,
  fromOffset: number,
  out: Readonly<PartitionRecord>[],
  maxRecords: number,
  pos = 0,
): number {
  return codec.decodeRecordsInto(nodeRuntime, batch, topic, partition, fromOffset, out, maxRecords, pos);
}

/** Kafka's gzip codec (attributes bits 0-2 = 1): accepted from Kafka producers, never stored (gzipBatchAs). */
export const CODEC_GZIP = 1;

/**
 * A gzip batch as a Kafka producer sends it (codec 1), turned into the same batch in `to` (none or
 * LZ4), the codecs the engine stores and every seglog reader decodes: the sent batch's CRC is
 * checked, its records section gunzipped (at most `maxRecordsBytes`, so a small bomb cannot take the
 * memory), optionally LZ4-framed, and every header field kept (producer id, epoch and sequence,
 * timestamps, counts) but the codec bits, the length and the CRC. Since this CRC is ours, it proves
 * nothing about the records: they are decoded in full here, and a batch whose records do not decode
 * is CORRUPT_RECORD. Throws BATCH_TOO_LARGE past `maxRecordsBytes`.
 */
export function gzipBatchAs(batch: Uint8Array, to: 'none' | 'lz4', maxRecordsBytes: number): Buffer {
  const buf = Buffer.isBuffer(batch) ? batch : Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
  const problem = batchProblem(buf, 0, buf.length, true);
  if (problem !== null) throw new CorruptRecordError(`invalid record batch: ${problem}`);
  if (batchSize(buf, 0) !== buf.length) throw new CorruptRecordError(`record batch length says ${batchSize(buf, 0)} bytes but ${buf.length} were sent`);
  if (batchCodec(buf, 0) !== CODEC_GZIP) throw new InvalidArgumentError('gzipBatchAs needs a gzip batch');
  let section: Buffer;
  try {
    section = gunzipSync(buf.subarray(HEADER_BYTES), { maxOutputLength: maxRecordsBytes });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new BatchTooLargeError(maxRecordsBytes + 1, maxRecordsBytes);
    throw new CorruptRecordError(`gzip records do not decompress: ${(e as Error).message}`);
  }
  const body = to === 'lz4' ? compressFrameSync(section) : section;
  const out = Buffer.allocUnsafe(HEADER_BYTES + body.length);
  buf.copy(out, 0, 0, HEADER_BYTES);
  out.set(body, HEADER_BYTES);
  writeInt32(out, OFF_BATCH_LENGTH, out.length - LOG_OVERHEAD);
  writeInt16(out, OFF_ATTRIBUTES, (batchAttributes(buf, 0) & ~CODEC_MASK) | (to === 'lz4' ? CODEC_LZ4 : CODEC_NONE));
  writeInt32(out, OFF_CRC, computeBatchCrc(out, 0, out.length));
  forEachRecord(out, () => true);
  return out;
}
