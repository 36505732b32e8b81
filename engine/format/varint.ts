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

/**
 * A bounds-checked reader over a byte range. Decoding errors set `error` instead of throwing so
 * the hot loop stays free of try/catch; callers check it once per record.
 */
export class VarintReader {
  buf: Uint8Array;
  pos: number;
  end: number;
  error: string | null = null;

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
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= this.end) {
        this.error = 'varint runs past the end of the record';
        return 0;
      }
      const b = buf[pos++]!;
      if (shift === 28) {
        if (b > 0x0f) {
          this.error = 'varint is longer than 5 bytes';
          return 0;
        }
        result |= b << 28;
        break;
      }
      result |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7;
    }
    this.pos = pos;
    result >>>= 0;
    return (result >>> 1) ^ -(result & 1);
  }

  varlong(): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; ; i++) {
      if (pos >= this.end) {
        this.error = 'varlong runs past the end of the record';
        return 0;
      }
      if (i === 8) {
        // 8 groups of 7 bits = 56 bits: beyond what a safe integer zigzag can hold.
        this.error = 'varlong exceeds 2^53';
        return 0;
      }
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) break;
      mul *= 128;
    }
    this.pos = pos;
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  }
}
