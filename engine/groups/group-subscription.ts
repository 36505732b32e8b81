// An embedded group member: Engine.subscribe(topics, { group }). Joins the group, and follows the
// partitions the coordinator assigns with one Subscription per topic, merged into one async
// iterator (round robin over topics). On a revocation it stops the partitions at once (records
// fetched but not handed out are dropped), emits 'revoked', commits their positions (autoCommit),
// awaits onRevoked, then confirms with a heartbeat; on an assignment it starts them at the group's
// committed offset, else at `from`, and emits 'assigned'. Heartbeats every heartbeatIntervalMs;
// removed by the coordinator (UNKNOWN_MEMBER), it drops everything and joins again.
import { EventEmitter } from 'node:events';
import { InvalidArgumentError, isSeglogError } from '../format/errors.js';
import { GROUP_LIMITS } from '../limits.js';
import type { Subscription, SubscriptionStart } from '../subscription.js';
import type { ConsumedRecord } from '../types.js';
import { partitionKey, splitKey } from './assignor.js';
import { byTopic } from './coordinator.js';
import type { GroupSubscribeOptions, JoinGroupOptions, JoinGroupResult, MemberAssignment, TopicPartitions } from './group-types.js';

/** What a member needs of the engine. */
export interface GroupMemberPort {
  join(group: string, options: JoinGroupOptions, listener: (a: MemberAssignment) => void): Promise<JoinGroupResult>;
  heartbeat(group: string, memberId: string, memberEpoch: number): { memberEpoch: number; heartbeatIntervalMs: number };
  leave(group: string, memberId: string): void;
  /** A subscription to partitions of `topic` from the given offsets. */
  open(topic: string, starts: SubscriptionStart[]): Subscription;
  /** Where an assigned partition starts: the group's committed offset, else `from`. */
  startOffset(topic: string, partition: number): Promise<number>;
  /** A fenced commit (FENCED_MEMBER unless the member owns the partition). */
  commit(memberId: string, memberEpoch: number, topic: string, partition: number, offset: number): Promise<void>;
}

const DONE: IteratorResult<ConsumedRecord> = Object.freeze({ done: true, value: undefined }) as IteratorResult<ConsumedRecord>;

export interface GroupSubscription {
  on(event: 'assigned' | 'revoked', listener: (partitions: TopicPartitions[]) => void): this;
  on(event: string | symbol, listener: (...args: any[]) => void): this;
  once(event: 'assigned' | 'revoked', listener: (partitions: TopicPartitions[]) => void): this;
  once(event: string | symbol, listener: (...args: any[]) => void): this;
}

/**
 * AsyncIterableIterator<ConsumedRecord> and EventEmitter: 'assigned' and 'revoked' (partition
 * lists), 'gap' and 'corrupt' (as Subscription), 'error' is never emitted (errors end the iteration).
 */
export class GroupSubscription extends EventEmitter implements AsyncIterableIterator<ConsumedRecord> {
  readonly group: string;
  readonly topics: string[];
  private readonly port: GroupMemberPort;
  private readonly options: GroupSubscribeOptions;
  private readonly autoCommit: boolean;
  private memberIdValue: string | null = null;
  /** Epoch of the newest assignment applied. */
  private appliedEpoch = 0;
  private readonly subs = new Map<string, Subscription>();
  private nextSub = 0;
  private readonly lastCommitted = new Map<string, number>();
  /** Assignments are applied one after another, after the join answered. */
  private applying: Promise<void>;
  private joined!: () => void;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private autoCommitTimer: NodeJS.Timeout | null = null;
  private wakeUp: (() => void) | null = null;
  private dirty = false;
  private ended = false;
  private failure: unknown = null;
  private closing: Promise<void> | null = null;
  /** Resolves once the member has joined (rejects when joining failed). */
  ready: Promise<void>;
  private readonly wakeFn = (): void => this.wake();

