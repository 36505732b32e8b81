// The bench's raw-protocol client (bench/gateway.bench.ts rawSocket) masks its frames as the client
// library would to the same URL (gateway/client/socket.ts, frameMasking 'auto'), so the raw and the
// library produce rows differ by the library only. The key is read off the wire by a bare TCP
// server that answers the upgrade and keeps the client's first frame (loopback only).
import { createHash } from 'node:crypto';
import net from 'node:net';
import test from 'ava';
import { rawSocket } from '../../bench/gateway.bench.js';
import { wsMaskOptions } from '../../gateway/client/socket.js';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The masking key of the first frame rawSocket sends to a bare server on 127.0.0.1. */
async function rawFirstFrameMask(t: { teardown(fn: () => void): void }): Promise<Buffer> {
  let got: (mask: Buffer) => void = () => {};
  const mask = new Promise<Buffer>((resolve) => (got = resolve));
  const server = net.createServer((socket) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const key = /sec-websocket-key: *(\S+)/i.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? '';
        const accept = createHash('sha1').update(key + WS_GUID).digest('base64');
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        upgraded = true;
        buf = buf.subarray(end + 4);
      }
      // Frame header: 2 bytes, the extended length (2 or 8 bytes), then the 4-byte key when masked.
      if (buf.length < 2) return;
      const len7 = buf[1]! & 0x7f;
      const keyAt = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
      if (buf.length < keyAt + 4) return;
      if ((buf[1]! & 0x80) === 0) throw new Error('client frame without the mask bit');
      got(Buffer.from(buf.subarray(keyAt, keyAt + 4)));
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const ws = rawSocket(`ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
  ws.on('error', () => {}); // the bare server drops the connection after the first frame
  ws.once('open', () => ws.send(Buffer.from('not a frame the gateway would take')));
  return mask;
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
