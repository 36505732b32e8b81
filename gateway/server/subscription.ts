// Server side of one subscription: per-partition read positions, the client's byte credit, and a
// pump that moves whole batches from the engine to the socket. Woken by engine.watch() after
// appends, by CREDIT frames, and by the socket draining. Batches go out as the segment holds them
// (views), except LZ4 batches for a client that cannot decode LZ4, which are decompressed.
import { assert, isSeglogError } from '../../engine/format/errors.js';
import type { GatewayEngine } from './engine-port.js';
import { outgoingBatches } from './outgoing-batches.js';
import { encodeDeliverHeader, encodeGap } from '../protocol/deliver.js';

export interface DeliverySink {
  readonly canDecodeLz4: boolean;
  /** False while the socket's send queue is above its high-water mark. */
  writable(): boolean;
  /** Sends one DELIVER message made of `parts` (header first, then whole batches). */
  sendDelivery(parts: Uint8Array[], batchBytes: number, records: number): void;
  sendFrame(frame: Uint8Array): void;
  /** The subscription cannot go on (topic deleted, engine closed...): tell the client and drop it. */
  subscriptionFailed(subscriptionId: number, error: unknown): void;
  /** Bytes a delivery may carry now (a byte-rate quota; Infinity without one). */
  deliveryBytesAllowed(): number;
}

export interface SubscriptionLimits {
  /** Largest read per partition per step (the engine still returns at least one whole batch). */
  readChunkBytes: number;
  /** Reads per pump turn before yielding to the event loop, so one busy subscription cannot starve others. */
  readsPerTurn: number;
}

interface PartitionCursor {
  partition: number;
  nextOffset: number;
  unwatch: () => void;
}

/** Credit is kept as a number; a grant beyond this is clamped (it is "unlimited" in practice). */
const CREDIT_MAX = Number.MAX_SAFE_INTEGER / 2;

export class ServerSubscription {
  readonly id: number;
  readonly topic: string;
  private readonly cursors: PartitionCursor[] = [];
  private creditBytes: number;
  private scheduled = false;
  private unlistenPartitions: () => void = () => {};
  private closed = false;
  /** Round-robin start, so every partition gets its turn when credit is short. */
  private nextCursor = 0;
  bytesSent = 0;

  constructor(
    private readonly engine: GatewayEngine,
    private readonly sink: DeliverySink,
    private readonly limits: SubscriptionLimits,
    id: number,
    topic: string,
    starts: Array<{ partition: number; startOffset: number }>,
    creditBytes: number,
    /** A whole-topic subscription: follow partitions added later, from offset 0. */
    followNewPartitions = false,
  ) {
    this.id = id;
    this.topic = topic;
    this.creditBytes = Math.min(creditBytes, CREDIT_MAX);
    this.addCursors(starts);
    if (followNewPartitions) {
      this.unlistenPartitions = engine.onPartitionsAdded(topic, (partitions) => {
        try {
          this.addPartitions(partitions.map((partition) => ({ partition, startOffset: 0 })));
        } catch (e) {
          this.sink.subscriptionFailed(this.id, e);
        }
      });
    }
  }

  /**
   * Follows more partitions (a whole-topic subscription after addPartitions), from the given
   * offsets; partitions already followed are left alone. Nothing is announced to the client: the
   * DELIVERs (or GAPs) for the new partition are how it learns of it.
   */
  addPartitions(starts: Array<{ partition: number; startOffset: number }>): void {
    if (this.closed) return;
    this.addCursors(starts);
    this.schedule();
  }

  private addCursors(starts: Array<{ partition: number; startOffset: number }>): void {
    for (const s of starts) {
      if (this.cursors.some((c) => c.partition === s.partition)) continue;
      const cursor: PartitionCursor = { partition: s.partition, nextOffset: s.startOffset, unwatch: () => {} };
      cursor.unwatch = this.engine.watch(this.topic, s.partition, () => this.schedule());
      this.cursors.push(cursor);
    }
  }

