// Kafka record batch v2 (magic 2), byte for byte. See engine/FORMAT.md for the field list and
// the reasons behind it. Batches travel as bytes: the engine only reads and stamps the header;
// records are encoded by producers and decoded by consumers.
import { crc32c } from '@node-rs/crc32';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { CorruptRecordError, InvalidRecordError } from './format/errors.js';
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from './format/varint.js';

export const HEADER_BYTES = 61;
/** Bytes before the batchLength-counted part: baseOffset (8) + batchLength (4). */
export const LOG_OVERHEAD = 12;
export const MAGIC = 2;

export const OFF_BASE_OFFSET = 0;
export const OFF_BATCH_LENGTH = 8;
export const OFF_LEADER_EPOCH = 12;
export const OFF_MAGIC = 16;
export const OFF_CRC = 17;
export const OFF_ATTRIBUTES = 21;
export const OFF_LAST_OFFSET_DELTA = 23;
export const OFF_BASE_TIMESTAMP = 27;
export const OFF_MAX_TIMESTAMP = 35;
export const OFF_PRODUCER_ID = 43;
export const OFF_PRODUCER_EPOCH = 51;
export const OFF_BASE_SEQUENCE = 53;
export const OFF_RECORD_COUNT = 57;

export const CODEC_NONE = 0;
export const CODEC_LZ4 = 3;
const CODEC_MASK = 0x07;
/** Upper bound on records in one batch; keeps a lying recordCount from driving big loops. */
export const MAX_RECORDS_PER_BATCH = 1 << 20;
/** Largest timestamp distance from a batch's first record (its zigzag varlong delta stays an exact number). */
export const MAX_TIMESTAMP_DELTA_MS = 2 ** 52;

export type Compression = 'none' | 'lz4';
export type Bytes = string | Uint8Array;

export interface RecordHeaderInput {
  key: string;
  value: Bytes | null;
}

export interface RecordInput {
  key?: Bytes | null;
  value: Bytes | null;
  /** An object (`{ name: value }`) or a list of pairs (repeated keys allowed, order kept). */
  headers?: Record<string, Bytes | null> | RecordHeaderInput[];
  /** Milliseconds since the epoch; defaults to the time of encoding. */
  timestamp?: number;
}

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface EncodeOptions {
  compression?: Compression;
  baseOffset?: number;
  /** Clock for records without a timestamp. */
  now?: number;
}

// --- 64-bit fields as JavaScript numbers (safe integers) -------------------------------------

