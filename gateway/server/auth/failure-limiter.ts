// Slows and then refuses peers that keep failing to authenticate, per remote address, so guessing
// tokens costs time and one address cannot hold the server's attention (other addresses are not
// affected). Memory is bounded: at most AUTH_FAILURE_ADDRESSES_MAX addresses are tracked, the
// oldest forgotten first.
import { AUTH_FAILURE_ADDRESSES_MAX, AUTH_FAILURE_DELAY_MS, AUTH_FAILURE_WINDOW_MS, AUTH_FAILURES_PER_ADDRESS_MAX } from '../limits.js';

export interface FailureLimits {
  failuresMax: number;
  windowMs: number;
  delayMs: number;
  addressesMax: number;
}

export const DEFAULT_FAILURE_LIMITS: FailureLimits = {
  failuresMax: AUTH_FAILURES_PER_ADDRESS_MAX,
  windowMs: AUTH_FAILURE_WINDOW_MS,
  delayMs: AUTH_FAILURE_DELAY_MS,
  addressesMax: AUTH_FAILURE_ADDRESSES_MAX,
};

interface Entry {
  windowStart: number;
  failures: number;
}

export class AuthFailureLimiter {
  // A Map iterates in insertion order: re-inserting on each failure keeps the oldest first.
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly limits: FailureLimits = DEFAULT_FAILURE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  private current(address: string): Entry | undefined {
    const e = this.entries.get(address);
    if (e !== undefined && this.now() - e.windowStart >= this.limits.windowMs) {
      this.entries.delete(address);
      return undefined;
    }
    return e;
  }

  /** Milliseconds until `address` may try again (0: it may now). */
  blockedForMs(address: string): number {
    const e = this.current(address);
    if (e === undefined || e.failures < this.limits.failuresMax) return 0;
    return Math.max(1, e.windowStart + this.limits.windowMs - this.now());
  }

  /** Counts a failure; returns how long to wait before answering it. */
  failed(address: string): number {
    const e = this.current(address) ?? { windowStart: this.now(), failures: 0 };
    e.failures++;
    this.entries.delete(address);
    this.entries.set(address, e);
    while (this.entries.size > this.limits.addressesMax) this.entries.delete(this.entries.keys().next().value!);
    return this.limits.delayMs;
  }

  get trackedAddresses(): number {
    return this.entries.size;
  }
}
