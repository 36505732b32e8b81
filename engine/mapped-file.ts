// A file of fixed logical size, mapped whole (MAP_SHARED), with real disk blocks reserved ahead of
// the write position.
//
// Why reservation: a segment file is created sparse (ftruncate), so an empty partition takes almost no
// disk. But touching a page of a sparse MAP_SHARED mapping when the disk is full kills the process
// with SIGBUS. So before any byte is written through the mapping, the blocks under it are allocated
// by writing zeros with pwrite: a full disk then surfaces as ENOSPC from that write (a clean
// DiskFullError) and never as a signal. Writing the zeros also pre-touches the page cache, which is
// what makes later memcpys into the mapping fast (native-notes.md §4; bench/README.md "Reference measurements").
//
// Who writes the zeros: for files opened with `background: true` (active segment .log files) the
// process's reserver thread (reserver.ts) writes them ahead of the data, so the event loop rarely
// pays for it; the main thread reserves synchronously only when it catches up with the reserver.
// Other files (indexes, or when the thread is unavailable) reserve synchronously, with the top-up
// ahead of the data done from setImmediate.
//
// Invariants: the file is never shrunk while mapped; [0, reservedBytes) has real blocks; a store
// through the mapping to [a, b) happens only when reservedBytes >= b rounded up to the reservation
// unit (reserve-unit.ts: the whole page, or block, must have blocks); nothing is ever read through the
// mapping past the known data unless reserved (on tmpfs a read fault on a hole allocates a page, which
// is SIGBUS on a full disk): callers that do not know where data ends peek with `readAt` (pread, which
// reads holes as zeros without allocating). Zeros are written only at or after reservedBytes, which
// is always >= the end of the data, so reservation can never overwrite data.
import fs from 'node:fs';
import { DiskFullError, IoError } from './format/errors.js';
import { storageError } from './storage-error.js';
import { mmap, PROT_READ_WRITE } from './mmap.js';
import {
  BASE,
  CHUNK_BUSY,
  CHUNK_BYTES,
  CHUNK_DONE,
  CHUNK_FREE,
  DATA_END,
  DETACHED,
  DONE_PREFIX,
  INFLIGHT,
  RESERVE_CHUNK_BYTES_MAX,
  SLOT_HEADER_INTS,
  TARGET,
  WORKER_FAILED,
  advancePrefix,
  claimAndWrite,
  createSlot,
  lastChunkFor,
  reservedEnd,
  reserverThread,
  writeZerosAt,
  type ReserverThread,
} from './reserver.js';
import { alignUp, reserveUnitForFile } from './reserve-unit.js';

let zeroChunk: Buffer | null = null;
function zeros(): Buffer {
  zeroChunk ??= Buffer.alloc(RESERVE_CHUNK_BYTES_MAX);
  return zeroChunk;
}

/** Default blocks kept reserved ahead of the data of an active segment. */
export const RESERVE_AHEAD_BYTES_DEFAULT = 8 * 1024 * 1024;
/** The window ahead starts this small and grows with the data (so a quiet partition takes little disk). */
export const RESERVE_AHEAD_BYTES_MIN = 64 * 1024;
/**
 * A file is handed to the reserver thread once its window reaches this: quiet files reserve on their
 * own thread, in small steps (the reserver works in whole chunks of up to 1 MiB).
 */
const BACKGROUND_WINDOW_BYTES_MIN = 2 * 1024 * 1024;
/** Bound on waiting for the reserver's chunk in flight before giving up with IoError. */
const RESERVE_WAIT_MS_MAX = 60_000;
const RESERVE_WAIT_SLICE_MS = 50;

/** Test hook: called before each reservation is written or handed to the reserver; throwing an errno
 * error simulates a full disk. */
export type ReserveHook = (path: string, position: number, bytes: number) => void;

export interface MappedFileOptions {
  /** Map read-write (the active segment) or read-only (sealed segments). */
  writable: boolean;
  /** Upper bound of blocks reserved ahead of the data (the window grows from 64 KiB up to it). */
  reserveAheadBytes?: number;
  /** Known to hold real blocks (data) from the start; reservation continues from here. */
  reservedBytes?: number;
  reserveHook?: ReserveHook;
  /** Reserve ahead on the process's reserver thread (default false: synchronously). */
  background?: boolean;
  /** Test hook: reservation writes reaching past this position fail with ENOSPC, in either thread. */
  failReservationFromBytes?: number;
}

