#!/usr/bin/env -S node --initial-old-space-size=64
// The `seglog` command: run a gateway, administer topics, produce from stdin, consume to stdout.
// Errors print one line on stderr and exit non-zero.
import fs from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { attachNegativeValues, parseArgsMessage, parseHostPort } from './cli-args.js';
import { SeglogClient, type ClientOptions, type ClientRecord, type RecordInput } from '../client/client.js';
import { authCommand } from './auth-command.js';
import { errorLine } from './error-line.js';
import { compileFormat, isFormatString } from './format-string.js';
import { COMMANDS, DEFAULT_URL, USAGE, commandHelp, didYouMean, version } from './help.js';


class UsageError extends Error {}

/** What --help prints: the whole usage, or the running command's part of it (main sets it). */
let helpText = USAGE;

/** How often a long produce says how far it got (stderr); SEGLOG_PROGRESS_INTERVAL_MS overrides it (tests). */
const PROGRESS_INTERVAL_MS = 5000;

function fail(message: string, code = 1): never {
  process.stderr.write(`seglog: ${message}\n`);
  process.exit(code);
}

type OptionValue = string | boolean | string[] | undefined;

function parse<T extends NonNullable<ParseArgsConfig['options']>>(rawArgs: string[], options: T, positionals: number) {
  const stringOptions = new Set(Object.entries(options).filter(([, o]) => o.type === 'string').map(([name]) => name));
  const shortStringOptions = new Set(Object.values(options).filter((o) => o.type === 'string' && o.short !== undefined).map((o) => o.short!));
  const args = attachNegativeValues(rawArgs, stringOptions, shortStringOptions);
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    const message = parseArgsMessage((e as Error).message);
    const unknown = /^unknown option --?([\w-]+)$/.exec(message);
    const suggestion = unknown === null ? '' : didYouMean(unknown[1]!, Object.keys(options)).replace(/mean (\S+)\?/, 'mean --$1?');
    throw new UsageError(`${message}${suggestion}`);
  }
  if ((parsed.values as Record<string, unknown>)['help'] === true) {
    process.stdout.write(helpText);
    process.exit(0);
  }
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(positionals === 0 ? `unexpected argument ${JSON.stringify(parsed.positionals[0])}` : `expected ${positionals} argument(s), got ${parsed.positionals.length}`);
  }
  return parsed as { values: Record<string, OptionValue>; positionals: string[] };
}

function integer(value: OptionValue, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) throw new UsageError(`--${name} must be an integer, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${value}`);
  return n;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `7d`, `12h`, `30m`, `45s`, `500ms`, a plain number of ms, or `-1`/`forever` for no limit. */
export function parseDurationMs(text: string): number {
  if (text === '-1' || text === 'forever' || text === 'infinite') return -1;
  const m = /^(\d+)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`invalid duration ${JSON.stringify(text)} (examples: 7d, 12h, 30m, 500ms, forever)`);
  const ms = Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']!;
  if (!Number.isSafeInteger(ms)) throw new UsageError(`duration ${JSON.stringify(text)} is too long`);
  return ms;
}

/** `earliest`, `latest`, an offset, or an ISO-8601 time (`flag` names the option in errors). */
export function parseFrom(text: string, flag = '--from'): 'earliest' | 'latest' | { offset: number } | { timestamp: number } {
  if (text === 'earliest' || text === 'latest') return text;
  if (/^-\d+$/.test(text)) throw new UsageError(`${flag} offset must be ≥ 0, got ${text}`);
  if (/^\d+$/.test(text)) {
    const offset = Number(text);
    if (!Number.isSafeInteger(offset)) throw new UsageError(`${flag} offset ${text} is larger than ${Number.MAX_SAFE_INTEGER}`);
    return { offset };
  }
  const t = Date.parse(text);
  const ymd = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  // Date.parse rolls impossible dates over (2026-02-30 → March 2): refuse them instead.
  const day = ymd === null ? null : new Date(Date.UTC(Number(ymd[1]), Number(ymd[2]) - 1, Number(ymd[3])));
  if (Number.isNaN(t) || ymd === null || day!.getUTCFullYear() !== Number(ymd[1]) || day!.getUTCMonth() !== Number(ymd[2]) - 1 || day!.getUTCDate() !== Number(ymd[3])) {
    throw new UsageError(`${flag} must be earliest, latest, an offset or an ISO-8601 time, got ${JSON.stringify(text)}`);
  }
  return { timestamp: t };
}

