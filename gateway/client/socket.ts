// Opens a WebSocket in a browser (the global WebSocket) or in Node (the `ws` package, loaded only
// when there is no global WebSocket). Nothing here touches a Node-only API on the browser path.
import { CLIENT_MAX_PAYLOAD_BYTES } from './limits.js';

/** The subset of the WebSocket interface (browser and `ws`) the client uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string, protocolsOrOptions?: unknown, options?: unknown) => WebSocketLike;

export const OPEN = 1;

/** TLS settings for Node's `ws` (browsers use their own trust store and ignore these). PEM text or bytes. */
export interface ClientTlsOptions {
  /** CA certificate(s) to trust for the server's certificate (a self-signed or private CA). */
  ca?: string | Uint8Array;
  /** A client certificate and its key, for servers that require one. */
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
}


let nodeWs: Promise<WebSocketConstructor> | null = null;

async function resolveImpl(explicit?: WebSocketConstructor): Promise<{ impl: WebSocketConstructor; isNodeWs: boolean }> {
  if (explicit !== undefined) return { impl: explicit, isNodeWs: false };
  const global = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (global !== undefined) return { impl: global, isNodeWs: false };
  // The name in a variable keeps bundlers from pulling `ws` into browser builds.
  const name = 'ws';
  nodeWs ??= import(name).then((m: { default?: WebSocketConstructor; WebSocket?: WebSocketConstructor }) => {
    const ctor = m.WebSocket ?? m.default;
    if (ctor === undefined) throw new Error('the ws package does not export WebSocket');
    return ctor;
  });
  return { impl: await nodeWs, isNodeWs: true };
}

/** Opens a socket and resolves once it is open. */
export async function openWebSocket(url: string, timeoutMs: number, explicit?: WebSocketConstructor, tls?: ClientTlsOptions): Promise<WebSocketLike> {
  const { impl, isNodeWs } = await resolveImpl(explicit);
  const ws = isNodeWs
    ? new impl(url, { perMessageDeflate: false, maxPayload: CLIENT_MAX_PAYLOAD_BYTES, ...(tls ?? {}) })
    : new impl(url);
  // `ws` hands us Buffers (Uint8Arrays) without a copy; browsers give ArrayBuffers.
  ws.binaryType = isNodeWs ? 'nodebuffer' : 'arraybuffer';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      fail(new Error(`no connection to ${url} within ${timeoutMs} ms`));
      try {
        ws.close();
      } catch {
        // closing a socket still connecting may throw in some implementations
      }
    }, timeoutMs);
    const fail = (e: Error): void => {
      clearTimeout(timer);
      ws.onopen = ws.onerror = ws.onclose = null;
      reject(e);
    };
    ws.onopen = () => {
      clearTimeout(timer);
      ws.onopen = ws.onerror = ws.onclose = null;
      resolve();
    };
    ws.onerror = (ev) => fail(new Error(`cannot connect to ${url}: ${(ev as { message?: string })?.message ?? 'connection error'}`));
    ws.onclose = (ev) => fail(new Error(`cannot connect to ${url}: closed (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})`));
  });
  return ws;
}

export function messageBytes(data: unknown): Uint8Array | null {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return null;
}
