// TLS: wss:// with a CA made in the test works when the client trusts the CA and fails when it
// does not; plain ws:// to the TLS port fails; https serves /healthz; client certificates name
// principals, and with requireClientCert a connection without one (or with a stranger's) fails.
import test from 'ava';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import WebSocket from 'ws';
import { SeglogClient } from '../../gateway/client/client.js';
import { startGateway } from '../gateway/helpers.js';
import { authFixture } from './helpers.js';
import { makePki, type TestPki } from './certs.js';
import { runCli } from '../helpers/cli-run.js';

let pki: TestPki;
test.before(async () => {
  pki = await makePki();
});

function httpsGet(url: string, ca?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

test('wss works with the CA, fails without it; plain ws to the TLS port fails; https /healthz', async (t) => {
  const h = await startGateway({}, { tls: { cert: pki.server.cert, key: pki.server.key } });
  try {
    t.regex(h.server.url, /^wss:\/\/127\.0\.0\.1:\d+$/);
    await h.engine.createTopic('t', { partitions: 1 });
    const c = await SeglogClient.connect(h.server.url, { tls: { ca: pki.ca.cert }, reconnect: false });
    t.is((await c.send('t', { value: 'over tls' })).offset, 0);
    t.is(new TextDecoder().decode((await c.fetch('t', 0, 0)).records[0]!.value!), 'over tls');
    await c.close();
    const untrusted = await t.throwsAsync(SeglogClient.connect(h.server.url, { reconnect: false }));
    t.is((untrusted as { code?: string }).code, 'CONNECT_FAILED');
    t.regex(untrusted!.message, /certificate/i);
    const plainUrl = h.server.url.replace(/^wss/, 'ws');
    await t.throwsAsync(SeglogClient.connect(plainUrl, { reconnect: false, connectTimeoutMs: 3000 }), { code: 'CONNECT_FAILED' } as never);
    t.is(await httpsGet(`${h.server.httpUrl}/healthz`, pki.ca.cert), 200);
    await t.throwsAsync(httpsGet(`${h.server.httpUrl}/healthz`));
    // Nothing of this disturbed the server.
    const again = await SeglogClient.connect(h.server.url, { tls: { ca: pki.ca.cert }, reconnect: false });
    t.deepEqual(await again.listTopics(), ['t']);
    await again.close();
  } finally {
    await h.stop();
  }
});

test('client certificates: required, verified against the CA, and their CN names the principal and its rights', async (t) => {
  const auth = authFixture({ billing: { rights: ['consume:orders'] }, ops: { rights: ['admin:topic:*', 'produce:topic:*'] } });
  const h = await startGateway({}, {
    tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, requireClientCert: true },
    authFile: auth.file,
    authFailureLimits: { delayMs: 1 },
  });
  try {
    const billing = await pki.client('billing');
    const ops = await pki.client('ops');
    const nobody = await pki.client('nobody');
    const o = await SeglogClient.connect(h.server.url, { tls: { ca: pki.ca.cert, ...ops }, reconnect: false });
    t.is(o.server?.principal, undefined, 'no AUTH flag without a token: the principal field is not sent');
    await o.createTopic('orders', { partitions: 1 });
    await o.send('orders', { value: 'v' });
    const b = await SeglogClient.connect(h.server.url, { tls: { ca: pki.ca.cert, ...billing }, reconnect: false });
    t.deepEqual(await b.listTopics(), ['orders']);
    await t.throwsAsync(b.send('orders', { value: 'x' }), { code: 'NOT_AUTHORIZED' } as never);
    // A token, when sent, decides; the certificate still had to pass TLS.
    const asReader = await SeglogClient.connect(h.server.url, { tls: { ca: pki.ca.cert, ...ops }, token: auth.tokens['billing']!, reconnect: false });
    t.is(asReader.server?.principal, 'billing');
    await Promise.all([o.close(), b.close(), asReader.close()]);
    // A verified certificate whose CN is no principal; no certificate; a stranger CA's certificate.
    await t.throwsAsync(SeglogClient.connect(h.server.url, { tls: { ca: pki.ca.cert, ...nobody }, reconnect: false }), { code: 'AUTHENTICATION_FAILED', message: /"nobody" names no principal/ } as never);
    await t.throwsAsync(SeglogClient.connect(h.server.url, { tls: { ca: pki.ca.cert }, reconnect: false }), { code: 'CONNECT_FAILED' } as never);
    await t.throwsAsync(SeglogClient.connect(h.server.url, { tls: { ca: pki.ca.cert, ...pki.stranger }, reconnect: false }), { code: 'CONNECT_FAILED' } as never);
  } finally {
    await h.stop();
    auth.remove();
  }
});

test('CLI: serve --tls-cert/--tls-key/--auth; a client command with --ca and SEGLOG_TOKEN; without --ca it fails in one line', async (t) => {
  const dir = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'seglog-tls-cli-'));
  const auth = authFixture({ ops: { rights: ['admin:topic:*', 'produce:topic:*', 'consume:topic:*'] } });
  for (const [name, text] of [['ca.pem', pki.ca.cert], ['cert.pem', pki.server.cert], ['key.pem', pki.server.key]] as const) fs.writeFileSync(path.join(dir, name), text);
  const { startServe, stopServe } = await import('../helpers/gateway-process.js');
  const serve = await startServe(path.join(dir, 'data'), ['--tls-cert', path.join(dir, 'cert.pem'), '--tls-key', path.join(dir, 'key.pem'), '--auth', auth.file]);
  try {
    t.regex(serve.url, /^wss:\/\//);
    t.regex(serve.output(), /auth on .*; TLS/);
    const env = { SEGLOG_URL: serve.url, SEGLOG_TOKEN: auth.tokens['ops']! };
    const created = await runCli(['topics', 'create', 'orders', '--partitions', '2', '--ca', path.join(dir, 'ca.pem')], { env });
    t.is(created.code, 0, created.stderr);
    const listed = await runCli(['topics', 'list'], { env: { ...env, SEGLOG_CA: path.join(dir, 'ca.pem') } });
    t.is(listed.stdout, 'orders\n');
    const untrusted = await runCli(['topics', 'list'], { env });
    t.is(untrusted.code, 1);
    t.is(untrusted.stderr.trim().split('\n').length, 1, untrusted.stderr);
    t.regex(untrusted.stderr, /certificate/i);
    const noToken = await runCli(['topics', 'list', '--ca', path.join(dir, 'ca.pem'), '--url', serve.url]);
    t.regex(noToken.stderr, /AUTHENTICATION_FAILED/);
  } finally {
    await stopServe(serve, 'SIGTERM');
    auth.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
