// The HTTP API under /api (README "HTTP API"; the OpenAPI description is openapi.ts): topics,
// records and consumer groups as JSON, on the gateway's own port. It follows the WebSocket
// protocol's security: the Authorization: Bearer token names a principal (authentication off: the
// anonymous principal with every right), every action checks the same rights before the engine is
// asked (NOT_AUTHORIZED, 403), and listing shows only what the principal has some right on.
// Errors are { code, message } with the registry's codes (engine/format/errors.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AuthenticationFailedError, InvalidArgumentError, NotAuthorizedError, SeglogError, isSeglogError } from '../../../engine/format/errors.js';
import type { GatewayMetrics } from '../http.js';
import type { GatewayEngine } from '../engine-port.js';
import { ANONYMOUS, type Principal } from '../auth/principal.js';
import type { Action, ResourceKind } from '../auth/rights.js';
import type { SessionSecurity } from '../auth/session-security.js';
import { HTTP_API_MAX_BODY_BYTES, TOKEN_MAX_CHARS } from '../limits.js';
import { groupRoutes } from './groups.js';
import { openApiDocument } from './openapi.js';
import { recordRoutes } from './records.js';
import type { Route } from './route.js';
import { topicRoutes } from './topics.js';

/** HTTP status for each error code a route can end with; the rest are 500. */
const STATUS_OF_CODE: Partial<Record<SeglogError['code'], number>> = {
  INVALID_ARGUMENT: 400,
  INVALID_TOPIC_NAME: 400,
  INVALID_RECORD: 400,
  CORRUPT_RECORD: 400,
  AUTHENTICATION_FAILED: 401,
  NOT_AUTHORIZED: 403,
  TOPIC_NOT_FOUND: 404,
  PARTITION_NOT_FOUND: 404,
  GROUP_NOT_FOUND: 404,
  TOPIC_EXISTS: 409,
  GROUP_NOT_EMPTY: 409,
  BATCH_TOO_LARGE: 413,
  OFFSET_OUT_OF_RANGE: 416,
  TOO_MANY_REQUESTS: 429,
  TOO_MANY_GROUPS: 429,
  CLOSED: 503,
  SHUTTING_DOWN: 503,
  DISK_FULL: 507,
};

export function statusOf(e: unknown): number {
  return isSeglogError(e) ? (STATUS_OF_CODE[e.code] ?? 500) : 500;
}

/** A request error with its own status (a path that names nothing, a body too large). */
class HttpError extends SeglogError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(status === 413 ? 'BATCH_TOO_LARGE' : 'INVALID_ARGUMENT', message);
  }
}

export interface HttpApiOptions {
  engine: GatewayEngine;
  security: SessionSecurity;
  metrics: GatewayMetrics;
  /** Largest body read (default HTTP_API_MAX_BODY_BYTES; tests lower it). */
  maxBodyBytes?: number;
}

const ROUTES: readonly Route[] = [...topicRoutes, ...recordRoutes, ...groupRoutes];

export class HttpApi {
  private readonly maxBodyBytes: number;

  constructor(private readonly options: HttpApiOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? HTTP_API_MAX_BODY_BYTES;
  }

