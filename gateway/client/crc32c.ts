// CRC-32C for the client: native in Node when one loads — sse4_crc32 on x86 CPUs with SSE 4.2
// (~9.5 GB/s here), else @node-rs/crc32 (~5 GB/s here), the engine's choice too (engine/crc32c.ts)
// — else crc-32's plain JavaScript (a few hundred MB/s), which is also what browsers use.
import CRC32C from 'crc-32/crc32c.js';
import { crc32cPassesCheck } from '../../engine/format/crc32c-check.js';

type Crc32cFn = (b: Uint8Array) => number;

const jsCrc32c: Crc32cFn = (b) => CRC32C.buf(b, 0) >>> 0;
let nativeCrc32c: Crc32cFn | null = null;
let impl: Crc32cFn = jsCrc32c;
let loading: Promise<boolean> | null = null;

// Module names in variables keep bundlers (and browsers) from following them.
const SSE42_MODULE = 'sse4_crc32';
const RUST_MODULE = '@node-rs/crc32';

/** Native CRC-32C loaders, fastest first; each resolves to null where it does not apply. */
const NATIVE_LOADERS: (() => Promise<Crc32cFn | null>)[] = [
  async () => {
    const arch = (globalThis as { process?: { arch?: string } }).process?.arch;
    if (arch !== 'x64' && arch !== 'ia32') return null;
    const m = (await import(SSE42_MODULE)) as { default?: { hardware_support?: unknown; sse42_crc?: Crc32cFn } };
    // Without SSE 4.2 its table fallback is slower than @node-rs/crc32.
    return m.default?.hardware_support === true && typeof m.default.sse42_crc === 'function' ? m.default.sse42_crc : null;
  },
  async () => {
    const m = (await import(RUST_MODULE)) as { crc32c?: Crc32cFn; default?: { crc32c?: Crc32cFn } };
    const f = m.crc32c ?? m.default?.crc32c;
    return typeof f === 'function' ? f : null;
  },
];

/** CRC-32C of `b`, as an unsigned 32-bit number. */
export function crc32c(b: Uint8Array): number {
  return impl(b);
}

/** Loads the native CRC-32C where there is one (Node). Resolves to whether it is in use. */
export function loadNativeCrc32c(): Promise<boolean> {
  loading ??= (async () => {
    for (const load of NATIVE_LOADERS) {
      const f = await load().catch(() => null);
      if (f === null || !crc32cPassesCheck(f)) continue;
      nativeCrc32c = (b) => f(b) >>> 0;
      impl = nativeCrc32c;
      return true;
    }
    return false;
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
