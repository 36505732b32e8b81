// Client-side consumer: one subscription as an async iterator of records (or, cheaper, of arrays:
// the records of one delivered batch, `batches()`/`nextBatch()`). It grants the server
// credit for `maxBufferedBytes` and gives bytes back as their records are consumed, so a consumer
// that stops pulling stops the flow. Tracks, per partition, the next offset it expects from the
// server; after a reconnect it subscribes again from exactly there (records before it in a
// re-sent batch are skipped), so nothing is lost or repeated. Damaged stored data ends the server's
// subscription with CORRUPT_RECORD and its range, after the records before it: the consumer then
// throws that error (corrupt: 'stop'), or subscribes again past the range (corrupt: 'skip').
import { batchBaseOffset, batchLastOffset, batchSize, decodeBatchInto, forEachBatch, type ClientRecord } from './record-codec.js';
import type { ClientConnection, PushTarget } from './connection.js';
import { ClientErrorCode, SeglogClientError } from './client-errors.js';
import { CREDIT_GRANT_FRACTION, DEFAULT_AUTO_COMMIT_INTERVAL_MS, DEFAULT_CONSUMER_BUFFER_BYTES, MAX_CREDIT_WINDOW_BYTES } from './limits.js';
import type { FrameReader } from '../protocol/codec.js';
import { decodeDeliver, decodeGap } from '../protocol/deliver.js';
import { FrameType } from '../protocol/frame.js';
import { decodeSubscribed, encodeCredit, encodeSubscribe, encodeUnsubscribe, type PartitionStart, type StartSpec } from '../protocol/subscribe.js';

export interface ConsumerOptions {
  /** One partition, a list, or all (default). */
  partitions?: number | number[];
  /** Where to start when the group has no committed offset. Default 'latest'. */
  from?: StartSpec | Date;
  /** Consumer group: start from its committed offsets; commit() stores positions for it. */
  group?: string;
  /** Credit window: at most this many bytes delivered and not yet consumed (plus one batch). Default 4 MiB (DEFAULT_CONSUMER_BUFFER_BYTES). */
  maxBufferedBytes?: number;
  /** End the iteration at the end offsets the partitions had when the subscription started. */
  stopAtEnd?: boolean;
  /** With a group: commit positions every autoCommitIntervalMs and on close. Default true. */
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  /** Check each received batch's CRC-32C. Default false (TCP and the server's own checks cover transport). */
  checkCrcs?: boolean;
  /** Called when retention removed offsets this consumer had not read yet. */
  onGap?: (gap: GapInfo) => void;
  /** Exact start offsets per partition, over `group` and `from` (e.g. a CORRUPT_RECORD's nextOffset). */
  offsets?: Record<number, number>;
  /**
   * On damaged stored data (CORRUPT_RECORD with partition/offset/nextOffset), once the records before
   * it were consumed: 'stop' (default) throws the error from the iteration; 'skip' goes on from
   * nextOffset. onCorrupt is called either way, in order with the records.
   */
  corrupt?: 'stop' | 'skip';
  onCorrupt?: (info: CorruptInfo) => void;
}

export interface CorruptInfo {
  topic: string;
  partition: number;
  /** [offset, nextOffset) is damaged on the server; intact data resumes at nextOffset. */
  offset: number;
  nextOffset: number;
  error: SeglogClientError;
}

export interface GapInfo {
  topic: string;
  partition: number;
  fromOffset: number;
  toOffset: number;
}

type Entry =
  | { kind: 'batches'; partition: number; bytes: Uint8Array; skipBelow: number; nextBatchPos: number; creditedPos: number }
  | { kind: 'gap'; partition: number; fromOffset: number; toOffset: number }
  | { kind: 'corrupt'; partition: number; offset: number; nextOffset: number; error: SeglogClientError; skip: boolean };

