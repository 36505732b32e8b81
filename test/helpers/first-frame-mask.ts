// A bare WebSocket peer on 127.0.0.1 that answers one upgrade and resolves with the masking key of
// the client's first frame: how tests read a client's masking off the wire (no `ws` server, which
// would unmask before anyone could look).
import { createHash } from 'node:crypto';
import net from 'node:net';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * Listens on a free loopback port, calls `connect(port)` (which makes a client connect and send a
 * frame), and resolves with the 4-byte key of the first frame that arrives. The connection is then
 * dropped: the client's attempt ends in an error, which the caller ignores.
 */
export async function firstFrameMask(t: { teardown(fn: () => void): void }, connect: (port: number) => void): Promise<Buffer> {
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
  connect((server.address() as net.AddressInfo).port);
  return mask;
}
