// The producer's open batches: one per (topic, partition, acks), filled for up to lingerMs or
// maxBatchBytes, then closed and handed to the sender. A partition has at most one open batch
// (whatever the acks), so batches for it close, and go out, in the order their records came.
import type { BatchMetadata, RecordInput, RecordMetadata } from './producer-types.js';
import type { AcksName } from '../protocol/produce.js';

export interface SendState {
  results: RecordMetadata[];
  remaining: number;
  settled: boolean;
  resolve: (r: RecordMetadata[]) => void;
  reject: (e: Error) => void;
}

/** Records [batchStart, batchStart+count) of a batch are inputs [inputStart, ...) of one send(). */
export interface Range {
  send: SendState;
  inputStart: number;
  batchStart: number;
  count: number;
}

export interface OpenBatch {
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

/** Set by measureRecord: the record's estimated and worst-case encoded sizes (no allocation per record). */
export const sizeScratch = { estimate: 0, worst: 0 };

export function measureRecord(r: RecordInput): void {
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

export function batchKey(topic: string, partition: number, acks: AcksName): string {
  return `${acks}\u0000${partition}\u0000${topic}`;
}

/** Where closed batches go, and whether one could go out now. */
export interface BatchSink {
  /** A batch closed: queue it for sending, in this order. */
  closed(batch: OpenBatch): void;
  /** An in-flight slot is free (a batch whose linger is over goes out now rather than keep filling). */
  hasFreeSlot(): boolean;
}

export class Accumulator {
  /** Open batches by batchKey(), in the order they opened. */
  private readonly open = new Map<string, OpenBatch>();
  /** The last batch a record went to: skips the key string and map lookup for runs to one partition. */
  private lastBatch: OpenBatch | null = null;
  /** Estimated bytes of records accepted and not yet acknowledged (the producer's buffer). */
  bufferedBytes = 0;

  constructor(
    private readonly lingerMs: number,
    private readonly maxBatchBytes: number,
    /** The most worst-case bytes a batch may reach (the server's limit, less headroom). */
    private readonly hardLimitBytes: () => number,
    private readonly sink: BatchSink,
  ) {}

  get openCount(): number {
    return this.open.size;
  }

  /** The open batch `r` joins (closing the current one first when `r` would overflow it); measures `r` into sizeScratch. */
  batchFor(topic: string, partition: number, acks: AcksName, r: RecordInput): OpenBatch {
    measureRecord(r);
    let batch = this.lastBatch;
    if (batch === null || batch.closed || batch.topic !== topic || batch.partition !== partition || batch.acks !== acks) {
      const key = batchKey(topic, partition, acks);
      batch = this.open.get(key) ?? null;
      if (batch === null) {
        this.closeOtherAcks(topic, partition, acks);
        batch = newBatch(topic, partition, acks, key);
        this.open.set(key, batch);
      }
    }
    if (batch.records.length > 0 && batch.worstCaseBytes + sizeScratch.worst > this.hardLimitBytes()) {
      this.close(batch);
      batch = newBatch(topic, partition, acks, batch.key);
      this.open.set(batch.key, batch);
    }
    this.lastBatch = batch;
    return batch;
  }

  /** Adds `r` (measured by batchFor) to `batch`; closes the batch when full, else arms its linger. */
  add(batch: OpenBatch, r: RecordInput): void {
    batch.records.push(r);
    batch.estimatedBytes += sizeScratch.estimate;
    batch.worstCaseBytes += sizeScratch.worst;
    this.bufferedBytes += sizeScratch.estimate;
    if (batch.estimatedBytes >= this.maxBatchBytes) this.close(batch);
    else if (!batch.scheduled) this.scheduleLinger(batch);
  }

  /**
   * A whole call as one closed batch (sendBatch()). What was sent to the partition before goes
   * out first: its open batch closes ahead of this one.
   */
  addBulk(topic: string, partition: number, acks: AcksName, records: RecordInput[], estimated: number, worst: number, bulk: NonNullable<OpenBatch['bulk']>): OpenBatch {
    const key = batchKey(topic, partition, acks);
    const open = this.open.get(key);
    if (open !== undefined) this.close(open);
    this.closeOtherAcks(topic, partition, acks);
    const batch = newBatch(topic, partition, acks, key);
    batch.records = records;
    batch.bulk = bulk;
    batch.estimatedBytes = estimated;
    batch.worstCaseBytes = worst;
    batch.closed = true;
    this.bufferedBytes += estimated;
    this.sink.closed(batch);
    return batch;
  }

  /** Closes an open batch: no more records join it; it queues for sending. */
  close(batch: OpenBatch): void {
    if (batch.closed) return;
    batch.closed = true;
    if (this.open.get(batch.key) === batch) this.open.delete(batch.key);
    if (batch.timer !== null) clearTimeout(batch.timer);
    batch.timer = null;
    this.sink.closed(batch);
  }

  closeAll(): void {
    for (const batch of [...this.open.values()]) this.close(batch);
  }

  /** Closes batches whose linger is over, oldest first, while in-flight slots are free. */
  closeDue(): void {
    if (this.open.size === 0) return;
    for (const batch of this.open.values()) {
      if (!this.sink.hasFreeSlot()) return;
      if (batch.due) this.close(batch);
    }
  }

  /** Takes every open batch out without sending it (the producer is failing them). */
  takeAll(): OpenBatch[] {
    const batches = [...this.open.values()];
    this.open.clear();
    for (const batch of batches) {
      batch.closed = true;
      if (batch.timer !== null) clearTimeout(batch.timer);
      batch.timer = null;
    }
    return batches;
  }

  /** A batch for (topic, partition) under other acks is closed first: one open batch per partition keeps order. */
  private closeOtherAcks(topic: string, partition: number, acks: AcksName): void {
    const open = this.open.get(batchKey(topic, partition, acks === 'written' ? 'flushed' : 'written'));
    if (open !== undefined) this.close(open);
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
    if (this.sink.hasFreeSlot()) this.close(batch);
    else batch.due = true;
  }
}

function newBatch(topic: string, partition: number, acks: AcksName, key: string): OpenBatch {
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
