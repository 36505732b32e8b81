// Kafka record batch v2, browser-safe: the client's counterpart of engine/record-batch.ts (which
// uses Node natives). Same bytes in both directions (test/gateway/batch-codec.test.ts checks it).
// CRC-32C and LZ4 are native in Node when they load, plain JavaScript otherwise (crc32c.ts, lz4.ts).
import { CorruptRecordError, InvalidRecordError } from '../../engine/format/errors.js';
import type { Bytes, RecordInput } from '../../engine/types.js';
import { VarintReader, sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../../engine/format/varint.js';
import { crc32c } from './crc32c.js';
import { lz4CompressFrame, lz4DecompressFrame } from './lz4.js';

export const BATCH_HEADER_BYTES = 61;
const LOG_OVERHEAD = 12;
const OFF_BATCH_LENGTH = 8;
const OFF_MAGIC = 16;
const OFF_CRC = 17;
const OFF_ATTRIBUTES = 21;
const OFF_LAST_OFFSET_DELTA = 23;
const OFF_BASE_TIMESTAMP = 27;
const OFF_RECORD_COUNT = 57;
export const CODEC_NONE = 0;
export const CODEC_LZ4 = 3;
export const MAX_RECORDS_PER_BATCH = 1 << 20;
/** Largest timestamp distance from a batch's first record (its zigzag varlong delta stays an exact number). */
export const MAX_TIMESTAMP_DELTA_MS = 2 ** 52;

export type Compression = 'none' | 'lz4';

export interface ClientRecordHeader {
  key: string;
  value: Uint8Array | null;
}

/** A record as the client library yields it. */
export interface ClientRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: ClientRecordHeader[];
}

// --- big-endian helpers on Uint8Array --------------------------------------------------------

function readInt32(b: Uint8Array, p: number): number {
  return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
}

function writeInt32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
}

function readInt64(b: Uint8Array, p: number): number {
  return readInt32(b, p) * 4294967296 + (readInt32(b, p + 4) >>> 0);
}

function writeInt64(b: Uint8Array, p: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  writeInt32(b, p, hi);
  writeInt32(b, p + 4, v - hi * 4294967296);
}

export const batchBaseOffset = (b: Uint8Array, p = 0): number => readInt64(b, p);
export const batchSize = (b: Uint8Array, p = 0): number => readInt32(b, p + OFF_BATCH_LENGTH) + LOG_OVERHEAD;
export const batchRecordCount = (b: Uint8Array, p = 0): number => readInt32(b, p + OFF_RECORD_COUNT);
export const batchLastOffset = (b: Uint8Array, p = 0): number => readInt64(b, p) + readInt32(b, p + OFF_LAST_OFFSET_DELTA);
export const batchCodec = (b: Uint8Array, p = 0): number => b[p + OFF_ATTRIBUTES + 1]! & 0x07;

export function crc32cOf(b: Uint8Array): number {
  return crc32c(b);
}

/** Checks header sanity, that the batch fits in `limit`, and (optionally) its CRC. Null when good. */
export function batchProblem(b: Uint8Array, p: number, limit: number, checkCrc = true): string | null {
  if (limit - p < BATCH_HEADER_BYTES) return `only ${limit - p} bytes left, a batch header needs ${BATCH_HEADER_BYTES}`;
  const size = batchSize(b, p);
  if (size < BATCH_HEADER_BYTES || size > limit - p) return `batch length ${size} does not fit in ${limit - p} bytes`;
  if (b[p + OFF_MAGIC] !== 2) return `magic ${b[p + OFF_MAGIC]}, expected 2`;
  const count = batchRecordCount(b, p);
  if (count < 1 || count > MAX_RECORDS_PER_BATCH) return `record count ${count} out of range`;
  if (readInt32(b, p + OFF_LAST_OFFSET_DELTA) !== count - 1) return 'lastOffsetDelta does not match the record count';
  if (checkCrc) {
    const stored = readInt32(b, p + OFF_CRC) >>> 0;
    const actual = crc32cOf(b.subarray(p + OFF_ATTRIBUTES, p + size));
    if (stored !== actual) return `CRC mismatch: stored ${stored.toString(16)}, computed ${actual.toString(16)}`;
  }
  return null;
}

// --- encoding --------------------------------------------------------------------------------

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3; // BMP char, or a lone surrogate (encoded as U+FFFD, 3 bytes)
  }
  return n;
}

function byteLen(v: Bytes): number {
  return typeof v === 'string' ? utf8Length(v) : v.byteLength;
}

