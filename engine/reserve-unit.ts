// The granularity in which blocks under a mapping must be reserved.
//
// A store through a MAP_SHARED mapping dirties a whole page, and the filesystem must have blocks for
// the whole page (ext4's page_mkwrite allocates every block of the page; on tmpfs the page *is* the
// block). Reserving only the bytes about to be written is not enough where a block is smaller than a
// page (ext4 with 1 KiB blocks, which mkfs picks for small filesystems): the pwrite that reserved
// allocates 1 KiB, the store needs 4 KiB, and a full disk turns into SIGBUS. So reservations are
// rounded up to max(page size, filesystem block size), both powers of two.
import fs from 'node:fs';
import path from 'node:path';

/**
 * Page size assumed per architecture: Node does not expose sysconf(_SC_PAGESIZE). x86_64 uses 4 KiB;
 * arm64 and ppc64 kernels can use up to 64 KiB pages, so there the larger bound is taken (reserving
 * more than needed only costs a little disk ahead of the writer).
 */
export const PAGE_BYTES_ASSUMED = process.arch === 'arm64' || process.arch === 'ppc64' ? 65536 : 4096;
/** Bound on the unit accepted from statfs (a bogus bsize must not make every reservation huge). */
export const RESERVE_UNIT_BYTES_MAX = 1024 * 1024;

const unitByDir = new Map<string, number>();
/** Directories cached at most (partition directories; the map is only a cache). */
const UNIT_CACHE_ENTRIES_MAX = 4096;

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** The reservation unit for files in `dir`: max(page size, the filesystem's block size). */
export function reserveUnitFor(dir: string): number {
  const cached = unitByDir.get(dir);
  if (cached !== undefined) return cached;
  let unit = PAGE_BYTES_ASSUMED;
  try {
    const bsize = Number(fs.statfsSync(dir).bsize);
    if (isPowerOfTwo(bsize) && bsize > unit) unit = Math.min(bsize, RESERVE_UNIT_BYTES_MAX);
  } catch {
    // statfs unavailable: the page size is the floor anyway
  }
  if (unitByDir.size >= UNIT_CACHE_ENTRIES_MAX) unitByDir.clear();
  unitByDir.set(dir, unit);
  return unit;
}

/** The reservation unit for the file at `file`. */
export function reserveUnitForFile(file: string): number {
  return reserveUnitFor(path.dirname(file));
}

/** `n` rounded up to a multiple of `unit` (a power of two), capped at `cap`. */
export function alignUp(n: number, unit: number, cap: number): number {
  const r = Math.ceil(n / unit) * unit;
  return r > cap ? cap : r;
}
