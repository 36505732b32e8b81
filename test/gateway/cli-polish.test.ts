// The command line's finish (issue 13): per-command help, --version, short flags, did-you-mean,
// EPIPE, topics add-partitions and list --format json, produce following the topic's compression
// with a summary, consume format strings, --from -N, --since, the --no-follow summary, the
// reconnecting notice, the serve banner and a busy port. The CLI is spawned as a user runs it,
// against a gateway in this process (so the test can look at what was stored).
import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchCodec, CODEC_LZ4 } from '../../engine/record-batch.js';
import { compileFormat } from '../../gateway/cli/format-string.js';
import { didYouMean } from '../../gateway/cli/help.js';
import { runCli as run } from '../helpers/cli-run.js';
import { CLI_PATH } from '../helpers/gateway-process.js';
import { startGateway, until } from './helpers.js';

const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(CLI_PATH), '../../../package.json'), 'utf8')) as { version: string };

test('--version, per-command help, did-you-mean for commands, subcommands and flags', async (t) => {
  let r = await run(['--version']);
  t.is(r.stdout, `seglog ${pkg.version}\n`);
  t.is((await run(['-V'])).stdout, r.stdout);
  r = await run(['topics', '--help']);
  t.is(r.code, 0);
  t.regex(r.stdout, /seglog topics add-partitions NAME --partitions TOTAL/);
  t.notRegex(r.stdout, /seglog consume/, 'only the command asked about');
  r = await run(['consume', '--help']);
  t.regex(r.stdout, /-o\|--from/);
  t.regex(r.stdout, /as kcat -f/);
  t.notRegex(r.stdout, /seglog serve/);
  t.is((await run(['help', 'groups'])).stdout, (await run(['groups', '--help'])).stdout);
  r = await run(['consme', 't']);
  t.is(r.code, 2);
  t.regex(r.stderr, /^seglog: unknown command "consme" \(did you mean consume\?\)/);
  r = await run(['topics', 'lst']);
  t.regex(r.stderr, /unknown topics subcommand "lst" \(did you mean list\?\)/);
  r = await run(['consume', 't', '--maxx', '3']);
  t.regex(r.stderr, /^seglog: unknown option --maxx \(did you mean --max\?\)/);
  t.is(didYouMean('zzzzzz', ['serve', 'topics']), '', 'nothing near: no suggestion');
});

test('a closed stdout (| head) ends any command quietly with exit 0', async (t) => {
  const h = await startGateway();
  try {
    for (let i = 0; i < 5; i++) await h.engine.createTopic(`t${i}`);
    for (const args of [['--help'], ['topics', 'list', '-u', h.server.url], ['topics', 'describe', 't0', '-u', h.server.url]]) {
      const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // the reader is gone before the first write
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
      t.is(code, 0, `${args.join(' ')}: ${stderr}`);
      t.is(stderr, '', args.join(' '));
    }
  } finally {
    await h.stop();
  }
});

test('topics add-partitions and list --format json; produce follows the topic\'s compression and sums up; consume format strings, --from -N, --since, the --no-follow summary', async (t) => {
  const h = await startGateway();
  try {
    const u = ['-u', h.server.url];
    let r = await run(['topics', 'create', 'zipped', '--compression', 'lz4', ...u]);
    t.is(r.code, 0, r.stderr);
    r = await run(['topics', 'add-partitions', 'zipped', '--partitions', '2', ...u]);
    t.is(r.stdout, 'topic zipped now has 2 partition(s)\n');
    t.is(h.engine.describeTopic('zipped').partitions.length, 2);
    r = await run(['produce', 'zipped', '-p', '0', '-k', 'key-1', ...u], { input: Array.from({ length: 30 }, (_, i) => `value ${i}`).join('\n') + '\n' });
    t.is(r.code, 0, r.stderr);
    t.regex(r.stderr, /produced 30 record\(s\) to zipped in \d+ ms \(lz4\)/);
    const stored = h.engine.readBatches('zipped', 0, 0).batches;
    t.true(stored.length > 0 && stored.every((b) => batchCodec(b) === CODEC_LZ4), 'LZ4 batches, as the topic asks');
    r = await run(['produce', 'zipped', '-p', '1', '-z', 'none', ...u], { input: 'plain\n' });
    t.regex(r.stderr, /\(none\)/);
    // The producer sent it plain; the LZ4 topic still stores LZ4 (the server compresses, as Kafka's compression.type).
    t.true(h.engine.readBatches('zipped', 1, 0).batches.every((b) => batchCodec(b) === CODEC_LZ4), 'an LZ4 topic stores LZ4 whatever was sent');
    r = await run(['topics', 'list', '-f', 'json', ...u]);
    const listed = JSON.parse(r.stdout) as Array<{ name: string; partitions: number; records: number }>;
    t.deepEqual(listed.map((x) => [x.name, x.partitions, x.records]), [['zipped', 2, 31]]);

    r = await run(['consume', 'zipped', '-e', '-o', '-3', '-p', '0', '-f', '%t/%p@%o %k=%s %S\\n', ...u]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, 'zipped/0@27 key-1=value 27 8\nzipped/0@28 key-1=value 28 8\nzipped/0@29 key-1=value 29 8\n');
    t.regex(r.stderr, /^seglog: consumed 3 record\(s\) from zipped in \d+ ms\n$/);
    r = await run(['consume', 'zipped', '--no-follow', '--from', '-1', '-f', '%p:%s\\n', ...u]);
    t.deepEqual(r.stdout.trim().split('\n').sort(), ['0:value 29', '1:plain'], 'the last one of each partition');
    r = await run(['consume', 'zipped', '-e', '--since', '1h', '-n', '2', '-p', '0', ...u]);
    t.is(r.stdout, 'value 0\nvalue 1\n');
    const future = await run(['consume', 'zipped', '-e', '--since', '0s', '-p', '0', ...u]);
    t.is(future.stdout, '', '--since 0s: nothing older than now');
    r = await run(['consume', 'zipped', '-f', '%x', ...u]);
    t.is(r.code, 2);
    t.regex(r.stderr, /unknown %x/);
    t.is(compileFormat('%%%o\\t%K')({ topic: 't', partition: 0, offset: 5, timestamp: 0, key: null, value: null, headers: [] }), '%5\t-1');
  } finally {
    await h.stop();
  }
});

