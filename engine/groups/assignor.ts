// The sticky assignor: every partition of the subscribed topics to exactly one member subscribed to
// its topic, counts balanced (differing by at most one when subscriptions are alike), and as few
// partitions moved as possible: a member keeps what it has up to its quota; only the excess and the
// unowned partitions are handed out, each to the eligible member with the fewest. Pure (no I/O),
// deterministic (ties go to the smaller member id).

export interface AssignorMember {
  memberId: string;
  topics: ReadonlySet<string>;
  /** Keys (`topic:partition`) the member owns now. */
  owned: ReadonlySet<string>;
}

export const partitionKey = (topic: string, partition: number): string => `${topic}:${partition}`;

/** Splits a partitionKey (topic names hold no ':'). */
export function splitKey(key: string): { topic: string; partition: number } {
  const i = key.lastIndexOf(':');
  return { topic: key.slice(0, i), partition: Number(key.slice(i + 1)) };
}

/**
 * The target assignment: member id → keys. `partitions` lists every partition key to assign, with
 * its topic (a partition of a topic no member subscribes to must not be listed).
 */
export function assignSticky(members: readonly AssignorMember[], partitions: ReadonlyArray<{ key: string; topic: string }>): Map<string, Set<string>> {
  const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const target = new Map<string, Set<string>>(sorted.map((m) => [m.memberId, new Set<string>()]));
  if (sorted.length === 0) return target;
  const byId = new Map(sorted.map((m) => [m.memberId, m]));
  const ownerOf = new Map<string, string>();
  for (const m of sorted) for (const k of m.owned) ownerOf.set(k, m.memberId);
  const minQuota = Math.floor(partitions.length / sorted.length);
  let extraSlots = partitions.length % sorted.length;
  // Keep phase: what a member owns and still subscribes to, up to its quota (the fullest first get the +1 slots).
  const kept = new Map<string, string[]>(sorted.map((m) => [m.memberId, []]));
  for (const p of partitions) {
    const owner = ownerOf.get(p.key);
    if (owner !== undefined && byId.get(owner)!.topics.has(p.topic)) kept.get(owner)!.push(p.key);
  }
  const placed = new Set<string>();
  const fullestFirst = [...sorted].sort((a, b) => kept.get(b.memberId)!.length - kept.get(a.memberId)!.length);
  for (const m of fullestFirst) {
    const keys = kept.get(m.memberId)!;
    let quota = minQuota;
    if (keys.length > minQuota && extraSlots > 0) {
      quota++;
      extraSlots--;
    }
    for (const k of keys.slice(0, quota)) {
      target.get(m.memberId)!.add(k);
      placed.add(k);
    }
  }
  // Hand-out phase: each to the eligible member with the fewest.
  for (const p of partitions) {
    if (placed.has(p.key)) continue;
    let best: string | null = null;
    for (const m of sorted) {
      if (!m.topics.has(p.topic)) continue;
      if (best === null || target.get(m.memberId)!.size < target.get(best)!.size) best = m.memberId;
    }
    if (best !== null) target.get(best)!.add(p.key);
  }
  return target;
}
