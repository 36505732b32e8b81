// DELIVER (server push): whole record batches of one partition, as they lie in the segment.
// GAP (server push): retention removed offsets the subscription had not read yet.
import { FrameReader } from './codec.js';
import { FRAME_HEADER_BYTES, FrameType, frameWriter } from './frame.js';

/** The DELIVER header: frame header + partition. The batches follow it in the same message. */
export const DELIVER_HEADER_BYTES = FRAME_HEADER_BYTES + 4;

export function encodeDeliverHeader(subscriptionId: number, partition: number): Uint8Array {
  return frameWriter(FrameType.DELIVER, subscriptionId, DELIVER_HEADER_BYTES).i32(partition).finish();
}

export interface Delivery {
  partition: number;
  /** One or more whole batches, back to back (each self-delimiting by its batchLength). */
  batches: Uint8Array;
}

export function decodeDeliver(r: FrameReader): Delivery {
  return { partition: r.i32('partition'), batches: r.rest() };
}

export interface Gap {
  partition: number;
  fromOffset: number;
  toOffset: number;
}

export function encodeGap(subscriptionId: number, gap: Gap): Uint8Array {
  return frameWriter(FrameType.GAP, subscriptionId, 25).i32(gap.partition).i64(gap.fromOffset).i64(gap.toOffset).finish();
}

export function decodeGap(r: FrameReader): Gap {
  const g = { partition: r.i32('partition'), fromOffset: r.i64('fromOffset'), toOffset: r.i64('toOffset') };
  r.end();
  return g;
}
