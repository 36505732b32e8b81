// The consumer group coordinator: membership (join, heartbeat, leave, removal after
// sessionTimeoutMs), the target assignment (assignor.ts) and its reconciliation, revoke before
// assign: a partition taken from a member is first revoked (the member is told, commits and
// confirms with a heartbeat carrying the epoch it was told, within rebalanceTimeoutMs or it is
// removed) and only then assigned to its new owner, so no partition ever has two owners. Commits of
// group members are fenced here (checkCommit): only the member owning the partition may commit it.
// Independent of any wire protocol; listeners get each member's assignment as it changes.
//
// Epochs. The group epoch (Kafka's generation) is bumped by every membership, subscription or
// partition-count change. A member's epoch is bumped each time its assignment changes; it acks a
// revocation by sending a heartbeat with an epoch at least that of the revocation.
//
// Kafka's classic protocol (a later front end, protocolType 'consumer') maps onto the same state:
// JoinGroup = join() (the coordinator generates member ids, as Kafka does since KIP-394) and waits
// until every member has rejoined or rebalanceTimeoutMs passed; the group epoch is the generation
// id; the first member is the leader and gets the member list with their subscriptions; SyncGroup
// from the leader carries the assignment, which replaces assignSticky's target (the coordinator then
// hands each member its part in SyncGroup's answer instead of through a listener; the classic
// protocol has no revoke-before-assign: a rebalance revokes everything at JoinGroup, so every
// member's owned set is emptied when the rebalance starts). A heartbeat during a rebalance answers
// REBALANCE_IN_PROGRESS, a stale generation ILLEGAL_GENERATION (FENCED_MEMBER here), an unknown
// member UNKNOWN_MEMBER_ID (UNKNOWN_MEMBER here); OffsetCommit checks generation and member as
// checkCommit does. That state machine (the JoinGroup barrier, SyncGroup) is classic-group.ts; a
// group holds it next to its seglog members, and its live members are all of one kind.
import { randomUUID } from 'node:crypto';
import { ClosedError, FencedMemberError, GroupNotEmptyError, GroupProtocolMismatchError, GroupNotFoundError, InvalidArgumentError, TooManyGroupsError, TooManyMembersError, TopicNotFoundError, UnknownMemberError } from '../format/errors.js';
import { GROUP_LIMITS } from '../limits.js';
import { validateGroupName } from '../offset-store.js';
import { assignSticky, partitionKey, splitKey } from './assignor.js';
import { ClassicGroup, KAFKA_STATE_NAME, type ClassicAssignment, type ClassicJoinOptions, type ClassicJoinResult, type ClassicMemberDescription } from './classic-group.js';
import type { GroupStore } from './group-store.js';
import type {
  GroupEvent,
  GroupListing,
  GroupMemberDescription,
  GroupProtocolType,
  GroupState,
  JoinGroupOptions,
  JoinGroupResult,
  MemberAssignment,
  TopicPartitions,
} from './group-types.js';

export interface CoordinatorDeps {
  /** A topic's partition count, or null when it does not exist. */
  partitionCount(topic: string): number | null;
  store: GroupStore;
  maxGroups: number;
  maxMembersPerGroup: number;
  now: () => number;
}

interface Member {
  readonly id: string;
  readonly clientId: string;
  readonly topics: string[];
  readonly topicSet: Set<string>;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  epoch: number;
  /** May consume these now. */
  readonly owned: Set<string>;
  /** Told to stop; still the owner until it confirms (or is removed). */
  readonly revoking: Set<string>;
  /** The epoch that carried the newest revocation: a heartbeat at or above it confirms. */
  revokeEpoch: number;
  target: Set<string>;
  readonly listener: (a: MemberAssignment) => void;
  readonly sessionTimer: NodeJS.Timeout;
  rebalanceTimer: NodeJS.Timeout | null;
}

interface Group {
  readonly name: string;
  /** Of the live members (one kind at a time); of the creating member while empty. */
  protocolType: GroupProtocolType;
  /** The classic-protocol (Kafka) state, made at the first classic join. */
  classic: ClassicGroup | null;
  epoch: number;
  rebalances: number;
  readonly members: Map<string, Member>;
}

