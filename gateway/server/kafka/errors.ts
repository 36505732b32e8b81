// Kafka's error codes (the ones this listener answers with) and the one table from seglog's error
// registry (engine/format/errors.ts) to them. Typed as Record<ErrorCode, …> so a code added to the
// registry does not compile until it is mapped here.
import { isSeglogError, type ErrorCode } from '../../../engine/index.js';

/** Kafka's numeric error codes, by Kafka's names. */
export const KafkaError = {
  UNKNOWN_SERVER_ERROR: -1,
  NONE: 0,
  OFFSET_OUT_OF_RANGE: 1,
  CORRUPT_MESSAGE: 2,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  REQUEST_TIMED_OUT: 7,
  MESSAGE_TOO_LARGE: 10,
  INVALID_TOPIC_EXCEPTION: 17,
  INVALID_REQUIRED_ACKS: 21,
  TOPIC_AUTHORIZATION_FAILED: 29,
  CLUSTER_AUTHORIZATION_FAILED: 31,
  UNSUPPORTED_VERSION: 35,
  TOPIC_ALREADY_EXISTS: 36,
  INVALID_PARTITIONS: 37,
  INVALID_REPLICATION_FACTOR: 38,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  INVALID_REQUEST: 42,
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 43,
  KAFKA_STORAGE_ERROR: 56,
  SASL_AUTHENTICATION_FAILED: 58,
  UNSUPPORTED_COMPRESSION_TYPE: 76,
  INVALID_RECORD: 87,
  THROTTLING_QUOTA_EXCEEDED: 89,
  COORDINATOR_NOT_AVAILABLE: 15,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  GROUP_MAX_SIZE_REACHED: 81,
  NOT_COORDINATOR: 16,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  GROUP_AUTHORIZATION_FAILED: 30,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  OUT_OF_ORDER_SEQUENCE_NUMBER: 45,
  DUPLICATE_SEQUENCE_NUMBER: 46,
  INVALID_PRODUCER_EPOCH: 47,
} as const;

/**
 * Registry code → Kafka code. Retriable conditions map to codes Kafka clients retry on (a closed
 * engine to NOT_LEADER_OR_FOLLOWER: the client refreshes metadata and tries again; storage trouble
 * to KAFKA_STORAGE_ERROR). Codes only the WebSocket client raises map to UNKNOWN_SERVER_ERROR.
 */
export const KAFKA_ERROR_FOR: Readonly<Record<ErrorCode, number>> = {
  OFFSET_OUT_OF_RANGE: KafkaError.OFFSET_OUT_OF_RANGE,
  CORRUPT_RECORD: KafkaError.CORRUPT_MESSAGE,
  INVALID_RECORD: KafkaError.INVALID_RECORD,
  BATCH_TOO_LARGE: KafkaError.MESSAGE_TOO_LARGE,
  TOPIC_NOT_FOUND: KafkaError.UNKNOWN_TOPIC_OR_PARTITION,
  TOPIC_EXISTS: KafkaError.TOPIC_ALREADY_EXISTS,
  PARTITION_NOT_FOUND: KafkaError.UNKNOWN_TOPIC_OR_PARTITION,
  INVALID_TOPIC_NAME: KafkaError.INVALID_TOPIC_EXCEPTION,
  INVALID_ARGUMENT: KafkaError.INVALID_REQUEST,
  DISK_FULL: KafkaError.KAFKA_STORAGE_ERROR,
  DIRECTORY_LOCKED: KafkaError.KAFKA_STORAGE_ERROR,
  CLOSED: KafkaError.NOT_LEADER_OR_FOLLOWER,
  IO_ERROR: KafkaError.KAFKA_STORAGE_ERROR,
  TOO_MANY_OPEN_FILES: KafkaError.KAFKA_STORAGE_ERROR,
  INTERNAL: KafkaError.UNKNOWN_SERVER_ERROR,
  AUTHENTICATION_FAILED: KafkaError.SASL_AUTHENTICATION_FAILED,
  NOT_AUTHORIZED: KafkaError.TOPIC_AUTHORIZATION_FAILED,
  INVALID_FRAME: KafkaError.INVALID_REQUEST,
  UNKNOWN_FRAME_TYPE: KafkaError.INVALID_REQUEST,
  UNSUPPORTED_VERSION: KafkaError.UNSUPPORTED_VERSION,
  SHUTTING_DOWN: KafkaError.NOT_LEADER_OR_FOLLOWER,
  TOO_MANY_REQUESTS: KafkaError.THROTTLING_QUOTA_EXCEEDED,
  DISCONNECTED: KafkaError.UNKNOWN_SERVER_ERROR,
  TIMEOUT: KafkaError.REQUEST_TIMED_OUT,
  PROTOCOL_ERROR: KafkaError.UNKNOWN_SERVER_ERROR,
  CONNECT_FAILED: KafkaError.UNKNOWN_SERVER_ERROR,
  GROUP_NOT_FOUND: KafkaError.GROUP_ID_NOT_FOUND,
  GROUP_NOT_EMPTY: KafkaError.NON_EMPTY_GROUP,
  UNKNOWN_MEMBER: KafkaError.UNKNOWN_MEMBER_ID,
  // A classic member's commit with a stale generation is Kafka's ILLEGAL_GENERATION.
  FENCED_MEMBER: KafkaError.ILLEGAL_GENERATION,
  TOO_MANY_MEMBERS: KafkaError.GROUP_MAX_SIZE_REACHED,
  // No Kafka code says "too many groups"; a client retries COORDINATOR_NOT_AVAILABLE later.
  TOO_MANY_GROUPS: KafkaError.COORDINATOR_NOT_AVAILABLE,
  REBALANCE_IN_PROGRESS: KafkaError.REBALANCE_IN_PROGRESS,
  GROUP_PROTOCOL_MISMATCH: KafkaError.INCONSISTENT_GROUP_PROTOCOL,
  OUT_OF_ORDER_SEQUENCE: KafkaError.OUT_OF_ORDER_SEQUENCE_NUMBER,
  // Kafka answers a produce from a fenced idempotent (non-transactional) producer with INVALID_PRODUCER_EPOCH.
  PRODUCER_FENCED: KafkaError.INVALID_PRODUCER_EPOCH,
};

/** A refusal a handler decides itself, with the Kafka code to answer (no registry code says it as well). */
export class KafkaRefusal extends Error {
  constructor(
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The Kafka error code for anything thrown while serving a request. */
export function kafkaErrorCode(e: unknown): number {
  if (e instanceof KafkaRefusal) return e.errorCode;
  return isSeglogError(e) ? KAFKA_ERROR_FOR[e.code] : KafkaError.UNKNOWN_SERVER_ERROR;
}

/**
 * The Kafka error code for a failure of a group-level request (JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, a group in DescribeGroups or DeleteGroups): as kafkaErrorCode, except that a refused
 * right is GROUP_AUTHORIZATION_FAILED there, as Kafka answers (the group is what was refused).
 */
export function groupErrorCode(e: unknown): number {
  if (isSeglogError(e) && e.code === 'NOT_AUTHORIZED') return KafkaError.GROUP_AUTHORIZATION_FAILED;
  return kafkaErrorCode(e);
}
