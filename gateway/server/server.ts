// The gateway: one HTTP server carrying the WebSocket protocol (upgrade on any path) and plain
// HTTP (/healthz, /metrics, the API under /api, the console at /). Owns sessions and the heartbeat; the engine belongs to the caller.
// Every request passes the AccessGuard first (Host, and Origin for upgrades).
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIPv4, type AddressInfo, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { InvalidArgumentError } from '../../engine/format/errors.js';
import type { PartitionRecovery } from '../../engine/index.js';
import { AccessGuard, refuseHttp, refuseUpgrade } from './access-guard.js';
import { Authenticator } from './auth/authenticator.js';
import { AuthFailureLimiter, DEFAULT_FAILURE_LIMITS, type FailureLimits } from './auth/failure-limiter.js';
import { QuotaRegistry } from './auth/quotas.js';
import type { SessionSecurity } from './auth/session-security.js';
import { BoundedLog } from './bounded-log.js';
import { ConnectionLimits } from './connection-limits.js';
import type { GatewayEngine } from './engine-port.js';
import { GatewayMetrics, handleHttp } from './http.js';
import { HttpApi } from './http-api/api.js';
import { parseAllowedHosts, parseAllowedOrigins } from './origin-policy.js';
import {
  DEFAULT_MAX_GROUP_MEMBERSHIPS_PER_SESSION,
  CLOSE_HANDSHAKE_WAIT_MS,
  COALESCE_BYTES,
  SEND_ARENA_BYTES,
  SEND_ARENA_SLICES_MAX,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_FETCH_BYTES,
  DEFAULT_MAX_IN_FLIGHT_PER_SESSION,
  DEFAULT_MAX_QUEUED_BYTES_PER_SESSION,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  FRAME_OVERHEAD_BYTES,
  KAFKA_SHUTDOWN_WAIT_MS,
  MAX_TIMER_MS,
  READS_PER_TURN,
  READ_CHUNK_BYTES,
  type SessionLimits,
} from './limits.js';
import { KafkaListener, type KafkaListenerOptions } from './kafka/listener.js';
import { Session, type SessionStats } from './session.js';

export { DEFAULT_HANDSHAKE_TIMEOUT_MS } from './limits.js';

export interface TlsOptions {
  /** PEM certificate chain and private key of the server. */
  cert: string | Buffer;
  key: string | Buffer;
  /** PEM CA bundle client certificates are verified against (asks clients for one). */
  ca?: string | Buffer;
  /** Refuse connections without a client certificate signed by `ca`. */
  requireClientCert?: boolean;
}

/** Who may read /metrics: anyone, a bearer token of a principal with the `metrics` right, or loopback peers only. */
export type MetricsAccess = 'open' | 'token' | 'loopback';

export interface GatewayOptions {
  engine: GatewayEngine;
  /** Serve wss:// and https:// instead of ws:// and http://. */
  tls?: TlsOptions;
  /**
   * The auth file (principals, token hashes, rights, quotas; `seglog auth add` writes it): every
   * connection must authenticate in its HELLO (or by its client certificate). reloadAuth() reads it again.
   */
  authFile?: string;
  /** Default: 'token' with an auth file, else 'open'. */
  metricsAccess?: MetricsAccess;
  /** WebSocket connections at once (default 10,000) and from one remote address (default 1,000). */
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  /** Failed authentications per address and window, their answer delay, addresses tracked (tests shorten them). */
  authFailureLimits?: Partial<FailureLimits>;
  /**
   * Listen on a non-loopback address without authentication (or with tokens in the clear, no TLS).
   * Refused unless set: anyone who reaches the port could read, write and delete everything.
   */
  insecure?: boolean;
  host?: string;
  /** 0 picks a free port. Default 7070. */
  port?: number;
  /** Largest record batch accepted in a PRODUCE. Default 1 MiB. */
  maxBatchBytes?: number;
  /** Bytes queued per socket before delivery pauses and reading stops. Default 8 MiB. */
  maxQueuedBytesPerSession?: number;
  /** Requests awaiting the engine per connection before the server stops reading it. Default 1024. */
  maxInFlightPerSession?: number;
  maxSubscriptionsPerSession?: number;
  /** Consumer group memberships per connection. Default 64. */
  maxGroupMembershipsPerSession?: number;
  maxFetchBytes?: number;
  /** Ping every this often; a peer that did not answer the previous ping is dropped. Default 30 s. */
  heartbeatIntervalMs?: number;
  /** A connection that has not sent HELLO this long after its upgrade is closed (1008). Default 10 s. */
  handshakeTimeoutMs?: number;
  /**
   * Origins (`https://app.example.com`, `null`, or `*` for any) whose pages may open a WebSocket,
   * besides pages from this server's own host:port. Clients sending no Origin (non-browsers) always may.
   */
  allowOrigins?: readonly string[];
  /**
   * Host header values accepted besides the server's own names and addresses (loopback, the bound
   * host, every interface's address when bound to 0.0.0.0/::): `name` (any port), `name:port`, or `*`.
   */
  allowHosts?: readonly string[];
  serverId?: string;
  /** The HTTP API under /api: its largest request body (default HTTP_API_MAX_BODY_BYTES, limits.ts). */
  apiMaxBodyBytes?: number;
  /**
   * Also serve the Kafka wire protocol on this TCP address (gateway/server/kafka/README.md). Off
   * unless given. With an auth file it asks SASL (PLAIN, SCRAM-SHA-256) against the same principals
   * and rights; with `tls` it speaks TLS with the same certificate; off loopback the same exposure
   * rule as the WebSocket port applies.
   */
  kafka?: KafkaListenerOptions & {
    /** Metadata creates the topics it is asked about: set as the engine's autoCreateTopics (`--auto-create`). */
    autoCreateTopics?: boolean;
  };
  log?: (message: string) => void;
  /**
   * Open every partition's log in the background at start, so crash recovery runs (and is logged,
   * one line per partition whose log was cut) before the first request needs it. Default true.
   */
  openPartitionsAtStart?: boolean;
}

