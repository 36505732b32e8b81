// A consumer group member over the gateway: client.subscribe(topic | topics, { group }). Joins with
// GROUP_JOIN; the server's coordinator assigns partitions (GROUP_JOINED carries the first
// assignment, GROUP_ASSIGNMENT pushes the changes). Each topic's assigned partitions are read by an
// inner Consumer (a plain SUBSCRIBE with a partition list: its start is the group's committed
// offset, else `from`); when a topic's partitions change, its consumer is replaced by one resuming
// the kept partitions where they were. A revocation stops the partitions at once, commits their
// positions (autoCommit, fenced with GROUP_COMMIT), awaits onRevoked, then confirms with a
// heartbeat. A lost connection is a leave on the server: everything is dropped (uncommitted
// records will be delivered again, to whoever gets the partition) and the member joins again once
// reconnected. Browser-safe.
import { ClientErrorCode, SeglogClientError } from './client-errors.js';
import type { ClientConnection, PushTarget } from './connection.js';
import { Consumer, batchIterator, type ConsumerOptions } from './consumer.js';
import { DEFAULT_AUTO_COMMIT_INTERVAL_MS } from './limits.js';
import type { ClientRecord } from './record-codec.js';
import type { FrameReader } from '../protocol/codec.js';
import { FrameType } from '../protocol/frame.js';
import {
  decodeGroupAssignment,
  decodeGroupHeartbeatOk,
  decodeGroupJoined,
  encodeGroupCommit,
  encodeGroupHeartbeat,
  encodeGroupJoin,
  encodeGroupLeave,
  type WireAssignment,
  type WireTopicPartitions,
} from '../protocol/groups.js';

export type TopicPartitions = WireTopicPartitions;

export interface GroupConsumerOptions extends Omit<ConsumerOptions, 'partitions' | 'offsets' | 'group'> {
  group: string;
  /** A group member gets its partitions from the group. */
  partitions?: undefined;
  /** Removed by the server when no heartbeat came for this long (default: the server's, 10 s). */
  sessionTimeoutMs?: number;
  /** Time to commit and confirm a revocation (default: the server's, 60 s). */
  rebalanceTimeoutMs?: number;
  /** Shown in describe. */
  clientId?: string;
  /** Awaited before revoked partitions are confirmed (after the auto-commit). */
  onRevoked?: (partitions: TopicPartitions[]) => void | Promise<void>;
}

type Listener = (partitions: TopicPartitions[]) => void;

const DONE: IteratorResult<ClientRecord> = { value: undefined, done: true };

