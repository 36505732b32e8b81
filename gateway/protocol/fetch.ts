// FETCH pulls whole batches of one partition from an offset (no subscription, no credit);
// FETCH_RESULT returns them with the partition's offsets.
import { FrameReader } from './codec.js';
import { FrameType, frameWriter } from './frame.js';

export interface FetchRequest {
  topic: string;
  partition: number;
  offset: number;
  maxBytes: number;
}

export function encodeFetch(id: number, req: FetchRequest): Uint8Array {
  return frameWriter(FrameType.FETCH, id).string(req.topic).i32(req.partition).i64(req.offset).u32(req.maxBytes).finish();
}

export function decodeFetch(r: FrameReader): FetchRequest {
  const req = { topic: r.string('topic'), partition: r.i32('partition'), offset: r.i64('offset'), maxBytes: r.u32('maxBytes') };
  r.end();
  return req;
}

export interface FetchResultHeader {
  partition: number;
  startOffset: number;
  endOffset: number;
  nextOffset: number;
}

export const FETCH_RESULT_HEADER_BYTES = 5 + 4 + 8 * 3;

export function encodeFetchResultHeader(id: number, h: FetchResultHeader): Uint8Array {
  return frameWriter(FrameType.FETCH_RESULT, id, FETCH_RESULT_HEADER_BYTES)
    .i32(h.partition)
    .i64(h.startOffset)
    .i64(h.endOffset)
    .i64(h.nextOffset)
    .finish();
}

export function decodeFetchResult(r: FrameReader): FetchResultHeader & { batches: Uint8Array } {
  return {
    partition: r.i32('partition'),
    startOffset: r.i64('startOffset'),
    endOffset: r.i64('endOffset'),
    nextOffset: r.i64('nextOffset'),
    batches: r.rest(),
  };
}