export function readInt64(buf: Uint8Array, pos: number): number {
  const hi = (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
  const lo = ((buf[pos + 4]! << 24) | (buf[pos + 5]! << 16) | (buf[pos + 6]! << 8) | buf[pos + 7]!) >>> 0;
  return hi * 4294967296 + lo;
}

export function writeInt64(buf: Uint8Array, pos: number, value: number): void {
  const hi = Math.floor(value / 4294967296);
  const lo = value - hi * 4294967296;
  buf[pos] = hi >>> 24;
  buf[pos + 1] = hi >>> 16;
  buf[pos + 2] = hi >>> 8;
  buf[pos + 3] = hi;
  buf[pos + 4] = lo >>> 24;
  buf[pos + 5] = lo >>> 16;
  buf[pos + 6] = lo >>> 8;
  buf[pos + 7] = lo;
}

function readInt32(buf: Uint8Array, pos: number): number {
  return (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
}

function writeInt32(buf: Uint8Array, pos: number, v: number): void {
  buf[pos] = v >>> 24;
  buf[pos + 1] = v >>> 16;
  buf[pos + 2] = v >>> 8;
  buf[pos + 3] = v;
}

function writeInt16(buf: Uint8Array, pos: number, v: number): void {
  buf[pos] = v >>> 8;
  buf[pos + 1] = v;
}

// --- header accessors (pos = start of the batch in buf) ---------------------------------------

export const batchBaseOffset = (buf: Uint8Array, pos = 0): number => readInt64(buf, pos + OFF_BASE_OFFSET);
export const setBatchBaseOffset = (buf: Uint8Array, pos: number, offset: number): void =>
  writeInt64(buf, pos + OFF_BASE_OFFSET, offset);
/** Total bytes of the batch, header included. */
export const batchSize = (buf: Uint8Array, pos = 0): number => readInt32(buf, pos + OFF_BATCH_LENGTH) + LOG_OVERHEAD;
export const batchMagic = (buf: Uint8Array, pos = 0): number => buf[pos + OFF_MAGIC]!;
export const batchAttributes = (buf: Uint8Array, pos = 0): number =>
  (buf[pos + OFF_ATTRIBUTES]! << 8) | buf[pos + OFF_ATTRIBUTES + 1]!;
export const batchCodec = (buf: Uint8Array, pos = 0): number => batchAttributes(buf, pos) & CODEC_MASK;
export const batchLastOffsetDelta = (buf: Uint8Array, pos = 0): number => readInt32(buf, pos + OFF_LAST_OFFSET_DELTA);
export const batchBaseTimestamp = (buf: Uint8Array, pos = 0): number => readInt64(buf, pos + OFF_BASE_TIMESTAMP);
export const batchMaxTimestamp = (buf: Uint8Array, pos = 0): number => readInt64(buf, pos + OFF_MAX_TIMESTAMP);
export const batchRecordCount = (buf: Uint8Array, pos = 0): number => readInt32(buf, pos + OFF_RECORD_COUNT);
export const batchCrc = (buf: Uint8Array, pos = 0): number => readInt32(buf, pos + OFF_CRC) >>> 0;
/** Offset of the batch's last record. */
export const batchLastOffset = (buf: Uint8Array, pos = 0): number =>
  batchBaseOffset(buf, pos) + batchLastOffsetDelta(buf, pos);

function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

export function computeBatchCrc(buf: Uint8Array, pos: number, size: number): number {
  return crc32c(asBuffer(buf).subarray(pos + OFF_ATTRIBUTES, pos + size)) >>> 0;
}

/**
 * Checks the batch at `pos` without throwing: header sanity, that it lies within `limit`, and its
 * CRC. Returns null when it is good, else the reason. Recovery and readers use this; the record
 * section is not walked (that is per-record work; decoders are bounds-checked instead).
 */
export function batchProblem(buf: Uint8Array, pos: number, limit: number, checkCrc = true): string | null {
  if (limit - pos < HEADER_BYTES) return `only ${limit - pos} bytes left, a batch header needs ${HEADER_BYTES}`;
  const batchLength = readInt32(buf, pos + OFF_BATCH_LENGTH);
  if (batchLength < HEADER_BYTES - LOG_OVERHEAD) return `batchLength ${batchLength} is smaller than a header`;
  if (batchLength > limit - pos - LOG_OVERHEAD) {
    return `batchLength ${batchLength} runs past the end (${limit - pos - LOG_OVERHEAD} bytes available)`;
  }
  const magic = buf[pos + OFF_MAGIC]!;
  if (magic !== MAGIC) return `magic ${magic}, expected ${MAGIC}`;
  const count = readInt32(buf, pos + OFF_RECORD_COUNT);
  if (count < 1 || count > MAX_RECORDS_PER_BATCH) return `record count ${count} out of range`;
  const lastDelta = readInt32(buf, pos + OFF_LAST_OFFSET_DELTA);
  if (lastDelta !== count - 1) return `lastOffsetDelta ${lastDelta} does not match record count ${count}`;
  if (checkCrc) {
    const stored = readInt32(buf, pos + OFF_CRC) >>> 0;
    const actual = computeBatchCrc(buf, pos, batchLength + LOG_OVERHEAD);
    if (stored !== actual) return `CRC mismatch: stored ${stored.toString(16)}, computed ${actual.toString(16)}`;
  }
  return null;
}

/**
 * Validates one producer batch that must fill `bytes` exactly. Throws CorruptRecordError for a
 * bad CRC or a lying length, InvalidRecordError for an unsupported codec or attribute.
 */
export function validateProducerBatch(bytes: Uint8Array): void {
  validateBatchBytes(bytes, true);
}

/**
 * validateProducerBatch without the CRC, for a batch this process encoded itself (its CRC is right
 * by construction): header, length and attributes are still checked.
 */
export function validateOwnBatch(bytes: Uint8Array): void {
  validateBatchBytes(bytes, false);
}

function validateBatchBytes(bytes: Uint8Array, checkCrc: boolean): void {
  const problem = batchProblem(bytes, 0, bytes.length, checkCrc);
  if (problem !== null) throw new CorruptRecordError(`invalid record batch: ${problem}`);
  const size = batchSize(bytes, 0);
  if (size !== bytes.length) {
    throw new CorruptRecordError(`record batch length says ${size} bytes but ${bytes.length} were sent`);
  }
  const attributes = batchAttributes(bytes, 0);
  const codec = attributes & CODEC_MASK;
  if (codec !== CODEC_NONE && codec !== CODEC_LZ4) {
    throw new InvalidRecordError(`compression codec ${codec} is not supported (only 0 = none and 3 = lz4)`);
  }
  if (attributes & 0x30) throw new InvalidRecordError('transactional and control batches are not supported');
}

// --- encoding --------------------------------------------------------------------------------

const EMPTY = Buffer.alloc(0);

function byteLen(v: Bytes): number {
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.byteLength;
}

function writeBytes(buf: Buffer, pos: number, v: Bytes, len: number): number {
  if (typeof v === 'string') {
    buf.write(v, pos, len, 'utf8');
  } else {
    buf.set(v, pos);
  }
  return pos + len;
}

function headerList(headers: RecordInput['headers']): RecordHeaderInput[] {
  if (headers === undefined || headers === null) return [];
  if (Array.isArray(headers)) return headers;
  if (typeof headers !== 'object') throw new InvalidRecordError('headers must be an object or an array of { key, value }');
  return Object.keys(headers).map((key) => ({ key, value: (headers as Record<string, Bytes | null>)[key] ?? null }));
}

function checkBytes(v: unknown, what: string): void {
  if (v !== null && typeof v !== 'string' && !(v instanceof Uint8Array)) {
    throw new InvalidRecordError(`${what} must be a string, a Uint8Array or null`);
  }
}

/**
 * Encodes records into one batch (baseOffset 0 unless given). With `lz4`, the records section is
 * one LZ4 frame; the header stays plain so the server can route and index without decompressing.
 */
export function encodeBatch(records: readonly RecordInput[], options: EncodeOptions = {}): Buffer {
  const count = records.length;
  if (count === 0) throw new InvalidRecordError('a batch needs at least one record');
  if (count > MAX_RECORDS_PER_BATCH) throw new InvalidRecordError(`a batch holds at most ${MAX_RECORDS_PER_BATCH} records`);
  const now = options.now ?? Date.now();
  const first = records[0];
  const baseTimestamp = (first !== null && typeof first === 'object' ? first.timestamp : undefined) ?? now;
  let maxTimestamp = baseTimestamp;
  // Pass 1: sizes. One small typed array per batch, none per record.
  const bodySizes = new Int32Array(count);
  const headerLists: (RecordHeaderInput[] | null)[] = new Array(count);
  let recordsBytes = 0;
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    if (r === null || typeof r !== 'object') throw new InvalidRecordError(`record ${i} is not an object`);
    const ts = r.timestamp ?? now;
    if (!Number.isSafeInteger(ts)) throw new InvalidRecordError(`record ${i} has an invalid timestamp ${String(r.timestamp)}`);
    // The delta is a zigzag varlong: exact only up to 2^52 either way in a JavaScript number.
    if (ts - baseTimestamp > MAX_TIMESTAMP_DELTA_MS || baseTimestamp - ts > MAX_TIMESTAMP_DELTA_MS) {
      throw new InvalidRecordError(`record ${i} timestamp ${ts} is more than 2^52 ms from the batch's first timestamp ${baseTimestamp}`);
    }
    if (ts > maxTimestamp) maxTimestamp = ts;
    const key = r.key ?? null;
    const value = r.value === undefined ? null : r.value;
    checkBytes(key, `record ${i} key`);
    checkBytes(value, `record ${i} value`);
    let body = 1 + sizeOfVarlong(ts - baseTimestamp) + sizeOfVarint(i);
    if (key === null) body += 1;
    else {
      const n = byteLen(key);
      body += sizeOfVarint(n) + n;
    }
    if (value === null) body += 1;
    else {
      const n = byteLen(value);
      body += sizeOfVarint(n) + n;
    }
    const hl = r.headers === undefined ? null : headerList(r.headers);
    headerLists[i] = hl;
    const hc = hl === null ? 0 : hl.length;
    body += sizeOfVarint(hc);
    for (let h = 0; h < hc; h++) {
      const hdr = hl![h]!;
      if (typeof hdr?.key !== 'string') throw new InvalidRecordError(`record ${i} header ${h} needs a string key`);
      checkBytes(hdr.value, `record ${i} header ${JSON.stringify(hdr.key)} value`);
      const kn = Buffer.byteLength(hdr.key, 'utf8');
      body += sizeOfVarint(kn) + kn;
      if (hdr.value === null || hdr.value === undefined) body += 1;
      else {
        const vn = byteLen(hdr.value);
        body += sizeOfVarint(vn) + vn;
      }
    }
    bodySizes[i] = body;
    recordsBytes += sizeOfVarint(body) + body;
  }

  const compression = options.compression ?? 'none';
  const plainTotal = HEADER_BYTES + recordsBytes;
  // Uncompressed: write records straight after the header. Compressed: write them to a scratch
  // buffer first, then the frame after the header.
  const out = compression === 'none' ? Buffer.allocUnsafe(plainTotal) : Buffer.allocUnsafe(recordsBytes);
  let pos = compression === 'none' ? HEADER_BYTES : 0;
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    pos = writeVarint(out, pos, bodySizes[i]!);
    out[pos++] = 0; // record attributes: unused
    pos = writeVarlong(out, pos, (r.timestamp ?? now) - baseTimestamp);
    pos = writeVarint(out, pos, i);
    const key = r.key ?? null;
    if (key === null) pos = writeVarint(out, pos, -1);
    else {
      const n = byteLen(key);
      pos = writeBytes(out, writeVarint(out, pos, n), key, n);
    }
    const value = r.value === undefined ? null : r.value;
    if (value === null) pos = writeVarint(out, pos, -1);
    else {
      const n = byteLen(value);
      pos = writeBytes(out, writeVarint(out, pos, n), value, n);
    }
    const hl = headerLists[i];
    const hc = hl === null || hl === undefined ? 0 : hl.length;
    pos = writeVarint(out, pos, hc);
    for (let h = 0; h < hc; h++) {
      const hdr = hl![h]!;
      const kn = Buffer.byteLength(hdr.key, 'utf8');
      pos = writeVarint(out, pos, kn);
      pos += out.write(hdr.key, pos, kn, 'utf8');
      if (hdr.value === null || hdr.value === undefined) pos = writeVarint(out, pos, -1);
      else {
        const vn = byteLen(hdr.value);
        pos = writeBytes(out, writeVarint(out, pos, vn), hdr.value, vn);
      }
    }
  }

  let batch: Buffer;
  let codec = CODEC_NONE;
  if (compression === 'none') {
    batch = out;
  } else if (compression === 'lz4') {
    const frame = compressFrameSync(out);
    batch = Buffer.allocUnsafe(HEADER_BYTES + frame.length);
    batch.set(frame, HEADER_BYTES);
    codec = CODEC_LZ4;
  } else {
    throw new InvalidRecordError(`unknown compression ${JSON.stringify(compression)} (use none or lz4)`);
  }
  writeInt64(batch, OFF_BASE_OFFSET, options.baseOffset ?? 0);
  writeInt32(batch, OFF_BATCH_LENGTH, batch.length - LOG_OVERHEAD);
  writeInt32(batch, OFF_LEADER_EPOCH, -1);
  batch[OFF_MAGIC] = MAGIC;
  writeInt16(batch, OFF_ATTRIBUTES, codec);
  writeInt32(batch, OFF_LAST_OFFSET_DELTA, count - 1);
  writeInt64(batch, OFF_BASE_TIMESTAMP, baseTimestamp);
  writeInt64(batch, OFF_MAX_TIMESTAMP, maxTimestamp);
  writeInt64(batch, OFF_PRODUCER_ID, -1);
  writeInt16(batch, OFF_PRODUCER_EPOCH, -1);
  writeInt32(batch, OFF_BASE_SEQUENCE, -1);
  writeInt32(batch, OFF_RECORD_COUNT, count);
  writeInt32(batch, OFF_CRC, computeBatchCrc(batch, 0, batch.length));
  return batch;
}

