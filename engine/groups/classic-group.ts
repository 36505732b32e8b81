// One group on Kafka's classic protocol (JoinGroup/SyncGroup/Heartbeat/LeaveGroup), the state
// machine of Kafka's own GroupCoordinator, kept free of any wire format: protocol metadata and
// assignments are opaque bytes relayed between members (the front end parses them only to show
// topics and assignments in describe). The coordinator (coordinator.ts) owns the group's name,
// persistence, member limit and the rule that a group's live members speak one protocol.
//
// States: 'empty' (no members), 'preparing' (PreparingRebalance: waiting for every member to send
// JoinGroup, at most the largest rebalanceTimeoutMs of the members; those that did not rejoin by
// then are removed), 'completing' (CompletingRebalance: the generation is set, waiting for the
// leader's SyncGroup), 'stable'. The protocol is eager: a rebalance revokes every assignment at
// once, so a member owns nothing between the start of a rebalance and the leader's SyncGroup.
//
// Waits and their bounds: a JoinGroup waits at most the group's rebalance timeout (then the
// rebalance completes without the missing members); a follower's SyncGroup waits for the leader's,
// which ends when the leader syncs, or is removed (session timeout), or a new rebalance starts
// (the waiting SyncGroups then answer REBALANCE_IN_PROGRESS). Waiting requests number at most
// one per member, and members at most the coordinator's maxMembersPerGroup.
import { randomUUID } from 'node:crypto';
import { ClosedError, FencedMemberError, GroupProtocolMismatchError, RebalanceInProgressError, UnknownMemberError } from '../format/errors.js';
import type { GroupEvent, TopicPartitions } from './group-types.js';

export type ClassicState = 'empty' | 'preparing' | 'completing' | 'stable';

/** Kafka's names of the states (DescribeGroups, ListGroups). */
export const KAFKA_STATE_NAME: Readonly<Record<ClassicState, string>> = {
  empty: 'Empty',
  preparing: 'PreparingRebalance',
  completing: 'CompletingRebalance',
  stable: 'Stable',
};

export interface ClassicProtocol {
  /** The assignor's name (range, roundrobin, cooperative-sticky, ...). */
  name: string;
  /** The member's subscription in that assignor's format (opaque here). */
  metadata: Uint8Array;
}

export interface ClassicJoinOptions {
  /** '' for a new member (the coordinator gives it an id), else the id it was given. */
  memberId: string;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** Kafka's protocolType; consumers send 'consumer' (the only one served). */
  protocolType: string;
  protocols: ClassicProtocol[];
  /** Topics the member subscribes to (parsed by the front end from the metadata), for describe and lag. */
  topics: string[];
}

export interface ClassicJoinResult {
  generationId: number;
  protocolName: string;
  leaderId: string;
  memberId: string;
  /** Every member with its metadata for the chosen protocol: for the leader only (empty for others). */
  members: Array<{ memberId: string; metadata: Uint8Array }>;
}

export interface ClassicAssignment {
  memberId: string;
  /** Opaque to the coordinator: relayed to the member. */
  assignment: Uint8Array;
  /** The same, parsed by the front end (describe, lag, owners). */
  partitions: TopicPartitions[];
}

export interface ClassicMemberDescription {
  memberId: string;
  clientId: string;
  clientHost: string;
  /** Metadata for the group's chosen protocol (empty before the first generation). */
  metadata: Uint8Array;
  assignment: Uint8Array;
  partitions: TopicPartitions[];
  topics: string[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (e: Error) => void;
}

interface ClassicMember {
  readonly id: string;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: ClassicProtocol[];
  topics: string[];
  assignment: Uint8Array;
  partitions: TopicPartitions[];
  join: Waiter<ClassicJoinResult> | null;
  sync: Waiter<Uint8Array> | null;
  sessionTimer: NodeJS.Timeout | null;
}

export interface ClassicGroupDeps {
  /** Reports each step (joined, left, removed, assigned, revoked) in the coordinator's event stream. */
  emit(type: GroupEvent['type'], memberId: string, generation: number, partitions?: TopicPartitions[], reason?: string): void;
}

const EMPTY = new Uint8Array(0);

export class ClassicGroup {
  state: ClassicState = 'empty';
  generation: number;
  protocolName = '';
  leaderId = '';
  rebalances = 0;
  readonly members = new Map<string, ClassicMember>();
  private rebalanceTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly name: string,
    /** The generation the group continues from (the persisted group epoch). */
    generation: number,
    private readonly deps: ClassicGroupDeps,
  ) {
    this.generation = generation;
  }

