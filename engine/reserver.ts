// Block reservation off the event-loop thread: one worker thread per process (shared by every
// partition log) writes zeros ahead of the write position of active segments (see mapped-file.ts
// for why blocks must be reserved before a byte goes through the mapping).
//
// Coordination is through one small SharedArrayBuffer per file ("slot"), never through messages on
// the hot path. The rules that make it race-free:
//   - CONFIRMED only grows, and only after the zeros below it were written (pwrite returned). The
//     main thread copies into the mapping only below CONFIRMED.
//   - Writing zeros needs a claim: CLAIMED is moved from CONFIRMED to CONFIRMED + n by a
//     compare-and-swap, so at most one chunk is in flight per file, and zeros are only ever written
//     at or beyond CONFIRMED, which is at or beyond the end of the data (never over data).
//   - The claimer ends its claim by setting CONFIRMED = CLAIMED (success) or CLAIMED = CONFIRMED
//     (failure, e.g. ENOSPC), then notifies waiters on CONFIRMED.
//   - The main thread, when it needs space beyond CONFIRMED, either claims the next chunk itself and
//     writes it synchronously, or waits (Atomics.wait, bounded) for the worker's chunk in flight.
//   - Detaching (before the fd is closed or when the segment is sealed) swaps CLAIMED to DETACHED
//     while no chunk is in flight, so the worker can never write to an fd number after its close.
import { Worker } from 'node:worker_threads';

// Slot layout (Int32Array indexes). Positions fit: one mapping is < 2 GiB (mmap-io sizes are 32-bit).
export const CONFIRMED = 0;
export const CLAIMED = 1;
/** Where the worker should reserve up to (raised by the main thread as data is appended). */
export const TARGET = 2;
export const SIZE = 3;
export const FD = 4;
/** Set by the worker after a failed write (full disk); it then leaves the file alone until cleared. */
export const WORKER_FAILED = 5;
/** Test hook: a reservation write reaching past this position fails with ENOSPC, in either thread. */
export const FAIL_FROM = 6;
export const SLOT_INTS = 8;
export const DETACHED = -1;
/** Largest chunk of zeros written per claim. */
export const RESERVE_CHUNK_BYTES = 1024 * 1024;
/** Control words: the wake counter the worker waits on, and whether it is (about to be) waiting. */
export const CONTROL_INTS = 2;
export const WAKE = 0;
export const SLEEPING = 1;

/** Bound on how long the worker sleeps between checks (it is also woken on every hint). */
export const WORKER_IDLE_WAIT_MS = 1000;

class ReserverThread {
  private readonly worker: Worker;
  private readonly control: Int32Array;
  dead = false;

  constructor() {
    const controlBuffer = new SharedArrayBuffer(CONTROL_INTS * 4);
    this.control = new Int32Array(controlBuffer);
    this.worker = new Worker(new URL('./reserver-worker.js', import.meta.url), { workerData: { control: controlBuffer } });
    // Never keeps the process alive; if it dies, the main thread reserves synchronously (slots
    // whose claim it held are released by the main thread after a bounded wait; see mapped-file.ts).
    this.worker.unref();
    this.worker.on('error', () => {
      this.dead = true;
    });
    this.worker.on('exit', () => {
      this.dead = true;
    });
  }

  attach(slot: SharedArrayBuffer): void {
    this.worker.postMessage(slot);
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

let thread: ReserverThread | null = null;
let startFailed = false;

/** The process's reserver thread, started on first use; null when it cannot run (then reserve in-thread). */
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

export type { ReserverThread };

/** Writes `bytes` zeros at `position` with pwrite, to completion; a short write of 0 is ENOSPC. */
export function writeZerosAt(
  writeSync: (fd: number, buf: Buffer, off: number, len: number, pos: number) => number,
  fd: number,
  zeros: Buffer,
  position: number,
  bytes: number,
): void {
  let done = 0;
  while (done < bytes) {
    const n = Math.min(zeros.length, bytes - done);
    const written = writeSync(fd, zeros, 0, n, position + done);
    if (written <= 0) throw Object.assign(new Error('short write while reserving'), { code: 'ENOSPC' });
    done += written;
  }
}