export class MappedFile {
  readonly path: string;
  /** Logical (and mapped) size in bytes. */
  readonly sizeBytes: number;
  readonly buffer: Buffer;
  readonly writable: boolean;
  private fd: number | null;
  /** Main thread's view of the reserved end (with a reserver slot: a cache of its reserved prefix). */
  private reserved: number;
  private readonly reserveAheadBytes: number;
  private readonly reserveHook: ReserveHook | undefined;
  private readonly failFromBytes: number;
  /** Reservation granularity: max(page, filesystem block) (reserve-unit.ts). */
  readonly reserveUnitBytes: number;
  /** Whether to use the reserver thread (cleared when it is unavailable). */
  private background: boolean;
  /** Shared state with the reserver thread, attached on the first reserveAhead. */
  private slot: Int32Array | null = null;
  private reserver: ReserverThread | null = null;
  /** Highest target handed to the reserver (or to the setImmediate top-up). */
  private aheadTarget = 0;
  private topUpScheduled = false;
  /** In-flight async syncs on the fd; closing waits for them (see closeFd). */
  private syncsInFlight = 0;
  private closeRequested = false;

  private constructor(path: string, fd: number, sizeBytes: number, buffer: Buffer, options: MappedFileOptions) {
    this.path = path;
    this.fd = fd;
    this.sizeBytes = sizeBytes;
    this.buffer = buffer;
    this.writable = options.writable;
    this.reserved = Math.min(options.reservedBytes ?? 0, sizeBytes);
    this.reserveAheadBytes = Math.max(4096, options.reserveAheadBytes ?? RESERVE_AHEAD_BYTES_DEFAULT);
    this.reserveHook = options.reserveHook;
    this.failFromBytes = options.failReservationFromBytes ?? 0x7fffffff;
    this.background = options.writable && options.background === true;
    this.reserveUnitBytes = reserveUnitForFile(path);
  }

  /** Creates a new sparse file of `sizeBytes` (fails if it exists) and maps it read-write. */
  static create(path: string, sizeBytes: number, options: Omit<MappedFileOptions, 'writable'> = {}): MappedFile {
    let fd: number;
    try {
      fd = fs.openSync(path, 'wx+');
    } catch (e) {
      throw storageError(e, `creating ${path}`);
    }
    try {
      fs.ftruncateSync(fd, sizeBytes);
      return MappedFile.mapFd(path, fd, sizeBytes, { ...options, writable: true, reservedBytes: 0 });
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(path, { force: true });
      throw storageError(e, `creating ${path}`);
    }
  }

  /**
   * Maps an existing file whole. Its current size is its logical size (a changed segmentBytes setting
   * applies to new segments only). Never shrinks it.
   */
  static open(path: string, options: MappedFileOptions): MappedFile {
    let fd: number;
    try {
      fd = fs.openSync(path, options.writable ? 'r+' : 'r');
    } catch (e) {
      throw storageError(e, `opening ${path}`);
    }
    try {
      const sizeBytes = fs.fstatSync(fd).size;
      return MappedFile.mapFd(path, fd, sizeBytes, options);
    } catch (e) {
      fs.closeSync(fd);
      throw storageError(e, `mapping ${path}`);
    }
  }

  private static mapFd(path: string, fd: number, sizeBytes: number, options: MappedFileOptions): MappedFile {
    if (sizeBytes <= 0 || sizeBytes > 0x7fffffff) {
      throw new IoError(`cannot map ${path}: size ${sizeBytes} is outside 1..2^31-1 (mmap-io sizes are 32-bit)`);
    }
    const prot = options.writable ? PROT_READ_WRITE : mmap.PROT_READ;
    const buffer = mmap.map(sizeBytes, prot, mmap.MAP_SHARED, fd, 0);
    return new MappedFile(path, fd, sizeBytes, buffer, options);
  }

  get reservedBytes(): number {
    if (this.slot !== null) this.reserved = reservedEnd(this.slot);
    return this.reserved;
  }

  /**
   * Records that [0, end) holds data (so it has blocks): reservation continues from there and never
   * writes zeros over it. Used when an existing file is opened (before any reservation ahead).
   */
  noteDataEnd(end: number): void {
    if (end > this.sizeBytes) throw new IoError(`data end ${end} is past the end of ${this.path}`);
    this.assertNoSlot('noteDataEnd');
    if (end > this.reserved) this.reserved = end;
  }

