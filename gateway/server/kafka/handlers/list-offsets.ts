// ListOffsets: timestamp -1 is the latest offset (the log end), -2 the earliest (log start), any
// other timestamp the first offset whose record timestamp is at least it (with that record's
// timestamp), or offset -1 when there is none. v0 answers in its old list form (one offset).
import { forEachRecord } from '../../../../engine/index.js';
import type { Struct } from '../codec.js';
import type { KafkaContext, RequestInfo } from '../context.js';
import { requireTopicRight } from '../peer.js';
import { KafkaError, KafkaRefusal, kafkaErrorCode } from '../errors.js';

export const LATEST_TIMESTAMP = -1;
export const EARLIEST_TIMESTAMP = -2;

function offsetAt(ctx: KafkaContext, topic: string, partition: number, timestamp: number): { offset: number; timestamp: number } {
  const { startOffset, endOffset } = ctx.engine.offsets(topic, partition);
  if (timestamp === LATEST_TIMESTAMP) return { offset: endOffset, timestamp: -1 };
  if (timestamp === EARLIEST_TIMESTAMP) return { offset: startOffset, timestamp: -1 };
  const offset = ctx.engine.offsetForTimestamp(topic, partition, timestamp);
  if (offset === null) return { offset: -1, timestamp: -1 };
  let found = -1;
  const [batch] = ctx.engine.readBatches(topic, partition, offset, { maxBytes: 1 }).batches;
  if (batch !== undefined) {
    // The first record delivered is the one at `offset` (the batch may start before it).
    forEachRecord(batch, (r) => {
      found = r.timestamp;
      return false;
    }, offset);
  }
  return { offset, timestamp: found };
}

export function listOffsets(ctx: KafkaContext, req: Struct, info: RequestInfo): Struct {
  const topics = req['topics'] as { name: string; partitions: { partitionIndex: number; timestamp: number }[] }[];
  return {
    throttleTimeMs: 0,
    topics: topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        try {
          requireTopicRight(ctx, info.peer, 'consume', t.name);
          if (p.timestamp < EARLIEST_TIMESTAMP) throw new KafkaRefusal(KafkaError.INVALID_REQUEST, `timestamp ${p.timestamp} is not served`);
          const at = offsetAt(ctx, t.name, p.partitionIndex, p.timestamp);
          return { partitionIndex: p.partitionIndex, errorCode: KafkaError.NONE, oldStyleOffsets: info.version === 0 && at.offset >= 0 ? [at.offset] : [], timestamp: at.timestamp, offset: at.offset, leaderEpoch: 0 };
        } catch (e) {
          return { partitionIndex: p.partitionIndex, errorCode: kafkaErrorCode(e), oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 };
        }
      }),
    })),
  };
}
