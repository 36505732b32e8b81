// The embeddable engine: topics of partitions, each partition a PartitionLog in
// `<dir>/<topic>-<partition>/` (Kafka's layout). Engine is the facade of the public API; the work is
// done by one module each: topic-admin.ts (topics, registry), log-cache.ts (at most
// `maxOpenPartitions` logs open, least recently used closed; the file budget of fd-budget.ts bounds
// both), produce-router.ts (routing, one batch per partition per call), read-path.ts, watchers.ts
// and subscriptions.ts (woken after appends; start positions by start-positions.ts),
// offset-store.ts (consumer group offsets), retention-runner.ts, recovery-reports.ts. A
// partition's files are created on its first write; closed partitions are described from their
// files (partition-figures.ts) without opening their logs.
//
// Data directory:
//   .lock                          one engine per directory (acquireDirLock)
//   topics.json                    topic names and configs (topic-registry.ts)
//   consumer-offsets.journal       committed offsets (offset-store.ts)
//   consumer-groups.json           consumer groups (groups/group-store.ts); the coordinator is groups/coordinator.ts
//   <topic>-<partition>/           partition logs
//   <topic>-<partition>.<id>-delete/  a deleted partition whose files are being removed
import fs from 'node:fs';
import path from 'node:path';
import { checkAcks, checkOffset, checkOptionsObject, limitOption } from './arguments.js';
import { acquireDirLock, type DirLock } from './dir-lock.js';
import { BatchTooLargeError, ClosedError, GroupNotEmptyError, GroupNotFoundError, InvalidArgumentError, IoError, SeglogError, TooManyOpenFilesError, TopicNotFoundError } from './format/errors.js';
import { FDS_PER_OPEN_LOG, OPEN_FILES_LIMIT_OPTION_MAX, currentFdBudget, typedFdError, type FdBudget } from './fd-budget.js';
import { ENGINE_DEFAULTS, ENGINE_OPTION_LIMITS, GROUP_LIMITS } from './limits.js';
import type { ClassicAssignment, ClassicJoinOptions, ClassicJoinResult, ClassicMemberDescription } from './groups/classic-group.js';
import { GroupCoordinator } from './groups/coordinator.js';
import { groupLag } from './groups/group-lag.js';
import { GroupStore } from './groups/group-store.js';
import { GroupSubscription, type GroupMemberPort } from './groups/group-subscription.js';
import type {
  GroupDescription,
  GroupEvent,
  GroupListing,
  GroupSubscribeOptions,
  JoinGroupOptions,
  JoinGroupResult,
  MemberAssignment,
  ResetTarget,
} from './groups/group-types.js';
import { resolveStartOffset } from './start-positions.js';
import { ProducerIds } from './producer-ids.js';
import { LogCache } from './log-cache.js';
import { OffsetStore, validateGroupName, type CommittedOffset } from './offset-store.js';
import type { PartitionLog } from './partition-log.js';
import { partitionOf } from './partition-state.js';
import { appendPlanned, nextRoundRobin, planProduce } from './produce-router.js';
import { readBatches, readRecords } from './read-path.js';
import { compressBatchLz4, validateProducerBatch, type RecordInput } from './record-batch.js';
import { RecoveryReports } from './recovery-reports.js';
import { RetentionRunner, type RetentionReport } from './retention-runner.js';
import { storageError } from './storage-error.js';
import type { Subscription } from './subscription.js';
import { Subscriptions } from './subscriptions.js';
import { TopicAdmin } from './topic-admin.js';
import { DEFAULT_TOPIC_CONFIG, TopicRegistry, resolveTopicConfig } from './topic-registry.js';
import { validateTopicName } from './topic-name.js';
import type {
  Acks,
  BatchAppendResult,
  ConsumedRecord,
  EngineOptions,
  FileBudget,
  OffsetRange,
  PartitionDescription,
  PartitionRecovery,
  ProduceOptions,
  ProduceResult,
  RawBatchRead,
  ReadOptions,
  SubscribeOptions,
  TopicConfig,
  TopicDescription,
} from './types.js';
import { addPartitionsAddedListener, addWatcher, notify, notifyNow } from './watchers.js';
import { CODEC_MASK, OFF_ATTRIBUTES } from './format/batch-header.js';

/** The batch's attributes end here (a big-endian i16: the codec is the low bits of its last byte). */
const ATTRIBUTES_END = OFF_ATTRIBUTES + 2;
import { closedBefore, figures, rangeOf, readAllFigures } from './partition-view.js';

import { createMemoryDir } from './memory-dirs.js';

export { ENGINE_DEFAULTS } from './limits.js';
export type { RetentionReport } from './retention-runner.js';


/**
 * The engine's public API, a facade over its parts: topic-admin.ts (topics), log-cache.ts (open logs
 * and the file budget), produce-router.ts, read-path.ts, watchers.ts and subscriptions.ts,
 * offset-store.ts (consumer offsets), retention-runner.ts, recovery-reports.ts.
 */
