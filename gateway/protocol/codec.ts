// Bounds-checked readers and writers for gateway frames. Browser-safe: Uint8Array, DataView and
// TextEncoder only (the client library shares these codecs with the server).
//
// Field types (all big-endian, see PROTOCOL.md §2):
//   u8, u16, i32, u32, i64 (a safe integer as a JavaScript number),
//   string = u16 byte length + UTF-8, text = u32 byte length + UTF-8,
//   rest = every byte up to the end of the message (batches).

import { SeglogError } from '../../engine/format/errors.js';

/** A frame that does not parse (truncated, a field out of range, trailing bytes): INVALID_FRAME on the wire. */
export class FrameError extends SeglogError {
  constructor(message: string) {
    super('INVALID_FRAME', message);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Largest string field a writer accepts (u16 length prefix). */
export const MAX_STRING_BYTES = 0xffff;

export class FrameReader {
  private readonly view: DataView;
  pos: number;

  constructor(readonly bytes: Uint8Array, pos = 0) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = pos;
  }

  get remaining(): number {
    return this.bytes.byteLength - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.remaining < n) {
      throw new FrameError(`frame ends inside ${what}: needs ${n} bytes at ${this.pos}, has ${this.remaining}`);
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  i32(what = 'i32'): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos);
    this.pos += 4;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** A signed 64-bit integer that must be a safe JavaScript integer. */
  i64(what = 'i64'): number {
    this.need(8, what);
    const hi = this.view.getInt32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    const v = hi * 4294967296 + lo;
    if (!Number.isSafeInteger(v)) throw new FrameError(`${what} is outside the safe integer range`);
    return v;
  }

  string(what = 'string'): string {
    const n = this.u16(`${what} length`);
    return this.utf8(n, what);
  }

  text(what = 'text'): string {
    const n = this.u32(`${what} length`);
    return this.utf8(n, what);
  }

  private utf8(n: number, what: string): string {
    this.need(n, what);
    let s: string;
    try {
      s = decoder.decode(this.bytes.subarray(this.pos, this.pos + n));
    } catch {
      throw new FrameError(`${what} is not valid UTF-8`);
    }
    this.pos += n;
    return s;
  }

  /** The rest of the frame as a view (no copy). */
  rest(): Uint8Array {
    const v = this.bytes.subarray(this.pos);
    this.pos = this.bytes.byteLength;
    return v;
  }

  /** Every field read: anything left over means the peer and we disagree about the layout. */
  end(): void {
    if (this.remaining !== 0) throw new FrameError(`${this.remaining} unexpected bytes at the end of the frame`);
  }
}

/**
 * DataView setters silently wrap or truncate (NaN → 0, 1.5 → 1, 2^32 → 0): a value that does not
 * fit its field would go out as a different, valid-looking number (e.g. partition NaN as 0).
 */
function checkInt(v: number, min: number, max: number, type: string): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${String(v)} does not fit a ${type} field (an integer from ${min} to ${max})`);
}

/** Grows as needed; frames other than batch carriers are small. */
export class FrameWriter {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(initialBytes = 64) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.byteLength) return;
    let size = this.buf.byteLength * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    checkInt(v, 0, 0xff, 'u8');
    this.ensure(1);
    this.view.setUint8(this.pos++, v);
    return this;
  }

  u16(v: number): this {
    checkInt(v, 0, 0xffff, 'u16');
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
    return this;
  }

  i32(v: number): this {
    checkInt(v, -0x80000000, 0x7fffffff, 'i32');
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
    return this;
  }

  u32(v: number): this {
    checkInt(v, 0, 0xffffffff, 'u32');
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
    return this;
  }

  i64(v: number): this {
    if (!Number.isSafeInteger(v)) throw new RangeError(`${v} is not a safe integer`);
    this.ensure(8);
    const hi = Math.floor(v / 4294967296);
    this.view.setInt32(this.pos, hi);
    this.view.setUint32(this.pos + 4, v - hi * 4294967296);
    this.pos += 8;
    return this;
  }

  string(s: string): this {
    const b = encoder.encode(s);
    if (b.byteLength > MAX_STRING_BYTES) throw new RangeError(`string of ${b.byteLength} bytes exceeds ${MAX_STRING_BYTES}`);
    this.u16(b.byteLength);
    return this.raw(b);
  }

  text(s: string): this {
    const b = encoder.encode(s);
    this.u32(b.byteLength);
    return this.raw(b);
  }

  raw(b: Uint8Array): this {
    this.ensure(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
