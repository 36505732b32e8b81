// Client-side producer: collects records into one batch per (topic, partition, acks) for up to
// lingerMs or maxBatchBytes, encodes each batch once (optionally LZ4) straight into its PRODUCE
// frame, keeps up to maxInFlightBatches unacknowledged, and resolves every send() with the
// offsets its records got. Order is kept per partition: batches go out in the order they close.
import { partitionForKey } from '../engine/partitioner.js';
import type { RecordInput } from '../engine/types.js';
import { BATCH_HEADER_BYTES, encodeRecordBatch, type Compression } from './batch-codec.js';
import type { SeglogClient } from './client.js';
import { ClientErrorCode, SeglogClientError } from './client-errors.js';
import { isLz4Loaded, loadLz4 } from './lz4.js';
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

/** What sendBatch() resolves with: record i of the call got offset baseOffset + i. */
export interface BatchMetadata {
  topic: string;
  partition: number;
  baseOffset: number;
  count: number;
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
  key: string;
  records: RecordInput[];
  /** Array sends. */
  ranges: Range[];
  /** Single-record sends, as parallel arrays (no object per record): index in the batch, settlers. */
  singleAt: number[];
  singleResolve: Array<(m: RecordMetadata) => void>;
  singleReject: Array<(e: Error) => void>;
  /** A sendBatch() call: the whole batch is its records. */
  bulk: { resolve: (m: BatchMetadata) => void; reject: (e: Error) => void } | null;
  estimatedBytes: number;
  worstCaseBytes: number;
  timer: ReturnType<typeof setTimeout> | null;
  scheduled: boolean;
  /** Its linger time is over, but every in-flight slot was taken: it keeps filling until one frees. */
  due: boolean;
  closed: boolean;
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

const NO_OPTIONS: SendOptions = {};

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
  /** Open batches by `${acks}\0${partition}\0${topic}`, in the order they opened. */
  private readonly openBatches = new Map<string, OpenBatch>();
  private readonly ready: OpenBatch[] = [];
  private inFlight = 0;
  private bufferedBytes = 0;
  private spaceWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private readonly metadata = new Map<string, { partitions: number; at: number }>();
  private closed = false;
  private pumping = false;
  /** The last batch a single send() went to, and what it was for: skips the key string and map lookup. */
  private lastBatch: OpenBatch | null = null;

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

  /**
   * Sends one record (resolves with its offset) or an array (resolves with one offset per record,
   * in order). Records are batched with others for up to lingerMs; see sendBatch() for a cheaper
   * call when one answer per call is enough.
   */
  send(topic: string, record: RecordInput, options?: SendOptions): Promise<RecordMetadata>;
  send(topic: string, records: RecordInput[], options?: SendOptions): Promise<RecordMetadata[]>;
  send(topic: string, input: RecordInput | RecordInput[], options: SendOptions = NO_OPTIONS): Promise<RecordMetadata | RecordMetadata[]> {
    if (Array.isArray(input)) return this.sendMany(topic, input, options);
    // Fast path for one record: no async function, no per-record state object.
    const problem = this.checkSend(topic, options);
    if (problem !== null) return Promise.reject(problem);
    const r = input;
    if (r === null || typeof r !== 'object') return Promise.reject(new SeglogClientError('INVALID_RECORD', 'record 0 is not an object'));
    const keyed = options.partition === undefined && r.key !== undefined && r.key !== null;
    if (
      (this.compression === 'lz4' && !isLz4Loaded()) ||
      this.bufferedBytes >= this.maxBufferedBytes ||
      this.spaceWaiters.length > 0 ||
      (keyed && this.cachedPartitions(topic) === 0)
    ) {
      return this.sendMany(topic, [r], options).then((m) => m[0]!);
    }
    const acks = options.acks ?? this.acks;
    const partition = keyed ? partitionForKey(r.key!, this.cachedPartitions(topic)) : (options.partition ?? ANY_PARTITION);
    return new Promise<RecordMetadata>((resolve, reject) => {
      const batch = this.batchFor(topic, partition, acks, r);
      batch.singleAt.push(batch.records.length);
      batch.singleResolve.push(resolve);
      batch.singleReject.push(reject);
      this.addRecord(batch, r);
    });
  }