/** Checks an integer option in [min, max]; undefined gives `fallback`. */
function bounded(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max} (ms), got ${String(value)}`);
  }
  return value;
}

/** Keys grouped by topic, partitions sorted. */
export function byTopic(keys: Iterable<string>): TopicPartitions[] {
  const m = new Map<string, number[]>();
  for (const k of keys) {
    const { topic, partition } = splitKey(k);
    let list = m.get(topic);
    if (list === undefined) m.set(topic, (list = []));
    list.push(partition);
  }
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly creating = new Map<string, Promise<Group>>();
  private readonly listeners = new Set<(e: GroupEvent) => void>();
  private seq = 0;
  private closed = false;

  constructor(private readonly deps: CoordinatorDeps) {}

  // --- membership ------------------------------------------------------------------------------

  /** Adds a member (creating the group durably if new); `listener` gets its assignment as it changes. */
  async join(name: string, options: JoinGroupOptions, listener: (a: MemberAssignment) => void): Promise<JoinGroupResult> {
    validateGroupName(name);
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('join needs an options object');
    const topics = options.topics;
    if (!Array.isArray(topics) || topics.length === 0) throw new InvalidArgumentError('a group member subscribes to at least one topic');
    if (topics.length > GROUP_LIMITS.topicsPerMemberMax) {
      throw new InvalidArgumentError(`a group member subscribes to at most ${GROUP_LIMITS.topicsPerMemberMax} topics, got ${topics.length}`);
    }
    for (const t of topics) if (typeof t !== 'string' || this.deps.partitionCount(t) === null) throw new TopicNotFoundError(String(t));
    const sessionTimeoutMs = bounded('sessionTimeoutMs', options.sessionTimeoutMs, GROUP_LIMITS.sessionTimeoutMsDefault, GROUP_LIMITS.sessionTimeoutMsMin, GROUP_LIMITS.sessionTimeoutMsMax);
    const rebalanceTimeoutMs = bounded('rebalanceTimeoutMs', options.rebalanceTimeoutMs, GROUP_LIMITS.rebalanceTimeoutMsDefault, GROUP_LIMITS.rebalanceTimeoutMsMin, GROUP_LIMITS.rebalanceTimeoutMsMax);
    const clientId = typeof options.clientId === 'string' ? options.clientId.slice(0, 255) : 'member';
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener must be a function');
    const group = await this.groupForJoin(name, 'seglog');
    if (this.closed) throw new ClosedError('the group coordinator');
    if (group.classic !== null && group.classic.members.size > 0) {
      throw new GroupProtocolMismatchError(name, `its ${group.classic.members.size} member(s) use Kafka's classic protocol (JoinGroup/SyncGroup); a seglog member can join once the group is empty`);
    }
    group.protocolType = 'seglog';
    if (group.members.size >= this.deps.maxMembersPerGroup) throw new TooManyMembersError(name, this.deps.maxMembersPerGroup);
    const id = `${clientId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64)}-${randomUUID()}`;
    const member: Member = {
      id,
      clientId,
      topics: [...new Set(topics)],
      topicSet: new Set(topics),
      sessionTimeoutMs,
      rebalanceTimeoutMs,
      epoch: 0,
      owned: new Set(),
      revoking: new Set(),
      revokeEpoch: 0,
      target: new Set(),
      listener,
      sessionTimer: setTimeout(() => this.expire(name, id, `no heartbeat within sessionTimeoutMs ${sessionTimeoutMs}`), sessionTimeoutMs),
      rebalanceTimer: null,
    };
    member.sessionTimer.unref();
    group.members.set(id, member);
    group.epoch++;
    this.emit(group, member, 'joined');
    this.reconcile(group);
    return { memberId: id, memberEpoch: member.epoch, heartbeatIntervalMs: heartbeatInterval(sessionTimeoutMs) };
  }

  /**
   * Kafka's JoinGroup (classic protocol, classic-group.ts): resolves when the rebalance completes.
   * Refused (GROUP_PROTOCOL_MISMATCH) while the group has seglog members.
   */
  async joinClassic(name: string, options: ClassicJoinOptions): Promise<ClassicJoinResult> {
    validateGroupName(name);
    const o: ClassicJoinOptions = {
      ...options,
      clientId: String(options.clientId).slice(0, 255),
      sessionTimeoutMs: bounded('sessionTimeoutMs', options.sessionTimeoutMs, GROUP_LIMITS.sessionTimeoutMsDefault, GROUP_LIMITS.sessionTimeoutMsMin, GROUP_LIMITS.sessionTimeoutMsMax),
      rebalanceTimeoutMs: bounded('rebalanceTimeoutMs', options.rebalanceTimeoutMs, GROUP_LIMITS.rebalanceTimeoutMsDefault, GROUP_LIMITS.rebalanceTimeoutMsMin, GROUP_LIMITS.rebalanceTimeoutMsMax),
      topics: options.topics.slice(0, GROUP_LIMITS.topicsPerMemberMax),
    };
    const group = await this.groupForJoin(name, 'consumer');
    if (this.closed) throw new ClosedError('the group coordinator');
    if (group.members.size > 0) {
      throw new GroupProtocolMismatchError(name, `its ${group.members.size} member(s) use seglog's group protocol (WebSocket or embedded); a Kafka member can join once the group is empty`);
    }
    const classic = (group.classic ??= new ClassicGroup(name, group.epoch, {
      emit: (type, memberId, generation, partitions, reason) => this.emitFor(name, memberId, generation, type, partitions, reason),
    }));
    if (o.memberId === '' && classic.members.size >= this.deps.maxMembersPerGroup) throw new TooManyMembersError(name, this.deps.maxMembersPerGroup);
    group.protocolType = 'consumer';
    return classic.join(o);
  }

  /** Kafka's SyncGroup: `assignments` from the leader (null from a follower); resolves with the member's assignment. */
  syncClassic(name: string, memberId: string, generation: number, assignments: readonly ClassicAssignment[] | null): Promise<Uint8Array> {
    return this.classicOf(name, memberId).sync(memberId, generation, assignments);
  }

  /** Kafka's Heartbeat: REBALANCE_IN_PROGRESS, FENCED_MEMBER (ILLEGAL_GENERATION), UNKNOWN_MEMBER. */
  heartbeatClassic(name: string, memberId: string, generation: number): void {
    this.classicOf(name, memberId).heartbeat(memberId, generation);
  }

  /** Kafka's LeaveGroup: the others rebalance. */
  leaveClassic(name: string, memberId: string): void {
    this.classicOf(name, memberId).leave(memberId);
  }

  /** Kafka's view of a classic group (DescribeGroups), or null when the group never had a classic member here. */
  describeClassic(name: string): { state: string; protocolName: string; members: ClassicMemberDescription[] } | null {
    const classic = this.groups.get(name)?.classic;
    if (classic === undefined || classic === null) return null;
    return { state: KAFKA_STATE_NAME[classic.state], protocolName: classic.state === 'empty' ? '' : classic.protocolName, members: classic.describeMembers() };
  }

  private classicOf(name: string, memberId: string): ClassicGroup {
    const classic = this.groups.get(name)?.classic;
    if (classic === undefined || classic === null) throw new UnknownMemberError(name, String(memberId));
    return classic;
  }

  private groupForJoin(name: string, protocolType: GroupProtocolType): Promise<Group> {
    const live = this.groups.get(name);
    if (live !== undefined) return Promise.resolve(live);
    let p = this.creating.get(name);
    if (p === undefined) {
      p = this.createGroup(name, protocolType).finally(() => this.creating.delete(name));
      this.creating.set(name, p);
    }
    return p;
  }

  private async createGroup(name: string, protocolType: GroupProtocolType): Promise<Group> {
    const stored = this.deps.store.get(name);
    if (stored === undefined) {
      if (this.deps.store.size >= this.deps.maxGroups) throw new TooManyGroupsError(this.deps.maxGroups);
      await this.deps.store.put(name, { protocolType, createdAt: this.deps.now(), groupEpoch: 0 });
    }
    const group: Group = { name, protocolType: stored?.protocolType ?? protocolType, classic: null, epoch: (stored?.groupEpoch ?? 0) + (stored === undefined ? 0 : 1), rebalances: 0, members: new Map() };
    this.groups.set(name, group);
    return group;
  }

  /**
   * Keeps the member alive; `memberEpoch` is the newest epoch whose assignment it has applied
   * (confirming a revocation told at or below it). Returns its current epoch.
   */
  heartbeat(name: string, memberId: string, memberEpoch: number): { memberEpoch: number; heartbeatIntervalMs: number } {
    const { group, member } = this.member(name, memberId);
    member.sessionTimer.refresh();
    if (!Number.isSafeInteger(memberEpoch) || memberEpoch < 0 || memberEpoch > member.epoch) {
      throw new FencedMemberError(`member epoch ${String(memberEpoch)} of ${memberId} in group ${JSON.stringify(name)} was never given (its epoch is ${member.epoch})`);
    }
    if (member.revoking.size > 0 && memberEpoch >= member.revokeEpoch) {
      this.release(group, member, [...member.revoking]);
      this.reconcile(group);
    }
    return { memberEpoch: member.epoch, heartbeatIntervalMs: heartbeatInterval(member.sessionTimeoutMs) };
  }

  /** The member leaves at once: what it owns is released and reassigned. */
  leave(name: string, memberId: string): void {
    const { group, member } = this.member(name, memberId);
    this.remove(group, member, 'left');
  }

  private member(name: string, memberId: string): { group: Group; member: Member } {
    const group = this.groups.get(name);
    const member = group?.members.get(memberId);
    if (group === undefined || member === undefined) throw new UnknownMemberError(name, String(memberId));
    return { group, member };
  }

  private expire(name: string, memberId: string, reason: string): void {
    const group = this.groups.get(name);
    const member = group?.members.get(memberId);
    if (group !== undefined && member !== undefined) this.remove(group, member, 'removed', reason);
  }

  private remove(group: Group, member: Member, type: 'left' | 'removed', reason?: string): void {
    clearTimeout(member.sessionTimer);
    if (member.rebalanceTimer !== null) clearTimeout(member.rebalanceTimer);
    this.release(group, member, [...member.owned, ...member.revoking]);
    group.members.delete(member.id);
    group.epoch++;
    this.emit(group, member, type, undefined, reason);
    this.reconcile(group);
  }

  /** The member no longer owns `keys`. */
  private release(group: Group, member: Member, keys: string[]): void {
    for (const k of keys) {
      member.owned.delete(k);
      member.revoking.delete(k);
    }
    if (member.revoking.size === 0 && member.rebalanceTimer !== null) {
      clearTimeout(member.rebalanceTimer);
      member.rebalanceTimer = null;
    }
    if (keys.length > 0) this.emit(group, member, 'released', byTopic(keys));
  }

  /** A topic grew or went away: reassign in the groups that subscribe to it. */
  topicChanged(topic: string): void {
    for (const group of this.groups.values()) {
      if (![...group.members.values()].some((m) => m.topicSet.has(topic))) continue;
      group.epoch++;
      this.reconcile(group);
    }
  }

  // --- assignment ------------------------------------------------------------------------------

  /**
   * Moves the group toward its target assignment: first revokes what members must give up (they
   * keep owning it until they confirm), then assigns only partitions nobody owns.
   */
  private reconcile(group: Group): void {
    if (this.closed) return;
    const members = [...group.members.values()];
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
    const partitions: Array<{ key: string; topic: string }> = [];
    for (const topic of topics) {
      const n = this.deps.partitionCount(topic) ?? 0;
      for (let p = 0; p < n; p++) partitions.push({ key: partitionKey(topic, p), topic });
    }
    const target = assignSticky(members.map((m) => ({ memberId: m.id, topics: m.topicSet, owned: new Set([...m.owned, ...m.revoking]) })), partitions);
    const changed = new Set<Member>();
    for (const m of members) {
      m.target = target.get(m.id)!;
      const revoke = [...m.owned].filter((k) => !m.target.has(k));
      if (revoke.length === 0) continue;
      for (const k of revoke) {
        m.owned.delete(k);
        m.revoking.add(k);
      }
      m.epoch++;
      m.revokeEpoch = m.epoch;
      changed.add(m);
      if (m.rebalanceTimer === null) {
        const name = group.name;
        const id = m.id;
        m.rebalanceTimer = setTimeout(() => this.expire(name, id, `did not confirm revoked partitions within rebalanceTimeoutMs ${m.rebalanceTimeoutMs}`), m.rebalanceTimeoutMs);
        m.rebalanceTimer.unref();
      }
      this.emit(group, m, 'revoked', byTopic(revoke));
    }
    const owned = new Set<string>();
    for (const m of members) for (const k of [...m.owned, ...m.revoking]) owned.add(k);
    for (const m of members) {
      const add = [...m.target].filter((k) => !owned.has(k));
      if (add.length === 0) continue;
      for (const k of add) {
        m.owned.add(k);
        owned.add(k);
      }
      if (!changed.has(m)) m.epoch++;
      changed.add(m);
      this.emit(group, m, 'assigned', byTopic(add));
    }
    if (changed.size > 0) group.rebalances++;
    for (const m of changed) {
      try {
        m.listener({ memberEpoch: m.epoch, assignment: byTopic(m.owned) });
      } catch (e) {
        process.emitWarning(`seglog: a group assignment listener threw: ${(e as Error)?.message}`);
      }
    }
  }

  // --- commits ---------------------------------------------------------------------------------

  /** Throws FENCED_MEMBER unless `memberId` is in the group and owns the partition (revoking counts). */
  checkCommit(name: string, memberId: string, memberEpoch: number, topic: string, partition: number): void {
    const group = this.groups.get(name);
    // A classic group fences by generation only, as Kafka does (its assignment is the leader's, opaque).
    if (group !== undefined && group.classic !== null && group.members.size === 0 && group.classic.members.size > 0) {
      group.classic.checkCommit(memberId, memberEpoch);
      return;
    }
    const member = group?.members.get(memberId);
    if (member === undefined) {
      throw new FencedMemberError(`member ${JSON.stringify(memberId)} is not in consumer group ${JSON.stringify(name)} (removed after its session or rebalance timeout, or it left): its commit is refused; join again`);
    }
    if (!Number.isSafeInteger(memberEpoch) || memberEpoch < 0 || memberEpoch > member.epoch) {
      throw new FencedMemberError(`member epoch ${String(memberEpoch)} of ${memberId} was never given (its epoch is ${member.epoch})`);
    }
    const k = partitionKey(topic, partition);
    if (!member.owned.has(k) && !member.revoking.has(k)) {
      throw new FencedMemberError(`member ${JSON.stringify(memberId)} of consumer group ${JSON.stringify(name)} does not own ${topic}-${partition}: its commit is refused`);
    }
  }

  // --- admin -----------------------------------------------------------------------------------

  /** Members of a group now (0 for a group without live members or an unknown one). */
  memberCount(name: string): number {
    const group = this.groups.get(name);
    return (group?.members.size ?? 0) + (group?.classic?.members.size ?? 0);
  }

  isKnown(name: string): boolean {
    return this.groups.has(name) || this.deps.store.get(name) !== undefined;
  }

  /** Every group the coordinator knows: live ones and the persisted ones. */
  listings(): GroupListing[] {
    const names = new Set([...this.groups.keys(), ...this.deps.store.names()]);
    return [...names].sort().map((name) => this.listing(name));
  }

  listing(name: string): GroupListing {
    const group = this.groups.get(name);
    return {
      group: name,
      state: group === undefined ? 'empty' : stateOf(group),
      protocolType: group?.protocolType ?? this.deps.store.get(name)?.protocolType ?? 'seglog',
      members: this.memberCount(name),
    };
  }

  /** Members with their assignments, epochs and counters (an empty group when none is live here). */
  describe(name: string): { state: GroupState; protocolType: GroupProtocolType; groupEpoch: number; rebalances: number; members: GroupMemberDescription[] } {
    const group = this.groups.get(name);
    if (group === undefined) {
      const stored = this.deps.store.get(name);
      return { state: 'empty', protocolType: stored?.protocolType ?? 'seglog', groupEpoch: stored?.groupEpoch ?? 0, rebalances: 0, members: [] };
    }
    if (group.classic !== null && group.members.size === 0 && group.classic.members.size > 0) {
      const c = group.classic;
      const members = c.describeMembers().map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        memberEpoch: c.generation,
        topics: m.topics,
        assignment: m.partitions,
        revoking: [],
        sessionTimeoutMs: m.sessionTimeoutMs,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      }));
      return { state: stateOf(group), protocolType: group.protocolType, groupEpoch: c.generation, rebalances: c.rebalances, members };
    }
    const members = [...group.members.values()].map((m) => ({
      memberId: m.id,
      clientId: m.clientId,
      memberEpoch: m.epoch,
      topics: [...m.topics],
      assignment: byTopic(m.owned),
      revoking: byTopic(m.revoking),
      sessionTimeoutMs: m.sessionTimeoutMs,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
    }));
    return { state: stateOf(group), protocolType: group.protocolType, groupEpoch: group.epoch, rebalances: group.rebalances, members };
  }

  /** Owner of each partition of the group now (owned or revoking). */
  owners(name: string): Map<string, string> {
    const out = new Map<string, string>();
    const group = this.groups.get(name);
    for (const m of group?.members.values() ?? []) for (const k of [...m.owned, ...m.revoking]) out.set(k, m.id);
    for (const [id, tps] of group?.classic?.owners() ?? []) for (const tp of tps) for (const p of tp.partitions) out.set(partitionKey(tp.topic, p), id);
    return out;
  }

  /** Forgets a group without members (its committed offsets are the caller's). */
  async delete(name: string): Promise<void> {
    const n = this.memberCount(name);
    if (n > 0) throw new GroupNotEmptyError(name, n, 'delete it');
    if (!this.isKnown(name)) throw new GroupNotFoundError(name);
    if (this.deps.store.get(name) !== undefined) await this.deps.store.remove(name);
    if (this.memberCount(name) > 0) throw new GroupNotEmptyError(name, this.memberCount(name), 'delete it');
    this.groups.delete(name);
  }

  onEvent(listener: (e: GroupEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(group: Group, member: Member, type: GroupEvent['type'], partitions?: TopicPartitions[], reason?: string): void {
    this.emitFor(group.name, member.id, member.epoch, type, partitions, reason);
  }

  private emitFor(group: string, memberId: string, memberEpoch: number, type: GroupEvent['type'], partitions?: TopicPartitions[], reason?: string): void {
    if (this.listeners.size === 0) return;
    const event: GroupEvent = { seq: ++this.seq, at: this.deps.now(), type, group, memberId, memberEpoch };
    if (partitions !== undefined) event.partitions = partitions;
    if (reason !== undefined) event.reason = reason;
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        process.emitWarning(`seglog: a group event listener threw: ${(e as Error)?.message}`);
      }
    }
  }

  /** Stops every timer; members are dropped without being told (the engine is closing). */
  close(): void {
    this.closed = true;
    for (const g of this.groups.values()) {
      for (const m of g.members.values()) {
        clearTimeout(m.sessionTimer);
        if (m.rebalanceTimer !== null) clearTimeout(m.rebalanceTimer);
      }
      g.members.clear();
      g.classic?.close();
    }
  }
}

function heartbeatInterval(sessionTimeoutMs: number): number {
  return Math.max(1, Math.floor(sessionTimeoutMs / GROUP_LIMITS.heartbeatsPerSession));
}

function stateOf(group: Group): GroupState {
  if (group.members.size === 0 && group.classic !== null && group.classic.members.size > 0) return group.classic.state === 'stable' ? 'stable' : 'reconciling';
  if (group.members.size === 0) return 'empty';
  for (const m of group.members.values()) {
    if (m.revoking.size > 0 || m.owned.size !== m.target.size) return 'reconciling';
    for (const k of m.target) if (!m.owned.has(k)) return 'reconciling';
  }
  return 'stable';
}
