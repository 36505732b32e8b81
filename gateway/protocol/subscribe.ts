// SUBSCRIBE opens a subscription (its id is the frame id) on some or all partitions of a topic;
// SUBSCRIBED answers with where each partition starts. CREDIT grants bytes; UNSUBSCRIBE ends it.
import { FrameError, FrameReader } from './codec.js';
import { FrameType, encodeEmpty, frameWriter } from './frame.js';

export const START_EARLIEST = 0;
export const START_LATEST = 1;
export const START_OFFSET = 2;
export const START_TIMESTAMP = 3;

export type StartSpec = 'earliest' | 'latest' | { offset: number } | { timestamp: number };

/** Upper bound on partitions listed in one SUBSCRIBE (and on resume overrides). */
export const MAX_SUBSCRIBE_PARTITIONS = 65536;

export interface SubscribeRequest {
  topic: string;
  /** null: every partition of the topic. */
  partitions: number[] | null;
  start: StartSpec;
  /** Consumer group whose committed offsets take precedence over `start`; '' for none. */
  group: string;
  /** Exact per-partition start offsets (used to resume); take precedence over everything. */
  resume: Array<{ partition: number; offset: number }>;
  /** Initial credit in bytes. */
  creditBytes: number;
}

export function encodeSubscribe(id: number, req: SubscribeRequest): Uint8Array {
  const w = frameWriter(FrameType.SUBSCRIBE, id).string(req.topic);
  if (req.partitions === null) w.i32(-1);
  else {
    w.i32(req.partitions.length);
    for (const p of req.partitions) w.i32(p);
  }
  const s = req.start;
  if (s === 'earliest') w.u8(START_EARLIEST).i64(0);
  else if (s === 'latest') w.u8(START_LATEST).i64(0);
  else if (typeof s === 'object' && s !== null && 'offset' in s) w.u8(START_OFFSET).i64(s.offset);
  else if (typeof s === 'object' && s !== null && 'timestamp' in s) w.u8(START_TIMESTAMP).i64(s.timestamp);
  else throw new RangeError(`start must be 'earliest', 'latest', { offset } or { timestamp }, got ${JSON.stringify(s)}`);
  w.string(req.group).i32(req.resume.length);
  for (const r of req.resume) w.i32(r.partition).i64(r.offset);
  return w.u32(req.creditBytes).finish();
}

function count(r: FrameReader, what: string, allowAll: boolean): number {
  const n = r.i32(what);
  if ((n < 0 && !(allowAll && n === -1)) || n > MAX_SUBSCRIBE_PARTITIONS) {
    throw new FrameError(`${what} ${n} out of range (0..${MAX_SUBSCRIBE_PARTITIONS}${allowAll ? ', or -1 for all' : ''})`);
  }
  return n;
}

export function decodeSubscribe(r: FrameReader): SubscribeRequest {
  const topic = r.string('topic');
  const n = count(r, 'partition count', true);
  let partitions: number[] | null = null;
  if (n >= 0) {
    partitions = [];
    for (let i = 0; i < n; i++) partitions.push(r.i32('partition'));
  }
  const kind = r.u8('start kind');
  const value = r.i64('start value');
  let start: StartSpec;
  if (kind === START_EARLIEST) start = 'earliest';
  else if (kind === START_LATEST) start = 'latest';
  else if (kind === START_OFFSET) start = { offset: value };
  else if (kind === START_TIMESTAMP) start = { timestamp: value };
  else throw new FrameError(`start kind ${kind} is not 0..3`);
  const group = r.string('group');
  const m = count(r, 'resume count', false);
  const resume: SubscribeRequest['resume'] = [];
  for (let i = 0; i < m; i++) resume.push({ partition: r.i32('resume partition'), offset: r.i64('resume offset') });
  const creditBytes = r.u32('credit');
  r.end();
  return { topic, partitions, start, group, resume, creditBytes };
}

export interface PartitionStart {
  partition: number;
  /** First offset the subscription delivers from. */
  startOffset: number;
  /** The partition's end offset when the subscription started (for "read to the end"). */
  endOffset: number;
}

export function encodeSubscribed(id: number, parts: PartitionStart[]): Uint8Array {
  const w = frameWriter(FrameType.SUBSCRIBED, id, 9 + parts.length * 20).i32(parts.length);
  for (const p of parts) w.i32(p.partition).i64(p.startOffset).i64(p.endOffset);
  return w.finish();
}

export function decodeSubscribed(r: FrameReader): PartitionStart[] {
  const n = count(r, 'partition count', false);
  const out: PartitionStart[] = [];
  for (let i = 0; i < n; i++) out.push({ partition: r.i32('partition'), startOffset: r.i64('startOffset'), endOffset: r.i64('endOffset') });
  r.end();
  return out;
}

/** CREDIT: add `bytes` to the subscription's credit. No response. */
export function encodeCredit(subscriptionId: number, bytes: number): Uint8Array {
  return frameWriter(FrameType.CREDIT, subscriptionId, 9).u32(bytes).finish();
}

export function decodeCredit(r: FrameReader): number {
  const bytes = r.u32('credit');
  r.end();
  return bytes;
}

export function encodeUnsubscribe(subscriptionId: number): Uint8Array {
  return encodeEmpty(FrameType.UNSUBSCRIBE, subscriptionId);
}

export function encodeUnsubscribed(subscriptionId: number): Uint8Array {
  return encodeEmpty(FrameType.UNSUBSCRIBED, subscriptionId);
}
