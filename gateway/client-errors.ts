// Errors the client library throws. `code` is the server's (the engine's codes, engine/errors.ts,
// plus the gateway's, protocol/error.ts) or one of the client's own below.

export const ClientErrorCode = {
  /** The connection closed before the answer came. For a produce: the batch may or may not have been written. */
  DISCONNECTED: 'DISCONNECTED',
  /** No answer within requestTimeoutMs. */
  TIMEOUT: 'TIMEOUT',
  /** The client (or the producer/consumer) was closed. */
  CLOSED: 'CLOSED',
  /** The server sent something this client does not understand. */
  PROTOCOL_ERROR: 'PROTOCOL_ERROR',
  /** Could not connect (after all retries). */
  CONNECT_FAILED: 'CONNECT_FAILED',
} as const;

export class SeglogClientError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'SeglogClientError';
  }
}
