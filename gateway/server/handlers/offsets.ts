// COMMIT, COMMITTED (consumer group offsets) and OFFSETS (a partition's start and end).
import {
  decodeCommit,
  decodeCommitted,
  decodeOffsets,
  encodeCommitOk,
  encodeCommittedResult,
  encodeOffsetsResult,
} from '../../protocol/offsets.js';
import { requireVisible } from './admin.js';
import type { Handler } from './context.js';

export const handleCommit: Handler = (ctx, id, r) => {
  const req = decodeCommit(r);
  ctx.authorize('consume', 'group', req.group);
  ctx.authorize('consume', 'topic', req.topic);
  ctx.track(id, async () => {
    await ctx.engine.commit(req.group, req.topic, req.partition, req.offset);
    return encodeCommitOk(id);
  });
};

export const handleCommitted: Handler = (ctx, id, r) => {
  const req = decodeCommitted(r);
  ctx.authorize('consume', 'group', req.group);
  ctx.authorize('consume', 'topic', req.topic);
  ctx.track(id, async () => encodeCommittedResult(id, await ctx.engine.committed(req.group, req.topic, req.partition)));
};

export const handleOffsets: Handler = (ctx, id, r) => {
  const req = decodeOffsets(r);
  requireVisible(ctx, req.topic);
  ctx.sendFrame(encodeOffsetsResult(id, ctx.engine.offsets(req.topic, req.partition)));
};
