// GatewayServer.start when the port cannot be had: the caller gets the reason, nothing of the failed
// server keeps running, and the server that owns the port is untouched.
import test from 'ava';
import { Engine } from '../../engine/index.js';
import { GatewayServer } from '../../gateway/server/server.js';
import { startGateway } from './helpers.js';

test('a server that cannot listen (port taken) rejects with the reason and leaves the port owner serving', async (t) => {
  const h = await startGateway();
  try {
    const engine = await Engine.open({ memory: true });
    try {
      const e = await t.throwsAsync(GatewayServer.start({ engine, host: '127.0.0.1', port: h.server.port, log: () => undefined }));
      t.is((e as NodeJS.ErrnoException).code, 'EADDRINUSE');
    } finally {
      await engine.close();
    }
    const res = await fetch(`http://127.0.0.1:${h.server.port}/healthz`);
    t.is(res.status, 200);
  } finally {
    await h.stop();
  }
});
