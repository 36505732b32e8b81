// The record shapes of Kafka record batch v2, shared by the engine and the client. Decoded records
// are generic over their byte type: the engine hands out Buffers (views into its segments), the
// client plain Uint8Arrays.

export type Compression = 'none' | 'lz4';
export type Bytes = string | Uint8Array;

export interface RecordHeaderInput {
  key: string;
  value: Bytes | null;
}

export interface RecordInput {
  key?: Bytes | null;
  value: Bytes | null;
  /** An object (`{ name: value }`) or a list of pairs (repeated keys allowed, order kept). */
  headers?: Record<string, Bytes | null> | RecordHeaderInput[];
  /** Milliseconds since the epoch; defaults to the time of encoding. */
  timestamp?: number;
}

export interface RecordHeader<B extends Uint8Array = Uint8Array> {
  key: string;
  value: B | null;
}

export interface DecodedRecord<B extends Uint8Array = Uint8Array> {
  offset: number;
  timestamp: number;
  key: B | null;
  value: B | null;
  headers: RecordHeader<B>[];
}

/** A decoded record with the topic and partition it came from. */
export interface PartitionRecord<B extends Uint8Array = Uint8Array> {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: B | null;
  value: B | null;
  headers: RecordHeader<B>[];
}

export interface EncodeOptions {
  compression?: Compression;
  baseOffset?: number;
  /** Clock for records without a timestamp. */
  now?: number;
  /** Free bytes to leave before the batch (the client writes its frame header there: no copy). */
  headroomBytes?: number;
}
