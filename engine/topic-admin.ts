// Topic administration: the topics and their registry (topics.json), and the operations that
// change them (create, delete, add partitions), run one at a time. Partition directories are made
// on first write; at open, what an interrupted delete left is removed.
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, TopicExistsError, TopicNotFoundError } from './format/errors.js';
import { typedFdError } from './fd-budget.js';
import { newPartitionState, partitionOf, type PartitionState, type TopicState } from './partition-state.js';
import type { SubscriptionStart } from './subscription.js';
import { DEFAULT_TOPIC_CONFIG, TopicRegistry, resolveTopicConfig } from './topic-registry.js';
import { parsePartitionDirName, partitionDirName, validateTopicName } from './topic-name.js';
import type { TopicConfig } from './types.js';
import { notifyPartitionsAdded } from './watchers.js';
import { warn } from './warn.js';

export class TopicAdmin {
  readonly topics = new Map<string, TopicState>();
  private readonly dir: string;
  private readonly registry: TopicRegistry;
  private readonly defaults: TopicConfig;
  private readonly autoCreateTopics: boolean;
  private readonly now: () => number;
  private readonly checkOpen: () => void;
  /** Topic admin operations (create, delete, add partitions) run one at a time. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    dir: string,
    registry: TopicRegistry,
    defaults: TopicConfig,
    autoCreateTopics: boolean,
    now: () => number,
    checkOpen: () => void,
    partitionDirs: ReadonlySet<string>,
  ) {
    this.dir = dir;
    this.registry = registry;
    this.defaults = defaults;
    this.autoCreateTopics = autoCreateTopics;
    this.now = now;
    this.checkOpen = checkOpen;
    for (const [name, rec] of registry.entries()) this.addTopicState(name, rec.config, partitionDirs);
  }

  /**
   * Removes what an interrupted delete left (`*-delete` dirs, partition dirs of topics or
   * partitions the registry does not have). Without a registry file, partition dirs found are
   * adopted as topics with the default config, rather than deleted.
   */
  static async tidyDirectory(dir: string, registry: TopicRegistry, hadRegistry: boolean, defaults: TopicConfig): Promise<Set<string>> {
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

  /**
   * `dirs`: the partition directories that exist (a partition without one is known empty), or
   * 'none' for a topic created just now.
   */
  addTopicState(name: string, config: TopicConfig, dirs: ReadonlySet<string> | 'none'): TopicState {
    const ts: TopicState = { name, config, partitions: [], roundRobin: 0, deleted: false, wholeTopicSubscriptions: new Set(), partitionsAddedListeners: new Set() };
    for (let p = 0; p < config.partitions; p++) ts.partitions.push(newPartitionState(this.dir, ts, p, dirs === 'none' || !dirs.has(partitionDirName(name, p))));
    this.topics.set(name, ts);
    return ts;
  }

  /** Runs `op` after the admin operations before it. */
  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.chain.then(async () => {
      this.checkOpen();
      try {
        return await op();
      } catch (e) {
        throw typedFdError(e, 'topic administration');
      }
    });
    this.chain = result.catch(() => undefined);
    return result;
  }

  /**
   * Only the registry entry is written: partition directories are made on first write, so creating
   * even 10,000 partitions is one small file rewrite, and a failed creation leaves nothing behind.
   */
  async createTopicNow(name: string, config: TopicConfig): Promise<TopicState> {
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

  /**
   * Deletes a topic: gone for every caller at once, then from the registry, then `removeData` runs
   * (watchers, subscriptions, files, committed offsets).
   */
  async deleteTopic(name: string, removeData: (ts: TopicState) => Promise<void>): Promise<void> {
    await this.run(async () => {
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
      await removeData(ts);
    });
  }

  /** Grows a topic to `totalPartitions`; whole-topic subscriptions and partitions-added listeners follow. */
  async addPartitions(name: string, totalPartitions: number): Promise<void> {
    await this.run(async () => {
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
        ts.partitions.push(newPartitionState(this.dir, ts, p, true));
        added.push({ partition: p, offset: 0 });
      }
      // Whole-topic subscriptions follow new partitions from their beginning (nothing is missed).
      for (const sub of ts.wholeTopicSubscriptions) sub.addPartitions(added);
      notifyPartitionsAdded(ts, added.map((a) => a.partition));
    });
  }

  /** Waits for the admin operations under way (at close). */
  async settled(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  topicState(name: string): TopicState {
    const ts = this.topics.get(name);
    if (ts === undefined) {
      validateTopicName(name);
      throw new TopicNotFoundError(name);
    }
    return ts;
  }

  partitionState(topic: string, partition: number): PartitionState {
    const ts = this.topicState(topic);
    return partitionOf(ts, partition);
  }

  /** The topic, created with the default config when autoCreateTopics is on. */
  async topicForWrite(name: string): Promise<TopicState> {
    const ts = this.topics.get(name);
    if (ts !== undefined) return ts;
    validateTopicName(name);
    if (!this.autoCreateTopics) throw new TopicNotFoundError(name);
    return this.run(async () => this.topics.get(name) ?? this.createTopicNow(name, this.defaults));
  }
}
