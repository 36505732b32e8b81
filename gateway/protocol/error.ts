// ERROR: the answer to a request that failed (id = the request's id), the end of a subscription
// (id = the subscription's id), or a connection-level problem (id = 0).
import { SeglogError, type ErrorCode } from '../../engine/format/errors.js';
import { FrameReader } from './codec.js';
import { FrameType, frameWriter } from './frame.js';

/** The registry's codes (engine/format/errors.ts) that only the gateway sends. */
export const GatewayErrorCode = {
  /** The frame does not parse (truncated, bad field). The connection stays open. */
  INVALID_FRAME: 'INVALID_FRAME',
  /** A frame type this server does not know. The connection stays open. */
  UNKNOWN_FRAME_TYPE: 'UNKNOWN_FRAME_TYPE',
  /** No common protocol version. The server closes the connection. */
  UNSUPPORTED_VERSION: 'UNSUPPORTED_VERSION',
  /** The server is shutting down and takes no new requests. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** Too many requests in flight on this connection. */
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  /** Unexpected server-side failure. */
  INTERNAL: 'INTERNAL',
} as const satisfies Record<string, ErrorCode>;

/** The server takes no new requests (graceful shutdown under way). */
export class ShuttingDownError extends SeglogError {
  constructor() {
    super(GatewayErrorCode.SHUTTING_DOWN, 'the server is shutting down');
  }
}

/** A frame type this server does not know (the connection stays open, so new requests can be probed). */
export class UnknownFrameTypeError extends SeglogError {
  constructor(typeName: string) {
    super(GatewayErrorCode.UNKNOWN_FRAME_TYPE, `unknown frame type ${typeName}`);
  }
}

/** The damaged range a CORRUPT_RECORD error may carry (PROTOCOL.md §4.9): read on from nextOffset. */
export interface ErrorRange {
  partition: number;
  /** First offset of the damaged range. */
  offset: number;
  /** Where intact data resumes. */
  nextOffset: number;
}

export interface ErrorBody {
  code: string;
  message: string;
  /** Only for peers that announced ERROR_RANGES in HELLO, and only when the server knows it. */
  range?: ErrorRange;
}

/** Messages are for humans; they are cut to this so one error frame stays small. */
export const MAX_ERROR_MESSAGE_CHARS = 4000;

/** `range` is appended after the message: send it only to a client that announced ERROR_RANGES. */
export function encodeError(id: number, code: string, message: string, range?: ErrorRange): Uint8Array {
  const text = message.length > MAX_ERROR_MESSAGE_CHARS ? `${message.slice(0, MAX_ERROR_MESSAGE_CHARS)}…` : message;
  const w = frameWriter(FrameType.ERROR, id).string(code).string(text);
  if (range !== undefined) w.i32(range.partition).i64(range.offset).i64(range.nextOffset);
  return w.finish();
}

export function decodeError(r: FrameReader): ErrorBody {
  const e: ErrorBody = { code: r.string('code'), message: r.string('message') };
  if (r.remaining > 0) e.range = { partition: r.i32('partition'), offset: r.i64('offset'), nextOffset: r.i64('nextOffset') };
  r.end();
  return e;
}
