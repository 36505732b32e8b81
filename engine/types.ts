// The public types of the engine API. The gateway codes against these (through engine/index.ts)
// and nothing else of the engine.
import type { CorruptRecordError } from './format/errors.js';
import type { PartitionRecord, RecordHeader as FormatRecordHeader } from './format/record-types.js';
import type { TopicConfig } from './format/topic-types.js';

export type { Bytes, Compression, RecordInput } from './format/record-types.js';
export type { PartitionDescription, TopicConfig, TopicDescription } from './format/topic-types.js';
/** A record header as the engine hands it out (its value a view into the batch). */
export type RecordHeader = FormatRecordHeader<Buffer>;

/** `written`: in the page cache (survives a process crash). `flushed`: on disk (survives power loss). */
export type Acks = 'written' | 'flushed';

export interface EngineOptions extends Partial<Omit<TopicConfig, 'partitions'>> {
  /** Data directory. Required unless `memory` is true. */
  dir?: string;
  /** Volatile storage with the same behaviour (files on tmpfs, removed on close). */
  memory?: boolean;
  /** Default partition count for new topics. Default 1. */
  partitions?: number;
  /** Create a topic on first produce instead of failing with TOPIC_NOT_FOUND. Default false. */
  autoCreateTopics?: boolean;
  /** Background flush of written data (msync) every this many ms. Default 1000; 0 = off. */
  flushIntervalMs?: number;
  /**
   * Delay between a segment's removal by retention and the freeing of its blocks (views handed out
   * by reads may still be in use; as Kafka's file.delete.delay.ms). Default 60_000.
   */
  fileDeleteDelayMs?: number;
  /** How often retention runs. Default 60_000 ms. */
  retentionCheckIntervalMs?: number;
  /** Injectable clock (ms since epoch) for tests. */
  now?: () => number;
  /** Sparse offset index interval. Default 4096 bytes. */
  indexIntervalBytes?: number;
  /**
   * Partition logs kept open at once (each holds about 4 file descriptors: its active segment's
   * three files and a checkpoint rewrite; and 3 mappings). Least recently used ones are closed beyond
   * this and reopened on demand. Default: what the open-file limit allows (see `fileBudget()`), at
   * most 1000; a value the limit cannot hold is refused (TOO_MANY_OPEN_FILES).
   */
  maxOpenPartitions?: number;
  /**
   * The open-file limit to budget descriptors for. Default: the process's soft limit
   * (/proc/self/limits; 1024 where unreadable). Lower it to leave descriptors to other users.
   */
  openFilesLimit?: number;
  /**
   * Writes that may wait at once for room in the open-file budget (when every log it allows is in
   * use); a further one fails at once with TOO_MANY_OPEN_FILES, nothing of it written. Default 100,000.
   */
  maxWaitingWrites?: number;
  /** Consumer groups the engine knows at once (created by a first join). Default 10,000. */
  maxGroups?: number;
  /** Members of one consumer group at once. Default 1000. */
  maxMembersPerGroup?: number;
}

/** How the engine budgets file descriptors (Engine.fileBudget()). */
export interface FileBudget {
  /** The open-file limit budgeted for. */
  openFilesLimit: number;
  /** Left to sockets (the gateway's connections) and the rest of the process. */
  socketReserveFds: number;
  /** Descriptors in use in the process when the engine opened. */
  inUseAtOpenFds: number;
  /** Descriptors counted per open partition log. */
  fdsPerOpenLog: number;
  /** Partition logs that may hold descriptors at once (open, or closing after eviction). */
  maxLogsHoldingFds: number;
  /** The part of maxLogsHoldingFds writes may fill; they wait for evicted logs beyond it (reads cannot wait). */
  maxLogsForWrites: number;
  /** Logs kept open before least recently used ones are closed. */
  maxOpenPartitions: number;
  /** Logs holding descriptors now. */
  logsHoldingFds: number;
}

export interface ProduceOptions {
  partition?: number;
  acks?: Acks;
}

export interface ProduceResult {
  partition: number;
  offset: number;
}

export interface BatchAppendResult {
  partition: number;
  baseOffset: number;
  lastOffset: number;
  /**
   * The batch of an idempotent producer (producerId >= 0) was stored before (a retry): nothing was
   * written and the offsets are those of the stored batch.
   */
  duplicate?: boolean;
}

export interface ReadOptions {
  maxRecords?: number;
  maxBytes?: number;
}

/**
 * A record as Engine.read and subscriptions hand it out: read-only. Its key and value are views
 * into a copy of its batch made by the read (safe to keep whatever happens to the segment later).
 * It is a ReadRecord (format/read-record.ts): offset and headers are own properties, topic,
 * partition, timestamp, key and value getters, so `{ ...record }` does not copy them;
 * `record.toJSON()` gives a plain object.
 */
export type ConsumedRecord = Readonly<PartitionRecord<Buffer>> & { toJSON(): PartitionRecord<Buffer> };

export interface RawBatchRead {
  /** Whole batches as they lie in the segment (views, no copy). The first may start before `offset`. */
  batches: Buffer[];
  /** Offset to read from next. */
  nextOffset: number;
  startOffset: number;
  endOffset: number;
}

export type StartPosition = 'earliest' | 'latest' | { offset: number } | { timestamp: number };

export interface SubscribeOptions {
  /** One partition, a list, or all (default). */
  partitions?: number | number[];
  from?: StartPosition;
  /** Per-partition start offsets, overriding `from` where given (for resume). */
  offsets?: Record<number, number>;
  /** Records read from one partition per fetch (the subscription's buffer bound). Default 500. */
  maxRecordsPerFetch?: number;
  /** Bytes read from one partition per fetch (at least one batch). Default 1 MiB. */
  maxBytesPerFetch?: number;
  /**
   * What to do on reaching a damaged range of a partition (CORRUPT_RECORD): 'stop' (default) ends
   * the subscription with the CorruptRecordError (its offset/nextOffset give the range; subscribe
   * again with `offsets` at nextOffset to go on); 'skip' continues at nextOffset. Either way the
   * records before the damage are delivered first and a 'corrupt' event (CorruptEvent) is emitted.
   */
  corrupt?: 'stop' | 'skip';
}

/** Yielded by subscribe() when retention removed records the subscriber had not read yet. */
export interface GapEvent {
  type: 'gap';
  topic: string;
  partition: number;
  /** The offset the subscriber wanted and the offset it continues from. */
  fromOffset: number;
  toOffset: number;
}

/** Emitted by subscribe() on reaching a damaged range of a partition ([offset, nextOffset) unreadable). */
export interface CorruptEvent {
  type: 'corrupt';
  topic: string;
  partition: number;
  /** First offset of the damaged range, and the offset where intact data resumes. */
  offset: number;
  nextOffset: number;
  error: CorruptRecordError;
}

export interface OffsetRange {
  startOffset: number;
  endOffset: number;
}

/**
 * How a partition's log was found when this process opened it (recovery runs at a log's first open;
 * see FORMAT.md). `clean`: shut down cleanly, nothing checked. Otherwise `scannedBytes` were checked
 * and, when the log had to be cut, `truncated` says where and why (bytes after the cut are gone).
 */
export interface PartitionRecovery {
  topic: string;
  partition: number;
  clean: boolean;
  scannedBytes: number;
  truncated: null | { segment: string; position: number; bytes: number; reason: string };
}
