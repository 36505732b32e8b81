// The producer's topic metadata: partition counts by topic, for routing keyed records, and each
// topic's compression (what batches are encoded with when the producer names none), fetched with
// DESCRIBE_TOPIC and kept for metadataMaxAgeMs.
import type { SeglogClientError } from './client-errors.js';
import type { ClientConnection } from './connection.js';
import type { Compression } from './record-codec.js';

export class MetadataCache {
  /** Partition counts by topic; 0: the server said the topic does not exist. */
  private readonly topics = new Map<string, { partitions: number; at: number; compression: Compression | null }>();

  constructor(
    private readonly connection: ClientConnection,
    private readonly maxAgeMs: number,
  ) {}

  /** Fresh partition count: > 0; 0 when the server said the topic does not exist; -1 when not known. */
  cached(topic: string): number {
    const entry = this.topics.get(topic);
    return entry !== undefined && Date.now() - entry.at < this.maxAgeMs ? entry.partitions : -1;
  }

  /**
   * The topic's partition count, from the server when not cached. A topic that does not exist
   * gives 0 (keyless records then let the server pick, which creates it on an auto-create server),
   * or TOPIC_NOT_FOUND when `mustExist` (keyed records need the count).
   */
  async partitions(topic: string, mustExist: boolean): Promise<number> {
    const cached = this.cached(topic);
    if (cached > 0 || (cached === 0 && !mustExist)) return cached;
    return (await this.refresh(topic, mustExist)).partitions;
  }

  private async refresh(topic: string, mustExist: boolean): Promise<{ partitions: number; compression: Compression | null }> {
    let entry: { partitions: number; at: number; compression: Compression | null };
    try {
      const d = await this.connection.describeTopic(topic);
      entry = { partitions: d.partitions.length, at: Date.now(), compression: d.config.compression === 'lz4' ? 'lz4' : 'none' };
    } catch (e) {
      if ((e as SeglogClientError).code !== 'TOPIC_NOT_FOUND' || mustExist) throw e;
      entry = { partitions: 0, at: Date.now(), compression: null };
    }
    this.topics.set(topic, entry);
    return entry;
  }

  /**
   * The topic's compression setting (as Kafka's compression.type), fetched once per metadataMaxAgeMs.
   * 'none' for a topic that does not exist yet (an auto-created one gets the server's default) or
   * that this principal may not describe: the server decides what it stores then.
   */
  compression(topic: string): Compression | Promise<Compression> {
    const entry = this.topics.get(topic);
    // Cached: answered at once, so a producer's send loop awaits nothing per batch.
    if (entry !== undefined && entry.compression !== null && Date.now() - entry.at < this.maxAgeMs) return entry.compression;
    return this.refresh(topic, false).then(
      (e) => e.compression ?? 'none',
      () => 'none' as const,
    );
  }

  /** True when the cache says the topic did not exist (the server picked partitions for it). */
  knownAbsent(topic: string): boolean {
    return this.topics.get(topic)?.partitions === 0;
  }

  forget(topic: string): void {
    this.topics.delete(topic);
  }
}
