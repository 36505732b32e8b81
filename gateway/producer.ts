// Client-side producer: collects records into one batch per (topic, partition, acks) for up to
// lingerMs or maxBatchBytes, encodes each batch once (optionally LZ4) straight into its PRODUCE
// frame, keeps up to maxInFlightBatches unacknowledged, and resolves every send() with the
// offsets its records got. Order is kept per partition: batches go out in the order they close.
import { partitionForKey } from '../engine/partitioner.js';
import type { RecordInput } from '../engine/types.js';
import { BATCH_HEADER_BYTES, encodeRecordBatch, type Compression } from './batch-codec.js';
import type { SeglogClient } from './client.js';
import { ClientErrorCode, SeglogClientError } from './client-errors.js';
import { loadLz4 } from './lz4.js';
import { FrameType } from './protocol/frame.js';
import { ANY_PARTITION, decodeProduceAck, produceHeaderBytes, writeProduceHeader, type AcksName } from './protocol/produce.js';

export interface ProducerOptions {
  /** How long a batch waits for more records. 0: until the end of the current tick. Default 5. */
  lingerMs?: number;
  /** Close a batch at about this many bytes. Default 512 KiB (never above the server's limit). */
  maxBatchBytes?: number;
  compression?: Compression;
  acks?: AcksName;
  /** Batches sent and not yet acknowledged. Default 32. */
  maxInFlightBatches?: number;
  /** Bytes of records accepted and not yet sent, above which send() waits. Default 32 MiB. */
  maxBufferedBytes?: number;
  /** How long topic metadata (partition counts, for keyed records) is cached. Default 30 s. */
  metadataMaxAgeMs?: number;
}

export interface SendOptions {
  /** Send to this partition. Otherwise: by key hash (Kafka's murmur2), or the server picks for records without key. */
  partition?: number;
  acks?: AcksName;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}

interface SendState {
  results: RecordMetadata[];
  remaining: number;
  settled: boolean;
  resolve: (r: RecordMetadata[]) => void;
  reject: (e: Error) => void;
}

/** Records [batchStart, batchStart+count) of a batch are inputs [inputStart, ...) of one send(). */
interface Range {
  send: SendState;
  inputStart: number;
  batchStart: number;
  count: number;
}

interface OpenBatch {
  topic: string;
  partition: number;
  acks: AcksName;
  records: RecordInput[];
  ranges: Range[];
  estimatedBytes: number;
  worstCaseBytes: number;
  timer: ReturnType<typeof setTimeout> | null;
  scheduled: boolean;
}

function bytesOf(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'string') return v.length;
  if (v instanceof Uint8Array) return v.byteLength;
  return 0;
}

/** Worst-case encoded size: 3 UTF-8 bytes per UTF-16 unit, longest varints. */
function worstBytesOf(v: unknown): number {
  if (typeof v === 'string') return v.length * 3 + 5;
  return bytesOf(v) + 5;
}

/** Sets sizeScratch to the record's estimated and worst-case encoded sizes (no allocation per record). */
const sizeScratch = { estimate: 0, worst: 0 };
function measureRecord(r: RecordInput): void {
  let estimate = 12 + bytesOf(r.key) + bytesOf(r.value);
  let worst = 26 + worstBytesOf(r.key) + worstBytesOf(r.value);
  const h = r.headers;
  if (h !== undefined && h !== null) {
    const list = Array.isArray(h) ? h : Object.entries(h).map(([key, value]) => ({ key, value }));
    for (const x of list) {
      estimate += 2 + bytesOf(x.key) + bytesOf(x.value);
      worst += worstBytesOf(x.key) + worstBytesOf(x.value);
    }
  }
  sizeScratch.estimate = estimate;
  sizeScratch.worst = worst;
}

/** Socket bytes not yet written above which batches wait before going out. */
const SOCKET_HIGH_WATER_BYTES = 8 * 1024 * 1024;

export class Producer {
  private readonly lingerMs: number;
  private readonly maxBatchBytes: number;
  private readonly compression: Compression;
  private readonly acks: AcksName;
  private readonly maxInFlight: number;
  private readonly maxBufferedBytes: number;
  private readonly metadataMaxAgeMs: number;
  private readonly openBatches = new Map<string, OpenBatch>();
  private readonly ready: OpenBatch[] = [];
  private inFlight = 0;
  private bufferedBytes = 0;
  private spaceWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private readonly metadata = new Map<string, { partitions: number; at: number }>();
  private closed = false;
  private pumping = false;

