// The embeddable engine: topics of partitions, each partition a PartitionLog in
// `<dir>/<topic>-<partition>/` (Kafka's layout). The engine routes records to partitions, encodes
// one batch per partition per produce call, keeps at most `maxOpenPartitions` logs open (opened on
// first use, least recently used closed; the file budget of fd-budget.ts bounds both), wakes watchers
// and subscriptions after appends, runs retention, and stores consumer group offsets. A partition's
// files are created on its first write; closed partitions are described from their files
// (partition-figures.ts) without opening their logs.
//
// Data directory:
//   .lock                          one engine per directory (acquireDirLock)
//   topics.json                    topic names and configs (topic-registry.ts)
//   consumer-offsets.journal       committed offsets (offset-store.ts)
//   <topic>-<partition>/           partition logs
//   <topic>-<partition>.<id>-delete/  a deleted partition whose files are being removed
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { acquireDirLock, type DirLock } from './dir-lock.js';
import { BatchTooLargeError, ClosedError, CorruptRecordError, InvalidArgumentError, IoError, OffsetOutOfRangeError, PartitionNotFoundError, SeglogError, TooManyOpenFilesError, TopicExistsError, TopicNotFoundError } from './format/errors.js';
import { storageError } from './storage-error.js';
import { FDS_PER_OPEN_LOG, OPEN_FILES_LIMIT_OPTION_MAX, currentFdBudget, isFdExhaustion, typedFdError, type FdBudget } from './fd-budget.js';
import { OffsetStore, validateGroupName, type CommittedOffset } from './offset-store.js';
import { emptyFigures, readPartitionFigures, type PartitionFigures } from './partition-figures.js';
import { PartitionLog } from './partition-log.js';
import { partitionForKey } from './format/partitioner.js';
import { CODEC_NONE, batchBaseOffset, batchCodec, batchLastOffset, batchRecordCount, decodeRecordsInto, encodeBatch, type RecordInput } from './record-batch.js';
import { planRetention, type RetentionPlan } from './retention.js';
import { resolveStartOffset, type StartRequest } from './start-positions.js';
import { Subscription, type SubscriptionSource, type SubscriptionStart } from './subscription.js';
import { TimeSlice } from './time-slice.js';
import { DEFAULT_TOPIC_CONFIG, MiB, TopicRegistry, resolveTopicConfig } from './topic-registry.js';
import { parsePartitionDirName, partitionDirName, validateTopicName } from './topic-name.js';
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
  produceRecordsMax: 1 << 20,
  /** Recovery reports kept (unclean opens); older ones are dropped first. */
  recoveryReportsMax: 10_000,
  /** Evictions a write waits for, at most, when every log the file budget allows is in use. */
  logCapacityWaitRoundsMax: 64,
} as const;

export interface RetentionReport {
  topic: string;
  partition: number;
  segmentsDeleted: number;
  bytesDeleted: number;
  reason: RetentionPlan['reason'];
  startOffset: number;
}