test('produce says how far it got while its input goes on (progress every PROGRESS_INTERVAL_MS, shortened here)', async (t) => {
  const h = await startGateway();
  await h.engine.createTopic('slow');
  const child = spawn(process.execPath, [CLI_PATH, 'produce', 'slow', '-u', h.server.url], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SEGLOG_PROGRESS_INTERVAL_MS: '50' } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  try {
    child.stdin.write('one\ntwo\n');
    await until(() => /seglog: 2 line\(s\) read, 2 record\(s\) acked…/.test(stderr), `progress (stderr: ${stderr})`);
    child.stdin.end('three\n');
    t.is(await closed, 0);
    t.regex(stderr, /produced 3 record\(s\) to slow/);
  } finally {
    child.kill('SIGKILL');
    await h.stop();
  }
});

test('a following consumer says at once that it lost the server and is reconnecting', async (t) => {
  const h = await startGateway();
  await h.engine.createTopic('live');
  const child = spawn(process.execPath, [CLI_PATH, 'consume', 'live', '-u', h.server.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    await until(() => h.server.metrics.subscriptions.get().then((m) => (m.values[0]?.value ?? 0) >= 1), 'the consumer subscribed');
    await h.server.close(1000);
    await until(() => /connection to ws:\/\/127\.0\.0\.1:\d+ lost; reconnecting…/.test(stderr), `the notice (stderr: ${stderr})`);
    t.pass();
  } finally {
    child.kill('SIGKILL');
    await closed;
    await h.stop();
  }
});

test('serve prints version, data dir, URLs, topic count and auth mode; a busy port is one line and leaves no data directory', async (t) => {
  const h = await startGateway();
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-busy-')), 'data');
  try {
    const r = await run(['serve', '--dir', dir, '--port', String(h.server.port)]);
    t.is(r.code, 1);
    t.is(r.stderr, `seglog: 127.0.0.1:${h.server.port} is already in use (another seglog serve?): stop it or pick another --port\n`);
    t.false(fs.existsSync(dir), 'no empty data directory left behind');
  } finally {
    await h.stop();
  }
  const child = spawn(process.execPath, [CLI_PATH, 'serve', '-d', dir, '-p', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const closed = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  try {
    await until(() => /auth {7}off/.test(out), `the banner (so far: ${out})`);
    const port = /websocket {2}ws:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1];
    t.regex(out, new RegExp(`version {4}seglog ${pkg.version.replace(/\./g, '\\.')}`));
    t.true(out.includes(`data       ${dir}`));
    t.true(out.includes(`console    http://127.0.0.1:${port}/`));
    t.true(out.includes(`health     http://127.0.0.1:${port}/healthz`));
    t.true(out.includes(`metrics    http://127.0.0.1:${port}/metrics`));
    t.true(out.includes(`http api   http://127.0.0.1:${port}/api`));
    t.regex(out, /topics {5}0/);
  } finally {
    child.kill('SIGTERM');
    t.is(await closed, 0);
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  }
});
