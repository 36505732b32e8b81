// Topic configuration and description: what the engine reports and the gateway carries to clients.
import type { Compression } from './record-types.js';

export interface TopicConfig {
  partitions: number;
  /** Fixed logical size of a segment file. Default 128 MiB, at most 1 GiB. */
  segmentBytes: number;
  /** Roll the active segment this long after its first batch. Default 7 days. */
  segmentMs: number;
  /** Delete segments whose newest record is older than this; -1 keeps forever. Default 7 days. */
  retentionMs: number;
  /** Delete oldest segments while the partition is larger than this; -1 = no limit (default). */
  retentionBytes: number;
  /** How the engine compresses batches it encodes itself (produce of records). */
  compression: Compression;
  /** Largest batch accepted, in bytes. Default 1 MiB. */
  maxBatchBytes: number;
}

export interface PartitionDescription {
  partition: number;
  startOffset: number;
  endOffset: number;
  sizeBytes: number;
  segments: number;
  /** Newest record timestamp in the partition, or null when it is empty. */
  newestTimestamp: number | null;
}

export interface TopicDescription {
  name: string;
  config: TopicConfig;
  partitions: PartitionDescription[];
}
