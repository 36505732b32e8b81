// The consumer-group offset and admin APIs: OffsetCommit, OffsetFetch, ListGroups, DescribeGroups,
// DeleteGroups. Committed offsets are the engine's (the same journal the WebSocket GROUP_COMMIT,
// COMMIT and COMMITTED frames use), so a commit over either front end is read over the other.
import { isSeglogError } from '../../../../engine/index.js';
import type { Struct } from '../codec.js';
import type { KafkaContext, RequestInfo } from '../context.js';
import { KafkaError, groupErrorCode, kafkaErrorCode } from '../errors.js';
import { authorized, requireGroupRight, seesGroup, sees } from '../peer.js';

interface CommitRequest {
  groupId: string;
  generationIdOrMemberEpoch: number;
  memberId: string;
  topics: { name: string; partitions: { partitionIndex: number; committedOffset: number }[] }[];
}

/** Has the group live members (seglog or Kafka ones)? An unknown group has none. */
function hasMembers(ctx: KafkaContext, group: string): boolean {
  try {
    return ctx.engine.describeGroup(group).members.length > 0;
  } catch {
    return false;
  }
}

/**
 * OffsetCommit. As Kafka: generation -1 without a member id commits for a group without members
 * (a client that assigns partitions itself); otherwise the member and its generation are checked
 * by the coordinator (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, REBALANCE_IN_PROGRESS during a sync).
 * Metadata strings and retention times are not kept (offsets are kept until the group is deleted).
 */
export async function offsetCommit(ctx: KafkaContext, req: Struct, info: RequestInfo): Promise<Struct> {
  const r = req as unknown as CommitRequest;
  // Rights as the WebSocket's COMMIT: consume on the group, and on each topic.
  const groupRefused = authorized(ctx, info.peer, 'consume', 'group', r.groupId) ? KafkaError.NONE : KafkaError.GROUP_AUTHORIZATION_FAILED;
  const simple = r.generationIdOrMemberEpoch < 0 && r.memberId === '';
  const simpleRefused = simple && hasMembers(ctx, r.groupId) ? KafkaError.UNKNOWN_MEMBER_ID : KafkaError.NONE;
  const topics = await Promise.all(
    r.topics.map(async (t) => ({
      name: t.name,
      partitions: await Promise.all(
        t.partitions.map(async (p) => {
          let errorCode: number = groupRefused !== KafkaError.NONE ? groupRefused : simpleRefused;
          if (errorCode === KafkaError.NONE && !authorized(ctx, info.peer, 'consume', 'topic', t.name)) errorCode = KafkaError.TOPIC_AUTHORIZATION_FAILED;
          if (errorCode === KafkaError.NONE) {
            try {
              if (simple) await ctx.engine.commit(r.groupId, t.name, p.partitionIndex, p.committedOffset);
              else await ctx.engine.commitAsMember(r.groupId, r.memberId, r.generationIdOrMemberEpoch, t.name, [{ partition: p.partitionIndex, offset: p.committedOffset }]);
            } catch (e) {
              errorCode = kafkaErrorCode(e);
            }
          }
          return { partitionIndex: p.partitionIndex, errorCode };
        }),
      ),
    })),
  );
  return { throttleTimeMs: 0, topics };
}

const noOffset = (e: unknown): boolean => isSeglogError(e) && (e.code === 'TOPIC_NOT_FOUND' || e.code === 'PARTITION_NOT_FOUND');

/** OffsetFetch: offset -1 where nothing is committed; a null topic list (v2+) asks for every committed offset. */
export async function offsetFetch(ctx: KafkaContext, req: Struct, info: RequestInfo): Promise<Struct> {
  const group = req['groupId'] as string;
  const asked = req['topics'] as { name: string; partitionIndexes: number[] }[] | null;
  const entry = (partitionIndex: number, committedOffset: number, errorCode: number): Struct => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, metadata: '', errorCode });
  try {
    requireGroupRight(ctx, info.peer, 'consume', group);
    if (asked === null) {
      const byTopic = new Map<string, Struct[]>();
      for (const c of await ctx.engine.listCommitted(group)) {
        if (!sees(info.peer, c.topic)) continue;
        let list = byTopic.get(c.topic);
        if (list === undefined) byTopic.set(c.topic, (list = []));
        list.push(entry(c.partition, c.offset, KafkaError.NONE));
      }
      return { throttleTimeMs: 0, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })), errorCode: KafkaError.NONE };
    }
    const topics = await Promise.all(
      asked.map(async (t) => ({
        name: t.name,
        partitions: await Promise.all(
          t.partitionIndexes.map(async (p) => {
            if (!sees(info.peer, t.name)) return entry(p, -1, KafkaError.TOPIC_AUTHORIZATION_FAILED);
            try {
              return entry(p, (await ctx.engine.committed(group, t.name, p)) ?? -1, KafkaError.NONE);
            } catch (e) {
              // Kafka answers -1 without an error for a partition it has no offset for.
              return noOffset(e) ? entry(p, -1, KafkaError.NONE) : entry(p, -1, kafkaErrorCode(e));
            }
          }),
        ),
      })),
    );
    return { throttleTimeMs: 0, topics, errorCode: KafkaError.NONE };
  } catch (e) {
    return { throttleTimeMs: 0, topics: [], errorCode: groupErrorCode(e) };
  }
}

