// The reserver thread (see reserver.ts for the protocol): writes zeros ahead of busy active
// segments, one claimed chunk at a time, so the appending thread finds blocks reserved. It never
// touches a mapping and never writes below a slot's BASE (which is at or past the data's end).
import fs from 'node:fs';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  CHUNK_BYTES,
  CHUNKS,
  DATA_END,
  DETACHED,
  DONE_PREFIX,
  INFLIGHT,
  RESERVE_CHUNK_BYTES_MAX,
  SIZE,
  SLEEPING,
  TARGET,
  WAKE,
  WORKER_FAILED,
  WORKER_IDLE_WAIT_MS,
  claimAndWrite,
  lastChunkFor,
} from './reserver.js';

const control = new Int32Array((workerData as { control: SharedArrayBuffer }).control);
const port = parentPort!;
const zeros = Buffer.alloc(RESERVE_CHUNK_BYTES_MAX);
const slots: Int32Array[] = [];
/** After work, keep polling every POLL_INTERVAL_MS for this long before sleeping until woken. */
const POLL_PERIOD_MS = 1000;
const POLL_INTERVAL_MS = 1;
let lastWorkMs = 0;

/** Writes one chunk of `slot` that is needed for its target and FREE; returns whether it wrote. */
function serve(slot: Int32Array): boolean {
  Atomics.add(slot, INFLIGHT, 1);
  try {
    // Raised INFLIGHT first: a detach that set DETACHED before this read waits for us to leave.
    if (Atomics.load(slot, DETACHED) !== 0 || Atomics.load(slot, WORKER_FAILED) !== 0) return false;
    const target = Math.min(Atomics.load(slot, TARGET), slot[SIZE]!);
    const last = lastChunkFor(slot, target);
    // Chunks the appender will need within about a chunk are its own to write (see reserver.ts).
    const chunkBytes = slot[CHUNK_BYTES]!;
    const first = Math.max(Atomics.load(slot, DONE_PREFIX), lastChunkFor(slot, Atomics.load(slot, DATA_END) + chunkBytes) + 1);
    for (let i = first; i <= last; i++) {
      try {
        if (claimAndWrite(slot, i, fs.writeSync, zeros) === 'done') return true;
      } catch {
        // Full disk (or any error): the chunk is FREE again; the appender reports it when it needs it.
        Atomics.store(slot, WORKER_FAILED, 1);
        return true;
      }
    }
    return false;
  } finally {
    Atomics.sub(slot, INFLIGHT, 1);
    Atomics.notify(slot, INFLIGHT);
  }
}

for (;;) {
  const seen = Atomics.load(control, WAKE);
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
    slots.push(new Int32Array(m.message as SharedArrayBuffer));
  }
  let worked = false;
  for (let i = slots.length - 1; i >= 0; i--) {
    const slot = slots[i]!;
    if (Atomics.load(slot, DETACHED) !== 0 || Atomics.load(slot, DONE_PREFIX) >= slot[CHUNKS]!) {
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
