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


/**
 * How a Node client masks its frames (RFC 6455 §5.3). `random`: a fresh random key per frame, as
 * browsers do. `auto` (the default): a zero key over TLS (`wss:`) or to a loopback host, random
 * otherwise. Masking exists so that a hostile page cannot steer the bytes a browser sends past
 * intermediaries that read plaintext (RFC 6455 §10.3); over TLS no intermediary reads the frames
 * and on loopback there is none, while a zero key lets both ends skip the XOR and `ws` skip a copy
 * of every frame (bench/README.md, "Frame masking"). Browsers always mask at random, whatever this says.
 */
export type FrameMasking = 'auto' | 'random';

/** Whether frames to `url` may go with a zero masking key under `auto` (see FrameMasking). */
export function zeroMaskAllowed(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'wss:') return true;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** `ws`'s generateMask hook: a zero key, which makes `ws` skip masking (and the peer unmasking). */
function zeroMask(mask: Uint8Array): void {
  mask[0] = 0;
  mask[1] = 0;
  mask[2] = 0;
  mask[3] = 0;
}

/**
 * The `ws` client options that give frames to `url` the masking `masking` asks for: the zero-key
 * hook, or none (`ws`'s random keys). Exported so that other `ws` users in this repository (the
 * bench's raw-protocol client) mask exactly as the client library does.
 */
export function wsMaskOptions(url: string, masking: FrameMasking = 'auto'): { generateMask?: (mask: Uint8Array) => void } {
  return masking === 'auto' && zeroMaskAllowed(url) ? { generateMask: zeroMask } : {};
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
export async function openWebSocket(
  url: string,
  timeoutMs: number,
  explicit?: WebSocketConstructor,
  tls?: ClientTlsOptions,
  masking: FrameMasking = 'auto',
): Promise<WebSocketLike> {
  const { impl, isNodeWs } = await resolveImpl(explicit);
  const mask = wsMaskOptions(url, masking);
  const ws = isNodeWs
    ? new impl(url, { perMessageDeflate: false, maxPayload: CLIENT_MAX_PAYLOAD_BYTES, ...mask, ...(tls ?? {}) })
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