/** One line for a partition whose log recovery had to cut. */
export function recoveryLogLine(r: PartitionRecovery): string {
  const t = r.truncated!;
  return `partition ${r.topic}-${r.partition} recovered after an unclean shutdown: log cut in ${t.segment} at position ${t.position}, ${t.bytes} bytes dropped (${t.reason}); ${r.scannedBytes} bytes checked`;
}


/** True for names and addresses only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIPv4(v4) && v4.startsWith('127.');
}

/** Why listening on `host` with these options would expose data, or null when it would not. */
export function exposureProblem(host: string, o: { authFile?: string; tls?: TlsOptions }): string | null {
  if (isLoopbackHost(host)) return null;
  const authenticated = o.authFile !== undefined || o.tls?.requireClientCert === true;
  if (!authenticated) return `listening on ${host} (not loopback) without authentication would let anyone who reaches the port read, write and delete every topic: give an auth file (--auth FILE), or accept the risk with --insecure`;
  if (o.tls === undefined) return `listening on ${host} (not loopback) without TLS would send tokens and data in the clear: give --tls-cert and --tls-key, or accept the risk with --insecure`;
  return null;
}

function certificateName(req: IncomingMessage): string | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (socket.authorized !== true || socket.getPeerCertificate === undefined) return undefined;
  const cn = socket.getPeerCertificate().subject?.CN as string | string[] | undefined;
  return Array.isArray(cn) ? cn[0] : cn;
}

export class GatewayServer {
  readonly metrics: GatewayMetrics;
  private readonly security: SessionSecurity;
  private readonly connectionLimits: ConnectionLimits;
  private readonly metricsAccess: MetricsAccess;
  private readonly http: HttpServer;
  private readonly wss: WebSocketServer;
  private readonly sessionSet = new Set<Session>();
  private readonly sockets = new Set<Socket>();
  private readonly limits: SessionLimits;
  private readonly guard: AccessGuard;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopRecoveryLog: () => void = () => {};
  private closing: Promise<void> | null = null;
  /** The Kafka listener, when options.kafka asked for one. */
  kafka: KafkaListener | null = null;
  private readonly startedAt = Date.now();
  private readonly log: (message: string) => void;
  host = '';
  port = 0;

