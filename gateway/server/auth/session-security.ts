// What a session needs to authenticate its peer, check its rights and hold it to its quotas: one
// object per server, shared by its sessions.
import type { Authenticator } from './authenticator.js';
import type { AuthFailureLimiter } from './failure-limiter.js';
import type { QuotaRegistry } from './quotas.js';
import type { BoundedLog } from '../bounded-log.js';

export interface SessionSecurity {
  /** null: authentication is off (every connection is ANONYMOUS, or its certificate's name with every right). */
  readonly authenticator: Authenticator | null;
  readonly failures: AuthFailureLimiter;
  readonly quotas: QuotaRegistry;
  /** Authentication failures and refused actions, one line each, bounded. */
  readonly refusalLog: BoundedLog;
}
