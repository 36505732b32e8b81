// Zigzag varints as Kafka's record format uses them (the protobuf encoding). Offsets and lengths
// use the 32-bit form; timestamp deltas use the 64-bit form, here limited to JavaScript's safe
// integers (±2^53), which covers every millisecond timestamp.

export function sizeOfVarint(value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

export function writeVarint(buf: Uint8Array, pos: number, value: number): number {
  let v = ((value << 1) ^ (value >> 31)) >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

function zigzag64(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

export function sizeOfVarlong(value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return sizeOfVarint(value);
  let v = zigzag64(value);
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

export function writeVarlong(buf: Uint8Array, pos: number, value: number): number {
  if (value >= -0x40000000 && value < 0x40000000) return writeVarint(buf, pos, value);
  let v = zigzag64(value);
  while (v >= 0x80) {
    buf[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

// The one varint reader. It returns the value and leaves the position after it in `cursor.next`
// (VARINT_PAST_END or VARINT_TOO_LONG when it does not parse): no object per call. Each caller owns
// its cursor (an object of its own module: reaching one in another module costs the hot loop)
// and reads it right after each call, never across a callback.
export interface VarintCursor {
  next: number;
}
/** cursor.next after a varint that runs past `end`. */
export const VARINT_PAST_END = -1;
/** cursor.next after a varint longer than its type allows (5 bytes, or 8 for a varlong). */
export const VARINT_TOO_LONG = -2;
/** 8 groups of 7 bits = 56 bits: a zigzag varlong beyond that is beyond a safe integer. */
const MAX_VARLONG_BYTES = 8;

/** The zigzag varint (32-bit) at `pos`, read no further than `end`. */
export function readVarintAt(buf: Uint8Array, pos: number, end: number, cursor: VarintCursor): number {
  let result = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) break;
    const b = buf[pos++]!;
    if (shift === 28 && b > 0x0f) {
      cursor.next = VARINT_TOO_LONG;
      return 0;
    }
    result |= (b & 0x7f) << shift;
    if (b < 0x80) {
      cursor.next = pos;
      return (result >>> 1) ^ -(result & 1);
    }
  }
  cursor.next = VARINT_PAST_END;
  return 0;
}

/** The zigzag varlong at `pos` (a safe integer), read no further than `end`. */
export function readVarlongAt(buf: Uint8Array, pos: number, end: number, cursor: VarintCursor): number {
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
  for (let i = 0; i < MAX_VARLONG_BYTES; i++) {
    if (pos >= end) {
      cursor.next = VARINT_PAST_END;
      return 0;
    }
    const b = buf[pos++]!;
    result += (b & 0x7f) * mul;
    if (b < 0x80) {
      cursor.next = pos;
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    }
    mul *= 128;
  }
  cursor.next = pos >= end ? VARINT_PAST_END : VARINT_TOO_LONG;
  return 0;
}

/**
 * A bounds-checked reader over a byte range (readVarintAt/readVarlongAt with a position). Decoding
 * errors set `error` instead of throwing so a loop stays free of try/catch; callers check it once.
 */
export class VarintReader {
  buf: Uint8Array;
  pos: number;
  end: number;
  error: string | null = null;
  private readonly cursor: VarintCursor = { next: 0 };

  constructor(buf: Uint8Array, pos: number, end: number) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  reset(buf: Uint8Array, pos: number, end: number): void {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    this.error = null;
  }

  varint(): number {
    const v = readVarintAt(this.buf, this.pos, this.end, this.cursor);
    return this.settle(v, 'varint runs past the end of the record', 'varint is longer than 5 bytes');
  }

  varlong(): number {
    const v = readVarlongAt(this.buf, this.pos, this.end, this.cursor);
    return this.settle(v, 'varlong runs past the end of the record', 'varlong exceeds 2^53');
  }

  private settle(value: number, pastEnd: string, tooLong: string): number {
    const next = this.cursor.next;
    if (next >= 0) {
      this.pos = next;
      return value;
    }
    this.error = next === VARINT_PAST_END ? pastEnd : tooLong;
    return 0;
  }
}
