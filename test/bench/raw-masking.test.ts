// The bench's raw-protocol client (bench/gateway.bench.ts rawSocket) masks its frames as the client
// library would to the same URL (gateway/client/socket.ts, frameMasking 'auto'), so the raw and the
// library produce rows differ by the library only. The key is read off the wire by a bare TCP
// server that answers the upgrade and keeps the client's first frame (loopback only).
import test from 'ava';
import { rawSocket } from '../../bench/gateway.bench.js';
import { wsMaskOptions } from '../../gateway/client/socket.js';
import { firstFrameMask } from '../helpers/first-frame-mask.js';

/** The masking key of the first frame rawSocket sends to a bare server on 127.0.0.1. */
function rawFirstFrameMask(t: { teardown(fn: () => void): void }): Promise<Buffer> {
  return firstFrameMask(t, (port) => {
    const ws = rawSocket(`ws://127.0.0.1:${port}`);
    ws.on('error', () => {}); // the bare server drops the connection after the first frame
    ws.once('open', () => ws.send(Buffer.from('not a frame the gateway would take')));
  });
}

test('the raw client masks with a zero key on loopback, as the library does', async (t) => {
  t.deepEqual([...(await rawFirstFrameMask(t))], [0, 0, 0, 0]);
});

test('the masking decision the raw client reuses: zero key on loopback or TLS, ws random keys elsewhere or when asked', (t) => {
  const key = new Uint8Array([1, 2, 3, 4]);
  wsMaskOptions('ws://127.0.0.1:7070').generateMask!(key);
  t.deepEqual([...key], [0, 0, 0, 0]);
  t.is(typeof wsMaskOptions('wss://seglog.example.com/').generateMask, 'function');
  t.deepEqual(wsMaskOptions('ws://seglog.example.com:7070'), {});
  t.deepEqual(wsMaskOptions('ws://127.0.0.1:7070', 'random'), {});
});
