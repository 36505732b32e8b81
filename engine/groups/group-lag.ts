// A group's progress per partition, for describeGroup and the lag metric: the committed offset, the
// end offset and their difference, for every partition of the topics its members subscribe to and
// of the topics it has committed offsets for.
import { partitionKey } from './assignor.js';
import type { GroupPartitionLag } from './group-types.js';

export interface LagSource {
  /** A topic's partition count, or null when it does not exist (any more). */
  partitionCount(topic: string): number | null;
  endOffset(topic: string, partition: number): number;
}

export function groupLag(
  topics: Iterable<string>,
  committed: ReadonlyArray<{ topic: string; partition: number; offset: number }>,
  owners: ReadonlyMap<string, string>,
  source: LagSource,
): GroupPartitionLag[] {
  const commits = new Map(committed.map((c) => [partitionKey(c.topic, c.partition), c.offset]));
  const all = [...new Set([...topics, ...committed.map((c) => c.topic)])].sort();
  const out: GroupPartitionLag[] = [];
  for (const topic of all) {
    const n = source.partitionCount(topic);
    if (n === null) continue;
    for (let partition = 0; partition < n; partition++) {
      const k = partitionKey(topic, partition);
      const c = commits.get(k) ?? null;
      const endOffset = source.endOffset(topic, partition);
      out.push({ topic, partition, committed: c, endOffset, lag: c === null ? null : Math.max(0, endOffset - c), memberId: owners.get(k) ?? null });
    }
  }
  return out;
}