export class Engine {
  /** The data directory (a temp dir under /dev/shm in memory mode). */
  readonly dir: string;
  readonly memory: boolean;
  private readonly defaults: TopicConfig;
  private readonly now: () => number;
  private readonly lock: DirLock;
  private readonly offsetStore: OffsetStore;
  private readonly coordinator: GroupCoordinator;
  /** Embedded group members, ended at close. */
  private readonly groupMembers = new Set<GroupSubscription>();
  private readonly admin: TopicAdmin;
  private readonly cache: LogCache;
  private readonly subscriptions = new Subscriptions();
  private readonly recoveries = new RecoveryReports();
  private readonly retention: RetentionRunner;
  private readonly checkOpenFn = (): void => this.checkOpen();
  private openingAll: Promise<number> | null = null;
  /** Read at the first InitProducerId (a data directory without idempotent producers never has the file). */
  private producerIds: ProducerIds | null = null;
  /** Reads closed partitions' figures in the background after open (LogCache.readAllFigures). */
  private figuresReading: Promise<void> = Promise.resolve();
  private closed = false;
  private closePromise: Promise<void> | null = null;

  private constructor(
    dir: string,
    memory: boolean,
    options: EngineOptions,
    defaults: TopicConfig,
    fdBudget: FdBudget,
    lock: DirLock,
    registry: TopicRegistry,
    offsetStore: OffsetStore,
    groupStore: GroupStore,
    partitionDirs: ReadonlySet<string>,
  ) {
    this.dir = dir;
    this.memory = memory;
    this.defaults = defaults;
    this.now = options.now ?? Date.now;
    this.lock = lock;
    this.offsetStore = offsetStore;
    const isClosed = (): boolean => this.closed;
    this.cache = new LogCache(
      fdBudget,
      options.maxOpenPartitions ?? fdBudget.defaultMaxOpenPartitions,
      options.maxWaitingWrites ?? ENGINE_DEFAULTS.waitingWritesMax,
      {
        indexIntervalBytes: options.indexIntervalBytes ?? ENGINE_DEFAULTS.indexIntervalBytes,
        flushIntervalMs: options.flushIntervalMs ?? ENGINE_DEFAULTS.flushIntervalMs,
        fileDeleteDelayMs: options.fileDeleteDelayMs,
        ...(memory ? { reserveAheadBytes: ENGINE_DEFAULTS.memoryReserveAheadBytes } : {}),
        now: this.now,
      },
      isClosed,
      (ps, log) => this.recoveries.note(ps, log),
    );
    this.admin = new TopicAdmin(dir, registry, defaults, options.autoCreateTopics === true, this.now, this.checkOpenFn, partitionDirs);
    this.retention = new RetentionRunner(this.admin.topics, this.cache, this.now, isClosed);
    this.coordinator = new GroupCoordinator({
      partitionCount: (topic) => this.admin.topics.get(topic)?.partitions.length ?? null,
      store: groupStore,
      maxGroups: options.maxGroups ?? GROUP_LIMITS.groupsDefault,
      maxMembersPerGroup: options.maxMembersPerGroup ?? GROUP_LIMITS.membersPerGroupDefault,
      now: this.now,
    });
  }

