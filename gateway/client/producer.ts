// Client-side producer: collects records into one batch per (topic, partition, acks) for up to
// lingerMs or maxBatchBytes, encodes each batch once (optionally LZ4) straight into its PRODUCE
// frame, keeps up to maxInFlightBatches unacknowledged, and resolves every send() with the
// offsets its records got.
//
// Order: records sent to one partition are stored in the order of the send()/sendBatch() calls.
// Every batch names its partition (keys: murmur2 as Kafka; no key: the sticky partitioner below),
// a partition has at most one open batch, batches go out in the order they close, and the server
// appends one connection's batches for a partition in the order it reads them. Calls that must
// wait (topic metadata, LZ4 loading, buffer space) wait in one FIFO queue, and later calls queue
// behind them, so no call overtakes an earlier one.
//
// Records without a key and without an explicit partition: sticky partitioning, as Kafka's
// default since 2.4. All of them join the open batch of one partition per topic; when that batch
// closes (linger over or full), the next keyless record moves on to the next partition (round
// robin; the first one is picked at random). Fewer, larger batches than per-record round robin,
// spread evenly over time. Only when the topic does not exist yet (a server with auto-create) do
// keyless records go out with partition -1 and the server picks.
import { partitionForKey } from '../../engine/format/partitioner.js';
import type { RecordInput } from '../../engine/format/record-types.js';
import { BATCH_HEADER_BYTES, encodeRecordBatch, type Compression } from './record-codec.js';
import type { SeglogClient } from './client.js';
import { ClientErrorCode, SeglogClientError } from './client-errors.js';
import { isLz4Loaded, loadLz4 } from './lz4.js';
import { FrameType } from '../protocol/frame.js';
import { ANY_PARTITION, decodeProduceAck, produceHeaderBytes, writeProduceHeader, type AcksName } from '../protocol/produce.js';

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
  /** Send to this partition. Otherwise: by key hash (Kafka's murmur2); records without key: the sticky partitioner (see Producer). */
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
  /** Partition counts by topic; 0: the server said the topic does not exist. */
  private readonly metadata = new Map<string, { partitions: number; at: number }>();
  /** Per topic: the partition keyless records stick to, and the batch they fill there. */
  private readonly sticky = new Map<string, { partition: number; batch: OpenBatch | null }>();
  /** Calls waiting in the admission queue (metadata, LZ4, space): later calls queue behind them. */
  private pendingAdmissions = 0;
  private admissionTail: Promise<void> = Promise.resolve();
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
    if (this.acks !== 'written' && this.acks !== 'flushed') {
      throw new SeglogClientError('INVALID_ARGUMENT', `acks must be "written" or "flushed", got ${JSON.stringify(this.acks)}`);
    }
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
    const routed = options.partition === undefined;
    const keyed = routed && r.key !== undefined && r.key !== null;
    const count = routed ? this.cachedPartitions(topic) : 1;
    if (!this.canEnqueueNow() || count < 0 || (keyed && count === 0)) {
      return this.sendMany(topic, [r], options).then((m) => m[0]!);
    }
    const acks = options.acks ?? this.acks;
    const partition = !routed ? options.partition! : keyed ? partitionForKey(r.key!, count) : this.keylessPartition(topic, count);
    return new Promise<RecordMetadata>((resolve, reject) => {
      const batch = this.batchFor(topic, partition, acks, r);
      if (routed && !keyed) this.stick(topic, batch);
      batch.singleAt.push(batch.records.length);
      batch.singleResolve.push(resolve);
      batch.singleReject.push(reject);
      this.addRecord(batch, r);
    });
  }

  /**
   * Sends `records` as one record batch to one partition and resolves once with where they went:
   * record i got offset baseOffset + i. The partition: `options.partition`, else the sticky
   * partitioner's current one for the topic (the batch closes at once, so the next keyless records
   * move on to the next partition); keys do not route here. Order with other calls is kept as for
   * send(): the open batch of that partition goes out first. No promise or result object per
   * record. Rejects with BATCH_TOO_LARGE when the records do not fit in one batch of the server's
   * maxBatchBytes.
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
    const routed = options.partition === undefined;
    let count = routed ? this.cachedPartitions(topic) : 1;
    // Queued in the caller's tick (so it keeps its place among send() calls) unless it must wait.
    if (this.canEnqueueNow() && count >= 0) return this.enqueueBulk(topic, records, options, estimated, worst, count);
    return this.admit(
      async () => {
        await this.ensureLz4();
        if (routed) count = await this.routingPartitions(topic, false);
        await this.waitForSpace();
      },
      () => this.enqueueBulk(topic, records, options, estimated, worst, count),
    );
  }

  private enqueueBulk(topic: string, records: RecordInput[], options: SendOptions, estimated: number, worst: number, partitionCount: number): Promise<BatchMetadata> {
    const acks = options.acks ?? this.acks;
    const routed = options.partition === undefined;
    const partition = !routed ? options.partition! : partitionCount > 0 ? this.keylessPartition(topic, partitionCount) : ANY_PARTITION;
    return new Promise<BatchMetadata>((resolve, reject) => {
      const key = `${acks}\u0000${partition}\u0000${topic}`;
      // Order per partition: what was sent before this call goes out first.
      const open = this.openBatches.get(key);
      if (open !== undefined) this.closeBatch(open);
      this.closeOtherAcks(topic, partition, acks);
      const batch = this.newBatch(topic, partition, acks, key);
      batch.records = records;
      batch.bulk = { resolve, reject };
      batch.estimatedBytes = estimated;
      batch.worstCaseBytes = worst;
      batch.closed = true;
      if (routed && partition !== ANY_PARTITION) this.stick(topic, batch);
      this.bufferedBytes += estimated;
      this.ready.push(batch);
      void this.pump();
      this.wakeNext();
    });
  }

  private checkSend(topic: string, options: SendOptions): SeglogClientError | null {
    if (this.closed) return new SeglogClientError(ClientErrorCode.CLOSED, 'the producer is closed');
    if (typeof topic !== 'string') return new SeglogClientError('INVALID_ARGUMENT', 'topic must be a string');
    // A typo ('all', 'flush') must not silently downgrade durability to 'written'.
    if (options.acks !== undefined && options.acks !== 'written' && options.acks !== 'flushed') {
      return new SeglogClientError('INVALID_ARGUMENT', `acks must be "written" or "flushed", got ${JSON.stringify(options.acks)}`);
    }
    if (options.partition !== undefined && !(Number.isInteger(options.partition) && options.partition >= 0)) {
      return new SeglogClientError('INVALID_ARGUMENT', `partition must be a non-negative integer, got ${String(options.partition)}`);
    }
    return null;
  }

  /** True when a call can queue its records in the caller's tick: nothing to wait for, nobody waiting ahead. */
  private canEnqueueNow(): boolean {
    return this.pendingAdmissions === 0 && this.bufferedBytes < this.maxBufferedBytes && (this.compression !== 'lz4' || isLz4Loaded());
  }

  /**
   * Runs `prepare` (which may wait) after every earlier admission, then `enqueue` right away, in
   * the same turn: calls that had to wait queue their records in call order, and calls made
   * meanwhile wait behind them (canEnqueueNow() is false while any is pending).
   */
  private admit<T>(prepare: () => Promise<void>, enqueue: () => Promise<T>): Promise<T> {
    this.pendingAdmissions++;
    let result: Promise<T> | null = null;
    const turn = this.admissionTail.then(async () => {
      try {
        if (this.closed) throw new SeglogClientError(ClientErrorCode.CLOSED, 'the producer is closed');
        await prepare();
        if (this.closed) throw new SeglogClientError(ClientErrorCode.CLOSED, 'the producer is closed');
        result = enqueue();
      } finally {
        this.pendingAdmissions--;
      }
    });
    this.admissionTail = turn.catch(() => undefined);
    return turn.then(() => result!);
  }

  private async ensureLz4(): Promise<void> {
    if (this.compression === 'lz4' && !(await loadLz4())) {
      throw new SeglogClientError('INVALID_ARGUMENT', 'LZ4 compression requested but no LZ4 codec can be loaded');
    }
  }

  private async waitForSpace(): Promise<void> {
    // Only the head of the admission queue waits here; the others wait behind it.
    if (this.bufferedBytes >= this.maxBufferedBytes) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
      if (this.closed) throw new SeglogClientError(ClientErrorCode.CLOSED, 'the producer is closed');
    }
  }

  private sendMany(topic: string, records: RecordInput[], options: SendOptions): Promise<RecordMetadata[]> {
    const problem = this.checkSend(topic, options);
    if (problem !== null) return Promise.reject(problem);
    if (records.length === 0) return Promise.resolve([]);
    for (let i = 0; i < records.length; i++) {
      const r = records[i];
      // Refused before any record of the call is queued: a rejected call stores nothing.
      if (r === null || typeof r !== 'object') return Promise.reject(new SeglogClientError('INVALID_RECORD', `record ${i} is not an object`));
    }
    const acks = options.acks ?? this.acks;
    const routed = options.partition === undefined;
    const anyKeyed = routed && records.some((r) => r.key !== undefined && r.key !== null);
    let count = routed ? this.cachedPartitions(topic) : 1;
    if (this.canEnqueueNow() && count >= (anyKeyed ? 1 : 0)) return this.enqueueMany(topic, records, options.partition, acks, count);
    return this.admit(
      async () => {
        await this.ensureLz4();
        if (routed) count = await this.routingPartitions(topic, anyKeyed);
        await this.waitForSpace();
      },
      () => this.enqueueMany(topic, records, options.partition, acks, count),
    );
  }

  /** Queues checked records; `partitionCount` > 0 unless a partition is given or no record has a key. */
  private enqueueMany(topic: string, records: RecordInput[], fixedPartition: number | undefined, acks: AcksName, partitionCount: number): Promise<RecordMetadata[]> {
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      const state: SendState = { results: new Array(records.length), remaining: records.length, settled: false, resolve, reject };
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        let partition: number;
        let keyless = false;
        if (fixedPartition !== undefined) partition = fixedPartition;
        else if (r.key !== undefined && r.key !== null) partition = partitionForKey(r.key, partitionCount);
        else {
          keyless = partitionCount > 0;
          partition = keyless ? this.keylessPartition(topic, partitionCount) : ANY_PARTITION;
        }
        const batch = this.batchFor(topic, partition, acks, r);
        if (keyless) this.stick(topic, batch);
        const last = batch.ranges[batch.ranges.length - 1];
        if (last !== undefined && last.send === state && last.inputStart + last.count === i && last.batchStart + last.count === batch.records.length) last.count++;
        else batch.ranges.push({ send: state, inputStart: i, batchStart: batch.records.length, count: 1 });
        this.addRecord(batch, r);
      }
      this.wakeNext();
    });
  }

  /** The partition keyless records of `topic` go to now: moves on once the batch they filled closed. */
  private keylessPartition(topic: string, partitionCount: number): number {
    let s = this.sticky.get(topic);
    if (s === undefined) {
      s = { partition: Math.floor(Math.random() * partitionCount), batch: null };
      this.sticky.set(topic, s);
    } else if (s.batch !== null && s.batch.closed) {
      s.partition = s.partition + 1;
      s.batch = null;
    }
    if (s.partition >= partitionCount) s.partition %= partitionCount;
    return s.partition;
  }

  private stick(topic: string, batch: OpenBatch): void {
    const s = this.sticky.get(topic);
    if (s !== undefined) s.batch = batch;
  }

  /** Fresh partition count: > 0; 0 when the server said the topic does not exist; -1 when not known. */
  private cachedPartitions(topic: string): number {
    const cached = this.metadata.get(topic);
    return cached !== undefined && Date.now() - cached.at < this.metadataMaxAgeMs ? cached.partitions : -1;
  }

  /**
   * The topic's partition count, from the server when not cached. A topic that does not exist
   * gives 0 (keyless records then let the server pick, which creates it on an auto-create server),
   * or TOPIC_NOT_FOUND when `mustExist` (keyed records need the count).
   */
  private async routingPartitions(topic: string, mustExist: boolean): Promise<number> {
    const cached = this.cachedPartitions(topic);
    if (cached > 0 || (cached === 0 && !mustExist)) return cached;
    let partitions: number;
    try {
      partitions = (await this.client.describeTopic(topic)).partitions.length;
    } catch (e) {
      if ((e as SeglogClientError).code !== 'TOPIC_NOT_FOUND' || mustExist) throw e;
      partitions = 0;
    }
    this.metadata.set(topic, { partitions, at: Date.now() });
    return partitions;
  }

  /** Forget what we know of the topic (after the server refused a batch for it). */
  private forgetTopic(topic: string): void {
    this.metadata.delete(topic);
    this.sticky.delete(topic);
  }

  /** A batch for (topic, partition) under other acks is closed first: one open batch per partition keeps order. */
  private closeOtherAcks(topic: string, partition: number, acks: AcksName): void {
    const other: AcksName = acks === 'written' ? 'flushed' : 'written';
    const open = this.openBatches.get(`${other}\u0000${partition}\u0000${topic}`);
    if (open !== undefined) this.closeBatch(open);
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
        this.closeOtherAcks(topic, partition, acks);
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
    // The server picked because the topic did not exist; now it does (auto-created): route ourselves.
    if (batch.partition === ANY_PARTITION && this.metadata.get(topic)?.partitions === 0) this.metadata.delete(topic);
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
    const code = (e as SeglogClientError).code;
    // The topic was deleted or shrunk (or recreated): ask for its partition count again.
    if (code === 'TOPIC_NOT_FOUND' || code === 'PARTITION_NOT_FOUND') this.forgetTopic(batch.topic);
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
    // Calls still waiting to queue their records (topic metadata, LZ4, space) are part of the flush.
    for (let i = 0; i < 1000 && this.pendingAdmissions > 0; i++) await this.admissionTail;
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
