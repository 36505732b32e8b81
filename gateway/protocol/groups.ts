// Consumer groups (protocol version 2, PROTOCOL.md §4.10): GROUP_JOIN / GROUP_JOINED and the
// GROUP_ASSIGNMENT push, GROUP_HEARTBEAT, GROUP_LEAVE, GROUP_COMMIT (fenced by member), and the
// admin requests LIST_GROUPS, DESCRIBE_GROUP (JSON answers, not a hot path), RESET_GROUP, DELETE_GROUP.
import { FrameError, FrameReader, type FrameWriter } from './codec.js';
import { FrameType, encodeEmpty, frameWriter } from './frame.js';

/** Bounds a decoder accepts (the server's own limits are lower; these only stop absurd counts). */
export const MAX_GROUP_TOPICS = 0xffff;
export const MAX_GROUP_PARTITIONS = 1 << 20;

export interface WireTopicPartitions {
  topic: string;
  partitions: number[];
}

export interface WireAssignment {
  memberEpoch: number;
  assignment: WireTopicPartitions[];
}

function writeAssignment(w: FrameWriter, a: WireAssignment): FrameWriter {
  w.i32(a.memberEpoch).u16(a.assignment.length);
  for (const tp of a.assignment) {
    w.string(tp.topic).i32(tp.partitions.length);
    for (const p of tp.partitions) w.i32(p);
  }
  return w;
}

function readAssignment(r: FrameReader): WireAssignment {
  const memberEpoch = r.i32('memberEpoch');
  const n = r.u16('topicCount');
  const assignment: WireTopicPartitions[] = [];
  for (let i = 0; i < n; i++) {
    const topic = r.string('topic');
    const count = r.i32('partitionCount');
    if (count < 0 || count > MAX_GROUP_PARTITIONS) throw new FrameError(`partitionCount ${count} is out of range`);
    const partitions: number[] = [];
    for (let j = 0; j < count; j++) partitions.push(r.i32('partition'));
    assignment.push({ topic, partitions });
  }
  return { memberEpoch, assignment };
}

export interface GroupJoinRequest {
  group: string;
  topics: string[];
  /** 0: the server's default. */
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  clientId: string;
}

export function encodeGroupJoin(id: number, req: GroupJoinRequest): Uint8Array {
  const w = frameWriter(FrameType.GROUP_JOIN, id).string(req.group).u16(req.topics.length);
  for (const t of req.topics) w.string(t);
  return w.u32(req.sessionTimeoutMs).u32(req.rebalanceTimeoutMs).string(req.clientId).finish();
}

export function decodeGroupJoin(r: FrameReader): GroupJoinRequest {
  const group = r.string('group');
  const n = r.u16('topicCount');
  const topics: string[] = [];
  for (let i = 0; i < n; i++) topics.push(r.string('topic'));
  const req = { group, topics, sessionTimeoutMs: r.u32('sessionTimeoutMs'), rebalanceTimeoutMs: r.u32('rebalanceTimeoutMs'), clientId: r.string('clientId') };
  r.end();
  return req;
}

export interface GroupJoined extends WireAssignment {
  memberId: string;
  heartbeatIntervalMs: number;
}

export function encodeGroupJoined(id: number, j: GroupJoined): Uint8Array {
  const w = frameWriter(FrameType.GROUP_JOINED, id).string(j.memberId).u32(j.heartbeatIntervalMs);
  return writeAssignment(w, j).finish();
}

export function decodeGroupJoined(r: FrameReader): GroupJoined {
  const memberId = r.string('memberId');
  const heartbeatIntervalMs = r.u32('heartbeatIntervalMs');
  const a = readAssignment(r);
  r.end();
  return { memberId, heartbeatIntervalMs, ...a };
}

/** Pushed with the membership's id (the GROUP_JOIN's) each time the member's assignment changes. */
export function encodeGroupAssignment(id: number, a: WireAssignment): Uint8Array {
  return writeAssignment(frameWriter(FrameType.GROUP_ASSIGNMENT, id), a).finish();
}

export function decodeGroupAssignment(r: FrameReader): WireAssignment {
  const a = readAssignment(r);
  r.end();
  return a;
}

export interface GroupMemberRef {
  group: string;
  memberId: string;
}

export function encodeGroupHeartbeat(id: number, req: GroupMemberRef & { memberEpoch: number }): Uint8Array {
  return frameWriter(FrameType.GROUP_HEARTBEAT, id).string(req.group).string(req.memberId).i32(req.memberEpoch).finish();
}

export function decodeGroupHeartbeat(r: FrameReader): GroupMemberRef & { memberEpoch: number } {
  const req = { group: r.string('group'), memberId: r.string('memberId'), memberEpoch: r.i32('memberEpoch') };
  r.end();
  return req;
}

export function encodeGroupHeartbeatOk(id: number, res: { memberEpoch: number; heartbeatIntervalMs: number }): Uint8Array {
  return frameWriter(FrameType.GROUP_HEARTBEAT_OK, id, 13).i32(res.memberEpoch).u32(res.heartbeatIntervalMs).finish();
}

