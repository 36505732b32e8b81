// Where a subscription starts in one partition: the one rule of Engine.subscribe and the gateway's
// SUBSCRIBE. A position that retention has passed starts at the log start, as a Kafka consumer with
// auto.offset.reset=earliest does, but the loss is reported (a gap event, a GAP frame) rather than
// jumped over silently: the start is kept as asked and the subscription reports [asked, log start).
import { InvalidArgumentError, OffsetOutOfRangeError } from './format/errors.js';
import type { OffsetRange, StartPosition } from './types.js';

/**
 * What a subscription asked for in a partition: a StartPosition, or `{ resume }`, a position
 * recorded earlier (a resume point, a committed offset).
 */
export type StartRequest = StartPosition | { resume: number };

function checkStartOffset(offset: unknown): asserts offset is number {
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new InvalidArgumentError(`offset must be a non-negative integer, got ${String(offset)}`);
  }
}

/**
 * The offset a subscription starts from in a partition with offsets `range`:
 * - 'earliest': the log start offset; 'latest': the end offset;
 * - { timestamp }: the first offset whose record timestamp is ≥ it (`offsetForTimestamp`), else the end offset;
 * - { offset } or { resume } below the log start (retention removed it): that offset, so the
 *   subscription reports the gap up to the log start and delivers from there;
 * - beyond the end offset: { offset } is refused (OFFSET_OUT_OF_RANGE: those offsets do not exist),
 *   { resume } continues at the end (nothing was written there that could be missed).
 * `partitionName` (topic-partition) goes into error messages.
 */
export function resolveStartOffset(
  request: StartRequest,
  range: OffsetRange,
  offsetForTimestamp: (timestamp: number) => number | null,
  partitionName: string,
): number {
  if (request === 'earliest') return range.startOffset;
  if (request === 'latest') return range.endOffset;
  if (typeof request === 'object' && request !== null) {
    if ('resume' in request) {
      checkStartOffset(request.resume);
      return Math.min(request.resume, range.endOffset);
    }
    if ('offset' in request) {
      checkStartOffset(request.offset);
      if (request.offset > range.endOffset) throw new OffsetOutOfRangeError(request.offset, range.startOffset, range.endOffset, partitionName);
      return request.offset;
    }
    if ('timestamp' in request) {
      const at = request.timestamp;
      if (!Number.isSafeInteger(at)) throw new InvalidArgumentError(`from.timestamp must be an integer, got ${String(at)}`);
      return offsetForTimestamp(at) ?? range.endOffset;
    }
  }
  throw new InvalidArgumentError(`from must be 'earliest', 'latest', { offset } or { timestamp }, got ${JSON.stringify(request)}`);
}
