// CRC-32C for the client: native (@node-rs/crc32, ~6 GB/s) in Node when it loads, else crc-32's
// plain JavaScript (a few hundred MB/s), which is also what browsers use.
import CRC32C from 'crc-32/crc32c.js';

type Crc32cFn = (b: Uint8Array) => number;

const jsCrc32c: Crc32cFn = (b) => CRC32C.buf(b, 0) >>> 0;
let nativeCrc32c: Crc32cFn | null = null;
let impl: Crc32cFn = jsCrc32c;
let loading: Promise<boolean> | null = null;

/** CRC-32C of `b`, as an unsigned 32-bit number. */
export function crc32c(b: Uint8Array): number {
  return impl(b);
}

/** Loads the native CRC-32C where there is one (Node). Resolves to whether it is in use. */
export function loadNativeCrc32c(): Promise<boolean> {
  loading ??= (async () => {
    // The name in a variable keeps bundlers (and browsers) from following it.
    const name = '@node-rs/crc32';
    try {
      const m = (await import(name)) as { crc32c?: (b: Uint8Array) => number; default?: { crc32c?: (b: Uint8Array) => number } };
      const f = m.crc32c ?? m.default?.crc32c;
      if (typeof f !== 'function') return false;
      const check = new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]); // "123456789"
      if (f(check) >>> 0 !== 0xe3069283) return false; // the CRC-32C check value
      nativeCrc32c = (b) => f(b) >>> 0;
      impl = nativeCrc32c;
      return true;
    } catch {
      return false;
    }
  })();
  return loading;
}

/** @internal For tests: use the JavaScript CRC even where the native one loaded. */
export function preferNativeCrc32c(yes: boolean): void {
  impl = yes && nativeCrc32c !== null ? nativeCrc32c : jsCrc32c;
}

export function crc32cImplementation(): 'native' | 'js' {
  return impl === jsCrc32c ? 'js' : 'native';
}
