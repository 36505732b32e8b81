// The producer's public option and result types (shared by its modules).
import type { Compression, encodeRecordBatch } from './record-codec.js';
import type { AcksName } from '../protocol/produce.js';

/**
 * A record as send() takes it: the batch codec's input (engine/types.ts' RecordInput), named
 * through the codec so the producer's modules need no import of the engine layer.
 */
export type RecordInput = Parameters<typeof encodeRecordBatch>[0][number];

export interface ProducerOptions {
  /** How long a batch waits for more records. 0: until the end of the current tick. Default 5. */
  lingerMs?: number;
  /** Close a batch at about this many bytes. Default 512 KiB (never above the server's limit). */
  maxBatchBytes?: number;
  /**
   * How batches are compressed. Default: as the topic's `compression` says (Kafka's
   * compression.type), read with the topic's metadata; 'none' or 'lz4' overrides it.
   */
  compression?: Compression;
  acks?: AcksName;
  /** Batches sent and not yet acknowledged. Default 32. */
  maxInFlightBatches?: number;
  /** Bytes of records accepted and not yet sent, above which send() waits. Default 32 MiB. */
  maxBufferedBytes?: number;
  /** How long topic metadata (partition counts, for keyed records) is cached. Default 30 s. */
  metadataMaxAgeMs?: number;
  /**
   * Records of calls waiting to be queued (for topic metadata, LZ4 loading or buffer space) above
   * which a further call rejects at once with TOO_MANY_REQUESTS. A call alone in the queue is
   * always taken. Default 100,000.
   */
  maxQueuedRecords?: number;
  /** How long a call may wait to be queued before it rejects with TIMEOUT (Kafka's max.block.ms). Default 60 s. */
  maxBlockMs?: number;
}

export interface SendOptions {
  /** Send to this partition. Otherwise: by key hash (Kafka's murmur2); records without key: the sticky partitioner (see Producer). */
  partition?: number;
  acks?: AcksName;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  offset: number;
}

/** What sendBatch() resolves with: record i of the call got offset baseOffset + i. */
export interface BatchMetadata {
  topic: string;
  partition: number;
  baseOffset: number;
  count: number;
}
