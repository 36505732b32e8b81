// The one encoder/decoder of Kafka messages: reads and writes any schema (schema.ts) at any of its
// versions. Non-flexible versions use fixed-width lengths (int16 strings, int32 arrays and bytes,
// -1 for null); flexible versions use unsigned-varint lengths plus one (0 for null) and end every
// struct with a tagged-field section. Decoding never reads past the request: a length that lies
// throws a MalformedRequestError (the connection is then closed, as a Kafka broker does).
// `records` fields decode to a view of the request (no copy) and encode from a list of buffers
// that the writer passes on as separate chunks, so fetched batches reach the socket without copying.
import { SeglogError } from '../../../engine/format/errors.js';
import { inRange, type Field, type Primitive } from './schema.js';

export class MalformedRequestError extends SeglogError {
  constructor(message: string) {
    super('INVALID_FRAME', message);
  }
}

export type Struct = Record<string, unknown>;

export class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
  }

  private need(n: number): number {
    if (n < 0 || this.pos + n > this.end) throw new MalformedRequestError(`request ends early: needs ${n} bytes at position ${this.pos} of ${this.end}`);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  int8(): number {
    return this.buf.readInt8(this.need(1));
  }
  int16(): number {
    return this.buf.readInt16BE(this.need(2));
  }
  int32(): number {
    return this.buf.readInt32BE(this.need(4));
  }
  int64(): number {
    return Number(this.buf.readBigInt64BE(this.need(8)));
  }
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.buf.readUInt8(this.need(1));
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
    throw new MalformedRequestError('unsigned varint longer than 5 bytes');
  }
  bytes(n: number): Buffer {
    const at = this.need(n);
    return this.buf.subarray(at, at + n);
  }
  /** A length of a non-flexible (int16/int32) or flexible (uvarint + 1) sequence; -1 is null. */
  length(flexible: boolean, wide: boolean): number {
    const n = flexible ? this.uvarint() - 1 : wide ? this.int32() : this.int16();
    if (n < -1) throw new MalformedRequestError(`negative length ${n}`);
    return n;
  }
}

/** Collects a message as chunks: scalars go to a growing buffer, large byte sequences are passed on as they are. */
export class Writer {
  private buf = Buffer.allocUnsafe(512);
  private pos = 0;
  private readonly chunks: Buffer[] = [];
  private flushed = 0;

  /** Byte sequences at least this long are passed on as their own chunk instead of copied. */
  static readonly COPY_BELOW_BYTES = 4096;