  /** JoinGroup: resolves when the rebalance completes (every member joined, or the rebalance timeout passed). */
  join(o: ClassicJoinOptions): Promise<ClassicJoinResult> {
    if (this.closed) throw new ClosedError('the group coordinator');
    if (o.protocolType !== 'consumer') throw new GroupProtocolMismatchError(this.name, `protocol type ${JSON.stringify(o.protocolType)} is not served (only "consumer")`);
    if (o.protocols.length === 0) throw new GroupProtocolMismatchError(this.name, 'a member names at least one assignor');
    const common = this.commonProtocols(o.memberId);
    if (common !== null && !o.protocols.some((p) => common.has(p.name))) {
      throw new GroupProtocolMismatchError(this.name, `none of the assignors ${o.protocols.map((p) => p.name).join(', ')} is supported by every member (${[...common].join(', ')})`);
    }
    let member: ClassicMember;
    if (o.memberId === '') {
      const id = `${o.clientId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64)}-${randomUUID()}`;
      member = { id, clientId: o.clientId, clientHost: o.clientHost, sessionTimeoutMs: o.sessionTimeoutMs, rebalanceTimeoutMs: o.rebalanceTimeoutMs, protocols: o.protocols, topics: o.topics, assignment: EMPTY, partitions: [], join: null, sync: null, sessionTimer: null };
      this.members.set(id, member);
      this.deps.emit('joined', id, this.generation);
    } else {
      const known = this.members.get(o.memberId);
      if (known === undefined) throw new UnknownMemberError(this.name, o.memberId);
      member = known;
      Object.assign(member, { clientId: o.clientId, clientHost: o.clientHost, sessionTimeoutMs: o.sessionTimeoutMs, rebalanceTimeoutMs: o.rebalanceTimeoutMs, protocols: o.protocols, topics: o.topics });
      // A second JoinGroup replaces the first (the client gave up on it).
      member.join?.reject(new RebalanceInProgressError(this.name));
    }
    // While its join waits, the rebalance timeout governs the member, not the session timeout.
    this.stopSession(member);
    const p = new Promise<ClassicJoinResult>((resolve, reject) => {
      member.join = { resolve, reject };
    });
    if (this.state !== 'preparing') this.prepareRebalance();
    this.tryCompleteJoin();
    return p;
  }

  /** SyncGroup: the leader hands the assignment; every member gets its part. */
  sync(memberId: string, generation: number, assignments: readonly ClassicAssignment[] | null): Promise<Uint8Array> {
    const member = this.member(memberId);
    this.touch(member);
    if (generation !== this.generation) throw this.fenced(memberId, generation);
    if (this.state === 'preparing') throw new RebalanceInProgressError(this.name);
    if (this.state === 'stable') return Promise.resolve(member.assignment);
    // completing
    if (memberId === this.leaderId) {
      // A leader's empty list gives every member an empty assignment (Kafka does the same).
      for (const m of this.members.values()) {
        const a = assignments?.find((x) => x.memberId === m.id);
        m.assignment = a?.assignment ?? EMPTY;
        m.partitions = a?.partitions ?? [];
        if (m.partitions.length > 0) this.deps.emit('assigned', m.id, this.generation, m.partitions);
      }
      this.state = 'stable';
      this.rebalances++;
      for (const m of this.members.values()) {
        if (m.sync !== null && m !== member) m.sync.resolve(m.assignment);
        m.sync = null;
      }
      return Promise.resolve(member.assignment);
    }
    member.sync?.reject(new RebalanceInProgressError(this.name));
    return new Promise<Uint8Array>((resolve, reject) => {
      member.sync = { resolve, reject };
    });
  }

  /** Heartbeat: REBALANCE_IN_PROGRESS while members must rejoin, ILLEGAL_GENERATION (FENCED_MEMBER) for an old generation. */
  heartbeat(memberId: string, generation: number): void {
    const member = this.member(memberId);
    this.touch(member);
    if (generation !== this.generation) throw this.fenced(memberId, generation);
    if (this.state === 'preparing') throw new RebalanceInProgressError(this.name);
  }

  /** OffsetCommit's check (Kafka 3's order): the member, the current generation, then no sync in progress. */
  checkCommit(memberId: string, generation: number): void {
    const member = this.member(memberId);
    this.touch(member);
    if (generation !== this.generation) throw this.fenced(memberId, generation);
    if (this.state === 'completing') throw new RebalanceInProgressError(this.name);
  }

  leave(memberId: string): void {
    this.remove(this.member(memberId), 'left');
  }

  owners(): Map<string, TopicPartitions[]> {
    const out = new Map<string, TopicPartitions[]>();
    for (const m of this.members.values()) out.set(m.id, m.partitions);
    return out;
  }

  describeMembers(): ClassicMemberDescription[] {
    return [...this.members.values()].map((m) => ({
      memberId: m.id,
      clientId: m.clientId,
      clientHost: m.clientHost,
      metadata: m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? EMPTY,
      assignment: m.assignment,
      partitions: m.partitions,
      topics: [...m.topics],
      sessionTimeoutMs: m.sessionTimeoutMs,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
    }));
  }

  close(): void {
    this.closed = true;
    if (this.rebalanceTimer !== null) clearTimeout(this.rebalanceTimer);
    for (const m of this.members.values()) {
      this.stopSession(m);
      m.join?.reject(new ClosedError('the group coordinator'));
      m.sync?.reject(new ClosedError('the group coordinator'));
    }
    this.members.clear();
  }

  // --- internals -------------------------------------------------------------------------------

  private member(memberId: string): ClassicMember {
    const m = this.members.get(memberId);
    if (m === undefined) throw new UnknownMemberError(this.name, String(memberId));
    return m;
  }

