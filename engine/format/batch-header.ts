// Kafka record batch v2 (magic 2): the fixed 61-byte header, its field offsets and accessors, and
// the walk over batches lying back to back. Pure byte arithmetic: no CRC, no codec (batch-codec.ts).

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
export const CODEC_MASK = 0x07;
/** Attribute bits of transactional (0x10) and control (0x20) batches, which we refuse. */
export const TRANSACTIONAL_OR_CONTROL = 0x30;
/** Upper bound on records in one batch; keeps a lying recordCount from driving big loops. */
export const MAX_RECORDS_PER_BATCH = 1 << 20;
/** Largest timestamp distance from a batch's first record (its zigzag varlong delta stays an exact number). */
export const MAX_TIMESTAMP_DELTA_MS = 2 ** 52;

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

export function readInt32(buf: Uint8Array, pos: number): number {
  return (buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!;
}

export function writeInt32(buf: Uint8Array, pos: number, v: number): void {
  buf[pos] = v >>> 24;
  buf[pos + 1] = v >>> 16;
  buf[pos + 2] = v >>> 8;
  buf[pos + 3] = v;
}

export function writeInt16(buf: Uint8Array, pos: number, v: number): void {
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
