// Typed errors with a stable `code`. The engine throws them; the gateway carries `code` and
// `message` on the wire unchanged, so clients can switch on the code in any language.

export type ErrorCode =
  | 'OFFSET_OUT_OF_RANGE'
  | 'CORRUPT_RECORD'
  | 'INVALID_RECORD'
  | 'BATCH_TOO_LARGE'
  | 'TOPIC_NOT_FOUND'
  | 'TOPIC_EXISTS'
  | 'PARTITION_NOT_FOUND'
  | 'INVALID_TOPIC_NAME'
  | 'INVALID_ARGUMENT'
  | 'DISK_FULL'
  | 'DIRECTORY_LOCKED'
  | 'CLOSED'
  | 'IO_ERROR'
  | 'TOO_MANY_OPEN_FILES'
  | 'INTERNAL'
  // Security (the gateway's authentication and per-topic rights; the Kafka listener maps them too).
  | 'AUTHENTICATION_FAILED'
  | 'NOT_AUTHORIZED'
  // Consumer groups (engine/groups/).
  | 'GROUP_NOT_FOUND'
  | 'GROUP_NOT_EMPTY'
  | 'UNKNOWN_MEMBER'
  | 'FENCED_MEMBER'
  | 'TOO_MANY_MEMBERS'
  | 'TOO_MANY_GROUPS'
  | 'REBALANCE_IN_PROGRESS'
  | 'GROUP_PROTOCOL_MISMATCH'
  // Idempotent producers (engine/producer-state.ts).
  | 'OUT_OF_ORDER_SEQUENCE'
  | 'PRODUCER_FENCED'
  // The gateway's (gateway/protocol/error.ts) and the client's (gateway/client/client-errors.ts).
  | 'INVALID_FRAME'
  | 'UNKNOWN_FRAME_TYPE'
  | 'UNSUPPORTED_VERSION'
  | 'SHUTTING_DOWN'
  | 'TOO_MANY_REQUESTS'
  | 'DISCONNECTED'
  | 'TIMEOUT'
  | 'PROTOCOL_ERROR'
  | 'CONNECT_FAILED';

export class SeglogError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class OffsetOutOfRangeError extends SeglogError {
  /** The partition's current log start offset and end offset (next offset to be assigned). */
  readonly startOffset: number;
  readonly endOffset: number;
  readonly offset: number;
  constructor(offset: number, startOffset: number, endOffset: number, where = '') {
    super(
      'OFFSET_OUT_OF_RANGE',
      `offset ${offset} is out of range${where ? ` for ${where}` : ''}: valid offsets are ${startOffset}..${endOffset}`,
    );
    this.offset = offset;
    this.startOffset = startOffset;
    this.endOffset = endOffset;
  }
}

/** Where damaged stored data lies: [offset, nextOffset) cannot be read; intact data resumes at nextOffset. */
export interface CorruptRange {
  /** First offset of the damaged range (may lie before the offset that was asked for). */
  offset: number;
  /** Offset where intact data resumes: read (seek, subscribe) from here to skip the damage. */
  nextOffset: number;
  topic?: string;
  partition?: number;
}

/**
 * Stored or received bytes that fail their CRC or structural checks. When the damage is in a stored
 * log, `offset`/`nextOffset` give the damaged range (and `topic`/`partition` say where), so a reader
 * can skip it on purpose; they are undefined for damage without a place in a log (a produced batch).
 */
export class CorruptRecordError extends SeglogError {
  readonly file: string | undefined;
  readonly position: number | undefined;
  readonly offset: number | undefined;
  readonly nextOffset: number | undefined;
  readonly topic: string | undefined;
  readonly partition: number | undefined;
  constructor(message: string, file?: string, position?: number, range?: CorruptRange) {
    super('CORRUPT_RECORD', file !== undefined ? `${message} (file ${file}, position ${position ?? '?'})` : message);
    this.file = file;
    this.position = position;
    this.offset = range?.offset;
    this.nextOffset = range?.nextOffset;
    this.topic = range?.topic;
    this.partition = range?.partition;
  }

