// What a Kafka API handler gets: the engine, the listener's limits and settings, the request's
// connection facts. Handlers are plain functions of (context, decoded request) → response struct.
import type { SessionSecurity } from '../auth/session-security.js';
import type { BoundedLog } from '../bounded-log.js';
import type { GatewayEngine } from '../engine-port.js';
import type { GatewayMetrics } from '../http.js';
import type { Struct } from './codec.js';
import type { Authenticated } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { ScramServer } from '../auth/scram.js';
import type { ApiSchema } from './schema.js';

export interface KafkaLimits {
  maxRequestBytes: number;
  maxInFlightPerConnection: number;
  maxFetchBytes: number;
  maxFetchWaitMs: number;
}

export interface KafkaContext {
  engine: GatewayEngine;
  limits: KafkaLimits;
  /** Metadata creates unknown topics it is asked about (the engine's autoCreateTopics, `--auto-create`). */
  autoCreateTopics: boolean;
  clusterId: string;
  log: (message: string) => void;
  /** Lines a peer can cause (connections closed for bad input): bounded, counted in metrics.kafkaClosed. */
  refusalLog: BoundedLog;
  metrics: GatewayMetrics;
  /** Every API this listener serves, by key (ApiVersions lists them). */
  apis: ReadonlyMap<number, KafkaApi>;
  /** Long-polling fetches waiting now; close() ends their waits so they answer at once. */
  waits: Set<() => void>;
  /** The server's authenticator (null: auth off), failed-authentication limiter and refusal log, shared with the WebSocket port. */
  security: SessionSecurity;
}

/**
 * Who is on the other end of one Kafka connection. With an auth file the peer is nobody until SASL
 * (handlers/sasl.ts) names a principal: until then only ApiVersions, SaslHandshake and
 * SaslAuthenticate are served (connection.ts). Without one every peer is ANONYMOUS, with every
 * right, as on the WebSocket port.
 */
export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256';

export interface KafkaPeer {
  /** Remote address (the failed-authentication limiter counts by it) and "address:port" for log lines. */
  address: string;
  remote: string;
  /** null until authenticated (auth on). */
  principal: Principal | null;
  /** What proved it, rechecked on every request so a revoked principal (SIGHUP) loses its connections. */
  authenticated: Authenticated | null;
  /** Chosen by SaslHandshake. */
  mechanism: SaslMechanism | null;
  /** A SCRAM exchange between its two SaslAuthenticate rounds. */
  scram: ScramServer | null;
  /** A failed SaslAuthenticate: the connection closes once that answer is written (as a Kafka broker does). */
  failed: boolean;
}

export interface RequestInfo {
  version: number;
  clientId: string | null;
  /** The address and port the client reached this server on (Metadata names it as the broker). */
  localAddress: string;
  localPort: number;
  /** The client's address (DescribeGroups' clientHost). */
  remoteAddress: string;
  /** Aborted when the connection closes (a long-polling fetch stops waiting). */
  closed: AbortSignal;
  /** The connection's peer: its principal (after SASL when auth is on) and SASL state. */
  peer: KafkaPeer;
}

/** A response struct, or null for none (Produce with acks=0). */
export type KafkaHandler = (ctx: KafkaContext, request: Struct, info: RequestInfo) => Struct | null | Promise<Struct | null>;

export interface KafkaApi {
  schema: ApiSchema;
  handle: KafkaHandler;
}
