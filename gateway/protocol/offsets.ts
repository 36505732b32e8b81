// COMMIT / COMMITTED: consumer group offsets (the next offset the group will read).
// OFFSETS: a partition's start and end offsets.
import { FrameReader } from './codec.js';
import { FrameType, encodeEmpty, frameWriter } from './frame.js';

export interface CommitRequest {
  group: string;
  topic: string;
  partition: number;
  offset: number;
}

export function encodeCommit(id: number, req: CommitRequest): Uint8Array {
  return frameWriter(FrameType.COMMIT, id).string(req.group).string(req.topic).i32(req.partition).i64(req.offset).finish();
}

export function decodeCommit(r: FrameReader): CommitRequest {
  const req = { group: r.string('group'), topic: r.string('topic'), partition: r.i32('partition'), offset: r.i64('offset') };
  r.end();
  return req;
}

export const encodeCommitOk = (id: number): Uint8Array => encodeEmpty(FrameType.COMMIT_OK, id);

export interface CommittedRequest {
  group: string;
  topic: string;
  partition: number;
}

export function encodeCommitted(id: number, req: CommittedRequest): Uint8Array {
  return frameWriter(FrameType.COMMITTED, id).string(req.group).string(req.topic).i32(req.partition).finish();
}

export function decodeCommitted(r: FrameReader): CommittedRequest {
  const req = { group: r.string('group'), topic: r.string('topic'), partition: r.i32('partition') };
  r.end();
  return req;
}

/** -1 on the wire means "nothing committed". */
export function encodeCommittedResult(id: number, offset: number | null): Uint8Array {
  return frameWriter(FrameType.COMMITTED_RESULT, id, 13).i64(offset ?? -1).finish();
}

export function decodeCommittedResult(r: FrameReader): number | null {
  const v = r.i64('offset');
  r.end();
  return v < 0 ? null : v;
}

export interface OffsetsRequest {
  topic: string;
  partition: number;
}

export function encodeOffsets(id: number, req: OffsetsRequest): Uint8Array {
  return frameWriter(FrameType.OFFSETS, id).string(req.topic).i32(req.partition).finish();
}

export function decodeOffsets(r: FrameReader): OffsetsRequest {
  const req = { topic: r.string('topic'), partition: r.i32('partition') };
  r.end();
  return req;
}

export function encodeOffsetsResult(id: number, o: { startOffset: number; endOffset: number }): Uint8Array {
  return frameWriter(FrameType.OFFSETS_RESULT, id, 21).i64(o.startOffset).i64(o.endOffset).finish();
}

export function decodeOffsetsResult(r: FrameReader): { startOffset: number; endOffset: number } {
  const o = { startOffset: r.i64('startOffset'), endOffset: r.i64('endOffset') };
  r.end();
  return o;
}
