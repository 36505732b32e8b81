// The consumer-group membership APIs of Kafka's classic protocol: FindCoordinator, JoinGroup,
// SyncGroup, Heartbeat, LeaveGroup. They translate to the engine's coordinator (the same one the
// WebSocket GROUP_* frames use; engine/groups/classic-group.ts holds the JoinGroup barrier and the
// SyncGroup relay). Every expected failure is answered with a Kafka error code, never thrown.
import { GROUP_LIMITS, type ClassicAssignment, type TopicPartitions } from '../../../../engine/index.js';
import { Reader, readStruct, type Struct } from '../codec.js';
import type { KafkaContext, RequestInfo } from '../context.js';
import { KafkaError, KafkaRefusal, groupErrorCode } from '../errors.js';
import { CONSUMER_ASSIGNMENT, CONSUMER_SUBSCRIPTION } from '../messages/groups.js';
import { requireGroupRight } from '../peer.js';
import { NODE_ID } from './metadata.js';

const COORDINATOR_KEY_GROUP = 0;

/** FindCoordinator: this server coordinates every group (it is the only broker). */
export function findCoordinator(_ctx: KafkaContext, req: Struct, info: RequestInfo): Struct {
  const keyType = req['keyType'] as number;
  if (keyType !== COORDINATOR_KEY_GROUP) {
    // Transaction coordinators (key type 1) do not exist here: no transactions.
    return { throttleTimeMs: 0, errorCode: KafkaError.COORDINATOR_NOT_AVAILABLE, errorMessage: `key type ${keyType} has no coordinator here (only consumer groups, key type 0)`, nodeId: -1, host: '', port: -1 };
  }
  return { throttleTimeMs: 0, errorCode: KafkaError.NONE, errorMessage: null, nodeId: NODE_ID, host: info.localAddress, port: info.localPort };
}

/** Reads a consumer-protocol struct (a version, then `fields`), or null when it does not parse. */
function consumerProtocol(bytes: Uint8Array | null, fields: Parameters<typeof readStruct>[1]): Struct | null {
  if (bytes === null || bytes.length < 2) return null;
  try {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const r = new Reader(buf);
    // Later versions append fields; reading those of the newest version we know is enough.
    const version = Math.min(r.int16(), 1);
    return readStruct(r, fields, Math.max(version, 0), false);
  } catch {
    return null;
  }
}

/** The topics a member subscribes to, from its consumer-protocol metadata ([] when not the consumer format). */
export function subscribedTopics(metadata: Uint8Array | null): string[] {
  const s = consumerProtocol(metadata, CONSUMER_SUBSCRIPTION);
  return s === null ? [] : (s['topics'] as string[]).slice(0, GROUP_LIMITS.topicsPerMemberMax);
}

/** The partitions in a consumer-protocol assignment ([] when not the consumer format). */
export function assignedPartitions(assignment: Uint8Array | null): TopicPartitions[] {
  const a = consumerProtocol(assignment, CONSUMER_ASSIGNMENT);
  if (a === null) return [];
  return (a['assignedPartitions'] as { topic: string; partitions: number[] }[]).map((tp) => ({ topic: tp.topic, partitions: [...tp.partitions].sort((x, y) => x - y) }));
}

interface JoinRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: { name: string; metadata: Uint8Array }[];
}

function joinFailure(errorCode: number, memberId: string): Struct {
  return { throttleTimeMs: 0, errorCode, generationId: -1, protocolName: '', leader: '', memberId, members: [] };
}