  private constructor(private readonly options: GatewayOptions) {
    const maxBatchBytes = options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    const handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (!Number.isSafeInteger(handshakeTimeoutMs) || handshakeTimeoutMs < 1 || handshakeTimeoutMs > MAX_TIMER_MS) {
      throw new InvalidArgumentError(`handshakeTimeoutMs must be an integer in 1..${MAX_TIMER_MS}, got ${handshakeTimeoutMs}`);
    }
    this.limits = {
      maxBatchBytes,
      maxFrameBytes: maxBatchBytes + FRAME_OVERHEAD_BYTES,
      maxQueuedBytes: options.maxQueuedBytesPerSession ?? DEFAULT_MAX_QUEUED_BYTES_PER_SESSION,
      maxInFlight: options.maxInFlightPerSession ?? DEFAULT_MAX_IN_FLIGHT_PER_SESSION,
      maxSubscriptions: options.maxSubscriptionsPerSession ?? DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
      maxGroupMemberships: options.maxGroupMembershipsPerSession ?? DEFAULT_MAX_GROUP_MEMBERSHIPS_PER_SESSION,
      maxFetchBytes: options.maxFetchBytes ?? DEFAULT_MAX_FETCH_BYTES,
      coalesceBytes: COALESCE_BYTES,
      sendArenaBytes: SEND_ARENA_BYTES,
      sendArenaSlicesMax: SEND_ARENA_SLICES_MAX,
      readChunkBytes: READ_CHUNK_BYTES,
      readsPerTurn: READS_PER_TURN,
      handshakeTimeoutMs,
    };
    this.log = options.log ?? ((m) => console.error(`seglog gateway: ${m}`));
    // Parsed before anything is opened, so a bad entry fails start() cleanly.
    const allowOrigins = parseAllowedOrigins(options.allowOrigins ?? []);
    const allowHosts = parseAllowedHosts(options.allowHosts ?? []);
    if (options.tls?.requireClientCert === true && options.tls.ca === undefined) {
      throw new InvalidArgumentError('tls.requireClientCert needs tls.ca (the CA that signs client certificates)');
    }
    const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    const maxPerAddress = options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
    for (const [name, v] of [['maxConnections', maxConnections], ['maxConnectionsPerAddress', maxPerAddress]] as const) {
      if (!Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${v}`);
    }
    this.connectionLimits = new ConnectionLimits(maxConnections, maxPerAddress);
    const authenticator = options.authFile === undefined ? null : new Authenticator(options.authFile);
    this.metricsAccess = options.metricsAccess ?? (authenticator !== null ? 'token' : 'open');
    if (this.metricsAccess === 'token' && authenticator === null) throw new InvalidArgumentError("metricsAccess 'token' needs an auth file");
    this.security = {
      authenticator,
      failures: new AuthFailureLimiter({ ...DEFAULT_FAILURE_LIMITS, ...options.authFailureLimits }),
      quotas: new QuotaRegistry(),
      refusalLog: new BoundedLog(this.log, 'authentication and authorization refusals', 'seglog_auth_failures_total and seglog_not_authorized_total'),
    };
    this.metrics = new GatewayMetrics(options.engine);
    this.guard = new AccessGuard({ allowOrigins, allowHosts, metrics: this.metrics, log: this.log });
    const api = new HttpApi({ engine: options.engine, security: this.security, metrics: this.metrics, maxBodyBytes: options.apiMaxBodyBytes });
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      if (!this.guard.admitHttp(req, res)) return;
      if (api.handle(req, res)) return;
      if ((req.url ?? '/').split('?')[0] === '/metrics' && !this.admitMetrics(req, res)) return;
      handleHttp(req, res, this.metrics, this);
    };
    const tls = options.tls;
    this.http =
      tls === undefined
        ? createServer(onRequest)
        : createHttpsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: tls.ca !== undefined, rejectUnauthorized: tls.requireClientCert === true }, onRequest);
    // A failed TLS handshake (plain HTTP on the TLS port, an unknown CA) ends that socket only.
    this.http.on('tlsClientError', () => {});
    this.http.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.http.on('clientError', (_e, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    // noServer: we take the 'upgrade' event ourselves, to refuse before the WebSocket is accepted.
    this.wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false, // ws warns of memory fragmentation; batches carry their own LZ4
      maxPayload: this.limits.maxFrameBytes,
      clientTracking: false,
    });
    this.wss.on('error', (e) => this.log(`websocket server: ${e.message}`));
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      if (!this.guard.admitUpgrade(req, socket)) return;
      const address = req.socket.remoteAddress ?? '?';
      const blockedMs = this.security.failures.blockedForMs(address);
      if (blockedMs > 0) {
        this.metrics.refusedRequests.inc({ reason: 'auth-rate', request: 'upgrade' });
        refuseUpgrade(socket, 429, `too many failed authentications from ${address}; retry in ${Math.ceil(blockedMs / 1000)} s`, { 'retry-after': Math.ceil(blockedMs / 1000) });
        return;
      }
      const refusal = this.connectionLimits.admit(address);
      if (refusal !== null) {
        this.metrics.refusedRequests.inc({ reason: refusal.reason, request: 'upgrade' });
        refuseUpgrade(socket, refusal.status, refusal.message);
        return;
      }
      // The slot is the socket's: released however it ends (refused by ws, closed, reset).
      socket.once('close', () => this.connectionLimits.release(address));
      this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
    });
    this.wss.on('connection', (ws, req) => {
      if (this.closing !== null) {
        ws.close(1001, 'server shutting down');
        return;
      }
      const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
      const session = new Session(
        ws,
        req.socket,
        { engine: options.engine, metrics: this.metrics, limits: this.limits, serverId: options.serverId ?? 'seglog', security: this.security, log: this.log },
        remote,
        (s) => this.sessionSet.delete(s),
        { address: req.socket.remoteAddress ?? '?', certificateName: certificateName(req) },
      );
      this.sessionSet.add(session);
    });
  }

  static async start(options: GatewayOptions): Promise<GatewayServer> {
    const problem = exposureProblem(options.host ?? '127.0.0.1', options);
    if (problem !== null && options.insecure !== true) throw new InvalidArgumentError(problem);
    if (options.kafka !== undefined) {
      // The same exposure rule as the WebSocket port: SASL needs TLS off loopback (PLAIN sends the token).
      const kafkaProblem = exposureProblem(options.kafka.host ?? '127.0.0.1', options);
      if (kafkaProblem !== null && options.insecure !== true) throw new InvalidArgumentError(`Kafka listener: ${kafkaProblem}`);
    }
    const server = new GatewayServer(options);
    try {
      await new Promise<void>((resolve, reject) => {
        server.http.once('error', reject);
        server.http.listen(options.port ?? 7070, options.host ?? '127.0.0.1', () => {
          server.http.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      // Not listening (port taken, address not ours): leave nothing running behind (the metrics'
      // event-loop monitor and GC observer, the WebSocket server).
      server.wss.close();
      server.metrics.close();
      throw e;
    }
    server.http.on('error', (e) => server.log(`http server: ${e.message}`));
    if (options.kafka !== undefined) {
      try {
        server.kafka = await KafkaListener.start(options.kafka, {
          engine: options.engine,
          autoCreateTopics: options.kafka.autoCreateTopics === true,
          clusterId: options.serverId ?? 'seglog',
          connectionLimits: server.connectionLimits,
          security: server.security,
          ...(options.tls !== undefined ? { tls: options.tls } : {}),
          metrics: server.metrics,
          log: server.log,
        });
      } catch (e) {
        await new Promise<void>((resolve) => server.http.close(() => resolve()));
        server.wss.close();
        server.metrics.close();
        throw e;
      }
    }
    const address = server.http.address() as AddressInfo;
    server.host = address.address;
    server.port = address.port;
    server.guard.bind(address.port, [options.host ?? '127.0.0.1', address.address]);
    const interval = options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS;
    server.heartbeat = setInterval(() => server.beat(), interval);
    server.heartbeat.unref();
    server.reportRecovery(options.openPartitionsAtStart !== false);
    return server;
  }

  /** Logs the cuts recovery made (so far and from now on), and opens every partition if asked. */
  private reportRecovery(openAll: boolean): void {
    const engine = this.options.engine;
    const logCut = (r: PartitionRecovery): void => {
      if (r.truncated !== null) this.log(recoveryLogLine(r));
    };
    for (const r of engine.recoveryReports?.() ?? []) logCut(r);
    if (engine.onRecovery !== undefined) this.stopRecoveryLog = engine.onRecovery(logCut);
    if (openAll && engine.openAllPartitions !== undefined) {
      Promise.resolve().then(() => engine.openAllPartitions!()).catch((e: unknown) => this.log(`opening partitions at start: ${(e as Error).message}`));
    }
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${this.options.tls !== undefined ? 'wss' : 'ws'}://${host}:${this.port}`;
  }

  /** The same address over HTTP(S), for /healthz and /metrics. */
  get httpUrl(): string {
    return this.url.replace(/^ws/, 'http');
  }

  /** 'token' when connections must authenticate, else 'off'. */
  get authMode(): 'token' | 'off' {
    return this.security.authenticator !== null ? 'token' : 'off';
  }

  /**
   * Reads the auth file again (what SIGHUP does): connections whose principal or token is gone are
   * closed (1008 "credentials revoked"), the others take their principal's new rights and quotas
   * at once. A file that does not parse throws and changes nothing. Returns the principal count.
   */
  reloadAuth(): number {
    const authenticator = this.security.authenticator;
    if (authenticator === null) throw new InvalidArgumentError('authentication is off (no auth file): nothing to reload');
    const count = authenticator.reload();
    for (const s of this.sessionSet) s.reauthorize();
    // Quota buckets of principals no longer in the file go (their sessions were just closed).
    this.security.quotas.retain(authenticator.names());
    return count;
  }

  /** /metrics as metricsAccess says; false when the request was answered with a refusal. */
  private admitMetrics(req: IncomingMessage, res: ServerResponse): boolean {
    const address = req.socket.remoteAddress ?? '?';
    const refuse = (status: number, reason: string, message: string, headers: Record<string, string | number> = {}): false => {
      this.metrics.refusedRequests.inc({ reason, request: 'http' });
      refuseHttp(res, status, message, headers);
      return false;
    };
    if (this.metricsAccess === 'open') return true;
    if (this.metricsAccess === 'loopback') return isLoopbackHost(address) ? true : refuse(403, 'metrics-auth', '/metrics answers loopback peers only');
    const blockedMs = this.security.failures.blockedForMs(address);
    if (blockedMs > 0) return refuse(429, 'auth-rate', `too many failed authentications from ${address}`, { 'retry-after': Math.ceil(blockedMs / 1000) });
    const m = /^Bearer +(\S+)$/i.exec(req.headers.authorization ?? '');
    if (m === null) return refuse(401, 'metrics-auth', '/metrics needs Authorization: Bearer TOKEN (a principal with the metrics right)', { 'www-authenticate': 'Bearer' });
    try {
      const { principal } = this.security.authenticator!.authenticate({ token: m[1]! });
      if (principal.rights.metrics) return true;
      return refuse(403, 'metrics-auth', `principal ${JSON.stringify(principal.name)} lacks the metrics right`);
    } catch {
      this.security.failures.failed(address);
      this.metrics.authFailures.inc({ reason: 'invalid' });
      return refuse(401, 'metrics-auth', 'invalid token', { 'www-authenticate': 'Bearer' });
    }
  }

  /** Drops peers that did not answer the previous ping, pings the rest. */
  private beat(): void {
    for (const s of this.sessionSet) {
      if (!s.alive) {
        this.log(`session ${s.id} (${s.remoteAddress}) did not answer a ping: dropped`);
        s.terminate();
        continue;
      }
      s.alive = false;
      s.ping();
    }
  }

  /** The live sessions (for operations and tests). */
  sessions(): Session[] {
    return [...this.sessionSet];
  }

  sessionStats(): SessionStats[] {
    return this.sessions().map((s) => s.stats());
  }

  health(): Record<string, unknown> {
    let topics = 0;
    try {
      topics = this.options.engine.listTopics().length;
    } catch {
      return { status: 'unavailable', reason: 'engine closed' };
    }
    return {
      status: this.closing === null ? 'ok' : 'shutting-down',
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      connections: this.sessionSet.size,
      ...(this.kafka !== null ? { kafkaConnections: this.kafka.connections().length } : {}),
      topics,
    };
  }

  /**
   * Graceful shutdown: stop accepting, answer every request already in flight (acks included),
   * close the sockets. The engine is left open for the caller to flush and close.
   */
  close(timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    clearInterval(this.heartbeat);
    this.stopRecoveryLog();
    const httpClosed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    const kafkaClosed = this.kafka?.close(Math.min(timeoutMs, KAFKA_SHUTDOWN_WAIT_MS));
    const deadline = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());
    await Promise.race([Promise.all(this.sessions().map((s) => s.drain())), deadline(timeoutMs)]);
    const closed = Promise.all(
      this.sessions().map((s) => {
        s.close();
        // A peer that does not answer the close handshake is cut off.
        const timer = setTimeout(() => s.terminate(), Math.min(timeoutMs, CLOSE_HANDSHAKE_WAIT_MS));
        timer.unref();
        return s.closed.finally(() => clearTimeout(timer));
      }),
    );
    await closed;
    this.wss.close();
    this.http.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await httpClosed;
    await kafkaClosed;
    this.metrics.close();
  }
}
