// Produce: each partition's records are split into their record batches, every batch is checked
// (framing, magic 2, a codec the engine serves, then the engine's full validation: lengths, CRC,
// attributes) before any is stored, and the batches are stored as sent through appendBatch (the
// engine sets baseOffset and partitionLeaderEpoch, both outside the CRC). acks 1 → 'written',
// -1 → 'flushed', 0 → 'written' and no response at all (as Kafka). gzip batches are converted to
// the topic's codec first (gzipBatchAs; the Kafka README says why).
import { CODEC_GZIP, gzipBatchAs, validateProducerBatch, type Acks } from '../../../../engine/index.js';
import { KAFKA_GZIP_RECORDS_MAX_BYTES } from '../../limits.js';
import type { Struct } from '../codec.js';
import type { KafkaContext, RequestInfo } from '../context.js';
import { KafkaError, KafkaRefusal, kafkaErrorCode } from '../errors.js';
import { requireTopicRight } from '../peer.js';

/** Offsets in a record batch v2 header (engine/FORMAT.md). */
const BATCH_LENGTH_AT = 8;
const MAGIC_AT = 16;
const ATTRIBUTES_AT = 21;
const BATCH_HEADER_BYTES = 61;
const LOG_OVERHEAD_BYTES = 12;
/** Codecs the engine stores and serves: none (0) and LZ4 (3). */
const SERVED_CODECS = new Set([0, 3]);

interface PartitionData {
  index: number;
  records: Buffer | null;
}

/**
 * The record batches of one partition's records, each checked before anything is stored; gzip
 * batches come back converted to `gzipTo()` (the topic's codec).
 */
export function splitBatches(records: Buffer | null, gzipTo: () => 'none' | 'lz4' = () => 'none'): Buffer[] {
  if (records === null || records.length === 0) throw new KafkaRefusal(KafkaError.INVALID_RECORD, 'no records');
  const batches: Buffer[] = [];
  let pos = 0;
  while (pos < records.length) {
    const left = records.length - pos;
    if (left <= MAGIC_AT) throw new KafkaRefusal(KafkaError.CORRUPT_MESSAGE, `records end inside a batch header at byte ${pos}`);
    const magic = records.readInt8(pos + MAGIC_AT);
    if (magic !== 2) throw new KafkaRefusal(KafkaError.UNSUPPORTED_FOR_MESSAGE_FORMAT, `message format v${magic} is not served: only record batch v2 (Produce v3+ clients)`);
    const size = LOG_OVERHEAD_BYTES + records.readInt32BE(pos + BATCH_LENGTH_AT);
    if (size < BATCH_HEADER_BYTES || size > left) throw new KafkaRefusal(KafkaError.CORRUPT_MESSAGE, `batch at byte ${pos} claims ${size} bytes, ${left} left`);
    const codec = records.readInt16BE(pos + ATTRIBUTES_AT) & 0x07;
    const batch = records.subarray(pos, pos + size);
    if (codec === CODEC_GZIP) {
      batches.push(gzipBatchAs(batch, gzipTo(), KAFKA_GZIP_RECORDS_MAX_BYTES));
      pos += size;
      continue;
    }
    if (!SERVED_CODECS.has(codec)) throw new KafkaRefusal(KafkaError.UNSUPPORTED_COMPRESSION_TYPE, `compression codec ${codec} is not served (none, gzip and LZ4 are)`);
    validateProducerBatch(batch);
    batches.push(batch);
    pos += size;
  }
  return batches;
}

/** The codec gzip batches become: the topic's (LZ4 or none); none for a topic this produce creates. */
function topicCodec(ctx: KafkaContext, topic: string): 'none' | 'lz4' {
  try {
    return ctx.engine.describeTopic(topic).config.compression === 'lz4' ? 'lz4' : 'none';
  } catch {
    return 'none';
  }
}

async function producePartition(ctx: KafkaContext, topic: string, p: PartitionData, acks: Acks, info: RequestInfo): Promise<Struct> {
  try {
    requireTopicRight(ctx, info.peer, 'produce', topic);
    const batches = splitBatches(p.records, () => topicCodec(ctx, topic));
    let baseOffset = -1;
    for (const batch of batches) {
      const r = await ctx.engine.appendBatch(topic, batch, { partition: p.index, acks });
      if (baseOffset === -1) baseOffset = r.baseOffset;
    }
    const { startOffset } = ctx.engine.offsets(topic, p.index);
    return { index: p.index, errorCode: KafkaError.NONE, baseOffset, logAppendTimeMs: -1, logStartOffset: startOffset, recordErrors: [], errorMessage: null };
  } catch (e) {
    return { index: p.index, errorCode: kafkaErrorCode(e), baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage: (e as Error).message };
  }
}

export async function produce(ctx: KafkaContext, req: Struct, info: RequestInfo): Promise<Struct | null> {
  const acksField = req['acks'] as number;
  const topicData = req['topicData'] as { name: string; partitionData: PartitionData[] }[];
  const refuse = (errorCode: number, message: string): Struct => ({
    responses: topicData.map((t) => ({ name: t.name, partitionResponses: t.partitionData.map((p) => ({ index: p.index, errorCode, baseOffset: -1, errorMessage: message })) })),
    throttleTimeMs: 0,
  });
  if (acksField !== 0 && acksField !== 1 && acksField !== -1) return refuse(KafkaError.INVALID_REQUIRED_ACKS, `acks must be 0, 1 or -1, got ${acksField}`);
  if (req['transactionalId'] !== null) return acksField === 0 ? null : refuse(KafkaError.INVALID_REQUEST, 'transactions are not supported');
  const acks: Acks = acksField === -1 ? 'flushed' : 'written';
  const responses = await Promise.all(
    topicData.map(async (t) => ({ name: t.name, partitionResponses: await Promise.all(t.partitionData.map((p) => producePartition(ctx, t.name, p, acks, info))) })),
  );
  return acksField === 0 ? null : { responses, throttleTimeMs: 0 };
}