/** nextBatch() as an async iterator; return() (a break) closes the source. Consumer's and GroupConsumer's batches(). */
export function batchIterator(source: { nextBatch(): Promise<ClientRecord[] | null>; close(): Promise<void> }): AsyncIterableIterator<ClientRecord[]> {
  const iterator: AsyncIterableIterator<ClientRecord[]> = {
    next: async () => {
      const records = await source.nextBatch();
      return records === null ? { value: undefined, done: true } : { value: records, done: false };
    },
    return: async () => {
      await source.close();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

export class Consumer implements AsyncIterableIterator<ClientRecord>, PushTarget {
  readonly topic: string;
  private readonly id: number;
  private readonly windowBytes: number;
  private state: 'subscribing' | 'active' | 'ended' = 'subscribing';
  private subscribedOnce = false;
  private readonly queue: Entry[] = [];
  /** Decoded records of the batch being consumed. */
  private current: ClientRecord[] = [];
  private currentIndex = 0;
  /** The queue entry (delivery) being consumed; its bytes become credit batch by batch as they are handed out. */
  private currentEntry: Entry | null = null;
  private currentPartition = -1;
  /** Next offset to consume in currentPartition (-1: folded into `consumed`). */
  private currentConsumed = -1;
  /** stopAtEnd's end offset for currentPartition (Infinity without stopAtEnd). */
  private currentEnd = Infinity;
  private bufferedBytes = 0;
  private grantBytes = 0;
  /** Next offset expected from the server, per partition (the resume point). */
  private readonly received = new Map<number, number>();
  /** Next offset to yield, per partition (what commit() stores). */
  private readonly consumed = new Map<number, number>();
  private readonly lastCommitted = new Map<number, number>();
  private endTargets: Map<number, number> | null = null;
  private wake: (() => void) | null = null;
  private error: Error | null = null;
  private autoCommitTimer: ReturnType<typeof setInterval> | null = null;
  /** Resolves with where each partition started once the server confirmed the subscription. */
  readonly ready: Promise<PartitionStart[]>;
  private resolveReady!: (s: PartitionStart[]) => void;
  private rejectReady!: (e: Error) => void;

  constructor(
    private readonly client: ClientConnection,
    topic: string,
    private readonly options: ConsumerOptions,
  ) {
    this.topic = topic;
    this.id = client.allocateId();
    const window = options.maxBufferedBytes ?? DEFAULT_CONSUMER_BUFFER_BYTES;
    if (!(Number.isInteger(window) && window > 0 && window <= MAX_CREDIT_WINDOW_BYTES)) {
      throw new SeglogClientError('INVALID_ARGUMENT', `maxBufferedBytes must be an integer in 1..${MAX_CREDIT_WINDOW_BYTES}`);
    }
    this.windowBytes = window;
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // also surfaced by next()
    client.registerPushTarget(this.id, this);
    void this.subscribe();
    if (options.group !== undefined && options.autoCommit !== false) {
      const t = setInterval(() => void this.commit().catch(() => {}), options.autoCommitIntervalMs ?? DEFAULT_AUTO_COMMIT_INTERVAL_MS);
      (t as { unref?: () => void }).unref?.();
      this.autoCommitTimer = t;
    }
  }

  private start(): StartSpec {
    const f = this.options.from ?? 'latest';
    return f instanceof Date ? { timestamp: f.getTime() } : f;
  }

  private async subscribe(): Promise<void> {
    // One SUBSCRIBE at a time: a subscribe() made while reconnecting waits in client.request() and
    // goes out on the new connection, so the onReconnected() that follows must not send another
    // with the same id. A request lost with the old connection is retried below or by onReconnected().
    if (this.subscribeInFlight) return;
    this.subscribeInFlight = true;
    const initial = !this.subscribedOnce;
    const p = this.options.partitions;
    const wholeTopic = p === undefined;
    // A whole topic stays a whole topic after a reconnect (partitions added meanwhile are
    // followed). Every partition we know is in `resume`; any other was added after we started,
    // so it starts at the earliest, as the server starts partitions added while subscribed.
    const partitions = wholeTopic ? null : initial ? (Array.isArray(p) ? p : [p]) : [...this.received.keys()];
    const resume = initial
      ? Object.entries(this.options.offsets ?? {}).map(([partition, offset]) => ({ partition: Number(partition), offset }))
      : [...this.received].map(([partition, offset]) => ({ partition, offset }));
    const start: StartSpec = initial || !wholeTopic ? this.start() : 'earliest';
    // The new subscription's credit: the window less what we still hold.
    const creditBytes = Math.max(0, Math.min(MAX_CREDIT_WINDOW_BYTES, this.windowBytes - this.bufferedBytes));
    this.grantBytes = 0;
    this.state = 'subscribing';
    try {
      // Applied while the SUBSCRIBED frame is handled, before any DELIVER behind it in the same read.
      await this.client.request(
        (id) => encodeSubscribe(id, { topic: this.topic, partitions, start, group: this.options.group ?? '', resume, creditBytes }),
        FrameType.SUBSCRIBED,
        (r) => {
          const starts = decodeSubscribed(r);
          this.applyStarts(starts, initial);
          return starts;
        },
        { id: this.id },
      );
    } catch (e) {
      const err = e as SeglogClientError;
      this.subscribeInFlight = false;
      if (err.code === ClientErrorCode.DISCONNECTED && (this.state as string) !== 'ended') {
        // Lost the connection meanwhile: onReconnected() tries again, or we do if it already ran.
        if (this.client.isConnected) void this.subscribe();
        return;
      }
      this.fail(err);
      return;
    }
    this.subscribeInFlight = false;
  }

  private subscribeInFlight = false;

  private applyStarts(starts: PartitionStart[], initial: boolean): void {
    if (this.state === 'ended') {
      this.client.sendRaw(encodeUnsubscribe(this.id));
      return;
    }
    this.state = 'active';
    if (initial) {
      this.subscribedOnce = true;
      for (const s of starts) {
        this.received.set(s.partition, s.startOffset);
        this.consumed.set(s.partition, s.startOffset);
        this.lastCommitted.set(s.partition, -1);
      }
      if (this.options.stopAtEnd) this.endTargets = new Map(starts.map((s) => [s.partition, s.endOffset]));
      this.resolveReady(starts);
    } else {
      for (const s of starts) {
        const known = this.received.get(s.partition);
        if (known === undefined) this.learnPartition(s.partition, s.startOffset);
        else if (s.startOffset > known) this.received.set(s.partition, s.startOffset);
      }
    }
    this.notify();
  }

  /**
   * A partition of a whole-topic subscription we did not know (added to the topic after we
   * subscribed; the server starts such partitions at offset 0). With stopAtEnd its end is 0: it had
   * no records when we started, so none of it is ours to read.
   */
  private learnPartition(partition: number, startOffset: number): void {
    this.received.set(partition, startOffset);
    if (this.endTargets !== null && !this.endTargets.has(partition)) this.endTargets.set(partition, 0);
  }

  /** True when `partition` is ours: subscribed, or (whole topic) newly added, which is then learned. */
  private knowsPartition(partition: number): boolean {
    if (this.received.has(partition)) return true;
    if (this.options.partitions !== undefined || !this.subscribedOnce || partition < 0) return false;
    this.learnPartition(partition, 0);
    return true;
  }

  // --- PushTarget ------------------------------------------------------------------------------

  onPush(type: number, reader: FrameReader): void {
    if (this.state === 'ended') return;
    if (type === FrameType.GAP) {
      const g = decodeGap(reader);
      if (!this.knowsPartition(g.partition)) return this.fail(new SeglogClientError(ClientErrorCode.PROTOCOL_ERROR, `gap for partition ${g.partition}, not subscribed`));
      this.queue.push({ kind: 'gap', partition: g.partition, fromOffset: g.fromOffset, toOffset: g.toOffset });
      if (g.toOffset > (this.received.get(g.partition) ?? 0)) this.received.set(g.partition, g.toOffset);
      this.notify();
      return;
    }
    const d = decodeDeliver(reader);
    const skipBelow = this.knowsPartition(d.partition) ? this.received.get(d.partition) : undefined;
    if (skipBelow === undefined) return this.fail(new SeglogClientError(ClientErrorCode.PROTOCOL_ERROR, `delivery for partition ${d.partition}, not subscribed`));
    let last = -1;
    try {
      forEachBatch(d.batches, (pos) => {
        // The batches of one delivery continue each other (the server checked its log's chain).
        if (last >= 0 && batchBaseOffset(d.batches, pos) !== last + 1) {
          throw new SeglogClientError(ClientErrorCode.PROTOCOL_ERROR, `delivery for partition ${d.partition}: batch at offset ${batchBaseOffset(d.batches, pos)} does not continue ${last}`);
        }
        last = batchLastOffset(d.batches, pos);
      }, this.options.checkCrcs === true);
    } catch (e) {
      return this.fail(e as Error);
    }
    const size = d.batches.byteLength;
    this.bufferedBytes += size;
    if (last < skipBelow) {
      // All of it was delivered before (a re-sent batch after resuming): give the credit back.
      this.release(size);
      return;
    }
    this.received.set(d.partition, last + 1);
    this.queue.push({ kind: 'batches', partition: d.partition, bytes: d.batches, skipBelow, nextBatchPos: 0, creditedPos: 0 });
    this.notify();
  }

  onSubscriptionError(error: SeglogClientError): void {
    const p = error.partition;
    const at = p === undefined ? undefined : this.received.get(p);
    if (error.code === 'CORRUPT_RECORD' && at !== undefined && error.nextOffset !== undefined && error.nextOffset > at && this.state !== 'ended') {
      // After the records delivered before it: queued, so the iteration meets it in order.
      const skip = this.options.corrupt === 'skip';
      this.queue.push({ kind: 'corrupt', partition: p!, offset: error.offset ?? at, nextOffset: error.nextOffset, error, skip });
      if (skip) {
        // The server ended its subscription: a new one, from past the range (as after a reconnect).
        this.received.set(p!, error.nextOffset);
        this.client.registerPushTarget(this.id, this);
        void this.subscribe();
        this.notify();
        return;
      }
    }
    this.fail(error);
  }

  onReconnected(): void {
    if (this.state === 'ended') return;
    void this.subscribe();
  }

  onClientClosed(error: SeglogClientError): void {
    if (this.state === 'ended') return;
    if (error.code === ClientErrorCode.CLOSED) this.end();
    else this.fail(error);
  }

  // --- iteration -------------------------------------------------------------------------------

  private notify(): void {
    this.onWake?.();
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private fail(e: Error): void {
    if (this.state === 'ended') return;
    this.error = e;
    this.rejectReady(e);
    this.end();
  }

  private end(): void {
    this.state = 'ended';
    this.client.unregisterPushTarget(this.id);
    if (this.autoCommitTimer !== null) clearInterval(this.autoCommitTimer);
    this.autoCommitTimer = null;
    this.notify();
  }

  private release(bytes: number): void {
    this.bufferedBytes -= bytes;
    this.grantBytes += bytes;
    if (this.state !== 'active') return;
    // Not one CREDIT per delivery when caught up: each is a syscall here and a wake-up of the
    // server, per delivery, on a live tail. Holding back less than a quarter of the window cannot
    // stall delivery: the server's credit is the window less what is buffered or held back here.
    if (this.grantBytes >= this.windowBytes * CREDIT_GRANT_FRACTION) {
      if (this.client.sendRaw(encodeCredit(this.id, this.grantBytes))) this.grantBytes = 0;
    }
  }

  /** Gives back the bytes of `entry` before `pos` not given back yet. */
  private releaseEntry(entry: Extract<Entry, { kind: 'batches' }>, pos: number): void {
    const n = pos - entry.creditedPos;
    if (n <= 0) return;
    entry.creditedPos = pos;
    this.release(n);
  }

  private reachedEnd(): boolean {
    if (this.endTargets === null) return false;
    this.foldPosition();
    for (const [p, end] of this.endTargets) if ((this.consumed.get(p) ?? 0) < end) return false;
    return true;
  }

  /**
   * Records are decoded one batch at a time (lazily, as the application pulls); per record only the
   * yielded objects are made. The position for commit() is kept in fields while a batch is being
   * consumed and folded into the per-partition map when it changes (see positions()).
   */
  next(): Promise<IteratorResult<ClientRecord>> {
    const i = this.currentIndex;
    if (i < this.current.length) {
      const r = this.current[i]!;
      if (r.offset < this.currentEnd) {
        this.currentIndex = i + 1;
        this.currentConsumed = r.offset + 1;
        return Promise.resolve({ value: r, done: false });
      }
    }
    return this.nextSlow();
  }

  /** Folds the position of the batch being consumed into `consumed`. */
  private foldPosition(): void {
    if (this.currentPartition >= 0 && this.currentConsumed >= 0) this.consumed.set(this.currentPartition, this.currentConsumed);
    this.currentConsumed = -1;
  }

  /** Decodes the next batch of the entry at the head of the queue into `current`. False when the entry is used up. */
  private decodeNextBatch(entry: Extract<Entry, { kind: 'batches' }>): boolean {
    const bytes = entry.bytes;
    const records: ClientRecord[] = [];
    try {
      while (records.length === 0 && entry.nextBatchPos < bytes.byteLength) {
        const pos = entry.nextBatchPos;
        // Every batch before this one was handed out: its bytes are credit again now, not when the
        // whole delivery is used up, so the server sends the next delivery while this one is read.
        this.releaseEntry(entry, pos);
        // onPush checked that every batch fits; sizes are trusted here.
        entry.nextBatchPos = pos + batchSize(bytes, pos);
        decodeBatchInto(bytes, this.topic, entry.partition, records, entry.skipBelow, pos);
      }
    } catch (e) {
      this.fail(e as Error);
      entry.nextBatchPos = bytes.byteLength;
    }
    this.current = records;
    this.currentIndex = 0;
    if (this.currentPartition !== entry.partition) {
      this.foldPosition();
      this.currentPartition = entry.partition;
      this.currentEnd = this.endTargets?.get(entry.partition) ?? Infinity;
    }
    return records.length > 0;
  }

  private async nextSlow(): Promise<IteratorResult<ClientRecord>> {
    if (!(await this.fill())) return { value: undefined, done: true };
    const r = this.current[this.currentIndex++]!;
    this.currentConsumed = r.offset + 1;
    return { value: r, done: false };
  }

  /**
   * The records of the next delivered record batch not yet handed out (from the subscription's
   * start offset in the first one), as one array; null when the iteration is over. One promise per
   * batch instead of per record. Mixes with next(): after some records of a batch were taken one by
   * one, the rest of that batch comes back. Credit and positions (commit()) advance as with next().
   */
  async nextBatch(): Promise<ClientRecord[] | null> {
    if (!(await this.fill())) return null;
    return this.takeBatch();
  }

  /** @internal tryNext() for whole batches: the rest of the current batch, null when none has arrived, [] when over. */
  tryNextBatch(): ClientRecord[] | null {
    const ready = this.fillNow();
    if (ready === null) return null;
    if (ready !== true) {
      if (ready === 'end') void this.close();
      return [];
    }
    return this.takeBatch();
  }

  /** The rest of the batch being consumed, up to stopAtEnd's end (fill() found a record to hand out). */
  private takeBatch(): ClientRecord[] {
    const records = this.current;
    const from = this.currentIndex;
    let to = records.length;
    if (this.currentEnd !== Infinity) while (to > from && records[to - 1]!.offset >= this.currentEnd) to--;
    const out = from === 0 && to === records.length ? records : records.slice(from, to);
    this.currentIndex = records.length;
    this.currentConsumed = out[out.length - 1]!.offset + 1;
    return out;
  }

  /** `for await (const records of consumer.batches())`: nextBatch() as an async iterator; break ends the subscription. */
  batches(): AsyncIterableIterator<ClientRecord[]> {
    return batchIterator(this);
  }

  /**
   * Makes `current` hold at least one record to hand out at currentIndex (below stopAtEnd's end):
   * decodes the next batch, moves to the next delivery (crediting the used one), handles gaps,
   * waits for the server. False when the iteration is over; throws the subscription's error.
   */
  private async fill(): Promise<boolean> {
    for (;;) {
      const ready = this.fillNow();
      if (ready === 'end') {
        await this.close();
        return false;
      }
      if (ready !== null) return ready;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  /**
   * fill() without waiting: true when a record is ready, false when the iteration is over, 'end'
   * when stopAtEnd's ends were reached (close it), null when it must wait for the server.
   */
  private fillNow(): boolean | 'end' | null {
    for (;;) {
      const i = this.currentIndex;
      if (i < this.current.length) {
        // Offsets increase within a batch: past stopAtEnd's end, the rest of it is too.
        if (this.current[i]!.offset < this.currentEnd) return true;
        this.currentIndex = this.current.length;
      }
      this.foldPosition();
      const entry = this.currentEntry;
      if (entry !== null && entry.kind === 'batches') {
        if (entry.nextBatchPos < entry.bytes.byteLength) {
          this.decodeNextBatch(entry);
          continue;
        }
        // Every record of the delivery was handed out: the rest of its bytes are credit again.
        if (this.queue[0] === entry) this.queue.shift();
        this.currentEntry = null;
        this.current = [];
        this.currentIndex = 0;
        this.releaseEntry(entry, entry.bytes.byteLength);
        continue;
      }
      if (this.subscribedOnce && this.reachedEnd()) return 'end';
      const next = this.queue[0];
      if (next !== undefined) {
        if (next.kind === 'corrupt') {
          this.queue.shift();
          if (next.skip && next.nextOffset > (this.consumed.get(next.partition) ?? 0)) this.consumed.set(next.partition, next.nextOffset);
          this.options.onCorrupt?.({ topic: this.topic, partition: next.partition, offset: next.offset, nextOffset: next.nextOffset, error: next.error });
          continue;
        }
        if (next.kind === 'gap') {
          this.queue.shift();
          if (next.toOffset > (this.consumed.get(next.partition) ?? 0)) this.consumed.set(next.partition, next.toOffset);
          this.options.onGap?.({ topic: this.topic, partition: next.partition, fromOffset: next.fromOffset, toOffset: next.toOffset });
          continue;
        }
        this.currentEntry = next;
        continue;
      }
      if (this.error !== null) {
        const e = this.error;
        this.error = null;
        throw e;
      }
      if (this.state === 'ended') return false;
      return null;
    }
  }

  /**
   * @internal For a caller merging several consumers (GroupConsumer): the next record now, null
   * when none has arrived (onWake is called when one may have), done when over. Throws the
   * consumer's error. Not to be mixed with next().
   */
  tryNext(): IteratorResult<ClientRecord> | null {
    const ready = this.fillNow();
    if (ready === null) return null;
    if (ready !== true) {
      if (ready === 'end') void this.close();
      return { value: undefined, done: true };
    }
    const r = this.current[this.currentIndex++]!;
    this.currentConsumed = r.offset + 1;
    return { value: r, done: false };
  }

  /** @internal A decoded record of the current batch is waiting (tryNext hands it out without a round). */
  get hasBatchRecord(): boolean {
    const r = this.current[this.currentIndex];
    return r !== undefined && r.offset < this.currentEnd;
  }

  /** @internal Called when something arrived or the consumer ended (see tryNext). */
  onWake: (() => void) | null = null;

  [Symbol.asyncIterator](): this {
    return this;
  }

  async return(): Promise<IteratorResult<ClientRecord>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** Next offset to consume, per partition. */
  positions(): Map<number, number> {
    this.foldPosition();
    return new Map(this.consumed);
  }

  /** Stores the positions (next offsets to consume) for the group. */
  async commit(): Promise<void> {
    const group = this.options.group;
    if (group === undefined) throw new SeglogClientError('INVALID_ARGUMENT', 'commit() needs a consumer group (options.group)');
    this.foldPosition();
    const work: Promise<void>[] = [];
    for (const [p, offset] of this.consumed) {
      if (this.lastCommitted.get(p) === offset) continue;
      work.push(this.client.commit(group, this.topic, p, offset).then(() => void this.lastCommitted.set(p, offset)));
    }
    await Promise.all(work);
  }

  /** Ends the subscription (committing first with a group and autoCommit). */
  async close(): Promise<void> {
    if (this.state === 'ended' && this.autoCommitTimer === null && this.closedOnce) return;
    this.closedOnce = true;
    const wasActive = this.state === 'active';
    if (this.options.group !== undefined && this.options.autoCommit !== false && this.subscribedOnce && this.client.isConnected) {
      await this.commit().catch(() => {});
    }
    this.end();
    if (wasActive) this.client.sendRaw(encodeUnsubscribe(this.id));
    this.queue.length = 0;
    this.current = [];
    this.currentEntry = null;
  }

  private closedOnce = false;
}
