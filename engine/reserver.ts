// Block reservation off the event-loop thread: one worker thread per process (shared by every
// partition log) writes zeros ahead of the write position of busy active segments (see
// mapped-file.ts for why blocks must be reserved before a byte goes through the mapping).
//
// Coordination is through one SharedArrayBuffer per file (a "slot"), never through messages on the
// hot path. The file, from BASE (its reserved end when the slot was attached) to its end, is cut
// into chunks; each chunk is FREE, BUSY (one thread is writing its zeros) or DONE (written). Rules:
//   - A chunk is written only by the thread that moved it FREE → BUSY with a compare-and-swap, so
//     no range is ever zeroed twice at once, and only chunks at or beyond BASE exist, which is at or
//     beyond the end of the data: zeros are never written over data.
//   - DONE is stored only after the write returned. DONE_PREFIX (chunks DONE contiguously from
//     chunk 0) only grows; the appender copies into the mapping only below BASE + DONE_PREFIX chunks.
//   - The appender, when it needs a chunk that is not DONE, claims and writes it itself if it is
//     FREE, or waits (Atomics.wait, bounded) if the reserver has it BUSY. Both threads can thus write
//     different chunks at the same time: the reserver ahead, the appender what it needs now.
//   - The reserver leaves the chunks within one chunk of the appender's data end to the appender
//     (which would otherwise often wait for the chunk it needs next) and works further ahead.
//   - A failed write (full disk) puts the chunk back to FREE; the reserver then stops serving the
//     file (WORKER_FAILED) until the appender succeeds again; the appender reports DiskFullError.
//   - Detaching (before the fd is closed, or at seal) sets DETACHED, then waits until INFLIGHT is 0.
//     The reserver raises INFLIGHT before it reads DETACHED (both sequentially consistent), so after
//     the detach it can never touch the fd again, and a reused fd number is safe.
import { Worker } from 'node:worker_threads';

// Slot layout (Int32Array indexes). Positions fit: one mapping is < 2 GiB (mmap-io sizes are 32-bit).
export const BASE = 0;
export const CHUNK_BYTES = 1;
export const CHUNKS = 2;
/** Where the reserver should reserve up to (raised by the appender as data grows). */
export const TARGET = 3;
export const SIZE = 4;
export const FD = 5;
/** Set by the reserver after a failed write (full disk); it then leaves the file alone until cleared. */
export const WORKER_FAILED = 6;
/** Test hook: a reservation write reaching past this position fails with ENOSPC, in either thread. */
export const FAIL_FROM = 7;
export const DETACHED = 8;
/** Reserver visits in progress (see the detach rule above). */
export const INFLIGHT = 9;
export const DONE_PREFIX = 10;
/** The appender's data end (stored on every append): the reserver leaves the next chunk to it. */
export const DATA_END = 11;
export const SLOT_HEADER_INTS = 16;

export const CHUNK_FREE = 0;
export const CHUNK_BUSY = 1;
export const CHUNK_DONE = 2;

/** Largest chunk; also the size of the zero buffer each thread writes from. */
export const RESERVE_CHUNK_BYTES_MAX = 1024 * 1024;
/** Bound on chunks per slot (its size: 4 bytes each); chunks grow for very large files. */
export const SLOT_CHUNKS_MAX = 4096;

/** Control words: the wake counter the worker waits on, and whether it is asleep (needs a notify). */
export const CONTROL_INTS = 2;
export const WAKE = 0;
export const SLEEPING = 1;
/** Bound on how long the worker sleeps between checks when idle (it is also woken by hints). */
export const WORKER_IDLE_WAIT_MS = 1000;

/** A new slot for a file of `sizeBytes` whose [0, base) already has blocks. */
export function createSlot(base: number, sizeBytes: number, chunkBytes: number, fd: number, failFrom: number): Int32Array {
  const chunk = Math.max(chunkBytes, Math.ceil((sizeBytes - base) / SLOT_CHUNKS_MAX));
  const chunks = Math.max(0, Math.ceil((sizeBytes - base) / chunk));
  const slot = new Int32Array(new SharedArrayBuffer((SLOT_HEADER_INTS + chunks) * 4));
  slot[BASE] = base;
  slot[CHUNK_BYTES] = chunk;
  slot[CHUNKS] = chunks;
  slot[TARGET] = base;
  slot[DATA_END] = base;
  slot[SIZE] = sizeBytes;
  slot[FD] = fd;
  slot[FAIL_FROM] = failFrom;
  return slot;
}