interface TopicState {
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

interface PartitionState {
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

function figuresOf(log: PartitionLog): PartitionFigures {
  return { startOffset: log.startOffset, endOffset: log.endOffset, sizeBytes: log.sizeBytes, newestTimestamp: log.newestTimestamp, segments: log.segments() };
}

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function checkOffset(offset: unknown): asserts offset is number {
  if (!isNonNegativeInt(offset)) throw new InvalidArgumentError(`offset must be a non-negative integer, got ${String(offset)}`);
}

/** An options argument: undefined or null mean none; anything but an object is refused. */
function checkOptionsObject<T extends object>(options: T | null | undefined): T {
  if (options === undefined || options === null) return {} as T;
  if (typeof options !== 'object') throw new InvalidArgumentError(`options must be an object, got ${typeof options}`);
  return options;
}

function limitOption(name: string, v: unknown, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) {
    throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}, got ${String(v)}`);
  }
  return v;
}

function tmpfsRoot(): string {
  try {
    if (fs.statSync('/dev/shm').isDirectory()) {
      fs.accessSync('/dev/shm', fs.constants.W_OK);
      return '/dev/shm';
    }
  } catch {
    // no tmpfs: fall back to the temp dir
  }
  return os.tmpdir();
}

function routeTo(routes: Map<number, number[]>, partition: number, index: number): void {
  const list = routes.get(partition);
  if (list === undefined) routes.set(partition, [index]);
  else list.push(index);
}

/** PartitionLog.append option for batches the engine encoded itself: no CRC re-check (partition-log.ts). */
const TRUSTED = { trusted: true } as const;

/**
 * How many of `batches` a read from `fromOffset` needs to reach `wanted` records (at least one):
 * batches beyond that are neither copied nor decoded.
 */
function batchesNeeded(batches: readonly Buffer[], fromOffset: number, wanted: number): number {
  let records = 0;
  for (let b = 0; b < batches.length; b++) {
    const batch = batches[b]!;
    const last = batchLastOffset(batch);
    if (last >= fromOffset) records += last + 1 - Math.max(fromOffset, last + 1 - batchRecordCount(batch));
    if (records >= wanted) return b + 1;
  }
  return batches.length;
}

/** One buffer holding copies of the uncompressed batches among the first `count` of `batches`, in order. */
function copyOutPlainBatches(batches: readonly Buffer[], count: number): Buffer {
  let total = 0;
  for (let b = 0; b < count; b++) if (batchCodec(batches[b]!) === CODEC_NONE) total += batches[b]!.length;
  const copy = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let b = 0; b < count; b++) {
    const batch = batches[b]!;
    if (batchCodec(batch) !== CODEC_NONE) continue;
    copy.set(batch, pos);
    pos += batch.length;
  }
  return copy;
}

function warn(message: string, error?: unknown): void {
  process.emitWarning(`seglog: ${message}${error !== undefined ? `: ${(error as Error)?.message ?? String(error)}` : ''}`);
}

export class Engine {
  /** The data directory (a temp dir under /dev/shm in memory mode). */
  readonly dir: string;
  readonly memory: boolean;
  private readonly defaults: TopicConfig;
  private readonly autoCreateTopics: boolean;
  private readonly flushIntervalMs: number;
  private readonly indexIntervalBytes: number;
  private readonly maxOpenPartitions: number;
  private readonly fdBudget: FdBudget;
  /** Logs holding descriptors: open ones and evicted ones not yet closed (at most fdBudget.maxLogsHoldingFds). */
  private readonly liveLogs = new Set<PartitionLog>();
  /** Writes waiting for room in the file budget, first come first served (woken as logs close). */
  private readonly capacityWaiters: Array<() => void> = [];
  private readonly fileDeleteDelayMs: number | undefined;
  private readonly now: () => number;
  private readonly lock: DirLock;
  private readonly registry: TopicRegistry;
  private readonly offsetStore: OffsetStore;
  private readonly topics = new Map<string, TopicState>();
  /** Open logs, least recently used first (Map keeps insertion order; a use re-inserts). */
  private readonly openLogs = new Map<PartitionState, true>();
  private readonly closingLogs = new Set<Promise<void>>();
  private readonly subscriptions = new Set<Subscription>();
  /** Partitions whose log was opened after an unclean shutdown, oldest first (bounded). */
  private readonly recoveries: PartitionRecovery[] = [];
  private readonly recoveryListeners = new Set<(r: PartitionRecovery) => void>();
  private openingAll: Promise<number> | null = null;
  /** Reads closed partitions' figures in the background after open (readAllFigures). */
  private figuresReading: Promise<void> = Promise.resolve();
  /** Topic admin operations (create, delete, add partitions) run one at a time. */
  private adminChain: Promise<unknown> = Promise.resolve();
  private retentionTimer: NodeJS.Timeout | null = null;
  private retentionRunning: Promise<RetentionReport[]> | null = null;
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
    partitionDirs: ReadonlySet<string>,
  ) {
    this.dir = dir;
    this.memory = memory;
    this.defaults = defaults;
    this.autoCreateTopics = options.autoCreateTopics === true;
    this.flushIntervalMs = options.flushIntervalMs ?? ENGINE_DEFAULTS.flushIntervalMs;
    this.indexIntervalBytes = options.indexIntervalBytes ?? ENGINE_DEFAULTS.indexIntervalBytes;
    this.fdBudget = fdBudget;
    this.maxOpenPartitions = options.maxOpenPartitions ?? fdBudget.defaultMaxOpenPartitions;
    this.fileDeleteDelayMs = options.fileDeleteDelayMs;
    this.now = options.now ?? Date.now;
    this.lock = lock;
    this.registry = registry;
    this.offsetStore = offsetStore;
    for (const [name, rec] of registry.entries()) this.addTopicState(name, rec.config, partitionDirs);
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
    if (options.flushIntervalMs !== 0) limitOption('flushIntervalMs', options.flushIntervalMs, 1, 24 * 3600 * 1000);
    if (options.fileDeleteDelayMs !== 0) limitOption('fileDeleteDelayMs', options.fileDeleteDelayMs, 1, 2 ** 31 - 1);
    limitOption('retentionCheckIntervalMs', options.retentionCheckIntervalMs, 1, 24 * 3600 * 1000);
    limitOption('indexIntervalBytes', options.indexIntervalBytes, 1, 1 << 30);
    limitOption('maxOpenPartitions', options.maxOpenPartitions, 1, 1_000_000);
    limitOption('openFilesLimit', options.openFilesLimit, 1, OPEN_FILES_LIMIT_OPTION_MAX);
    const { dir: _dir, memory: _memory, autoCreateTopics: _a, flushIntervalMs: _f, retentionCheckIntervalMs: _r, now: _n,
      indexIntervalBytes: _i, maxOpenPartitions: _m, fileDeleteDelayMs: _d, openFilesLimit: _o, ...topicDefaults } = options;
    const defaults = resolveTopicConfig(
      { ...topicDefaults, ...(memory && options.segmentBytes === undefined ? { segmentBytes: ENGINE_DEFAULTS.memorySegmentBytes } : {}) },
      DEFAULT_TOPIC_CONFIG,
    );

    // Counted before the engine opens anything of its own (its descriptors are in the plan).
    const fdBudget = Engine.checkFdBudget(currentFdBudget(options.openFilesLimit), options.maxOpenPartitions);
    let dir: string;
    try {
      dir = memory ? fs.mkdtempSync(path.join(tmpfsRoot(), 'seglog-mem-')) : path.resolve(options.dir!);
    } catch (e) {
      throw typedFdError(e, 'creating the memory-mode directory');
    }
    let lock: DirLock | null = null;
    try {
      fs.mkdirSync(dir, { recursive: true });
      lock = acquireDirLock(dir);
      const hadRegistry = TopicRegistry.exists(dir);
      const registry = TopicRegistry.load(dir);
      const partitionDirs = await Engine.tidyDirectory(dir, registry, hadRegistry, defaults);
      const offsetStore = await OffsetStore.open(dir);
      const engine = new Engine(dir, memory, options, defaults, fdBudget, lock, registry, offsetStore, partitionDirs);
      engine.figuresReading = engine.readAllFigures();
      const interval = options.retentionCheckIntervalMs ?? ENGINE_DEFAULTS.retentionCheckIntervalMs;
      engine.retentionTimer = setInterval(() => engine.retentionTick(), interval);
      engine.retentionTimer.unref();
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

  /**
   * Removes what an interrupted delete left (`*-delete` dirs, partition dirs of topics or
   * partitions the registry does not have). Without a registry file, partition dirs found are
   * adopted as topics with the default config, rather than deleted.
   */
  private static async tidyDirectory(dir: string, registry: TopicRegistry, hadRegistry: boolean, defaults: TopicConfig): Promise<Set<string>> {
    const orphans: string[] = [];
    const adopt = new Map<string, number>();
    // The partition directories that stay: a partition without one is known empty, unread.
    const kept = new Set<string>();
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (entry.name.endsWith('-delete')) {
        orphans.push(entry.name);
        continue;
      }
      const parsed = parsePartitionDirName(entry.name);
      if (parsed === null) continue;
      const rec = registry.get(parsed.topic);
      if (rec !== undefined && parsed.partition < rec.config.partitions) {
        kept.add(entry.name);
        continue;
      }
      if (!hadRegistry) {
        adopt.set(parsed.topic, Math.max(adopt.get(parsed.topic) ?? 0, parsed.partition + 1));
        kept.add(entry.name);
      } else orphans.push(entry.name);
    }
    for (const name of orphans) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    if (adopt.size > 0) {
      warn(`${dir} has partition directories but no topics.json; adopting topics ${[...adopt.keys()].join(', ')} with default configs`);
      await registry.update((m) => {
        for (const [name, partitions] of adopt) m.set(name, { config: { ...defaults, partitions }, createdAtMs: Date.now() });
      });
    }
    return kept;
  }

  // --- topics ------------------------------------------------------------------------------------

  /**
   * `dirs`: the partition directories that exist (a partition without one is known empty), or
   * 'none' for a topic created just now.
   */
  private addTopicState(name: string, config: TopicConfig, dirs: ReadonlySet<string> | 'none'): TopicState {
    const ts: TopicState = { name, config, partitions: [], roundRobin: 0, deleted: false, wholeTopicSubscriptions: new Set(), partitionsAddedListeners: new Set() };
    for (let p = 0; p < config.partitions; p++) ts.partitions.push(this.newPartitionState(ts, p, dirs === 'none' || !dirs.has(partitionDirName(name, p))));
    this.topics.set(name, ts);
    return ts;
  }

  /** `empty`: the partition has no directory yet, so its figures are known without reading. */
  private newPartitionState(ts: TopicState, partition: number, empty: boolean): PartitionState {
    return {
      topic: ts,
      partition,
      dir: path.join(this.dir, partitionDirName(ts.name, partition)),
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

  private admin<T>(op: () => Promise<T>): Promise<T> {
    const result = this.adminChain.then(async () => {
      this.checkOpen();
      try {
        return await op();
      } catch (e) {
        throw typedFdError(e, 'topic administration');
      }
    });
    this.adminChain = result.catch(() => undefined);
    return result;
  }

  /** Creates a topic (TOPIC_EXISTS if it exists). Config fields not given come from the engine's defaults. */
  async createTopic(name: string, config?: Partial<TopicConfig>): Promise<TopicDescription> {
    this.checkOpen();
    validateTopicName(name);
    const resolved = resolveTopicConfig(config, this.defaults);
    await this.admin(() => this.createTopicNow(name, resolved));
    return this.describeTopic(name);
  }

  /**
   * Only the registry entry is written: partition directories are made on first write, so creating
   * even 10,000 partitions is one small file rewrite, and a failed creation leaves nothing behind.
   */
  private async createTopicNow(name: string, config: TopicConfig): Promise<TopicState> {
    if (this.topics.has(name)) throw new TopicExistsError(name);
    this.removeStalePartitionDirs(name, 0);
    await this.registry.update((m) => m.set(name, { config, createdAtMs: this.now() }));
    return this.addTopicState(name, config, 'none');
  }

  /** Partition dirs of `topic` with partition ≥ from that no registered topic owns (left by a crash). */
  private removeStalePartitionDirs(topic: string, fromPartition: number): void {
    const prefix = `${topic}-`;
    for (const entry of fs.readdirSync(this.dir)) {
      if (!entry.startsWith(prefix)) continue;
      const parsed = parsePartitionDirName(entry);
      if (parsed === null || parsed.topic !== topic || parsed.partition < fromPartition) continue;
      fs.rmSync(path.join(this.dir, entry), { recursive: true, force: true });
    }
  }

  /** Topic names, sorted. */
  listTopics(): string[] {
    this.checkOpen();
    return [...this.topics.keys()].sort();
  }

  /** Per partition figures; opens no partition log (closed ones are described from their files). */
  describeTopic(name: string): TopicDescription {
    this.checkOpen();
    const ts = this.topicState(name);
    const partitions: PartitionDescription[] = ts.partitions.map((ps) => {
      const f = this.figures(ps);
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
    await this.admin(async () => {
      const ts = this.topics.get(name);
      if (ts === undefined) throw new TopicNotFoundError(name);
      // Gone for every caller from now on; then persisted; then the files go.
      this.topics.delete(name);
      ts.deleted = true;
      try {
        await this.registry.update((m) => m.delete(name));
      } catch (e) {
        ts.deleted = false;
        this.topics.set(name, ts);
        throw e;
      }
      const gone = new TopicNotFoundError(name);
      for (const ps of ts.partitions) this.notifyNow(ps);
      for (const sub of [...this.subscriptions]) if (sub.topic === name) sub.end(gone);
      for (const ps of ts.partitions) await this.removePartitionData(ps);
      await this.offsetStore.deleteTopic(name);
    });
  }

  private async removePartitionData(ps: PartitionState): Promise<void> {
    if (ps.closing !== null) await ps.closing.catch(() => undefined);
    const log = ps.log;
    if (log !== null) {
      ps.log = null;
      this.openLogs.delete(ps);
      try {
        await log.destroy();
      } finally {
        this.liveLogs.delete(log);
      }
    } else if (fs.existsSync(ps.dir)) {
      // Renamed first, so a crash mid-removal leaves a `-delete` dir that the next open removes.
      const doomed = `${ps.dir}.${Date.now().toString(36)}-delete`;
      fs.renameSync(ps.dir, doomed);
      await fs.promises.rm(doomed, { recursive: true, force: true });
    }
  }

  /** Grows a topic to `totalPartitions` (it can only grow, as in Kafka). */
  async addPartitions(name: string, totalPartitions: number): Promise<TopicDescription> {
    this.checkOpen();
    validateTopicName(name);
    await this.admin(async () => {
      const ts = this.topicState(name);
      const current = ts.partitions.length;
      if (!Number.isSafeInteger(totalPartitions) || totalPartitions <= current) {
        throw new InvalidArgumentError(`topic ${name} has ${current} partitions; addPartitions needs a larger total, got ${String(totalPartitions)}`);
      }
      const config = resolveTopicConfig({ ...ts.config, partitions: totalPartitions }, DEFAULT_TOPIC_CONFIG);
      this.removeStalePartitionDirs(name, current);
      await this.registry.update((m) => m.set(name, { config, createdAtMs: m.get(name)?.createdAtMs ?? this.now() }));
      ts.config = config;
      const added: SubscriptionStart[] = [];
      for (let p = current; p < totalPartitions; p++) {
        ts.partitions.push(this.newPartitionState(ts, p, true));
        added.push({ partition: p, offset: 0 });
      }
      // Whole-topic subscriptions follow new partitions from their beginning (nothing is missed).
      for (const sub of ts.wholeTopicSubscriptions) sub.addPartitions(added);
      const numbers = added.map((a) => a.partition);
      for (const listener of [...ts.partitionsAddedListeners]) {
        try {
          listener([...numbers]);
        } catch (e) {
          warn(`a partitions-added listener of ${name} threw`, e);
        }
      }
    });
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
    const ts = this.topicState(topic);
    if (ts.partitionsAddedListeners.size >= ENGINE_DEFAULTS.watchersPerPartitionMax) {
      throw new InvalidArgumentError(`topic ${topic} already has ${ts.partitionsAddedListeners.size} partitions-added listeners (the limit)`);
    }
    // A wrapper per call, so the same function can listen twice and unlisten once.
    const entry = (partitions: number[]): void => listener(partitions);
    ts.partitionsAddedListeners.add(entry);
    return () => {
      ts.partitionsAddedListeners.delete(entry);
    };
  }

  private topicState(name: string): TopicState {
    const ts = this.topics.get(name);
    if (ts === undefined) {
      validateTopicName(name);
      throw new TopicNotFoundError(name);
    }
    return ts;
  }

  private partitionState(topic: string, partition: number): PartitionState {
    const ts = this.topicState(topic);
    return this.partitionOf(ts, partition);
  }

  private partitionOf(ts: TopicState, partition: unknown): PartitionState {
    if (typeof partition !== 'number' || !Number.isInteger(partition)) {
      throw new InvalidArgumentError(`partition must be an integer, got ${String(partition)}`);
    }
    const ps = ts.partitions[partition];
    if (ps === undefined) throw new PartitionNotFoundError(ts.name, partition, ts.partitions.length);
    return ps;
  }

  /** The topic, created with the default config when autoCreateTopics is on. */
  private async topicForWrite(name: string): Promise<TopicState> {
    const ts = this.topics.get(name);
    if (ts !== undefined) return ts;
    validateTopicName(name);
    if (!this.autoCreateTopics) throw new TopicNotFoundError(name);
    return this.admin(async () => this.topics.get(name) ?? this.createTopicNow(name, this.defaults));
  }

  // --- partition logs: lazy open, LRU close ------------------------------------------------------

  private openLog(ps: PartitionState): PartitionLog {
    if (!this.hasLogCapacity()) throw this.budgetExhausted(ps);
    const cfg = ps.topic.config;
    // A partition's files are made on its first open; if that fails, none are left behind.
    const existed = fs.existsSync(ps.dir);
    let log: PartitionLog;
    try {
      log = this.openLogFiles(ps, cfg);
    } catch (e) {
      if (!existed) {
        try {
          fs.rmSync(ps.dir, { recursive: true, force: true });
        } catch (rmError) {
          warn(`removing ${ps.dir} after its log failed to open failed`, rmError);
        }
      }
      throw typedFdError(e, `opening partition log ${ps.dir}`);
    }
    this.liveLogs.add(log);
    ps.log = log;
    ps.figures = null;
    this.openLogs.set(ps, true);
    this.evictColdLogs(ps);
    if (!log.recovery.clean) this.noteRecovery(ps, log);
    return log;
  }

  private openLogFiles(ps: PartitionState, cfg: TopicConfig): PartitionLog {
    return PartitionLog.open({
      dir: ps.dir,
      segmentBytes: cfg.segmentBytes,
      segmentMs: cfg.segmentMs,
      maxBatchBytes: cfg.maxBatchBytes,
      indexIntervalBytes: this.indexIntervalBytes,
      flushIntervalMs: this.flushIntervalMs,
      fileDeleteDelayMs: this.fileDeleteDelayMs,
      ...(this.memory ? { reserveAheadBytes: ENGINE_DEFAULTS.memoryReserveAheadBytes } : {}),
      now: this.now,
      name: `${ps.topic.name}-${ps.partition}`,
    });
  }

  /**
   * Whether one more log may hold descriptors. At the budget, an idle least recently used log is
   * closed synchronously to make room (so a synchronous loop over many partitions never piles up
   * logs waiting for their asynchronous close).
   */
  private hasLogCapacity(forWrite = false): boolean {
    const max = forWrite ? this.fdBudget.maxLogsForWrites : this.fdBudget.maxLogsHoldingFds;
    if (this.liveLogs.size < max) return true;
    for (const ps of this.openLogs.keys()) if (this.closeIdleNow(ps) && this.liveLogs.size < max) return true;
    return false;
  }

  private budgetExhausted(ps: PartitionState): TooManyOpenFilesError {
    const b = this.fdBudget;
    return new TooManyOpenFilesError(
      `cannot open partition log ${ps.topic.name}-${ps.partition}: ${this.liveLogs.size} logs hold file descriptors, the most the open-file limit ` +
        `${b.openFilesLimit} allows (about ${FDS_PER_OPEN_LOG} each, ${b.socketReserveFds} left to sockets) while the others finish writing; ` +
        'retry, use fewer partitions at once, or raise the limit (ulimit -n)',
    );
  }

  /** Closes an open log now if it has nothing left to write (PartitionLog.closeIfIdleSync). */
  private closeIdleNow(ps: PartitionState): boolean {
    const log = ps.log;
    if (log === null || ps.closing !== null || ps.pins > 0) return false;
    let closed: boolean;
    try {
      closed = log.closeIfIdleSync();
    } catch (e) {
      // Closed all the same (descriptors and lock released); only its clean-shutdown marker is missing.
      warn(`closing partition log ${ps.dir} failed`, e);
      closed = true;
    }
    if (!closed) return false;
    ps.figures = figuresOf(log);
    ps.log = null;
    ps.evictions++;
    this.openLogs.delete(ps);
    this.liveLogs.delete(log);
    this.logReleased();
    return true;
  }

  /**
   * Waits until a write may open a log. Each waiter gets a log evicted for it (least recently used
   * first) and is woken, in arrival order, as logs finish closing; bounded by rounds in case
   * synchronous opens keep taking the freed room first.
   */
  private async waitForLogCapacity(): Promise<void> {
    for (let round = 0; round < ENGINE_DEFAULTS.logCapacityWaitRoundsMax && !this.hasLogCapacity(true); round++) {
      if (!this.evictForWaiters(this.capacityWaiters.length + 1)) return;
      await new Promise<void>((resolve) => this.capacityWaiters.push(resolve));
      this.checkOpen();
    }
  }

  /** Starts evictions until `wanted` logs are on their way to closing; false when none is or can be. */
  private evictForWaiters(wanted: number): boolean {
    for (const ps of this.openLogs.keys()) {
      if (this.closingLogs.size >= wanted) break;
      if (ps.pins === 0) this.startEviction(ps);
    }
    return this.closingLogs.size > 0;
  }

  /** A log let go of its descriptors (or an eviction ended): the next waiting write may find room. */
  private logReleased(): void {
    this.capacityWaiters.shift()?.();
  }

  /** After a waiting write opened its log: wake the next one if room is left, else keep evictions going for it. */
  private passOnCapacity(): void {
    if (this.capacityWaiters.length === 0) return;
    if (this.liveLogs.size < this.fdBudget.maxLogsForWrites) this.logReleased();
    else if (!this.evictForWaiters(this.capacityWaiters.length)) this.logReleased();
  }

  /** How the engine budgets file descriptors, and how many logs hold some now. */
  fileBudget(): FileBudget {
    const b = this.fdBudget;
    return {
      openFilesLimit: b.openFilesLimit,
      socketReserveFds: b.socketReserveFds,
      inUseAtOpenFds: b.inUseAtOpenFds,
      fdsPerOpenLog: FDS_PER_OPEN_LOG,
      maxLogsHoldingFds: b.maxLogsHoldingFds,
      maxLogsForWrites: b.maxLogsForWrites,
      maxOpenPartitions: this.maxOpenPartitions,
      logsHoldingFds: this.liveLogs.size,
    };
  }

  private noteRecovery(ps: PartitionState, log: PartitionLog): void {
    const r = log.recovery;
    const report: PartitionRecovery = {
      topic: ps.topic.name,
      partition: ps.partition,
      clean: r.clean,
      scannedBytes: r.scannedBytes,
      truncated: r.truncated === null ? null : { ...r.truncated },
    };
    if (this.recoveries.length >= ENGINE_DEFAULTS.recoveryReportsMax) this.recoveries.shift();
    this.recoveries.push(report);
    for (const listener of this.recoveryListeners) {
      try {
        listener(report);
      } catch (e) {
        warn('a recovery listener threw', e);
      }
    }
  }

  /**
   * The partitions this process found shut down uncleanly, as their logs were opened (recovery runs
   * at a log's first open: see openAllPartitions), oldest first; at most
   * ENGINE_DEFAULTS.recoveryReportsMax. `truncated` is set when data had to be cut.
   */
  recoveryReports(): PartitionRecovery[] {
    return this.recoveries.map((r) => ({ ...r, truncated: r.truncated === null ? null : { ...r.truncated } }));
  }

  /** Calls `listener` for every later unclean open (as recoveryReports() would list it). Returns the unsubscribe function. */
  onRecovery(listener: (report: PartitionRecovery) => void): () => void {
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener must be a function');
    this.recoveryListeners.add(listener);
    return () => {
      this.recoveryListeners.delete(listener);
    };
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
    this.openingAll ??= this.openAllNow().finally(() => {
      this.openingAll = null;
    });
    return this.openingAll;
  }

  private async openAllNow(): Promise<number> {
    let opened = 0;
    const targets: PartitionState[] = [];
    for (const ts of this.topics.values()) targets.push(...ts.partitions);
    for (const ps of targets) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.closed) break;
      if (ps.topic.deleted || ps.log !== null || ps.closing !== null) continue;
      try {
        if (!this.hasLogCapacity(true)) await this.waitForLogCapacity();
        if (this.closed || ps.topic.deleted || ps.log !== null || ps.closing !== null) continue;
        this.openLog(ps);
        opened++;
      } catch (e) {
        warn(`opening partition log ${ps.dir} failed`, e);
      }
    }
    return opened;
  }

  /** The partition's log, opened if needed (sync). While an evicted log closes, that log. */
  private logSync(ps: PartitionState): PartitionLog {
    const log = ps.log;
    if (log !== null) {
      if (ps.closing === null) {
        // Move to the most recently used end. If its eviction was pending, this cancels it: evict
        // another one instead, so the bound holds.
        const wasOpen = this.openLogs.delete(ps);
        this.openLogs.set(ps, true);
        if (!wasOpen) this.evictColdLogs(ps);
      }
      return log;
    }
    return this.openLog(ps);
  }

  /**
   * Runs a sync read on the partition's log. An evicted log is closed only when nothing else can
   * run until its lock is released (see evictLog), so a read never meets a closing log; should it
   * anyway (a close that had I/O left), it reopens the log if its lock is free.
   */
  private withLog<T>(ps: PartitionState, fn: (log: PartitionLog) => T): T {
    const log = this.logSync(ps);
    try {
      return fn(log);
    } catch (e) {
      if (ps.closing === null || !(e instanceof ClosedError)) throw typedFdError(e, `partition ${ps.topic.name}-${ps.partition}`);
      return fn(this.openLog(ps));
    }
  }

  /** Start, end, size and segments of a partition: live when its log is open, else without opening it. */
  private figures(ps: PartitionState): PartitionFigures {
    // An open log (also one being evicted, without cancelling that: figures are no use of its data).
    if (ps.log !== null && ps.closing === null) return figuresOf(ps.log);
    if (ps.figures !== null) return ps.figures;
    return this.figuresFromFiles(ps) ?? this.withLog(ps, figuresOf);
  }

  /**
   * A closed partition's figures read from its files (kept: exact while it stays closed), or null
   * when they need its log (whose open then reports any problem with the files).
   */
  private figuresFromFiles(ps: PartitionState): PartitionFigures | null {
    try {
      ps.figures = readPartitionFigures(ps.dir);
    } catch (e) {
      if (isFdExhaustion(e)) throw typedFdError(e, `reading the figures of ${ps.dir}`);
      return null;
    }
    return ps.figures;
  }

  /**
   * Reads the figures of every closed partition in the background after open, in time slices, so
   * that the first describeTopic or retention run after a restart finds them ready instead of
   * reading thousands of partitions' files in one synchronous call. Opens no log.
   */
  private async readAllFigures(): Promise<void> {
    const slice = new TimeSlice();
    for (const ts of [...this.topics.values()]) {
      for (const ps of ts.partitions) {
        await slice.maybeYield();
        if (this.closed) return;
        if (ts.deleted) break;
        if (ps.log !== null || ps.closing !== null || ps.figures !== null) continue;
        try {
          this.figuresFromFiles(ps);
        } catch {
          // Reported to whoever asks for this partition's figures.
        }
      }
    }
  }

  /** Start and end offset: live when the log is open, else from its figures. */
  private rangeOf(ps: PartitionState): OffsetRange {
    // Called per delivery step by the gateway: an open log answers without building its figures.
    if (ps.log !== null && ps.closing === null) return { startOffset: ps.log.startOffset, endOffset: ps.log.endOffset };
    const f = this.figures(ps);
    return { startOffset: f.startOffset, endOffset: f.endOffset };
  }

  /**
   * True when the partition's log is closed and `offset` is its end offset: nothing to read, and no
   * reason to open the log (or to create the files of a never-written partition). Out of range throws.
   */
  private closedAtEnd(ps: PartitionState, offset: number): boolean {
    if (ps.log !== null) return false;
    const { startOffset, endOffset } = this.figures(ps);
    if (offset < startOffset || offset > endOffset) throw new OffsetOutOfRangeError(offset, startOffset, endOffset, `${ps.topic.name}-${ps.partition}`);
    return offset === endOffset;
  }

  /**
   * Runs `write` on the partition's log: at once when it is open (or can be), else after waiting for
   * an evicted log to finish closing, or, when the writes' share of the file budget is used up, for
   * one to close. Writes that wait queue behind each other, so appends keep their call order; the
   * log is pinned from the end of the wait until `write` has run, so nothing closes it in between.
   */
  private withWriteLog<T>(ps: PartitionState, write: (log: PartitionLog) => T): T | Promise<T> {
    if (ps.writeGate === null && ps.closing === null && (ps.log !== null || this.hasLogCapacity(true))) return write(this.logSync(ps));
    const gate = (ps.writeGate ?? Promise.resolve()).then(() => this.logForWriteLater(ps));
    const settled = gate.then(
      () => undefined,
      () => undefined,
    );
    ps.writeGate = settled;
    void settled.then(() => {
      if (ps.writeGate === settled) ps.writeGate = null;
    });
    return gate.then((log) => {
      try {
        return write(log);
      } finally {
        ps.pins--;
      }
    });
  }

  private async logForWriteLater(ps: PartitionState): Promise<PartitionLog> {
    for (let round = 0; round < ENGINE_DEFAULTS.logCapacityWaitRoundsMax; round++) {
      if (ps.closing !== null) await ps.closing;
      else if (ps.log === null) await this.waitForLogCapacity();
      this.checkOpen();
      if (ps.topic.deleted) throw new TopicNotFoundError(ps.topic.name);
      if (ps.closing === null && (ps.log !== null || this.hasLogCapacity(true))) break;
    }
    // Still no room for a write: logSync → openLog opens in the reads' share, or throws TOO_MANY_OPEN_FILES.
    const log = this.logSync(ps);
    ps.pins++;
    this.passOnCapacity();
    return log;
  }

  /** Evicts least recently used logs beyond maxOpenPartitions (never `keep`); idle ones close at once. */
  private evictColdLogs(keep: PartitionState): void {
    let candidates = this.openLogs.size - this.maxOpenPartitions;
    if (candidates <= 0) return;
    // Deleting the entry being visited is safe in a Map iteration.
    for (const ps of this.openLogs.keys()) {
      if (candidates <= 0) break;
      if (ps === keep || ps.pins > 0) continue;
      candidates--;
      if (!this.closeIdleNow(ps)) this.startEviction(ps);
    }
  }

  private startEviction(ps: PartitionState): void {
    this.openLogs.delete(ps);
    const evict = this.evictLog(ps, ps.log!);
    this.closingLogs.add(evict);
    void evict.finally(() => {
      this.closingLogs.delete(evict);
      this.logReleased();
    });
  }

  /**
   * Closes an evicted log, in two steps:
   * 1. Flush it (twice: the second waits out a flush cycle and its checkpoint write already running)
   *    while it stays fully usable. If it is used meanwhile (logSync puts it back into openLogs), it
   *    stays open.
   * 2. Close it from a setImmediate callback. The microtask queue is empty when such a callback starts,
   *    and a flushed, unused log closes without I/O, so the whole close — from the log turning closed
   *    to its lock being released — runs within that callback's microtask drain, and no other code
   *    (a sync read that would find the log closed and try to reopen it while its lock is held: the
   *    DIRECTORY_LOCKED race) runs in between. Appends arriving later wait for `closing`.
   */
  private async evictLog(ps: PartitionState, log: PartitionLog): Promise<void> {
    const eviction = ++ps.evictions;
    const stillEvicted = (): boolean =>
      ps.evictions === eviction && !this.openLogs.has(ps) && ps.log === log && ps.closing === null && !this.closed && !ps.topic.deleted;
    let flushedEnd: number;
    try {
      await log.flush();
      await log.flush();
      flushedEnd = log.endOffset;
    } catch (e) {
      if (!stillEvicted()) return;
      // Not closed: a close would retry the failed I/O with the log already closed. Tried again later.
      warn(`flushing partition log ${ps.dir} before closing it failed`, e);
      this.openLogs.set(ps, true);
      return;
    }
    await new Promise<void>((resolve) => {
      setImmediate(() => {
        // An append since the flush would leave I/O for close(): such a log was used, so it stays.
        if (!stillEvicted() || log.endOffset !== flushedEnd) {
          resolve();
          return;
        }
        ps.figures = figuresOf(log);
        ps.closing = log.close().then(
          () => undefined,
          (e) => warn(`closing partition log ${ps.dir} failed`, e),
        ).then(() => {
          this.liveLogs.delete(log);
          if (ps.log === log) ps.log = null;
          ps.closing = null;
          resolve();
        });
      });
    });
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
    const acks = this.checkAcks(options?.acks);
    const ts = this.topics.get(topic) ?? (await this.topicForWrite(topic));
    const count = records.length;
    if (count === 0) return [];
    // Route. Common case, one partition (given, or no record has a key: all to one round robin
    // partition): no per-record routing work. Otherwise partition → indexes of its records.
    let plan: Array<{ ps: PartitionState; indexes: number[] | null; batches: Buffer[] }>;
    const nowMs = this.now();
    // Encode everything before appending anything: bad records fail the call with nothing written.
    if (options.partition !== undefined) {
      const ps = this.partitionOf(ts, options.partition);
      plan = [{ ps, indexes: null, batches: this.encodeBounded(records, ts.config, nowMs) }];
    } else {
      const n = ts.partitions.length;
      let routes: Map<number, number[]> | null = null;
      let sticky = -1;
      for (let i = 0; i < count; i++) {
        const key = records[i]?.key;
        if (key === undefined || key === null) {
          if (routes !== null) {
            if (sticky < 0) sticky = this.nextRoundRobin(ts);
            routeTo(routes, sticky, i);
          }
          continue;
        }
        if (typeof key !== 'string' && !(key instanceof Uint8Array)) {
          throw new InvalidArgumentError(`record ${i} key must be a string, a Uint8Array or null`);
        }
        if (routes === null) {
          // The first keyed record: route the keyless ones before it, then continue per record.
          routes = new Map();
          if (i > 0) {
            sticky = this.nextRoundRobin(ts);
            for (let j = 0; j < i; j++) routeTo(routes, sticky, j);
          }
        }
        routeTo(routes, partitionForKey(key, n), i);
      }
      if (routes === null) {
        const ps = ts.partitions[this.nextRoundRobin(ts)]!;
        plan = [{ ps, indexes: null, batches: this.encodeBounded(records, ts.config, nowMs) }];
      } else {
        plan = [];
        for (const [p, indexes] of routes) {
          const subset = indexes.length === count ? records : indexes.map((i) => records[i]!);
          plan.push({ ps: ts.partitions[p]!, indexes: indexes.length === count ? null : indexes, batches: this.encodeBounded(subset, ts.config, nowMs) });
        }
      }
    }
    // Appends wait while a target log is closing (evicted); bounded: a log just waited for was used.
    for (let round = 0; round < 8 && plan.some((x) => x.ps.closing !== null); round++) {
      await Promise.all(plan.map((x) => x.ps.closing));
      this.checkOpen();
      if (ts.deleted) throw new TopicNotFoundError(ts.name);
    }
    const results: ProduceResult[] = new Array(count);
    let flushes: Promise<void>[] | null = null;
    for (let x = 0; x < plan.length; x++) {
      const { ps, indexes, batches } = plan[x]!;
      const partition = ps.partition;
      // Waits only when this log is closing or the file budget is used up (a call over many partitions).
      const appended = this.withWriteLog(ps, (log) => {
        let k = 0;
        for (let b = 0; b < batches.length; b++) {
          const batch = batches[b]!;
          // Encoded here, so valid by construction: the log may skip re-validating it (CRC).
          const { baseOffset } = this.appendTo(ps, log, batch, TRUSTED);
          const inBatch = batchRecordCount(batch);
          if (indexes === null) for (let j = 0; j < inBatch; j++) results[k + j] = { partition, offset: baseOffset + j };
          else for (let j = 0; j < inBatch; j++) results[indexes[k + j]!] = { partition, offset: baseOffset + j };
          k += inBatch;
        }
        this.notify(ps);
        if (acks === 'flushed') (flushes ??= []).push(log.flush());
      });
      if (appended !== undefined) await appended;
    }
    if (flushes !== null) await Promise.all(flushes);
    return results;
  }

  private checkAcks(acks: unknown): Acks {
    if (acks === undefined) return 'written';
    if (acks !== 'written' && acks !== 'flushed') throw new InvalidArgumentError(`acks must be "written" or "flushed", got ${JSON.stringify(acks)}`);
    return acks;
  }

  private nextRoundRobin(ts: TopicState): number {
    const p = ts.roundRobin % ts.partitions.length;
    ts.roundRobin = (ts.roundRobin + 1) % 0x7fffffff;
    return p;
  }

  /** Encodes records as one batch, or several when one would exceed maxBatchBytes. */
  private encodeBounded(records: readonly RecordInput[], config: TopicConfig, nowMs: number): Buffer[] {
    const batch = encodeBatch(records, { compression: config.compression, now: nowMs });
    if (batch.length <= config.maxBatchBytes) return [batch];
    if (records.length === 1) throw new BatchTooLargeError(batch.length, config.maxBatchBytes);
    // Split into pieces that should fit, each checked again (depth is logarithmic).
    const pieces = Math.min(records.length, Math.ceil((batch.length / config.maxBatchBytes) * 1.25));
    const per = Math.ceil(records.length / pieces);
    const out: Buffer[] = [];
    for (let i = 0; i < records.length; i += per) out.push(...this.encodeBounded(records.slice(i, i + per), config, nowMs));
    return out;
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
    const acks = this.checkAcks(options?.acks);
    let ts = this.topics.get(topic);
    if (ts === undefined) ts = await this.topicForWrite(topic);
    if (batch.length > ts.config.maxBatchBytes) throw new BatchTooLargeError(batch.length, ts.config.maxBatchBytes);
    // PartitionLog.append validates the batch (lengths, magic, CRC, codec) before writing anything.
    const ps = options.partition !== undefined ? this.partitionOf(ts, options.partition) : ts.partitions[this.nextRoundRobin(ts)]!;
    const write = (log: PartitionLog): { result: BatchAppendResult; flushed: Promise<void> | null } => {
      const { baseOffset, lastOffset } = this.appendTo(ps, log, batch);
      this.notify(ps);
      return { result: { partition: ps.partition, baseOffset, lastOffset }, flushed: acks === 'flushed' ? log.flush() : null };
    };
    const maybe = this.withWriteLog(ps, write);
    const { result, flushed } = maybe instanceof Promise ? await maybe : maybe;
    if (flushed !== null) await flushed;
    return result;
  }

  /** log.append, with descriptor exhaustion (a roll creates three files) as TOO_MANY_OPEN_FILES. */
  private appendTo(ps: PartitionState, log: PartitionLog, batch: Uint8Array, options?: typeof TRUSTED): { baseOffset: number; lastOffset: number } {
    try {
      return log.append(batch, options);
    } catch (e) {
      throw typedFdError(e, `appending to ${ps.topic.name}-${ps.partition}`);
    }
  }

  /** Flushes every open partition log (as acks 'flushed' would). */
  async flush(): Promise<void> {
    this.checkOpen();
    await Promise.all([...this.openLogs.keys()].map((ps) => ps.log?.flush()));
  }

  // --- read --------------------------------------------------------------------------------------

  private checkRange(ps: PartitionState, log: PartitionLog, offset: number): void {
    const start = log.startOffset;
    const end = log.endOffset;
    if (offset < start || offset > end) throw new OffsetOutOfRangeError(offset, start, end, `${ps.topic.name}-${ps.partition}`);
  }

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
    const ps = this.partitionState(topic, partition);
    checkOffset(offset);
    const maxRecords = limitOption('maxRecords', options?.maxRecords, ENGINE_DEFAULTS.readMaxRecords, ENGINE_DEFAULTS.readMaxRecordsLimit);
    const maxBytes = limitOption('maxBytes', options?.maxBytes, ENGINE_DEFAULTS.readMaxBytes, ENGINE_DEFAULTS.readMaxBytesLimit);
    return this.readRecords(ps, offset, maxRecords, maxBytes).records;
  }

  private readRecords(ps: PartitionState, offset: number, maxRecords: number, maxBytes: number): { records: ConsumedRecord[]; nextOffset: number } {
    if (this.closedAtEnd(ps, offset)) return { records: [], nextOffset: offset };
    return this.withLog(ps, (log) => this.readRecordsFrom(ps, log, offset, maxRecords, maxBytes));
  }

  private readRecordsFrom(ps: PartitionState, log: PartitionLog, offset: number, maxRecords: number, maxBytes: number): { records: ConsumedRecord[]; nextOffset: number } {
    this.checkRange(ps, log, offset);
    const topic = ps.topic.name;
    const partition = ps.partition;
    const records: ConsumedRecord[] = [];
    const end = log.endOffset;
    let next = offset;
    let bytes = 0;
    let damaged = false;
    // A read may stop at a segment boundary: continue into the next segment, a bounded number of times.
    for (let round = 0; round < 1024 && !damaged && bytes < maxBytes && records.length < maxRecords && next < end; round++) {
      // The log checks every batch it returns (CRC): ask for about what maxRecords needs, estimated
      // from the bytes per record seen so far (the first round asks for one batch).
      const wanted = maxRecords - records.length;
      const estimate = records.length === 0 ? 1 : Math.ceil((bytes / records.length) * wanted * 1.1);
      let batches: Buffer[];
      try {
        batches = log.read(next, Math.min(maxBytes - bytes, estimate));
      } catch (e) {
        // The intact records come first; the next read, from the damaged offset, reports the damage.
        if (e instanceof CorruptRecordError && records.length > 0) break;
        throw e instanceof CorruptRecordError ? e.inPartition(topic, partition) : e;
      }
      if (batches.length === 0) break;
      // Records handed out must not be views into the map: retention truncates deleted segment
      // files after fileDeleteDelayMs, and touching a view then would fault (SIGBUS). One copy per
      // read of the uncompressed batches (not per record); an LZ4 batch decompresses into a fresh
      // buffer anyway. The records are views into that copy.
      const count = batchesNeeded(batches, next, maxRecords - records.length);
      const copy = copyOutPlainBatches(batches, count);
      let copyPos = 0;
      for (let b = 0; b < count; b++) {
        const batch = batches[b]!;
        const before = records.length;
        try {
          if (batchCodec(batch) === CODEC_NONE) decodeRecordsInto(copy, topic, partition, next, records, maxRecords, copyPos);
          else decodeRecordsInto(batch, topic, partition, next, records, maxRecords);
        } catch (e) {
          if (!(e instanceof CorruptRecordError)) throw e;
          // Its CRC held but its records do not parse (a producer wrote it so): the batch is the
          // damaged range. Its records decoded so far are not handed out.
          records.length = before;
          if (records.length > 0) {
            damaged = true;
            break;
          }
          throw new CorruptRecordError(`${topic}-${partition}: ${e.message}`, undefined, undefined, {
            offset: batchBaseOffset(batch),
            nextOffset: batchLastOffset(batch) + 1,
            topic,
            partition,
          });
        }
        if (batchCodec(batch) === CODEC_NONE) copyPos += batch.length;
        bytes += batch.length;
        if (records.length >= maxRecords) {
          next = records[records.length - 1]!.offset + 1;
          break;
        }
        const after = batchLastOffset(batch) + 1;
        if (after > next) next = after;
      }
    }
    return { records, nextOffset: next };
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
    const ps = this.partitionState(topic, partition);
    checkOffset(offset);
    const maxBytes = limitOption('maxBytes', options?.maxBytes, ENGINE_DEFAULTS.readMaxBytes, ENGINE_DEFAULTS.readMaxBytesLimit);
    if (this.closedAtEnd(ps, offset)) return { batches: [], nextOffset: offset, ...this.rangeOf(ps) };
    return this.withLog(ps, (log) => {
      this.checkRange(ps, log, offset);
      let batches: Buffer[] = [];
      try {
        if (offset < log.endOffset) batches = log.read(offset, maxBytes);
      } catch (e) {
        throw e instanceof CorruptRecordError ? e.inPartition(ps.topic.name, ps.partition) : e;
      }
      const last = batches[batches.length - 1];
      const nextOffset = last === undefined ? offset : Math.max(offset, batchLastOffset(last) + 1);
      return { batches, nextOffset, startOffset: log.startOffset, endOffset: log.endOffset };
    });
  }

  /** The partition's log start offset and end offset (the next offset to be assigned). */
  offsets(topic: string, partition: number): OffsetRange {
    this.checkOpen();
    return this.rangeOf(this.partitionState(topic, partition));
  }

  /** The first offset whose record timestamp is ≥ `timestamp`, or null when there is none. */
  offsetForTimestamp(topic: string, partition: number, timestamp: number): number | null {
    this.checkOpen();
    const ps = this.partitionState(topic, partition);
    if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp)) {
      throw new InvalidArgumentError(`timestamp must be an integer (ms since the epoch), got ${String(timestamp)}`);
    }
    if (this.closedBefore(ps, timestamp)) return null;
    return this.withLog(ps, (log) => log.offsetForTimestamp(timestamp));
  }

  /** True when the partition's log is closed and holds no record with a timestamp ≥ `timestamp`. */
  private closedBefore(ps: PartitionState, timestamp: number): boolean {
    if (ps.log !== null) return false;
    const newest = this.figures(ps).newestTimestamp;
    return newest === null || newest < timestamp;
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
    return this.addWatcher(this.partitionState(topic, partition), listener);
  }

  private addWatcher(ps: PartitionState, listener: () => void): () => void {
    if (ps.watchers.size >= ENGINE_DEFAULTS.watchersPerPartitionMax) {
      throw new InvalidArgumentError(`partition ${ps.topic.name}-${ps.partition} already has ${ps.watchers.size} watchers (the limit)`);
    }
    // A wrapper per call, so the same function can watch twice and unwatch once.
    const entry = (): void => listener();
    ps.watchers.add(entry);
    return () => {
      ps.watchers.delete(entry);
    };
  }

  private notify(ps: PartitionState): void {
    if (ps.watchers.size === 0 || ps.notifyScheduled) return;
    ps.notifyScheduled = true;
    queueMicrotask(() => {
      ps.notifyScheduled = false;
      this.notifyNow(ps);
    });
  }

  private notifyNow(ps: PartitionState): void {
    for (const w of ps.watchers) {
      try {
        w();
      } catch (e) {
        warn(`a watcher of ${ps.topic.name}-${ps.partition} threw`, e);
      }
    }
  }

  /**
   * An async iterator over records of one partition, a list, or all partitions (default; it then
   * follows partitions added later, from their start) of a topic, from 'latest' (default), 'earliest',
   * { offset } or { timestamp }; `offsets` overrides the start per partition (resume). Records are
   * read only as the consumer pulls; see Subscription.
   */
  subscribe(topic: string, options: SubscribeOptions = {}): Subscription {
    this.checkOpen();
    const ts = this.topicState(topic);
    const opts = options ?? {};
    let partitions: number[];
    if (opts.partitions === undefined) partitions = ts.partitions.map((ps) => ps.partition);
    else if (typeof opts.partitions === 'number') partitions = [opts.partitions];
    else if (Array.isArray(opts.partitions) && opts.partitions.length > 0) partitions = [...new Set(opts.partitions)];
    else throw new InvalidArgumentError('partitions must be a partition number or a non-empty array of them');
    for (const p of partitions) this.partitionOf(ts, p);
    const from = opts.from ?? 'latest';
    if (opts.offsets !== undefined && (opts.offsets === null || typeof opts.offsets !== 'object')) {
      throw new InvalidArgumentError('offsets must be an object { [partition]: offset }');
    }
    for (const key of Object.keys(opts.offsets ?? {})) {
      if (!partitions.includes(Number(key))) throw new InvalidArgumentError(`offsets names partition ${key}, which is not subscribed`);
    }
    // Starts from the partitions' offsets, without opening closed logs (only a timestamp inside a
    // partition's data needs its log).
    const starts: SubscriptionStart[] = partitions.map((p) => {
      const ps = ts.partitions[p]!;
      const explicit = opts.offsets?.[p];
      const request: StartRequest = explicit !== undefined ? { resume: explicit } : from;
      const offset = resolveStartOffset(request, this.rangeOf(ps), (at) => (this.closedBefore(ps, at) ? null : this.withLog(ps, (log) => log.offsetForTimestamp(at))), `${ps.topic.name}-${ps.partition}`);
      return { partition: p, offset };
    });
    const limits = {
      maxRecordsPerFetch: limitOption('maxRecordsPerFetch', opts.maxRecordsPerFetch, ENGINE_DEFAULTS.subscribeMaxRecordsPerFetch, ENGINE_DEFAULTS.readMaxRecordsLimit),
      maxBytesPerFetch: limitOption('maxBytesPerFetch', opts.maxBytesPerFetch, ENGINE_DEFAULTS.subscribeMaxBytesPerFetch, ENGINE_DEFAULTS.readMaxBytesLimit),
      corrupt: opts.corrupt ?? 'stop',
    };
    if (limits.corrupt !== 'stop' && limits.corrupt !== 'skip') {
      throw new InvalidArgumentError(`corrupt must be 'stop' or 'skip', got ${JSON.stringify(opts.corrupt)}`);
    }
    const source: SubscriptionSource = {
      range: (p) => {
        this.checkOpen();
        if (ts.deleted) throw new TopicNotFoundError(ts.name);
        return this.rangeOf(ts.partitions[p]!);
      },
      fetch: (p, offset, maxRecords, maxBytes) => this.readRecords(ts.partitions[p]!, offset, maxRecords, maxBytes),
      watch: (p, wake) => this.addWatcher(ts.partitions[p]!, wake),
    };
    const sub = new Subscription(source, ts.name, starts, limits);
    this.subscriptions.add(sub);
    if (opts.partitions === undefined) ts.wholeTopicSubscriptions.add(sub);
    sub.once('end', () => {
      this.subscriptions.delete(sub);
      ts.wholeTopicSubscriptions.delete(sub);
    });
    return sub;
  }

  // --- consumer offsets --------------------------------------------------------------------------

  /** Durably stores `offset` (the next offset to consume) for the group; resolves once on disk. */
  async commit(group: string, topic: string, partition: number, offset: number): Promise<void> {
    this.checkOpen();
    validateGroupName(group);
    this.partitionState(topic, partition);
    checkOffset(offset);
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
    this.partitionState(topic, partition);
    return this.offsetStore.get(group, topic, partition);
  }

  async listCommitted(group: string): Promise<CommittedOffset[]> {
    this.checkOpen();
    validateGroupName(group);
    return this.offsetStore.list(group);
  }

  // --- retention ---------------------------------------------------------------------------------

  private retentionTick(): void {
    if (this.closed || this.retentionRunning !== null) return;
    this.runRetention().catch((e) => warn('retention failed', e));
  }

  /**
   * Applies retention to every partition now (the background task does this every
   * retentionCheckIntervalMs). Returns what was deleted.
   */
  async runRetention(): Promise<RetentionReport[]> {
    this.checkOpen();
    if (this.retentionRunning !== null) return this.retentionRunning;
    const run = (async () => {
      const report: RetentionReport[] = [];
      const slice = new TimeSlice();
      for (const ts of [...this.topics.values()]) {
        const { retentionMs, retentionBytes } = ts.config;
        if (retentionMs < 0 && retentionBytes < 0) continue;
        for (const ps of ts.partitions) {
          await slice.maybeYield();
          if (this.closed || ts.deleted) break;
          // A closed log's figures are exact: plan on them and reopen only when there is work.
          if ((ps.log === null || ps.closing !== null) && planRetention(this.figures(ps).segments, ts.config, this.now()).deleteBeforeOffset === null) continue;
          const applied = this.withWriteLog(ps, (log): RetentionReport | null => {
            if (this.closed || ts.deleted) return null;
            const plan = planRetention(log.segments(), ts.config, this.now());
            if (plan.deleteBeforeOffset === null) return null;
            if (plan.rollActive) log.roll();
            const deleted = log.deleteSegmentsBefore(plan.deleteBeforeOffset);
            return {
              topic: ts.name,
              partition: ps.partition,
              segmentsDeleted: deleted,
              bytesDeleted: plan.bytes,
              reason: plan.reason,
              startOffset: log.startOffset,
            };
          });
          const done = applied instanceof Promise ? await applied : applied;
          if (done !== null) report.push(done);
        }
      }
      return report;
    })();
    this.retentionRunning = run;
    try {
      return await run;
    } finally {
      this.retentionRunning = null;
    }
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
    if (this.retentionTimer !== null) clearInterval(this.retentionTimer);
    for (const sub of [...this.subscriptions]) sub.end(null);
    // Waiting writes wake to find the engine closed.
    for (const wake of this.capacityWaiters.splice(0)) wake();
    for (const ts of this.topics.values()) for (const ps of ts.partitions) this.notifyNow(ps);
    const errors: unknown[] = [];
    await this.adminChain.catch(() => undefined);
    await this.figuresReading;
    if (this.retentionRunning !== null) await this.retentionRunning.catch(() => undefined);
    await Promise.all([...this.closingLogs]);
    // Every log still open (evictions that saw the engine closing left theirs open).
    const logs: PartitionState[] = [];
    for (const ts of this.topics.values()) for (const ps of ts.partitions) if (ps.log !== null) logs.push(ps);
    this.openLogs.clear();
    await Promise.all(
      logs.map(async (ps) => {
        const log = ps.log;
        ps.log = null;
        try {
          await log?.close();
        } catch (e) {
          errors.push(e);
        } finally {
          if (log !== null) this.liveLogs.delete(log);
        }
      }),
    );
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
