// Kafka record batch v2, one codec for the engine and the client: `createBatchCodec(runtime)` over
// any Uint8Array type. The runtime supplies what differs by platform (CRC-32C, LZ4 frames, views,
// UTF-8); the rules are the same everywhere: one validator (batchProblem), one record parser, each
// record's offsetDelta must equal its index, every length is checked against its record's length.
// See engine/FORMAT.md for the field list.
import { CorruptRecordError, InvalidRecordError, assert } from './errors.js';
import {
  CODEC_LZ4,
  CODEC_MASK,
  CODEC_NONE,
  HEADER_BYTES,
  LOG_OVERHEAD,
  MAGIC,
  MAX_RECORDS_PER_BATCH,
  MAX_TIMESTAMP_DELTA_MS,
  OFF_ATTRIBUTES,
  OFF_BASE_OFFSET,
  OFF_BASE_SEQUENCE,
  OFF_BASE_TIMESTAMP,
  OFF_BATCH_LENGTH,
  OFF_CRC,
  OFF_LAST_OFFSET_DELTA,
  OFF_LEADER_EPOCH,
  OFF_MAGIC,
  OFF_MAX_TIMESTAMP,
  OFF_PRODUCER_EPOCH,
  OFF_PRODUCER_ID,
  OFF_RECORD_COUNT,
  TRANSACTIONAL_OR_CONTROL,
  batchAttributes,
  batchBaseOffset,
  batchBaseTimestamp,
  batchCodec,
  batchRecordCount,
  batchSize,
  readInt32,
  writeInt16,
  writeInt32,
  writeInt64,
} from './batch-header.js';
import type { Bytes, DecodedRecord, EncodeOptions, PartitionRecord, RecordHeader, RecordHeaderInput, RecordInput } from './record-types.js';
import { ReadRecord, RecordSource } from './read-record.js';
import { readVarintAt, readVarlongAt, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong, type VarintCursor } from './varint.js';

/** What the codec needs from its platform. `B` is the byte type it hands out (Buffer, Uint8Array). */
export interface BatchRuntime<B extends Uint8Array> {
  /** `bytes` as a B over the same memory (no copy; itself when it already is one). */
  from(bytes: Uint8Array): B;
  /** New bytes whose contents the codec overwrites entirely. */
  alloc(size: number): B;
  /** A B over `length` bytes at `byteOffset` of `buffer` (no copy). */
  view(buffer: ArrayBufferLike, byteOffset: number, length: number): B;
  /** CRC-32C (unsigned) of bytes[start, end). */
  crc32c(bytes: B, start: number, end: number): number;
  /** One LZ4 frame holding `src`. */
  lz4CompressFrame(src: B): Uint8Array;
  /** The content of one LZ4 frame; throws when it does not decompress. */
  lz4DecompressFrame(src: B): B;
  utf8Length(s: string): number;
  /** Writes the UTF-8 of `s` (utf8Length(s) = `length` bytes) at `pos`. */
  utf8Write(out: B, pos: number, s: string, length: number): void;
  utf8Decode(bytes: B, start: number, end: number): string;
}

export interface BatchCodec<B extends Uint8Array> {
  computeBatchCrc(buf: Uint8Array, pos: number, size: number): number;
  batchProblem(buf: Uint8Array, pos: number, limit: number, checkCrc?: boolean): string | null;
  validateProducerBatch(bytes: Uint8Array): void;
  validateOwnBatch(bytes: Uint8Array): void;
  encodeBatch(records: readonly RecordInput[], options?: EncodeOptions): B;
  recordsSection(batch: Uint8Array, pos?: number): B;
  decompressBatch(batch: Uint8Array, pos?: number): B;
  compressBatchLz4(batch: Uint8Array, pos?: number): B;
  forEachRecord(batch: Uint8Array, onRecord: (record: DecodedRecord<B>) => boolean | void, fromOffset?: number, pos?: number): number;
  decodeRecords(batch: Uint8Array, fromOffset?: number, pos?: number): DecodedRecord<B>[];
  decodeRecordsInto(
    batch: Uint8Array,
    topic: string,
    partition: number,
    fromOffset: number,
    out: Readonly<PartitionRecord<B>>[],
    maxRecords: number,
    pos?: number,
  ): number;
}

