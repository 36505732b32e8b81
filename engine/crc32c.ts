// CRC-32C for the engine: every batch appended or read, and the engine's own checksummed files.
// Two native implementations, chosen once at load: sse4_crc32 on x86 CPUs with SSE 4.2 (the
// crc32 instruction; about twice @node-rs/crc32's rate on this project's x86 machines, see
// bench/README.md "CRC-32C"), else @node-rs/crc32 (ARM's CRC instructions, or its own tables).
// sse4_crc32 is an optional dependency: where it does not build or load, nothing changes but speed.
import { createRequire } from 'node:module';
import { crc32c as rustCrc32c } from '@node-rs/crc32';
import { crc32cPassesCheck } from './format/crc32c-check.js';

/** CRC-32C of all of `bytes`, unsigned. */
export type Crc32cFn = (bytes: Uint8Array) => number;

export interface Crc32cImplementation {
  name: 'sse4_crc32' | '@node-rs/crc32';
  crc32c: Crc32cFn;
}

interface Sse4Crc32Module {
  hardware_support?: unknown;
  sse42_crc?: (bytes: Uint8Array) => number;
}

function loadSse42(): Crc32cImplementation | null {
  if (process.arch !== 'x64' && process.arch !== 'ia32') return null;
  if (process.env.SEGLOG_CRC32C === '@node-rs/crc32') return null;
  try {
    const m = createRequire(import.meta.url)('sse4_crc32') as Sse4Crc32Module;
    const f = m.sse42_crc;
    // hardware_support false means the CPU lacks SSE 4.2: its table fallback is slower than ours.
    if (m.hardware_support !== true || typeof f !== 'function') return null;
    if (!crc32cPassesCheck(f)) return null;
    return { name: 'sse4_crc32', crc32c: (b) => f(b) >>> 0 };
  } catch {
    return null;
  }
}

const rust: Crc32cImplementation = { name: '@node-rs/crc32', crc32c: (b) => rustCrc32c(b) >>> 0 };
const sse42 = loadSse42();

/** The implementations this process can use, the one in use first (tests compare them). */
export const crc32cImplementations: readonly Crc32cImplementation[] = sse42 !== null ? [sse42, rust] : [rust];

/** Which implementation the engine uses (shown by `seglog serve` at start and in bench runs). */
export const crc32cImplementation: Crc32cImplementation['name'] = crc32cImplementations[0]!.name;

/** CRC-32C of all of `bytes`, unsigned. */
export const crc32c: Crc32cFn = crc32cImplementations[0]!.crc32c;