function url(values: Record<string, unknown>): string {
  return (values['url'] as string | undefined) ?? process.env['SEGLOG_URL'] ?? DEFAULT_URL;
}

/** What every client command takes: where the server is and how to prove who we are. */
const urlOption = { url: { type: 'string', short: 'u' }, token: { type: 'string' }, ca: { type: 'string' }, 'client-cert': { type: 'string' }, 'client-key': { type: 'string' } } as const;

function readPem(file: string, flag: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag} ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** The client's token and TLS files from the flags, else from SEGLOG_TOKEN, SEGLOG_CA, SEGLOG_CLIENT_CERT, SEGLOG_CLIENT_KEY. */
function clientSecurity(values: Record<string, unknown>): Pick<ClientOptions, 'token' | 'tls'> {
  const pick = (flag: string, env: string): string | undefined => (values[flag] as string | undefined) ?? (process.env[env] || undefined);
  const token = pick('token', 'SEGLOG_TOKEN');
  const ca = pick('ca', 'SEGLOG_CA');
  const cert = pick('client-cert', 'SEGLOG_CLIENT_CERT');
  const key = pick('client-key', 'SEGLOG_CLIENT_KEY');
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--client-cert and --client-key go together (a client certificate and its key)');
  const tls: NonNullable<ClientOptions['tls']> = {};
  if (ca !== undefined) tls.ca = readPem(ca, '--ca');
  if (cert !== undefined) tls.cert = readPem(cert, '--client-cert');
  if (key !== undefined) tls.key = readPem(key, '--client-key');
  return { ...(token !== undefined ? { token } : {}), ...(Object.keys(tls).length > 0 ? { tls } : {}) };
}