// The decoders' varint cursor: read right after each varint call, never across a callback (see varint.ts).
const cursor: VarintCursor = { next: 0 };

const NO_HEADERS: RecordHeader<never>[] = [];
Object.freeze(NO_HEADERS);

/**
 * The fields of the record parseRecord just read. One object reused for every record (no
 * allocation per record): a decoder builds its record from it before calling back, so a callback
 * may itself decode another batch.
 */
const parsed = { tsDelta: 0, keyStart: 0, keyLen: 0, valueStart: 0, valueLen: 0, headers: NO_HEADERS as RecordHeader<Uint8Array>[] };

function recordError(i: number, baseOffset: number, why: string): CorruptRecordError {
  return new CorruptRecordError(`record ${i} of batch at offset ${baseOffset} does not parse: ${why}`);
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

function byteLen<B extends Uint8Array>(runtime: BatchRuntime<B>, v: Bytes): number {
  return typeof v === 'string' ? runtime.utf8Length(v) : v.byteLength;
}

function writeBytes<B extends Uint8Array>(runtime: BatchRuntime<B>, out: B, pos: number, v: Bytes, len: number): number {
  if (typeof v === 'string') runtime.utf8Write(out, pos, v, len);
  else out.set(v, pos);
  return pos + len;
}

// The record parser: module functions, not closures of a codec, so the hot loop calls constants.

/** Reads record i's length varint at p; returns where the record ends (its body starts at cursor.next). */
function recordEnd(s: Uint8Array, p: number, sectionEnd: number, i: number, baseOffset: number): number {
  const length = readVarintAt(s, p, sectionEnd, cursor);
  const start = cursor.next;
  if (start < 0 || length < 1 || length > sectionEnd - start) {
    throw recordError(i, baseOffset, start < 0 ? 'length varint runs past the end' : `length ${length} does not fit`);
  }
  return start + length;
}

/**
 * Parses the body of record i, from p (after its length) to `end`, into `parsed`; with
 * `withHeaders` false the headers are checked but not built (a skipped record). Every length is
 * checked against the record's own length, and the record must carry offsetDelta = i (batches
 * with gaps, as Kafka's compaction leaves them, are refused by batchProblem anyway). Returns end.
 */
function parseRecord<B extends Uint8Array>(
  runtime: BatchRuntime<B>,
  s: B,
  p: number,
  end: number,
  i: number,
  baseOffset: number,
  withHeaders: boolean,
): number {
  const length = end - p;
  p++; // record attributes: unused
  const tsDelta = readVarlongAt(s, p, end, cursor);
  p = cursor.next;
  const offsetDelta = p < 0 ? 0 : readVarintAt(s, p, end, cursor);
  p = p < 0 ? p : cursor.next;
  const keyLen = p < 0 ? 0 : readVarintAt(s, p, end, cursor);
  p = p < 0 ? p : cursor.next;
  if (p < 0 || keyLen < -1 || keyLen > end - p) throw recordError(i, baseOffset, 'bad timestamp, offset or key');
  const keyStart = p;
  if (keyLen > 0) p += keyLen;
  const valueLen = readVarintAt(s, p, end, cursor);
  p = cursor.next;
  if (p < 0 || valueLen < -1 || valueLen > end - p) throw recordError(i, baseOffset, 'bad value length');
  const valueStart = p;
  if (valueLen > 0) p += valueLen;
  const headerCount = readVarintAt(s, p, end, cursor);
  p = cursor.next;
  // Each header takes at least 2 bytes, which bounds the allocation below.
  if (p < 0 || headerCount < 0 || headerCount * 2 > end - p) throw recordError(i, baseOffset, 'bad header count');
  let headers: RecordHeader<B>[] = NO_HEADERS;
  if (headerCount > 0) {
    headers = withHeaders ? new Array(headerCount) : NO_HEADERS;
    p = readHeaders(runtime, s, p, end, headerCount, withHeaders ? headers : null, i, baseOffset);
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
function readHeaders<B extends Uint8Array>(
  runtime: BatchRuntime<B>,
  s: B,
  p: number,
  end: number,
  count: number,
  into: RecordHeader<B>[] | null,
  i: number,
  baseOffset: number,
): number {
  const { view, utf8Decode } = runtime;
  const ab = s.buffer;
  const base = s.byteOffset;
  for (let h = 0; h < count; h++) {
    const kl = readVarintAt(s, p, end, cursor);
    p = cursor.next;
    if (p < 0 || kl < 0 || kl > end - p) throw recordError(i, baseOffset, `bad key length in header ${h}`);
    const hk = into === null ? '' : utf8Decode(s, p, p + kl);
    p += kl;
    const vl = readVarintAt(s, p, end, cursor);
    p = cursor.next;
    if (p < 0 || vl < -1 || vl > end - p) throw recordError(i, baseOffset, `bad value length in header ${h}`);
    let hv: B | null = null;
    if (vl >= 0) {
      if (into !== null) hv = view(ab, base + p, vl);
      p += vl;
    }
    if (into !== null) into[h] = { key: hk, value: hv };
  }
  return p;
}

/** bytes[start, end) as a view of the runtime's type (no copy). */
function sub<B extends Uint8Array>(runtime: BatchRuntime<B>, b: B, start: number, end: number): B {
  return runtime.view(b.buffer, b.byteOffset + start, end - start);
}

export function computeBatchCrc<B extends Uint8Array>(runtime: BatchRuntime<B>, buf: Uint8Array, pos: number, size: number): number {
  return runtime.crc32c(runtime.from(buf), pos + OFF_ATTRIBUTES, pos + size);
}

/**
 * Checks the batch at `pos` without throwing: header sanity, that it lies within `limit`, and its
 * CRC. Returns null when it is good, else the reason. Recovery and readers use this; the record
 * section is not walked (that is per-record work; decoders are bounds-checked instead).
 */
export function batchProblem<B extends Uint8Array>(runtime: BatchRuntime<B>, buf: Uint8Array, pos: number, limit: number, checkCrc = true): string | null {
  if (limit - pos < HEADER_BYTES) return `only ${limit - pos} bytes left, a batch header needs ${HEADER_BYTES}`;
  const batchLength = readInt32(buf, pos + OFF_BATCH_LENGTH);
  if (batchLength < HEADER_BYTES - LOG_OVERHEAD) return `batchLength ${batchLength} is smaller than a header`;
  if (batchLength > limit - pos - LOG_OVERHEAD) {
    return `batchLength ${batchLength} runs past the end: it does not fit in the ${limit - pos - LOG_OVERHEAD} bytes available`;
  }
  const magic = buf[pos + OFF_MAGIC]!;
  if (magic !== MAGIC) return `magic ${magic}, expected ${MAGIC}`;
  const count = readInt32(buf, pos + OFF_RECORD_COUNT);
  if (count < 1 || count > MAX_RECORDS_PER_BATCH) return `record count ${count} out of range`;
  const lastDelta = readInt32(buf, pos + OFF_LAST_OFFSET_DELTA);
  if (lastDelta !== count - 1) return `lastOffsetDelta ${lastDelta} does not match record count ${count}`;
  if (checkCrc) {
    const stored = readInt32(buf, pos + OFF_CRC) >>> 0;
    const actual = computeBatchCrc(runtime, buf, pos, batchLength + LOG_OVERHEAD);
    if (stored !== actual) return `CRC mismatch: stored ${stored.toString(16)}, computed ${actual.toString(16)}`;
  }
  return null;
}

/**
 * One batch that must fill `bytes` exactly. Throws CorruptRecordError for a bad CRC or a lying
 * length, InvalidRecordError for an unsupported codec or attribute.
 */
export function validateBatchBytes<B extends Uint8Array>(runtime: BatchRuntime<B>, bytes: Uint8Array, checkCrc: boolean): void {
  const problem = batchProblem(runtime, bytes, 0, bytes.length, checkCrc);
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
  if (attributes & TRANSACTIONAL_OR_CONTROL) throw new InvalidRecordError('transactional and control batches are not supported');
}

/**
 * Encodes records into one batch (baseOffset 0 unless given), after `headroomBytes` free bytes.
 * With `lz4`, the records section is one LZ4 frame; the header stays plain so the server can
 * route and index without decompressing.
 */
export function encodeBatch<B extends Uint8Array>(runtime: BatchRuntime<B>, records: readonly RecordInput[], options: EncodeOptions = {}): B {
  const count = records.length;
  if (count === 0) throw new InvalidRecordError('a batch needs at least one record');
  if (count > MAX_RECORDS_PER_BATCH) throw new InvalidRecordError(`a batch holds at most ${MAX_RECORDS_PER_BATCH} records`);
  const now = options.now ?? Date.now();
  const headroom = options.headroomBytes ?? 0;
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
      const n = byteLen(runtime, key);
      body += sizeOfVarint(n) + n;
    }
    if (value === null) body += 1;
    else {
      const n = byteLen(runtime, value);
      body += sizeOfVarint(n) + n;
    }
    const hl = r.headers === undefined ? null : headerList(r.headers);
    headerLists[i] = hl;
    const hc = hl === null ? 0 : hl.length;
    body += sizeOfVarint(hc);
    for (let h = 0; h < hc; h++) {
      const hdr = hl![h]!;
      if (typeof hdr?.key !== 'string') throw new InvalidRecordError(`record ${i} header ${h} needs a string key`);
      checkBytes(hdr.value ?? null, `record ${i} header ${JSON.stringify(hdr.key)} value`);
      const kn = runtime.utf8Length(hdr.key);
      body += sizeOfVarint(kn) + kn;
      if (hdr.value === null || hdr.value === undefined) body += 1;
      else {
        const vn = byteLen(runtime, hdr.value);
        body += sizeOfVarint(vn) + vn;
      }
    }
    bodySizes[i] = body;
    recordsBytes += sizeOfVarint(body) + body;
  }

  const compression = options.compression ?? 'none';
  if (compression !== 'none' && compression !== 'lz4') {
    throw new InvalidRecordError(`unknown compression ${JSON.stringify(compression)} (use none or lz4)`);
  }
  const plain = compression === 'none';
  // Uncompressed: write records straight after the header. Compressed: write them to a scratch
  // buffer first, then the frame after the header.
  const firstRecord = plain ? headroom + HEADER_BYTES : 0;
  const out = runtime.alloc(firstRecord + recordsBytes);
  let pos = firstRecord;
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    pos = writeVarint(out, pos, bodySizes[i]!);
    out[pos++] = 0; // record attributes: unused
    pos = writeVarlong(out, pos, (r.timestamp ?? now) - baseTimestamp);
    pos = writeVarint(out, pos, i);
    const key = r.key ?? null;
    if (key === null) pos = writeVarint(out, pos, -1);
    else {
      const n = byteLen(runtime, key);
      pos = writeBytes(runtime, out, writeVarint(out, pos, n), key, n);
    }
    const value = r.value === undefined ? null : r.value;
    if (value === null) pos = writeVarint(out, pos, -1);
    else {
      const n = byteLen(runtime, value);
      pos = writeBytes(runtime, out, writeVarint(out, pos, n), value, n);
    }
    const hl = headerLists[i];
    const hc = hl === null || hl === undefined ? 0 : hl.length;
    pos = writeVarint(out, pos, hc);
    for (let h = 0; h < hc; h++) {
      const hdr = hl![h]!;
      const kn = runtime.utf8Length(hdr.key);
      pos = writeBytes(runtime, out, writeVarint(out, pos, kn), hdr.key, kn);
      if (hdr.value === null || hdr.value === undefined) pos = writeVarint(out, pos, -1);
      else {
        const vn = byteLen(runtime, hdr.value);
        pos = writeBytes(runtime, out, writeVarint(out, pos, vn), hdr.value, vn);
      }
    }
  }
  // A static message: a closure here would capture `pos` and move it out of a register for the whole loop.
  assert(pos === out.length, 'the batch encoder wrote exactly the bytes it planned');

  let frame: B;
  let codec = CODEC_NONE;
  if (plain) frame = out;
  else {
    const compressed = runtime.lz4CompressFrame(out);
    frame = runtime.alloc(headroom + HEADER_BYTES + compressed.byteLength);
    frame.set(compressed, headroom + HEADER_BYTES);
    codec = CODEC_LZ4;
  }
  const b = headroom;
  const size = frame.length - headroom;
  writeInt64(frame, b + OFF_BASE_OFFSET, options.baseOffset ?? 0);
  writeInt32(frame, b + OFF_BATCH_LENGTH, size - LOG_OVERHEAD);
  writeInt32(frame, b + OFF_LEADER_EPOCH, -1);
  frame[b + OFF_MAGIC] = MAGIC;
  writeInt16(frame, b + OFF_ATTRIBUTES, codec);
  writeInt32(frame, b + OFF_LAST_OFFSET_DELTA, count - 1);
  writeInt64(frame, b + OFF_BASE_TIMESTAMP, baseTimestamp);
  writeInt64(frame, b + OFF_MAX_TIMESTAMP, maxTimestamp);
  writeInt64(frame, b + OFF_PRODUCER_ID, -1);
  writeInt16(frame, b + OFF_PRODUCER_EPOCH, -1);
  writeInt32(frame, b + OFF_BASE_SEQUENCE, -1);
  writeInt32(frame, b + OFF_RECORD_COUNT, count);
  writeInt32(frame, b + OFF_CRC, runtime.crc32c(frame, b + OFF_ATTRIBUTES, b + size));
  return frame;
}