  private fenced(memberId: string, generation: number): FencedMemberError {
    return new FencedMemberError(`generation ${generation} of member ${JSON.stringify(memberId)} in consumer group ${JSON.stringify(this.name)} is not the current one (${this.generation}): join again`);
  }

  /** Assignor names every other member supports, or null when there is no other member. */
  private commonProtocols(except: string): Set<string> | null {
    let common: string[] | null = null;
    for (const m of this.members.values()) {
      if (m.id === except) continue;
      const names = m.protocols.map((p) => p.name);
      common = common === null ? names : common.filter((n: string) => names.includes(n));
    }
    return common === null ? null : new Set(common);
  }

  /** Any request from a member restarts its session (Kafka counts every group request as a heartbeat). */
  private touch(m: ClassicMember): void {
    if (m.join !== null) return;
    if (m.sessionTimer === null) {
      const id = m.id;
      m.sessionTimer = setTimeout(() => this.expire(id, `no heartbeat within sessionTimeoutMs ${m.sessionTimeoutMs}`), m.sessionTimeoutMs);
      m.sessionTimer.unref();
    } else {
      m.sessionTimer.refresh();
    }
  }

  private stopSession(m: ClassicMember): void {
    if (m.sessionTimer !== null) clearTimeout(m.sessionTimer);
    m.sessionTimer = null;
  }

  private expire(memberId: string, reason: string): void {
    const m = this.members.get(memberId);
    if (m !== undefined) this.remove(m, 'removed', reason);
  }

  private remove(m: ClassicMember, type: 'left' | 'removed', reason?: string): void {
    this.stopSession(m);
    this.members.delete(m.id);
    m.join?.reject(new UnknownMemberError(this.name, m.id));
    m.sync?.reject(new UnknownMemberError(this.name, m.id));
    if (m.partitions.length > 0) this.deps.emit('released', m.id, this.generation, m.partitions);
    this.deps.emit(type, m.id, this.generation, undefined, reason);
    if (this.members.size === 0) {
      if (this.rebalanceTimer !== null) clearTimeout(this.rebalanceTimer);
      this.rebalanceTimer = null;
      this.state = 'empty';
      this.generation++;
      this.leaderId = '';
      this.protocolName = '';
      return;
    }
    if (this.state !== 'preparing') this.prepareRebalance();
    this.tryCompleteJoin();
  }

  /** Starts a rebalance: every assignment is revoked, waiting syncs are told, members must rejoin. */
  private prepareRebalance(): void {
    this.state = 'preparing';
    for (const m of this.members.values()) {
      // Eager: told to stop and no longer the owner in one step (revoked, then released at once).
      if (m.partitions.length > 0) {
        this.deps.emit('revoked', m.id, this.generation, m.partitions);
        this.deps.emit('released', m.id, this.generation, m.partitions);
      }
      m.assignment = EMPTY;
      m.partitions = [];
      m.sync?.reject(new RebalanceInProgressError(this.name));
      m.sync = null;
    }
    const timeout = Math.max(...[...this.members.values()].map((m) => m.rebalanceTimeoutMs));
    if (this.rebalanceTimer !== null) clearTimeout(this.rebalanceTimer);
    // Not unref'd: JoinGroup requests wait on it (close() clears it).
    this.rebalanceTimer = setTimeout(() => this.completeJoin(), timeout);
  }

  private tryCompleteJoin(): void {
    if (this.state !== 'preparing') return;
    for (const m of this.members.values()) if (m.join === null) return;
    this.completeJoin();
  }

  /** Ends the join phase: members that did not rejoin are removed, a new generation starts. */
  private completeJoin(): void {
    if (this.closed || this.state !== 'preparing') return;
    if (this.rebalanceTimer !== null) clearTimeout(this.rebalanceTimer);
    this.rebalanceTimer = null;
    for (const m of [...this.members.values()]) {
      if (m.join !== null) continue;
      this.stopSession(m);
      this.members.delete(m.id);
      this.deps.emit('removed', m.id, this.generation, undefined, `did not rejoin within rebalanceTimeoutMs ${m.rebalanceTimeoutMs}`);
    }
    this.generation++;
    if (this.members.size === 0) {
      this.state = 'empty';
      this.leaderId = '';
      return;
    }
    if (!this.members.has(this.leaderId)) this.leaderId = this.members.keys().next().value as string;
    const leader = this.members.get(this.leaderId)!;
    const common = this.commonProtocols('') ?? new Set<string>();
    this.protocolName = leader.protocols.find((p) => common.has(p.name))?.name ?? leader.protocols[0]!.name;
    this.state = 'completing';
    const members = [...this.members.values()].map((m) => ({ memberId: m.id, metadata: m.protocols.find((p) => p.name === this.protocolName)?.metadata ?? EMPTY }));
    for (const m of this.members.values()) {
      const w = m.join!;
      m.join = null;
      this.touch(m);
      w.resolve({ generationId: this.generation, protocolName: this.protocolName, leaderId: this.leaderId, memberId: m.id, members: m.id === this.leaderId ? members : [] });
    }
  }
}
