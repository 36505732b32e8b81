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

/**
 * HELLO: a `token` string follows clientId (empty: none), and the client reads `principal` in
 * HELLO_OK. HELLO_OK: the server authenticates connections (and, to a client that set the bit,
 * `principal` follows serverId). Older peers never see either field.
 */
export const AUTH = 0x4;

export interface Hello {
  minVersion: number;
  maxVersion: number;
  flags: number;
  clientId: string;
  /** Present when flags has AUTH ('' = no token). Never logged. */
  token?: string;
}

export function encodeHello(id: number, h: Hello): Uint8Array {
  const w = frameWriter(FrameType.HELLO, id).u16(h.minVersion).u16(h.maxVersion).u32(h.flags).string(h.clientId);
  if ((h.flags & AUTH) !== 0) w.string(h.token ?? '');
  return w.finish();
}

export function decodeHello(r: FrameReader): Hello {
  const h: Hello = { minVersion: r.u16('minVersion'), maxVersion: r.u16('maxVersion'), flags: r.u32('flags'), clientId: r.string('clientId') };
  if ((h.flags & AUTH) !== 0) h.token = r.string('token');
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
  /** Who the server took the client for: only to a client whose HELLO set AUTH. */
  principal?: string;
}

/** `withPrincipal`: the client set AUTH in its HELLO, so it reads the principal field. */
export function encodeHelloOk(id: number, h: HelloOk, withPrincipal = false): Uint8Array {
  const w = frameWriter(FrameType.HELLO_OK, id)
    .u16(h.version)
    .u32(h.flags)
    .u32(h.maxFrameBytes)
    .u32(h.maxBatchBytes)
    .string(h.serverId);
  if (withPrincipal) w.string(h.principal ?? '');
  return w.finish();
}

/** `withPrincipal`: our HELLO set AUTH, so the principal field follows serverId. */
export function decodeHelloOk(r: FrameReader, withPrincipal = false): HelloOk {
  const h: HelloOk = {
    version: r.u16('version'),
    flags: r.u32('flags'),
    maxFrameBytes: r.u32('maxFrameBytes'),
    maxBatchBytes: r.u32('maxBatchBytes'),
    serverId: r.string('serverId'),
  };
  if (withPrincipal) h.principal = r.string('principal');
  r.end();
  return h;
}