async function withClient<T>(values: Record<string, unknown>, fn: (c: SeglogClient) => Promise<T>, reconnect = false): Promise<T> {
  const client = await SeglogClient.connect(url(values), {
    clientId: 'seglog-cli',
    reconnect: reconnect ? { maxAttempts: 10 } : false,
    ...clientSecurity(values),
    // Said at once: a follow consumer would otherwise sit silent until it gave up.
    onConnectionEvent: (e) => {
      if (e.type === 'disconnected') process.stderr.write(`seglog: connection to ${url(values)} lost; reconnecting…\n`);
      else if (e.type === 'reconnected') process.stderr.write('seglog: reconnected\n');
    },
  });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

// --- serve -----------------------------------------------------------------------------------

async function serve(args: string[]): Promise<void> {
  const { values } = parse(args, {
    dir: { type: 'string', short: 'd' },
    host: { type: 'string' },
    port: { type: 'string', short: 'p' },
    memory: { type: 'boolean' },
    'auto-create': { type: 'boolean' },
    'allow-origin': { type: 'string', multiple: true },
    'allow-host': { type: 'string', multiple: true },
    'handshake-timeout': { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-ca': { type: 'string' },
    'tls-require-client-cert': { type: 'boolean' },
    auth: { type: 'string' },
    metrics: { type: 'string' },
    insecure: { type: 'boolean' },
    'max-connections': { type: 'string' },
    'max-connections-per-address': { type: 'string' },
    kafka: { type: 'string' },
  }, 0);
  const port = integer(values['port'], 'port') ?? 7070;
  const handshakeTimeoutMs = integer(values['handshake-timeout'], 'handshake-timeout', 1);
  if (handshakeTimeoutMs !== undefined && handshakeTimeoutMs > 2 ** 31 - 1) {
    throw new UsageError('--handshake-timeout must be 1..2147483647 (milliseconds)');
  }
  if (port > 65535) throw new UsageError('--port must be at most 65535');
  const memory = values['memory'] === true;
  if (memory && values['dir'] !== undefined) throw new UsageError('--memory and --dir exclude each other');
  const allowOrigins = list(values['allow-origin']);
  const allowHosts = list(values['allow-host']);
  const { parseAllowedHosts, parseAllowedOrigins } = await import('../server/origin-policy.js');
  // Checked before the engine opens: a typo is a usage error, not a half-started server.
  for (const [flag, check, entries] of [['--allow-origin', parseAllowedOrigins, allowOrigins], ['--allow-host', parseAllowedHosts, allowHosts]] as const) {
    try {
      check(entries);
    } catch (e) {
      throw new UsageError(`${flag}: ${(e as Error).message}`);
    }
  }
  const maxConnections = integer(values['max-connections'], 'max-connections', 1);
  const maxConnectionsPerAddress = integer(values['max-connections-per-address'], 'max-connections-per-address', 1);
  const metricsAccess = values['metrics'] as string | undefined;
  if (metricsAccess !== undefined && !['open', 'token', 'loopback'].includes(metricsAccess)) throw new UsageError('--metrics must be open, token or loopback');
  if (metricsAccess === 'token' && values['auth'] === undefined) throw new UsageError('--metrics token needs --auth FILE (the tokens)');
  const tlsCert = values['tls-cert'] as string | undefined;
  const tlsKey = values['tls-key'] as string | undefined;
  const tlsCa = values['tls-ca'] as string | undefined;
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  if (tlsCert === undefined && (tlsCa !== undefined || values['tls-require-client-cert'] === true)) throw new UsageError('--tls-ca and --tls-require-client-cert need --tls-cert and --tls-key');
  if (values['tls-require-client-cert'] === true && tlsCa === undefined) throw new UsageError('--tls-require-client-cert needs --tls-ca (the CA that signs client certificates)');
  const tls =
    tlsCert === undefined
      ? undefined
      : {
          cert: readPem(tlsCert, '--tls-cert'),
          key: readPem(tlsKey!, '--tls-key'),
          ...(tlsCa !== undefined ? { ca: readPem(tlsCa, '--tls-ca') } : {}),
          requireClientCert: values['tls-require-client-cert'] === true,
        };
  const authFile = values['auth'] as string | undefined;
  const host = (values['host'] as string | undefined) ?? '127.0.0.1';
  const { GatewayServer, exposureProblem } = await import('../server/server.js');
  // Before the engine opens: refusing must leave no data directory behind.
  const exposure = exposureProblem(host, { authFile, tls });
  if (exposure !== null && values['insecure'] !== true) throw new UsageError(exposure);
  let kafka: { host: string; port: number } | undefined;
  if (values['kafka'] !== undefined) {
    try {
      kafka = parseHostPort(values['kafka'] as string, host, '--kafka');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const kafkaExposure = exposureProblem(kafka.host, { authFile, tls });
    if (kafkaExposure !== null && values['insecure'] !== true) throw new UsageError(`--kafka: ${kafkaExposure}`);
  }
  if (authFile !== undefined) {
    const { readAuthFile } = await import('../server/auth/auth-file.js');
    try {
      readAuthFile(authFile); // a missing or bad file is one line here, before anything starts
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const { Engine } = await import('../../engine/index.js');
  const dir = path.resolve((values['dir'] as string | undefined) ?? './data');
  // A start that fails (port taken) must not leave behind a data directory it made.
  const dirExisted = memory || fs.existsSync(dir);
  const engine = await Engine.open(memory ? { memory: true, autoCreateTopics: values['auto-create'] === true } : { dir, autoCreateTopics: values['auto-create'] === true });
  let server;
  try {
    server = await GatewayServer.start({
      engine,
      host,
      port,
      allowOrigins,
      allowHosts,
      tls,
      authFile,
      insecure: values['insecure'] === true,
      ...(kafka !== undefined ? { kafka: { ...kafka, autoCreateTopics: values['auto-create'] === true } } : {}),
      ...(metricsAccess !== undefined ? { metricsAccess: metricsAccess as 'open' | 'token' | 'loopback' } : {}),
      ...(maxConnections !== undefined ? { maxConnections } : {}),
      ...(maxConnectionsPerAddress !== undefined ? { maxConnectionsPerAddress } : {}),
      ...(handshakeTimeoutMs !== undefined ? { handshakeTimeoutMs } : {}),
    });
  } catch (e) {
    await engine.close();
    if (!dirExisted) fs.rmSync(dir, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`${host}:${port} is already in use (another seglog serve?): stop it or pick another --port`);
    if (code === 'EADDRNOTAVAIL') fail(`${host} is not an address of this machine: pick another --host`);
    if (code === 'EACCES') fail(`not allowed to listen on ${host}:${port} (ports below 1024 need privileges): pick another --port`);
    throw e;
  }
  // Signal handlers before the banner: whoever waits for it (a supervisor, a test) may signal at
  // once, and a SIGTERM that came before its handler would kill the process without a clean close.
  if (authFile !== undefined) {
    process.on('SIGHUP', () => {
      try {
        const n = server.reloadAuth();
        process.stderr.write(`seglog: SIGHUP: auth file ${authFile} reloaded, ${n} principal(s)\n`);
      } catch (e) {
        process.stderr.write(`seglog: SIGHUP: auth file not reloaded, the previous principals stay in force: ${(e as Error).message}\n`);
      }
    });
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      process.stderr.write(`seglog: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopping = true;
    process.stderr.write(`seglog: ${signal}: finishing in-flight requests, flushing, closing\n`);
    void (async () => {
      try {
        await server.close(10_000);
        await engine.close();
        process.exit(0);
      } catch (e) {
        fail(`shutdown failed: ${(e as Error).message}`);
      }
    })();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.stdout.write(
    `seglog listening on ${server.url} (${memory ? 'in memory' : `data in ${(values['dir'] as string | undefined) ?? './data'}`}; ${server.httpUrl}/metrics; auth ${server.authMode === 'token' ? `on (${authFile})` : 'off'}${tls !== undefined ? `; TLS${tls.requireClientCert ? ', client certificates required' : ''}` : ''}${server.kafka !== null ? `; Kafka protocol on ${server.kafka.host.includes(':') ? `[${server.kafka.host}]` : server.kafka.host}:${server.kafka.port}` : ''})\n`,
  );
  // The start banner: what runs, where its data is, where to look, and who may connect.
  const http = server.httpUrl;
  process.stdout.write(
    [
      `  version    seglog ${version()} (node ${process.versions.node})`,
      `  data       ${memory ? 'in memory (gone when the process ends)' : dir}`,
      `  websocket  ${server.url}`,
      `  console    ${http}/`,
      `  http api   ${http}/api (${http}/api/openapi.json)`,
      `  health     ${http}/healthz`,
      `  metrics    ${http}/metrics`,
      `  topics     ${engine.listTopics().length}`,
      `  auth       ${server.authMode === 'token' ? `tokens from ${authFile}` : 'off (anyone who reaches the port may read, write and delete)'}`,
      '',
    ].join('\n'),
  );
  if (exposure !== null) process.stderr.write(`seglog: WARNING (--insecure): ${exposure.replace(/: give .*$/, '')}\n`);
}

/** A repeatable, comma-separated option: `--allow-origin a,b --allow-origin c` → [a, b, c]. */
function list(value: OptionValue): string[] {
  const parts = value === undefined || typeof value === 'boolean' ? [] : Array.isArray(value) ? value : [value];
  return parts.flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p !== '');
}

// --- topics ----------------------------------------------------------------------------------

async function topics(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create': {
      const { values, positionals } = parse(rest, { ...urlOption, partitions: { type: 'string' }, retention: { type: 'string' }, compression: { type: 'string' } }, 1);
      const config: Record<string, unknown> = {};
      const partitions = integer(values['partitions'], 'partitions', 1);
      if (partitions !== undefined) config['partitions'] = partitions;
      if (values['retention'] !== undefined) config['retentionMs'] = parseDurationMs(values['retention'] as string);
      if (values['compression'] !== undefined) {
        if (values['compression'] !== 'lz4' && values['compression'] !== 'none') throw new UsageError('--compression must be lz4 or none');
        config['compression'] = values['compression'];
      }
      const d = await withClient(values, (c) => c.createTopic(positionals[0]!, config));
      process.stdout.write(`created topic ${d.name} with ${d.partitions.length} partition(s)\n`);
      return;
    }
    case 'list': {
      const { values } = parse(rest, { ...urlOption, format: { type: 'string', short: 'f' } }, 0);
      const format = (values['format'] as string | undefined) ?? 'table';
      if (format !== 'table' && format !== 'json') throw new UsageError('--format must be table or json');
      if (format === 'table') {
        for (const name of await withClient(values, (c) => c.listTopics())) process.stdout.write(`${name}\n`);
        return;
      }
      // Described one by one; a topic deleted meanwhile is left out.
      const described = await withClient(values, async (c) => {
        const out = [];
        for (const name of await c.listTopics()) {
          try {
            const d = await c.describeTopic(name);
            out.push({ name: d.name, partitions: d.partitions.length, records: d.partitions.reduce((n, p) => n + p.endOffset - p.startOffset, 0), bytes: d.partitions.reduce((n, p) => n + p.sizeBytes, 0), config: d.config });
          } catch (e) {
            if ((e as { code?: string }).code !== 'TOPIC_NOT_FOUND') throw e;
          }
        }
        return out;
      });
      process.stdout.write(`${JSON.stringify(described)}\n`);
      return;
    }
    case 'add-partitions': {
      const { values, positionals } = parse(rest, { ...urlOption, partitions: { type: 'string' } }, 1);
      const total = integer(values['partitions'], 'partitions', 1);
      if (total === undefined) throw new UsageError('topics add-partitions needs --partitions TOTAL (the new partition count)');
      const d = await withClient(values, (c) => c.addPartitions(positionals[0]!, total));
      process.stdout.write(`topic ${d.name} now has ${d.partitions.length} partition(s)\n`);
      return;
    }
    case 'describe': {
      const { values, positionals } = parse(rest, urlOption, 1);
      const d = await withClient(values, (c) => c.describeTopic(positionals[0]!));
      process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
      return;
    }
    case 'delete': {
      const { values, positionals } = parse(rest, urlOption, 1);
      await withClient(values, (c) => c.deleteTopic(positionals[0]!));
      process.stdout.write(`deleted topic ${positionals[0]}\n`);
      return;
    }
    default:
      throw new UsageError(sub === undefined ? 'topics needs a subcommand: create, list, describe, delete, add-partitions' : `unknown topics subcommand ${JSON.stringify(sub)}${didYouMean(sub, COMMANDS['topics']!)}`);
  }
}

// --- produce ---------------------------------------------------------------------------------

type JsonBytes = string | { base64: string } | null;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes as JSON: the text when they are valid UTF-8, else base64 under an explicit marker. */
export function bytesToJson(b: Uint8Array | null): JsonBytes {
  if (b === null) return null;
  try {
    return strictUtf8.decode(b);
  } catch {
    return { base64: Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64') };
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function bytesFromJson(v: unknown, what: string): string | Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && Object.keys(v).length === 1 && typeof (v as { base64?: unknown }).base64 === 'string') {
    const b64 = (v as { base64: string }).base64;
    if (b64.length % 4 !== 0 || !BASE64.test(b64)) throw new Error(`${what}: invalid base64`);
    return new Uint8Array(Buffer.from(b64, 'base64'));
  }
  throw new Error(`${what} must be a string, null or {"base64": "..."}`);
}

const JSON_RECORD_FIELDS = new Set(['key', 'value', 'headers', 'partition', 'timestamp', 'topic', 'offset']);

/** One `--format json` input line: the record and its partition (undefined: the default). */
export function recordFromJsonLine(line: string): { record: RecordInput; partition: number | undefined } {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch (e) {
    throw new Error(`not JSON (${(e as Error).message})`);
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('a record must be a JSON object');
  const obj = o as Record<string, unknown>;
  for (const k of Object.keys(obj)) if (!JSON_RECORD_FIELDS.has(k)) throw new Error(`unknown field ${JSON.stringify(k)}`);
  const record: RecordInput = { key: bytesFromJson(obj['key'], 'key'), value: bytesFromJson(obj['value'], 'value') };
  const headers = obj['headers'];
  if (headers !== undefined && headers !== null) {
    if (typeof headers !== 'object' || Array.isArray(headers)) throw new Error('headers must be an object');
    record.headers = Object.entries(headers as Record<string, unknown>).map(([key, value]) => ({ key, value: bytesFromJson(value, `header ${JSON.stringify(key)}`) }));
  }
  const ts = obj['timestamp'];
  if (ts !== undefined && ts !== null) {
    if (!Number.isSafeInteger(ts) || (ts as number) < 0) throw new Error('timestamp must be a non-negative integer (ms since the epoch)');
    record.timestamp = ts as number;
  }
  const p = obj['partition'];
  if (p !== undefined && p !== null && !(Number.isSafeInteger(p) && (p as number) >= 0)) throw new Error('partition must be a non-negative integer');
  return { record, partition: (p ?? undefined) as number | undefined };
}

async function produce(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    ...urlOption,
    key: { type: 'string', short: 'k' },
    partition: { type: 'string', short: 'p' },
    acks: { type: 'string' },
    format: { type: 'string', short: 'f' },
    compression: { type: 'string', short: 'z' },
  }, 1);
  const topic = positionals[0]!;
  const partition = integer(values['partition'], 'partition');
  const acks = (values['acks'] as string | undefined) ?? 'written';
  if (acks !== 'written' && acks !== 'flushed') throw new UsageError('--acks must be written or flushed');
  const key = values['key'] as string | undefined;
  const format = (values['format'] as string | undefined) ?? 'value';
  if (format !== 'value' && format !== 'json') throw new UsageError('--format must be value or json');
  if (format === 'json' && key !== undefined) throw new UsageError('--key does not apply with --format json (put "key" in each line)');
  const compressionFlag = values['compression'] as string | undefined;
  if (compressionFlag !== undefined && compressionFlag !== 'lz4' && compressionFlag !== 'none') throw new UsageError('--compression must be lz4 or none');
  const started = Date.now();
  await withClient(values, async (client) => {
    // Without --compression, the topic's own setting (as Kafka's compression.type): LZ4 topics get LZ4 batches.
    let compression = compressionFlag as 'lz4' | 'none' | undefined;
    if (compression === undefined) {
      try {
        compression = (await client.describeTopic(topic)).config.compression === 'lz4' ? 'lz4' : 'none';
      } catch {
        compression = 'none'; // not visible or not there yet (auto-create): the send says why, if anything
      }
    }
    const producer = client.producer({ lingerMs: 5, acks, compression });
    let count = 0;
    let linesRead = 0;
    // A long input says how far it got, so a slow pipe does not look like a hang.
    const progressMs = Number(process.env['SEGLOG_PROGRESS_INTERVAL_MS'] ?? PROGRESS_INTERVAL_MS) || PROGRESS_INTERVAL_MS;
    const progress = setInterval(() => process.stderr.write(`seglog: ${linesRead} line(s) read, ${count} record(s) acked…\n`), progressMs);
    progress.unref();
    let pending: Promise<unknown>[] = [];
    let firstError: Error | null = null;
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    let lineNumber = 0;
    for await (const line of lines) {
      lineNumber++;
      linesRead++;
      let sent: Promise<unknown>;
      if (format === 'json') {
        if (line.trim() === '') continue;
        let parsed;
        try {
          parsed = recordFromJsonLine(line);
        } catch (e) {
          firstError = new Error(`stdin line ${lineNumber}: ${(e as Error).message}; records before it were sent`);
          break;
        }
        sent = producer.send(topic, parsed.record, { partition: parsed.partition ?? partition });
      } else {
        sent = producer.send(topic, { key: key ?? null, value: line }, { partition });
      }
      pending.push(sent.then(() => void count++, (e: Error) => void (firstError ??= e)));
      // Bound what is outstanding: wait for acks every so often.
      if (pending.length >= 10_000) {
        await Promise.all(pending);
        pending = [];
      }
      if (firstError !== null) break;
    }
    await producer.flush();
    await Promise.all(pending);
    clearInterval(progress);
    if (firstError !== null) throw firstError;
    const ms = Date.now() - started;
    process.stderr.write(`seglog: produced ${count} record(s) to ${topic} in ${ms} ms (${compression})\n`);
  }, true);
}

// --- consume ---------------------------------------------------------------------------------

const utf8 = new TextDecoder();
const asText = (b: Uint8Array | null): string | null => (b === null ? null : utf8.decode(b));

function formatRecord(r: ClientRecord, format: string): string {
  if (format === 'value') return asText(r.value) ?? '';
  return JSON.stringify({
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: bytesToJson(r.key),
    value: bytesToJson(r.value),
    headers: Object.fromEntries(r.headers.map((h) => [h.key, bytesToJson(h.value)])),
  });
}

async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}

async function consume(args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    ...urlOption,
    from: { type: 'string', short: 'o' },
    since: { type: 'string' },
    partition: { type: 'string', short: 'p' },
    group: { type: 'string', short: 'g' },
    max: { type: 'string', short: 'n' },
    'no-follow': { type: 'boolean', short: 'e' },
    format: { type: 'string', short: 'f' },
    'skip-corrupt': { type: 'boolean' },
  }, 1);
  const topic = positionals[0]!;
  const noFollow = values['no-follow'] === true;
  const fromText = values['from'] as string | undefined;
  if (fromText !== undefined && values['since'] !== undefined) throw new UsageError('--from and --since exclude each other');
  // --from -N: the last N records of each partition (resolved against the end offsets below).
  const lastN = fromText !== undefined && /^-\d+$/.test(fromText) ? -Number(fromText) : undefined;
  const from =
    values['since'] !== undefined
      ? { timestamp: Date.now() - Math.max(0, parseDurationMs(values['since'] as string)) }
      : lastN !== undefined
        ? ('earliest' as const)
        : parseFrom(fromText ?? (noFollow ? 'earliest' : 'latest'));
  const partition = integer(values['partition'], 'partition');
  const max = integer(values['max'], 'max', 1);
  const format = (values['format'] as string | undefined) ?? 'value';
  if (format !== 'value' && format !== 'json' && !isFormatString(format)) throw new UsageError('--format must be value, json or a format string with % fields (e.g. \'%p %o %k %s\\n\')');
  let render: (r: ClientRecord) => string;
  try {
    render = isFormatString(format) ? compileFormat(format) : (r) => `${formatRecord(r, format)}\n`;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const group = values['group'] as string | undefined;
  if (lastN !== undefined && group !== undefined && partition === undefined) throw new UsageError('--from -N with --group: the group decides where each member starts; use --partition, or --from earliest|latest');
  const started = Date.now();
  await withClient(values, async (client) => {
    let offsets: Record<number, number> | undefined;
    if (lastN !== undefined) {
      const d = await client.describeTopic(topic);
      offsets = {};
      for (const p of d.partitions) if (partition === undefined || p.partition === partition) offsets[p.partition] = Math.max(p.startOffset, p.endOffset - lastN);
    }
    const consumer = client.subscribe(topic, {
      from,
      ...(offsets !== undefined ? { offsets } : {}),
      partitions: partition,
      group,
      stopAtEnd: noFollow,
      corrupt: values['skip-corrupt'] === true ? 'skip' : 'stop',
      onCorrupt: (c) => process.stderr.write(`seglog: skipped damaged records ${c.offset}..${c.nextOffset - 1} of partition ${c.partition}\n`),
    });
    let interrupted = false;
    const onSignal = (): void => {
      interrupted = true;
      void consumer.close();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let n = 0;
    for await (const r of consumer) {
      await writeOut(render(r));
      n++;
      if (max !== undefined && n >= max) break;
      if (interrupted) break;
    }
    await consumer.close();
    if (noFollow) process.stderr.write(`seglog: consumed ${n} record(s) from ${topic} in ${Date.now() - started} ms\n`);
  }, true);
}

// --- groups ----------------------------------------------------------------------------------

function tableFormat(values: Record<string, OptionValue>): 'table' | 'json' {
  const format = (values['format'] as string | undefined) ?? 'table';
  if (format !== 'table' && format !== 'json') throw new UsageError('--format must be table or json');
  return format;
}

/** Rows as aligned columns (the first row is the header). */
function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

async function groups(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'list': {
      const { values } = parse(rest, { ...urlOption, format: { type: 'string' } }, 0);
      const format = tableFormat(values);
      const list = await withClient(values, (c) => c.listGroups());
      if (format === 'json') process.stdout.write(`${JSON.stringify(list)}\n`);
      else process.stdout.write(columns([['GROUP', 'STATE', 'MEMBERS', 'PROTOCOL'], ...list.map((g) => [g.group, g.state, String(g.members), g.protocolType])]));
      return;
    }
    case 'describe': {
      const { values, positionals } = parse(rest, { ...urlOption, format: { type: 'string' } }, 1);
      const format = tableFormat(values);
      const d = await withClient(values, (c) => c.describeGroup(positionals[0]!));
      if (format === 'json') {
        process.stdout.write(`${JSON.stringify(d)}\n`);
        return;
      }
      const clientOf = new Map(d.members.map((m) => [m.memberId, m.clientId]));
      process.stdout.write(`group ${d.group}: ${d.state}, ${d.members.length} member(s), epoch ${d.groupEpoch}, ${d.rebalances} rebalance(s), protocol ${d.protocolType}\n\n`);
      const dash = (v: number | null): string => (v === null ? '-' : String(v));
      process.stdout.write(columns([
        ['TOPIC', 'PARTITION', 'COMMITTED', 'END', 'LAG', 'MEMBER', 'CLIENT'],
        ...d.offsets.map((o) => [o.topic, String(o.partition), dash(o.committed), String(o.endOffset), dash(o.lag), o.memberId ?? '-', o.memberId === null ? '-' : (clientOf.get(o.memberId) ?? '-')]),
      ]));
      return;
    }
    case 'reset': {
      const { values, positionals } = parse(rest, { ...urlOption, topic: { type: 'string' }, to: { type: 'string' } }, 1);
      if (typeof values['topic'] !== 'string' || values['topic'] === '') throw new UsageError('groups reset needs --topic T');
      if (typeof values['to'] !== 'string') throw new UsageError('groups reset needs --to earliest|latest|OFFSET|ISO-8601');
      const to = parseFrom(values['to'], '--to');
      const offsets = await withClient(values, (c) => c.resetGroupOffsets(positionals[0]!, values['topic'] as string, to));
      process.stdout.write(columns([['PARTITION', 'OFFSET'], ...offsets.map((o) => [String(o.partition), String(o.offset)])]));
      return;
    }
    case 'delete': {
      const { values, positionals } = parse(rest, urlOption, 1);
      await withClient(values, (c) => c.deleteGroup(positionals[0]!));
      process.stdout.write(`deleted group ${positionals[0]}\n`);
      return;
    }
    default:
      throw new UsageError(sub === undefined ? 'groups needs a subcommand: list, describe, reset, delete' : `unknown groups subcommand ${JSON.stringify(sub)}${didYouMean(sub, COMMANDS['groups']!)}`);
  }
}

// --- main ------------------------------------------------------------------------------------

export async function main(argv: string[]): Promise<void> {
  // Every command's output may go into a pipe that closes early (seglog topics list | head -1):
  // that ends the command quietly, not with a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    fail(`writing to stdout: ${e.message}`);
  });
  const [command, ...rest] = argv;
  if (command === '--version' || command === '-V' || command === 'version') {
    process.stdout.write(`seglog ${version()}\n`);
    return;
  }
  if (command === 'help' && rest[0] !== undefined && rest[0] in COMMANDS) {
    process.stdout.write(commandHelp(rest[0]));
    return;
  }
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    if (command === undefined) process.exitCode = 1;
    return;
  }
  if (command in COMMANDS) {
    helpText = commandHelp(command);
    if (rest[0] === '--help' || rest[0] === '-h') {
      process.stdout.write(helpText);
      return;
    }
  }
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'topics':
      return topics(rest);
    case 'produce':
      return produce(rest);
    case 'consume':
      return consume(rest);
    case 'auth':
      try {
        return authCommand(rest, process.stdout, process.stderr);
      } catch (e) {
        if ((e as { code?: string }).code === 'INVALID_ARGUMENT') throw new UsageError((e as Error).message);
        throw e;
      }
    case 'groups':
      return groups(rest);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}${didYouMean(command, Object.keys(COMMANDS))} (serve, topics, produce, consume, groups, auth; --help for usage)`);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (process.env['SEGLOG_DEBUG']) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
  if (e instanceof UsageError) fail(/--help/.test(e.message) ? e.message : `${e.message} (seglog --help for usage)`, 2);
  const nextOffset = (e as { code?: unknown; nextOffset?: unknown })?.nextOffset;
  const hint =
    (e as { code?: unknown })?.code === 'CORRUPT_RECORD' && typeof nextOffset === 'number'
      ? ` (intact records resume at offset ${nextOffset}; --skip-corrupt goes on past it)`
      : '';
  fail(errorLine(e) + hint);
});
