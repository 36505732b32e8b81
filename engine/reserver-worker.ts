// The reserver thread (see reserver.ts for the protocol): writes zeros ahead of active segments'
// write positions, one claimed chunk at a time, so the event-loop thread finds blocks reserved.
// It never touches a mapping and never writes below CONFIRMED (which is at or past the data's end).
import fs from 'node:fs';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  CLAIMED,
  CONFIRMED,
  DETACHED,
  FAIL_FROM,
  FD,
  RESERVE_CHUNK_BYTES,
  SIZE,
  SLEEPING,
  TARGET,
  WAKE,
  WORKER_FAILED,
  WORKER_IDLE_WAIT_MS,
  writeZerosAt,
} from './reserver.js';

const control = new Int32Array((workerData as { control: SharedArrayBuffer }).control);
const port = parentPort!;
const zeros = Buffer.alloc(RESERVE_CHUNK_BYTES);
const slots: Int32Array[] = [];
/** After work, keep polling every POLL_INTERVAL_MS for this long before sleeping until woken. */
const POLL_PERIOD_MS = 1000;
const POLL_INTERVAL_MS = 1;
let lastWorkMs = 0;

/** Reserves one chunk of `slot` if it is behind its target and free; returns whether it wrote. */
function serve(slot: Int32Array): boolean {
  if (Atomics.load(slot, WORKER_FAILED) !== 0) return false;
  const confirmed = Atomics.load(slot, CONFIRMED);
  const target = Math.min(Atomics.load(slot, TARGET), Atomics.load(slot, SIZE));
  if (target <= confirmed) return false;
  const bytes = Math.min(RESERVE_CHUNK_BYTES, target - confirmed);
  // The claim: fails if a chunk is in flight (the main thread's) or the slot was detached.
  if (Atomics.compareExchange(slot, CLAIMED, confirmed, confirmed + bytes) !== confirmed) return false;
  try {
    if (confirmed + bytes > Atomics.load(slot, FAIL_FROM)) {
      throw Object.assign(new Error('simulated full disk'), { code: 'ENOSPC' });
    }
    // The fd stays open while we hold the claim: closing it needs a detach, which needs no claim.
    writeZerosAt(fs.writeSync, Atomics.load(slot, FD), zeros, confirmed, bytes);
    Atomics.store(slot, CONFIRMED, confirmed + bytes);
  } catch {
    // Full disk (or any error): give the claim back and stop serving this file until the main thread,
    // which reports the error on the append that needs the space, succeeds again.
    Atomics.store(slot, WORKER_FAILED, 1);
    Atomics.store(slot, CLAIMED, confirmed);
  }
  Atomics.notify(slot, CONFIRMED);
  return true;
}

for (;;) {
  const seen = Atomics.load(control, WAKE);
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    slots.push(new Int32Array(m.message as SharedArrayBuffer));
  }
  let worked = false;
  for (let i = slots.length - 1; i >= 0; i--) {
    const slot = slots[i]!;
    if (Atomics.load(slot, CLAIMED) === DETACHED) {
      slots[i] = slots[slots.length - 1]!;
      slots.pop();
      continue;
    }
    if (serve(slot)) worked = true;
  }
  if (worked) {
    lastWorkMs = Date.now();
  } else if (Date.now() - lastWorkMs < POLL_PERIOD_MS) {
    // Busy period: poll on a short timer instead of being woken. A futex wake from the appending
    // thread tends to schedule this thread on that thread's core and preempt it (measured: ~1-2 ms
    // per wake on a loaded 2-core machine), while a timer fires on this thread's own core.
    Atomics.wait(control, WAKE, seen, POLL_INTERVAL_MS);
  } else {
    // Idle: sleep until woken. A wake() after `seen` was read changed WAKE, so this wait returns at
    // once (no lost wake-up).
    Atomics.store(control, SLEEPING, 1);
    Atomics.wait(control, WAKE, seen, WORKER_IDLE_WAIT_MS);
    Atomics.store(control, SLEEPING, 0);
  }
}
