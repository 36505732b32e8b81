// Watchers of a partition (Engine.watch, subscriptions): called on a microtask after appends —
// several appends in one tick give one call — and at once when the topic goes or the engine closes.
// Also the listeners of a topic's added partitions.
import { InvalidArgumentError } from './format/errors.js';
import { ENGINE_DEFAULTS } from './limits.js';
import type { PartitionState, TopicState } from './partition-state.js';
import { warn } from './warn.js';

export function addWatcher(ps: PartitionState, listener: () => void): () => void {
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

/** After an append: wakes the watchers once the current tick is done. */
export function notify(ps: PartitionState): void {
  if (ps.watchers.size === 0 || ps.notifyScheduled) return;
  ps.notifyScheduled = true;
  queueMicrotask(() => {
    ps.notifyScheduled = false;
    notifyNow(ps);
  });
}

export function notifyNow(ps: PartitionState): void {
  for (const w of ps.watchers) {
    try {
      w();
    } catch (e) {
      warn(`a watcher of ${ps.topic.name}-${ps.partition} threw`, e);
    }
  }
}

/** Engine.onPartitionsAdded: `listener` gets the new partition numbers each time the topic grows. */
export function addPartitionsAddedListener(ts: TopicState, listener: (partitions: number[]) => void): () => void {
  if (ts.partitionsAddedListeners.size >= ENGINE_DEFAULTS.watchersPerPartitionMax) {
    throw new InvalidArgumentError(`topic ${ts.name} already has ${ts.partitionsAddedListeners.size} partitions-added listeners (the limit)`);
  }
  // A wrapper per call, so the same function can listen twice and unlisten once.
  const entry = (partitions: number[]): void => listener(partitions);
  ts.partitionsAddedListeners.add(entry);
  return () => {
    ts.partitionsAddedListeners.delete(entry);
  };
}

/** Tells the partitions-added listeners of `ts` (a throwing one is warned of, the others still called). */
export function notifyPartitionsAdded(ts: TopicState, partitions: readonly number[]): void {
  for (const listener of [...ts.partitionsAddedListeners]) {
    try {
      listener([...partitions]);
    } catch (e) {
      warn(`a partitions-added listener of ${ts.name} threw`, e);
    }
  }
}
