// The checks of a Kafka connection peer's rights (KafkaPeer, in context.ts, says who the peer is),
// with the same rights (gateway/server/auth/rights.ts), metric and bounded log line as the
// WebSocket port's refusals.
import type { Action, ResourceKind } from '../auth/rights.js';
import type { KafkaContext, KafkaPeer, SaslMechanism } from './context.js';
import { KafkaError, KafkaRefusal } from './errors.js';

export const SASL_MECHANISMS: readonly SaslMechanism[] = ['PLAIN', 'SCRAM-SHA-256'];

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

/** authorized() for a group, as a throw: Kafka's GROUP_AUTHORIZATION_FAILED for the group API that catches it. */
export function requireGroupRight(ctx: KafkaContext, peer: KafkaPeer, action: Action, group: string): void {
  if (!authorized(ctx, peer, action, 'group', group)) {
    throw new KafkaRefusal(KafkaError.GROUP_AUTHORIZATION_FAILED, `principal ${JSON.stringify(peer.principal?.name ?? null)} may not ${action} group ${JSON.stringify(group)}`);
  }
}

/** Whether the peer may see (list, describe) the group: any right on it. */
export function seesGroup(peer: KafkaPeer, group: string): boolean {
  return peer.principal?.rights.sees('group', group) === true;
}

export type { KafkaPeer, SaslMechanism } from './context.js';
