// The engine layer's defaults and bounds, in one place (documented in the README). Each name says
// its unit; loop bounds are named here too, so every retry or continuation loop has a visible limit.
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Defaults and bounds of engine-level options (documented in the README). */
export const ENGINE_DEFAULTS = {
  flushIntervalMs: 1000,
  retentionCheckIntervalMs: 60_000,
  indexIntervalBytes: 4096,
  /** Segment size in memory mode: tmpfs reserves RAM. */
  memorySegmentBytes: 8 * MiB,
  /** Blocks reserved ahead of the write position in memory mode: on tmpfs they are RAM. */
  memoryReserveAheadBytes: 64 * 1024,
  readMaxBytes: 1 * MiB,
  readMaxRecords: 10_000,
  readMaxBytesLimit: 64 * MiB,
  readMaxRecordsLimit: 1_000_000,
  subscribeMaxRecordsPerFetch: 500,
  subscribeMaxBytesPerFetch: 1 * MiB,
  watchersPerPartitionMax: 65_536,
  /** Fetch attempts one Subscription.tryNext makes before answering "nothing now" (each either delivers or moves on). */
  subscribeTryRoundsMax: 64,
  produceRecordsMax: 1 << 20,
  /** Recovery reports kept (unclean opens); older ones are dropped first. */
  recoveryReportsMax: 10_000,
  /** Evictions a write waits for, at most, when every log the file budget allows is in use. */
  logCapacityWaitRoundsMax: 64,
  /** Writes that may wait at once for room in the open-file budget (`maxWaitingWrites`); more fail. */
  waitingWritesMax: 100_000,
  /** Entries of the tmpfs root one memory-mode open looks at for directories left by dead processes. */
  memoryDirSweepEntriesMax: 10_000,
} as const;

/** The longest delay a Node timer takes. */
const TIMER_DELAY_MS_MAX = 2 ** 31 - 1;

/** Bounds of engine options given to Engine.open (inclusive). */
export const ENGINE_OPTION_LIMITS = {
  flushIntervalMsMax: 24 * 3600 * 1000,
  fileDeleteDelayMsMax: TIMER_DELAY_MS_MAX,
  retentionCheckIntervalMsMax: 24 * 3600 * 1000,
  indexIntervalBytesMax: 1 << 30,
  maxOpenPartitionsMax: 1_000_000,
  maxWaitingWritesMax: 10_000_000,
} as const;

/** Loop bounds of the engine's internal retries and continuations. */
export const ENGINE_LOOP_BOUNDS = {
  /** Times a produce waits for its target logs to finish closing (a log just waited for was used, so it stays open). */
  produceClosingWaitRoundsMax: 8,
  /** Log reads one engine read makes, at most: a log read may stop at a segment boundary. */
  readRoundsMax: 1024,
} as const;

/** The round robin counter wraps here (kept a small integer). */
export const ROUND_ROBIN_WRAP = 0x7fffffff;

/** Defaults and bounds of a partition log's options (PartitionLog.open). */
export const PARTITION_LOG_LIMITS = {
  segmentBytesMin: 64 * KiB,
  segmentBytesMax: 1 * GiB,
  segmentBytesDefault: 128 * MiB,
  segmentMsDefault: 7 * 24 * 3600 * 1000,
  /** Sealed segments kept mapped per partition log (3 mappings each); colder ones are let go. */
  mappedSealedSegmentsMax: 32,
  /** Smallest accepted reserveAheadBytes option (the default is mapped-file.ts's RESERVE_AHEAD_BYTES_DEFAULT). */
  reserveAheadOptionBytesMin: 4096,
  indexIntervalBytesDefault: 4096,
  maxBatchBytesDefault: 1 * MiB,
  /** The smallest record batch v2 (its header, no records). */
  maxBatchBytesMin: 61,
  fileDeleteDelayMsDefault: 60_000,
  flushIntervalMsDefault: 1000,
  /** The longest delay a Node timer takes. */
  timerDelayMsMax: TIMER_DELAY_MS_MAX,
} as const;

/**
 * Consumer groups (engine/groups/): defaults and bounds. Options of Engine.open (maxGroups,
 * maxMembersPerGroup) and of a member's join (sessionTimeoutMs, rebalanceTimeoutMs) are checked
 * against them.
 */
export const GROUP_LIMITS = {
  /** Groups one engine knows at once (joined or with committed offsets); `maxGroups`. */
  groupsDefault: 10_000,
  groupsMax: 1_000_000,
  /** Members of one group at once; `maxMembersPerGroup`. */
  membersPerGroupDefault: 1000,
  membersPerGroupMax: 100_000,
  /** Topics one member subscribes to. */
  topicsPerMemberMax: 100,
  /** A member that sends no heartbeat for this long is removed and its partitions reassigned. */
  sessionTimeoutMsDefault: 10_000,
  sessionTimeoutMsMin: 10,
  sessionTimeoutMsMax: 3_600_000,
  /** A member told to give partitions up has this long to commit and confirm, else it is removed. */
  rebalanceTimeoutMsDefault: 60_000,
  rebalanceTimeoutMsMin: 10,
  rebalanceTimeoutMsMax: 3_600_000,
  /** Heartbeats come this many times per session timeout. */
  heartbeatsPerSession: 3,
  /** Auto-commit of a member's positions (and at revoke and close). */
  autoCommitIntervalMsDefault: 5000,
  autoCommitIntervalMsMax: 86_400_000,
} as const;

/** Idempotent producers (engine/producer-state.ts, engine/producer-ids.ts). */
export const PRODUCER_STATE_LIMITS = {
  /** Batches remembered per producer and partition for duplicate detection (Kafka's 5, matching max.in.flight 5). */
  batchesKeptPerProducer: 5,
  /** Producers remembered per partition; the least recently appended one is forgotten beyond it (`maxProducersPerPartition`). */
  producersPerPartitionDefault: 2000,
  producersPerPartitionMax: 1_000_000,
  /** Producer snapshot files kept per partition (the newest first). */
  snapshotsKept: 2,
  /** Batches read per round while rebuilding producer state from the batch headers (views of the segment, not copies). */
  rebuildReadBytes: 1 << 20,
  /** Producer ids reserved (persisted) at a time, so the id file is written once per this many InitProducerId. */
  producerIdBlockSize: 1000,
} as const;