/**
 * The records section of a batch, decompressed if needed. For an uncompressed batch this is a
 * view (no copy); for LZ4 it is new bytes.
 */
export function recordsSection<B extends Uint8Array>(runtime: BatchRuntime<B>, batch: Uint8Array, pos = 0): B {
  const buf = runtime.from(batch);
  const section = sub(runtime, buf, pos + HEADER_BYTES, pos + batchSize(buf, pos));
  const codec = batchCodec(buf, pos);
  if (codec === CODEC_NONE) return section;
  if (codec === CODEC_LZ4) {
    try {
      return runtime.lz4DecompressFrame(section);
    } catch (e) {
      if (e instanceof CorruptRecordError) throw e;
      throw new CorruptRecordError(`LZ4 frame does not decompress: ${(e as Error).message}`);
    }
  }
  throw new InvalidRecordError(`compression codec ${codec} is not supported`);
}

/**
 * The batch re-encoded without compression (same offsets, timestamps and records), with a fresh
 * CRC, for readers that cannot decode LZ4. An uncompressed batch is returned as is.
 */
/**
 * An uncompressed batch as the same batch with its records section in one LZ4 frame (header fields
 * kept: offsets, timestamps, producer id, epoch and sequence; new length, codec bits and CRC). A
 * batch that is already compressed is returned as it is. Check the batch's CRC before: the new CRC
 * would make damage look intact.
 */