  /** Recovery cut the data at `end`: reservation restarts there (the zeros are written again). */
  resetReservedTo(end: number): void {
    if (end > this.sizeBytes || end < 0) throw new IoError(`data end ${end} is outside ${this.path}`);
    this.assertNoSlot('resetReservedTo');
    this.reserved = end;
  }

  get hasFd(): boolean {
    return this.fd !== null;
  }

  /**
   * Reads [position, position + into.length) with pread into `into` (zeros past the end of the file):
   * for looking at bytes that may lie in a hole, which must not be touched through the mapping.
   * Needs the fd (writable files, or a sealed file while it is being opened).
   */
  readAt(position: number, into: Buffer): Buffer {
    if (this.fd === null) throw new IoError(`${this.path} has no open descriptor to read from`);
    let done = 0;
    while (done < into.length) {
      const n = fs.readSync(this.fd, into, done, into.length - done, position + done);
      if (n <= 0) break;
      done += n;
    }
    if (done < into.length) into.fill(0, done);
    return into;
  }

  /** Whether a store to [.., end) through the mapping is covered by reserved blocks (whole pages). */
  private covered(end: number): boolean {
    return alignUp(end, this.reserveUnitBytes, this.sizeBytes) <= this.reserved;
  }

  /**
   * Makes sure [0, end) has real blocks before the caller writes below `end` through the mapping.
   * Synchronous: when the blocks are not there yet, it reserves them on this thread (or waits for the
   * reserver's chunk in flight). Throws DiskFullError on ENOSPC (what was reserved before stays
   * reserved; nothing else changes).
   */
  ensureReserved(end: number, aheadBytes = this.windowFor(end)): void {
    if (end > this.sizeBytes) throw new IoError(`reservation to ${end} runs past the end of ${this.path} (${this.sizeBytes})`);
    const need = alignUp(end, this.reserveUnitBytes, this.sizeBytes);
    if (need <= this.reserved) return;
    if (this.slot !== null) {
      this.reserveShared(need);
      return;
    }
    this.reserveTo(alignUp(end + aheadBytes, this.reserveUnitBytes, this.sizeBytes), need);
  }

  /**
   * Copies `data` to `position`, which must be at or after the end of the data. Below the reserved
   * end this is a memcpy into the mapping. Past it, when no reserver thread serves the file (small
   * windows: memory mode, quiet partitions), one pwrite both allocates the blocks and writes the bytes,
   * instead of writing zeros there first and then copying over them (measured: the zeros were about
   * half of a 1 MiB append on tmpfs). Same contract as ensureReserved: a full disk is a DiskFullError,
   * and whatever part of `data` reached the file is zeroed again (its blocks exist, so that write
   * cannot fail for lack of space), so nothing that could pass for a batch is left past the data.
   */
  writeData(position: number, data: Uint8Array): void {
    const end = position + data.length;
    if (this.covered(end) || this.slot !== null || position > this.reserved || !this.writable || this.fd === null) {
      this.ensureReserved(end);
      this.buffer.set(data, position);
      return;
    }
    if (end > this.sizeBytes) throw new IoError(`write to ${end} runs past the end of ${this.path} (${this.sizeBytes})`);
    const fd = this.fd;
    // The rest of the last page gets zeros too, so the caller may store into the page afterwards
    // (e.g. the base offset stamp) with every block under it allocated.
    const pageEnd = alignUp(end, this.reserveUnitBytes, this.sizeBytes);
    let done = 0;
    try {
      this.checkSimulatedFull(this.reserved, pageEnd - this.reserved);
      while (done < data.length) {
        const written = fs.writeSync(fd, data, done, data.length - done, position + done);
        if (written <= 0) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
        done += written;
      }
      if (pageEnd > end) writeZerosAt(fs.writeSync, fd, zeros(), end, pageEnd - end);
    } catch (e) {
      if (done > 0) writeZerosAt(fs.writeSync, fd, zeros(), position, done);
      throw this.reservationError(e);
    }
    this.reserved = pageEnd;
  }

  /** Blocks to keep reserved ahead of `dataEnd`: grows with the data, up to reserveAheadBytes. */
  private windowFor(dataEnd: number): number {
    return Math.min(this.reserveAheadBytes, Math.max(RESERVE_AHEAD_BYTES_MIN, dataEnd));
  }

