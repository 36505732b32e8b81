// PRODUCE carries one record batch (Kafka v2 bytes, as the engine stores them) for a topic and
// an optional partition; PRODUCE_ACK answers with the offsets the batch got.
import { FrameError, FrameReader, FrameWriter } from './codec.js';
import { FRAME_HEADER_BYTES, FrameType, frameWriter } from './frame.js';

export const ANY_PARTITION = -1;
export const ACKS_WRITTEN = 0;
export const ACKS_FLUSHED = 1;
export type AcksName = 'written' | 'flushed';

export function acksCode(acks: AcksName | undefined): number {
  return acks === 'flushed' ? ACKS_FLUSHED : ACKS_WRITTEN;
}

export interface ProduceRequest {
  topic: string;
  /** -1: the server picks (round robin per batch). */
  partition: number;
  acks: AcksName;
  /** One record batch; a view of the received message (no copy). */
  batch: Uint8Array;
}

/** Bytes before the batch in a PRODUCE frame for this topic (the client reserves them up front). */
export function produceHeaderBytes(topic: string): number {
  return FRAME_HEADER_BYTES + 2 + new TextEncoder().encode(topic).byteLength + 4 + 1;
}

/**
 * Writes the PRODUCE header into the first `produceHeaderBytes(topic)` bytes of `frame`, whose
 * remaining bytes are the batch. Lets the client encode the batch in place, with no copy.
 */
export function writeProduceHeader(frame: Uint8Array, id: number, topic: string, partition: number, acks: AcksName): void {
  const w = new FrameWriter(produceHeaderBytes(topic))
    .u8(FrameType.PRODUCE)
    .u32(id)
    .string(topic)
    .i32(partition)
    .u8(acksCode(acks));
  frame.set(w.finish(), 0);
}

export function encodeProduce(id: number, req: Omit<ProduceRequest, 'batch'> & { batch: Uint8Array }): Uint8Array {
  return frameWriter(FrameType.PRODUCE, id, produceHeaderBytes(req.topic) + req.batch.byteLength)
    .string(req.topic)
    .i32(req.partition)
    .u8(acksCode(req.acks))
    .raw(req.batch)
    .finish();
}

export function decodeProduce(r: FrameReader): ProduceRequest {
  const topic = r.string('topic');
  const partition = r.i32('partition');
  const acksByte = r.u8('acks');
  if (acksByte !== ACKS_WRITTEN && acksByte !== ACKS_FLUSHED) throw new FrameError(`acks ${acksByte} is not 0 (written) or 1 (flushed)`);
  return { topic, partition, acks: acksByte === ACKS_FLUSHED ? 'flushed' : 'written', batch: r.rest() };
}

export interface ProduceAck {
  partition: number;
  baseOffset: number;
  lastOffset: number;
}

export function encodeProduceAck(id: number, ack: ProduceAck): Uint8Array {
  return frameWriter(FrameType.PRODUCE_ACK, id, 25).i32(ack.partition).i64(ack.baseOffset).i64(ack.lastOffset).finish();
}

export function decodeProduceAck(r: FrameReader): ProduceAck {
  const ack = { partition: r.i32('partition'), baseOffset: r.i64('baseOffset'), lastOffset: r.i64('lastOffset') };
  r.end();
  return ack;
}
