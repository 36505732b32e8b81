// Who is on the other end of one Kafka connection, and the check of its rights. With an auth file
// the peer is nobody until SASL (handlers/sasl.ts) names a principal: until then only ApiVersions,
// SaslHandshake and SaslAuthenticate are served (connection.ts). Without one every peer is
// ANONYMOUS, with every right, as on the WebSocket port.
import type { Authenticated } from '../auth/authenticator.js';
import type { Principal } from '../auth/principal.js';
import type { Action, ResourceKind } from '../auth/rights.js';
import type { ScramServer } from '../auth/scram.js';
import type { KafkaContext } from './context.js';
import { KafkaError, KafkaRefusal } from './errors.js';

export type SaslMechanism = 'PLAIN' | 'SCRAM-SHA-256';
export const SASL_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256'];

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

/**
 * Whether the peer may `action` the resource; a refusal is counted (seglog_not_authorized_total)
 * and logged (bounded: principal and action, never a secret) like the WebSocket port's.
 */
export function authorized(ctx: KafkaContext, peer: KafkaPeer, action: Action, kind: ResourceKind, name: string): boolean {
  const principal = peer.principal;
  if (principal !== null && principal.rights.allows(action, kind, name)) return true;
  ctx.metrics.notAuthorized.inc({ action, kind });
  ctx.security.refusalLog.line(`not authorized: kafka connection ${peer.remote} principal ${JSON.stringify(principal?.name ?? null)} may not ${action} ${kind} ${JSON.stringify(name)}`);
  return false;
}

/** Whether the peer may see (list, describe) the topic: any right on it. */
export function sees(peer: KafkaPeer, topic: string): boolean {
  return peer.principal?.rights.sees('topic', topic) === true;
}

/** authorized(), as a throw: Kafka's TOPIC_AUTHORIZATION_FAILED for the per-topic/partition result that catches it. */
export function requireTopicRight(ctx: KafkaContext, peer: KafkaPeer, action: Action, topic: string): void {
  if (!authorized(ctx, peer, action, 'topic', topic)) {
    throw new KafkaRefusal(KafkaError.TOPIC_AUTHORIZATION_FAILED, `principal ${JSON.stringify(peer.principal?.name ?? null)} may not ${action} topic ${JSON.stringify(topic)}`);
  }
}