export function compressBatchLz4<B extends Uint8Array>(runtime: BatchRuntime<B>, batch: Uint8Array, pos = 0): B {
  const buf = runtime.from(batch);
  const size = batchSize(buf, pos);
  if (batchCodec(buf, pos) !== CODEC_NONE) return sub(runtime, buf, pos, pos + size);
  const compressed = runtime.lz4CompressFrame(sub(runtime, buf, pos + HEADER_BYTES, pos + size));
  const out = runtime.alloc(HEADER_BYTES + compressed.byteLength);
  out.set(sub(runtime, buf, pos, pos + HEADER_BYTES), 0);
  out.set(compressed, HEADER_BYTES);
  writeInt32(out, OFF_BATCH_LENGTH, out.length - LOG_OVERHEAD);
  writeInt16(out, OFF_ATTRIBUTES, (batchAttributes(buf, pos) & ~CODEC_MASK) | CODEC_LZ4);
  writeInt32(out, OFF_CRC, runtime.crc32c(out, OFF_ATTRIBUTES, out.length));
  return out;
}

export function decompressBatch<B extends Uint8Array>(runtime: BatchRuntime<B>, batch: Uint8Array, pos = 0): B {
  const buf = runtime.from(batch);
  if (batchCodec(buf, pos) === CODEC_NONE) return sub(runtime, buf, pos, pos + batchSize(buf, pos));
  const section = recordsSection(runtime, buf, pos);
  const out = runtime.alloc(HEADER_BYTES + section.length);
  out.set(sub(runtime, buf, pos, pos + HEADER_BYTES), 0);
  out.set(section, HEADER_BYTES);
  writeInt32(out, OFF_BATCH_LENGTH, out.length - LOG_OVERHEAD);
  writeInt16(out, OFF_ATTRIBUTES, batchAttributes(buf, pos) & ~CODEC_MASK);
  writeInt32(out, OFF_CRC, runtime.crc32c(out, OFF_ATTRIBUTES, out.length));
  return out;
}

