// The engine's binding of the record batch v2 codec (engine/format/batch-codec.ts) to Node: native
// CRC-32C (@node-rs/crc32) and LZ4 (lz4-napi), records as Buffers viewing the batch (no copies).
// Engine code imports the codec and the header accessors from here. Plain function declarations
// over the codec's module functions: the engine's hot paths call constants.
import { crc32c } from '@node-rs/crc32';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
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
  crc32c: (b, start, end) => crc32c(b.subarray(start, end)) >>> 0,
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
  out: PartitionRecord[],
  maxRecords: number,
  pos = 0,
): number {
  return codec.decodeRecordsInto(nodeRuntime, batch, topic, partition, fromOffset, out, maxRecords, pos);
}