export async function joinGroup(ctx: KafkaContext, req: Struct, info: RequestInfo): Promise<Struct> {
  const r = req as unknown as JoinRequest;
  // Before v1 there is no rebalance timeout: the session timeout is used, as Kafka does.
  const rebalanceTimeoutMs = r.rebalanceTimeoutMs < 0 ? r.sessionTimeoutMs : r.rebalanceTimeoutMs;
  try {
    if (r.groupId === '') throw new KafkaRefusal(KafkaError.INVALID_GROUP_ID, 'a group id is required');
    // Rights as the WebSocket's GROUP_JOIN: consume on the group (the topics are checked by Fetch).
    requireGroupRight(ctx, info.peer, 'consume', r.groupId);
    for (const [name, v] of [['session', r.sessionTimeoutMs], ['rebalance', rebalanceTimeoutMs]] as const) {
      const min = name === 'session' ? GROUP_LIMITS.sessionTimeoutMsMin : GROUP_LIMITS.rebalanceTimeoutMsMin;
      const max = name === 'session' ? GROUP_LIMITS.sessionTimeoutMsMax : GROUP_LIMITS.rebalanceTimeoutMsMax;
      if (v < min || v > max) throw new KafkaRefusal(KafkaError.INVALID_SESSION_TIMEOUT, `${name} timeout ${v} ms is outside ${min}..${max} ms`);
    }
    const topics = new Set<string>();
    for (const p of r.protocols) for (const t of subscribedTopics(p.metadata)) topics.add(t);
    const res = await ctx.engine.joinClassicGroup(r.groupId, {
      memberId: r.memberId,
      clientId: info.clientId ?? '',
      clientHost: info.remoteAddress,
      sessionTimeoutMs: r.sessionTimeoutMs,
      rebalanceTimeoutMs,
      protocolType: r.protocolType,
      protocols: r.protocols.map((p) => ({ name: p.name, metadata: p.metadata ?? new Uint8Array(0) })),
      topics: [...topics],
    });
    return {
      throttleTimeMs: 0,
      errorCode: KafkaError.NONE,
      generationId: res.generationId,
      protocolName: res.protocolName,
      leader: res.leaderId,
      memberId: res.memberId,
      members: res.members.map((m) => ({ memberId: m.memberId, groupInstanceId: null, metadata: m.metadata })),
    };
  } catch (e) {
    return joinFailure(groupErrorCode(e), r.memberId);
  }
}

export async function syncGroup(ctx: KafkaContext, req: Struct, info: RequestInfo): Promise<Struct> {
  const r = req as { groupId: string; generationId: number; memberId: string; assignments: { memberId: string; assignment: Uint8Array }[] };
  try {
    requireGroupRight(ctx, info.peer, 'consume', r.groupId);
    // Every member but the leader sends an empty list; the coordinator takes the leader's.
    const assignments: ClassicAssignment[] | null =
      r.assignments.length === 0 ? null : r.assignments.map((a) => ({ memberId: a.memberId, assignment: a.assignment, partitions: assignedPartitions(a.assignment) }));
    const assignment = await ctx.engine.syncClassicGroup(r.groupId, r.memberId, r.generationId, assignments);
    return { throttleTimeMs: 0, errorCode: KafkaError.NONE, assignment };
  } catch (e) {
    return { throttleTimeMs: 0, errorCode: groupErrorCode(e), assignment: new Uint8Array(0) };
  }
}

export function heartbeat(ctx: KafkaContext, req: Struct, info: RequestInfo): Struct {
  const r = req as { groupId: string; generationId: number; memberId: string };
  try {
    requireGroupRight(ctx, info.peer, 'consume', r.groupId);
    ctx.engine.heartbeatClassicGroup(r.groupId, r.memberId, r.generationId);
    return { throttleTimeMs: 0, errorCode: KafkaError.NONE };
  } catch (e) {
    return { throttleTimeMs: 0, errorCode: groupErrorCode(e) };
  }
}

export function leaveGroup(ctx: KafkaContext, req: Struct, info: RequestInfo): Struct {
  const groupId = req['groupId'] as string;
  const leave = (memberId: string): number => {
    try {
      requireGroupRight(ctx, info.peer, 'consume', groupId);
      ctx.engine.leaveClassicGroup(groupId, memberId);
      return KafkaError.NONE;
    } catch (e) {
      return groupErrorCode(e);
    }
  };
  if (info.version < 3) return { throttleTimeMs: 0, errorCode: leave(req['memberId'] as string), members: [] };
  // v3+ leaves a batch of members (KIP-345); each gets its own code.
  const members = (req['members'] as { memberId: string; groupInstanceId: string | null }[]).map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: leave(m.memberId) }));
  return { throttleTimeMs: 0, errorCode: KafkaError.NONE, members };
}