  /**
   * Opens (creating if needed) the data directory `dir`, or with `memory: true` a fresh volatile
   * one on tmpfs that is removed on close. Takes the directory's lock (DIRECTORY_LOCKED if another
   * engine has it), loads topics and committed offsets, and starts the retention task.
   */
  static async open(options: EngineOptions): Promise<Engine> {
    if (options === null || typeof options !== 'object') throw new InvalidArgumentError('Engine.open needs an options object');
    const memory = options.memory === true;
    if (!memory && (typeof options.dir !== 'string' || options.dir.length === 0)) {
      throw new InvalidArgumentError('Engine.open needs { dir } (a data directory) or { memory: true }');
    }
    if (options.now !== undefined && typeof options.now !== 'function') throw new InvalidArgumentError('now must be a function');
    if (options.flushIntervalMs !== 0) limitOption('flushIntervalMs', options.flushIntervalMs, 1, ENGINE_OPTION_LIMITS.flushIntervalMsMax);
    if (options.fileDeleteDelayMs !== 0) limitOption('fileDeleteDelayMs', options.fileDeleteDelayMs, 1, ENGINE_OPTION_LIMITS.fileDeleteDelayMsMax);
    limitOption('retentionCheckIntervalMs', options.retentionCheckIntervalMs, 1, ENGINE_OPTION_LIMITS.retentionCheckIntervalMsMax);
    limitOption('indexIntervalBytes', options.indexIntervalBytes, 1, ENGINE_OPTION_LIMITS.indexIntervalBytesMax);
    limitOption('maxOpenPartitions', options.maxOpenPartitions, 1, ENGINE_OPTION_LIMITS.maxOpenPartitionsMax);
    limitOption('openFilesLimit', options.openFilesLimit, 1, OPEN_FILES_LIMIT_OPTION_MAX);
    limitOption('maxWaitingWrites', options.maxWaitingWrites, 1, ENGINE_OPTION_LIMITS.maxWaitingWritesMax);
    limitOption('maxGroups', options.maxGroups, 1, GROUP_LIMITS.groupsMax);
    limitOption('maxMembersPerGroup', options.maxMembersPerGroup, 1, GROUP_LIMITS.membersPerGroupMax);
    const { dir: _dir, memory: _memory, autoCreateTopics: _a, flushIntervalMs: _f, retentionCheckIntervalMs: _r, now: _n,
      indexIntervalBytes: _i, maxOpenPartitions: _m, fileDeleteDelayMs: _d, openFilesLimit: _o, maxWaitingWrites: _w,
      maxGroups: _g, maxMembersPerGroup: _mg, ...topicDefaults } = options;
    const defaults = resolveTopicConfig(
      { ...topicDefaults, ...(memory && options.segmentBytes === undefined ? { segmentBytes: ENGINE_DEFAULTS.memorySegmentBytes } : {}) },
      DEFAULT_TOPIC_CONFIG,
    );

    // Counted before the engine opens anything of its own (its descriptors are in the plan).
    const fdBudget = Engine.checkFdBudget(currentFdBudget(options.openFilesLimit), options.maxOpenPartitions);
    let dir: string;
    try {
      dir = memory ? createMemoryDir() : path.resolve(options.dir!);
    } catch (e) {
      throw typedFdError(e, 'creating the memory-mode directory');
    }
    let lock: DirLock | null = null;
    try {
      fs.mkdirSync(dir, { recursive: true });
      lock = acquireDirLock(dir);
      const hadRegistry = TopicRegistry.exists(dir);
      const registry = TopicRegistry.load(dir);
      const partitionDirs = await TopicAdmin.tidyDirectory(dir, registry, hadRegistry, defaults);
      const groupStore = GroupStore.load(dir);
      const offsetStore = await OffsetStore.open(dir);
      const engine = new Engine(dir, memory, options, defaults, fdBudget, lock, registry, offsetStore, groupStore, partitionDirs);
      engine.figuresReading = readAllFigures(engine.admin.topics.values(), () => engine.closed);
      engine.retention.start(options.retentionCheckIntervalMs ?? ENGINE_DEFAULTS.retentionCheckIntervalMs);
      return engine;
    } catch (e) {
      lock?.release();
      if (memory) fs.rmSync(dir, { recursive: true, force: true });
      throw typedFdError(storageError(e, `opening the data directory ${dir}`), `opening the data directory ${dir}`);
    }
  }

  /** Refuses a budget that cannot hold one log, or a maxOpenPartitions it cannot hold. */
  private static checkFdBudget(budget: FdBudget, maxOpenPartitions: number | undefined): FdBudget {
    const plan = `the open-file limit ${budget.openFilesLimit}, less ${budget.socketReserveFds} left to sockets and ${budget.inUseAtOpenFds} in use, holds ${budget.maxLogsHoldingFds} partition logs of about ${FDS_PER_OPEN_LOG} descriptors each`;
    if (budget.maxLogsHoldingFds < 1) throw new TooManyOpenFilesError(`${plan}: too few to open an engine; raise the limit (ulimit -n)`);
    if (maxOpenPartitions !== undefined && maxOpenPartitions > budget.maxLogsHoldingFds) {
      throw new TooManyOpenFilesError(`maxOpenPartitions ${maxOpenPartitions} does not fit: ${plan}; lower it or raise the limit (ulimit -n)`);
    }
    return budget;
  }

  // --- topics ------------------------------------------------------------------------------------

  /** Creates a topic (TOPIC_EXISTS if it exists). Config fields not given come from the engine's defaults. */
  async createTopic(name: string, config?: Partial<TopicConfig>): Promise<TopicDescription> {
    this.checkOpen();
    validateTopicName(name);
    const resolved = resolveTopicConfig(config, this.defaults);
    await this.admin.run(() => this.admin.createTopicNow(name, resolved));
    return this.describeTopic(name);
  }

  /** Topic names, sorted. */
  listTopics(): string[] {
    this.checkOpen();
    return [...this.admin.topics.keys()].sort();
  }

  /** Per partition figures; opens no partition log (closed ones are described from their files). */
  describeTopic(name: string): TopicDescription {
    this.checkOpen();
    const ts = this.admin.topicState(name);
    const partitions: PartitionDescription[] = ts.partitions.map((ps) => {
      const f = figures(this.cache, ps);
      return {
        partition: ps.partition,
        startOffset: f.startOffset,
        endOffset: f.endOffset,
        sizeBytes: f.sizeBytes,
        segments: f.segments.length,
        newestTimestamp: f.newestTimestamp,
      };
    });
    return { name, config: { ...ts.config }, partitions };
  }

