// `seglog auth add|rotate|remove|list`: edits the auth file a server reads with --auth. A new
// token is printed once, on stdout; the file keeps only its hash. Running servers take the change
// on SIGHUP.
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { InvalidArgumentError } from '../../engine/format/errors.js';
import { TOKENS_PER_PRINCIPAL_MAX, checkPrincipalName, checkQuota, emptyAuthFile, readAuthFile, writeAuthFile, type AuthFile } from '../server/auth/auth-file.js';
import { formatRight, parseRight } from '../server/auth/rights.js';
import { generateToken, hashToken } from '../server/auth/tokens.js';
import { scramCredential } from '../server/auth/scram.js';

interface Out {
  write(text: string): unknown;
}

const RELOAD_HINT = 'a running server takes the change on SIGHUP (kill -HUP PID)';

function options(args: string[], withRights: boolean) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        file: { type: 'string' },
        rights: { type: 'string', multiple: true },
        'produce-rate': { type: 'string' },
        'consume-rate': { type: 'string' },
        keep: { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  const v = parsed.values;
  if (v.file === undefined) throw new InvalidArgumentError('--file FILE is required (the auth file the server reads with --auth)');
  if (!withRights && (v.rights !== undefined || v['produce-rate'] !== undefined || v['consume-rate'] !== undefined)) {
    throw new InvalidArgumentError('--rights, --produce-rate and --consume-rate belong to auth add');
  }
  return { values: v, positionals: parsed.positionals, file: v.file };
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new InvalidArgumentError(`auth ${what} takes one NAME, got ${positionals.length}`);
  return checkPrincipalName(positionals[0]);
}

function rate(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${flag} must be a whole number of bytes per second, got ${JSON.stringify(v)}`);
  return Number(v);
}

function load(file: string, mayCreate: boolean): AuthFile {
  if (mayCreate && !fs.existsSync(file)) return emptyAuthFile();
  return readAuthFile(file);
}

export function authCommand(args: string[], stdout: Out, stderr: Out): void {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add': {
      const { values, positionals, file } = options(rest, true);
      const name = one(positionals, 'add');
      const rights = (values.rights ?? []).flatMap((r) => r.split(',')).map((r) => r.trim()).filter((r) => r !== '').map(parseRight);
      if (rights.length === 0) throw new InvalidArgumentError('--rights is required, e.g. --rights produce:orders,consume:orders.*,consume:group:billing');
      const quota = checkQuota(
        { produceBytesPerSecond: rate(values['produce-rate'], '--produce-rate'), consumeBytesPerSecond: rate(values['consume-rate'], '--consume-rate') },
        'quota',
      );
      const auth = load(file, true);
      if (auth.principals.has(name)) throw new InvalidArgumentError(`principal ${JSON.stringify(name)} exists in ${file} (auth rotate for a new token, auth remove first to redefine it)`);
      const token = generateToken();
      // The SCRAM-SHA-256 credential of the same token: Kafka clients log in with SASL/SCRAM (user = NAME, password = token).
      auth.principals.set(name, { tokens: [hashToken(token)], rights, quota, scramSha256: scramCredential(token) });
      writeAuthFile(file, auth);
      stdout.write(`${token}\n`);
      stderr.write(`seglog: principal ${JSON.stringify(name)} added to ${file} with ${rights.map(formatRight).join(', ')}; the token above is shown once (the file keeps its SHA-256 only); ${RELOAD_HINT}\n`);
      return;
    }
    case 'rotate': {
      const { values, positionals, file } = options(rest, false);
      const name = one(positionals, 'rotate');
      const auth = load(file, false);
      const entry = auth.principals.get(name);
      if (entry === undefined) throw new InvalidArgumentError(`no principal ${JSON.stringify(name)} in ${file}`);
      const token = generateToken();
      // --keep: the old tokens stay valid (roll clients over, then rotate again without --keep).
      entry.tokens = values.keep === true ? [...entry.tokens, hashToken(token)].slice(-TOKENS_PER_PRINCIPAL_MAX) : [hashToken(token)];
      // One SCRAM credential per principal: the newest token's (with --keep, older tokens still work with PLAIN and over WebSocket).
      entry.scramSha256 = scramCredential(token);
      writeAuthFile(file, auth);
      stdout.write(`${token}\n`);
      stderr.write(`seglog: new token for ${JSON.stringify(name)} in ${file}${values.keep === true ? ' (older tokens kept)' : '; its older tokens are revoked'}; ${RELOAD_HINT}\n`);
      return;
    }
    case 'remove': {
      const { positionals, file } = options(rest, false);
      const name = one(positionals, 'remove');
      const auth = load(file, false);
      if (!auth.principals.delete(name)) throw new InvalidArgumentError(`no principal ${JSON.stringify(name)} in ${file}`);
      writeAuthFile(file, auth);
      stderr.write(`seglog: principal ${JSON.stringify(name)} removed from ${file}; ${RELOAD_HINT} and closes its connections\n`);
      return;
    }
    case 'list': {
      const { positionals, file } = options(rest, false);
      if (positionals.length !== 0) throw new InvalidArgumentError('auth list takes no NAME');
      for (const [name, p] of load(file, false).principals) {
        const quota = [
          p.quota.produceBytesPerSecond !== undefined ? `produce ${p.quota.produceBytesPerSecond} B/s` : '',
          p.quota.consumeBytesPerSecond !== undefined ? `consume ${p.quota.consumeBytesPerSecond} B/s` : '',
        ].filter((q) => q !== '');
        stdout.write(`${name}\t${p.tokens.length} token(s)\t${p.rights.map(formatRight).join(',')}${quota.length > 0 ? `\tquota ${quota.join(', ')}` : ''}\n`);
      }
      return;
    }
    default:
      throw new InvalidArgumentError(sub === undefined ? 'auth needs a subcommand: add, rotate, remove, list' : `unknown auth subcommand ${JSON.stringify(sub)} (add, rotate, remove, list)`);
  }
}