  constructor(port: GroupMemberPort, topics: string[], options: GroupSubscribeOptions) {
    super();
    this.port = port;
    this.group = options.group;
    this.topics = [...new Set(topics)];
    this.options = options;
    this.autoCommit = options.autoCommit !== false;
    const interval = options.autoCommitIntervalMs ?? GROUP_LIMITS.autoCommitIntervalMsDefault;
    if (!Number.isSafeInteger(interval) || interval < 1 || interval > GROUP_LIMITS.autoCommitIntervalMsMax) {
      throw new InvalidArgumentError(`autoCommitIntervalMs must be an integer from 1 to ${GROUP_LIMITS.autoCommitIntervalMsMax}`);
    }
    if (this.autoCommit) {
      this.autoCommitTimer = setInterval(() => void this.commit().catch(() => undefined), interval);
      this.autoCommitTimer.unref();
    }
    this.applying = new Promise((resolve) => (this.joined = resolve));
    this.ready = this.join();
    this.ready.catch((e: unknown) => this.end(e));
  }

  /** The id the coordinator gave this member (null before it joined). */
  get memberId(): string | null {
    return this.memberIdValue;
  }

  get memberEpoch(): number {
    return this.appliedEpoch;
  }

  /** The partitions this member consumes now. */
  assignment(): TopicPartitions[] {
    const keys: string[] = [];
    for (const [topic, sub] of this.subs) for (const p of sub.partitions) keys.push(partitionKey(topic, p));
    return byTopic(keys);
  }