  /**
   * Deletes a topic and its data and committed offsets. Subscriptions to it end with
   * TOPIC_NOT_FOUND; watchers are called once more (their next read fails with TOPIC_NOT_FOUND).
   */
  async deleteTopic(name: string): Promise<void> {
    this.checkOpen();
    validateTopicName(name);
    await this.admin.deleteTopic(name, async (ts) => {
      const gone = new TopicNotFoundError(name);
      for (const ps of ts.partitions) notifyNow(ps);
      this.subscriptions.endTopic(name, gone);
      for (const ps of ts.partitions) await this.cache.removePartitionData(ps);
      await this.offsetStore.deleteTopic(name);
    });
    this.coordinator.topicChanged(name);
  }

  /** Grows a topic to `totalPartitions` (it can only grow, as in Kafka). */
  async addPartitions(name: string, totalPartitions: number): Promise<TopicDescription> {
    this.checkOpen();
    validateTopicName(name);
    await this.admin.addPartitions(name, totalPartitions);
    this.coordinator.topicChanged(name);
    return this.describeTopic(name);
  }

  /**
   * Calls `listener` with the new partition numbers each time addPartitions grows the topic, before
   * addPartitions resolves and before anything can be appended to them (so a follower starting them
   * at offset 0 misses nothing). Lets code outside the engine follow a whole topic as subscribe()
   * does. The listener goes with the topic when it is deleted. Returns the unsubscribe function.
   */
  onPartitionsAdded(topic: string, listener: (partitions: number[]) => void): () => void {
    this.checkOpen();
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener must be a function');
    return addPartitionsAddedListener(this.admin.topicState(topic), listener);
  }

  // --- partition logs ----------------------------------------------------------------------------

  /** How the engine budgets file descriptors, and how many logs hold some now. */
  fileBudget(): FileBudget {
    return this.cache.fileBudget();
  }

  /**
   * The partitions this process found shut down uncleanly, as their logs were opened (recovery runs
   * at a log's first open: see openAllPartitions), oldest first; at most
   * ENGINE_DEFAULTS.recoveryReportsMax. `truncated` is set when data had to be cut.
   */
  recoveryReports(): PartitionRecovery[] {
    return this.recoveries.list();
  }

  /** Calls `listener` for every later unclean open (as recoveryReports() would list it). Returns the unsubscribe function. */
  onRecovery(listener: (report: PartitionRecovery) => void): () => void {
    return this.recoveries.listen(listener);
  }

  /**
   * Opens every partition's log now, one per event-loop turn (so requests keep being served), so
   * that recovery after a crash runs — and is reported — at start rather than at a partition's first
   * request, which is then fast. Memory stays bounded: beyond maxOpenPartitions the least recently
   * used logs are closed again as usual. Resolves to the number of logs opened; one call at a time
   * (a second call gets the running one). A partition that fails to open is skipped (warned); its
   * first request reports the error.
   */
  openAllPartitions(): Promise<number> {
    this.checkOpen();
    this.openingAll ??= this.cache.openAll(this.admin.topics.values()).finally(() => {
      this.openingAll = null;
    });
    return this.openingAll;
  }

  // --- produce -----------------------------------------------------------------------------------

  /**
   * Appends records to a topic. Each record goes to `options.partition` if given, else to the
   * partition of its key (Kafka's murmur2), else — records without key — all to one partition
   * chosen round robin per call. One batch per partition per call (split only if it would exceed
   * maxBatchBytes). Resolves to one { partition, offset } per record, in input order, once the
   * data is written (acks 'written', default: in the page cache) or flushed (acks 'flushed').
   * Records are validated and encoded before anything is appended; a call spanning partitions is
   * not atomic across them if the disk fails mid-way.
   */
  async produce(topic: string, records: RecordInput[], options: ProduceOptions = {}): Promise<ProduceResult[]> {
    this.checkOpen();
    options = checkOptionsObject(options);
    if (!Array.isArray(records)) throw new InvalidArgumentError('records must be an array');
    if (records.length > ENGINE_DEFAULTS.produceRecordsMax) {
      throw new InvalidArgumentError(`at most ${ENGINE_DEFAULTS.produceRecordsMax} records per produce call, got ${records.length}`);
    }
    const acks = checkAcks(options?.acks);
    const ts = this.admin.topics.get(topic) ?? (await this.admin.topicForWrite(topic));
    const count = records.length;
    if (count === 0) return [];
    const plan = planProduce(ts, records, options.partition, this.now());
    return appendPlanned(this.cache, ts, plan, count, acks, this.checkOpenFn);
  }

