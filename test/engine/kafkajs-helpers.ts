// kafkajs (CommonJS, no types) as an independent Kafka record batch v2 implementation for
// cross-checks. Only its protocol internals are used; nothing here opens a connection.
import { createRequire } from 'node:module';
import { compressFrame, decompressFrame } from 'lz4-napi';

const require = createRequire(import.meta.url);

/* eslint-disable @typescript-eslint/no-explicit-any */
const Decoder: new (buf: Buffer) => any = require('kafkajs/src/protocol/decoder');
const decodeRecordBatch: (decoder: any) => Promise<KafkajsBatch> = require('kafkajs/src/protocol/recordBatch/v0/decoder');
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index') as {
  RecordBatch: (args: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
};
const Record: (args: Record<string, unknown>) => unknown = require('kafkajs/src/protocol/recordBatch/record/v0/index');
const Long: { fromValue(v: number | string): unknown } = require('kafkajs/src/utils/long');
const kafkajsCrc32C: (buf: Buffer) => number = require('kafkajs/src/protocol/recordBatch/crc32C');
const kafkajs = require('kafkajs') as {
  CompressionTypes: { None: number; LZ4: number };
  CompressionCodecs: Record<number, () => unknown>;
};

// kafkajs ships no LZ4 codec; one is registered the way its docs describe for kafkajs-lz4.
kafkajs.CompressionCodecs[kafkajs.CompressionTypes.LZ4] = () => ({
  compress: async (encoder: { buffer: Buffer }) => compressFrame(encoder.buffer),
  decompress: async (buffer: Buffer) => decompressFrame(buffer),
});

export const KAFKAJS_NONE = kafkajs.CompressionTypes.None;
export const KAFKAJS_LZ4 = kafkajs.CompressionTypes.LZ4;

export interface KafkajsRecord {
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
}

export interface KafkajsBatch {
  firstOffset: string;
  firstTimestamp: string;
  maxTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  timestampType: number;
  records: KafkajsRecord[];
}

/** The raw header as kafkajs's primitive decoder reads it (its batch decoder drops some fields). */
export interface KafkajsRawHeader {
  magic: number;
  crc: number;
  attributes: number;
  recordCount: number;
  /** CRC-32C of attributes..end computed by kafkajs's own (JavaScript) implementation. */
  crcComputed: number;
}

export async function kafkajsDecodeBatch(batch: Buffer): Promise<KafkajsBatch> {
  return decodeRecordBatch(new Decoder(batch));
}

export function kafkajsRawHeader(batch: Buffer): KafkajsRawHeader {
  const d = new Decoder(batch);
  d.readInt64();
  d.readInt32();
  d.readInt32();
  const magic = d.readInt8();
  const crc = d.readInt32() >>> 0;
  const attributes = d.readInt16();
  d.readInt32();
  d.readInt64();
  d.readInt64();
  d.readInt64();
  d.readInt16();
  d.readInt32();
  const recordCount = d.readInt32();
  const crcComputed = kafkajsCrc32C(batch.subarray(21)) >>> 0;
  return { magic, crc, attributes, recordCount, crcComputed };
}

export interface KafkajsRecordInput {
  key: Buffer | string | null;
  value: Buffer | string | null;
  /** kafkajs's header shape: repeated keys as arrays. Values must not be null (kafkajs cannot size them). */
  headers: Record<string, Buffer | string | (Buffer | string)[]>;
  timestamp: number;
}

export async function kafkajsEncodeBatch(
  records: KafkajsRecordInput[],
  options: { compression: number; baseOffset: number; leaderEpoch?: number; producerId?: number; producerEpoch?: number; baseSequence?: number },
): Promise<Buffer> {
  const firstTimestamp = records[0]!.timestamp;
  const maxTimestamp = Math.max(...records.map((r) => r.timestamp));
  const encoded = records.map((r, i) =>
    Record({ offsetDelta: i, timestampDelta: r.timestamp - firstTimestamp, key: r.key, value: r.value, headers: r.headers }),
  );
  const encoder = await RecordBatch({
    compression: options.compression,
    firstOffset: Long.fromValue(options.baseOffset),
    firstTimestamp,
    maxTimestamp,
    partitionLeaderEpoch: options.leaderEpoch ?? 0,
    lastOffsetDelta: records.length - 1,
    producerId: Long.fromValue(options.producerId ?? -1),
    producerEpoch: options.producerEpoch ?? 0,
    firstSequence: options.baseSequence ?? 0,
    records: encoded,
  });
  return encoder.buffer;
}
