// Sticky partitioning of records without a key (Kafka's default since 2.4): all of them join the
// open batch of one partition per topic; when that batch closes (linger over or full), the next
// keyless record moves on to the next partition (round robin; the first one is picked at random).
// Fewer, larger batches than per-record round robin, spread evenly over time.

/** What the partitioner needs to know of a batch: whether it has closed. */
export interface StickyBatch {
  readonly closed: boolean;
}

export class StickyPartitioner {
  /** Per topic: the partition keyless records stick to, and the batch they fill there. */
  private readonly topics = new Map<string, { partition: number; batch: StickyBatch | null }>();

  /** The partition keyless records of `topic` go to now: moves on once the batch they filled closed. */
  partition(topic: string, partitionCount: number): number {
    let s = this.topics.get(topic);
    if (s === undefined) {
      s = { partition: Math.floor(Math.random() * partitionCount), batch: null };
      this.topics.set(topic, s);
    } else if (s.batch !== null && s.batch.closed) {
      s.partition = s.partition + 1;
      s.batch = null;
    }
    if (s.partition >= partitionCount) s.partition %= partitionCount;
    return s.partition;
  }

  /** Keyless records of `topic` now fill `batch` (on the partition partition() gave). */
  stick(topic: string, batch: StickyBatch): void {
    const s = this.topics.get(topic);
    if (s !== undefined) s.batch = batch;
  }

  forget(topic: string): void {
    this.topics.delete(topic);
  }
}
