// InitProducerId: a fresh producer id with epoch 0 for every idempotent producer (as Kafka does for
// a request without a transactional id; v3+'s producerId/producerEpoch only matter to transactional
// producers). The engine allocates the ids (never repeated, persisted) and deduplicates their
// batches per partition on Produce. A transactional id → INVALID_REQUEST: no transactions. As in
// Kafka (IdempotentWrite on the cluster, or Write on some topic), the principal needs a produce
// right on some topic, else CLUSTER_AUTHORIZATION_FAILED.
import type { Struct } from '../codec.js';
import type { KafkaContext, RequestInfo } from '../context.js';
import { KafkaError, kafkaErrorCode } from '../errors.js';

export function initProducerId(ctx: KafkaContext, req: Struct, info: RequestInfo): Struct {
  if (req['transactionalId'] !== null) return { throttleTimeMs: 0, errorCode: KafkaError.INVALID_REQUEST, producerId: -1, producerEpoch: -1 };
  if (info.peer.principal?.rights.hasAny('produce', 'topic') !== true) {
    ctx.metrics.notAuthorized.inc({ action: 'produce', kind: 'topic' });
    ctx.security.refusalLog.line(`not authorized: kafka connection ${info.peer.remote} principal ${JSON.stringify(info.peer.principal?.name ?? null)} may not produce to any topic (InitProducerId)`);
    return { throttleTimeMs: 0, errorCode: KafkaError.CLUSTER_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
  }
  try {
    const { producerId, producerEpoch } = ctx.engine.initProducerId();
    return { throttleTimeMs: 0, errorCode: KafkaError.NONE, producerId, producerEpoch };
  } catch (e) {
    return { throttleTimeMs: 0, errorCode: kafkaErrorCode(e), producerId: -1, producerEpoch: -1 };
  }
}
