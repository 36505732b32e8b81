// InitProducerId: a fresh producer id with epoch 0 for every idempotent producer (as Kafka does for
// a request without a transactional id; v3+'s producerId/producerEpoch only matter to transactional
// producers). The engine allocates the ids (never repeated, persisted) and deduplicates their
// batches per partition on Produce. A transactional id → INVALID_REQUEST: no transactions.
import type { Struct } from '../codec.js';
import type { KafkaContext, RequestInfo } from '../context.js';
import { KafkaError, kafkaErrorCode } from '../errors.js';

export function initProducerId(ctx: KafkaContext, req: Struct, _info: RequestInfo): Struct {
  if (req['transactionalId'] !== null) return { throttleTimeMs: 0, errorCode: KafkaError.INVALID_REQUEST, producerId: -1, producerEpoch: -1 };
  try {
    const { producerId, producerEpoch } = ctx.engine.initProducerId();
    return { throttleTimeMs: 0, errorCode: KafkaError.NONE, producerId, producerEpoch };
  } catch (e) {
    return { throttleTimeMs: 0, errorCode: kafkaErrorCode(e), producerId: -1, producerEpoch: -1 };
  }
}
