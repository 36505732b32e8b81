// Consumer groups (protocol version 2): GROUP_JOIN (the assignment then follows as GROUP_ASSIGNMENT
// pushes on the join's id), GROUP_HEARTBEAT, GROUP_LEAVE, GROUP_COMMIT (fenced by the coordinator),
// and LIST_GROUPS, DESCRIBE_GROUP, RESET_GROUP, DELETE_GROUP. The coordinator is the engine's;
// this module only translates frames. Rights: each handler names the check it needs in its first
// lines (PROTOCOL.md §4.1 lists them), before the coordinator is asked.
import { InvalidArgumentError, SeglogError } from '../../../engine/format/errors.js';
import type { MemberAssignment } from '../../../engine/index.js';
import {
  decodeGroupCommit,
  decodeGroupHeartbeat,
  decodeGroupJoin,
  decodeGroupLeave,
  decodeGroupName,
  decodeResetGroup,
  encodeGroupAssignment,
  encodeGroupCommitOk,
  encodeGroupDeleted,
  encodeGroupHeartbeatOk,
  encodeGroupJoined,
  encodeGroupJson,
  encodeGroupLeft,
  encodeGroupResetOk,
} from '../../protocol/groups.js';
import { FrameType, MIN_PROTOCOL_VERSION } from '../../protocol/frame.js';
import type { Handler, RequestContext } from './context.js';

/** Group frames need protocol version 2 (an old client never sends them; a raw one is told why). */
function needsGroups(ctx: RequestContext): void {
  if (ctx.protocolVersion < 2) {
    throw new SeglogError('UNSUPPORTED_VERSION', `consumer groups need protocol version 2; this connection agreed on ${ctx.protocolVersion} (lowest ${MIN_PROTOCOL_VERSION})`);
  }
}

export const handleGroupJoin: Handler = (ctx, id, r) => {
  const req = decodeGroupJoin(r);
  needsGroups(ctx);
  ctx.authorize('consume', 'group', req.group);
  for (const topic of req.topics) ctx.authorize('consume', 'topic', topic);
  if (ctx.subscriptions.inUse(id)) throw new InvalidArgumentError(`id ${id} is already in use by a subscription on this connection`);
  ctx.memberships.replace(id);
  if (ctx.memberships.count >= ctx.limits.maxGroupMemberships) {
    throw new InvalidArgumentError(`at most ${ctx.limits.maxGroupMemberships} group memberships per connection`);
  }
  ctx.track(id, async () => {
    // Assignments before GROUP_JOINED go in it; later ones are pushed.
    let joined = false;
    let initial: MemberAssignment = { memberEpoch: 0, assignment: [] };
    const res = await ctx.engine.joinGroup(
      req.group,
      {
        topics: req.topics,
        clientId: req.clientId,
        ...(req.sessionTimeoutMs > 0 ? { sessionTimeoutMs: req.sessionTimeoutMs } : {}),
        ...(req.rebalanceTimeoutMs > 0 ? { rebalanceTimeoutMs: req.rebalanceTimeoutMs } : {}),
      },
      (a) => {
        if (joined) ctx.sendFrame(encodeGroupAssignment(id, a));
        else initial = a;
      },
    );
    if (!ctx.memberships.add(id, req.group, res.memberId)) return null;
    // Sent here, not as track()'s answer (a microtask later): a push must never overtake it.
    ctx.sendFrame(encodeGroupJoined(id, { memberId: res.memberId, heartbeatIntervalMs: res.heartbeatIntervalMs, ...initial }));
    joined = true;
    return null;
  });
};

export const handleGroupHeartbeat: Handler = (ctx, id, r) => {
  const req = decodeGroupHeartbeat(r);
  needsGroups(ctx);
  ctx.authorize('consume', 'group', req.group);
  ctx.sendFrame(encodeGroupHeartbeatOk(id, ctx.engine.heartbeatGroup(req.group, req.memberId, req.memberEpoch)));
};

export const handleGroupLeave: Handler = (ctx, id, r) => {
  const req = decodeGroupLeave(r);
  needsGroups(ctx);
  ctx.authorize('consume', 'group', req.group);
  ctx.memberships.forget(req.group, req.memberId);
  ctx.engine.leaveGroup(req.group, req.memberId);
  ctx.sendFrame(encodeGroupLeft(id));
};

export const handleGroupCommit: Handler = (ctx, id, r) => {
  const req = decodeGroupCommit(r);
  needsGroups(ctx);
  ctx.authorize('consume', 'group', req.group);
  ctx.authorize('consume', 'topic', req.topic);
  ctx.track(id, async () => {
    await ctx.engine.commitAsMember(req.group, req.memberId, req.memberEpoch, req.topic, req.offsets);
    return encodeGroupCommitOk(id);
  });
};

export const handleListGroups: Handler = (ctx, id, r) => {
  r.end();
  needsGroups(ctx);
  // Only the groups the principal has some right on, as LIST_TOPICS.
  ctx.sendFrame(encodeGroupJson(FrameType.GROUP_LIST, id, ctx.engine.listGroups().filter((g) => ctx.sees('group', g.group))));
};

export const handleDescribeGroup: Handler = (ctx, id, r) => {
  const group = decodeGroupName(r);
  needsGroups(ctx);
  if (!ctx.sees('group', group)) ctx.authorize('admin', 'group', group);
  ctx.sendFrame(encodeGroupJson(FrameType.GROUP_DESCRIPTION, id, ctx.engine.describeGroup(group)));
};

export const handleResetGroup: Handler = (ctx, id, r) => {
  const req = decodeResetGroup(r);
  needsGroups(ctx);
  ctx.authorize('admin', 'group', req.group);
  ctx.track(id, async () => encodeGroupResetOk(id, await ctx.engine.resetGroupOffsets(req.group, req.topic, req.to)));
};

export const handleDeleteGroup: Handler = (ctx, id, r) => {
  const group = decodeGroupName(r);
  needsGroups(ctx);
  ctx.authorize('admin', 'group', group);
  ctx.track(id, async () => {
    await ctx.engine.deleteGroup(group);
    return encodeGroupDeleted(id);
  });
};
