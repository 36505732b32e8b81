// The `seglog` command end to end, spawned as a user runs it.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli as run } from '../helpers/cli-run.js';
import { until } from '../helpers/until.js';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../gateway/cli/cli.js');



async function serve(args: string[]): Promise<{ child: ChildProcess; url: string; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let m: RegExpExecArray | null = null;
  await until(() => {
    if (child.exitCode !== null) throw new Error(`serve exited before it listened: ${out}`);
    return (m = /listening on (ws:\/\/\S+)/.exec(out)) !== null;
  }, `serve to listen (output so far: ${out})`);
  return { child, url: m![1]!, output: () => out, exited };
}

test('serve, topics, produce, consume, then SIGTERM: graceful exit 0 and the data survives a restart', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-cli-'));
  try {
    const s = await serve(['--dir', dir, '--host', '127.0.0.1']);
    const env = { SEGLOG_URL: s.url };
    let r = await run(['topics', 'create', 'events', '--partitions', '2', '--retention', '7d', '--compression', 'lz4'], { env });
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /created topic events with 2 partition/);
    r = await run(['topics', 'create', 'scratch'], { env });
    t.is(r.code, 0, r.stderr);
    r = await run(['topics', 'list', '--url', s.url]);
    t.deepEqual(r.stdout.trim().split('\n').sort(), ['events', 'scratch']);
    r = await run(['topics', 'describe', 'events'], { env });
    const d = JSON.parse(r.stdout);
    t.is(d.partitions.length, 2);
    t.is(d.config.retentionMs, 7 * 86_400_000);
    r = await run(['topics', 'delete', 'scratch'], { env });
    t.is(r.code, 0, r.stderr);

    const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ✓`);
    r = await run(['produce', 'events', '--partition', '1', '--acks', 'flushed'], { env, input: `${lines.join('\n')}\n` });
    t.is(r.code, 0, r.stderr);
    t.regex(r.stderr, /produced 500 record\(s\) to events/);
    r = await run(['produce', 'events', '--key', 'user-7'], { env, input: 'keyed-a\nkeyed-b\n' });
    t.is(r.code, 0, r.stderr);

    r = await run(['consume', 'events', '--partition', '1', '--no-follow'], { env });
    t.is(r.code, 0, r.stderr);
    const printed = r.stdout.trim().split('\n');
    t.deepEqual(printed.filter((l) => l.startsWith('line')), lines);

    r = await run(['consume', 'events', '--from', 'earliest', '--max', '3', '--format', 'json', '--partition', '1'], { env });
    t.is(r.code, 0, r.stderr);
    const json = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    t.deepEqual(json.map((x) => x.offset), [0, 1, 2]);
    t.like(json[0], { topic: 'events', partition: 1, value: 'line 0 ✓', key: null });

    r = await run(['consume', 'events', '--from', '498', '--partition', '1', '--no-follow'], { env });
    t.deepEqual(r.stdout.trim().split('\n').filter((l) => l.startsWith('line')), ['line 498 ✓', 'line 499 ✓']);
    r = await run(['consume', 'events', '--from', new Date(Date.now() + 3_600_000).toISOString(), '--no-follow'], { env });
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, '');

    // A group: the second run continues where the first stopped.
    r = await run(['consume', 'events', '--partition', '1', '--group', 'g', '--from', 'earliest', '--max', '10'], { env });
    t.is(r.stdout.trim().split('\n').length, 10);
    r = await run(['consume', 'events', '--partition', '1', '--group', 'g', '--max', '2', '--format', 'json'], { env });
    t.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l).offset), [10, 11]);

    // Errors: one line, non-zero.
    r = await run(['consume', 'missing', '--no-follow'], { env });
    t.not(r.code, 0);
    t.regex(r.stderr, /^seglog: TOPIC_NOT_FOUND: .*missing.*\n$/);
    r = await run(['topics', 'create', '../escape'], { env });
    t.not(r.code, 0);
    t.regex(r.stderr, /^seglog: INVALID_TOPIC_NAME: .*\n$/);
    r = await run(['consume', 'events', '--from', 'yesterday'], { env });
    t.is(r.code, 2);
    t.is(r.stderr.trim().split('\n').length, 1);
    r = await run(['topics', 'list', '--url', 'ws://127.0.0.1:1']);
    t.not(r.code, 0);
    t.regex(r.stderr, /^seglog: CONNECT_FAILED: .*\n$/);
    r = await run(['--help']);
    t.is(r.code, 0);
    t.regex(r.stdout, /seglog serve/);

    // Graceful shutdown.
    s.child.kill('SIGTERM');
    t.is(await s.exited, 0, s.output());
    t.regex(s.output(), /SIGTERM/);

    // Restart on the same directory: everything is still there.
    const again = await serve(['--dir', dir]);
    r = await run(['consume', 'events', '--partition', '1', '--no-follow'], { env: { SEGLOG_URL: again.url } });
    t.is(r.stdout.trim().split('\n').filter((l) => l.startsWith('line')).length, 500);
    again.child.kill('SIGINT');
    t.is(await again.exited, 0, again.output());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('serve --memory --auto-create: produce creates the topic; a following consumer sees records live', async (t) => {
  const s = await serve(['--memory', '--auto-create']);
  try {
    const env = { SEGLOG_URL: s.url };
    // The topic does not exist until the first produce creates it.
    let r = await run(['produce', 'auto'], { env, input: 'a\nb\nc\n' });
    t.is(r.code, 0, r.stderr);
    r = await run(['consume', 'auto', '--from', 'earliest', '--max', '3'], { env });
    t.is(r.code, 0, r.stderr);
    t.deepEqual(r.stdout.trim().split('\n'), ['a', 'b', 'c']);
    const live = spawn(process.execPath, [CLI, 'consume', 'auto', '--max', '2'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let liveOut = '';
    live.stdout.on('data', (d) => (liveOut += d));
    const liveDone = new Promise<number | null>((resolve) => live.on('close', (c) => resolve(c)));
    // Keep producing until the live consumer (from latest) has seen two records.
    for (let i = 0; i < 50 && live.exitCode === null; i++) {
      await run(['produce', 'auto'], { env, input: `live-${i}\n` });
    }
    t.is(await liveDone, 0);
    t.is(liveOut.trim().split('\n').length, 2);
    t.true(liveOut.trim().split('\n').every((l) => l.startsWith('live-')));
  } finally {
    s.child.kill('SIGTERM');
    t.is(await s.exited, 0);
  }
});

test('consume --format json is lossless (UTF-8 text as strings, other bytes as {"base64"}); produce --format json reads it back', async (t) => {
  const s = await serve(['--memory']);
  const { SeglogClient } = await import('../../gateway/client/client.js');
  type RecordInput = import('../../gateway/client/client.js').RecordInput;
  const client = await SeglogClient.connect(s.url);
  try {
    const env = { SEGLOG_URL: s.url };
    await client.createTopic('bin', { partitions: 2 });
    await client.createTopic('copy', { partitions: 2 });
    const binary = new Uint8Array([0xff, 0x00, 0xc3, 0x28, 0x80]);
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x68, 0x69]); // U+FEFF "hi": text, and the BOM must survive
    const sent: RecordInput[] = [
      { key: 'text-key', value: 'plain ✓', headers: { h: 'v', raw: binary } },
      { key: binary, value: binary, headers: { empty: new Uint8Array(0) } },
      { key: null, value: bom },
      { key: null, value: null },
    ];
    await client.send('bin', sent, { partition: 1 });
    let r = await run(['consume', 'bin', '--partition', '1', '--no-follow', '--format', 'json'], { env });
    t.is(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const json = lines.map((l) => JSON.parse(l));
    const b64 = Buffer.from(binary).toString('base64');
    t.like(json[0], { partition: 1, offset: 0, key: 'text-key', value: 'plain ✓', headers: { h: 'v', raw: { base64: b64 } } });
    t.like(json[1], { key: { base64: b64 }, value: { base64: b64 }, headers: { empty: '' } });
    t.is(json[2].value, '\ufeffhi');
    t.like(json[3], { key: null, value: null });

    // The reverse: consume's output, produced again, stores the same bytes (same partitions).
    r = await run(['produce', 'copy', '--format', 'json'], { env, input: `${lines.join('\n')}\n` });
    t.is(r.code, 0, r.stderr);
    const copied = await client.fetch('copy', 1, 0);
    const original = await client.fetch('bin', 1, 0);
    t.is(copied.records.length, 4);
    const bytes = (b: Uint8Array | null) => (b === null ? null : [...b]);
    t.deepEqual(
      copied.records.map((x) => [bytes(x.key), bytes(x.value), x.headers.map((h) => [h.key, bytes(h.value)]), x.timestamp]),
      original.records.map((x) => [bytes(x.key), bytes(x.value), x.headers.map((h) => [h.key, bytes(h.value)]), x.timestamp]),
    );

    // A bad line stops with its line number; records before it were sent.
    r = await run(['produce', 'copy', '--format', 'json', '--partition', '0'], { env, input: '{"value":"ok"}\n{"value":{"base64":"!!"}}\n{"value":"never"}\n' });
    t.is(r.code, 1);
    t.regex(r.stderr, /^seglog: stdin line 2: value: invalid base64.*\n$/);
    t.is((await client.offsets('copy', 0)).endOffset, 1);
    r = await run(['produce', 'copy', '--format', 'json', '--key', 'k'], { env, input: '' });
    t.is(r.code, 2);
    r = await run(['--help']);
    t.regex(r.stdout, /base64/);
  } finally {
    await client.close();
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

// The signal handlers are installed before the banner is printed: a supervisor (or a test) that
// signals the moment it reads "listening" gets a clean shutdown, not a process killed by the
// signal's default action (CI caught that once: exit by SIGTERM, code null, right after the banner).
test('SIGTERM sent the moment the listening line is read: a clean shutdown (exit 0), every time', async (t) => {
  const STARTS = 5;
  for (let i = 0; i < STARTS; i++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-cli-sigterm-'));
    try {
      const child = spawn(process.execPath, [CLI, 'serve', '--dir', path.join(dir, 'data'), '--host', '127.0.0.1', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let signalled = false;
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (!signalled && out.includes('seglog listening on ')) {
          signalled = true;
          child.kill('SIGTERM');
        }
      });
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (c, s) => resolve({ code: c, signal: s })));
      t.true(signalled, `start ${i}: it never said it was listening: ${out}`);
      t.is(signal, null, `start ${i}: killed by ${signal}: ${out}`);
      t.is(code, 0, `start ${i}: ${out}`);
      t.regex(out, /SIGTERM: finishing in-flight requests, flushing, closing/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});