// --- decoding --------------------------------------------------------------------------------

/**
 * The records section of a batch, decompressed if needed. For an uncompressed batch this is a
 * view (no copy); for LZ4 it is a new buffer.
 */
export function recordsSection(batch: Uint8Array, pos = 0): Buffer {
  const buf = asBuffer(batch);
  const size = batchSize(buf, pos);
  const section = buf.subarray(pos + HEADER_BYTES, pos + size);
  const codec = batchCodec(buf, pos);
  if (codec === CODEC_NONE) return section;
  if (codec === CODEC_LZ4) {
    try {
      return decompressFrameSync(section);
    } catch (e) {
      throw new CorruptRecordError(`LZ4 frame does not decompress: ${(e as Error).message}`);
    }
  }
  throw new InvalidRecordError(`compression codec ${codec} is not supported`);
}

/**
 * Returns the batch re-encoded without compression (same offsets, timestamps and records), with a
 * fresh CRC. Used for readers that cannot decode LZ4. An uncompressed batch is returned as is.
 */
export function decompressBatch(batch: Uint8Array, pos = 0): Buffer {
  const buf = asBuffer(batch);
  const size = batchSize(buf, pos);
  if (batchCodec(buf, pos) === CODEC_NONE) return buf.subarray(pos, pos + size);
  const section = recordsSection(buf, pos);
  const out = Buffer.allocUnsafe(HEADER_BYTES + section.length);
  buf.copy(out, 0, pos, pos + HEADER_BYTES);
  out.set(section, HEADER_BYTES);
  writeInt32(out, OFF_BATCH_LENGTH, out.length - LOG_OVERHEAD);
  writeInt16(out, OFF_ATTRIBUTES, batchAttributes(buf, pos) & ~CODEC_MASK);
  writeInt32(out, OFF_CRC, computeBatchCrc(out, 0, out.length));
  return out;
}

