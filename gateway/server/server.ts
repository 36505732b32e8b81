// The gateway: one HTTP server carrying the WebSocket protocol (upgrade on any path) and plain
// HTTP (/healthz, /metrics). Owns sessions and the heartbeat; the engine belongs to the caller.
// Every request passes the AccessGuard first (Host, and Origin for upgrades).
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { InvalidArgumentError } from '../../engine/format/errors.js';
import type { PartitionRecovery } from '../../engine/index.js';
import { AccessGuard } from './access-guard.js';
import type { GatewayEngine } from './engine-port.js';
import { GatewayMetrics, handleHttp } from './http.js';
import { parseAllowedHosts, parseAllowedOrigins } from './origin-policy.js';
import {
  DEFAULT_MAX_GROUP_MEMBERSHIPS_PER_SESSION,
  CLOSE_HANDSHAKE_WAIT_MS,
  COALESCE_BYTES,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_INTERVAL_MS,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_FETCH_BYTES,
  DEFAULT_MAX_IN_FLIGHT_PER_SESSION,
  DEFAULT_MAX_QUEUED_BYTES_PER_SESSION,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_SESSION,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  FRAME_OVERHEAD_BYTES,
  MAX_TIMER_MS,
  READS_PER_TURN,
  READ_CHUNK_BYTES,
  type SessionLimits,
} from './limits.js';
import { Session, type SessionStats } from './session.js';

export { DEFAULT_HANDSHAKE_TIMEOUT_MS } from './limits.js';

export interface GatewayOptions {
  engine: GatewayEngine;
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


export class GatewayServer {
  readonly metrics: GatewayMetrics;
  private readonly http: HttpServer;
  private readonly wss: WebSocketServer;
  private readonly sessionSet = new Set<Session>();
  private readonly sockets = new Set<Socket>();
  private readonly limits: SessionLimits;
  private readonly guard: AccessGuard;
  private heartbeat: NodeJS.Timeout | undefined;
  private stopRecoveryLog: () => void = () => {};
  private closing: Promise<void> | null = null;
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
      readChunkBytes: READ_CHUNK_BYTES,
      readsPerTurn: READS_PER_TURN,
      handshakeTimeoutMs,
    };
    this.log = options.log ?? ((m) => console.error(`seglog gateway: ${m}`));
    // Parsed before anything is opened, so a bad entry fails start() cleanly.
    const allowOrigins = parseAllowedOrigins(options.allowOrigins ?? []);
    const allowHosts = parseAllowedHosts(options.allowHosts ?? []);
    this.metrics = new GatewayMetrics(options.engine);
    this.guard = new AccessGuard({ allowOrigins, allowHosts, metrics: this.metrics, log: this.log });
    this.http = createServer((req, res) => {
      if (this.guard.admitHttp(req, res)) handleHttp(req, res, this.metrics, this);
    });
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
    this.http.on('upgrade', (req, socket, head) => {
      if (!this.guard.admitUpgrade(req, socket)) return;
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
        { engine: options.engine, metrics: this.metrics, limits: this.limits, serverId: options.serverId ?? 'seglog', log: this.log },
        remote,
        (s) => this.sessionSet.delete(s),
      );
      this.sessionSet.add(session);
    });
  }

  static async start(options: GatewayOptions): Promise<GatewayServer> {
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
    return `ws://${host}:${this.port}`;
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
    this.metrics.close();
  }
}
