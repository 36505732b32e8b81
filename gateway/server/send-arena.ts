// A ring of bytes that one socket's small deliveries are copied into, instead of a fresh Buffer
// each (Buffer.concat). Why: every fresh Buffer of 4 KiB or more is an ArrayBuffer of its own, and
// V8 counts the external bytes allocated since its last full GC against the old generation's room;
// at 20k records/s of 1 KiB those copies alone started a mark-compact every ~0.4 s in the server
// (bench/README.md "Reference measurements"). A slice is handed to the socket and released when the
// socket says it was written; a socket completes its writes in order, so the oldest slice is always
// the next one released (FIFO). When the ring has no room, take() answers null and the caller
// allocates as before: a write whose callback never comes only costs the ring its room.
import { assert } from '../../engine/format/errors.js';

export class SendArena {
  private buffer: Buffer | null = null;
  /** Start and end of each slice handed out and not yet released, oldest first (a ring of pairs). */
  private readonly slices: Int32Array;
  private first = 0;
  private live = 0;
  /** Where the next slice starts, and where the oldest live one starts (the ring's free room is between). */
  private head = 0;
  private tail = 0;

  constructor(
    readonly capacityBytes: number,
    readonly slicesMax: number,
  ) {
    assert(capacityBytes > 0 && slicesMax > 0, () => `SendArena(${capacityBytes}, ${slicesMax})`);
    this.slices = new Int32Array(slicesMax * 2);
  }

  /** Slices handed out and not yet released. */
  get liveSlices(): number {
    return this.live;
  }

  /** A slice of `bytes` to fill and send, or null when the ring has no room for it (or no slot). */
  take(bytes: number): Buffer | null {
    if (bytes <= 0 || bytes > this.capacityBytes || this.live === this.slicesMax) return null;
    let start: number;
    if (this.live === 0) {
      start = 0;
    } else if (this.tail < this.head) {
      // Not wrapped: room after head, else from the start of the ring up to the oldest slice.
      if (this.head + bytes <= this.capacityBytes) start = this.head;
      else if (bytes <= this.tail) start = 0;
      else return null;
    } else {
      // Wrapped: room between head and the oldest slice only.
      if (this.head + bytes <= this.tail) start = this.head;
      else return null;
    }
    this.buffer ??= Buffer.allocUnsafeSlow(this.capacityBytes);
    if (this.live === 0) this.tail = start;
    this.head = start + bytes;
    const at = ((this.first + this.live) % this.slicesMax) * 2;
    this.slices[at] = start;
    this.slices[at + 1] = this.head;
    this.live++;
    return this.buffer.subarray(start, this.head);
  }

  /** Releases the oldest slice (its write completed). */
  release(): void {
    assert(this.live > 0, () => 'SendArena.release with no slice out');
    this.first = (this.first + 1) % this.slicesMax;
    this.live--;
    if (this.live === 0) {
      this.head = 0;
      this.tail = 0;
    } else {
      this.tail = this.slices[this.first * 2]!;
    }
  }
}
