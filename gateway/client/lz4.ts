// LZ4 frames for the client, loaded on first use so that clients that never see LZ4 never pay for
// it. In Node the native lz4-napi is used when it loads (about 10x faster); elsewhere, or when it
// does not load, lz4js (plain JavaScript). lz4js' own decompress() sizes its output at 4 MiB per
// block when the frame carries no content size; we parse the frame ourselves and grow one buffer.
import { CorruptRecordError } from '../../engine/format/errors.js';

interface Lz4js {
  compress(src: Uint8Array): Uint8Array;
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
}

interface NativeLz4 {
  compressFrameSync(src: Uint8Array): Uint8Array;
  decompressFrameSync(src: Uint8Array): Uint8Array;
}

let lz4: Lz4js | null = null;
let loading: Promise<Lz4js> | null = null;
let native: NativeLz4 | null = null;
let nativeTried = false;
let preferNative = true;

/** Node only: the native codec, or null. The name in a variable keeps bundlers from following it. */
async function loadNative(): Promise<NativeLz4 | null> {
  if (nativeTried) return native;
  nativeTried = true;
  const name = 'lz4-napi';
  try {
    const m = (await import(name)) as Partial<NativeLz4> & { default?: Partial<NativeLz4> };
    const impl = typeof m.compressFrameSync === 'function' ? m : m.default;
    if (typeof impl?.compressFrameSync === 'function' && typeof impl.decompressFrameSync === 'function') native = impl as NativeLz4;
  } catch {
    native = null; // not Node, or no build for this platform: lz4js does it
  }
  return native;
}

/** Loads the LZ4 codec (once). Resolves to false when it cannot be loaded. */
export async function loadLz4(): Promise<boolean> {
  await loadNative();
  if (lz4 !== null) return true;
  loading ??= import('lz4js').then((m: { default?: Lz4js } & Partial<Lz4js>) => (m.default ?? (m as Lz4js)));
  try {
    lz4 = await loading;
    return true;
  } catch {
    loading = null;
    return native !== null;
  }
}

export function isLz4Loaded(): boolean {
  return lz4 !== null || native !== null;
}

/** @internal For tests: use lz4js even where the native codec loaded. */
export function preferNativeLz4(yes: boolean): void {
  preferNative = yes;
}

/** Which codec compresses and decompresses now. */
export function lz4Implementation(): 'native' | 'js' | null {
  if (native !== null && (preferNative || lz4 === null)) return 'native';
  return lz4 !== null ? 'js' : null;
}

/** A plain Uint8Array view of what the native codec returns (the same bytes, no copy). */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function codec(): Lz4js {
  if (lz4 === null) throw new Error('the LZ4 codec is not loaded: await loadLz4() first');
  return lz4;
}

export function lz4CompressFrame(src: Uint8Array): Uint8Array {
  if (native !== null && (preferNative || lz4 === null)) return plain(native.compressFrameSync(src));
  return codec().compress(src);
}

const MAGIC = 0x184d2204;
const BLOCK_MAX_BYTES: Record<number, number> = { 4: 0x10000, 5: 0x40000, 6: 0x100000, 7: 0x400000 };
/** Refuse frames claiming more than this much content (a lying header must not make us allocate). */
export const LZ4_MAX_CONTENT_BYTES = 256 * 1024 * 1024;

function u32le(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

/** Decompresses one LZ4 frame. Throws CorruptRecordError when it does not parse. */
export function lz4DecompressFrame(src: Uint8Array): Uint8Array {
  const bad = (why: string): never => {
    throw new CorruptRecordError(`LZ4 frame does not decompress: ${why}`);
  };
  if (native !== null && (preferNative || lz4 === null)) {
    // The header checks below (magic, a content size within bounds) still apply.
    if (src.byteLength < 7 || u32le(src, 0) !== MAGIC) bad('bad magic number');
    if ((src[4]! & 0x08) !== 0 && src.byteLength >= 14 && u32le(src, 10) * 4294967296 + u32le(src, 6) > LZ4_MAX_CONTENT_BYTES) {
      bad('content size is too large');
    }
    try {
      return plain(native.decompressFrameSync(src));
    } catch (e) {
      return bad((e as Error).message);
    }
  }
  const c = codec();
  if (src.byteLength < 7 || u32le(src, 0) !== MAGIC) bad('bad magic number');
  const flg = src[4]!;
  if ((flg & 0xc0) !== 0x40) bad(`unsupported frame version ${(flg >> 6) & 3}`);
  const blockChecksum = (flg & 0x10) !== 0;
  const hasContentSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const hasDictId = (flg & 0x01) !== 0;
  const blockMax = BLOCK_MAX_BYTES[(src[5]! >> 4) & 7] ?? bad('invalid block size');
  let s = 6;
  let capacity = Math.max(src.byteLength * 4, 65536);
  if (hasContentSize) {
    const lo = u32le(src, s);
    const hi = u32le(src, s + 4);
    const size = hi * 4294967296 + lo;
    if (size > LZ4_MAX_CONTENT_BYTES) bad(`content size ${size} is too large`);
    capacity = Math.max(size, 1);
    s += 8;
  }
  if (hasDictId) bad('dictionaries are not supported');
  s += 1; // header checksum
  let out = new Uint8Array(capacity);
  let d = 0;
  for (;;) {
    if (s + 4 > src.byteLength) bad('frame ends inside a block header');
    const word = u32le(src, s);
    s += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    if (size > blockMax || s + size > src.byteLength) bad(`block of ${size} bytes runs past the frame`);
    if (d + blockMax > out.byteLength) {
      if (d + blockMax > LZ4_MAX_CONTENT_BYTES) bad('content exceeds the size limit');
      const next = new Uint8Array(Math.max(out.byteLength * 2, d + blockMax));
      next.set(out.subarray(0, d));
      out = next;
    }
    if (word & 0x80000000) {
      out.set(src.subarray(s, s + size), d);
      d += size;
    } else {
      const before = d;
      d = c.decompressBlock(src, out, s, size, d);
      if (!(d >= before && d - before <= blockMax)) bad('block decompresses to an invalid size');
    }
    s += size;
    if (blockChecksum) s += 4;
  }
  if (contentChecksum) s += 4;
  if (s > src.byteLength) bad('frame ends inside its checksum');
  return out.subarray(0, d);
}