  /**
   * Appends an already-encoded record batch (Kafka record batch v2, e.g. from the gateway) as bytes,
   * after validation (length, CRC, codec); the engine only stamps its base offset. Without a
   * partition, batches go round robin. Nothing is written when validation fails.
   */
  async appendBatch(topic: string, batch: Uint8Array, options: { partition?: number; acks?: Acks } = {}): Promise<BatchAppendResult> {
    this.checkOpen();
    options = checkOptionsObject(options);
    if (!(batch instanceof Uint8Array)) throw new InvalidArgumentError('batch must be a Uint8Array');
    const acks = checkAcks(options?.acks);
    let ts = this.admin.topics.get(topic);
    if (ts === undefined) ts = await this.admin.topicForWrite(topic);
    if (batch.length > ts.config.maxBatchBytes) throw new BatchTooLargeError(batch.length, ts.config.maxBatchBytes);
    // As Kafka's compression.type: a topic that asks for LZ4 stores LZ4, also what producers sent
    // plain. Its CRC is checked first: the new CRC must not make damage look intact.
    if (ts.config.compression === 'lz4' && batch.length > ATTRIBUTES_END && (batch[ATTRIBUTES_END - 1]! & CODEC_MASK) === 0) {
      validateProducerBatch(batch);
      batch = compressBatchLz4(batch);
    }
    // PartitionLog.append validates the batch (lengths, magic, CRC, codec) before writing anything.
    const ps = options.partition !== undefined ? partitionOf(ts, options.partition) : ts.partitions[nextRoundRobin(ts)]!;
    const cache = this.cache;
    const write = (log: PartitionLog): { result: BatchAppendResult; flushed: Promise<void> | null } => {
      const { baseOffset, lastOffset, duplicate } = cache.appendTo(ps, log, batch);
      // A duplicate of an idempotent producer wrote nothing: no watcher to wake. Its acks still wait
      // for the flush, since the stored original may not be on disk yet.
      if (duplicate === true) return { result: { partition: ps.partition, baseOffset, lastOffset, duplicate }, flushed: acks === 'flushed' ? log.flush() : null };
      notify(ps);
      return { result: { partition: ps.partition, baseOffset, lastOffset }, flushed: acks === 'flushed' ? log.flush() : null };
    };
    const maybe = cache.withWriteLog(ps, write);
    const { result, flushed } = maybe instanceof Promise ? await maybe : maybe;
    if (flushed !== null) await flushed;
    return result;
  }

  /**
   * A new producer id for an idempotent producer (Kafka's InitProducerId without a transactional
   * id), epoch 0. Ids never repeat in this data directory, across restarts and crashes
   * (producer-ids.ts). Batches carrying it are deduplicated per partition by appendBatch.
   */
  initProducerId(): { producerId: number; producerEpoch: number } {
    this.checkOpen();
    this.producerIds ??= new ProducerIds(this.dir);
    return { producerId: this.producerIds.allocate(), producerEpoch: 0 };
  }

  /** Flushes every open partition log (as acks 'flushed' would). */
  async flush(): Promise<void> {
    this.checkOpen();
    await Promise.all([...this.cache.openLogs.keys()].map((ps) => ps.log?.flush()));
  }

  // --- read --------------------------------------------------------------------------------------

  /**
   * Records of a partition from `offset` (earlier records of the first batch skipped), at most
   * maxRecords (default 10,000) and about maxBytes of batches (default 1 MiB; the first batch is
   * returned whole even when larger). [] at the end offset. Keys, values and header values are
   * Buffers of their own (copied out of the log's map, one copy per batch): safe to keep. Damaged
   * stored data is never returned: a read stops before it with the intact records, and a read from
   * inside it throws CorruptRecordError whose offset/nextOffset give the range (read on from
   * nextOffset to skip it; FORMAT.md 2.10).
   */
  read(topic: string, partition: number, offset: number, options: ReadOptions = {}): ConsumedRecord[] {
    this.checkOpen();
    const ps = this.admin.partitionState(topic, partition);
    checkOffset(offset);
    const maxRecords = limitOption('maxRecords', options?.maxRecords, ENGINE_DEFAULTS.readMaxRecords, ENGINE_DEFAULTS.readMaxRecordsLimit);
    const maxBytes = limitOption('maxBytes', options?.maxBytes, ENGINE_DEFAULTS.readMaxBytes, ENGINE_DEFAULTS.readMaxBytesLimit);
    return readRecords(this.cache, ps, offset, maxRecords, maxBytes).records;
  }

  /**
   * Whole batches from the one containing `offset`, as they lie in the segment (views, no copy),
   * about maxBytes (default 1 MiB; at least one batch when offset < end). For the gateway. The
   * views are valid while the data is retained and for fileDeleteDelayMs (default 60 s) after
   * retention removed it: send them and let them go, do not keep them. Only intact batches, as
   * read() (CorruptRecordError with the range from inside damage).
   */
  readBatches(topic: string, partition: number, offset: number, options: { maxBytes?: number } = {}): RawBatchRead {
    this.checkOpen();
    const ps = this.admin.partitionState(topic, partition);
    checkOffset(offset);
    const maxBytes = limitOption('maxBytes', options?.maxBytes, ENGINE_DEFAULTS.readMaxBytes, ENGINE_DEFAULTS.readMaxBytesLimit);
    return readBatches(this.cache, ps, offset, maxBytes);
  }