  constructor(
    private readonly client: SeglogClient,
    options: ProducerOptions,
  ) {
    this.lingerMs = options.lingerMs ?? 5;
    this.maxBatchBytes = options.maxBatchBytes ?? 512 * 1024;
    this.compression = options.compression ?? 'none';
    this.acks = options.acks ?? 'written';
    this.maxInFlight = options.maxInFlightBatches ?? 32;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 32 * 1024 * 1024;
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? 30_000;
    if (this.compression !== 'none' && this.compression !== 'lz4') {
      throw new SeglogClientError('INVALID_ARGUMENT', `unknown compression ${JSON.stringify(this.compression)}`);
    }
  }

  /** The server's batch limit, less room for the batch header and LZ4's worst-case growth. */
  private hardLimitBytes(): number {
    const server = this.client.server?.maxBatchBytes ?? 1024 * 1024;
    return Math.floor((server - BATCH_HEADER_BYTES - 64) * 0.99);
  }

  send(topic: string, record: RecordInput, options?: SendOptions): Promise<RecordMetadata>;
  send(topic: string, records: RecordInput[], options?: SendOptions): Promise<RecordMetadata[]>;
  async send(topic: string, input: RecordInput | RecordInput[], options: SendOptions = {}): Promise<RecordMetadata | RecordMetadata[]> {
    const single = !Array.isArray(input);
    const records = single ? [input] : input;
    if (this.closed) throw new SeglogClientError(ClientErrorCode.CLOSED, 'the producer is closed');
    if (records.length === 0) return [];
    if (typeof topic !== 'string') throw new SeglogClientError('INVALID_ARGUMENT', 'topic must be a string');
    if (options.partition !== undefined && !(Number.isInteger(options.partition) && options.partition >= 0)) {
      throw new SeglogClientError('INVALID_ARGUMENT', `partition must be a non-negative integer, got ${String(options.partition)}`);
    }
    if (this.compression === 'lz4' && !(await loadLz4())) {
      throw new SeglogClientError('INVALID_ARGUMENT', 'LZ4 compression requested but lz4js cannot be loaded');
    }
    const acks = options.acks ?? this.acks;
    let partitionCount = 0;
    if (options.partition === undefined && records.some((r) => r?.key !== undefined && r.key !== null)) {
      partitionCount = await this.partitionsOf(topic);
    }
    if (this.bufferedBytes >= this.maxBufferedBytes || this.spaceWaiters.length > 0) {
      // FIFO: a send that has to wait keeps its place ahead of later ones.
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
      if (this.closed) throw new SeglogClientError(ClientErrorCode.CLOSED, 'the producer is closed');
    }
    const results = await new Promise<RecordMetadata[]>((resolve, reject) => {
      const state: SendState = { results: new Array(records.length), remaining: records.length, settled: false, resolve, reject };
      const limit = this.hardLimitBytes();
      const fixedPartition = options.partition ?? ANY_PARTITION;
      const fixedKey = `${acks}\u0000${fixedPartition}\u0000${topic}`;
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        if (r === null || typeof r !== 'object') {
          this.failSend(state, new SeglogClientError('INVALID_RECORD', `record ${i} is not an object`));
          return;
        }
        let partition = fixedPartition;
        let key = fixedKey;
        if (partitionCount > 0 && r.key !== undefined && r.key !== null) {
          partition = partitionForKey(r.key, partitionCount);
          key = `${acks}\u0000${partition}\u0000${topic}`;
        }
        measureRecord(r);
        const sizes = sizeScratch;
        let batch = this.openBatches.get(key);
        if (batch !== undefined && batch.records.length > 0 && batch.worstCaseBytes + sizes.worst > limit) {
          this.closeBatch(batch, key);
          batch = undefined;
        }
        if (batch === undefined) {
          batch = { topic, partition, acks, records: [], ranges: [], estimatedBytes: 0, worstCaseBytes: 0, timer: null, scheduled: false };
          this.openBatches.set(key, batch);
        }
        const last = batch.ranges[batch.ranges.length - 1];
        if (last !== undefined && last.send === state && last.inputStart + last.count === i) last.count++;
        else batch.ranges.push({ send: state, inputStart: i, batchStart: batch.records.length, count: 1 });
        batch.records.push(r);
        batch.estimatedBytes += sizes.estimate;
        batch.worstCaseBytes += sizes.worst;
        this.bufferedBytes += sizes.estimate;
        if (batch.estimatedBytes >= this.maxBatchBytes) this.closeBatch(batch, key);
        else this.scheduleLinger(batch, key);
      }
      this.wakeNext();
    });
    return single ? results[0]! : results;
  }

  private async partitionsOf(topic: string): Promise<number> {
    const cached = this.metadata.get(topic);
    if (cached !== undefined && Date.now() - cached.at < this.metadataMaxAgeMs) return cached.partitions;
    const d = await this.client.describeTopic(topic);
    this.metadata.set(topic, { partitions: d.partitions.length, at: Date.now() });
    return d.partitions.length;
  }

  private scheduleLinger(batch: OpenBatch, key: string): void {
    if (batch.scheduled) return;
    batch.scheduled = true;
    if (this.lingerMs <= 0) queueMicrotask(() => this.closeBatch(batch, key));
    else batch.timer = setTimeout(() => this.closeBatch(batch, key), this.lingerMs);
  }

  /** Closes an open batch: no more records join it; it queues for sending. */
  private closeBatch(batch: OpenBatch, key: string): void {
    if (this.openBatches.get(key) !== batch) return;
    this.openBatches.delete(key);
    if (batch.timer !== null) clearTimeout(batch.timer);
    this.ready.push(batch);
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.ready.length > 0 && this.inFlight < this.maxInFlight) {
        try {
          await this.client.whenOpen();
        } catch (e) {
          for (const b of this.ready.splice(0)) this.failBatch(b, e as Error);
          break;
        }
        // Bounded wait for the socket to drain (browsers have no drain event: poll).
        for (let i = 0; i < 10_000 && this.client.bufferedAmount > SOCKET_HIGH_WATER_BYTES; i++) {
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        const batch = this.ready.shift()!;
        this.transmit(batch);
      }
    } finally {
      this.pumping = false;
    }
    this.checkIdle();
  }

  private transmit(batch: OpenBatch): void {
    let frame: Uint8Array;
    const headroom = produceHeaderBytes(batch.topic);
    try {
      frame = encodeRecordBatch(batch.records, { compression: this.compression, headroomBytes: headroom });
    } catch (e) {
      this.failBatch(batch, e as Error);
      return;
    }
    const estimated = batch.estimatedBytes;
    this.inFlight++;
    this.client
      .request(
        (id) => {
          writeProduceHeader(frame, id, batch.topic, batch.partition, batch.acks);
          return frame;
        },
        FrameType.PRODUCE_ACK,
        decodeProduceAck,
      )
      .then(
        (ack) => {
          for (const range of batch.ranges) {
            const s = range.send;
            if (s.settled) continue;
            for (let j = 0; j < range.count; j++) {
              s.results[range.inputStart + j] = { topic: batch.topic, partition: ack.partition, offset: ack.baseOffset + range.batchStart + j };
            }
            s.remaining -= range.count;
            if (s.remaining === 0) {
              s.settled = true;
              s.resolve(s.results);
            }
          }
        },
        (e: Error) => this.failBatch(batch, e, false),
      )
      .finally(() => {
        this.inFlight--;
        this.release(estimated);
        void this.pump();
      });
  }

  private release(bytes: number): void {
    this.bufferedBytes -= bytes;
    this.wakeNext();
  }

  /** One waiting send at a time gets in while there is room; it wakes the next after adding its records. */
  private wakeNext(): void {
    if (this.bufferedBytes < this.maxBufferedBytes) this.spaceWaiters.shift()?.();
  }

  private failSend(s: SendState, e: Error): void {
    if (s.settled) return;
    s.settled = true;
    s.reject(e);
  }

  /** Fails every send with records in the batch; `release` unless transmit() releases it itself. */
  private failBatch(batch: OpenBatch, e: Error, release = true): void {
    for (const r of batch.ranges) this.failSend(r.send, e);
    if (release) this.release(batch.estimatedBytes);
  }

  private checkIdle(): void {
    if (this.inFlight === 0 && this.ready.length === 0 && this.openBatches.size === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /** Sends every open batch now and resolves once all sent batches are acknowledged (or failed). */
  async flush(): Promise<void> {
    for (const [key, batch] of [...this.openBatches]) this.closeBatch(batch, key);
    if (this.inFlight === 0 && this.ready.length === 0 && this.openBatches.size === 0) return;
    await new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      void this.pump();
    });
  }

  /** @internal The client is gone: fail what has not been sent. */
  failAll(error: Error): void {
    for (const [key, batch] of [...this.openBatches]) {
      this.openBatches.delete(key);
      if (batch.timer !== null) clearTimeout(batch.timer);
      this.failBatch(batch, error);
    }
    for (const b of this.ready.splice(0)) this.failBatch(b, error);
    this.closed = true;
    for (const w of this.spaceWaiters.splice(0)) w();
    this.checkIdle();
  }

  /** Flushes, then refuses further sends. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.client.forgetProducer(this);
  }
}
