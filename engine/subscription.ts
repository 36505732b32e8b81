// A live subscription to partitions of one topic: an async iterator of records that reads only as
// the consumer pulls (one bounded fetch buffered at a time), serves partitions round robin (one
// fetch each in turn, so a busy partition cannot starve the others), and, when caught up, sleeps
// until an append to one of its partitions wakes it (the same watcher mechanism as Engine.watch;
// no polling). When retention removed records it had not read yet, it continues from the new log
// start and emits 'gap' first, so the loss is observable. A damaged range (CORRUPT_RECORD with
// offset/nextOffset) is reported by a 'corrupt' event after the records before it, then ends the
// subscription or, with corrupt: 'skip', is stepped over.
import { EventEmitter } from 'node:events';
import { CorruptRecordError, assert } from './format/errors.js';
import { ENGINE_DEFAULTS } from './limits.js';
import type { ConsumedRecord, CorruptEvent, GapEvent, OffsetRange } from './types.js';

/** What a subscription needs from the engine, for one topic. */
export interface SubscriptionSource {
  /** Current start/end of a partition; throws (TOPIC_NOT_FOUND, CLOSED) when it is gone. */
  range(partition: number): OffsetRange;
  /** Records from `offset` (which is within range), at most maxRecords / about maxBytes. */
  fetch(partition: number, offset: number, maxRecords: number, maxBytes: number): { records: ConsumedRecord[]; nextOffset: number };
  /** Calls `wake` after each append to the partition (and when the topic or engine goes away). */
  watch(partition: number, wake: () => void): () => void;
}

export interface SubscriptionLimits {
  maxRecordsPerFetch: number;
  maxBytesPerFetch: number;
  /** On a damaged range: end with its error (default) or continue after it. */
  corrupt?: 'stop' | 'skip';
}

export interface SubscriptionStart {
  partition: number;
  offset: number;
}

interface Cursor {
  partition: number;
  /** Next offset to fetch. */
  fetchOffset: number;
  /** Next offset to deliver (after the records handed out so far). */
  position: number;
  unwatch: () => void;
}

const DONE: IteratorResult<ConsumedRecord> = Object.freeze({ done: true, value: undefined }) as IteratorResult<ConsumedRecord>;

export interface Subscription {
  on(event: 'gap', listener: (gap: GapEvent) => void): this;
  on(event: 'corrupt', listener: (corrupt: CorruptEvent) => void): this;
  on(event: 'end', listener: (error: unknown) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'gap', listener: (gap: GapEvent) => void): this;
  once(event: 'corrupt', listener: (corrupt: CorruptEvent) => void): this;
  once(event: 'end', listener: (error: unknown) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}

/**
 * AsyncIterableIterator<ConsumedRecord> and EventEmitter: 'gap' (GapEvent) when records were lost to
 * retention, 'corrupt' (CorruptEvent) on reaching a damaged range, 'end' once when it ends (by
 * return(), engine close, topic deletion or an error).
 */
export class Subscription extends EventEmitter implements AsyncIterableIterator<ConsumedRecord> {
  readonly topic: string;
  private readonly source: SubscriptionSource;
  private readonly limits: SubscriptionLimits;
  private readonly cursors: Cursor[] = [];
  private buffer: ConsumedRecord[] = [];
  private bufferPos = 0;
  /** The cursor the buffered records came from (a buffer holds one fetch of one partition). */
  private bufferCursor: Cursor | null = null;
  /** Cursor index the next fetch starts looking at (round robin). */
  private nextCursor = 0;
  /** An append happened since the last look: look again before sleeping. */
  private dirty = true;
  private wakeUp: (() => void) | null = null;
  private ended = false;
  private failure: unknown = null;
  private failureReported = false;
  /** next() calls run one after another. */
  private chain: Promise<unknown> = Promise.resolve();
  /** next() calls queued on the chain and not finished yet. */
  private pending = 0;
  /** Records lost to retention so far (sum of gap sizes). */
  gapRecords = 0;
  /** Records stepped over in damaged ranges so far (corrupt: 'skip'). */
  corruptRecords = 0;

  constructor(source: SubscriptionSource, topic: string, starts: SubscriptionStart[], limits: SubscriptionLimits) {
    super();
    this.topic = topic;
    this.source = source;
    this.limits = limits;
    this.addPartitions(starts);
  }

  /** Follows more partitions (used when partitions are added to a topic subscribed as a whole). */
  addPartitions(starts: SubscriptionStart[]): void {
    if (this.ended) return;
    for (const s of starts) {
      if (this.cursors.some((c) => c.partition === s.partition)) continue;
      const wake = (): void => this.wake();
      this.cursors.push({ partition: s.partition, fetchOffset: s.offset, position: s.offset, unwatch: this.source.watch(s.partition, wake) });
    }
    this.wake();
  }

  /**
   * Stops following `partitions` (a group member's revoked partitions): records of theirs fetched
   * and not handed out yet are dropped, so positions() stays the next offset to deliver.
   */
  removePartitions(partitions: readonly number[]): void {
    for (const p of partitions) {
      const i = this.cursors.findIndex((c) => c.partition === p);
      if (i < 0) continue;
      const c = this.cursors[i]!;
      c.unwatch();
      this.cursors.splice(i, 1);
      if (this.bufferCursor === c) {
        this.buffer = [];
        this.bufferPos = 0;
        this.bufferCursor = null;
      }
    }
    this.nextCursor = 0;
  }