export function decodeGroupHeartbeatOk(r: FrameReader): { memberEpoch: number; heartbeatIntervalMs: number } {
  const res = { memberEpoch: r.i32('memberEpoch'), heartbeatIntervalMs: r.u32('heartbeatIntervalMs') };
  r.end();
  return res;
}

export function encodeGroupLeave(id: number, req: GroupMemberRef): Uint8Array {
  return frameWriter(FrameType.GROUP_LEAVE, id).string(req.group).string(req.memberId).finish();
}

export function decodeGroupLeave(r: FrameReader): GroupMemberRef {
  const req = { group: r.string('group'), memberId: r.string('memberId') };
  r.end();
  return req;
}

export interface GroupCommitRequest extends GroupMemberRef {
  memberEpoch: number;
  topic: string;
  offsets: Array<{ partition: number; offset: number }>;
}

export function encodeGroupCommit(id: number, req: GroupCommitRequest): Uint8Array {
  const w = frameWriter(FrameType.GROUP_COMMIT, id).string(req.group).string(req.memberId).i32(req.memberEpoch).string(req.topic).i32(req.offsets.length);
  for (const o of req.offsets) w.i32(o.partition).i64(o.offset);
  return w.finish();
}

export function decodeGroupCommit(r: FrameReader): GroupCommitRequest {
  const group = r.string('group');
  const memberId = r.string('memberId');
  const memberEpoch = r.i32('memberEpoch');
  const topic = r.string('topic');
  const count = r.i32('count');
  if (count < 1 || count > MAX_GROUP_PARTITIONS) throw new FrameError(`count ${count} is out of range (1..${MAX_GROUP_PARTITIONS})`);
  const offsets: Array<{ partition: number; offset: number }> = [];
  for (let i = 0; i < count; i++) offsets.push({ partition: r.i32('partition'), offset: r.i64('offset') });
  r.end();
  return { group, memberId, memberEpoch, topic, offsets };
}

/** DESCRIBE_GROUP and DELETE_GROUP carry just a group name. */
export function encodeGroupName(type: typeof FrameType.DESCRIBE_GROUP | typeof FrameType.DELETE_GROUP, id: number, group: string): Uint8Array {
  return frameWriter(type, id).string(group).finish();
}

export function decodeGroupName(r: FrameReader): string {
  const g = r.string('group');
  r.end();
  return g;
}

/** GROUP_LIST and GROUP_DESCRIPTION: one JSON document (schema in PROTOCOL.md). */
export function encodeGroupJson(type: typeof FrameType.GROUP_LIST | typeof FrameType.GROUP_DESCRIPTION, id: number, value: unknown): Uint8Array {
  return frameWriter(type, id).text(JSON.stringify(value)).finish();
}

export function decodeGroupJson<T>(r: FrameReader): T {
  const text = r.text('json');
  r.end();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new FrameError('group answer is not valid JSON');
  }
}

export type WireResetTarget = 'earliest' | 'latest' | { offset: number } | { timestamp: number };

export function encodeResetGroup(id: number, req: { group: string; topic: string; to: WireResetTarget }): Uint8Array {
  const [kind, value] = req.to === 'earliest' ? [0, 0] : req.to === 'latest' ? [1, 0] : 'offset' in req.to ? [2, req.to.offset] : [3, req.to.timestamp];
  return frameWriter(FrameType.RESET_GROUP, id).string(req.group).string(req.topic).u8(kind).i64(value).finish();
}

export function decodeResetGroup(r: FrameReader): { group: string; topic: string; to: WireResetTarget } {
  const group = r.string('group');
  const topic = r.string('topic');
  const kind = r.u8('toKind');
  const value = r.i64('toValue');
  r.end();
  const to: WireResetTarget | undefined = kind === 0 ? 'earliest' : kind === 1 ? 'latest' : kind === 2 ? { offset: value } : kind === 3 ? { timestamp: value } : undefined;
  if (to === undefined) throw new FrameError(`toKind ${kind} is not 0..3`);
  return { group, topic, to };
}

export function encodeGroupResetOk(id: number, offsets: ReadonlyArray<{ partition: number; offset: number }>): Uint8Array {
  const w = frameWriter(FrameType.GROUP_RESET_OK, id).i32(offsets.length);
  for (const o of offsets) w.i32(o.partition).i64(o.offset);
  return w.finish();
}

export function decodeGroupResetOk(r: FrameReader): Array<{ partition: number; offset: number }> {
  const n = r.i32('count');
  if (n < 0 || n > MAX_GROUP_PARTITIONS) throw new FrameError(`count ${n} is out of range`);
  const out: Array<{ partition: number; offset: number }> = [];
  for (let i = 0; i < n; i++) out.push({ partition: r.i32('partition'), offset: r.i64('offset') });
  r.end();
  return out;
}

export const encodeGroupLeft = (id: number): Uint8Array => encodeEmpty(FrameType.GROUP_LEFT, id);
export const encodeGroupCommitOk = (id: number): Uint8Array => encodeEmpty(FrameType.GROUP_COMMIT_OK, id);
export const encodeGroupDeleted = (id: number): Uint8Array => encodeEmpty(FrameType.GROUP_DELETED, id);
export const encodeListGroups = (id: number): Uint8Array => encodeEmpty(FrameType.LIST_GROUPS, id);
