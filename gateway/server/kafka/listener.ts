// The Kafka listener: a TCP server (node:net) speaking the Kafka wire protocol next to the
// WebSocket port, on the same engine. Connections count against the gateway's connection limits
// (total and per address) together with the WebSocket ones; a connection over them is closed at
// once (Kafka has no refusal message before a request). README.md in this directory describes the
// APIs, versions, limits and the codec.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { SessionSecurity } from '../auth/session-security.js';
import { InvalidArgumentError } from '../../../engine/index.js';
import { BoundedLog } from '../bounded-log.js';
import type { ConnectionLimits } from '../connection-limits.js';
import type { GatewayEngine } from '../engine-port.js';
import type { GatewayMetrics } from '../http.js';
import {
  DEFAULT_KAFKA_MAX_FETCH_BYTES,
  DEFAULT_KAFKA_MAX_FETCH_WAIT_MS,
  DEFAULT_KAFKA_MAX_IN_FLIGHT_PER_CONNECTION,
  DEFAULT_KAFKA_MAX_REQUEST_BYTES,
  KAFKA_REQUEST_HEADER_MIN_BYTES,
  KAFKA_SHUTDOWN_WAIT_MS,
  MAX_TIMER_MS,
} from '../limits.js';
import { KafkaConnection, type KafkaConnectionStats } from './connection.js';
import type { KafkaContext, KafkaLimits } from './context.js';
import { KAFKA_APIS } from './handlers/index.js';

export interface KafkaListenerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port. Default 9092. */
  port?: number;
  /** Largest request (its size prefix). Default 16 MiB. */
  maxRequestBytes?: number;
  /** Unanswered requests per connection before reading stops. Default 64. */
  maxInFlightPerConnection?: number;
  /** Ceiling of a Fetch response's maxBytes. Default 8 MiB. */
  maxFetchBytes?: number;
  /** Ceiling of a Fetch's maxWaitMs (long polling). Default 30 s. */
  maxFetchWaitMs?: number;
}

/** The server's TLS certificate and key (the same as the WebSocket port's); the Kafka port then speaks TLS only. */
export interface KafkaTls {
  cert: string | Buffer;
  key: string | Buffer;
  ca?: string | Buffer;
  requireClientCert?: boolean;
}

export interface KafkaListenerSetup {
  engine: GatewayEngine;
  /** Authentication (SASL against the auth file's principals when it has an authenticator), shared with the WebSocket port. */
  security: SessionSecurity;
  tls?: KafkaTls;
  /** Metadata creates topics it is asked about (set it as the engine's autoCreateTopics). */
  autoCreateTopics: boolean;
  clusterId: string;
  connectionLimits: ConnectionLimits;
  metrics: GatewayMetrics;
  log: (message: string) => void;
}

function checkedLimits(o: KafkaListenerOptions): KafkaLimits {
  const limits: KafkaLimits = {
    maxRequestBytes: o.maxRequestBytes ?? DEFAULT_KAFKA_MAX_REQUEST_BYTES,
    maxInFlightPerConnection: o.maxInFlightPerConnection ?? DEFAULT_KAFKA_MAX_IN_FLIGHT_PER_CONNECTION,
    maxFetchBytes: o.maxFetchBytes ?? DEFAULT_KAFKA_MAX_FETCH_BYTES,
    maxFetchWaitMs: o.maxFetchWaitMs ?? DEFAULT_KAFKA_MAX_FETCH_WAIT_MS,
  };
  const bounds: Record<keyof KafkaLimits, [number, number]> = {
    maxRequestBytes: [KAFKA_REQUEST_HEADER_MIN_BYTES, 2 ** 31 - 1],
    maxInFlightPerConnection: [1, 1_000_000],
    maxFetchBytes: [1, 2 ** 31 - 1],
    maxFetchWaitMs: [0, MAX_TIMER_MS],
  };
  for (const [name, [min, max]] of Object.entries(bounds) as [keyof KafkaLimits, [number, number]][]) {
    const v = limits[name];
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new InvalidArgumentError(`kafka.${name} must be an integer in ${min}..${max}, got ${v}`);
  }
  return limits;
}

export class KafkaListener {
  private readonly connectionSet = new Set<KafkaConnection>();
  private closing: Promise<void> | null = null;
  host = '';
  port = 0;

  private constructor(
    private readonly server: Server,
    private readonly ctx: KafkaContext,
  ) {}

  static async start(options: KafkaListenerOptions, setup: KafkaListenerSetup): Promise<KafkaListener> {
    const ctx: KafkaContext = {
      engine: setup.engine,
      limits: checkedLimits(options),
      autoCreateTopics: setup.autoCreateTopics,
      clusterId: setup.clusterId,
      log: setup.log,
      refusalLog: new BoundedLog(setup.log, 'Kafka connections closed or refused', 'seglog_kafka_connections_closed_total'),
      metrics: setup.metrics,
      apis: KAFKA_APIS,
      waits: new Set(),
      security: setup.security,
    };
    const tls = setup.tls;
    const server: Server =
      tls === undefined
        ? createServer()
        : createTlsServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: tls.ca !== undefined, rejectUnauthorized: tls.requireClientCert === true });
    const listener = new KafkaListener(server, ctx);
    // With TLS a connection is taken once its handshake is done; a failed handshake is the peer's business.
    server.on(tls === undefined ? 'connection' : 'secureConnection', (socket: Socket) => listener.accept(socket, setup.connectionLimits));
    if (tls !== undefined) server.on('tlsClientError', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 9092, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => setup.log(`kafka listener: ${e.message}`));
    const address = server.address() as AddressInfo;
    listener.host = address.address;
    listener.port = address.port;
    return listener;
  }

  private accept(socket: Socket, limits: ConnectionLimits): void {
    if (this.closing !== null) {
      socket.destroy();
      return;
    }
    const address = socket.remoteAddress ?? '?';
    // An address past its failed-authentication limit is refused at once, as its WebSocket upgrades are.
    if (this.ctx.security.authenticator !== null && this.ctx.security.failures.blockedForMs(address) > 0) {
      this.ctx.metrics.kafkaClosed.inc({ reason: 'auth-rate' });
      this.ctx.refusalLog.line(`kafka connection from ${address} refused: too many failed authentications`);
      socket.destroy();
      return;
    }
    const refusal = limits.admit(address);
    if (refusal !== null) {
      this.ctx.metrics.kafkaClosed.inc({ reason: 'connections' });
      this.ctx.refusalLog.line(`kafka connection from ${address} refused: ${refusal.message}`);
      socket.destroy();
      return;
    }
    const connection = new KafkaConnection(socket, this.ctx);
    this.connectionSet.add(connection);
    this.ctx.metrics.kafkaConnections.inc();
    void connection.closed.then(() => {
      this.connectionSet.delete(connection);
      this.ctx.metrics.kafkaConnections.dec();
      limits.release(address);
    });
  }

  connections(): KafkaConnectionStats[] {
    return [...this.connectionSet].map((c) => c.stats());
  }

  /** Stops accepting, answers waiting fetches at once, lets answers go out (bounded), closes every connection. */
  close(timeoutMs = KAFKA_SHUTDOWN_WAIT_MS): Promise<void> {
    this.closing ??= this.shutdown(timeoutMs);
    return this.closing;
  }

  private async shutdown(timeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const wake of [...this.ctx.waits]) wake();
    const connections = [...this.connectionSet];
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(connections.map((c) => c.drain())), deadline]);
    clearTimeout(timer);
    for (const c of connections) c.destroy();
    await Promise.all(connections.map((c) => c.closed));
    await closed;
  }
}