  /** The partition's log start offset and end offset (the next offset to be assigned). */
  offsets(topic: string, partition: number): OffsetRange {
    this.checkOpen();
    return rangeOf(this.cache, this.admin.partitionState(topic, partition));
  }

  /** The first offset whose record timestamp is ≥ `timestamp`, or null when there is none. */
  offsetForTimestamp(topic: string, partition: number, timestamp: number): number | null {
    this.checkOpen();
    const ps = this.admin.partitionState(topic, partition);
    if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp)) {
      throw new InvalidArgumentError(`timestamp must be an integer (ms since the epoch), got ${String(timestamp)}`);
    }
    if (closedBefore(this.cache, ps, timestamp)) return null;
    return this.cache.withLog(ps, (log) => log.offsetForTimestamp(timestamp));
  }

  // --- watch and subscribe -----------------------------------------------------------------------

  /**
   * Calls `listener` (on a microtask) after appends to the partition — several appends in one tick
   * give one call — and once when the topic is deleted or the engine closes. Returns the
   * unsubscribe function.
   */
  watch(topic: string, partition: number, listener: () => void): () => void {
    this.checkOpen();
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener must be a function');
    return addWatcher(this.admin.partitionState(topic, partition), listener);
  }

  /**
   * An async iterator over records of one partition, a list, or all partitions (default; it then
   * follows partitions added later, from their start) of a topic, from 'latest' (default), 'earliest',
   * { offset } or { timestamp }; `offsets` overrides the start per partition (resume). Records are
   * read only as the consumer pulls; see Subscription.
   */
  subscribe(topics: string | string[], options: GroupSubscribeOptions): GroupSubscription;
  subscribe(topic: string, options?: SubscribeOptions): Subscription;
  /**
   * With `{ group }`: joins the consumer group and yields the records of the partitions the
   * coordinator assigns to this member (GroupSubscription: 'assigned'/'revoked' events, commit(),
   * close() leaves), one topic or several.
   */
  subscribe(topics: string | string[], options: SubscribeOptions | GroupSubscribeOptions = {}): Subscription | GroupSubscription {
    this.checkOpen();
    if (options !== null && typeof options === 'object' && 'group' in options && options.group !== undefined) {
      return this.subscribeGroup(typeof topics === 'string' ? [topics] : topics, options);
    }
    if (typeof topics !== 'string') throw new InvalidArgumentError('several topics need a consumer group ({ group })');
    return this.subscriptions.open(this.admin.topicState(topics), options as SubscribeOptions, this.cache, this.checkOpenFn);
  }

  private subscribeGroup(topics: string[], options: GroupSubscribeOptions): GroupSubscription {
    validateGroupName(options.group);
    if (!Array.isArray(topics) || topics.length === 0) throw new InvalidArgumentError('a group member subscribes to at least one topic');
    if ('partitions' in options || 'offsets' in options) throw new InvalidArgumentError('a group member gets its partitions from the group: partitions and offsets do not apply');
    for (const t of topics) this.admin.topicState(t);
    const from = options.from ?? 'latest';
    // Checked now, not when a partition is first assigned: the shape of `from`, against any range.
    resolveStartOffset(from, { startOffset: 0, endOffset: Number.MAX_SAFE_INTEGER }, () => null, 'a group member');
    const group = options.group;
    const port: GroupMemberPort = {
      join: (g, o, l) => this.coordinator.join(g, o, l),
      heartbeat: (g, id, epoch) => this.coordinator.heartbeat(g, id, epoch),
      leave: (g, id) => this.coordinator.leave(g, id),
      open: (topic, starts) =>
        this.subscriptions.open(
          this.admin.topicState(topic),
          {
            partitions: starts.map((s) => s.partition),
            offsets: Object.fromEntries(starts.map((s) => [s.partition, s.offset])),
            maxRecordsPerFetch: options.maxRecordsPerFetch,
            maxBytesPerFetch: options.maxBytesPerFetch,
            corrupt: options.corrupt,
          },
          this.cache,
          this.checkOpenFn,
        ),
      startOffset: async (topic, partition) => {
        const committed = this.offsetStore.get(group, topic, partition);
        const request = committed !== null ? { resume: committed } : from;
        return resolveStartOffset(request, this.offsets(topic, partition), (at) => this.offsetForTimestamp(topic, partition, at), `${topic}-${partition}`);
      },
      commit: (memberId, epoch, topic, partition, offset) => this.commitAsMember(group, memberId, epoch, topic, [{ partition, offset }]),
    };
    const member = new GroupSubscription(port, topics, options);
    this.groupMembers.add(member);
    member.once('end', () => this.groupMembers.delete(member));
    return member;
  }

  // --- consumer offsets --------------------------------------------------------------------------

  /**
   * Durably stores `offset` (the next offset to consume) for the group; resolves once on disk.
   * Refused (GROUP_NOT_EMPTY) while the group has members: they commit through their membership.
   */
  async commit(group: string, topic: string, partition: number, offset: number): Promise<void> {
    this.checkOpen();
    validateGroupName(group);
    this.admin.partitionState(topic, partition);
    checkOffset(offset);
    // While a group has members only they commit (fenced by the coordinator): a tool or an old
    // client committing from outside must not overwrite their progress (as Kafka refuses it).
    const members = this.coordinator.memberCount(group);
    if (members > 0) throw new GroupNotEmptyError(group, members, 'commit from outside the group (only its members commit while it has any)');
    try {
      await this.offsetStore.commit(group, topic, partition, offset);
    } catch (e) {
      throw typedFdError(e, 'committing an offset');
    }
  }

  /** The group's committed offset for the partition, or null. */
  async committed(group: string, topic: string, partition: number): Promise<number | null> {
    this.checkOpen();
    validateGroupName(group);
    this.admin.partitionState(topic, partition);
    return this.offsetStore.get(group, topic, partition);
  }

  async listCommitted(group: string): Promise<CommittedOffset[]> {
    this.checkOpen();
    validateGroupName(group);
    return this.offsetStore.list(group);
  }

  // --- consumer groups ---------------------------------------------------------------------------

  /**
   * Joins a group as a member subscribed to `topics` (the group is created, durably, on its first
   * join). `listener` gets the member's assignment each time it changes: partitions missing from
   * it are revoked (stop, commit, then confirm with heartbeatGroup at that epoch). For protocol
   * front ends (the gateway); embedded code uses subscribe(topics, { group }).
   */
  joinGroup(group: string, options: JoinGroupOptions, listener: (a: MemberAssignment) => void): Promise<JoinGroupResult> {
    this.checkOpen();
    return this.coordinator.join(group, options, listener);
  }

  /** Keeps a member alive and confirms the assignments up to `memberEpoch` (UNKNOWN_MEMBER once removed). */
  heartbeatGroup(group: string, memberId: string, memberEpoch: number): { memberEpoch: number; heartbeatIntervalMs: number } {
    this.checkOpen();
    return this.coordinator.heartbeat(group, memberId, memberEpoch);
  }

  /** The member leaves; its partitions are reassigned at once. */
  leaveGroup(group: string, memberId: string): void {
    this.checkOpen();
    this.coordinator.leave(group, memberId);
  }

  // Kafka's classic group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) on the same
  // coordinator: groups/classic-group.ts. Commits go through commitAsMember with the generation as
  // the member epoch (fenced by generation, as Kafka does).

  /** JoinGroup: resolves when the rebalance completes; GROUP_PROTOCOL_MISMATCH while seglog members are in the group. */
  joinClassicGroup(group: string, options: ClassicJoinOptions): Promise<ClassicJoinResult> {
    this.checkOpen();
    return this.coordinator.joinClassic(group, options);
  }

  /** SyncGroup: the leader passes `assignments`, a follower null; resolves with the member's assignment. */
  syncClassicGroup(group: string, memberId: string, generation: number, assignments: readonly ClassicAssignment[] | null): Promise<Uint8Array> {
    this.checkOpen();
    return this.coordinator.syncClassic(group, memberId, generation, assignments);
  }

  heartbeatClassicGroup(group: string, memberId: string, generation: number): void {
    this.checkOpen();
    this.coordinator.heartbeatClassic(group, memberId, generation);
  }

  leaveClassicGroup(group: string, memberId: string): void {
    this.checkOpen();
    this.coordinator.leaveClassic(group, memberId);
  }

  /** Kafka's DescribeGroups view (state name, assignor, members' opaque metadata and assignment), or null. */
  describeClassicGroup(group: string): { state: string; protocolName: string; members: ClassicMemberDescription[] } | null {
    this.checkOpen();
    return this.coordinator.describeClassic(group);
  }

  /** Commits as a group member: FENCED_MEMBER unless it owns every partition named. */
  async commitAsMember(group: string, memberId: string, memberEpoch: number, topic: string, offsets: ReadonlyArray<{ partition: number; offset: number }>): Promise<void> {
    this.checkOpen();
    validateGroupName(group);
    for (const o of offsets) {
      this.admin.partitionState(topic, o.partition);
      checkOffset(o.offset);
      this.coordinator.checkCommit(group, memberId, memberEpoch, topic, o.partition);
    }
    try {
      await Promise.all(offsets.map((o) => this.offsetStore.commit(group, topic, o.partition, o.offset)));
    } catch (e) {
      throw typedFdError(e, 'committing an offset');
    }
  }

  /** Groups known to the engine: joined ones (consumer-groups.json) and those with committed offsets. */
  listGroups(): GroupListing[] {
    this.checkOpen();
    const listed = this.coordinator.listings();
    const known = new Set(listed.map((g) => g.group));
    for (const name of this.offsetStore.groupNames()) if (!known.has(name)) listed.push(this.coordinator.listing(name));
    return listed.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  }

  private checkGroupKnown(group: string): void {
    validateGroupName(group);
    if (!this.coordinator.isKnown(group) && this.offsetStore.list(group).length === 0) throw new GroupNotFoundError(group);
  }

  /** State, members with their assignments, and per partition committed, end offset and lag. */
  describeGroup(group: string): GroupDescription {
    this.checkOpen();
    this.checkGroupKnown(group);
    const d = this.coordinator.describe(group);
    const topics = d.members.flatMap((m) => m.topics);
    const offsets = groupLag(topics, this.offsetStore.list(group), this.coordinator.owners(group), {
      partitionCount: (topic) => this.admin.topics.get(topic)?.partitions.length ?? null,
      endOffset: (topic, partition) => this.offsets(topic, partition).endOffset,
    });
    return { group, ...d, offsets };
  }

  /**
   * Moves the group's committed offsets of every partition of `topic` to `to` (earliest, latest,
   * an offset — capped to each partition's range — or the first offset at a timestamp). Refused
   * while the group has members (GROUP_NOT_EMPTY). Returns the new offsets.
   */
  async resetGroupOffsets(group: string, topic: string, to: ResetTarget): Promise<Array<{ partition: number; offset: number }>> {
    this.checkOpen();
    this.checkGroupKnown(group);
    const ts = this.admin.topicState(topic);
    const members = this.coordinator.memberCount(group);
    if (members > 0) throw new GroupNotEmptyError(group, members, 'reset its offsets');
    const out = ts.partitions.map((ps) => {
      const range = this.offsets(topic, ps.partition);
      let offset: number;
      if (typeof to === 'object' && to !== null && 'offset' in to) {
        if (!Number.isSafeInteger(to.offset) || to.offset < 0) throw new InvalidArgumentError(`offset must be a non-negative integer, got ${String(to.offset)}`);
        offset = Math.min(Math.max(to.offset, range.startOffset), range.endOffset);
      } else {
        offset = resolveStartOffset(to, range, (at) => this.offsetForTimestamp(topic, ps.partition, at), `${topic}-${ps.partition}`);
      }
      return { partition: ps.partition, offset };
    });
    if (this.coordinator.memberCount(group) > 0) throw new GroupNotEmptyError(group, this.coordinator.memberCount(group), 'reset its offsets');
    try {
      await Promise.all(out.map((o) => this.offsetStore.commit(group, topic, o.partition, o.offset)));
    } catch (e) {
      throw typedFdError(e, 'committing an offset');
    }
    return out;
  }

  /** Deletes a group without members and its committed offsets (GROUP_NOT_EMPTY, GROUP_NOT_FOUND). */
  async deleteGroup(group: string): Promise<void> {
    this.checkOpen();
    this.checkGroupKnown(group);
    const members = this.coordinator.memberCount(group);
    if (members > 0) throw new GroupNotEmptyError(group, members, 'delete it');
    if (this.coordinator.isKnown(group)) await this.coordinator.delete(group);
    await this.offsetStore.deleteGroup(group);
  }

  /** Calls `listener` for every coordinator step (joins, removals, assignments, revocations). Returns the unsubscribe function. */
  onGroupEvent(listener: (event: GroupEvent) => void): () => void {
    this.checkOpen();
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener must be a function');
    return this.coordinator.onEvent(listener);
  }

  // --- retention ---------------------------------------------------------------------------------

  /**
   * Applies retention to every partition now (the background task does this every
   * retentionCheckIntervalMs). Returns what was deleted.
   */
  async runRetention(): Promise<RetentionReport[]> {
    this.checkOpen();
    return this.retention.run();
  }

  // --- lifecycle ---------------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closed) throw new ClosedError('engine');
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Stops the retention task, ends subscriptions, calls watchers a last time, flushes and closes
   * every partition log (clean-shutdown marker), closes the offset journal and releases the
   * directory lock; in memory mode removes the directory. Idempotent.
   */
  close(): Promise<void> {
    if (this.closePromise !== null) return this.closePromise;
    this.closed = true;
    this.closePromise = this.closeNow();
    return this.closePromise;
  }

  private async closeNow(): Promise<void> {
    this.retention.stop();
    for (const m of [...this.groupMembers]) m.end(null);
    this.coordinator.close();
    this.subscriptions.endAll();
    // Waiting writes wake to find the engine closed.
    this.cache.wakeAllWaiters();
    for (const ts of this.admin.topics.values()) for (const ps of ts.partitions) notifyNow(ps);
    const errors: unknown[] = [];
    await this.admin.settled();
    await this.figuresReading;
    await this.retention.settled();
    await this.cache.closeAll(this.admin.topics.values(), errors);
    try {
      await this.offsetStore.close();
    } catch (e) {
      errors.push(e);
    }
    this.lock.release();
    if (this.memory) fs.rmSync(this.dir, { recursive: true, force: true });
    if (errors.length > 0) {
      const first = errors[0];
      throw first instanceof SeglogError ? first : new IoError(`closing the engine failed: ${(first as Error)?.message}`, first);
    }
  }
}
