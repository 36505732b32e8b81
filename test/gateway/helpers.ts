// Shared setup for gateway tests: an engine in memory (or a temp dir), a gateway on a free
// loopback port, clients, and raw protocol sockets for bad-input tests.
import WebSocket from 'ws';
import { Engine } from '../../engine/index.js';
import type { EngineOptions } from '../../engine/types.js';
import { SeglogClient, type ClientOptions } from '../../gateway/client/client.js';
import { FrameReader } from '../../gateway/protocol/codec.js';
import { PROTOCOL_VERSION, readHeader } from '../../gateway/protocol/frame.js';
import { encodeHello } from '../../gateway/protocol/hello.js';
import { GatewayServer, type GatewayOptions } from '../../gateway/server/server.js';
import { until } from '../helpers/until.js';

export interface Harness {
  engine: Engine;
  server: GatewayServer;
  clients: SeglogClient[];
  logs: string[];
  connect(options?: ClientOptions): Promise<SeglogClient>;
  stop(): Promise<void>;
}

export async function startGateway(
  engineOptions: Partial<EngineOptions> = {},
  serverOptions: Partial<Omit<GatewayOptions, 'engine'>> = {},
): Promise<Harness> {
  const engine = await Engine.open({ memory: true, ...engineOptions });
  const logs: string[] = [];
  const server = await GatewayServer.start({ engine, host: '127.0.0.1', port: 0, log: (m) => logs.push(m), ...serverOptions });
  const clients: SeglogClient[] = [];
  return {
    engine,
    server,
    clients,
    logs,
    async connect(options: ClientOptions = {}) {
      const c = await SeglogClient.connect(server.url, { requestTimeoutMs: 10_000, ...options });
      clients.push(c);
      return c;
    },
    async stop() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await server.close(2000);
      await engine.close();
    },
  };
}

export { until };

export const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

/** Takes `n` records from an async iterator (bounded by a timeout). */
export async function take<T>(it: AsyncIterator<T>, n: number, timeoutMs = 10_000): Promise<T[]> {
  const out: T[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    const next = await Promise.race([
      it.next(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`took ${out.length} of ${n} before the timeout`)), Math.max(1, deadline - Date.now()))),
    ]);
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

/** A raw protocol connection: send hand-made frames, collect what comes back. */
export class RawPeer {
  readonly frames: Array<{ type: number; id: number; reader: FrameReader; bytes: Uint8Array }> = [];
  closed: { code: number; reason: string } | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const { header, reader } = readHeader(new Uint8Array(data));
      this.frames.push({ ...header, reader, bytes: data });
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
    ws.on('error', () => {});
  }

  static async open(url: string, hello = true, flags = 0): Promise<RawPeer> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const peer = new RawPeer(ws);
    if (hello) {
      ws.send(encodeHello(0, { minVersion: PROTOCOL_VERSION, maxVersion: PROTOCOL_VERSION, flags, clientId: 'raw' }));
      await peer.waitFor((f) => f.type === 0x81, 'HELLO_OK');
    }
    return peer;
  }

  send(bytes: Uint8Array): void {
    this.ws.send(bytes);
  }

  async waitFor(match: (f: RawPeer['frames'][number]) => boolean, what: string, timeoutMs = 5000): Promise<RawPeer['frames'][number]> {
    let found: RawPeer['frames'][number] | undefined;
    await until(() => (found = this.frames.find(match)) !== undefined, what, timeoutMs);
    return found!;
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    await until(() => this.closed !== null, 'close', timeoutMs);
    return this.closed!;
  }

  close(): void {
    this.ws.terminate();
  }
}
