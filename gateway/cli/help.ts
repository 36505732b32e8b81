// The command line's help: the whole usage (seglog --help), each command's part of it
// (seglog topics --help), --version, and did-you-mean suggestions for mistyped commands and flags.
import fs from 'node:fs';

export const DEFAULT_URL = 'ws://127.0.0.1:7070';

export const USAGE = `seglog — a Kafka-style message log

Usage:
  seglog serve [-d|--dir ./data] [--host 127.0.0.1] [-p|--port 7070] [--memory] [--auto-create]
               [--allow-origin ORIGIN,...] [--allow-host HOST,...] [--handshake-timeout MS]
               [--tls-cert FILE --tls-key FILE [--tls-ca FILE] [--tls-require-client-cert]]
               [--auth FILE] [--metrics open|token|loopback] [--insecure]
               [--max-connections N] [--max-connections-per-address N] [--kafka [HOST:]PORT]
  seglog auth add NAME --rights RIGHT,... --file FILE [--produce-rate BYTES] [--consume-rate BYTES]
  seglog auth rotate NAME --file FILE | remove NAME --file FILE | list --file FILE
  seglog topics create NAME [--partitions N] [--retention 7d] [--compression lz4|none]
  seglog topics list [-f|--format table|json]
  seglog topics describe NAME
  seglog topics delete NAME
  seglog topics add-partitions NAME --partitions TOTAL
  seglog produce TOPIC [-k|--key K] [-p|--partition P] [--acks written|flushed] [-f|--format value|json]
                       [-z|--compression lz4|none]
  seglog consume TOPIC [-o|--from earliest|latest|OFFSET|-N|ISO-8601] [--since 1h] [-p|--partition P]
                       [-g|--group G] [-n|--max N] [-e|--no-follow] [-f|--format value|json|FMT]
                       [--skip-corrupt]
  seglog --version | seglog COMMAND --help
  seglog groups list [--format table|json]
  seglog groups describe GROUP [--format table|json]
  seglog groups reset GROUP --topic T --to earliest|latest|OFFSET|ISO-8601
  seglog groups delete GROUP

Client commands take -u|--url (default $SEGLOG_URL, else ${DEFAULT_URL}), --token (default
$SEGLOG_TOKEN; prefer the variable: arguments show in ps), and for wss:// URLs --ca FILE
($SEGLOG_CA) and a client certificate --client-cert FILE --client-key FILE
($SEGLOG_CLIENT_CERT, $SEGLOG_CLIENT_KEY).
serve: --auth FILE requires every connection to authenticate (a token from seglog auth add, or
a client certificate whose subject CN names a principal); SIGHUP re-reads the file and closes
connections whose token was revoked. Listening on a non-loopback --host needs --auth and TLS
(--tls-cert/--tls-key), else it refuses to start unless --insecure is given.
serve --kafka [HOST:]PORT also speaks the Kafka wire protocol there (HOST defaults to --host), for
Kafka clients (kcat, kafkajs, ...); with --auth it asks SASL PLAIN or SCRAM-SHA-256 (user = principal,
password = token), with --tls-cert/--tls-key it speaks TLS (the same certificate).
auth: RIGHT is ACTION:TOPIC or ACTION:topic|group:PATTERN (ACTION produce, consume or admin;
PATTERN a name, or a prefix ending in *), or metrics; e.g. consume:orders.*,consume:group:billing.
add and rotate print the new token once on stdout; the file keeps only its SHA-256.
serve: browser pages may connect only from this server's own host:port unless --allow-origin
lists theirs (https://app.example.com, or * for any); requests must name this server in Host
(a loopback name or address, the bound host) unless --allow-host lists the name (or name:port).
produce: each line of stdin is one record; exits 0 once stdin ends and every record is acked;
progress every few seconds and a summary at the end go to stderr. --compression defaults to the
topic's setting (lz4 or none).
consume: one record per line; --from defaults to latest (earliest with --no-follow); --from -N
starts N records before the end of each partition; --since 1h starts at records of the last hour; with
--group (and no --partition), joins the consumer group: the group's members share the topic's
partitions, each starts from the group's committed offsets (else --from) and commits what it
printed. With --partition, --group only names where offsets are committed. Damaged stored
records (CORRUPT_RECORD) stop it with their offsets; --skip-corrupt goes on past them (said on stderr).

--format value (default): a line is the record's value as text.
consume --format FMT (as kcat -f): %t topic, %p partition, %o offset, %k key, %s value,
  %T timestamp (ms), %h headers (k=v,...), %K/%S key/value length, %% a percent; \\n \\t escapes.
  No newline is added: end FMT with \\n.
--format json: a line is a JSON object. consume prints
  {"topic","partition","offset","timestamp","key","value","headers":{name: value}}
  where key, value and header values are a string when the bytes are valid UTF-8, null when
  absent, else {"base64":"..."} (lossless for binary data). produce reads lines of
  {"key"?, "value"?, "headers"?: {name: value}, "partition"?, "timestamp"?} with the same
  encodings, so consume's output can be produced again; --partition is the default for lines
  without "partition" (--key does not apply).
`;


/** The commands and their subcommands (for help and suggestions). */
export const COMMANDS: Record<string, readonly string[]> = {
  serve: [],
  topics: ['create', 'list', 'describe', 'delete', 'add-partitions'],
  produce: [],
  consume: [],
  groups: ['list', 'describe', 'reset', 'delete'],
  auth: ['add', 'rotate', 'remove', 'list'],
};

/**
 * One command's help: its usage lines (with their continuation lines) and the notes that start
 * with its name, then the common client options. The whole USAGE stays the one source.
 */
export function commandHelp(command: string): string {
  const lines = USAGE.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith(`  seglog ${command} `) && lines[i] !== `  seglog ${command}`) continue;
    out.push(lines[i]!);
    while (i + 1 < lines.length && /^ {10,}\S/.test(lines[i + 1]!)) out.push(lines[++i]!);
  }
  // The notes after the usage lines, as paragraphs: each starts with a command's name or a topic.
  const paragraphs: string[][] = [];
  for (const line of USAGE.slice(USAGE.indexOf('\n\n', USAGE.indexOf('Usage:')) + 2).split('\n')) {
    if (paragraphs.length === 0 || /^(Client commands|--format |(serve|auth|produce|consume|topics|groups)[: ])/.test(line)) paragraphs.push([]);
    paragraphs[paragraphs.length - 1]!.push(line);
  }
  const notes = paragraphs
    .map((p) => p.join('\n'))
    .filter((p) => p.startsWith(`${command}:`) || p.startsWith(`${command} `) || (command !== 'serve' && command !== 'auth' && p.startsWith('Client commands')) || ((command === 'produce' || command === 'consume') && p.startsWith('--format')));
    return `Usage:\n${out.join('\n')}\n\n${notes.join('\n')}\n`;
}

/** Edit distance (insertions, deletions, substitutions), for suggestions. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** ` (did you mean X?)` for the nearest candidate within a third of its length, else ''. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) && word.length >= 3 ? 0.5 : editDistance(word, c);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= Math.max(1, Math.floor(best.length / 3)) ? ` (did you mean ${best}?)` : '';
}

/** The package's version (package.json two levels above dist/gateway/cli/). */
export function version(): string {
  try {
    const file = new URL('../../../package.json', import.meta.url);
    return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