// Varint readers for the decode loop. They return the value and leave the position after it in
// `cursor.next` (-1 when the varint is malformed or runs past `end`): no object per call. The
// cursor is read right after each call, never across an onRecord callback, so a callback may
// itself decode another batch. (An object field, not a module-level `let`: no TDZ checks.)
const cursor = { next: 0 };

function readVarintAt(buf: Uint8Array, pos: number, end: number): number {
  let result = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) break;
    const b = buf[pos++]!;
    if (shift === 28 && b > 0x0f) break; // more than 32 bits
    result |= (b & 0x7f) << shift;
    if (b < 0x80) {
      cursor.next = pos;
      return (result >>> 1) ^ -(result & 1);
    }
  }
  cursor.next = -1;
  return 0;
}

function readVarlongAt(buf: Uint8Array, pos: number, end: number): number {
  // Most timestamp deltas fit one byte (records of a batch share a millisecond): integer path.
  if (pos < end) {
    const b = buf[pos]!;
    if (b < 0x80) {
      cursor.next = pos + 1;
      return (b >>> 1) ^ -(b & 1);
    }
  }
  let result = 0;
  let mul = 1;
  // 8 groups of 7 bits = 56 bits: a zigzag value beyond that is beyond a safe integer.
  for (let i = 0; i < 8; i++) {
    if (pos >= end) break;
    const b = buf[pos++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) {
      cursor.next = pos;
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    }
    mul *= 128;
  }
  cursor.next = -1;
  return 0;
}

