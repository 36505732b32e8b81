// Checks credentials against the auth file's principals. The file is read at start and again on
// reload() (SIGHUP); a file that does not parse leaves the previous principals in force.
import { AuthenticationFailedError } from '../../../engine/format/errors.js';
import { principalsOf, readAuthFile, type AuthPrincipal } from './auth-file.js';
import { matchToken } from './tokens.js';

export interface Credentials {
  /** From HELLO (or, for /metrics, an Authorization: Bearer header). */
  token?: string;
  /** The subject CN of a client certificate the TLS layer verified against the CA. */
  certificateName?: string;
}

/** A successful authentication: the principal, and what proved it (checked again on reload). */
export interface Authenticated {
  principal: AuthPrincipal;
  /** The matching token hash, or null when a certificate proved it. */
  tokenHash: string | null;
}

export class Authenticator {
  private principals: AuthPrincipal[] = [];
  private byName = new Map<string, AuthPrincipal>();
  private allHashes: string[] = [];
  private readonly ownerOfHash = new Map<string, AuthPrincipal>();

  constructor(readonly file: string) {
    this.reload();
  }

  /** Reads the file again; throws (keeping the previous principals) when it is unreadable or invalid. */
  reload(): number {
    const principals = principalsOf(readAuthFile(this.file));
    this.principals = principals;
    this.byName = new Map(principals.map((p) => [p.name, p]));
    this.ownerOfHash.clear();
    for (const p of principals) for (const h of p.tokenHashes) this.ownerOfHash.set(h, p);
    this.allHashes = [...this.ownerOfHash.keys()];
    return principals.length;
  }

  /** The principals' names now. */
  names(): Set<string> {
    return new Set(this.byName.keys());
  }

  authenticate(c: Credentials): Authenticated {
    if (c.token !== undefined && c.token !== '') {
      // Every stored hash is compared (constant time): which one matched stays unseen.
      const hash = matchToken(c.token, this.allHashes);
      if (hash === null) throw new AuthenticationFailedError('invalid token');
      return { principal: this.ownerOfHash.get(hash)!, tokenHash: hash };
    }
    if (c.certificateName !== undefined) {
      const principal = this.byName.get(c.certificateName);
      if (principal === undefined) throw new AuthenticationFailedError(`the client certificate's subject ${JSON.stringify(c.certificateName)} names no principal`);
      return { principal, tokenHash: null };
    }
    throw new AuthenticationFailedError('this server requires a token (client option token, SEGLOG_TOKEN or --token) or a client certificate');
  }

  /** A principal by name (SASL/SCRAM looks its credential up by the user name), or undefined. */
  principalNamed(name: string): AuthPrincipal | undefined {
    return this.byName.get(name);
  }

  /** The same principal as now in the file, or null when its credentials are gone (revoked). */
  recheck(a: Authenticated): AuthPrincipal | null {
    const now = this.byName.get(a.principal.name);
    if (now === undefined) return null;
    if (a.tokenHash !== null && !now.tokenHashes.includes(a.tokenHash)) return null;
    return now;
  }
}