function byTopic(entries: Iterable<{ topic: string; partition: number }>): TopicPartitions[] {
  const m = new Map<string, number[]>();
  for (const e of entries) {
    let l = m.get(e.topic);
    if (l === undefined) m.set(e.topic, (l = []));
    l.push(e.partition);
  }
  return [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

export class GroupConsumer implements AsyncIterableIterator<ClientRecord>, PushTarget {
  readonly group: string;
  readonly topics: string[];
  private readonly id: number;
  private memberIdValue: string | null = null;
  private appliedEpoch = 0;
  private readonly inners = new Map<string, { consumer: Consumer; partitions: number[] }>();
  private readonly lastCommitted = new Map<string, number>();
  private gate!: () => void;
  private chain: Promise<void>;
  private applying = 0;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  private autoCommitTimer: ReturnType<typeof setInterval> | null = null;
  private state: 'joining' | 'active' | 'ended' = 'joining';
  private error: Error | null = null;
  private wakeUp: (() => void) | null = null;
  private dirty = false;
  private nextInner = 0;
  private readonly listeners = { assigned: [] as Listener[], revoked: [] as Listener[] };
  private closing: Promise<void> | null = null;
  /** Resolves once joined and the first assignment is being read (rejects when joining failed). */
  ready: Promise<void>;
  private readonly wakeFn = (): void => this.wake();

  constructor(
    private readonly client: ClientConnection,
    topics: string | string[],
    private readonly options: GroupConsumerOptions,
  ) {
    this.topics = [...new Set(typeof topics === 'string' ? [topics] : topics)];
    if (this.topics.length === 0 || this.topics.some((t) => typeof t !== 'string' || t === '')) {
      throw new SeglogClientError('INVALID_ARGUMENT', 'a group member subscribes to one or more topic names');
    }
    if (typeof options.group !== 'string' || options.group === '') throw new SeglogClientError('INVALID_ARGUMENT', 'group must be a non-empty string');
    this.group = options.group;
    this.id = client.allocateId();
    client.registerPushTarget(this.id, this);
    this.chain = new Promise((resolve) => (this.gate = resolve));
    if (options.autoCommit !== false) {
      const t = setInterval(() => void this.commit().catch(() => undefined), options.autoCommitIntervalMs ?? DEFAULT_AUTO_COMMIT_INTERVAL_MS);
      (t as { unref?: () => void }).unref?.();
      this.autoCommitTimer = t;
    }
    this.ready = this.join();
    this.ready.catch(() => undefined); // also thrown by next()
  }

  get memberId(): string | null {
    return this.memberIdValue;
  }

  get memberEpoch(): number {
    return this.appliedEpoch;
  }

  /** The partitions this member reads now. */
  assignment(): TopicPartitions[] {
    return byTopic([...this.inners].flatMap(([topic, i]) => i.partitions.map((partition) => ({ topic, partition }))));
  }

  on(event: 'assigned' | 'revoked', listener: Listener): this {
    this.listeners[event].push(listener);
    return this;
  }

  private emit(event: 'assigned' | 'revoked', partitions: TopicPartitions[]): void {
    for (const l of this.listeners[event]) l(partitions);
  }

  private async join(): Promise<void> {
    const o = this.options;
    let res;
    try {
      res = await this.client.request(
        (id) => encodeGroupJoin(id, { group: this.group, topics: this.topics, sessionTimeoutMs: o.sessionTimeoutMs ?? 0, rebalanceTimeoutMs: o.rebalanceTimeoutMs ?? 0, clientId: o.clientId ?? 'seglog-client' }),
        FrameType.GROUP_JOINED,
        decodeGroupJoined,
        { id: this.id },
      );
    } catch (e) {
      const err = e as SeglogClientError;
      // Lost the connection meanwhile: onReconnected() joins again.
      if (err.code === ClientErrorCode.DISCONNECTED && this.state !== 'ended') return;
      this.fail(err);
      throw err;
    }
    if (this.state === 'ended') {
      this.client.sendRaw(encodeGroupLeave(this.client.allocateId(), { group: this.group, memberId: res.memberId }));
      return;
    }
    this.memberIdValue = res.memberId;
    this.state = 'active';
    this.heartbeatTimer = setInterval(() => this.heartbeat(this.appliedEpoch), res.heartbeatIntervalMs);
    (this.heartbeatTimer as { unref?: () => void }).unref?.();
    this.applying++;
    try {
      await this.apply(res);
    } finally {
      this.applying--;
      this.gate();
      this.wake();
    }
  }

  private enqueue(a: WireAssignment): void {
    this.applying++;
    this.chain = this.chain
      .then(() => this.apply(a))
      .catch((e: unknown) => this.fail(e as Error))
      .finally(() => {
        this.applying--;
        this.wake();
      });
  }

  private heartbeat(epoch: number): Promise<void> {
    const memberId = this.memberIdValue;
    if (memberId === null || this.state !== 'active' || !this.client.isConnected) return Promise.resolve();
    return this.client.request((id) => encodeGroupHeartbeat(id, { group: this.group, memberId, memberEpoch: epoch }), FrameType.GROUP_HEARTBEAT_OK, decodeGroupHeartbeatOk).then(
      () => undefined,
      (e: SeglogClientError) => {
        // Removed by the server (the process stalled past its session): join again as a new member.
        if ((e.code === 'UNKNOWN_MEMBER' || e.code === 'FENCED_MEMBER') && this.memberIdValue === memberId) {
          this.dropAll();
          this.ready = this.join();
          this.ready.catch(() => undefined);
        }
      },
    );
  }

  /** Forgets the membership and every partition, without committing (the server no longer has us). */
  private dropAll(): void {
    const dropped = this.assignment();
    for (const { consumer } of this.inners.values()) {
      consumer.onWake = null;
      void consumer.close();
    }
    this.inners.clear();
    this.relist();
    this.lastCommitted.clear();
    this.memberIdValue = null;
    this.appliedEpoch = 0;
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
    if (this.state === 'active') this.state = 'joining';
    this.chain = new Promise((resolve) => (this.gate = resolve));
    if (dropped.length > 0) this.emit('revoked', dropped);
    this.wake();
  }

  private async apply(a: WireAssignment): Promise<void> {
    if (this.state === 'ended' || a.memberEpoch < this.appliedEpoch) return;
    const want = new Map<string, Set<number>>();
    for (const tp of a.assignment) want.set(tp.topic, new Set(tp.partitions));
    const revoked: Array<{ topic: string; partition: number; offset: number | undefined }> = [];
    const added: Array<{ topic: string; partition: number }> = [];
    for (const topic of new Set([...this.inners.keys(), ...want.keys()])) {
      const inner = this.inners.get(topic);
      const have = new Set(inner?.partitions ?? []);
      const next = want.get(topic) ?? new Set<number>();
      if (have.size === next.size && [...next].every((p) => have.has(p))) continue;
      const positions = inner?.consumer.positions() ?? new Map<number, number>();
      for (const p of have) if (!next.has(p)) revoked.push({ topic, partition: p, offset: positions.get(p) });
      for (const p of next) if (!have.has(p)) added.push({ topic, partition: p });
      if (inner !== undefined) {
        inner.consumer.onWake = null;
        void inner.consumer.close();
        this.inners.delete(topic);
      }
      if (next.size === 0) continue;
      const offsets: Record<number, number> = {};
      for (const p of next) if (have.has(p) && positions.has(p)) offsets[p] = positions.get(p)!;
      const { group, sessionTimeoutMs: _s, rebalanceTimeoutMs: _r, clientId: _c, onRevoked: _o, autoCommitIntervalMs: _i, ...rest } = this.options;
      const consumer = new Consumer(this.client, topic, { ...rest, group, partitions: [...next].sort((x, y) => x - y), offsets, autoCommit: false });
      consumer.onWake = this.wakeFn;
      this.inners.set(topic, { consumer, partitions: [...next].sort((x, y) => x - y) });
    }
    this.relist();
    this.appliedEpoch = a.memberEpoch;
    if (revoked.length > 0) {
      const list = byTopic(revoked);
      this.emit('revoked', list);
      if (this.options.autoCommit !== false) {
        const byTopicOffsets = new Map<string, Array<{ partition: number; offset: number }>>();
        for (const r of revoked) {
          if (r.offset === undefined || this.lastCommitted.get(`${r.topic}:${r.partition}`) === r.offset) continue;
          let l = byTopicOffsets.get(r.topic);
          if (l === undefined) byTopicOffsets.set(r.topic, (l = []));
          l.push({ partition: r.partition, offset: r.offset });
        }
        await Promise.all([...byTopicOffsets].map(([topic, offsets]) => this.commitTopic(a.memberEpoch, topic, offsets).catch(() => undefined)));
      }
      await this.options.onRevoked?.(list);
      for (const r of revoked) this.lastCommitted.delete(`${r.topic}:${r.partition}`);
    }
    if (added.length > 0) this.emit('assigned', byTopic(added));
    this.wake();
    // Confirms at once: the coordinator may be waiting on this epoch (a revocation, also of
    // partitions revoked before we heard of them, as when several members join at once).
    await this.heartbeat(a.memberEpoch);
  }

  private async commitTopic(epoch: number, topic: string, offsets: Array<{ partition: number; offset: number }>): Promise<void> {
    const memberId = this.memberIdValue;
    if (memberId === null) return;
    await this.client.request((id) => encodeGroupCommit(id, { group: this.group, memberId, memberEpoch: epoch, topic, offsets }), FrameType.GROUP_COMMIT_OK, (r) => r.end());
    for (const o of offsets) this.lastCommitted.set(`${topic}:${o.partition}`, o.offset);
  }

  /** Commits the positions (next offsets to read) of every partition this member reads; fenced by the server. */
  async commit(): Promise<void> {
    if (this.memberIdValue === null) return;
    const work: Promise<void>[] = [];
    for (const [topic, { consumer }] of this.inners) {
      const offsets = [...consumer.positions()].filter(([p, o]) => this.lastCommitted.get(`${topic}:${p}`) !== o).map(([partition, offset]) => ({ partition, offset }));
      if (offsets.length > 0) work.push(this.commitTopic(this.appliedEpoch, topic, offsets));
    }
    await Promise.all(work);
  }

  // --- PushTarget ------------------------------------------------------------------------------

  onPush(type: number, reader: FrameReader): void {
    if (type !== FrameType.GROUP_ASSIGNMENT || this.state === 'ended') return;
    this.enqueue(decodeGroupAssignment(reader));
  }

  onSubscriptionError(error: SeglogClientError): void {
    this.fail(error);
  }

  onDisconnected(): void {
    if (this.state !== 'ended') this.dropAll();
  }

  onReconnected(): void {
    if (this.state === 'ended' || this.memberIdValue !== null) return;
    this.ready = this.join();
    this.ready.catch(() => undefined);
  }

  onClientClosed(error: SeglogClientError): void {
    if (error.code === ClientErrorCode.CLOSED) this.end();
    else this.fail(error);
  }

  // --- iteration -------------------------------------------------------------------------------

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The inner consumers, as a list for poll(), and the one that handed out the last record. */
  private list: Consumer[] = [];
  private last: Consumer | null = null;

  private relist(): void {
    this.list = [...this.inners.values()].map((i) => i.consumer);
    this.last = null;
  }

  next(): Promise<IteratorResult<ClientRecord>> {
    // Fast path: the rest of the batch the last record came from (topics take turns per batch).
    const c = this.last;
    if (c !== null && c.hasBatchRecord && this.error === null && this.state !== 'ended') return Promise.resolve(c.tryNext()!);
    return this.nextSlow();
  }

  private async nextSlow(): Promise<IteratorResult<ClientRecord>> {
    const r = await this.pull((c) => {
      const x = c.tryNext();
      return x === null ? null : x.done === true ? 'done' : x.value;
    });
    return r === null ? DONE : { value: r, done: false };
  }

  /**
   * The records of the next delivered batch of any topic not yet handed out, as one array (as
   * Consumer.nextBatch()); null when the iteration is over.
   */
  nextBatch(): Promise<ClientRecord[] | null> {
    return this.pull((c) => {
      const x = c.tryNextBatch();
      return x === null ? null : x.length === 0 ? 'done' : x;
    });
  }

  /** `for await (const records of member.batches())`: nextBatch() as an async iterator; break closes the member. */
  batches(): AsyncIterableIterator<ClientRecord[]> {
    return batchIterator(this);
  }

  /** Takes from the inner consumers; null when the iteration is over. */
  private async pull<T>(take: (c: Consumer) => T | 'done' | null): Promise<T | null> {
    // Each round delivers, ends, or sleeps until a delivery, an assignment or the end wakes it.
    for (;;) {
      if (this.error !== null) {
        const e = this.error;
        this.error = null;
        throw e;
      }
      if (this.state === 'ended') return null;
      this.dirty = false;
      const r = this.poll(take);
      if (r === 'end') {
        await this.close();
        return null;
      }
      if (r !== null) return r;
      if (this.dirty) continue;
      await new Promise<void>((resolve) => (this.wakeUp = resolve));
    }
  }

  /** What `take` gives from the next topic that has something (round robin); 'end' when stopAtEnd is met; null when none now. */
  private poll<T>(take: (c: Consumer) => T | 'done' | null): T | 'end' | null {
    const inners = this.list;
    let done = 0;
    for (let i = 0; i < inners.length; i++) {
      const index = (this.nextInner + i) % inners.length;
      let r: T | 'done' | null;
      try {
        r = take(inners[index]!);
      } catch (e) {
        this.fail(e as Error);
        return null;
      }
      if (r === null) continue;
      if (r === 'done') {
        done++;
        continue;
      }
      this.nextInner = index;
      this.last = inners[index]!;
      return r;
    }
    this.last = null;
    this.nextInner = inners.length === 0 ? 0 : (this.nextInner + 1) % inners.length;
    if (this.options.stopAtEnd === true && this.state === 'active' && this.applying === 0 && done === inners.length) return 'end';
    return null;
  }

  private wake(): void {
    this.dirty = true;
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private fail(e: Error): void {
    if (this.state === 'ended') return;
    this.error = e;
    this.end();
  }

  private end(): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    // An ended member (an error too) leaves at once rather than hold its partitions until its session expires.
    const memberId = this.memberIdValue;
    this.memberIdValue = null;
    if (memberId !== null) this.client.sendRaw(encodeGroupLeave(this.client.allocateId(), { group: this.group, memberId }));
    for (const t of [this.heartbeatTimer, this.autoCommitTimer]) if (t !== null) clearInterval(t);
    this.heartbeatTimer = this.autoCommitTimer = null;
    for (const { consumer } of this.inners.values()) {
      consumer.onWake = null;
      void consumer.close();
    }
    this.inners.clear();
    this.relist();
    this.client.unregisterPushTarget(this.id);
    this.gate();
    this.wake();
  }

  /** Commits (autoCommit), leaves the group (its partitions go to the other members at once), ends. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const memberId = this.memberIdValue;
      if (this.state !== 'ended' && memberId !== null && this.client.isConnected) {
        if (this.options.autoCommit !== false) await this.commit().catch(() => undefined);
        // Left by request (answered), so that the partitions are the others' when close() resolves.
        this.memberIdValue = null;
        this.end();
        await this.client.request((id) => encodeGroupLeave(id, { group: this.group, memberId }), FrameType.GROUP_LEFT, (r) => r.end()).catch(() => undefined);
      }
      this.end();
    })();
    return this.closing;
  }

  async return(): Promise<IteratorResult<ClientRecord>> {
    await this.close();
    return DONE;
  }
}
