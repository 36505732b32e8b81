// Retention planning (engine/FORMAT.md §2.11), as a pure function of a partition's segments, its config and
// the clock, so the rules are tested without files. Whole segments only, oldest first:
// - age: a segment is due when its newest record is older than retentionMs;
// - size: the oldest segment goes while the partition would still hold at least retentionBytes
//   without it (Kafka's rule: retention never takes the partition below retentionBytes).
// Deletion stops at the first segment that is not due, so what remains is contiguous. When the
// active segment is due too, it is rolled first (a new empty active segment takes over, as Kafka
// does) and then goes with the others, so an idle partition does not keep expired data forever.
// Offsets never restart: the next offset after everything expired is still the log end offset.

export interface RetentionSegment {
  baseOffset: number;
  /** Next offset after this segment's last record. */
  endOffset: number;
  sizeBytes: number;
  maxTimestamp: number | null;
  active: boolean;
}

export interface RetentionConfig {
  /** -1 = keep forever. */
  retentionMs: number;
  /** -1 = no size limit. */
  retentionBytes: number;
}

export interface RetentionPlan {
  /** Segments to delete (oldest first); 0 means nothing to do. */
  segments: number;
  /** New log start offset: everything below goes. null when nothing goes. */
  deleteBeforeOffset: number | null;
  /** The active segment is among them: roll the log before deleting. */
  rollActive: boolean;
  bytes: number;
  reason: 'age' | 'size' | 'age+size' | null;
}

const NOTHING: RetentionPlan = Object.freeze({ segments: 0, deleteBeforeOffset: null, rollActive: false, bytes: 0, reason: null });

export function planRetention(segments: readonly RetentionSegment[], config: RetentionConfig, nowMs: number): RetentionPlan {
  if (config.retentionMs < 0 && config.retentionBytes < 0) return NOTHING;
  let totalBytes = 0;
  for (const s of segments) totalBytes += s.sizeBytes;
  let sizeExcess = config.retentionBytes < 0 ? -1 : totalBytes - config.retentionBytes;
  let count = 0;
  let bytes = 0;
  let byAge = false;
  let bySize = false;
  for (const s of segments) {
    // An empty segment holds nothing to expire (and an empty active segment is never rolled).
    if (s.endOffset <= s.baseOffset || s.sizeBytes === 0) break;
    const ageDue = config.retentionMs >= 0 && s.maxTimestamp !== null && nowMs - s.maxTimestamp > config.retentionMs;
    const sizeDue = sizeExcess >= 0 && sizeExcess - s.sizeBytes >= 0;
    if (!ageDue && !sizeDue) break;
    if (ageDue) byAge = true;
    else bySize = true;
    if (sizeExcess >= 0) sizeExcess -= s.sizeBytes;
    count++;
    bytes += s.sizeBytes;
  }
  if (count === 0) return NOTHING;
  const last = segments[count - 1]!;
  return {
    segments: count,
    deleteBeforeOffset: last.endOffset,
    rollActive: last.active,
    bytes,
    reason: byAge && bySize ? 'age+size' : byAge ? 'age' : 'size',
  };
}
