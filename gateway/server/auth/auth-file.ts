// The auth file (`seglog serve --auth FILE`, `seglog auth ...`): principals with the hashes of
// their tokens, their rights and byte-rate quotas. JSON, one object:
//   { "version": 1, "principals": { "NAME": { "tokens": ["sha256:…"], "rights": ["consume:orders.*"],
//     "quota": { "produceBytesPerSecond": 1048576 } } } }
// Never a token: a reader of the file learns nothing that lets them connect.
import fs from 'node:fs';
import { InvalidArgumentError } from '../../../engine/format/errors.js';
import { replaceFileSync } from '../../../engine/index.js';
import type { ByteQuota, Principal } from './principal.js';
import { Rights, formatRight, parseRight, type ParsedRight } from './rights.js';
import { TOKEN_HASH_PATTERN } from './tokens.js';
import { scramFromJson, scramToJson, type ScramCredential } from './scram.js';

export const AUTH_FILE_VERSION = 1;
/** Bounds on the file: it is read at start and on SIGHUP, and checked in full each time. */
export const AUTH_FILE_MAX_BYTES = 16 * 1024 * 1024;
export const PRINCIPAL_NAME_MAX_CHARS = 255;
/** Tokens one principal may hold at once (rotation keeps the old one for a while). */
export const TOKENS_PER_PRINCIPAL_MAX = 16;
export const RIGHTS_PER_PRINCIPAL_MAX = 1000;
/** Highest byte-rate quota (1 TiB/s: beyond it, leave the quota out). */
export const QUOTA_BYTES_PER_SECOND_MAX = 2 ** 40;

export interface PrincipalEntry {
  tokens: string[];
  rights: ParsedRight[];
  quota: ByteQuota;
  /** SCRAM-SHA-256 credential of the newest token (the Kafka listener's SASL); absent in entries made before it existed. */
  scramSha256?: ScramCredential;
}

export interface AuthFile {
  principals: Map<string, PrincipalEntry>;
}

export interface AuthPrincipal extends Principal {
  /** Hashes of the tokens that authenticate it (tokens.ts). */
  readonly tokenHashes: readonly string[];
  /** For SASL/SCRAM-SHA-256 on the Kafka listener; undefined: this principal cannot use SCRAM. */
  readonly scramSha256?: ScramCredential;
}

export function checkPrincipalName(name: unknown): string {
  // Printable, no control characters: it appears in log lines and metric labels.
  if (typeof name !== 'string' || name.length === 0 || name.length > PRINCIPAL_NAME_MAX_CHARS || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new InvalidArgumentError(`principal name ${JSON.stringify(name)}: 1..${PRINCIPAL_NAME_MAX_CHARS} printable characters`);
  }
  return name;
}

function quotaValue(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isSafeInteger(v) || (v as number) < 1 || (v as number) > QUOTA_BYTES_PER_SECOND_MAX) {
    throw new InvalidArgumentError(`${what} must be an integer 1..${QUOTA_BYTES_PER_SECOND_MAX} (bytes per second)`);
  }
  return v as number;
}

export function checkQuota(q: unknown, where: string): ByteQuota {
  if (q === undefined || q === null) return {};
  if (typeof q !== 'object' || Array.isArray(q)) throw new InvalidArgumentError(`${where}: quota must be an object`);
  const o = q as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'produceBytesPerSecond' && k !== 'consumeBytesPerSecond') throw new InvalidArgumentError(`${where}: unknown quota ${JSON.stringify(k)} (produceBytesPerSecond, consumeBytesPerSecond)`);
  }
  const quota: ByteQuota = {};
  const produce = quotaValue(o['produceBytesPerSecond'], `${where}: quota.produceBytesPerSecond`);
  const consume = quotaValue(o['consumeBytesPerSecond'], `${where}: quota.consumeBytesPerSecond`);
  if (produce !== undefined) quota.produceBytesPerSecond = produce;
  if (consume !== undefined) quota.consumeBytesPerSecond = consume;
  return quota;
}

