// SCRAM-SHA-256 (RFC 5802 / RFC 7677) credentials for the Kafka listener's SASL: derived from a
// token when `seglog auth add/rotate` makes it, stored in the auth file next to the token hash as
// salt, iterations, StoredKey and ServerKey (never the token, and nothing from which a client proof
// can be made without it). A server holding these can check a client's proof and prove itself, as
// Kafka's SCRAM credentials in ZooKeeper/KRaft do.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/** RFC 7677 asks at least 4096; Kafka's default is 4096 too (the token is 256 random bits: no guessing to slow down). */
export const SCRAM_ITERATIONS = 4096;
const SCRAM_SALT_BYTES = 16;
const KEY_BYTES = 32;

export interface ScramCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const hmac = (key: Buffer, text: string | Buffer): Buffer => createHmac('sha256', key).update(text).digest();
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

export function scramCredential(password: string, salt: Buffer = randomBytes(SCRAM_SALT_BYTES), iterations = SCRAM_ITERATIONS): ScramCredential {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, KEY_BYTES, 'sha256');
  return { salt, iterations, storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

/** The auth file form: base64 fields. */
export function scramToJson(c: ScramCredential): Record<string, string | number> {
  return { salt: c.salt.toString('base64'), iterations: c.iterations, storedKey: c.storedKey.toString('base64'), serverKey: c.serverKey.toString('base64') };
}

export function scramFromJson(v: unknown): ScramCredential {
  const bad = (): never => {
    throw new Error('scramSha256 must be { salt, iterations, storedKey, serverKey } (base64; iterations 4096..1,000,000)');
  };
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad();
  const o = v as Record<string, unknown>;
  const b64 = (x: unknown, len?: number): Buffer => {
    if (typeof x !== 'string' || !/^[A-Za-z0-9+/]+=*$/.test(x)) return bad();
    const b = Buffer.from(x, 'base64');
    if (len !== undefined && b.length !== len) return bad();
    return b;
  };
  const iterations = o['iterations'];
  if (!Number.isSafeInteger(iterations) || (iterations as number) < SCRAM_ITERATIONS || (iterations as number) > 1_000_000) return bad();
  return { salt: b64(o['salt']), iterations: iterations as number, storedKey: b64(o['storedKey'], KEY_BYTES), serverKey: b64(o['serverKey'], KEY_BYTES) };
}

/** SCRAM's name encoding (RFC 5802 5.1): "=2C" for ",", "=3D" for "="; null if malformed. */
function saslName(s: string): string | null {
  if (/=(?!2C|3D)/.test(s)) return null;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/**
 * The server side of one SCRAM-SHA-256 exchange: first() reads client-first-message and answers
 * server-first-message; final() checks client-final-message and answers server-final-message. Any
 * fault throws (the caller answers SASL_AUTHENTICATION_FAILED without saying which part failed).
 */
export class ScramServer {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private gs2Header = '';
  private credential: ScramCredential | null = null;
  user = '';

  /** `lookup(user)`: the user's credential, or null (then the exchange fails at the proof, as if the password were wrong). */
  first(message: string, lookup: (user: string) => ScramCredential | null): string {
    const m = /^([ny]|p=[^,]*),(a=[^,]*)?,(.*)$/.exec(message);
    if (m === null || m[1]!.startsWith('p=')) throw new Error('malformed client-first-message (channel binding is not offered)');
    this.gs2Header = `${m[1]},${m[2] ?? ''},`;
    this.clientFirstBare = m[3]!;
    const attrs = /^n=([^,]*),r=([^,]+)(,.*)?$/.exec(this.clientFirstBare);
    if (attrs === null) throw new Error('malformed client-first-message');
    const user = saslName(attrs[1]!);
    if (user === null || user === '') throw new Error('malformed user name');
    this.user = user;
    this.credential = lookup(user);
    // An unknown user gets a made-up salt, so the answer does not tell which names exist.
    const salt = this.credential?.salt ?? createHash('sha256').update(`seglog-unknown-${user}`).digest().subarray(0, SCRAM_SALT_BYTES);
    const iterations = this.credential?.iterations ?? SCRAM_ITERATIONS;
    // Hex: printable and free of ',' (RFC 5802 allows more, but some clients are picky about the rest).
    this.nonce = attrs[2]! + randomBytes(18).toString('hex');
    this.serverFirst = `r=${this.nonce},s=${salt.toString('base64')},i=${iterations}`;
    return this.serverFirst;
  }

  final(message: string): string {
    const m = /^c=([^,]*),r=([^,]*)(?:,.*)?,p=([^,]+)$/.exec(message);
    if (m === null) throw new Error('malformed client-final-message');
    if (Buffer.from(m[1]!, 'base64').toString('utf8') !== this.gs2Header) throw new Error('channel binding does not match');
    // librdkafka 2.0 (Debian's kcat) sends its client nonce again in front of the combined one. The
    // combined nonce must still be there whole (its server part is this exchange's fresh random), and
    // the proof covers the message exactly as sent, so accepting that prefix weakens nothing.
    if (m[2] !== this.nonce && !m[2]!.endsWith(this.nonce)) throw new Error('nonce does not match');
    const withoutProof = message.slice(0, message.lastIndexOf(',p='));
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const proof = Buffer.from(m[3]!, 'base64');
    const c = this.credential;
    if (c === null || proof.length !== KEY_BYTES) throw new Error('invalid credentials');
    const clientSignature = hmac(c.storedKey, authMessage);
    const clientKey = Buffer.alloc(KEY_BYTES);
    for (let i = 0; i < KEY_BYTES; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    if (!timingSafeEqual(sha256(clientKey), c.storedKey)) throw new Error('invalid credentials');
    return `v=${hmac(c.serverKey, authMessage).toString('base64')}`;
  }
}