  /**
   * Sends `records` as one record batch to one partition (`options.partition`, else the server
   * picks; keys do not route here) and resolves once with where they went: record i got offset
   * baseOffset + i. No promise or result object per record. Rejects with BATCH_TOO_LARGE when the
   * records do not fit in one batch of the server's maxBatchBytes.
   */
  sendBatch(topic: string, records: RecordInput[], options: SendOptions = NO_OPTIONS): Promise<BatchMetadata> {
    const problem = this.checkSend(topic, options);
    if (problem !== null) return Promise.reject(problem);
    if (!Array.isArray(records)) return Promise.reject(new SeglogClientError('INVALID_ARGUMENT', 'sendBatch() takes an array of records'));
    if (records.length === 0) return Promise.resolve({ topic, partition: options.partition ?? -1, baseOffset: -1, count: 0 });
    let estimated = 0;
    let worst = 0;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (r === null || typeof r !== 'object') return Promise.reject(new SeglogClientError('INVALID_RECORD', `record ${i} is not an object`));
      measureRecord(r);
      estimated += sizeScratch.estimate;
      worst += sizeScratch.worst;
    }
    // Queued in the caller's tick (so it keeps its place among send() calls) unless it must wait.
    if ((this.compression === 'lz4' && !isLz4Loaded()) || this.bufferedBytes >= this.maxBufferedBytes || this.spaceWaiters.length > 0) {
      return (async () => {
        await this.ensureLz4();
        await this.waitForSpace();
        return this.enqueueBulk(topic, records, options, estimated, worst);
      })();
    }
    return this.enqueueBulk(topic, records, options, estimated, worst);
  }

  private enqueueBulk(topic: string, records: RecordInput[], options: SendOptions, estimated: number, worst: number): Promise<BatchMetadata> {
    const acks = options.acks ?? this.acks;
    const partition = options.partition ?? ANY_PARTITION;
    return new Promise<BatchMetadata>((resolve, reject) => {
      const key = `${acks}\u0000${partition}\u0000${topic}`;
      // Order per partition: what was sent before this call goes out first.
      const open = this.openBatches.get(key);
      if (open !== undefined) this.closeBatch(open);
      const batch = this.newBatch(topic, partition, acks, key);
      batch.records = records;
      batch.bulk = { resolve, reject };
      batch.estimatedBytes = estimated;
      batch.worstCaseBytes = worst;
      batch.closed = true;
      this.bufferedBytes += estimated;
      this.ready.push(batch);
      void this.pump();
      this.wakeNext();
    });
  }

  private checkSend(topic: string, options: SendOptions): SeglogClientError | null {
    if (this.closed) return new SeglogClientError(ClientErrorCode.CLOSED, 'the producer is closed');
    if (typeof topic !== 'string') return new SeglogClientError('INVALID_ARGUMENT', 'topic must be a string');
    if (options.partition !== undefined && !(Number.isInteger(options.partition) && options.partition >= 0)) {
      return new SeglogClientError('INVALID_ARGUMENT', `partition must be a non-negative integer, got ${String(options.partition)}`);
    }
    return null;
  }

  private async ensureLz4(): Promise<void> {
    if (this.compression === 'lz4' && !(await loadLz4())) {
      throw new SeglogClientError('INVALID_ARGUMENT', 'LZ4 compression requested but no LZ4 codec can be loaded');
    }
  }

  private async waitForSpace(): Promise<void> {
    if (this.bufferedBytes >= this.maxBufferedBytes || this.spaceWaiters.length > 0) {
      // FIFO: a send that has to wait keeps its place ahead of later ones.
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
      if (this.closed) throw new SeglogClientError(ClientErrorCode.CLOSED, 'the producer is closed');
    }
  }

  private async sendMany(topic: string, records: RecordInput[], options: SendOptions): Promise<RecordMetadata[]> {
    const problem = this.checkSend(topic, options);
    if (problem !== null) throw problem;
    if (records.length === 0) return [];
    await this.ensureLz4();
    const acks = options.acks ?? this.acks;
    let partitionCount = 0;
    if (options.partition === undefined && records.some((r) => r?.key !== undefined && r.key !== null)) {
      partitionCount = await this.partitionsOf(topic);
    }
    await this.waitForSpace();
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      const state: SendState = { results: new Array(records.length), remaining: records.length, settled: false, resolve, reject };
      const fixedPartition = options.partition ?? ANY_PARTITION;
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        if (r === null || typeof r !== 'object') {
          this.failSend(state, new SeglogClientError('INVALID_RECORD', `record ${i} is not an object`));
          return;
        }
        const partition = partitionCount > 0 && r.key !== undefined && r.key !== null ? partitionForKey(r.key, partitionCount) : fixedPartition;
        const batch = this.batchFor(topic, partition, acks, r);
        const last = batch.ranges[batch.ranges.length - 1];
        if (last !== undefined && last.send === state && last.inputStart + last.count === i && last.batchStart + last.count === batch.records.length) last.count++;
        else batch.ranges.push({ send: state, inputStart: i, batchStart: batch.records.length, count: 1 });
        this.addRecord(batch, r);
      }
      this.wakeNext();
    });
  }

  private cachedPartitions(topic: string): number {
    const cached = this.metadata.get(topic);
    return cached !== undefined && Date.now() - cached.at < this.metadataMaxAgeMs ? cached.partitions : 0;
  }

  private async partitionsOf(topic: string): Promise<number> {
    const cached = this.cachedPartitions(topic);
    if (cached > 0) return cached;
    const d = await this.client.describeTopic(topic);
    this.metadata.set(topic, { partitions: d.partitions.length, at: Date.now() });
    return d.partitions.length;
  }

  private newBatch(topic: string, partition: number, acks: AcksName, key: string): OpenBatch {
    return {
      topic,
      partition,
      acks,
      key,
      records: [],
      ranges: [],
      singleAt: [],
      singleResolve: [],
      singleReject: [],
      bulk: null,
      estimatedBytes: 0,
      worstCaseBytes: 0,
      timer: null,
      scheduled: false,
      due: false,
      closed: false,
    };
  }

  /** The open batch `r` joins (closing the current one first when `r` would overflow it); measures `r` into sizeScratch. */
  private batchFor(topic: string, partition: number, acks: AcksName, r: RecordInput): OpenBatch {
    measureRecord(r);
    let batch = this.lastBatch;
    if (batch === null || batch.closed || batch.topic !== topic || batch.partition !== partition || batch.acks !== acks) {
      const key = `${acks}\u0000${partition}\u0000${topic}`;
      batch = this.openBatches.get(key) ?? null;
      if (batch === null) {
        batch = this.newBatch(topic, partition, acks, key);
        this.openBatches.set(key, batch);
      }
    }
    if (batch.records.length > 0 && batch.worstCaseBytes + sizeScratch.worst > this.hardLimitBytes()) {
      this.closeBatch(batch);
      batch = this.newBatch(topic, partition, acks, batch.key);
      this.openBatches.set(batch.key, batch);
    }
    this.lastBatch = batch;
    return batch;
  }

  /** Adds `r` (measured by batchFor) to `batch`; closes the batch when full, else arms its linger. */
  private addRecord(batch: OpenBatch, r: RecordInput): void {
    batch.records.push(r);
    batch.estimatedBytes += sizeScratch.estimate;
    batch.worstCaseBytes += sizeScratch.worst;
    this.bufferedBytes += sizeScratch.estimate;
    if (batch.estimatedBytes >= this.maxBatchBytes) this.closeBatch(batch);
    else if (!batch.scheduled) this.scheduleLinger(batch);
  }

  private scheduleLinger(batch: OpenBatch): void {
    batch.scheduled = true;
    if (this.lingerMs <= 0) queueMicrotask(() => this.lingerOver(batch));
    else batch.timer = setTimeout(() => this.lingerOver(batch), this.lingerMs);
  }

  /**
   * A batch's linger is over. It goes out now if an in-flight slot is free; otherwise it stays
   * open and keeps filling (up to maxBatchBytes) until an ack frees a slot: under load, batches
   * grow instead of queueing up small.
   */
  private lingerOver(batch: OpenBatch): void {
    batch.timer = null;
    if (batch.closed) return;
    if (this.inFlight + this.ready.length < this.maxInFlight) this.closeBatch(batch);
    else batch.due = true;
  }

  /** Closes an open batch: no more records join it; it queues for sending. */
  private closeBatch(batch: OpenBatch): void {
    if (batch.closed) return;
    batch.closed = true;
    if (this.openBatches.get(batch.key) === batch) this.openBatches.delete(batch.key);
    if (batch.timer !== null) clearTimeout(batch.timer);
    batch.timer = null;
    this.ready.push(batch);
    void this.pump();
  }

  /** Closes batches whose linger is over, oldest first, while in-flight slots are free. */
  private closeDueBatches(): void {
    if (this.openBatches.size === 0) return;
    for (const batch of this.openBatches.values()) {
      if (this.inFlight + this.ready.length >= this.maxInFlight) return;
      if (batch.due) this.closeBatch(batch);
    }
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
    this.closeDueBatches();
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
    const serverLimit = this.client.server?.maxBatchBytes ?? Infinity;
    if (frame.byteLength - headroom > serverLimit) {
      // Only a sendBatch() can get here (send() splits by worst-case size): the server would refuse it.
      this.failBatch(batch, new SeglogClientError('BATCH_TOO_LARGE', `${batch.records.length} records encode to ${frame.byteLength - headroom} bytes, over the server's maxBatchBytes ${serverLimit}: send them in smaller calls`));
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
        (ack) => this.settleBatch(batch, ack.partition, ack.baseOffset),
        (e: Error) => this.failBatch(batch, e, false),
      )
      .finally(() => {
        this.inFlight--;
        this.release(estimated);
        this.closeDueBatches();
        void this.pump();
      });
  }

  private settleBatch(batch: OpenBatch, partition: number, baseOffset: number): void {
    const topic = batch.topic;
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
    batch.bulk?.reject(e);
    for (const reject of batch.singleReject) reject(e);
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
    for (const batch of [...this.openBatches.values()]) this.closeBatch(batch);
    if (this.inFlight === 0 && this.ready.length === 0 && this.openBatches.size === 0) return;
    await new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      void this.pump();
    });
  }

  /** @internal The client is gone: fail what has not been sent. */
  failAll(error: Error): void {
    for (const batch of [...this.openBatches.values()]) {
      this.openBatches.delete(batch.key);
      batch.closed = true;
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