/** The records section of the batch at `pos` and the header fields the decoders need, checked. */
function openRecords<B extends Uint8Array>(runtime: BatchRuntime<B>, batch: Uint8Array, pos: number): { s: B; baseOffset: number; baseTimestamp: number; count: number } {
  const buf = runtime.from(batch);
  // Header and length checks only (the CRC is the reader's or the validator's job): they bound
  // the decoders' loops and keep a short buffer from reading as zeros.
  const problem = batchProblem(runtime, buf, pos, buf.length, false);
  if (problem !== null) throw new CorruptRecordError(`record batch does not decode: ${problem}`);
  const baseOffset = batchBaseOffset(buf, pos);
  const count = batchRecordCount(buf, pos);
  // baseOffset lies outside the CRC: an offset no log can hold means the header is damaged.
  if (baseOffset < 0 || !Number.isSafeInteger(baseOffset + count)) {
    throw new CorruptRecordError(`record batch does not decode: base offset ${baseOffset} is out of range`);
  }
  return { s: recordsSection(runtime, buf, pos), baseOffset, baseTimestamp: batchBaseTimestamp(buf, pos), count };
}

/**
 * Calls `onRecord` for each record of the batch at `pos` whose offset is ≥ `fromOffset`, in order.
 * Returning false from `onRecord` stops early. Returns the number of records delivered. Throws
 * CorruptRecordError (never returns garbage) when the records section does not parse. key, value
 * and header values are views into the batch (or into its decompressed section).
 */
