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
  | 'TOO_MANY_OPEN_FILES';

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

/** Stored or received bytes that fail their CRC or structural checks. */
export class CorruptRecordError extends SeglogError {
  readonly file: string | undefined;
  readonly position: number | undefined;
  constructor(message: string, file?: string, position?: number) {
    super('CORRUPT_RECORD', file !== undefined ? `${message} (file ${file}, position ${position ?? '?'})` : message);
    this.file = file;
    this.position = position;
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

export class DiskFullError extends SeglogError {
  constructor(path: string, cause?: unknown) {
    super('DISK_FULL', `no space left on device while reserving blocks for ${path}; nothing was written`, { cause });
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

export function isSeglogError(e: unknown): e is SeglogError {
  return e instanceof SeglogError;
}