  /**
   * Keeps blocks reserved ahead of `dataEnd` (called after each append, O(1) when nothing is due):
   * hands the target to the reserver thread, or tops up from setImmediate. Never throws: a failure
   * is reported by the next ensureReserved that needs the blocks.
   */
  reserveAhead(dataEnd: number): void {
    if (this.slot !== null) Atomics.store(this.slot, DATA_END, dataEnd);
    const window = this.windowFor(dataEnd);
    const target = alignUp(dataEnd + window, this.reserveUnitBytes, this.sizeBytes);
    // Hand out work in steps of half a window, so the reserver is woken rarely.
    if (target - this.aheadTarget < window >>> 1 || this.fd === null || !this.writable) return;
    try {
      this.reserveHook?.(this.path, this.aheadTarget, target - this.aheadTarget);
    } catch {
      return;
    }
    this.aheadTarget = target;
    if (this.background && window >= BACKGROUND_WINDOW_BYTES_MIN && this.attachSlot()) {
      const slot = this.slot!;
      if (Atomics.load(slot, WORKER_FAILED) !== 0) return;
      Atomics.store(slot, TARGET, target);
      this.reserver!.wake();
      return;
    }
    if (this.topUpScheduled) return;
    this.topUpScheduled = true;
    setImmediate(() => {
      this.topUpScheduled = false;
      if (this.fd === null || this.slot !== null) return;
      try {
        this.reserveTo(this.aheadTarget, 0);
      } catch {
        // reported by the next append that needs the blocks
      }
    });
  }

  /** Starts sharing this file with the reserver thread; false when it is not available. */
  private attachSlot(): boolean {
    if (this.slot !== null) return true;
    const reserver = reserverThread();
    if (reserver === null || this.fd === null) {
      this.background = false;
      return false;
    }
    const chunkBytes = Math.min(RESERVE_CHUNK_BYTES_MAX, this.reserveAheadBytes >>> 2);
    this.slot = createSlot(this.reserved, this.sizeBytes, chunkBytes, this.fd, this.failFromBytes);
    this.reserver = reserver;
    reserver.attach(this.slot);
    return true;
  }

  /**
   * Stops the reserver from touching this file (sealed, or its fd is about to close): marks the slot
   * detached, then waits (bounded) until the reserver is out of it. Chunks written beyond the
   * reserved prefix stay written (harmless zeros past the data).
   */
  stopReserving(): void {
    const slot = this.slot;
    if (slot === null) return;
    Atomics.store(slot, DETACHED, 1);
    const deadline = Date.now() + RESERVE_WAIT_MS_MAX;
    for (let inflight = Atomics.load(slot, INFLIGHT); inflight !== 0; inflight = Atomics.load(slot, INFLIGHT)) {
      if (this.reserverGone(deadline)) break;
      Atomics.wait(slot, INFLIGHT, inflight, RESERVE_WAIT_SLICE_MS);
    }
    this.reserved = reservedEnd(slot);
    this.slot = null;
    this.reserver = null;
    this.background = false;
  }

  /** Whether the reserver thread is dead (then nothing it holds will finish); throws past the deadline. */
  private reserverGone(deadline: number): boolean {
    if (this.reserver === null || this.reserver.dead) return true;
    if (Date.now() < deadline) return false;
    throw new IoError(`reserving blocks for ${this.path}: the reserver thread did not finish a chunk in ${RESERVE_WAIT_MS_MAX} ms`);
  }

