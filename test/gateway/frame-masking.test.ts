// How the Node client masks its frames (gateway/client/socket.ts, FrameMasking): a zero key to a
// loopback host or over TLS under `auto`, a random key with `random`. The masking key is read off
// the wire by a bare TCP server that answers the upgrade and keeps the client's first frame.
import test from 'ava';
import { SeglogClient, type FrameMasking } from '../../gateway/client/client.js';
import { zeroMaskAllowed } from '../../gateway/client/socket.js';
import { firstFrameMask as captureFirstFrameMask } from '../helpers/first-frame-mask.js';
import { startGateway } from './helpers.js';

/** The masking key of the Node client's first frame to `host` under `masking`. */
function firstFrameMask(t: { teardown(fn: () => void): void }, host: string, masking: FrameMasking | undefined): Promise<Buffer> {
  return captureFirstFrameMask(t, (port) => {
    // The bare server never answers HELLO: the connection attempt ends in an error, which is expected.
    SeglogClient.connect(`ws://${host}:${port}`, { reconnect: false, connectTimeoutMs: 5000, requestTimeoutMs: 5000, ...(masking ? { frameMasking: masking } : {}) }).then(
      (c) => c.close(),
      () => {},
    );
  });
}

test('to a loopback host the Node client masks with a zero key by default (auto)', async (t) => {
  t.deepEqual([...(await firstFrameMask(t, '127.0.0.1', undefined))], [0, 0, 0, 0]);
  t.deepEqual([...(await firstFrameMask(t, 'localhost', 'auto'))], [0, 0, 0, 0]);
});

test('frameMasking random masks with a random key even on loopback', async (t) => {
  // A random key is zero once in 2^32 frames.
  const keys = [await firstFrameMask(t, '127.0.0.1', 'random'), await firstFrameMask(t, '127.0.0.1', 'random')];
  t.true(keys.every((k) => k.readUInt32BE(0) !== 0));
  t.notDeepEqual(keys[0], keys[1]);
});

test('a zero key is allowed only over TLS or to a loopback host', (t) => {
  for (const url of ['wss://seglog.example.com:7070', 'wss://10.0.0.5/', 'ws://127.0.0.1:7070', 'ws://127.1.2.3/', 'ws://localhost:1', 'ws://[::1]:7070']) {
    t.true(zeroMaskAllowed(url), url);
  }
  for (const url of ['ws://10.0.0.5:7070', 'ws://seglog.example.com', 'ws://127.0.0.1.example.com/', 'ws://[::2]:1', 'not a url']) {
    t.false(zeroMaskAllowed(url), url);
  }
});

test('the gateway takes frames masked either way: produce and read back with random and zero keys', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  const randomKeys = await h.connect({ frameMasking: 'random' });
  const zeroKeys = await h.connect();
  await zeroKeys.createTopic('m', { partitions: 1 });
  const big = Buffer.alloc(200_000, 7); // several TCP segments and a 64-bit length: the XOR runs over all of it
  await randomKeys.send('m', { value: big }, { partition: 0 });
  await zeroKeys.send('m', { value: 'zero' }, { partition: 0 });
  const got = await randomKeys.fetch('m', 0, 0);
  t.deepEqual(
    got.records.map((r) => Buffer.from(r.value!).length),
    [200_000, 4],
  );
  t.true(Buffer.from(got.records[0]!.value!).equals(big));
  t.is(Buffer.from(got.records[1]!.value!).toString(), 'zero');
});
