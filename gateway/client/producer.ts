// Client-side producer: takes send()/sendBatch() calls, routes their records to partitions, and
// resolves every call with the offsets its records got. The work is split by job:
//   admission-queue.ts      calls that must wait (metadata, LZ4, buffer space), in one bounded FIFO
//   metadata-cache.ts       partition counts per topic, for keyed records
//   sticky-partitioner.ts   where records without a key go
//   producer-accumulator.ts open batches, one per (topic, partition, acks), linger and size
//   producer-sender.ts      encoding, in-flight batches, acks
//
// Order: records sent to one partition are stored in the order of the send()/sendBatch() calls.
// Every batch names its partition (keys: murmur2 as Kafka; no key: the sticky partitioner), a
// partition has at most one open batch, batches go out in the order they close, and the server
// appends one connection's batches for a partition in the order it reads them. Calls that must
// wait do so in the admission queue, and later calls queue behind them, so no call overtakes an
// earlier one. Only when the topic does not exist yet (a server with auto-create) do keyless
// records go out with partition -1 and the server picks.
import { partitionForKey } from '../../engine/format/partitioner.js';
import type { RecordInput } from '../../engine/format/record-types.js';
import { AdmissionQueue } from './admission-queue.js';
import { BATCH_HEADER_BYTES, type Compression } from './record-codec.js';
import { ClientErrorCode, SeglogClientError } from './client-errors.js';
import type { ClientConnection } from './connection.js';
import {
  ASSUMED_SERVER_MAX_BATCH_BYTES,
  BATCH_LIMIT_SLACK_BYTES,
  DEFAULT_LINGER_MS,
  DEFAULT_MAX_BLOCK_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_IN_FLIGHT_BATCHES,
  DEFAULT_MAX_QUEUED_RECORDS,
  DEFAULT_METADATA_MAX_AGE_MS,
  DEFAULT_PRODUCER_MAX_BATCH_BYTES,
  FLUSH_ADMISSION_ROUNDS,
} from './limits.js';
import { isLz4Loaded, loadLz4 } from './lz4.js';
import { MetadataCache } from './metadata-cache.js';
import { Accumulator, measureRecord, sizeScratch, type SendState } from './producer-accumulator.js';
import { Sender } from './producer-sender.js';
import type { BatchMetadata, ProducerOptions, RecordMetadata, SendOptions } from './producer-types.js';
import { StickyPartitioner } from './sticky-partitioner.js';
import { ANY_PARTITION, type AcksName } from '../protocol/produce.js';

export type { BatchMetadata, ProducerOptions, RecordMetadata, SendOptions } from './producer-types.js';

const NO_OPTIONS: SendOptions = {};

