// Checks of the arguments of the engine's public calls, with the INVALID_ARGUMENT messages callers see.
import { InvalidArgumentError } from './format/errors.js';
import type { Acks } from './types.js';

function isNonNegativeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

export function checkOffset(offset: unknown): asserts offset is number {
  if (!isNonNegativeInt(offset)) throw new InvalidArgumentError(`offset must be a non-negative integer, got ${String(offset)}`);
}

/** An options argument: undefined or null mean none; anything but an object is refused. */
export function checkOptionsObject<T extends object>(options: T | null | undefined): T {
  if (options === undefined || options === null) return {} as T;
  if (typeof options !== 'object') throw new InvalidArgumentError(`options must be an object, got ${typeof options}`);
  return options;
}

/** An integer option from 1 to `max`, `fallback` when not given. */
export function limitOption(name: string, v: unknown, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) {
    throw new InvalidArgumentError(`${name} must be an integer from 1 to ${max}, got ${String(v)}`);
  }
  return v;
}

export function checkAcks(acks: unknown): Acks {
  if (acks === undefined) return 'written';
  if (acks !== 'written' && acks !== 'flushed') throw new InvalidArgumentError(`acks must be "written" or "flushed", got ${JSON.stringify(acks)}`);
  return acks;
}