// Buffer's species is Node's internal FastBuffer (Buffer.prototype is its prototype). Making the
// views with it directly, as Node's own Buffer#slice does, skips the species lookup that
// `Buffer#subarray` pays on every call; the results are ordinary Buffers in every respect.
type ViewConstructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => Buffer;
const FastBuffer = (Buffer as unknown as { [Symbol.species]: unknown })[Symbol.species] as ViewConstructor;
const fastViews = typeof FastBuffer === 'function' && (FastBuffer as unknown) !== Buffer && FastBuffer.prototype === Buffer.prototype;

/** A view of `length` bytes at `byteOffset` of `s`'s memory (`ab` = s.buffer, hoisted by the caller). */
function view(s: Buffer, ab: ArrayBufferLike, byteOffset: number, length: number): Buffer {
  return fastViews ? new FastBuffer(ab, byteOffset, length) : s.subarray(byteOffset - s.byteOffset, byteOffset - s.byteOffset + length);
}

function recordError(i: number, baseOffset: number, why: string): CorruptRecordError {
  return new CorruptRecordError(`record ${i} of batch at offset ${baseOffset} does not parse: ${why}`);
}

/**
 * Calls `onRecord` for each record of the batch at `pos` whose offset is ≥ `fromOffset`, in order.
 * Returning false from `onRecord` stops early. Returns the number of records delivered. Throws
 * CorruptRecordError (never returns garbage) when the records section does not parse: every
 * length is checked against the record's own length, and each record must carry offsetDelta = its
 * index (batches with gaps, as Kafka's compaction leaves them, are refused by batchProblem anyway).
 * key, value and header values are views into the batch (or into its decompressed section).
 */
