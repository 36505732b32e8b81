// PING / PONG: an application-level round trip (WebSocket ping frames are not visible to
// browser code). PONG carries the server's clock.
import { FrameReader } from './codec.js';
import { FrameType, encodeEmpty, frameWriter } from './frame.js';

export const encodePing = (id: number): Uint8Array => encodeEmpty(FrameType.PING, id);

export function encodePong(id: number, serverTimeMs: number): Uint8Array {
  return frameWriter(FrameType.PONG, id, 13).i64(serverTimeMs).finish();
}

export function decodePong(r: FrameReader): number {
  const t = r.i64('serverTime');
  r.end();
  return t;
}
