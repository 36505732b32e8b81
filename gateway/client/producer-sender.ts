// The producer's sender: encodes closed batches (once, straight into their PRODUCE frame), keeps
// up to maxInFlightBatches unacknowledged, and settles every call with the offsets its records got.
// Batches go out in the order they closed.
import { encodeRecordBatch, type Compression } from './record-codec.js';
import { SeglogClientError } from './client-errors.js';
import type { ClientConnection } from './connection.js';
import { SOCKET_DRAIN_POLLS, SOCKET_DRAIN_POLL_MS, SOCKET_HIGH_WATER_BYTES } from './limits.js';
import { isLz4Loaded } from './lz4.js';
import type { OpenBatch, SendState } from './producer-accumulator.js';
import { FrameType } from '../protocol/frame.js';
import { ANY_PARTITION, decodeProduceAck, produceHeaderBytes, writeProduceHeader } from '../protocol/produce.js';

/** What the sender tells the rest of the producer. */
export interface SenderHooks {
  /** A batch's bytes left the buffer (acknowledged or failed). */
  release(bytes: number): void;
  /** An ack freed a slot, or the queue ran dry: close due batches, report idleness. */
  afterSend(): void;
  /** The server refused a batch for `topic` with `code`, or picked its partition (`code` null). */
  topicChanged(topic: string, code: string | null): void;
}

export class Sender {
  private readonly ready: OpenBatch[] = [];
  private inFlight = 0;
  private pumping = false;

  constructor(
    private readonly connection: ClientConnection,
    /** A fixed codec, or where to learn each topic's. */
    private readonly compression: Compression | ((topic: string) => Compression | Promise<Compression>),
    private readonly maxInFlight: number,
    private readonly hooks: SenderHooks,
  ) {}

  /** A slot is free for one more batch (counting those queued to go). */
  hasFreeSlot(): boolean {
    return this.inFlight + this.ready.length < this.maxInFlight;
  }

  get idle(): boolean {
    return this.inFlight === 0 && this.ready.length === 0;
  }

  enqueue(batch: OpenBatch): void {
    this.ready.push(batch);
    void this.pump();
  }

  /** Fails every batch not yet sent. */
  failQueued(error: Error): void {
    for (const b of this.ready.splice(0)) this.fail(b, error);
  }

  async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.ready.length > 0 && this.inFlight < this.maxInFlight) {
        try {
          await this.connection.whenOpen();
        } catch (e) {
          this.failQueued(e as Error);
          break;
        }
        // Bounded wait for the socket to drain (browsers have no drain event: poll).
        for (let i = 0; i < SOCKET_DRAIN_POLLS && this.connection.bufferedAmount > SOCKET_HIGH_WATER_BYTES; i++) {
          await new Promise((resolve) => setTimeout(resolve, SOCKET_DRAIN_POLL_MS));
        }
        const batch = this.ready.shift()!;
        // The topic's codec: at once when cached, else one DESCRIBE awaited (the loop keeps batches in order).
        let compression = typeof this.compression === 'string' ? this.compression : this.compression(batch.topic);
        if (typeof compression !== 'string') compression = await compression;
        this.transmit(batch, compression === 'lz4' && !isLz4Loaded() ? 'none' : compression);
      }
    } finally {
      this.pumping = false;
    }
    this.hooks.afterSend();
  }

  private transmit(batch: OpenBatch, compression: Compression): void {
    let frame: Uint8Array;
    const headroom = produceHeaderBytes(batch.topic);
    try {
      frame = encodeRecordBatch(batch.records, { compression, headroomBytes: headroom });
    } catch (e) {
      this.fail(batch, e as Error);
      return;
    }
    const serverLimit = this.connection.server?.maxBatchBytes ?? Infinity;
    if (frame.byteLength - headroom > serverLimit) {
      // Only a sendBatch() can get here (send() splits by worst-case size): the server would refuse it.
      this.fail(batch, new SeglogClientError('BATCH_TOO_LARGE', `${batch.records.length} records encode to ${frame.byteLength - headroom} bytes, over the server's maxBatchBytes ${serverLimit}: send them in smaller calls`));
      return;
    }
    const estimated = batch.estimatedBytes;
    this.inFlight++;
    this.connection
      .request(
        (id) => {
          writeProduceHeader(frame, id, batch.topic, batch.partition, batch.acks);
          return frame;
        },
        FrameType.PRODUCE_ACK,
        decodeProduceAck,
      )
      .then(
        (ack) => this.settle(batch, ack.partition, ack.baseOffset),
        (e: Error) => this.fail(batch, e, false),
      )
      .finally(() => {
        this.inFlight--;
        this.hooks.release(estimated);
        this.hooks.afterSend();
        void this.pump();
      });
  }

  private settle(batch: OpenBatch, partition: number, baseOffset: number): void {
    const topic = batch.topic;
    // The server picked because the topic did not exist; now it does (auto-created): route ourselves.
    if (batch.partition === ANY_PARTITION) this.hooks.topicChanged(topic, null);
    if (batch.bulk !== null) {
      batch.bulk.resolve({ topic, partition, baseOffset, count: batch.records.length });
      return;
    }
    const at = batch.singleAt;
    const resolves = batch.singleResolve;
    for (let j = 0; j < at.length; j++) resolves[j]!({ topic, partition, offset: baseOffset + at[j]! });
    for (const range of batch.ranges) {
      const s = range.send;
      if (s.settled) continue;
      for (let j = 0; j < range.count; j++) {
        s.results[range.inputStart + j] = { topic, partition, offset: baseOffset + range.batchStart + j };
      }
      s.remaining -= range.count;
      if (s.remaining === 0) {
        s.settled = true;
        s.resolve(s.results);
      }
    }
  }

  /** Fails every call with records in the batch; `release` unless transmit() releases it itself. */
  fail(batch: OpenBatch, e: Error, release = true): void {
    const code = (e as SeglogClientError).code;
    if (typeof code === 'string') this.hooks.topicChanged(batch.topic, code);
    batch.bulk?.reject(e);
    for (const reject of batch.singleReject) reject(e);
    for (const r of batch.ranges) failSend(r.send, e);
    if (release) this.hooks.release(batch.estimatedBytes);
  }
}

function failSend(s: SendState, e: Error): void {
  if (s.settled) return;
  s.settled = true;
  s.reject(e);
}