/** ListGroups: every group the engine knows, with its protocol type ('consumer' for Kafka's, 'seglog' for the WebSocket's). */
export function listGroups(ctx: KafkaContext, _req: Struct, info: RequestInfo): Struct {
  try {
    // Only the groups the principal has some right on (as the WebSocket's LIST_GROUPS).
    const visible = ctx.engine.listGroups().filter((g) => seesGroup(info.peer, g.group));
    return { throttleTimeMs: 0, errorCode: KafkaError.NONE, groups: visible.map((g) => ({ groupId: g.group, protocolType: g.protocolType })) };
  } catch (e) {
    return { throttleTimeMs: 0, errorCode: groupErrorCode(e), groups: [] };
  }
}

const SEGLOG_STATE: Readonly<Record<string, string>> = { empty: 'Empty', reconciling: 'PreparingRebalance', stable: 'Stable' };
const EMPTY = new Uint8Array(0);

/**
 * DescribeGroups. A Kafka group: Kafka's state, the assignor, each member's metadata and assignment
 * as the clients sent them. A seglog group (WebSocket members): its members with empty metadata and
 * assignment (they are not in the consumer protocol's format). An unknown group: state Dead, as Kafka.
 */
export function describeGroups(ctx: KafkaContext, req: Struct, info: RequestInfo): Struct {
  const groups = (req['groups'] as string[]).map((groupId) => {
    const base = { errorCode: KafkaError.NONE, groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [] as Struct[], authorizedOperations: -2147483648 };
    try {
      if (!seesGroup(info.peer, groupId)) requireGroupRight(ctx, info.peer, 'admin', groupId);
      const classic = ctx.engine.describeClassicGroup(groupId);
      if (classic !== null && classic.members.length > 0) {
        return {
          ...base,
          groupState: classic.state,
          protocolType: 'consumer',
          protocolData: classic.protocolName,
          members: classic.members.map((m) => ({ memberId: m.memberId, groupInstanceId: null, clientId: m.clientId, clientHost: m.clientHost, memberMetadata: m.metadata, memberAssignment: m.assignment })),
        };
      }
      const d = ctx.engine.describeGroup(groupId);
      return {
        ...base,
        groupState: SEGLOG_STATE[d.state] ?? 'Stable',
        protocolType: d.members.length > 0 ? d.protocolType : '',
        members: d.members.map((m) => ({ memberId: m.memberId, groupInstanceId: null, clientId: m.clientId, clientHost: '', memberMetadata: EMPTY, memberAssignment: EMPTY })),
      };
    } catch (e) {
      if (isSeglogError(e) && e.code === 'GROUP_NOT_FOUND') return base;
      return { ...base, errorCode: groupErrorCode(e) };
    }
  });
  return { throttleTimeMs: 0, groups };
}

/** DeleteGroups: a group without members, with its committed offsets (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND). */
export async function deleteGroups(ctx: KafkaContext, req: Struct, info: RequestInfo): Promise<Struct> {
  const results = await Promise.all(
    (req['groupsNames'] as string[]).map(async (groupId) => {
      try {
        requireGroupRight(ctx, info.peer, 'admin', groupId);
        await ctx.engine.deleteGroup(groupId);
        return { groupId, errorCode: KafkaError.NONE };
      } catch (e) {
        return { groupId, errorCode: groupErrorCode(e) };
      }
    }),
  );
  return { throttleTimeMs: 0, results };
}