export function forEachRecord(
  batch: Uint8Array,
  onRecord: (record: DecodedRecord) => boolean | void,
  fromOffset = 0,
  pos = 0,
): number {
  const { s, baseOffset, baseTimestamp, count } = openRecords(batch, pos);
  const sectionEnd = s.length;
  // Hoisted out of the loop: both are accessor calls on a typed array.
  const ab = s.buffer;
  const base = s.byteOffset;
  let p = 0;
  let delivered = 0;
  for (let i = 0; i < count; i++) {
    const end = recordEnd(s, p, sectionEnd, i, baseOffset);
    const offset = baseOffset + i;
    const wanted = offset >= fromOffset;
    p = parseRecord(s, cursor.next, end, i, baseOffset, wanted);
    if (wanted) {
      delivered++;
      const record: DecodedRecord = {
        offset,
        timestamp: baseTimestamp + parsed.tsDelta,
        key: parsed.keyLen < 0 ? null : view(s, ab, base + parsed.keyStart, parsed.keyLen),
        value: parsed.valueLen < 0 ? null : view(s, ab, base + parsed.valueStart, parsed.valueLen),
        headers: parsed.headers,
      };
      if (onRecord(record) === false) return delivered;
    }
  }
  if (p !== sectionEnd) throw recordError(count, baseOffset, `${sectionEnd - p} bytes follow the last record`);
  return delivered;
}

const NO_HEADERS: RecordHeader[] = [];
Object.freeze(NO_HEADERS);

/** All records of one batch (from `fromOffset` on), decoded. */
export function decodeRecords(batch: Uint8Array, fromOffset = 0, pos = 0): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  forEachRecord(batch, (r) => void out.push(r), fromOffset, pos);
  return out;
}

/**
 * Walks consecutive batches in `buf` (as a read returns them concatenated, or a segment slice).
 * Calls `onBatch(pos, size)` for each; stops at the end or at the first position that does not
 * hold a whole batch. Returns the position after the last whole batch.
 */
