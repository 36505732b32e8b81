// Who is on the other end of a connection, and what it may do.
import { Rights } from './rights.js';

export interface ByteQuota {
  /** Bytes of record batches per second this principal may produce (all its connections together). */
  produceBytesPerSecond?: number;
  /** Bytes of record batches per second delivered to it (subscriptions and fetches). */
  consumeBytesPerSecond?: number;
}

export interface Principal {
  readonly name: string;
  readonly rights: Rights;
  readonly quota: ByteQuota;
}

/** The principal of every connection when authentication is off. */
export const ANONYMOUS: Principal = { name: 'anonymous', rights: Rights.ALL, quota: {} };
