// seglog's main export: the embeddable engine, its public types and error classes.
export { Engine, ENGINE_DEFAULTS } from './engine.js';
export type { RetentionReport } from './engine.js';
export { Subscription } from './subscription.js';
export { GroupSubscription } from './groups/group-subscription.js';
export type * from './groups/group-types.js';
export type { ClassicAssignment, ClassicJoinOptions, ClassicJoinResult, ClassicMemberDescription, ClassicProtocol } from './groups/classic-group.js';
export { GROUP_LIMITS } from './limits.js';
export { resolveStartOffset } from './start-positions.js';
export type { StartRequest } from './start-positions.js';
export { LIMITS as TOPIC_LIMITS, DEFAULT_TOPIC_CONFIG } from './topic-registry.js';
export { TOPIC_NAME_MAX_CHARS, topicNameProblem, validateTopicName } from './topic-name.js';
export { murmur2, partitionForKey, toPositive } from './format/partitioner.js';
export { GROUP_NAME_MAX_BYTES } from './offset-store.js';
export type { CommittedOffset } from './offset-store.js';
export { encodeBatch, decodeRecords, forEachRecord, validateProducerBatch } from './record-batch.js';
export type { DecodedRecord, RecordHeaderInput } from './record-batch.js';
// The gateway re-encodes LZ4 batches for clients that cannot decode LZ4 (native codec, Buffers).
export { decompressBatch, gzipBatchAs, CODEC_GZIP } from './record-batch.js';
// Durable whole-file replacement (temp, fdatasync, rename), for the server's own small files (the auth file).
export { replaceFileSync } from './checkpoint-file.js';
export * from './format/errors.js';
export type * from './types.js';
