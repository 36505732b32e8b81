// Applies the origin/host policy (origin-policy.ts) to the requests reaching the gateway's port:
// a refusal is answered 403 with a short plain-text reason (for an upgrade, before the WebSocket
// is accepted), counted in seglog_refused_requests_total and logged in one line.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import type { Duplex } from 'node:stream';
import type { GatewayMetrics } from './http.js';
import { decideAccess, isWildcardAddress, ownAuthorities, type AccessPolicy, type AccessVerdict } from './origin-policy.js';
import { INTERFACE_REFRESH_MIN_INTERVAL_MS, REFUSAL_LOG_LINES_PER_WINDOW_MAX, REFUSAL_LOG_WINDOW_MS } from './limits.js';

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
  private logWindowStart = -Infinity;
  private linesInWindow = 0;
  private notLogged = 0;

  constructor(private readonly options: AccessGuardOptions) {
    this.interfaceAddresses = options.interfaceAddresses ?? machineAddresses;
    this.now = options.now ?? Date.now;
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
    const now = this.now();
    if (now - this.logWindowStart >= REFUSAL_LOG_WINDOW_MS) {
      if (this.notLogged > 0) this.options.log(`${this.notLogged} more refused requests were not logged (at most ${REFUSAL_LOG_LINES_PER_WINDOW_MAX} lines per ${REFUSAL_LOG_WINDOW_MS / 1000} s; seglog_refused_requests_total counts all)`);
      this.logWindowStart = now;
      this.linesInWindow = 0;
      this.notLogged = 0;
    }
    if (this.linesInWindow >= REFUSAL_LOG_LINES_PER_WINDOW_MAX) {
      this.notLogged++;
      return;
    }
    this.linesInWindow++;
    this.options.log(line);
  }

  /** True when the request may go on; otherwise it has been answered 403. */
  admitHttp(req: IncomingMessage, res: ServerResponse): boolean {
    const verdict = this.decide(req, false);
    if (verdict.allowed) return true;
    this.refused(req, 'http', verdict);
    const body = `${verdict.message}\n`;
    res.writeHead(403, { ...REFUSAL_HEADERS, 'content-length': Buffer.byteLength(body) });
    res.end(body);
    return false;
  }

  /** True when the upgrade may go on; otherwise the socket got a 403 and is being closed. */
  admitUpgrade(req: IncomingMessage, socket: Duplex): boolean {
    const verdict = this.decide(req, true);
    if (verdict.allowed) return true;
    this.refused(req, 'upgrade', verdict);
    socket.on('error', () => {}); // a peer resetting a refused socket is nothing to report
    if (!socket.writable) {
      socket.destroy();
      return false;
    }
    const body = `${verdict.message}\n`;
    const head = Object.entries({ ...REFUSAL_HEADERS, 'content-length': Buffer.byteLength(body) }).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.once('finish', () => socket.destroy());
    socket.end(`HTTP/1.1 403 Forbidden\r\n${head.join('')}\r\n${body}`);
    return false;
  }
}
