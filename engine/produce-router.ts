// Produce: routes records to partitions (the given one, the key's murmur2 partition, or one round
// robin partition per call for records without key), encodes one batch per partition (split only
// when it would exceed maxBatchBytes), then appends the batches in order and reports one
// { partition, offset } per record, in input order.
import { BatchTooLargeError, InvalidArgumentError, TopicNotFoundError } from './format/errors.js';
import { partitionForKey } from './format/partitioner.js';
import { ENGINE_LOOP_BOUNDS, ROUND_ROBIN_WRAP } from './limits.js';
import { TRUSTED, type LogCache } from './log-cache.js';
import { partitionOf, type PartitionState, type TopicState } from './partition-state.js';
import { batchRecordCount, encodeBatch, type RecordInput } from './record-batch.js';
import type { Acks, ProduceResult, TopicConfig } from './types.js';
import { notify } from './watchers.js';

/** The records of one call bound for one partition: their input indexes (null: all, in order) and batches. */
export interface PartitionPlan {
  ps: PartitionState;
  indexes: number[] | null;
  batches: Buffer[];
}

function routeTo(routes: Map<number, number[]>, partition: number, index: number): void {
  const list = routes.get(partition);
  if (list === undefined) routes.set(partition, [index]);
  else list.push(index);
}

/**
 * Routes and encodes `records` (count > 0), everything before anything is appended: bad records fail
 * the call with nothing written.
 */
export function planProduce(ts: TopicState, records: readonly RecordInput[], partition: number | undefined, nowMs: number): PartitionPlan[] {
  const count = records.length;
  // Route. Common case, one partition (given, or no record has a key: all to one round robin
  // partition): no per-record routing work. Otherwise partition → indexes of its records.
  let plan: PartitionPlan[];
  // Encode everything before appending anything: bad records fail the call with nothing written.
  if (partition !== undefined) {
    const ps = partitionOf(ts, partition);
    plan = [{ ps, indexes: null, batches: encodeBounded(records, ts.config, nowMs) }];
  } else {
    const n = ts.partitions.length;
    let routes: Map<number, number[]> | null = null;
    let sticky = -1;
    for (let i = 0; i < count; i++) {
      const key = records[i]?.key;
      if (key === undefined || key === null) {
        if (routes !== null) {
          if (sticky < 0) sticky = nextRoundRobin(ts);
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
          sticky = nextRoundRobin(ts);
          for (let j = 0; j < i; j++) routeTo(routes, sticky, j);
        }
      }
      routeTo(routes, partitionForKey(key, n), i);
    }
    if (routes === null) {
      const ps = ts.partitions[nextRoundRobin(ts)]!;
      plan = [{ ps, indexes: null, batches: encodeBounded(records, ts.config, nowMs) }];
    } else {
      plan = [];
      for (const [p, indexes] of routes) {
        const subset = indexes.length === count ? records : indexes.map((i) => records[i]!);
        plan.push({ ps: ts.partitions[p]!, indexes: indexes.length === count ? null : indexes, batches: encodeBounded(subset, ts.config, nowMs) });
      }
    }
  }
  return plan;
}

/** Appends the planned batches (waiting only for closing logs or the file budget) and reports each record's offset. */
export async function appendPlanned(cache: LogCache, ts: TopicState, plan: PartitionPlan[], count: number, acks: Acks, checkOpen: () => void): Promise<ProduceResult[]> {
  // Appends wait while a target log is closing (evicted); bounded: a log just waited for was used.
  for (let round = 0; round < ENGINE_LOOP_BOUNDS.produceClosingWaitRoundsMax && plan.some((x) => x.ps.closing !== null); round++) {
    await Promise.all(plan.map((x) => x.ps.closing));
    checkOpen();
    if (ts.deleted) throw new TopicNotFoundError(ts.name);
  }
  const results: ProduceResult[] = new Array(count);
  let flushes: Promise<void>[] | null = null;
  for (let x = 0; x < plan.length; x++) {
    const { ps, indexes, batches } = plan[x]!;
    const partition = ps.partition;
    // Waits only when this log is closing or the file budget is used up (a call over many partitions).
    const appended = cache.withWriteLog(ps, (log) => {
      let k = 0;
      for (let b = 0; b < batches.length; b++) {
        const batch = batches[b]!;
        // Encoded here, so valid by construction: the log may skip re-validating it (CRC).
        const { baseOffset } = cache.appendTo(ps, log, batch, TRUSTED);
        const inBatch = batchRecordCount(batch);
        if (indexes === null) for (let j = 0; j < inBatch; j++) results[k + j] = { partition, offset: baseOffset + j };
        else for (let j = 0; j < inBatch; j++) results[indexes[k + j]!] = { partition, offset: baseOffset + j };
        k += inBatch;
      }
      notify(ps);
      if (acks === 'flushed') (flushes ??= []).push(log.flush());
    });
    if (appended !== undefined) await appended;
  }
  if (flushes !== null) await Promise.all(flushes);
  return results;
}

export function nextRoundRobin(ts: TopicState): number {
  const p = ts.roundRobin % ts.partitions.length;
  ts.roundRobin = (ts.roundRobin + 1) % ROUND_ROBIN_WRAP;
  return p;
}

/** Encodes records as one batch, or several when one would exceed maxBatchBytes. */
export function encodeBounded(records: readonly RecordInput[], config: TopicConfig, nowMs: number): Buffer[] {
  const batch = encodeBatch(records, { compression: config.compression, now: nowMs });
  if (batch.length <= config.maxBatchBytes) return [batch];
  if (records.length === 1) throw new BatchTooLargeError(batch.length, config.maxBatchBytes);
  // Split into pieces that should fit, each checked again (depth is logarithmic).
  const pieces = Math.min(records.length, Math.ceil((batch.length / config.maxBatchBytes) * 1.25));
  const per = Math.ceil(records.length / pieces);
  const out: Buffer[] = [];
  for (let i = 0; i < records.length; i += per) out.push(...encodeBounded(records.slice(i, i + per), config, nowMs));
  return out;
}