  /** The damaged range, when known. */
  get range(): CorruptRange | undefined {
    if (this.offset === undefined || this.nextOffset === undefined) return undefined;
    return { offset: this.offset, nextOffset: this.nextOffset, topic: this.topic, partition: this.partition };
  }

  /** The same error said of a partition (the engine adds where a log's damage lies). */
  inPartition(topic: string, partition: number): CorruptRecordError {
    if (this.offset === undefined || this.nextOffset === undefined || this.partition !== undefined) return this;
    const e = new CorruptRecordError(`${topic}-${partition}: ${this.message}`, undefined, undefined, {
      offset: this.offset,
      nextOffset: this.nextOffset,
      topic,
      partition,
    });
    // Keep the file and position of the original (the message already names them).
    return Object.assign(e, { file: this.file, position: this.position });
  }
}

/** Well-formed bytes whose content we refuse (bad field values, unsupported codec, bad input shape). */
export class InvalidRecordError extends SeglogError {
  constructor(message: string) {
    super('INVALID_RECORD', message);
  }
}

export class BatchTooLargeError extends SeglogError {
  readonly sizeBytes: number;
  readonly maxBytes: number;
  constructor(sizeBytes: number, maxBytes: number) {
    super('BATCH_TOO_LARGE', `record batch of ${sizeBytes} bytes exceeds the limit of ${maxBytes} bytes`);
    this.sizeBytes = sizeBytes;
    this.maxBytes = maxBytes;
  }
}

export class TopicNotFoundError extends SeglogError {
  constructor(topic: string) {
    super('TOPIC_NOT_FOUND', `topic ${JSON.stringify(topic)} does not exist`);
  }
}

export class TopicExistsError extends SeglogError {
  constructor(topic: string) {
    super('TOPIC_EXISTS', `topic ${JSON.stringify(topic)} already exists`);
  }
}

export class PartitionNotFoundError extends SeglogError {
  constructor(topic: string, partition: unknown, partitions: number) {
    super(
      'PARTITION_NOT_FOUND',
      `topic ${JSON.stringify(topic)} has no partition ${String(partition)} (it has ${partitions}: 0..${partitions - 1})`,
    );
  }
}

export class InvalidTopicNameError extends SeglogError {
  constructor(name: unknown, why: string) {
    super('INVALID_TOPIC_NAME', `invalid topic name ${JSON.stringify(name)}: ${why}`);
  }
}

export class InvalidArgumentError extends SeglogError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** The filesystem has no space (ENOSPC) or the quota is used up (EDQUOT). Retry once space is freed. */
export class DiskFullError extends SeglogError {
  /** `what`: the operation, e.g. "reserving blocks for /data/orders-0/000….log". */
  constructor(what: string, cause?: unknown, detail = 'nothing was written') {
    super('DISK_FULL', `no space left on device while ${what}${detail ? `; ${detail}` : ''}`, { cause });
  }
}

export class DirectoryLockedError extends SeglogError {
  constructor(dir: string, holder: string) {
    super('DIRECTORY_LOCKED', `data directory ${dir} is already open by ${holder}; only one writer may open it`);
  }
}

export class ClosedError extends SeglogError {
  constructor(what: string) {
    super('CLOSED', `${what} is closed`);
  }
}

export class IoError extends SeglogError {
  constructor(message: string, cause?: unknown) {
    super('IO_ERROR', message, { cause });
  }
}

/**
 * The process's file descriptors do not stretch to the request: more partition logs in use at once
 * than the engine's file budget holds, or the kernel refused a descriptor (EMFILE, ENFILE). The
 * engine stays usable; the call can be retried once other work has let descriptors go.
 */
export class TooManyOpenFilesError extends SeglogError {
  constructor(message: string, cause?: unknown) {
    super('TOO_MANY_OPEN_FILES', message, { cause });
  }
}

/** The credentials sent (a token, a client certificate) name no principal, or none were sent where they are required. */
export class AuthenticationFailedError extends SeglogError {
  constructor(message: string) {
    super('AUTHENTICATION_FAILED', message);
  }
}

