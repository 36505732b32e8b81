// HELLO (client → server, first frame) and HELLO_OK: agree on the protocol version and on the
// codecs the client can decode.
import { FrameReader } from './codec.js';
import { FrameType, frameWriter } from './frame.js';

/** Capability flags of HELLO: the client decodes LZ4-compressed batches itself. */
export const CAN_DECODE_LZ4 = 0x1;
/**
 * HELLO: the client reads the optional range fields after an ERROR's message (§4.9); HELLO_OK: the
 * server sends them (to such a client). Older peers never see the fields.
 */
export const ERROR_RANGES = 0x2;

export interface Hello {
  minVersion: number;
  maxVersion: number;
  flags: number;
  clientId: string;
}

export function encodeHello(id: number, h: Hello): Uint8Array {
  return frameWriter(FrameType.HELLO, id).u16(h.minVersion).u16(h.maxVersion).u32(h.flags).string(h.clientId).finish();
}

export function decodeHello(r: FrameReader): Hello {
  const h = { minVersion: r.u16('minVersion'), maxVersion: r.u16('maxVersion'), flags: r.u32('flags'), clientId: r.string('clientId') };
  r.end();
  return h;
}

export interface HelloOk {
  version: number;
  flags: number;
  /** Largest message the server accepts (its WebSocket maxPayload). */
  maxFrameBytes: number;
  /** Largest record batch the server accepts in a PRODUCE. */
  maxBatchBytes: number;
  serverId: string;
}

export function encodeHelloOk(id: number, h: HelloOk): Uint8Array {
  return frameWriter(FrameType.HELLO_OK, id)
    .u16(h.version)
    .u32(h.flags)
    .u32(h.maxFrameBytes)
    .u32(h.maxBatchBytes)
    .string(h.serverId)
    .finish();
}

export function decodeHelloOk(r: FrameReader): HelloOk {
  const h = {
    version: r.u16('version'),
    flags: r.u32('flags'),
    maxFrameBytes: r.u32('maxFrameBytes'),
    maxBatchBytes: r.u32('maxBatchBytes'),
    serverId: r.string('serverId'),
  };
  r.end();
  return h;
}
