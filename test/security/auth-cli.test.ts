// The command line of security: `seglog auth add|rotate|remove|list` (a token printed once, only
// its hash in the file), `seglog serve --auth` with SIGHUP revoking a live connection, and the
// refusal to listen on a non-loopback address without auth and TLS.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SeglogClient } from '../../gateway/client/client.js';
import { SCRAM_ITERATIONS, scramCredential, scramToJson } from '../../gateway/server/auth/scram.js';
import { runCli } from '../helpers/cli-run.js';
import { startServe, stopServe } from '../helpers/gateway-process.js';
import { until } from '../helpers/until.js';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-auth-cli-'));
}

test('auth add prints a token once and stores only its hash; rotate, list, remove; bad input is one line with exit 2', async (t) => {
  const dir = tmp();
  const file = path.join(dir, 'auth.json');
  try {
    const added = await runCli(['auth', 'add', 'billing', '--rights', 'consume:orders.*,consume:group:billing', '--consume-rate', '1048576', '--file', file]);
    t.is(added.code, 0, added.stderr);
    const token = added.stdout.trim();
    t.regex(token, /^sgl_[A-Za-z0-9_-]{43}$/);
    t.regex(added.stderr, /shown once/);
    const text = fs.readFileSync(file, 'utf8');
    t.false(text.includes(token), 'the file never holds the token');
    t.false(text.includes(token.slice(4)), 'nor its random part');
    t.is(fs.statSync(file).mode & 0o777, 0o600);
    const stored = JSON.parse(text);
    t.deepEqual(stored.principals.billing.rights, ['consume:topic:orders.*', 'consume:group:billing']);
    t.deepEqual(stored.principals.billing.quota, { consumeBytesPerSecond: 1048576 });
    t.regex(stored.principals.billing.tokens[0], /^sha256:[0-9a-f]{64}$/);
    // The SCRAM-SHA-256 credential of the same token (Kafka SASL): derived keys, never the token; it checks against the token.
    const scram = stored.principals.billing.scramSha256;
    t.is(scram.iterations, SCRAM_ITERATIONS);
    t.deepEqual(scramToJson(scramCredential(token, Buffer.from(scram.salt, 'base64'), scram.iterations)), scram);
    const second = await runCli(['auth', 'add', 'ops', '--rights', 'admin:topic:*', '--rights', 'metrics', '--file', file]);
    t.not(second.stdout.trim(), token);
    const listed = await runCli(['auth', 'list', '--file', file]);
    t.regex(listed.stdout, /^billing\t1 token\(s\)\tconsume:topic:orders\.\*,consume:group:billing\tquota consume 1048576 B\/s\nops\t1 token\(s\)\tadmin:topic:\*,metrics\n$/);
    const rotated = await runCli(['auth', 'rotate', 'billing', '--file', file]);
    t.not(rotated.stdout.trim(), token);
    t.regex(rotated.stderr, /older tokens are revoked/);
    const afterRotate = JSON.parse(fs.readFileSync(file, 'utf8')).principals.billing.scramSha256;
    t.deepEqual(scramToJson(scramCredential(rotated.stdout.trim(), Buffer.from(afterRotate.salt, 'base64'), afterRotate.iterations)), afterRotate);
    const kept = await runCli(['auth', 'rotate', 'billing', '--keep', '--file', file]);
    t.is(JSON.parse(fs.readFileSync(file, 'utf8')).principals.billing.tokens.length, 2, kept.stderr);
    t.is((await runCli(['auth', 'remove', 'ops', '--file', file])).code, 0);
    t.deepEqual(Object.keys(JSON.parse(fs.readFileSync(file, 'utf8')).principals), ['billing']);
    for (const [args, message] of [
      [['auth', 'add', 'x', '--file', file], /--rights is required/],
      [['auth', 'add', 'x', '--rights', 'write:orders', '--file', file], /the action must be one of produce, consume, admin/],
      [['auth', 'add', 'x', '--rights', 'produce:group:g', '--file', file], /produce does not apply to a group/],
      [['auth', 'add', 'x', '--rights', 'consume:or*ders', '--file', file], /\* may only end a pattern/],
      [['auth', 'add', 'billing', '--rights', 'consume:a', '--file', file], /exists/],
      [['auth', 'add', 'x', '--rights', 'consume:a'], /--file FILE is required/],
      [['auth', 'add', 'x', '--rights', 'consume:a', '--produce-rate', 'fast', '--file', file], /--produce-rate must be a whole number/],
      [['auth', 'rotate', 'nobody', '--file', file], /no principal "nobody"/],
      [['auth', 'remove', 'x', '--file', path.join(dir, 'missing.json')], /does not exist/],
      [['auth', 'frobnicate'], /unknown auth subcommand/],
    ] as const) {
      const r = await runCli([...args]);
      t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      t.regex(r.stderr, message);
      t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    // A damaged file is named with the fault, not a stack trace.
    fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ version: 1, principals: { p: { tokens: ['plain-token'] } } }));
    const bad = await runCli(['auth', 'list', '--file', path.join(dir, 'bad.json')]);
    t.is(bad.code, 2);
    t.regex(bad.stderr, /principal "p": tokens must be a list of at most 16 "sha256:<64 hex digits>" hashes/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('serve --auth: the token works; SIGHUP after auth remove closes that connection; a bad file on SIGHUP keeps the old principals', async (t) => {
  const dir = tmp();
  const file = path.join(dir, 'auth.json');
  const token = (await runCli(['auth', 'add', 'app', '--rights', 'produce:topic:*,consume:topic:*,admin:topic:*', '--file', file])).stdout.trim();
  const other = (await runCli(['auth', 'add', 'other', '--rights', 'consume:topic:*', '--file', file])).stdout.trim();
  const serve = await startServe(path.join(dir, 'data'), ['--auth', file]);
  try {
    t.regex(serve.output(), /auth on/);
    const env = { SEGLOG_URL: serve.url, SEGLOG_TOKEN: token };
    t.is((await runCli(['topics', 'create', 'orders'], { env })).code, 0);
    const produced = await runCli(['produce', 'orders'], { env, input: 'one\ntwo\n' });
    t.is(produced.code, 0, produced.stderr);
    const denied = await runCli(['topics', 'list'], { env: { SEGLOG_URL: serve.url } });
    t.is(denied.code, 1);
    t.regex(denied.stderr, /AUTHENTICATION_FAILED/);
    const events: string[] = [];
    const live = await SeglogClient.connect(serve.url, { token: other, onConnectionEvent: (e) => events.push(e.type) });
    t.deepEqual(await live.listTopics(), ['orders']);
    t.is((await runCli(['auth', 'remove', 'other', '--file', file])).code, 0);
    serve.child.kill('SIGHUP');
    await until(() => events.includes('reconnect-failed'), 'the revoked connection was closed and could not come back');
    t.regex(serve.output(), /SIGHUP: auth file .* reloaded, 1 principal/);
    fs.writeFileSync(file, '{"version": 2}');
    serve.child.kill('SIGHUP');
    await until(() => /auth file not reloaded/.test(serve.output()), 'the bad file is reported');
    const still = await runCli(['consume', 'orders', '--no-follow'], { env });
    t.is(still.stdout, 'one\ntwo\n', still.stderr);
    await live.close();
  } finally {
    await stopServe(serve, 'SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('serve on a non-loopback address without --auth and TLS refuses to start (exit 2, no data directory made) unless --insecure', async (t) => {
  const dir = tmp();
  try {
    const data = path.join(dir, 'data');
    const r = await runCli(['serve', '--dir', data, '--host', '0.0.0.0', '--port', '0']);
    t.is(r.code, 2);
    t.regex(r.stderr, /without authentication .* --insecure/);
    t.false(fs.existsSync(data));
    const auth = path.join(dir, 'auth.json');
    await runCli(['auth', 'add', 'a', '--rights', 'consume:x', '--file', auth]);
    const noTls = await runCli(['serve', '--dir', data, '--host', '0.0.0.0', '--port', '0', '--auth', auth]);
    t.is(noTls.code, 2);
    t.regex(noTls.stderr, /without TLS/);
    const missing = await runCli(['serve', '--dir', data, '--auth', path.join(dir, 'nope.json')]);
    t.is(missing.code, 2);
    t.regex(missing.stderr, /nope\.json does not exist/);
    t.false(fs.existsSync(data));
    const insecure = await startServe(data, ['--host', '0.0.0.0', '--insecure']);
    t.regex(insecure.url, /^ws:\/\/0\.0\.0\.0:\d+$/);
    await until(() => /WARNING \(--insecure\): listening on 0\.0\.0\.0 \(not loopback\) without authentication/.test(insecure.output()), 'the warning');
    t.is((await stopServe(insecure, 'SIGTERM')).code, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