  /**
   * For a caller that merges several subscriptions (a group member's topics): the next record now,
   * without waiting; null when none is available (onWake is called when one may be), DONE when
   * ended. Throws the error that ended it, once. next() is this plus the wait; a caller uses one
   * or the other.
   */
  tryNext(): IteratorResult<ConsumedRecord> | null {
    for (let round = 0; round < ENGINE_DEFAULTS.subscribeTryRoundsMax; round++) {
      if (this.bufferPos < this.buffer.length) return this.take();
      if (this.ended) {
        if (this.failure !== null && !this.failureReported) {
          this.failureReported = true;
          throw this.failure;
        }
        return DONE;
      }
      this.dirty = false;
      try {
        if (this.fill()) continue;
      } catch (e) {
        this.end(e);
        continue;
      }
      if (!this.dirty) return null;
    }
    return null;
  }

  /** A fetched record is waiting to be handed out (tryNext/next take it without fetching). */
  get buffered(): boolean {
    return this.bufferPos < this.buffer.length;
  }

  /** Called after appends to a followed partition and at the end (see tryNext). */
  onWake: (() => void) | null = null;

  /** The subscribed partitions. */
  get partitions(): number[] {
    return this.cursors.map((c) => c.partition);
  }

  /** Next offset to be delivered per partition: what to commit to resume after the records seen. */
  positions(): Record<number, number> {
    const out: Record<number, number> = {};
    for (const c of this.cursors) out[c.partition] = c.position;
    return out;
  }

  get closed(): boolean {
    return this.ended;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ConsumedRecord>> {
    // Fast path: no earlier next() pending and a record buffered: hand it out now (in order, since
    // nothing is queued before it), without a trip through the chain.
    if (this.pending === 0 && this.bufferPos < this.buffer.length) return Promise.resolve(this.take());
    this.pending++;
    const result = this.chain.then(() => this.pullCounted());
    this.chain = result.catch(() => undefined);
    return result;
  }

  private async pullCounted(): Promise<IteratorResult<ConsumedRecord>> {
    try {
      return await this.pull();
    } finally {
      this.pending--;
    }
  }

  /** The next buffered record (the buffer must not be empty). */
  private take(): IteratorResult<ConsumedRecord> {
    const record = this.buffer[this.bufferPos]!;
    this.buffer[this.bufferPos++] = undefined as never; // let delivered records go
    this.bufferCursor!.position = record.offset + 1;
    return { done: false, value: record };
  }

  return(): Promise<IteratorResult<ConsumedRecord>> {
    this.end(null);
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<ConsumedRecord>> {
    this.end(null);
    return Promise.reject(error);
  }

  /** Ends the subscription: releases its watchers, wakes a waiting next(). Idempotent. */
  end(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    this.buffer = [];
    this.bufferPos = 0;
    for (const c of this.cursors) c.unwatch();
    this.wake();
    this.emit('end', error);
  }

  private wake(): void {
    this.dirty = true;
    this.onWake?.();
    const w = this.wakeUp;
    if (w !== null) {
      this.wakeUp = null;
      w();
    }
  }

  private async pull(): Promise<IteratorResult<ConsumedRecord>> {
    // Each round either delivers, ends, or sleeps until an append (or end) wakes it.
    for (;;) {
      const r = this.tryNext();
      if (r !== null) return r;
      if (this.dirty) continue;
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
    }
  }

  /**
   * Fetches from the next partition (round robin) that has records. Returns false when none has
   * (true when it buffered records, or stepped over a damaged range).
   */
  private fill(): boolean {
    const n = this.cursors.length;
    for (let i = 0; i < n; i++) {
      const index = (this.nextCursor + i) % n;
      const c = this.cursors[index]!;
      const range = this.source.range(c.partition);
      if (c.fetchOffset < range.startOffset) {
        const gap: GapEvent = { type: 'gap', topic: this.topic, partition: c.partition, fromOffset: c.fetchOffset, toOffset: range.startOffset };
        this.gapRecords += range.startOffset - c.fetchOffset;
        c.fetchOffset = range.startOffset;
        c.position = range.startOffset;
        this.emit('gap', gap);
        if (this.ended) return false;
      }
      if (c.fetchOffset >= range.endOffset) continue;
      let fetched;
      try {
        fetched = this.source.fetch(c.partition, c.fetchOffset, this.limits.maxRecordsPerFetch, this.limits.maxBytesPerFetch);
      } catch (e) {
        // Reached only after the records before the damage were delivered (the fetch returns those first).
        if (!(e instanceof CorruptRecordError) || e.nextOffset === undefined || !(e.nextOffset > c.fetchOffset)) throw e;
        const event: CorruptEvent = { type: 'corrupt', topic: this.topic, partition: c.partition, offset: e.offset!, nextOffset: e.nextOffset, error: e };
        this.emit('corrupt', event);
        if (this.limits.corrupt !== 'skip') throw e;
        if (this.ended) return false;
        this.corruptRecords += e.nextOffset - c.fetchOffset;
        c.fetchOffset = e.nextOffset;
        c.position = e.nextOffset;
        this.nextCursor = index + 1;
        return true; // progress: pull() looks again
      }
      const { records, nextOffset } = fetched;
      assert(nextOffset > c.fetchOffset, () => `subscription invariant: fetch at ${c.fetchOffset} did not advance`);
      c.fetchOffset = nextOffset;
      this.nextCursor = index + 1;
      if (records.length === 0) {
        c.position = Math.max(c.position, nextOffset);
        continue;
      }
      this.buffer = records;
      this.bufferPos = 0;
      this.bufferCursor = c;
      return true;
    }
    return false;
  }
}