export function forEachRecord<B extends Uint8Array>(runtime: BatchRuntime<B>, batch: Uint8Array, onRecord: (record: DecodedRecord<B>) => boolean | void, fromOffset = 0, pos = 0): number {
  const { s, baseOffset, baseTimestamp, count } = openRecords(runtime, batch, pos);
  const view = runtime.view;
  const sectionEnd = s.length;
  // Hoisted out of the loop: both are accessor calls on a typed array.
  const ab = s.buffer;
  const base = s.byteOffset;
  let p = 0;
  let delivered = 0;
  for (let i = 0; i < count; i++) {
    const end = recordEnd(s, p, sectionEnd, i, baseOffset);
    const offset = baseOffset + i;
    // Skipped records (before fromOffset) are checked as fully as decoded ones.
    const wanted = offset >= fromOffset;
    p = parseRecord(runtime, s, cursor.next, end, i, baseOffset, wanted);
    if (wanted) {
      delivered++;
      const record: DecodedRecord<B> = {
        offset,
        timestamp: baseTimestamp + parsed.tsDelta,
        key: parsed.keyLen < 0 ? null : view(ab, base + parsed.keyStart, parsed.keyLen),
        value: parsed.valueLen < 0 ? null : view(ab, base + parsed.valueStart, parsed.valueLen),
        headers: parsed.headers as RecordHeader<B>[],
      };
      if (onRecord(record) === false) return delivered;
    }
  }
  if (p !== sectionEnd) throw recordError(count, baseOffset, `${sectionEnd - p} bytes follow the last record`);
  return delivered;
}