  /** True when the request is the API's (path /api or below): it has been (or will be) answered. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api' && !url.pathname.startsWith('/api/')) return false;
    this.serve(req, res, url).catch((e: unknown) => sendError(res, e));
    return true;
  }

  private async serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (url.pathname === '/api/openapi.json') {
      // The description is public (it says what exists, not what is stored), so tools can read it.
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} ${url.pathname}: only GET`);
      sendJson(res, 200, openApiDocument());
      return;
    }
    const segments = url.pathname.split('/').slice(2).filter((s) => s !== '');
    let params: Record<string, string> | null = null;
    let route: Route | undefined;
    const methods: string[] = [];
    for (const r of ROUTES) {
      const p = match(r.path, segments);
      if (p === null) continue;
      methods.push(r.method);
      if (r.method === req.method) {
        route = r;
        params = p;
        break;
      }
    }
    if (route === undefined) {
      if (methods.length > 0) throw new HttpError(405, `${req.method} ${url.pathname}: allowed ${methods.join(', ')}`);
      throw new HttpError(404, `no API at ${url.pathname} (see /api/openapi.json)`);
    }
    // Authenticate before the body is read: an unauthenticated peer does not get to upload.
    const principal = this.authenticate(req);
    let body: unknown;
    if (req.method === 'POST') body = await this.readJson(req);
    const answer = await route.handle({
      engine: this.options.engine,
      principal,
      params: params!,
      query: url.searchParams,
      body,
      authorize: (action, kind, name) => this.authorize(principal, req, action, kind, name),
      sees: (kind, name) => principal.rights.sees(kind, name),
    });
    sendJson(res, answer.status ?? 200, answer.body);
  }

  /** The principal of the Bearer token; the anonymous one (every right) when authentication is off. */
  private authenticate(req: IncomingMessage): Principal {
    const { authenticator, failures, refusalLog } = this.options.security;
    if (authenticator === null) return ANONYMOUS;
    const address = req.socket.remoteAddress ?? '?';
    const blockedMs = failures.blockedForMs(address);
    if (blockedMs > 0) throw new SeglogError('TOO_MANY_REQUESTS', `too many failed authentications from ${address}; retry in ${Math.ceil(blockedMs / 1000)} s`);
    const m = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '');
    try {
      if (m === null) throw new AuthenticationFailedError('this server requires Authorization: Bearer TOKEN (seglog auth add prints one)');
      if (m[1]!.length > TOKEN_MAX_CHARS) throw new AuthenticationFailedError('invalid token');
      return authenticator.authenticate({ token: m[1]! }).principal;
    } catch (e) {
      const reason = m === null ? 'missing' : 'invalid';
      this.options.metrics.authFailures.inc({ reason });
      // Counted against the address as a failed HELLO is (no delay here: HTTP has no slot to hold).
      if (m !== null) failures.failed(address);
      refusalLog.line(`HTTP API authentication failed from ${address}: ${(e as Error).message}`);
      throw e;
    }
  }

  private authorize(principal: Principal, req: IncomingMessage, action: Action, kind: ResourceKind, name: string): void {
    if (principal.rights.allows(action, kind, name)) return;
    this.options.metrics.notAuthorized.inc({ action, kind });
    const resource = `${kind} ${JSON.stringify(name)}`;
    this.options.security.refusalLog.line(`not authorized: HTTP ${req.method} from ${req.socket.remoteAddress ?? '?'} principal ${JSON.stringify(principal.name)} may not ${action} ${resource}`);
    throw new NotAuthorizedError(principal.name, action, resource);
  }

  /**
   * The body as JSON, at most maxBodyBytes (a larger Content-Length is refused before reading; a
   * body that grows past it is cut off). Only application/json: a cross-site form cannot send it
   * without a CORS preflight, which this server never grants.
   */
  private readJson(req: IncomingMessage): Promise<unknown> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') return Promise.reject(new HttpError(415, `POST bodies must be Content-Type: application/json, got ${JSON.stringify(type.slice(0, 100))}`));
    const declared = Number(req.headers['content-length'] ?? NaN);
    const tooLarge = (): HttpError => new HttpError(413, `request body larger than ${this.maxBodyBytes} bytes (HTTP_API_MAX_BODY_BYTES)`);
    if (declared > this.maxBodyBytes) {
      req.resume();
      return Promise.reject(tooLarge());
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      req.on('data', (chunk: Buffer) => {
        if (failed) return;
        size += chunk.length;
        if (size > this.maxBodyBytes) {
          failed = true;
          chunks.length = 0;
          reject(tooLarge());
          return;
        }
        chunks.push(chunk);
      });
      req.on('error', (e) => reject(e));
      // A peer that goes away mid-body: settle, so nothing waits on a request that will not end.
      req.on('close', () => {
        if (!req.complete && !failed) {
          failed = true;
          reject(new InvalidArgumentError('the request body ended early (connection closed)'));
        }
      });
      req.on('end', () => {
        if (failed) return;
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim() === '') return resolve(undefined);
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(new InvalidArgumentError(`request body is not JSON: ${(e as Error).message}`));
        }
      });
    });
  }
}

function match(pattern: string, segments: string[]): Record<string, string> | null {
  const parts = pattern.split('/').filter((s) => s !== '');
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    let s: string;
    try {
      s = decodeURIComponent(segments[i]!);
    } catch {
      return null;
    }
    if (p.startsWith(':')) params[p.slice(1)] = s;
    else if (p !== s) return null;
  }
  return params;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' };
  if (status === 401) headers['www-authenticate'] = 'Bearer';
  if (res.headersSent) return;
  res.writeHead(status, headers);
  res.end(text);
}

function sendError(res: ServerResponse, e: unknown): void {
  const status = e instanceof HttpError ? e.status : statusOf(e);
  const code = isSeglogError(e) ? e.code : 'INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  // A body cut off for its size: close after the answer, the client may still be sending.
  if (status === 413) res.setHeader('connection', 'close');
  sendJson(res, status, { code, message });
}
