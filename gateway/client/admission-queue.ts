// The producer's admission queue: calls that must wait before their records can be queued (topic
// metadata, LZ4 loading, buffer space) wait here in one FIFO line, and calls made meanwhile join
// the line behind them, so no call overtakes an earlier one. Bounded: by the records waiting
// (a further call is refused at once) and by time (a call waiting longer than maxBlockMs rejects
// with TIMEOUT, as Kafka's max.block.ms).
import { ClientErrorCode, SeglogClientError } from './client-errors.js';

interface Entry {
  records: number;
  /** Date.now() after which the call rejects. Entries join in order, so deadlines only grow. */
  deadline: number;
  prepare: () => Promise<void>;
  /** Queues the call's records; called in the same turn as prepare() finished. */
  enqueue: () => void;
  fail: (e: Error) => void;
  done: boolean;
  /** Set while it is the head: its expiry lets the queue move on without waiting for prepare(). */
  onExpired: (() => void) | null;
}

export class AdmissionQueue {
  private entries: Entry[] = [];
  private head = 0;
  private queuedRecords = 0;
  private running = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly maxQueuedRecords: number,
    private readonly maxBlockMs: number,
    /** The producer is closed: calls still waiting reject with this. */
    private readonly closedError: () => SeglogClientError | null,
  ) {}

  /** Calls waiting (while any does, new calls must queue behind them). */
  get pending(): number {
    return this.entries.length - this.head;
  }

  /**
   * Runs `prepare` (which may wait) after every earlier call, then `enqueue` right away, in the
   * same turn, and resolves with what `enqueue` returns.
   */
  admit<T>(records: number, prepare: () => Promise<void>, enqueue: () => Promise<T>): Promise<T> {
    if (this.pending > 0 && this.queuedRecords + records > this.maxQueuedRecords) {
      return Promise.reject(
        new SeglogClientError(
          'TOO_MANY_REQUESTS',
          `${this.queuedRecords} records already wait to be queued by this producer (maxQueuedRecords ${this.maxQueuedRecords}): slow down or raise the bound`,
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.entries.push({
        records,
        deadline: Date.now() + this.maxBlockMs,
        prepare,
        enqueue: () => resolve(enqueue()),
        fail: reject,
        done: false,
        onExpired: null,
      });
      this.queuedRecords += records;
      this.armTimer();
      void this.run();
    });
  }

  /** Resolves once no call waits (those waiting now were queued or failed). */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    while (this.pending > 0) {
      const e = this.entries[this.head]!;
      if (!e.done) {
        try {
          let closed = this.closedError();
          if (closed !== null) throw closed;
          // An expired head is left behind: its prepare() may go on waiting (a metadata request),
          // but the calls behind it need not wait for that.
          const expired = new Promise<void>((resolve) => (e.onExpired = resolve));
          await Promise.race([e.prepare(), expired]);
          e.onExpired = null;
          closed = this.closedError();
          if (closed !== null) throw closed;
          if (!e.done) this.finish(e).enqueue();
        } catch (err) {
          if (!e.done) this.finish(e).fail(err as Error);
        }
      }
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.entries.length) {
        this.entries = this.entries.slice(this.head);
        this.head = 0;
      }
    }
    this.entries = [];
    this.head = 0;
    this.running = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private finish(e: Entry): Entry {
    e.done = true;
    this.queuedRecords -= e.records;
    return e;
  }

  /** One timer, for the oldest waiting call's deadline. */
  private armTimer(): void {
    if (this.timer !== null) return;
    let i = this.head;
    while (i < this.entries.length && this.entries[i]!.done) i++;
    if (i === this.entries.length) return;
    this.timer = setTimeout(() => this.expire(), Math.max(0, this.entries[i]!.deadline - Date.now()));
  }

  private expire(): void {
    this.timer = null;
    const now = Date.now();
    for (let i = this.head; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.done) continue;
      if (e.deadline > now) break;
      this.finish(e).fail(new SeglogClientError(ClientErrorCode.TIMEOUT, `send() could not be queued within maxBlockMs (${this.maxBlockMs} ms): waiting for topic metadata or buffer space`));
      e.onExpired?.();
    }
    this.armTimer();
  }
}