  /**
   * ensureReserved with a reserver slot: every chunk up to the one holding `end - 1` must be DONE.
   * Chunks still FREE are claimed and written here; a chunk the reserver is writing is waited for.
   */
  private reserveShared(end: number): void {
    const slot = this.slot!;
    const last = lastChunkFor(slot, end);
    const deadline = Date.now() + RESERVE_WAIT_MS_MAX;
    const z = zeros();
    for (;;) {
      const prefixEnd = reservedEnd(slot);
      if (prefixEnd >= end) {
        this.reserved = prefixEnd;
        return;
      }
      let busy = -1;
      for (let i = Atomics.load(slot, DONE_PREFIX); i <= last; i++) {
        const state = Atomics.load(slot, SLOT_HEADER_INTS + i);
        if (state === CHUNK_DONE) continue;
        if (state === CHUNK_BUSY) {
          busy = i;
          continue;
        }
        try {
          this.reserveHook?.(this.path, slot[BASE]! + i * slot[CHUNK_BYTES]!, slot[CHUNK_BYTES]!);
          if (claimAndWrite(slot, i, fs.writeSync, z) === 'done') this.succeededOnThisThread();
        } catch (e) {
          this.reserved = reservedEnd(slot);
          throw this.reservationError(e);
        }
      }
      if (busy < 0) {
        // Everything up to `last` is DONE; the thread that finished last may not have moved the prefix yet.
        advancePrefix(slot);
        continue;
      }
      if (this.reserverGone(deadline)) {
        // A dead reserver never finishes its chunk: take it back.
        Atomics.compareExchange(slot, SLOT_HEADER_INTS + busy, CHUNK_BUSY, CHUNK_FREE);
        continue;
      }
      Atomics.wait(slot, SLOT_HEADER_INTS + busy, CHUNK_BUSY, RESERVE_WAIT_SLICE_MS);
    }
  }

  private succeededOnThisThread(): void {
    // The disk had room again: let the reserver serve this file again.
    const slot = this.slot;
    if (slot !== null && Atomics.load(slot, WORKER_FAILED) !== 0) Atomics.store(slot, WORKER_FAILED, 0);
  }

  private checkSimulatedFull(position: number, bytes: number): void {
    this.reserveHook?.(this.path, position, bytes);
    if (position + bytes > this.failFromBytes) throw Object.assign(new Error('simulated full disk'), { code: 'ENOSPC' });
  }

  private reservationError(e: unknown): Error {
    if (e instanceof DiskFullError || e instanceof IoError) return e;
    return storageError(e, `reserving blocks for ${this.path}`);
  }

  private assertNoSlot(what: string): void {
    if (this.slot !== null) throw new IoError(`${what} on ${this.path} while the reserver thread serves it`);
  }

  /** Zeros [from, to) through pwrite, marking it reserved. Used by recovery to wipe a cut tail. */
  writeZeros(from: number, to: number): void {
    this.assertWritable();
    this.assertNoSlot('writeZeros');
    try {
      this.reserveHook?.(this.path, from, to - from);
      writeZerosAt(fs.writeSync, this.fd!, zeros(), from, to - from);
    } catch (e) {
      throw this.reservationError(e);
    }
    if (to > this.reserved && from <= this.reserved) this.reserved = to;
  }

  private reserveTo(target: number, mustReach: number): void {
    this.assertWritable();
    const z = zeros();
    try {
      while (this.reserved < target) {
        const n = Math.min(z.length, target - this.reserved);
        this.checkSimulatedFull(this.reserved, n);
        writeZerosAt(fs.writeSync, this.fd!, z, this.reserved, n);
        this.reserved += n;
      }
    } catch (e) {
      if (this.reserved >= mustReach) return; // the read-ahead part failed; the next call reports it
      throw this.reservationError(e);
    }
  }

  private assertWritable(): void {
    if (!this.writable || this.fd === null) throw new IoError(`${this.path} is not open for writing`);
  }

  /**
   * fdatasync on the file's fd, asynchronously (off the event loop). On Linux the page cache is
   * unified: pages dirtied through a MAP_SHARED mapping are written back by fsync/fdatasync on any fd
   * of the file, so this makes mapping writes durable without a blocking msync.
   */
  async sync(): Promise<void> {
    if (this.fd === null) return;
    const fd = this.fd;
    this.syncsInFlight++;
    try {
      await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(storageError(err, `syncing ${this.path}`)) : resolve())));
    } finally {
      this.syncsInFlight--;
      if (this.closeRequested && this.syncsInFlight === 0) this.closeFd();
    }
  }

  /**
   * Closes the fd; the mapping stays valid (until the buffer and all its views are collected). If a
   * sync is in flight the close happens when it ends, so an fd number is never reused under it.
   */
  closeFd(): void {
    if (this.fd === null) return;
    // Before the fd number can be reused, the reserver must be done with it.
    this.stopReserving();
    if (this.syncsInFlight > 0) {
      this.closeRequested = true;
      return;
    }
    const fd = this.fd;
    this.fd = null;
    this.closeRequested = false;
    fs.closeSync(fd);
  }
}