export function walkBatches(buf: Uint8Array, onBatch: (pos: number, size: number) => boolean | void, start = 0, end = buf.length): number {
  let pos = start;
  while (end - pos >= HEADER_BYTES) {
    const size = batchSize(buf, pos);
    if (size < HEADER_BYTES || pos + size > end) break;
    if (onBatch(pos, size) === false) return pos + size;
    pos += size;
  }
  return pos;
}

/** A decoded record with the topic and partition it came from (the engine's ConsumedRecord shape). */
export interface PartitionRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/**
 * The read path's decoder: as forEachRecord (same checks, same errors, same views), but it builds
 * each record directly in the engine's output shape and pushes it onto `out` — one object per record,
 * no callback — until `out.length` reaches `maxRecords`. Returns how many it pushed. Records before
 * `fromOffset` are skipped. Kept in step with forEachRecord; the tests compare the two.
 */
export function decodeRecordsInto(
  batch: Uint8Array,
  topic: string,
  partition: number,
  fromOffset: number,
  out: PartitionRecord[],
  maxRecords: number,
  pos = 0,
): number {
  const { s, baseOffset, baseTimestamp, count } = openRecords(batch, pos);
  const sectionEnd = s.length;
  const ab = s.buffer;
  const base = s.byteOffset;
  const startLength = out.length;
  let n = startLength;
  if (n >= maxRecords) return 0;
  let p = 0;
  for (let i = 0; i < count; i++) {
    const end = recordEnd(s, p, sectionEnd, i, baseOffset);
    const offset = baseOffset + i;
    // Skipped records (before fromOffset) are checked as fully as decoded ones.
    const wanted = offset >= fromOffset;
    p = parseRecord(s, cursor.next, end, i, baseOffset, wanted);
    if (!wanted) continue;
    out.push({
      topic,
      partition,
      offset,
      timestamp: baseTimestamp + parsed.tsDelta,
      key: parsed.keyLen < 0 ? null : view(s, ab, base + parsed.keyStart, parsed.keyLen),
      value: parsed.valueLen < 0 ? null : view(s, ab, base + parsed.valueStart, parsed.valueLen),
      headers: parsed.headers,
    });
    if (++n >= maxRecords) return n - startLength;
  }
  if (p !== sectionEnd) throw recordError(count, baseOffset, `${sectionEnd - p} bytes follow the last record`);
  return n - startLength;
}

/** The records section of the batch at `pos` and the header fields the decoders need, checked. */
function openRecords(batch: Uint8Array, pos: number): { s: Buffer; baseOffset: number; baseTimestamp: number; count: number } {
  const buf = asBuffer(batch);
  // Header and length checks only (the CRC is the reader's or the validator's job): they bound
  // the decoders' loops and keep a short buffer from reading as zeros.
  const problem = batchProblem(buf, pos, buf.length, false);
  if (problem !== null) throw new CorruptRecordError(`record batch does not decode: ${problem}`);
  const baseOffset = batchBaseOffset(buf, pos);
  const count = batchRecordCount(buf, pos);
  // baseOffset lies outside the CRC: an offset no log can hold means the header is damaged.
  if (baseOffset < 0 || !Number.isSafeInteger(baseOffset + count)) {
    throw new CorruptRecordError(`record batch does not decode: base offset ${baseOffset} is out of range`);
  }
  return { s: recordsSection(buf, pos), baseOffset, baseTimestamp: batchBaseTimestamp(buf, pos), count };
}

/** Reads record i's length varint at p; returns where the record ends (its body starts at cursor.next). */
function recordEnd(s: Buffer, p: number, sectionEnd: number, i: number, baseOffset: number): number {
  const length = readVarintAt(s, p, sectionEnd);
  const start = cursor.next;
  if (start < 0 || length < 1 || length > sectionEnd - start) {
    throw recordError(i, baseOffset, start < 0 ? 'length varint runs past the end' : `length ${length} does not fit`);
  }
  return start + length;
}

