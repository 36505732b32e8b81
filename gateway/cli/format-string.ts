// consume --format FMT, as kcat's -f: a record becomes FMT with its fields put in. Compiled once
// into a list of parts, so a busy consume does not parse the string per record.
import type { ClientRecord } from '../client/client.js';

const utf8 = new TextDecoder();
const text = (b: Uint8Array | null): string => (b === null ? '' : utf8.decode(b));

const FIELDS: Record<string, (r: ClientRecord) => string> = {
  t: (r) => r.topic,
  p: (r) => String(r.partition),
  o: (r) => String(r.offset),
  k: (r) => text(r.key),
  s: (r) => text(r.value),
  T: (r) => String(r.timestamp),
  h: (r) => r.headers.map((h) => `${h.key}=${text(h.value)}`).join(','),
  K: (r) => (r.key === null ? '-1' : String(r.key.length)),
  S: (r) => (r.value === null ? '-1' : String(r.value.length)),
};
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\' };

/** True when `format` is a format string rather than a named format (it holds a %). */
export const isFormatString = (format: string): boolean => format.includes('%');

/** Compiles FMT; throws an Error naming the unknown %x. */
export function compileFormat(format: string): (r: ClientRecord) => string {
  const parts: Array<string | ((r: ClientRecord) => string)> = [];
  let literal = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    const next = format[i + 1];
    if (c === '%' && next !== undefined) {
      i++;
      if (next === '%') {
        literal += '%';
        continue;
      }
      const field = FIELDS[next];
      if (field === undefined) throw new Error(`--format: unknown %${next} (known: ${Object.keys(FIELDS).map((k) => `%${k}`).join(' ')} %%)`);
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(field);
    } else if (c === '\\' && next !== undefined && ESCAPES[next] !== undefined) {
      literal += ESCAPES[next];
      i++;
    } else literal += c;
  }
  if (literal !== '') parts.push(literal);
  return (r) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(r);
    return out;
  };
}
