// Worker thread for the reserver tests: plays the reserver's part for one chunk of a slot, on a
// schedule the test controls (engine/reserver.ts describes the FREE → BUSY → DONE protocol).
//   1. claims chunk `chunk` FREE → BUSY with the same compare-and-swap the reserver uses, and reports
//      the outcome in control[CLAIMED] (1 = claimed, 2 = it was not FREE);
//   2. holds it until every chunk in `waitForDone` is DONE — chunks only the appender writes, so the
//      appender is then inside ensureReserved, past them, at the BUSY chunk (bounded: control[TIMED_OUT]);
//   3. sets control[RELEASING], writes the chunk's zeros, stores DONE and wakes the waiters.
import fs from 'node:fs';
import { isMainThread, workerData } from 'node:worker_threads';
import { BASE, CHUNK_BUSY, CHUNK_BYTES, CHUNK_DONE, CHUNK_FREE, FD, SIZE, SLOT_HEADER_INTS, advancePrefix, writeZerosAt } from '../../engine/reserver.js';

export const CLAIMED = 0;
export const RELEASING = 1;
export const TIMED_OUT = 2;

// Imported for the constants above, the module does nothing; run as a worker, it holds the chunk.
if (!isMainThread) hold();

function hold(): void {
  const { slot: slotBuffer, control: controlBuffer, chunk, waitForDone, timeoutMs } = workerData as {
    slot: SharedArrayBuffer;
    control: SharedArrayBuffer;
    chunk: number;
    waitForDone: number[];
    timeoutMs: number;
  };
  const slot = new Int32Array(slotBuffer);
  const control = new Int32Array(controlBuffer);
  const state = SLOT_HEADER_INTS + chunk;

  const claimed = Atomics.compareExchange(slot, state, CHUNK_FREE, CHUNK_BUSY) === CHUNK_FREE;
  Atomics.store(control, CLAIMED, claimed ? 1 : 2);
  Atomics.notify(control, CLAIMED);
  if (claimed) {
    const deadline = Date.now() + timeoutMs;
    for (const i of waitForDone) {
      for (let s = Atomics.load(slot, SLOT_HEADER_INTS + i); s !== CHUNK_DONE; s = Atomics.load(slot, SLOT_HEADER_INTS + i)) {
        if (Date.now() > deadline) {
          Atomics.store(control, TIMED_OUT, 1);
          break;
        }
        Atomics.wait(slot, SLOT_HEADER_INTS + i, s, 50);
      }
    }
    Atomics.store(control, RELEASING, 1);
    const from = slot[BASE]! + chunk * slot[CHUNK_BYTES]!;
    writeZerosAt(fs.writeSync, slot[FD]!, Buffer.alloc(slot[CHUNK_BYTES]!), from, Math.min(slot[CHUNK_BYTES]!, slot[SIZE]! - from));
    Atomics.store(slot, state, CHUNK_DONE);
    Atomics.notify(slot, state);
    advancePrefix(slot);
  }
}