  /** Makes room for n bytes and returns where they go (take it before touching this.buf: it may be replaced). */
  private room(n: number): number {
    if (this.pos + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
      this.buf.copy(grown, 0, 0, this.pos);
      this.buf = grown;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  int8(v: number): void {
    const at = this.room(1);
    this.buf.writeInt8(v, at);
  }
  int16(v: number): void {
    const at = this.room(2);
    this.buf.writeInt16BE(v, at);
  }
  int32(v: number): void {
    const at = this.room(4);
    this.buf.writeInt32BE(v, at);
  }
  int64(v: number | bigint): void {
    const at = this.room(8);
    this.buf.writeBigInt64BE(BigInt(v), at);
  }
  uvarint(v: number): void {
    while (v >= 0x80) {
      const at = this.room(1);
      this.buf.writeUInt8((v & 0x7f) | 0x80, at);
      v = Math.floor(v / 128);
    }
    const at = this.room(1);
    this.buf.writeUInt8(v, at);
  }
  raw(b: Uint8Array): void {
    if (b.length < Writer.COPY_BELOW_BYTES) {
      const at = this.room(b.length);
      this.buf.set(b, at);
      return;
    }
    this.cut();
    this.chunks.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    this.flushed += b.length;
  }
  length(n: number, flexible: boolean, wide: boolean): void {
    if (flexible) this.uvarint(n + 1);
    else if (wide) this.int32(n);
    else this.int16(n);
  }
  private cut(): void {
    if (this.pos === 0) return;
    this.chunks.push(this.buf.subarray(0, this.pos));
    this.flushed += this.pos;
    this.buf = Buffer.allocUnsafe(512);
    this.pos = 0;
  }
  get size(): number {
    return this.flushed + this.pos;
  }
  finish(): Buffer[] {
    this.cut();
    return this.chunks;
  }
}

function readPrimitive(r: Reader, type: Primitive, flexible: boolean, nullable: boolean, what: string): unknown {
  switch (type) {
    case 'int8':
      return r.int8();
    case 'int16':
      return r.int16();
    case 'int32':
      return r.int32();
    case 'int64':
      return r.int64();
    case 'bool':
      return r.int8() !== 0;
    case 'uuid':
      return r.bytes(16);
    case 'string': {
      const n = r.length(flexible, false);
      if (n === -1) {
        if (!nullable) throw new MalformedRequestError(`${what}: null where a string is required`);
        return null;
      }
      return r.bytes(n).toString('utf8');
    }
    case 'bytes':
    case 'records': {
      const n = r.length(flexible, true);
      if (n === -1) {
        if (!nullable && type === 'bytes') throw new MalformedRequestError(`${what}: null where bytes are required`);
        return null;
      }
      return r.bytes(n);
    }
  }
}

function readValue(r: Reader, f: Field, version: number, flexible: boolean): unknown {
  const nullable = inRange(f.nullable, version);
  if (!f.array) return typeof f.type === 'string' ? readPrimitive(r, f.type, flexible, nullable, f.name) : readStruct(r, f.type, version, flexible);
  const n = r.length(flexible, true);
  if (n === -1) {
    if (!nullable) throw new MalformedRequestError(`${f.name}: null where an array is required`);
    return null;
  }
  // Every element takes at least one byte: a count beyond the bytes left is a lie (and no allocation).
  if (n > r.remaining) throw new MalformedRequestError(`${f.name}: ${n} elements in ${r.remaining} bytes`);
  const out: unknown[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = typeof f.type === 'string' ? readPrimitive(r, f.type, flexible, false, f.name) : readStruct(r, f.type, version, flexible);
  return out;
}

export function readStruct(r: Reader, fields: readonly Field[], version: number, flexible: boolean): Struct {
  const out: Struct = {};
  for (const f of fields) {
    if (!inRange(f.versions, version) || (flexible && f.tag !== undefined)) out[f.name] = f.default;
    else out[f.name] = readValue(r, f, version, flexible);
  }
  if (flexible) readTaggedFields(r, fields, version, out);
  return out;
}

function readTaggedFields(r: Reader, fields: readonly Field[], version: number, out: Struct): void {
  const count = r.uvarint();
  if (count > r.remaining) throw new MalformedRequestError(`${count} tagged fields in ${r.remaining} bytes`);
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    const size = r.uvarint();
    const body = r.bytes(size);
    const f = fields.find((x) => x.tag === tag && inRange(x.versions, version));
    if (f === undefined) continue; // unknown tags are skipped, as the format intends
    const sub = new Reader(body);
    out[f.name] = readValue(sub, f, version, true);
  }
}

function writePrimitive(w: Writer, type: Primitive, value: unknown, flexible: boolean, nullable: boolean, what: string): void {
  switch (type) {
    case 'int8':
      return w.int8(value as number);
    case 'int16':
      return w.int16(value as number);
    case 'int32':
      return w.int32(value as number);
    case 'int64':
      return w.int64(value as number | bigint);
    case 'bool':
      return w.int8(value === true ? 1 : 0);
    case 'uuid':
      return w.raw(value as Buffer);
    case 'string': {
      if (value === null || value === undefined) {
        if (!nullable) throw new Error(`${what}: null string in a version where it is not nullable`);
        return w.length(-1, flexible, false);
      }
      const b = Buffer.from(value as string, 'utf8');
      w.length(b.length, flexible, false);
      return w.raw(b);
    }
    case 'bytes':
    case 'records': {
      if (value === null || value === undefined) return w.length(-1, flexible, true);
      const parts = Array.isArray(value) ? (value as Uint8Array[]) : [value as Uint8Array];
      w.length(parts.reduce((n, p) => n + p.length, 0), flexible, true);
      for (const p of parts) w.raw(p);
      return;
    }
  }
}

function writeValue(w: Writer, f: Field, value: unknown, version: number, flexible: boolean): void {
  const nullable = inRange(f.nullable, version);
  if (!f.array) {
    if (typeof f.type === 'string') writePrimitive(w, f.type, value, flexible, nullable, f.name);
    else writeStruct(w, f.type, (value ?? {}) as Struct, version, flexible);
    return;
  }
  if (value === null || value === undefined) {
    if (!nullable && value === null) throw new Error(`${f.name}: null array in a version where it is not nullable`);
    if (value === null) return w.length(-1, flexible, true);
    value = [];
  }
  const items = value as unknown[];
  w.length(items.length, flexible, true);
  for (const item of items) {
    if (typeof f.type === 'string') writePrimitive(w, f.type, item, flexible, false, f.name);
    else writeStruct(w, f.type, item as Struct, version, flexible);
  }
}

export function writeStruct(w: Writer, fields: readonly Field[], value: Struct, version: number, flexible: boolean): void {
  const tagged: Field[] = [];
  for (const f of fields) {
    if (!inRange(f.versions, version)) continue;
    if (flexible && f.tag !== undefined) {
      if (value[f.name] !== undefined && value[f.name] !== null) tagged.push(f);
      continue;
    }
    writeValue(w, f, value[f.name] === undefined ? f.default : value[f.name], version, flexible);
  }
  if (!flexible) return;
  w.uvarint(tagged.length);
  for (const f of tagged.sort((a, b) => a.tag! - b.tag!)) {
    const sub = new Writer();
    writeValue(sub, f, value[f.name], version, true);
    const chunks = sub.finish();
    w.uvarint(f.tag!);
    w.uvarint(chunks.reduce((n, c) => n + c.length, 0));
    for (const c of chunks) w.raw(c);
  }
}
