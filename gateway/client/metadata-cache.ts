// The producer's topic metadata: partition counts by topic, for routing keyed records, fetched
// with DESCRIBE_TOPIC and kept for metadataMaxAgeMs.
import type { SeglogClientError } from './client-errors.js';
import type { ClientConnection } from './connection.js';

export class MetadataCache {
  /** Partition counts by topic; 0: the server said the topic does not exist. */
  private readonly topics = new Map<string, { partitions: number; at: number }>();

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
    let partitions: number;
    try {
      partitions = (await this.connection.describeTopic(topic)).partitions.length;
    } catch (e) {
      if ((e as SeglogClientError).code !== 'TOPIC_NOT_FOUND' || mustExist) throw e;
      partitions = 0;
    }
    this.topics.set(topic, { partitions, at: Date.now() });
    return partitions;
  }

  /** True when the cache says the topic did not exist (the server picked partitions for it). */
  knownAbsent(topic: string): boolean {
    return this.topics.get(topic)?.partitions === 0;
  }

  forget(topic: string): void {
    this.topics.delete(topic);
  }
}
