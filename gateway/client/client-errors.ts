// Errors the client library throws. `code` is the server's (the registry's codes,
// engine/format/errors.ts, as protocol/error.ts sends them) or one of the client's own below, which
// are registry codes too.
import { SeglogError, type ErrorCode } from '../../engine/format/errors.js';

export const ClientErrorCode = {
  /** The connection closed before the answer came. For a produce: the batch may or may not have been written. */
  DISCONNECTED: 'DISCONNECTED',
  /** No answer within requestTimeoutMs, or a send() that could not queue within maxBlockMs. */
  TIMEOUT: 'TIMEOUT',
  /** The client (or the producer/consumer) was closed. */
  CLOSED: 'CLOSED',
  /** The server sent something this client does not understand. */
  PROTOCOL_ERROR: 'PROTOCOL_ERROR',
  /** Could not connect (after all retries). */
  CONNECT_FAILED: 'CONNECT_FAILED',
} as const satisfies Record<string, ErrorCode>;

/** Where stored data is damaged (a CORRUPT_RECORD from the server): [offset, nextOffset) of a partition. */
export interface CorruptRange {
  partition: number;
  /** First offset of the damaged range. */
  offset: number;
  /** Where intact data resumes: fetch or subscribe from here to go on. */
  nextOffset: number;
}

export class SeglogClientError extends SeglogError {
  /** Set for CORRUPT_RECORD about stored data, when the server said where (PROTOCOL.md §4.9). */
  readonly partition: number | undefined;
  readonly offset: number | undefined;
  readonly nextOffset: number | undefined;
  /**
   * `code` is a registry code; one a newer server sends that this client does not know yet is
   * passed on unchanged (callers switch on the string).
   */
  constructor(code: ErrorCode | (string & {}), message: string, options?: { cause?: unknown; range?: CorruptRange }) {
    super(code as ErrorCode, message, options);
    this.name = 'SeglogClientError';
    this.partition = options?.range?.partition;
    this.offset = options?.range?.offset;
    this.nextOffset = options?.range?.nextOffset;
  }
}