/** All records of one batch (from `fromOffset` on), decoded. */
export function decodeRecords<B extends Uint8Array>(runtime: BatchRuntime<B>, batch: Uint8Array, fromOffset = 0, pos = 0): DecodedRecord<B>[] {
  const out: DecodedRecord<B>[] = [];
  forEachRecord(runtime, batch, (r) => void out.push(r), fromOffset, pos);
  return out;
}

/**
 * The read path's decoder: as forEachRecord (same checks, same errors), but it pushes each record
 * onto `out` as a ReadRecord (read-record.ts: one small object per record, key and value views
 * made on first access, into the same bytes forEachRecord's views cover) until `out.length`
 * reaches `maxRecords`. Returns how many it pushed. Records before `fromOffset` are skipped. Kept
 * in step with forEachRecord; the tests compare them.
 */
export function decodeRecordsInto<B extends Uint8Array>(runtime: BatchRuntime<B>, 
  batch: Uint8Array,
  topic: string,
  partition: number,
  fromOffset: number,
  out: Readonly<PartitionRecord<B>>[],
  maxRecords: number,
  pos = 0,
): number {
  const { s, baseOffset, baseTimestamp, count } = openRecords(runtime, batch, pos);
  const sectionEnd = s.length;
  const source = new RecordSource<B>(topic, partition, baseTimestamp, s.buffer, s.byteOffset, runtime.view);
  const startLength = out.length;
  let n = startLength;
  if (n >= maxRecords) return 0;
  let p = 0;
  for (let i = 0; i < count; i++) {
    const end = recordEnd(s, p, sectionEnd, i, baseOffset);
    const offset = baseOffset + i;
    const wanted = offset >= fromOffset;
    p = parseRecord(runtime, s, cursor.next, end, i, baseOffset, wanted);
    if (!wanted) continue;
    out.push(
      new ReadRecord(source, offset, parsed.tsDelta, parsed.keyStart, parsed.keyLen, parsed.valueStart, parsed.valueLen, parsed.headers as RecordHeader<B>[]),
    );
    if (++n >= maxRecords) return n - startLength;
  }
  if (p !== sectionEnd) throw recordError(count, baseOffset, `${sectionEnd - p} bytes follow the last record`);
  return n - startLength;
}

/**
 * The codec bound to `runtime`. Its functions are module functions taking the runtime, not closures
 * made here: closures from one literal made twice (engine and client codec in one process) lose V8's
 * per-closure specialisation, which cost the engine's read path a third at 1 KiB records.
 */
export function createBatchCodec<B extends Uint8Array>(runtime: BatchRuntime<B>): BatchCodec<B> {
  return {
    computeBatchCrc: (buf, pos, size) => computeBatchCrc(runtime, buf, pos, size),
    batchProblem: (buf, pos, limit, checkCrc) => batchProblem(runtime, buf, pos, limit, checkCrc),
    validateProducerBatch: (bytes) => validateBatchBytes(runtime, bytes, true),
    validateOwnBatch: (bytes) => validateBatchBytes(runtime, bytes, false),
    encodeBatch: (records, options) => encodeBatch(runtime, records, options),
    recordsSection: (batch, pos) => recordsSection(runtime, batch, pos),
    decompressBatch: (batch, pos) => decompressBatch(runtime, batch, pos),
    compressBatchLz4: (batch, pos) => compressBatchLz4(runtime, batch, pos),
    forEachRecord: (batch, onRecord, fromOffset, pos) => forEachRecord(runtime, batch, onRecord, fromOffset, pos),
    decodeRecords: (batch, fromOffset, pos) => decodeRecords(runtime, batch, fromOffset, pos),
    decodeRecordsInto: (batch, topic, partition, fromOffset, out, maxRecords, pos) =>
      decodeRecordsInto(runtime, batch, topic, partition, fromOffset, out, maxRecords, pos),
  };
}
