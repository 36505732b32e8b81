// A byte-rate quota as a token bucket that may go into debt: a request larger than what is left
// still passes, and the debt it leaves is the delay the next ones wait. Waits only grow in the
// order requests arrive, so delaying never reorders a connection's requests.
import { QUOTA_BURST_MS } from '../limits.js';

export class ByteQuotaBucket {
  private available: number;
  private updatedAt: number;
  private readonly burstBytes: number;

  constructor(
    readonly bytesPerSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.burstBytes = Math.max(1, (bytesPerSecond * QUOTA_BURST_MS) / 1000);
    this.available = this.burstBytes;
    this.updatedAt = this.now();
  }

  private refill(): void {
    const t = this.now();
    this.available = Math.min(this.burstBytes, this.available + ((t - this.updatedAt) * this.bytesPerSecond) / 1000);
    this.updatedAt = t;
  }

  /** Takes `bytes`; returns the milliseconds to wait before using them (0: at once). */
  take(bytes: number): number {
    this.refill();
    this.available -= bytes;
    return this.available >= 0 ? 0 : (-this.available * 1000) / this.bytesPerSecond;
  }

  /** Bytes that may go now without waiting (0 in debt). */
  availableBytes(): number {
    this.refill();
    return Math.max(0, this.available);
  }

  /** Milliseconds until the bucket is out of debt (0: it is not in debt). */
  debtMs(): number {
    this.refill();
    return this.available >= 0 ? 0 : (-this.available * 1000) / this.bytesPerSecond;
  }
}
