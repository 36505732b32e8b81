// What a request handler sees of its session: the engine, the limits, and ways to answer. The
// session keeps the connection state and flow control; handlers turn one request into an answer.
import type { Action, ResourceKind } from '../auth/rights.js';
import type { GatewayEngine } from '../engine-port.js';
import type { GatewayMetrics } from '../http.js';
import type { MembershipTable } from '../memberships.js';
import type { SessionLimits } from '../limits.js';
import type { DeliverySink, ServerSubscription } from '../subscription.js';
import type { FrameReader } from '../../protocol/codec.js';

export interface RequestContext {
  readonly engine: GatewayEngine;
  readonly metrics: GatewayMetrics;
  readonly limits: SessionLimits;
  /** The peer decodes LZ4 (HELLO flag CAN_DECODE_LZ4); otherwise batches go out decompressed. */
  readonly canDecodeLz4: boolean;
  sendFrame(frame: Uint8Array): void;
  /** One message from parts (a header, then stored batches), counted as `batchBytes` of `records`. */
  sendDelivery(parts: Uint8Array[], batchBytes: number, records: number): void;
  /** Runs an engine request; its answer (or ERROR) goes out when it settles, and it counts as in flight meanwhile. */
  track(id: number, work: () => Promise<Uint8Array | null>): void;
  readonly subscriptions: SessionSubscriptions;
  /**
   * Throws NOT_AUTHORIZED unless the connection's principal may do `action` on the resource. Every
   * handler calls it before it touches the engine, so a refusal says nothing about what exists.
   */
  authorize(action: Action, kind: ResourceKind, name: string): void;
  /** The principal has some right on the resource: listing and describing show only these. */
  sees(kind: ResourceKind, name: string): boolean;
  /** null: go at once; else wait for the promise (the principal's byte-rate quota, in arrival order). */
  admitBytes(direction: 'produce' | 'consume', bytes: number): Promise<void> | null;
  /** Bytes a delivery or fetch answer may carry now under the consume quota (Infinity without one). */
  deliveryBytesAllowed(): number;
  /** The protocol version agreed in HELLO. */
  readonly protocolVersion: number;
  /** Consumer group memberships of this connection (left when it closes). */
  readonly memberships: MembershipTable;
}

/** The session's subscriptions, as the SUBSCRIBE family handlers change them. */
export interface SessionSubscriptions {
  /** Where subscriptions deliver (the session). */
  readonly sink: DeliverySink;
  /** Open ones plus those between SUBSCRIBE and SUBSCRIBED. */
  readonly count: number;
  /** The session still takes new subscriptions (not draining or closed). */
  readonly accepting: boolean;
  /** The id names an open subscription or one being set up. */
  inUse(id: number): boolean;
  /** Holds the id while the start offsets are resolved. */
  reserve(id: number): void;
  release(id: number): void;
  /** Registers an open subscription (the id must be reserved; release it in the same step). */
  add(id: number, subscription: ServerSubscription): void;
  get(id: number): ServerSubscription | undefined;
  /** Closes and forgets it; false when there is none with that id. */
  remove(id: number): boolean;
}

/** Handles one request frame: answers through `ctx`, or throws (the session sends the ERROR). */
export type Handler = (ctx: RequestContext, id: number, r: FrameReader) => void;