/** The principal has no right to this action on this resource. The message names both, never a secret. */
export class NotAuthorizedError extends SeglogError {
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  constructor(principal: string, action: string, resource: string) {
    super('NOT_AUTHORIZED', `principal ${JSON.stringify(principal)} may not ${action} ${resource}`);
    this.principal = principal;
    this.action = action;
    this.resource = resource;
  }
}

export class GroupNotFoundError extends SeglogError {
  constructor(group: string) {
    super('GROUP_NOT_FOUND', `consumer group ${JSON.stringify(group)} does not exist`);
  }
}

/** The operation needs a group without members (reset, delete): Kafka's NON_EMPTY_GROUP. */
export class GroupNotEmptyError extends SeglogError {
  constructor(group: string, members: number, what: string) {
    super('GROUP_NOT_EMPTY', `consumer group ${JSON.stringify(group)} has ${members} member(s): stop them before you ${what}`);
  }
}

/** A heartbeat or leave names a member the group does not have (removed, or never joined): join again. */
export class UnknownMemberError extends SeglogError {
  constructor(group: string, memberId: string) {
    super('UNKNOWN_MEMBER', `consumer group ${JSON.stringify(group)} has no member ${JSON.stringify(memberId)} (removed after its session or rebalance timeout, or it left): join again`);
  }
}

/**
 * A commit from a member that does not own the partition (any more): it was removed, or the
 * partition was revoked from it. Its progress must not overwrite the new owner's.
 */
export class FencedMemberError extends SeglogError {
  constructor(message: string) {
    super('FENCED_MEMBER', message);
  }
}

export class TooManyMembersError extends SeglogError {
  constructor(group: string, max: number) {
    super('TOO_MANY_MEMBERS', `consumer group ${JSON.stringify(group)} already has the maximum of ${max} members`);
  }
}

export class TooManyGroupsError extends SeglogError {
  constructor(max: number) {
    super('TOO_MANY_GROUPS', `the server already has the maximum of ${max} consumer groups; delete unused ones (seglog groups delete)`);
  }
}

/**
 * A classic-protocol (Kafka JoinGroup/SyncGroup) group is rebalancing: the member must join again
 * (JoinGroup) before it syncs or commits. Kafka's REBALANCE_IN_PROGRESS.
 */
export class RebalanceInProgressError extends SeglogError {
  constructor(group: string) {
    super('REBALANCE_IN_PROGRESS', `consumer group ${JSON.stringify(group)} is rebalancing: join again`);
  }
}

/**
 * A group's live members all speak one protocol: seglog's (the coordinator assigns, WebSocket
 * GROUP_JOIN and Engine.subscribe) or Kafka's classic one (a leader member assigns), with a common
 * assignor. A member of another kind, or whose assignors share none with the group's, is refused
 * (Kafka's INCONSISTENT_GROUP_PROTOCOL) until the group is empty.
 */
export class GroupProtocolMismatchError extends SeglogError {
  constructor(group: string, detail: string) {
    super('GROUP_PROTOCOL_MISMATCH', `consumer group ${JSON.stringify(group)}: ${detail}`);
  }
}

/** An idempotent producer's batch does not follow its last one (a gap, or a new epoch not starting at 0): Kafka's OUT_OF_ORDER_SEQUENCE_NUMBER. */
export class OutOfOrderSequenceError extends SeglogError {
  constructor(message: string) {
    super('OUT_OF_ORDER_SEQUENCE', message);
  }
}

/** An idempotent producer's batch carries an epoch older than the producer's current one: Kafka's INVALID_PRODUCER_EPOCH. */
export class ProducerFencedError extends SeglogError {
  constructor(message: string) {
    super('PRODUCER_FENCED', message);
  }
}

/** An invariant of seglog's own code was broken (a bug, never bad input): always a message. */
export class AssertionError extends SeglogError {
  constructor(message: string) {
    super('INTERNAL', `invariant violated: ${message}`);
  }
}

/** Checks an invariant; `message` says what should have held. */
export function assert(condition: unknown, message: string | (() => string)): asserts condition {
  if (!condition) throw new AssertionError(typeof message === 'string' ? message : message());
}

export function isSeglogError(e: unknown): e is SeglogError {
  return e instanceof SeglogError;
}