  get credit(): number {
    return this.creditBytes;
  }

  /** Next offset to send, per partition (for stats and tests). */
  positions(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const c of this.cursors) out[c.partition] = c.nextOffset;
    return out;
  }

  addCredit(bytes: number): void {
    this.creditBytes = Math.min(this.creditBytes + bytes, CREDIT_MAX);
    this.schedule();
  }

  /**
   * Runs the pump once the current callback is done (a microtask): an append, a credit or a drain
   * is delivered in the same event-loop turn. Waiting for setImmediate instead cost a median
   * 0.1 ms of produce→deliver latency, measured in the server (0.30 → 0.18-0.21 ms).
   */
  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(this.runPump);
  }

  /** Continues after other callbacks had their turn (used when a pump ran out of reads). */
  private scheduleLater(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(this.runPump);
  }

  private readonly runPump = (): void => {
    this.scheduled = false;
    this.pump();
  };

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unlistenPartitions();
    for (const c of this.cursors) c.unwatch();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends while there is credit, data, and room in the socket's queue. */
  private pump(): void {
    let reads = 0;
    let progressed = true;
    while (!this.closed && progressed && reads < this.limits.readsPerTurn) {
      progressed = false;
      for (let i = 0; i < this.cursors.length && reads < this.limits.readsPerTurn; i++) {
        if (this.creditBytes <= 0 || !this.sink.writable() || this.closed) return;
        const cursor = this.cursors[(this.nextCursor + i) % this.cursors.length]!;
        reads++;
        try {
          if (this.step(cursor)) progressed = true;
        } catch (e) {
          this.sink.subscriptionFailed(this.id, e);
          return;
        }
      }
      this.nextCursor = (this.nextCursor + 1) % Math.max(1, this.cursors.length);
    }
    // Out of turns with work left: continue after other sockets had theirs. (No credit, no data
    // or a full socket: credit, an append or a drain wakes us.)
    if (progressed && !this.closed) this.scheduleLater();
  }

  /** One read and send for one partition. Returns true when something was sent. */
  private step(cursor: PartitionCursor): boolean {
    const { startOffset, endOffset } = this.engine.offsets(this.topic, cursor.partition);
    if (cursor.nextOffset < startOffset) {
      // Retention removed what this subscriber had not read yet: say so, then go on.
      this.sink.sendFrame(encodeGap(this.id, { partition: cursor.partition, fromOffset: cursor.nextOffset, toOffset: startOffset }));
      cursor.nextOffset = startOffset;
    }
    if (cursor.nextOffset >= endOffset) return false;
    let read;
    try {
      read = this.engine.readBatches(this.topic, cursor.partition, cursor.nextOffset, {
        maxBytes: Math.max(1, Math.min(this.creditBytes, this.limits.readChunkBytes, this.sink.deliveryBytesAllowed())),
      });
    } catch (e) {
      if (isSeglogError(e) && e.code === 'OFFSET_OUT_OF_RANGE') {
        // Retention ran between offsets() and the read: the next step sends the gap.
        return true;
      }
      throw e;
    }
    if (read.batches.length === 0) return false;
    assert(read.nextOffset > cursor.nextOffset, () => `engine read at ${cursor.nextOffset} did not advance (next ${read.nextOffset})`);
    // A damaged batch (CORRUPT_RECORD with its range) ends the subscription at the next step, after
    // the intact batches before it went out: the client resubscribes past it if it wants.
    const { parts, bytes, records, nextOffset } = outgoingBatches(
      encodeDeliverHeader(this.id, cursor.partition),
      read.batches,
      this.sink.canDecodeLz4,
      this.topic,
      cursor.partition,
    );
    cursor.nextOffset = Math.max(cursor.nextOffset, nextOffset);
    this.creditBytes -= bytes; // the last batch may overshoot: credit goes negative and later grants repay it
    this.bytesSent += bytes;
    this.sink.sendDelivery(parts, bytes, records);
    return true;
  }
}