/** End position of the reserved prefix. */
export function reservedEnd(slot: Int32Array): number {
  return Math.min(slot[SIZE]!, slot[BASE]! + Atomics.load(slot, DONE_PREFIX) * slot[CHUNK_BYTES]!);
}

/** Index of the chunk holding position `pos - 1` (the last chunk needed to cover [0, pos)). */
export function lastChunkFor(slot: Int32Array, pos: number): number {
  return Math.min(slot[CHUNKS]! - 1, Math.ceil((pos - slot[BASE]!) / slot[CHUNK_BYTES]!) - 1);
}

/** Moves DONE_PREFIX over every chunk that is DONE (each thread calls it after its own DONE). */
export function advancePrefix(slot: Int32Array): void {
  const chunks = slot[CHUNKS]!;
  for (let p = Atomics.load(slot, DONE_PREFIX); p < chunks && Atomics.load(slot, SLOT_HEADER_INTS + p) === CHUNK_DONE; p = Atomics.load(slot, DONE_PREFIX)) {
    Atomics.compareExchange(slot, DONE_PREFIX, p, p + 1);
  }
}

export type WriteSync = (fd: number, buf: Buffer, off: number, len: number, pos: number) => number;

/**
 * Claims chunk `i` if it is FREE and writes its zeros. Returns 'claimed-by-other' when it was not
 * free, 'done' after a successful write; throws the write's error after putting the chunk back.
 */
export function claimAndWrite(slot: Int32Array, i: number, writeSync: WriteSync, zeros: Buffer): 'done' | 'not-free' {
  const state = SLOT_HEADER_INTS + i;
  if (Atomics.compareExchange(slot, state, CHUNK_FREE, CHUNK_BUSY) !== CHUNK_FREE) return 'not-free';
  const from = slot[BASE]! + i * slot[CHUNK_BYTES]!;
  const bytes = Math.min(slot[CHUNK_BYTES]!, slot[SIZE]! - from);
  try {
    if (from + bytes > slot[FAIL_FROM]!) throw Object.assign(new Error('simulated full disk'), { code: 'ENOSPC' });
    writeZerosAt(writeSync, slot[FD]!, zeros, from, bytes);
  } catch (e) {
    Atomics.store(slot, state, CHUNK_FREE);
    Atomics.notify(slot, state);
    throw e;
  }
  Atomics.store(slot, state, CHUNK_DONE);
  Atomics.notify(slot, state);
  advancePrefix(slot);
  return 'done';
}

/** Writes `bytes` zeros at `position` with pwrite, to completion; a short write of 0 is ENOSPC. */
export function writeZerosAt(writeSync: WriteSync, fd: number, zeros: Buffer, position: number, bytes: number): void {
  let done = 0;
  while (done < bytes) {
    const n = Math.min(zeros.length, bytes - done);
    const written = writeSync(fd, zeros, 0, n, position + done);
    if (written <= 0) throw Object.assign(new Error('short write while reserving'), { code: 'ENOSPC' });
    done += written;
  }
}

class ReserverThread {
  private readonly worker: Worker;
  private readonly control: Int32Array;
  dead = false;

  constructor() {
    const controlBuffer = new SharedArrayBuffer(CONTROL_INTS * 4);
    this.control = new Int32Array(controlBuffer);
    this.worker = new Worker(new URL('./reserver-worker.js', import.meta.url), { workerData: { control: controlBuffer } });
    // Never keeps the process alive. If it dies, appenders reserve on their own thread (a chunk it
    // left BUSY is taken back after a bounded wait; see mapped-file.ts).
    this.worker.unref();
    this.worker.on('error', () => {
      this.dead = true;
    });
    this.worker.on('exit', () => {
      this.dead = true;
    });
  }

  attach(slot: Int32Array): void {
    this.worker.postMessage(slot.buffer);
    this.wake();
  }

  /**
   * Tells the thread there is work. The futex wake (a syscall, and on a busy machine often a
   * preemption of this thread by the woken one) is only paid when the thread is actually asleep.
   */
  wake(): void {
    Atomics.add(this.control, WAKE, 1);
    if (Atomics.load(this.control, SLEEPING) !== 0) Atomics.notify(this.control, WAKE);
  }
}

export type { ReserverThread };

let thread: ReserverThread | null = null;
let startFailed = false;

/** The process's reserver thread, started on first use; null when it cannot run (reserve in-thread). */
export function reserverThread(): ReserverThread | null {
  if (thread !== null && thread.dead) return null;
  if (thread === null && !startFailed) {
    try {
      thread = new ReserverThread();
    } catch {
      startFailed = true;
    }
  }
  return thread;
}
