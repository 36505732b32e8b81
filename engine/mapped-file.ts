// A file of fixed logical size, mapped whole (MAP_SHARED), with real disk blocks reserved ahead of
// the write position.
//
// Why reservation: a segment file is created sparse (ftruncate), so an empty partition takes almost no
// disk. But touching a page of a sparse MAP_SHARED mapping when the disk is full kills the process
// with SIGBUS. So before any byte is written through the mapping, the blocks under it are allocated
// by writing zeros with fs.writeSync: a full disk then surfaces as ENOSPC from that write (a clean
// DiskFullError) and never as a signal. Writing the zeros also pre-touches the page cache, which is
// what makes later memcpys into the mapping fast (peers.md).
//
// Invariants: the file is never shrunk while mapped; [0, reservedBytes) has real blocks; writes go
// through the mapping only below reservedBytes; zeros are written only at or after reservedBytes, which
// is always >= the end of the data, so reservation can never overwrite data.
import fs from 'node:fs';
import mmapModule from '@riaskov/mmap-io';
import { DiskFullError, IoError } from './errors.js';

// The package is CommonJS whose typings declare an ES default export: at run time the default
// import is the API object itself (module.exports), which TypeScript types as the namespace.
const mmap = ((mmapModule as { default?: unknown }).default ?? mmapModule) as typeof mmapModule.default;

const ZERO_CHUNK_BYTES = 256 * 1024;
let zeroChunk: Buffer | null = null;
function zeros(): Buffer {
  zeroChunk ??= Buffer.alloc(ZERO_CHUNK_BYTES);
  return zeroChunk;
}

/** Test hook: called before each reservation write; throwing an errno error simulates a full disk. */
export type ReserveHook = (path: string, position: number, bytes: number) => void;

export interface MappedFileOptions {
  /** Map read-write (the active segment) or read-only (sealed segments). */
  writable: boolean;
  /** Bytes of blocks to reserve beyond the requested position when reservation is needed. */
  reserveAheadBytes?: number;
  /** Known to hold real blocks (data) from the start; reservation continues from here. */
  reservedBytes?: number;
  reserveHook?: ReserveHook;
}

export class MappedFile {
  readonly path: string;
  /** Logical (and mapped) size in bytes. */
  readonly sizeBytes: number;
  readonly buffer: Buffer;
  readonly writable: boolean;
  private fd: number | null;
  private reserved: number;
  private readonly reserveAheadBytes: number;
  private readonly reserveHook: ReserveHook | undefined;
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
    this.reserveAheadBytes = Math.max(4096, options.reserveAheadBytes ?? 1024 * 1024);
    this.reserveHook = options.reserveHook;
  }

  /** Creates a new sparse file of `sizeBytes` (fails if it exists) and maps it read-write. */
  static create(path: string, sizeBytes: number, options: Omit<MappedFileOptions, 'writable'> = {}): MappedFile {
    const fd = fs.openSync(path, 'wx+');
    try {
      fs.ftruncateSync(fd, sizeBytes);
      return MappedFile.mapFd(path, fd, sizeBytes, { ...options, writable: true, reservedBytes: 0 });
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /**
   * Maps an existing file whole. Its current size is its logical size (a changed segmentBytes setting
   * applies to new segments only). Never shrinks it.
   */
  static open(path: string, options: MappedFileOptions): MappedFile {
    const fd = fs.openSync(path, options.writable ? 'r+' : 'r');
    try {
      const sizeBytes = fs.fstatSync(fd).size;
      return MappedFile.mapFd(path, fd, sizeBytes, options);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  private static mapFd(path: string, fd: number, sizeBytes: number, options: MappedFileOptions): MappedFile {
    if (sizeBytes <= 0 || sizeBytes > 0x7fffffff) {
      throw new IoError(`cannot map ${path}: size ${sizeBytes} is outside 1..2^31-1 (mmap-io sizes are 32-bit)`);
    }
    const prot = options.writable ? 3 : mmap.PROT_READ; // 3 = PROT_READ | PROT_WRITE
    const buffer = mmap.map(sizeBytes, prot, mmap.MAP_SHARED, fd, 0);
    return new MappedFile(path, fd, sizeBytes, buffer, options);
  }

  get reservedBytes(): number {
    return this.reserved;
  }

  /**
   * Records that [0, end) holds data (so it has blocks): reservation continues from there and never
   * writes zeros over it. Used when an existing file is opened.
   */
  noteDataEnd(end: number): void {
    if (end > this.sizeBytes) throw new IoError(`data end ${end} is past the end of ${this.path}`);
    if (end > this.reserved) this.reserved = end;
  }

  /** Recovery cut the data at `end`: reservation restarts there (the zeros are written again). */
  resetReservedTo(end: number): void {
    if (end > this.sizeBytes || end < 0) throw new IoError(`data end ${end} is outside ${this.path}`);
    this.reserved = end;
  }

  get hasFd(): boolean {
    return this.fd !== null;
  }

  /**
   * Makes sure [0, end) has real blocks, reserving up to `end + reserveAheadBytes` (capped at the
   * file size) when it does not. Synchronous on purpose: it must never race writes into the mapping.
   * Throws DiskFullError on ENOSPC (what was reserved before stays reserved; nothing else changes).
   */
  ensureReserved(end: number, aheadBytes = this.reserveAheadBytes): void {
    if (end <= this.reserved) return;
    if (end > this.sizeBytes) throw new IoError(`reservation to ${end} runs past the end of ${this.path} (${this.sizeBytes})`);
    this.reserveTo(Math.min(this.sizeBytes, end + aheadBytes), end);
  }

  /** Zeros [from, to) through fs.writeSync, marking it reserved. Used by recovery to wipe a cut tail. */
  writeZeros(from: number, to: number): void {
    this.assertWritable();
    let pos = from;
    const z = zeros();
    while (pos < to) {
      const n = Math.min(z.length, to - pos);
      const written = fs.writeSync(this.fd!, z, 0, n, pos);
      pos += written;
    }
    if (to > this.reserved && from <= this.reserved) this.reserved = to;
  }

  private reserveTo(target: number, mustReach: number): void {
    this.assertWritable();
    const z = zeros();
    try {
      while (this.reserved < target) {
        const n = Math.min(z.length, target - this.reserved);
        this.reserveHook?.(this.path, this.reserved, n);
        const written = fs.writeSync(this.fd!, z, 0, n, this.reserved);
        if (written <= 0) throw Object.assign(new Error('short write while reserving'), { code: 'ENOSPC' });
        this.reserved += written;
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (this.reserved >= mustReach) return; // the read-ahead part failed; the next call reports it
      if (code === 'ENOSPC' || code === 'EDQUOT') throw new DiskFullError(this.path, e);
      throw new IoError(`reserving blocks for ${this.path} failed: ${(e as Error).message}`, e);
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
      await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
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
