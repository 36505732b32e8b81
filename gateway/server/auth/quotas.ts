// Byte-rate quota buckets per principal, shared by all of its connections. A reload of the auth
// file keeps a principal's buckets (and their debt) when its rates did not change.
import { ByteQuotaBucket } from './byte-quota.js';
import type { Principal } from './principal.js';

export interface PrincipalBuckets {
  produce: ByteQuotaBucket | null;
  consume: ByteQuotaBucket | null;
}

const NONE: PrincipalBuckets = { produce: null, consume: null };

export class QuotaRegistry {
  private readonly buckets = new Map<string, PrincipalBuckets>();

  /** The buckets of a principal (null members: no quota in that direction). */
  of(p: Principal): PrincipalBuckets {
    const { produceBytesPerSecond: produce, consumeBytesPerSecond: consume } = p.quota;
    if (produce === undefined && consume === undefined) return NONE;
    let b = this.buckets.get(p.name);
    if (b === undefined || b.produce?.bytesPerSecond !== produce || b.consume?.bytesPerSecond !== consume) {
      b = {
        produce: produce === undefined ? null : b?.produce?.bytesPerSecond === produce ? b.produce : new ByteQuotaBucket(produce),
        consume: consume === undefined ? null : b?.consume?.bytesPerSecond === consume ? b.consume : new ByteQuotaBucket(consume),
      };
      this.buckets.set(p.name, b);
    }
    return b;
  }

  /** Forgets principals that no longer exist (after a reload). */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.buckets.keys()) if (!names.has(name)) this.buckets.delete(name);
  }
}