function positiveInteger(name: string, value: number): number {
  if (!(Number.isSafeInteger(value) && value > 0)) throw new SeglogClientError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(value)}`);
  return value;
}

export class Producer {
  /** null: each topic's own setting. */
  private readonly compression: Compression | null;
  private readonly acks: AcksName;
  private readonly maxBufferedBytes: number;
  private readonly metadata: MetadataCache;
  private readonly sticky = new StickyPartitioner();
  private readonly accumulator: Accumulator;
  private readonly sender: Sender;
  private readonly admission: AdmissionQueue;
  private spaceWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly client: ClientConnection,
    options: ProducerOptions,
    /** Called once close() is done (the client stops tracking this producer). */
    private readonly onClosed: () => void = () => {},
  ) {
    this.compression = options.compression ?? null;
    this.acks = options.acks ?? 'written';
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    if (this.acks !== 'written' && this.acks !== 'flushed') {
      throw new SeglogClientError('INVALID_ARGUMENT', `acks must be "written" or "flushed", got ${JSON.stringify(this.acks)}`);
    }
    if (this.compression !== null && this.compression !== 'none' && this.compression !== 'lz4') {
      throw new SeglogClientError('INVALID_ARGUMENT', `unknown compression ${JSON.stringify(this.compression)}`);
    }
    this.metadata = new MetadataCache(client, options.metadataMaxAgeMs ?? DEFAULT_METADATA_MAX_AGE_MS);
    this.sender = new Sender(client, this.compression ?? ((topic) => this.metadata.compression(topic)), options.maxInFlightBatches ?? DEFAULT_MAX_IN_FLIGHT_BATCHES, {
      release: (bytes) => {
        this.accumulator.bufferedBytes -= bytes;
        this.wakeNext();
      },
      afterSend: () => {
        this.accumulator.closeDue();
        this.checkIdle();
      },
      topicChanged: (topic, code) => {
        if (code === null) {
          if (this.metadata.knownAbsent(topic)) this.metadata.forget(topic);
        } else if (code === 'TOPIC_NOT_FOUND' || code === 'PARTITION_NOT_FOUND') {
          // The topic was deleted or shrunk (or recreated): ask for its partition count again.
          this.metadata.forget(topic);
          this.sticky.forget(topic);
        }
      },
    });
    this.accumulator = new Accumulator(
      options.lingerMs ?? DEFAULT_LINGER_MS,
      options.maxBatchBytes ?? DEFAULT_PRODUCER_MAX_BATCH_BYTES,
      () => this.hardLimitBytes(),
      { closed: (batch) => this.sender.enqueue(batch), hasFreeSlot: () => this.sender.hasFreeSlot() },
    );
    this.admission = new AdmissionQueue(
      positiveInteger('maxQueuedRecords', options.maxQueuedRecords ?? DEFAULT_MAX_QUEUED_RECORDS),
      positiveInteger('maxBlockMs', options.maxBlockMs ?? DEFAULT_MAX_BLOCK_MS),
      () => (this.closed ? this.closedError() : null),
    );
  }

  private closedError(): SeglogClientError {
    return new SeglogClientError(ClientErrorCode.CLOSED, 'the producer is closed');
  }

  /** The server's batch limit, less room for the batch header and LZ4's worst-case growth. */
  private hardLimitBytes(): number {
    const server = this.client.server?.maxBatchBytes ?? ASSUMED_SERVER_MAX_BATCH_BYTES;
    return Math.floor((server - BATCH_HEADER_BYTES - BATCH_LIMIT_SLACK_BYTES) * 0.99);
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
    const count = routed ? this.metadata.cached(topic) : 1;
    if (!this.canEnqueueNow() || count < 0 || (keyed && count === 0)) {
      return this.sendMany(topic, [r], options).then((m) => m[0]!);
    }
    const acks = options.acks ?? this.acks;
    const partition = !routed ? options.partition! : keyed ? partitionForKey(r.key!, count) : this.sticky.partition(topic, count);
    return new Promise<RecordMetadata>((resolve, reject) => {
      const batch = this.accumulator.batchFor(topic, partition, acks, r);
      if (routed && !keyed) this.sticky.stick(topic, batch);
      batch.singleAt.push(batch.records.length);
      batch.singleResolve.push(resolve);
      batch.singleReject.push(reject);
      this.accumulator.add(batch, r);
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
    let count = routed ? this.metadata.cached(topic) : 1;
    // Queued in the caller's tick (so it keeps its place among send() calls) unless it must wait.
    if (this.canEnqueueNow() && count >= 0) return this.enqueueBulk(topic, records, options, estimated, worst, count);
    return this.admission.admit(
      records.length,
      async () => {
        await this.ensureLz4();
        if (routed) count = await this.metadata.partitions(topic, false);
        await this.waitForSpace();
      },
      () => this.enqueueBulk(topic, records, options, estimated, worst, count),
    );
  }

  private enqueueBulk(topic: string, records: RecordInput[], options: SendOptions, estimated: number, worst: number, partitionCount: number): Promise<BatchMetadata> {
    const acks = options.acks ?? this.acks;
    const routed = options.partition === undefined;
    const partition = !routed ? options.partition! : partitionCount > 0 ? this.sticky.partition(topic, partitionCount) : ANY_PARTITION;
    return new Promise<BatchMetadata>((resolve, reject) => {
      const batch = this.accumulator.addBulk(topic, partition, acks, records, estimated, worst, { resolve, reject });
      if (routed && partition !== ANY_PARTITION) this.sticky.stick(topic, batch);
      this.wakeNext();
    });
  }

  private checkSend(topic: string, options: SendOptions): SeglogClientError | null {
    if (this.closed) return this.closedError();
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
    return this.admission.pending === 0 && this.accumulator.bufferedBytes < this.maxBufferedBytes && (this.compression !== 'lz4' || isLz4Loaded());
  }

  private async ensureLz4(): Promise<void> {
    if (this.compression === 'lz4' && !(await loadLz4())) {
      throw new SeglogClientError('INVALID_ARGUMENT', 'LZ4 compression requested but no LZ4 codec can be loaded');
    }
  }

  private async waitForSpace(): Promise<void> {
    // Only the head of the admission queue waits here (the others wait behind it), and heads
    // that expired (maxBlockMs) and were left behind: so every waiter checks again when woken.
    while (this.accumulator.bufferedBytes >= this.maxBufferedBytes) {
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
      if (this.closed) throw this.closedError();
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
    let count = routed ? this.metadata.cached(topic) : 1;
    if (this.canEnqueueNow() && count >= (anyKeyed ? 1 : 0)) return this.enqueueMany(topic, records, options.partition, acks, count);
    return this.admission.admit(
      records.length,
      async () => {
        await this.ensureLz4();
        if (routed) count = await this.metadata.partitions(topic, anyKeyed);
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
          partition = keyless ? this.sticky.partition(topic, partitionCount) : ANY_PARTITION;
        }
        const batch = this.accumulator.batchFor(topic, partition, acks, r);
        if (keyless) this.sticky.stick(topic, batch);
        const last = batch.ranges[batch.ranges.length - 1];
        if (last !== undefined && last.send === state && last.inputStart + last.count === i && last.batchStart + last.count === batch.records.length) last.count++;
        else batch.ranges.push({ send: state, inputStart: i, batchStart: batch.records.length, count: 1 });
        this.accumulator.add(batch, r);
      }
      this.wakeNext();
    });
  }

  /** Wakes the calls waiting for space while there is room (the admission queue lets one at a time in). */
  private wakeNext(): void {
    if (this.accumulator.bufferedBytes < this.maxBufferedBytes && this.spaceWaiters.length > 0) {
      for (const w of this.spaceWaiters.splice(0)) w();
    }
  }

  private checkIdle(): void {
    if (this.sender.idle && this.accumulator.openCount === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /** Sends every open batch now and resolves once all sent batches are acknowledged (or failed). */
  async flush(): Promise<void> {
    this.accumulator.closeAll();
    // Calls still waiting to queue their records (topic metadata, LZ4, space) are part of the flush.
    for (let i = 0; i < FLUSH_ADMISSION_ROUNDS && this.admission.pending > 0; i++) await this.admission.idle();
    this.accumulator.closeAll();
    if (this.sender.idle && this.accumulator.openCount === 0) return;
    await new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      void this.sender.pump();
    });
  }

  /** @internal The client is gone: fail what has not been sent. */
  failAll(error: Error): void {
    for (const batch of this.accumulator.takeAll()) this.sender.fail(batch, error);
    this.sender.failQueued(error);
    this.closed = true;
    for (const w of this.spaceWaiters.splice(0)) w();
    this.checkIdle();
  }

  /** Flushes, then refuses further sends. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    this.onClosed();
  }
}
