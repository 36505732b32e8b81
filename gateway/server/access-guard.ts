// Applies the origin/host policy (origin-policy.ts) to the requests reaching the gateway's port:
// a refusal is answered 403 with a short plain-text reason (for an upgrade, before the WebSocket
// is accepted), counted in seglog_refused_requests_total and logged in one line.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import type { GatewayMetrics } from './http.js';
import { decideAccess, isWildcardAddress, ownAuthorities, type AccessPolicy, type AccessVerdict } from './origin-policy.js';
import { BoundedLog } from './bounded-log.js';
import { INTERFACE_REFRESH_MIN_INTERVAL_MS } from './limits.js';

export { INTERFACE_REFRESH_MIN_INTERVAL_MS, REFUSAL_LOG_LINES_PER_WINDOW_MAX, REFUSAL_LOG_WINDOW_MS } from './limits.js';

type RequestKind = 'upgrade' | 'http';

const REFUSAL_HEADERS = {
  'content-type': 'text/plain; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  connection: 'close',
} as const;

export interface AccessGuardOptions {
  /** Normalised allow lists (parseAllowedOrigins / parseAllowedHosts). */
  allowOrigins: ReadonlySet<string>;
  allowHosts: ReadonlySet<string>;
  metrics: GatewayMetrics;
  log(message: string): void;
  /** The machine's interface addresses; replaceable for tests. */
  interfaceAddresses?: () => string[];
  /** Clock for the refusal log window; replaceable for tests. */
  now?: () => number;
}

export function machineAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

export class AccessGuard {
  private policy: AccessPolicy;
  private bound: { port: number; names: string[] } | null = null;
  private interfacesListedAt = 0;
  private readonly interfaceAddresses: () => string[];
  private readonly now: () => number;
  private readonly refusalLog: BoundedLog;

  constructor(private readonly options: AccessGuardOptions) {
    this.interfaceAddresses = options.interfaceAddresses ?? machineAddresses;
    this.now = options.now ?? Date.now;
    this.refusalLog = new BoundedLog(options.log, 'refused requests', 'seglog_refused_requests_total', this.now);
    // Until the port is known nothing is our own: only explicitly allowed hosts pass.
    this.policy = { allowOrigins: options.allowOrigins, allowHosts: options.allowHosts, ownAuthorities: new Set() };
  }

  /** Call once listening: `names` are the host asked for and the address bound. */
  bind(port: number, names: string[]): void {
    this.bound = { port, names };
    this.refreshOwn();
  }

  private get wildcard(): boolean {
    return this.bound !== null && this.bound.names.some(isWildcardAddress);
  }

  private refreshOwn(): void {
    if (this.bound === null) return;
    this.interfacesListedAt = Date.now();
    // Bound to every interface: the machine's addresses and its own host name are its names too (a
    // rebinding attack needs the attacker's name in Host, never ours).
    const interfaces = this.wildcard ? [...this.interfaceAddresses(), hostname().toLowerCase()] : [];
    this.policy = { ...this.policy, ownAuthorities: ownAuthorities(this.bound.port, this.bound.names, interfaces) };
  }

  private decide(req: IncomingMessage, upgrade: boolean): AccessVerdict {
    // Sec-WebSocket-Origin is what protocol version 8 (which ws still accepts) sends instead.
    const origin = req.headers.origin ?? (req.headers['sec-websocket-origin'] as string | undefined);
    const request = { origin, host: req.headers.host, upgrade };
    let verdict = decideAccess(request, this.policy);
    if (!verdict.allowed && verdict.reason === 'host' && this.wildcard && Date.now() - this.interfacesListedAt >= INTERFACE_REFRESH_MIN_INTERVAL_MS) {
      this.refreshOwn();
      verdict = decideAccess(request, this.policy);
    }
    return verdict;
  }

  private refused(req: IncomingMessage, kind: RequestKind, verdict: AccessVerdict & { allowed: false }): void {
    this.options.metrics.refusedRequests.inc({ reason: verdict.reason, request: kind });
    // The peer's address and the offending header only (quoted by the policy): no cookies, no path.
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    this.logBounded(`refused ${kind === 'upgrade' ? 'WebSocket upgrade' : `HTTP ${req.method ?? '?'}`} from ${remote}: ${verdict.message}`);
  }

  private logBounded(line: string): void {
    this.refusalLog.line(line);
  }

  /** True when the request may go on; otherwise it has been answered 403. */
  admitHttp(req: IncomingMessage, res: ServerResponse): boolean {
    const verdict = this.decide(req, false);
    if (verdict.allowed) return true;
    this.refused(req, 'http', verdict);
    refuseHttp(res, 403, verdict.message);
    return false;
  }

  /** True when the upgrade may go on; otherwise the socket got a 403 and is being closed. */
  admitUpgrade(req: IncomingMessage, socket: Duplex): boolean {
    const verdict = this.decide(req, true);
    if (verdict.allowed) return true;
    this.refused(req, 'upgrade', verdict);
    refuseUpgrade(socket, 403, verdict.message);
    return false;
  }
}

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too Many Requests', 503: 'Service Unavailable' };

/** Answers an upgrade request with `status` and a one-line reason, then closes the socket (no WebSocket is made). */
export function refuseUpgrade(socket: Duplex, status: number, message: string, headers: Record<string, string | number> = {}): void {
  socket.on('error', () => {}); // a peer resetting a refused socket is nothing to report
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${message}\n`;
  const head = Object.entries({ ...REFUSAL_HEADERS, ...headers, 'content-length': Buffer.byteLength(body) }).map(([k, v]) => `${k}: ${v}\r\n`);
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Refused'}\r\n${head.join('')}\r\n${body}`);
}

/** Answers a plain HTTP request with `status` and a one-line reason. */
export function refuseHttp(res: ServerResponse, status: number, message: string, headers: Record<string, string | number> = {}): void {
  const body = `${message}\n`;
  res.writeHead(status, { ...REFUSAL_HEADERS, ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