function writeBytes(out: Uint8Array, pos: number, v: Bytes, len: number): number {
  if (typeof v === 'string') {
    if (len > 0) encoder.encodeInto(v, out.subarray(pos, pos + len));
  } else out.set(v, pos);
  return pos + len;
}

function checkBytes(v: unknown, what: string): void {
  if (v !== null && typeof v !== 'string' && !(v instanceof Uint8Array)) {
    throw new InvalidRecordError(`${what} must be a string, a Uint8Array or null`);
  }
}

function headerList(h: RecordInput['headers']): Array<{ key: string; value: Bytes | null }> {
  if (h === undefined || h === null) return [];
  if (Array.isArray(h)) return h;
  if (typeof h !== 'object') throw new InvalidRecordError('headers must be an object or an array of { key, value }');
  return Object.keys(h).map((key) => ({ key, value: (h as Record<string, Bytes | null>)[key] ?? null }));
}

export interface ClientEncodeOptions {
  compression?: Compression;
  /** Clock for records without a timestamp. */
  now?: number;
  /** Free bytes to leave before the batch (the client writes its frame header there: no copy). */
  headroomBytes?: number;
}

/** Encodes records into one batch (baseOffset 0: the server assigns offsets). */
export function encodeRecordBatch(records: readonly RecordInput[], options: ClientEncodeOptions = {}): Uint8Array {
  const count = records.length;
  if (count === 0) throw new InvalidRecordError('a batch needs at least one record');
  if (count > MAX_RECORDS_PER_BATCH) throw new InvalidRecordError(`a batch holds at most ${MAX_RECORDS_PER_BATCH} records`);
  const now = options.now ?? Date.now();
  const headroom = options.headroomBytes ?? 0;
  const baseTimestamp = records[0]!.timestamp ?? now;
  let maxTimestamp = baseTimestamp;
  const bodySizes = new Int32Array(count);
  const lists: Array<ReturnType<typeof headerList> | null> = new Array(count);
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
    lists[i] = hl;
    const hc = hl === null ? 0 : hl.length;
    body += sizeOfVarint(hc);
    for (let h = 0; h < hc; h++) {
      const hdr = hl![h]!;
      if (typeof hdr?.key !== 'string') throw new InvalidRecordError(`record ${i} header ${h} needs a string key`);
      checkBytes(hdr.value ?? null, `record ${i} header ${JSON.stringify(hdr.key)} value`);
      const kn = utf8Length(hdr.key);
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
  if (compression !== 'none' && compression !== 'lz4') {
    throw new InvalidRecordError(`unknown compression ${JSON.stringify(compression)} (use none or lz4)`);
  }
  const plain = compression === 'none';
  const first = plain ? headroom + BATCH_HEADER_BYTES : 0;
  const out = new Uint8Array(first + recordsBytes);
  let pos = first;
  for (let i = 0; i < count; i++) {
    const r = records[i]!;
    pos = writeVarint(out, pos, bodySizes[i]!);
    out[pos++] = 0;
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
    const hl = lists[i];
    const hc = hl === null || hl === undefined ? 0 : hl.length;
    pos = writeVarint(out, pos, hc);
    for (let h = 0; h < hc; h++) {
      const hdr = hl![h]!;
      const kn = utf8Length(hdr.key);
      pos = writeBytes(out, writeVarint(out, pos, kn), hdr.key, kn);
      if (hdr.value === null || hdr.value === undefined) pos = writeVarint(out, pos, -1);
      else {
        const vn = byteLen(hdr.value);
        pos = writeBytes(out, writeVarint(out, pos, vn), hdr.value, vn);
      }
    }
  }
  if (pos !== out.byteLength) throw new Error(`batch encoder wrote ${pos} bytes, planned ${out.byteLength}`);

  let frame: Uint8Array;
  let codec = CODEC_NONE;
  if (plain) frame = out;
  else {
    const compressed = lz4CompressFrame(out);
    frame = new Uint8Array(headroom + BATCH_HEADER_BYTES + compressed.byteLength);
    frame.set(compressed, headroom + BATCH_HEADER_BYTES);
    codec = CODEC_LZ4;
  }
  const b = headroom;
  const size = frame.byteLength - headroom;
  writeInt64(frame, b, 0);
  writeInt32(frame, b + OFF_BATCH_LENGTH, size - LOG_OVERHEAD);
  writeInt32(frame, b + 12, -1); // partitionLeaderEpoch
  frame[b + OFF_MAGIC] = 2;
  frame[b + OFF_ATTRIBUTES] = 0;
  frame[b + OFF_ATTRIBUTES + 1] = codec;
  writeInt32(frame, b + OFF_LAST_OFFSET_DELTA, count - 1);
  writeInt64(frame, b + OFF_BASE_TIMESTAMP, baseTimestamp);
  writeInt64(frame, b + 35, maxTimestamp);
  writeInt64(frame, b + 43, -1); // producerId
  frame[b + 51] = 0xff; // producerEpoch -1
  frame[b + 52] = 0xff;
  writeInt32(frame, b + 53, -1); // baseSequence
  writeInt32(frame, b + OFF_RECORD_COUNT, count);
  writeInt32(frame, b + OFF_CRC, crc32cOf(frame.subarray(b + OFF_ATTRIBUTES, b + size)));
  return frame;
}

// --- decoding --------------------------------------------------------------------------------

const reader = new VarintReader(new Uint8Array(0), 0, 0);
const NO_HEADERS: ClientRecordHeader[] = [];
Object.freeze(NO_HEADERS);

/** The records section, decompressed when needed (a view for uncompressed batches). */
export function batchRecordsSection(b: Uint8Array, p = 0): Uint8Array {
  const size = batchSize(b, p);
  const section = b.subarray(p + BATCH_HEADER_BYTES, p + size);
  const codec = batchCodec(b, p);
  if (codec === CODEC_NONE) return section;
  if (codec === CODEC_LZ4) return lz4DecompressFrame(section);
  throw new InvalidRecordError(`compression codec ${codec} is not supported`);
}

/**
 * Calls `onRecord` for each record of the batch at `p` with offset ≥ `fromOffset`. Returns how
 * many were delivered. Throws CorruptRecordError when the records do not parse.
 */
export function forEachBatchRecord(
  b: Uint8Array,
  topic: string,
  partition: number,
  onRecord: (r: ClientRecord) => void,
  fromOffset = 0,
  p = 0,
): number {
  const baseOffset = batchBaseOffset(b, p);
  const baseTimestamp = readInt64(b, p + OFF_BASE_TIMESTAMP);
  const count = batchRecordCount(b, p);
  if (baseOffset + count - 1 < fromOffset) return 0;
  const section = batchRecordsSection(b, p);
  const r = reader;
  r.reset(section, 0, section.length);
  let delivered = 0;
  for (let i = 0; i < count; i++) {
    const length = r.varint();
    const end = r.pos + length;
    if (r.error !== null || length < 0 || end > section.length) {
      throw new CorruptRecordError(`record ${i} of batch at offset ${baseOffset}: bad length`);
    }
    r.end = end;
    r.pos++; // attributes
    const tsDelta = r.varlong();
    const offsetDelta = r.varint();
    const keyLen = r.varint();
    let key: Uint8Array | null = null;
    if (keyLen >= 0) {
      key = section.subarray(r.pos, r.pos + keyLen);
      r.pos += keyLen;
    }
    const valueLen = r.varint();
    let value: Uint8Array | null = null;
    if (valueLen >= 0) {
      value = section.subarray(r.pos, r.pos + valueLen);
      r.pos += valueLen;
    }
    const headerCount = r.varint();
    let headers = NO_HEADERS;
    if (headerCount > 0 && r.error === null && r.pos <= end) {
      if (headerCount > end - r.pos) throw new CorruptRecordError(`record ${i} of batch at offset ${baseOffset}: too many headers`);
      headers = new Array(headerCount);
      for (let h = 0; h < headerCount; h++) {
        const kl = r.varint();
        if (kl < 0 || r.pos + kl > end) break;
        const hk = decoder.decode(section.subarray(r.pos, r.pos + kl));
        r.pos += kl;
        const vl = r.varint();
        let hv: Uint8Array | null = null;
        if (vl >= 0) {
          hv = section.subarray(r.pos, r.pos + vl);
          r.pos += vl;
        }
        headers[h] = { key: hk, value: hv };
      }
    }
    if (r.error !== null || r.pos !== end || keyLen < -1 || valueLen < -1 || headerCount < 0) {
      throw new CorruptRecordError(`record ${i} of batch at offset ${baseOffset} does not parse`);
    }
    r.end = section.length;
    const offset = baseOffset + offsetDelta;
    if (offset >= fromOffset) {
      delivered++;
      onRecord({ topic, partition, offset, timestamp: baseTimestamp + tsDelta, key, value, headers });
    }
  }
  return delivered;
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

/** Decodes every record (offset ≥ fromOffset) of the batches lying back to back in `bytes`. */
export function decodeBatches(bytes: Uint8Array, topic: string, partition: number, fromOffset = 0, checkCrc = false): ClientRecord[] {
  const out: ClientRecord[] = [];
  forEachBatch(bytes, (pos) => void forEachBatchRecord(bytes, topic, partition, (r) => void out.push(r), fromOffset, pos), checkCrc);
  return out;
}
