// The engine's state of one topic and of each of its partitions, shared by its modules (topic
// admin, log cache, produce, read, watchers, retention). Plain records: the hot paths read fields.
import path from 'node:path';
import { InvalidArgumentError, PartitionNotFoundError } from './format/errors.js';
import { emptyFigures, type PartitionFigures } from './partition-figures.js';
import type { PartitionLog } from './partition-log.js';
import type { Subscription } from './subscription.js';
import { partitionDirName } from './topic-name.js';
import type { TopicConfig } from './types.js';

export interface TopicState {
  name: string;
  config: TopicConfig;
  partitions: PartitionState[];
  /** Round robin position for records without key and batches without partition. */
  roundRobin: number;
  deleted: boolean;
  /** Subscriptions to the whole topic, told about added partitions. */
  wholeTopicSubscriptions: Set<Subscription>;
  /** onPartitionsAdded() listeners (dropped with the topic). */
  partitionsAddedListeners: Set<(partitions: number[]) => void>;
}

export interface PartitionState {
  topic: TopicState;
  partition: number;
  dir: string;
  log: PartitionLog | null;
  /** Set while an evicted log is closing; its lock is released when this settles. */
  closing: Promise<void> | null;
  /**
   * The figures of the log while it is closed: as it was evicted, read from its files, or empty for
   * a partition created by this engine (exact while it stays closed: any change reopens it), so
   * describeTopic, offsets, retention planning and idle reads need not open it.
   */
  figures: PartitionFigures | null;
  /** Counts evictions: a newer one (the log was used, then evicted again) supersedes an older one. */
  evictions: number;
  watchers: Set<() => void>;
  notifyScheduled: boolean;
  /** Set while writes wait for this log (closing, or no room in the file budget): later writes queue behind, in order. */
  writeGate: Promise<unknown> | null;
  /** Writers holding this log between their wait and their append: it is neither closed nor evicted meanwhile. */
  pins: number;
}

export function figuresOf(log: PartitionLog): PartitionFigures {
  return { startOffset: log.startOffset, endOffset: log.endOffset, sizeBytes: log.sizeBytes, newestTimestamp: log.newestTimestamp, segments: log.segments() };
}

/** A partition's state; `empty`: it has no directory yet, so its figures are known without reading. */
export function newPartitionState(dataDir: string, ts: TopicState, partition: number, empty: boolean): PartitionState {
  return {
    topic: ts,
    partition,
    dir: path.join(dataDir, partitionDirName(ts.name, partition)),
    log: null,
    closing: null,
    figures: empty ? emptyFigures() : null,
    evictions: 0,
    watchers: new Set(),
    notifyScheduled: false,
    writeGate: null,
    pins: 0,
  };
}

/** The partition `partition` of `ts` (INVALID_ARGUMENT for a non-integer, PARTITION_NOT_FOUND beyond the topic). */
export function partitionOf(ts: TopicState, partition: unknown): PartitionState {
  if (typeof partition !== 'number' || !Number.isInteger(partition)) {
    throw new InvalidArgumentError(`partition must be an integer, got ${String(partition)}`);
  }
  const ps = ts.partitions[partition];
  if (ps === undefined) throw new PartitionNotFoundError(ts.name, partition, ts.partitions.length);
  return ps;
}