  private async join(): Promise<void> {
    const { group, clientId, sessionTimeoutMs, rebalanceTimeoutMs } = this.options;
    const r = await this.port.join(group, { topics: this.topics, clientId, sessionTimeoutMs, rebalanceTimeoutMs }, (a) => {
      this.applying = this.applying.then(() => this.apply(a)).catch((e: unknown) => this.end(e));
    });
    this.memberIdValue = r.memberId;
    if (this.ended) {
      this.port.leave(group, r.memberId);
      return;
    }
    this.heartbeatTimer = setInterval(() => this.heartbeat(this.appliedEpoch), r.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
    this.joined();
  }

  private heartbeat(epoch: number): void {
    if (this.ended || this.memberIdValue === null) return;
    try {
      this.port.heartbeat(this.group, this.memberIdValue, epoch);
    } catch (e) {
      if (isSeglogError(e) && (e.code === 'UNKNOWN_MEMBER' || e.code === 'FENCED_MEMBER')) this.rejoin();
      else this.end(e);
    }
  }

  /** Removed by the coordinator (the process stalled past its session): drop everything, join again. */
  private rejoin(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    const dropped = this.assignment();
    for (const sub of this.subs.values()) sub.end(null);
    this.subs.clear();
    this.relist();
    this.lastCommitted.clear();
    this.memberIdValue = null;
    this.appliedEpoch = 0;
    if (dropped.length > 0) this.emit('revoked', dropped);
    this.applying = new Promise((resolve) => (this.joined = resolve));
    this.ready = this.join();
    this.ready.catch((e: unknown) => this.end(e));
  }

  private async apply(a: MemberAssignment): Promise<void> {
    if (this.ended) return;
    const next = new Set<string>();
    for (const tp of a.assignment) for (const p of tp.partitions) next.add(partitionKey(tp.topic, p));
    const revoked: Array<{ topic: string; partition: number; offset: number }> = [];
    for (const [topic, sub] of this.subs) {
      const positions = sub.positions();
      const gone = sub.partitions.filter((p) => !next.has(partitionKey(topic, p)));
      if (gone.length === 0) continue;
      sub.removePartitions(gone);
      for (const p of gone) revoked.push({ topic, partition: p, offset: positions[p]! });
    }
    if (revoked.length > 0) {
      const list = byTopic(revoked.map((r) => partitionKey(r.topic, r.partition)));
      this.emit('revoked', list);
      if (this.autoCommit) {
        // Fenced: only commits what this member still owns (the coordinator waits for the heartbeat below).
        await Promise.all(revoked.map((r) => this.commitOne(a.memberEpoch, r.topic, r.partition, r.offset).catch(() => undefined)));
      }
      await this.options.onRevoked?.(list);
      for (const r of revoked) this.lastCommitted.delete(partitionKey(r.topic, r.partition));
    }
    const added: string[] = [];
    const have = new Set<string>();
    for (const [topic, sub] of this.subs) for (const p of sub.partitions) have.add(partitionKey(topic, p));
    const starts = new Map<string, SubscriptionStart[]>();
    for (const k of next) {
      if (have.has(k)) continue;
      const { topic, partition } = splitKey(k);
      const offset = await this.port.startOffset(topic, partition);
      let list = starts.get(topic);
      if (list === undefined) starts.set(topic, (list = []));
      list.push({ partition, offset });
      added.push(k);
    }
    if (this.ended) return;
    for (const [topic, list] of starts) {
      const sub = this.subs.get(topic);
      if (sub !== undefined && !sub.closed) sub.addPartitions(list);
      else {
        const s = this.port.open(topic, list);
        s.onWake = this.wakeFn;
        s.on('gap', (g) => this.emit('gap', g));
        s.on('corrupt', (c) => this.emit('corrupt', c));
        this.subs.set(topic, s);
      }
    }
    this.relist();
    this.appliedEpoch = a.memberEpoch;
    if (added.length > 0) this.emit('assigned', byTopic(added));
    this.wake();
    // Confirms at once: the coordinator may be waiting on this epoch (a revocation, also of
    // partitions revoked before this member heard of them).
    this.heartbeat(a.memberEpoch);
  }

  private commitOne(epoch: number, topic: string, partition: number, offset: number): Promise<void> {
    const k = partitionKey(topic, partition);
    if (this.lastCommitted.get(k) === offset) return Promise.resolve();
    return this.port.commit(this.memberIdValue!, epoch, topic, partition, offset).then(() => void this.lastCommitted.set(k, offset));
  }

  /** Commits the next offset to deliver of every partition this member consumes (fenced). */
  async commit(): Promise<void> {
    if (this.memberIdValue === null) return;
    const work: Promise<void>[] = [];
    for (const [topic, sub] of this.subs) {
      const positions = sub.positions();
      for (const p of sub.partitions) work.push(this.commitOne(this.appliedEpoch, topic, p, positions[p]!));
    }
    await Promise.all(work);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The subscriptions, as a list for poll(), and the one that handed out the last record. */
  private list: Subscription[] = [];
  private last: Subscription | null = null;

  private relist(): void {
    this.list = [...this.subs.values()];
    this.last = null;
  }

  next(): Promise<IteratorResult<ConsumedRecord>> {
    // Fast path: the rest of the fetch the last record came from (topics take turns per fetch, as
    // partitions do inside a Subscription).
    const s = this.last;
    if (s !== null && s.buffered && !this.ended) return Promise.resolve(s.tryNext()!);
    return this.nextSlow();
  }

  private async nextSlow(): Promise<IteratorResult<ConsumedRecord>> {
    // Each round delivers, ends, or sleeps until an append, an assignment or the end wakes it.
    for (;;) {
      if (this.ended) {
        if (this.failure !== null) {
          const e = this.failure;
          this.failure = null;
          throw e;
        }
        return DONE;
      }
      this.dirty = false;
      const r = this.poll();
      if (r !== null) return r;
      if (this.dirty) continue;
      await new Promise<void>((resolve) => (this.wakeUp = resolve));
    }
  }

  /** The next record of any topic, round robin; null when none is available now. */
  private poll(): IteratorResult<ConsumedRecord> | null {
    const subs = this.list;
    for (let i = 0; i < subs.length; i++) {
      const index = (this.nextSub + i) % subs.length;
      let r: IteratorResult<ConsumedRecord> | null;
      try {
        r = subs[index]!.tryNext();
      } catch (e) {
        this.end(e);
        return null;
      }
      if (r === null || r.done === true) continue;
      this.nextSub = index;
      this.last = subs[index]!;
      return r;
    }
    this.last = null;
    this.nextSub = subs.length === 0 ? 0 : (this.nextSub + 1) % subs.length;
    return null;
  }

  private wake(): void {
    this.dirty = true;
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  /** Ends the iteration and leaves the group, without committing (close() commits first). */
  end(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    // An ended member leaves at once (an error too), rather than hold its partitions until its session expires.
    const id = this.memberIdValue;
    if (id !== null) {
      try {
        this.port.leave(this.group, id);
      } catch {
        // already removed
      }
    }
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    if (this.autoCommitTimer !== null) clearInterval(this.autoCommitTimer);
    this.heartbeatTimer = this.autoCommitTimer = null;
    for (const sub of this.subs.values()) sub.end(null);
    this.joined();
    this.wake();
    this.emit('end', error);
  }

  /** Commits (autoCommit), leaves the group (its partitions go to the others at once) and ends. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.autoCommit && !this.ended) await this.commit().catch(() => undefined);
      this.end(null);
    })();
    return this.closing;
  }

  async return(): Promise<IteratorResult<ConsumedRecord>> {
    await this.close();
    return DONE;
  }
}
