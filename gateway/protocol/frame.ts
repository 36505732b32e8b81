// Every gateway message is one binary WebSocket message: a 5-byte header, then the body of its
// type. See PROTOCOL.md §3. Responses carry the id of their request; deliveries carry the id of
// their subscription.
import { FrameError, FrameReader, FrameWriter } from './codec.js';

/** The newest protocol version (2 added consumer groups, §4.10); the server still speaks MIN_PROTOCOL_VERSION. */
export const PROTOCOL_VERSION = 2;
export const MIN_PROTOCOL_VERSION = 1;
export const FRAME_HEADER_BYTES = 5;

export const FrameType = {
  // client → server
  HELLO: 0x01,
  PRODUCE: 0x02,
  SUBSCRIBE: 0x03,
  CREDIT: 0x04,
  UNSUBSCRIBE: 0x05,
  FETCH: 0x06,
  COMMIT: 0x07,
  COMMITTED: 0x08,
  CREATE_TOPIC: 0x09,
  LIST_TOPICS: 0x0a,
  DESCRIBE_TOPIC: 0x0b,
  DELETE_TOPIC: 0x0c,
  ADD_PARTITIONS: 0x0d,
  OFFSETS: 0x0e,
  PING: 0x0f,
  // consumer groups (version 2): requests 0x20.., answers | 0x80
  GROUP_JOIN: 0x20,
  GROUP_HEARTBEAT: 0x21,
  GROUP_LEAVE: 0x22,
  GROUP_COMMIT: 0x23,
  LIST_GROUPS: 0x24,
  DESCRIBE_GROUP: 0x25,
  RESET_GROUP: 0x26,
  DELETE_GROUP: 0x27,
  // server → client: responses (request type | 0x80) and pushes
  HELLO_OK: 0x81,
  PRODUCE_ACK: 0x82,
  SUBSCRIBED: 0x83,
  UNSUBSCRIBED: 0x85,
  FETCH_RESULT: 0x86,
  COMMIT_OK: 0x87,
  COMMITTED_RESULT: 0x88,
  TOPIC_DESCRIPTION: 0x89,
  TOPIC_LIST: 0x8a,
  TOPIC_DELETED: 0x8c,
  OFFSETS_RESULT: 0x8e,
  PONG: 0x8f,
  DELIVER: 0x90,
  GAP: 0x91,
  GROUP_ASSIGNMENT: 0x92,
  GROUP_JOINED: 0xa0,
  GROUP_HEARTBEAT_OK: 0xa1,
  GROUP_LEFT: 0xa2,
  GROUP_COMMIT_OK: 0xa3,
  GROUP_LIST: 0xa4,
  GROUP_DESCRIPTION: 0xa5,
  GROUP_RESET_OK: 0xa6,
  GROUP_DELETED: 0xa7,
  ERROR: 0xff,
} as const;

export type FrameTypeName = keyof typeof FrameType;
export type FrameTypeCode = (typeof FrameType)[FrameTypeName];

const NAMES = new Map<number, FrameTypeName>(
  (Object.entries(FrameType) as [FrameTypeName, number][]).map(([name, code]) => [code, name]),
);

export function frameTypeName(type: number): string {
  return NAMES.get(type) ?? `0x${type.toString(16).padStart(2, '0')}`;
}

export function isKnownFrameType(type: number): boolean {
  return NAMES.has(type);
}

export interface FrameHeader {
  type: number;
  id: number;
}

/** Reads the header; the reader is left at the start of the body. */
export function readHeader(bytes: Uint8Array): { header: FrameHeader; reader: FrameReader } {
  if (bytes.byteLength < FRAME_HEADER_BYTES) {
    throw new FrameError(`a frame needs at least ${FRAME_HEADER_BYTES} bytes, got ${bytes.byteLength}`);
  }
  const reader = new FrameReader(bytes);
  const type = reader.u8('type');
  const id = reader.u32('id');
  return { header: { type, id }, reader };
}

/** A writer with the header already written. */
export function frameWriter(type: FrameTypeCode, id: number, initialBytes = 64): FrameWriter {
  return new FrameWriter(initialBytes).u8(type).u32(id);
}

/** A frame with no body. */
export function encodeEmpty(type: FrameTypeCode, id: number): Uint8Array {
  return frameWriter(type, id, FRAME_HEADER_BYTES).finish();
}
