// The chain of batches in a segment: each batch must start where the previous one ended, by position
// (batchLength) and by offset (its baseOffset = the previous lastOffset + 1). baseOffset and
// batchLength lie outside the CRC (FORMAT.md 1.4), so this chain is what catches a damaged
// baseOffset; the CRC catches the rest. These are the cheap per-batch checks of every walk, and the
// search for where intact data resumes after damage.
import {
  HEADER_BYTES,
  LOG_OVERHEAD,
  MAGIC,
  MAX_RECORDS_PER_BATCH,
  OFF_BATCH_LENGTH,
  OFF_LAST_OFFSET_DELTA,
  OFF_MAGIC,
  OFF_RECORD_COUNT,
  batchBaseOffset,
  batchProblem,
  readInt64,
} from './record-batch.js';

/**
 * Whether the bytes at `pos` are the header of a batch with base offset `expected`: length inside
 * `limit`, magic, record count, lastOffsetDelta = count − 1, base offset. No CRC. The per-batch check
 * of every walk, so kept small; chainProblem says why not.
 */
export function chainOk(buf: Buffer, pos: number, limit: number, expected: number): boolean {
  if (limit - pos < HEADER_BYTES) return false;
  const length = int32(buf, pos + OFF_BATCH_LENGTH);
  if (length < HEADER_BYTES - LOG_OVERHEAD || length > limit - pos - LOG_OVERHEAD || buf[pos + OFF_MAGIC] !== MAGIC) return false;
  const count = int32(buf, pos + OFF_RECORD_COUNT);
  if (count < 1 || count > MAX_RECORDS_PER_BATCH || int32(buf, pos + OFF_LAST_OFFSET_DELTA) !== count - 1) return false;
  return readInt64(buf, pos) === expected;
}

/** Big-endian i32 by hand: Buffer#readInt32BE's argument checks cost more than the read, per batch. */
function int32(b: Buffer, p: number): number {
  return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
}

/** Why chainOk fails at `pos` (null when it holds). */
export function chainProblem(buf: Buffer, pos: number, limit: number, expected: number): string | null {
  if (chainOk(buf, pos, limit, expected)) return null;
  if (limit - pos < HEADER_BYTES) return pos >= limit ? `the data ends at position ${limit}` : 'a batch header runs past the data';
  const length = buf.readInt32BE(pos + OFF_BATCH_LENGTH);
  if (length < HEADER_BYTES - LOG_OVERHEAD || length > limit - pos - LOG_OVERHEAD) return `batchLength ${length} does not fit`;
  if (buf[pos + OFF_MAGIC] !== MAGIC) return `magic ${buf[pos + OFF_MAGIC]!}`;
  const count = buf.readInt32BE(pos + OFF_RECORD_COUNT);
  if (count < 1 || count > MAX_RECORDS_PER_BATCH || buf.readInt32BE(pos + OFF_LAST_OFFSET_DELTA) !== count - 1) {
    return `record count ${count} and lastOffsetDelta ${buf.readInt32BE(pos + OFF_LAST_OFFSET_DELTA)} disagree`;
  }
  return `base offset ${batchBaseOffset(buf, pos)} does not continue the log at ${expected}`;
}

/**
 * The first position in (from, limit) holding an intact batch (plausible header and CRC) whose base
 * offset lies in [minOffset, maxOffset), confirmed by the batch after it: where data resumes after
 * damage at `from`; -1 if none. `hints` (the damaged batch's own end, index entries) are tried
 * first, then every byte (damage may have changed a length): cheap per byte (magic first), and run
 * only when damage was found.
 */
export function findResume(buf: Buffer, from: number, limit: number, minOffset: number, maxOffset: number, hints: readonly number[]): number {
  const intactAt = (p: number): boolean => {
    if (p <= from || limit - p < HEADER_BYTES || buf[p + OFF_MAGIC] !== MAGIC) return false;
    const base = batchBaseOffset(buf, p);
    if (base < minOffset || base >= maxOffset) return false;
    const after = base + buf.readInt32BE(p + OFF_LAST_OFFSET_DELTA) + 1;
    if (after > maxOffset || batchProblem(buf, p, limit, true) !== null) return false;
    // Its base offset is outside its CRC: trust it only when the next batch continues it (or it
    // ends the range), so a damaged baseOffset is never taken for where data resumes.
    const next = p + buf.readInt32BE(p + OFF_BATCH_LENGTH) + LOG_OVERHEAD;
    return after === maxOffset || chainOk(buf, next, limit, after);
  };
  for (const p of hints) if (intactAt(p)) return p;
  for (let p = from + 1; p <= limit - HEADER_BYTES; p++) if (intactAt(p)) return p;
  return -1;
}
