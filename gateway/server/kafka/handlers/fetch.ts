// Fetch: stored batches as the engine hands them out (views of the segment, passed to the socket
// without re-encoding), within the response's maxBytes (at most the listener's maxFetchBytes) and
// each partition's partitionMaxBytes. As in Kafka (KIP-74) the first batch of the first partition
// with data goes out even when it is larger than the limits, and a later partition whose next batch
// does not fit gets no records this time. The first batch may start before fetchOffset; clients
// skip the records before it. Long polling: with fewer than minBytes, the request waits (at most
// maxWaitMs, bounded by maxFetchWaitMs) on the engine's watch() of every fetched partition, and is
// answered as soon as an append brings minBytes, or the time is up (no polling loop).
import type { Struct } from '../codec.js';
import type { KafkaContext, RequestInfo } from '../context.js';
import { requireTopicRight, type KafkaPeer } from '../peer.js';
import { KafkaError, kafkaErrorCode } from '../errors.js';

interface FetchPartition {
  partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
}
interface FetchTopic {
  topic: string;
  partitions: FetchPartition[];
}

interface FetchRead {
  responses: Struct[];
  bytes: number;
  /** A partition answered with an error: answer at once (as Kafka). */
  failed: boolean;
}

function readAll(ctx: KafkaContext, topics: FetchTopic[], maxBytes: number, peer: KafkaPeer): FetchRead {
  let bytes = 0;
  let failed = false;
  const responses = topics.map((t) => ({
    topic: t.topic,
    partitions: t.partitions.map((p): Struct => {
      try {
        requireTopicRight(ctx, peer, 'consume', t.topic);
        const { startOffset, endOffset } = ctx.engine.offsets(t.topic, p.partition);
        const out = { partitionIndex: p.partition, errorCode: KafkaError.NONE, highWatermark: endOffset, lastStableOffset: endOffset, logStartOffset: startOffset, abortedTransactions: [], preferredReadReplica: -1, records: [] as Buffer[] };
        const budget = Math.min(p.partitionMaxBytes, maxBytes - bytes);
        if (p.fetchOffset === endOffset || (budget <= 0 && bytes > 0)) return out;
        const read = ctx.engine.readBatches(t.topic, p.partition, p.fetchOffset, { maxBytes: Math.max(1, budget) });
        let taken = 0;
        for (const batch of read.batches) {
          // Past the budget: stop, unless nothing has gone out yet (the first batch always does).
          if (taken + batch.length > budget && bytes + taken > 0) break;
          out.records.push(batch);
          taken += batch.length;
        }
        bytes += taken;
        return out;
      } catch (e) {
        failed = true;
        return { partitionIndex: p.partition, errorCode: kafkaErrorCode(e), highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, abortedTransactions: [], records: [] };
      }
    }),
  }));
  return { responses, bytes, failed };
}

export async function fetch(ctx: KafkaContext, req: Struct, info: RequestInfo): Promise<Struct> {
  const topics = req['topics'] as FetchTopic[];
  const maxBytes = Math.max(1, Math.min(req['maxBytes'] as number, ctx.limits.maxFetchBytes));
  const minBytes = req['minBytes'] as number;
  const maxWaitMs = Math.min(Math.max(0, req['maxWaitMs'] as number), ctx.limits.maxFetchWaitMs);
  const answer = (r: FetchRead): Struct => ({ throttleTimeMs: 0, errorCode: KafkaError.NONE, sessionId: 0, responses: r.responses });
  const first = readAll(ctx, topics, maxBytes, info.peer);
  if (first.bytes >= minBytes || first.failed || maxWaitMs === 0 || info.closed.aborted) return answer(first);
  await new Promise<void>((resolve) => {
    const unwatch: (() => void)[] = [];
    const done = (): void => {
      clearTimeout(timer);
      ctx.waits.delete(done);
      info.closed.removeEventListener('abort', done);
      for (const u of unwatch) u();
      resolve();
    };
    const wake = (): void => {
      const r = readAll(ctx, topics, maxBytes, info.peer);
      if (r.bytes >= minBytes || r.failed) done();
    };
    const timer = setTimeout(done, maxWaitMs);
    ctx.waits.add(done);
    info.closed.addEventListener('abort', done);
    for (const t of topics) {
      for (const p of t.partitions) {
        try {
          unwatch.push(ctx.engine.watch(t.topic, p.partition, wake));
        } catch {
          // The partition is gone (read found it a moment ago): the answer will say so.
          queueMicrotask(wake);
        }
      }
    }
  });
  return answer(readAll(ctx, topics, maxBytes, info.peer));
}
