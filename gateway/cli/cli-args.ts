// Command-line helpers around node:util parseArgs, so that every mistake prints one clear line.
// Kept apart from cli.ts (which runs on import) so they can be unit-tested.

/**
 * parseArgs refuses `--partition -1` as "ambiguous" (it might be a forgotten value followed by an
 * option) and explains so in three lines. A value that looks like a negative number is meant as
 * a value: pass it as `--partition=-1`, so the option's own check can say what is wrong with it.
 */
export function attachNegativeValues(args: readonly string[], stringOptions: ReadonlySet<string>, shortStringOptions: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    if (arg.startsWith('--') && stringOptions.has(arg.slice(2)) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else if (/^-\w$/.test(arg) && shortStringOptions.has(arg.slice(1)) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}${next}`); // -o -10 → -o-10: a short option takes the rest of its word as the value
      i++;
    } else out.push(arg);
  }
  return out;
}

/** parseArgs' message as one line (some of its messages span three). */
export function parseArgsMessage(message: string): string {
  const ambiguous = /^Option '(-[-\w]+)(?: <value>)?' argument is ambiguous/.exec(message);
  if (ambiguous !== null) {
    const name = ambiguous[1]!;
    return `${name} needs a value; to give one starting with '-', write ${name}=-VALUE`;
  }
  const missing = /^Option '(-[-\w]+)(?: <value>)?' argument missing/.exec(message);
  if (missing !== null) return `${missing[1]} needs a value`;
  const unknown = /^Unknown option '([^']*)'/.exec(message);
  if (unknown !== null) return `unknown option ${unknown[1]}`;
  return message.split('\n')[0]!.trim();
}

/**
 * `[HOST:]PORT` (an IPv6 host in brackets: `[::1]:9092`) → host and port; the host defaults to
 * `defaultHost`. Throws an Error whose message is the usage line's reason.
 */
export function parseHostPort(value: string, defaultHost: string, flag: string): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?(\d+)$/.exec(value);
  if (m === null) throw new Error(`${flag} must be [HOST:]PORT (e.g. 9092 or 127.0.0.1:9092), got ${JSON.stringify(value)}`);
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`${flag}: port must be at most 65535, got ${port}`);
  return { host: m[1] !== undefined ? m[1].replace(/^\[|\]$/g, '') : defaultHost, port };
}
