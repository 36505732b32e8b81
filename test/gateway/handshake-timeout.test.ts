// A connection that never sends HELLO is closed after handshakeTimeoutMs (1008, stated in
// PROTOCOL.md) and counted; one that said HELLO in time is left alone.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI_PATH, startServe, stopServe } from '../helpers/gateway-process.js';
import { FrameType } from '../../gateway/protocol/frame.js';
import { encodePing } from '../../gateway/protocol/ping.js';
import { Engine } from '../../engine/index.js';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS, GatewayServer } from '../../gateway/server/server.js';
import { RawPeer, startGateway } from './helpers.js';

const HANDSHAKE_TIMEOUT_MS = 150;
/** Upper bound on waiting for the close: the timeout plus a generous margin for a loaded machine. */
const CLOSE_WAIT_MS = 10_000;

test('no HELLO within handshakeTimeoutMs: closed with 1008 and a reason, counted, logged', async (t) => {
  const h = await startGateway({}, { handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS });
  try {
    // Said HELLO first: must survive the silent peer's deadline, which falls after its own would have.
    const polite = await RawPeer.open(h.server.url, true);
    const silent = await RawPeer.open(h.server.url, false);
    const started = Date.now();
    const [code, reason] = (await once(silent.ws, 'close', { signal: AbortSignal.timeout(CLOSE_WAIT_MS) })) as [number, Buffer];
    t.is(code, 1008);
    t.is(reason.toString(), `no HELLO within ${HANDSHAKE_TIMEOUT_MS} ms`);
    t.true(Date.now() - started >= HANDSHAKE_TIMEOUT_MS - 50, 'not (much) before the deadline: the server starts counting a moment before our open event');

    polite.send(encodePing(7));
    await polite.waitFor((f) => f.type === FrameType.PONG && f.id === 7, 'PONG');
    t.is(polite.closed, null, 'the peer that said HELLO is still connected');
    t.is(h.server.sessions().length, 1);

    const metrics = await (await fetch(`http://127.0.0.1:${h.server.port}/metrics`)).text();
    t.regex(metrics, /^seglog_handshake_timeouts_total 1$/m);
    t.true(h.logs.some((l) => /no HELLO within 150 ms: closed/.test(l)));
    polite.close();
  } finally {
    await h.stop();
  }
});

test('handshakeTimeoutMs has a named default and is validated', async (t) => {
  t.is(DEFAULT_HANDSHAKE_TIMEOUT_MS, 10_000);
  const engine = await Engine.open({ memory: true });
  try {
    for (const bad of [0, -1, 1.5, 2 ** 31]) {
      await t.throwsAsync(GatewayServer.start({ engine, host: '127.0.0.1', port: 0, handshakeTimeoutMs: bad }), { code: 'INVALID_ARGUMENT' } as never, String(bad));
    }
  } finally {
    await engine.close();
  }
});

test('seglog serve --handshake-timeout sets it; a bad value is a usage error', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-hs-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const served = await startServe(dir, ['--handshake-timeout', String(HANDSHAKE_TIMEOUT_MS)]);
  try {
    const silent = await RawPeer.open(served.url, false);
    const [code, reason] = (await once(silent.ws, 'close', { signal: AbortSignal.timeout(CLOSE_WAIT_MS) })) as [number, Buffer];
    t.is(code, 1008);
    t.is(reason.toString(), `no HELLO within ${HANDSHAKE_TIMEOUT_MS} ms`);
  } finally {
    await stopServe(served, 'SIGTERM');
  }
  for (const bad of ['0', '-5', 'soon']) {
    const r = spawnSync(process.execPath, [CLI_PATH, 'serve', '--memory', '--port', '0', '--handshake-timeout', bad], { encoding: 'utf8', timeout: 30_000 });
    t.is(r.status, 2, r.stderr);
    t.regex(r.stderr, /^seglog: --handshake-timeout must be/);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});