/** Parses and checks the whole text; any fault is one INVALID_ARGUMENT naming the file and the place. */
export function parseAuthFile(text: string, file: string): AuthFile {
  const fault = (m: string): never => {
    throw new InvalidArgumentError(`auth file ${file}: ${m}`);
  };
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    return fault(`not JSON (${(e as Error).message})`);
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return fault('must be a JSON object');
  const root = o as Record<string, unknown>;
  if (root['version'] !== AUTH_FILE_VERSION) fault(`version must be ${AUTH_FILE_VERSION}, got ${JSON.stringify(root['version'])}`);
  const ps = root['principals'];
  if (ps === null || typeof ps !== 'object' || Array.isArray(ps)) return fault('"principals" must be an object of NAME: { tokens, rights, quota }');
  const principals = new Map<string, PrincipalEntry>();
  const owners = new Map<string, string>();
  for (const [name, v] of Object.entries(ps as Record<string, unknown>)) {
    const where = `principal ${JSON.stringify(name)}`;
    try {
      checkPrincipalName(name);
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError('must be an object');
      const e = v as Record<string, unknown>;
      for (const k of Object.keys(e)) if (!['tokens', 'rights', 'quota', 'scramSha256'].includes(k)) throw new InvalidArgumentError(`unknown field ${JSON.stringify(k)}`);
      const tokens = e['tokens'] ?? [];
      if (!Array.isArray(tokens) || tokens.length > TOKENS_PER_PRINCIPAL_MAX || !tokens.every((h) => typeof h === 'string' && TOKEN_HASH_PATTERN.test(h))) {
        throw new InvalidArgumentError(`tokens must be a list of at most ${TOKENS_PER_PRINCIPAL_MAX} "sha256:<64 hex digits>" hashes (never the tokens themselves)`);
      }
      for (const h of tokens as string[]) {
        const owner = owners.get(h);
        if (owner !== undefined) throw new InvalidArgumentError(`a token hash is listed for ${JSON.stringify(owner)} too`);
        owners.set(h, name);
      }
      const rights = e['rights'] ?? [];
      if (!Array.isArray(rights) || rights.length > RIGHTS_PER_PRINCIPAL_MAX || !rights.every((r) => typeof r === 'string')) {
        throw new InvalidArgumentError(`rights must be a list of at most ${RIGHTS_PER_PRINCIPAL_MAX} strings`);
      }
      const entry: PrincipalEntry = { tokens: tokens as string[], rights: (rights as string[]).map(parseRight), quota: checkQuota(e['quota'], 'quota') };
      if (e['scramSha256'] !== undefined) {
        try {
          entry.scramSha256 = scramFromJson(e['scramSha256']);
        } catch (err) {
          throw new InvalidArgumentError((err as Error).message);
        }
      }
      principals.set(name, entry);
    } catch (err) {
      fault(`${where}: ${(err as Error).message}`);
    }
  }
  return { principals };
}

export function readAuthFile(file: string): AuthFile {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > AUTH_FILE_MAX_BYTES) throw new InvalidArgumentError(`auth file ${file} is ${size} bytes; at most ${AUTH_FILE_MAX_BYTES}`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new InvalidArgumentError(`auth file ${file} does not exist (seglog auth add NAME --rights ... --file ${file} makes it)`);
    if (e instanceof InvalidArgumentError) throw e;
    throw new InvalidArgumentError(`cannot read auth file ${file}: ${(e as Error).message}`);
  }
  return parseAuthFile(text, file);
}

/** An empty file's content, for `seglog auth add` on a new file. */
export function emptyAuthFile(): AuthFile {
  return { principals: new Map() };
}

/** Writes atomically (temporary file, fsync, rename), readable by the owner only. */
export function writeAuthFile(file: string, auth: AuthFile): void {
  const principals: Record<string, unknown> = {};
  for (const [name, p] of auth.principals) {
    principals[name] = {
      tokens: p.tokens,
      rights: p.rights.map(formatRight),
      ...(Object.keys(p.quota).length > 0 ? { quota: p.quota } : {}),
      ...(p.scramSha256 !== undefined ? { scramSha256: scramToJson(p.scramSha256) } : {}),
    };
  }
  const text = `${JSON.stringify({ version: AUTH_FILE_VERSION, principals }, null, 2)}\n`;
  try {
    // Readable by the owner only: it names principals and their rights.
    replaceFileSync(file, text, 0o600);
  } catch (e) {
    // replaceFileSync leaves the old file as it was and no half-written copy behind.
    throw new InvalidArgumentError(`cannot write auth file ${file}: ${(e as Error).message}; it is unchanged`);
  }
}

/** The principals a server authenticates against. */
export function principalsOf(auth: AuthFile): AuthPrincipal[] {
  return [...auth.principals].map(([name, p]) => ({ name, tokenHashes: p.tokens, rights: new Rights(p.rights), quota: p.quota, ...(p.scramSha256 !== undefined ? { scramSha256: p.scramSha256 } : {}) }));
}
