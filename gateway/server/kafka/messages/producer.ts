// Schema of InitProducerId (22): an idempotent producer asks for its producer id and epoch before
// its first Produce. v0-4 (flexible from 2): librdkafka sends v4, kafkajs v1. Transactions (a
// non-null transactionalId) are not served.
import { api, field } from '../schema.js';

export const INIT_PRODUCER_ID = api(
  22, 'InitProducerId', '0-4', '2+',
  [
    field('transactionalId', 'string', '0+', { nullable: '0+', default: null }),
    field('transactionTimeoutMs', 'int32', '0+'),
    field('producerId', 'int64', '3+', { default: -1 }),
    field('producerEpoch', 'int16', '3+', { default: -1 }),
  ],
  [
    field('throttleTimeMs', 'int32', '0+'),
    field('errorCode', 'int16', '0+'),
    field('producerId', 'int64', '0+', { default: -1 }),
    field('producerEpoch', 'int16', '0+'),
  ],
);