/**
 * The fields of the record parseRecord just read. One object reused for every record (no
 * allocation per record): read it before parsing another — a decoder builds its record from it
 * before calling back, so a callback may itself decode another batch.
 */
const parsed = { tsDelta: 0, keyStart: 0, keyLen: 0, valueStart: 0, valueLen: 0, headers: NO_HEADERS };

/**
 * Parses the body of record i, from p (after its length) to `end`, into `parsed`; with
 * `withHeaders` false the headers are checked but not built (a skipped record). Every length is
 * checked against the record's own length, and the record must carry offsetDelta = i (batches
 * with gaps, as Kafka's compaction leaves them, are refused by batchProblem anyway). Returns end.
 */
function parseRecord(s: Buffer, p: number, end: number, i: number, baseOffset: number, withHeaders: boolean): number {
  const length = end - p;
  p++; // record attributes: unused
  const tsDelta = readVarlongAt(s, p, end);
  p = cursor.next;
  const offsetDelta = p < 0 ? 0 : readVarintAt(s, p, end);
  p = p < 0 ? p : cursor.next;
  const keyLen = p < 0 ? 0 : readVarintAt(s, p, end);
  p = p < 0 ? p : cursor.next;
  if (p < 0 || keyLen < -1 || keyLen > end - p) throw recordError(i, baseOffset, 'bad timestamp, offset or key');
  const keyStart = p;
  if (keyLen > 0) p += keyLen;
  const valueLen = readVarintAt(s, p, end);
  p = cursor.next;
  if (p < 0 || valueLen < -1 || valueLen > end - p) throw recordError(i, baseOffset, 'bad value length');
  const valueStart = p;
  if (valueLen > 0) p += valueLen;
  const headerCount = readVarintAt(s, p, end);
  p = cursor.next;
  // Each header takes at least 2 bytes, which bounds the allocation below.
  if (p < 0 || headerCount < 0 || headerCount * 2 > end - p) throw recordError(i, baseOffset, 'bad header count');
  let headers: RecordHeader[] = NO_HEADERS;
  if (headerCount > 0) {
    headers = withHeaders ? new Array(headerCount) : NO_HEADERS;
    p = readHeaders(s, s.buffer, s.byteOffset, p, end, headerCount, withHeaders ? headers : null, i, baseOffset);
  }
  if (p !== end) throw recordError(i, baseOffset, `fields take ${p - end + length} bytes, the record says ${length}`);
  if (offsetDelta !== i) throw recordError(i, baseOffset, `offsetDelta ${offsetDelta}, expected ${i}`);
  parsed.tsDelta = tsDelta;
  parsed.keyStart = keyStart;
  parsed.keyLen = keyLen;
  parsed.valueStart = valueStart;
  parsed.valueLen = valueLen;
  parsed.headers = headers;
  return p;
}

/** Reads `count` headers from p (into `into` when given); returns the position after them. */
function readHeaders(
  s: Buffer,
  ab: ArrayBufferLike,
  base: number,
  p: number,
  end: number,
  count: number,
  into: RecordHeader[] | null,
  i: number,
  baseOffset: number,
): number {
  for (let h = 0; h < count; h++) {
    const kl = readVarintAt(s, p, end);
    p = cursor.next;
    if (p < 0 || kl < 0 || kl > end - p) throw recordError(i, baseOffset, `bad key length in header ${h}`);
    const hk = into === null ? '' : s.toString('utf8', p, p + kl);
    p += kl;
    const vl = readVarintAt(s, p, end);
    p = cursor.next;
    if (p < 0 || vl < -1 || vl > end - p) throw recordError(i, baseOffset, `bad value length in header ${h}`);
    let hv: Buffer | null = null;
    if (vl >= 0) {
      if (into !== null) hv = view(s, ab, base + p, vl);
      p += vl;
    }
    if (into !== null) into[h] = { key: hk, value: hv };
  }
  return p;
}
