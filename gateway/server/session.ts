// One WebSocket connection: handshake, in-flight requests, subscriptions, and the bounds on what
// we queue for this socket (flow control). Requests go to one handler per frame family
// (handlers/). Bad input from the peer ends in an ERROR frame (or a close with a reason for
// protocol violations) and never throws out of here.
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { AuthenticationFailedError, CorruptRecordError, NotAuthorizedError, isSeglogError } from '../../engine/format/errors.js';
import type { Authenticated } from './auth/authenticator.js';
import { ANONYMOUS, type Principal } from './auth/principal.js';
import type { PrincipalBuckets } from './auth/quotas.js';
import { Rights, type Action, type ResourceKind } from './auth/rights.js';
import type { SessionSecurity } from './auth/session-security.js';
import type { GatewayEngine } from './engine-port.js';
import { HANDLERS, type RequestContext } from './handlers/index.js';
import type { GatewayMetrics } from './http.js';
import { CLOSE_REASON_MAX_CHARS, TOKEN_MAX_CHARS, type SessionLimits } from './limits.js';
import { FrameError, type FrameReader } from '../protocol/codec.js';
import { GatewayErrorCode, ShuttingDownError, UnknownFrameTypeError, encodeError, type ErrorRange } from '../protocol/error.js';
import { FrameType, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, frameTypeName, isKnownFrameType, readHeader } from '../protocol/frame.js';
import { AUTH, CAN_DECODE_LZ4, ERROR_RANGES, decodeHello, encodeHelloOk, type Hello } from '../protocol/hello.js';
import type { DeliverySink } from './subscription.js';
import { SendArena } from './send-arena.js';
import { SubscriptionTable } from './subscription-table.js';
import { MembershipTable } from './memberships.js';

export type { SessionLimits } from './limits.js';

export interface SessionContext {
  engine: GatewayEngine;
  metrics: GatewayMetrics;
  limits: SessionLimits;
  serverId: string;
  security: SessionSecurity;
  log(message: string): void;
}

/** What the TLS layer proved of the peer, if anything. */
export interface PeerIdentity {
  /** Subject CN of a client certificate verified against the server's CA. */
  certificateName?: string;
  /** The remote address alone (no port): failed authentications are counted per address. */
  address: string;
}

export interface SessionStats {
  id: number;
  remoteAddress: string;
  /** Bytes queued for this socket (our accounting of sends not yet written, or ws' bufferedAmount). */
  queuedBytes: number;
  inFlight: number;
  paused: boolean;
  /** Small deliveries copied into the socket's ring (send-arena.ts) and not yet written. */
  arenaSlices: number;
  subscriptions: Array<{ id: number; topic: string; creditBytes: number; bytesSent: number; positions: Record<number, number> }>;
}

const CLOSE_PROTOCOL_ERROR = 1002;
const CLOSE_GOING_AWAY = 1001;
/** RFC 6455 "policy violation": the peer broke a rule that is not about frame syntax (the HELLO deadline). */
const CLOSE_POLICY_VIOLATION = 1008;

let nextSessionId = 1;

/** The range an ERROR carries for damaged stored data (CORRUPT_RECORD of a known partition). */
function errorRange(e: unknown): ErrorRange | undefined {
  if (!(e instanceof CorruptRecordError) || e.offset === undefined || e.nextOffset === undefined || e.partition === undefined) return undefined;
  return { partition: e.partition, offset: e.offset, nextOffset: e.nextOffset };
}

export class Session implements DeliverySink, RequestContext {
  readonly id = nextSessionId++;
  readonly remoteAddress: string;
  private state: 'handshake' | 'authenticating' | 'open' | 'draining' | 'closed' = 'handshake';
  /** Who the peer is (ANONYMOUS while authentication is off). Replaced when the auth file is reloaded. */
  principal: Principal = ANONYMOUS;
  private authenticated: Authenticated | null = null;
  private buckets: PrincipalBuckets = { produce: null, consume: null };
  /** Produce requests waiting for the produce quota, in arrival order (see admitBytes). */
  private quotaGate: Promise<void> = Promise.resolve();
  private quotaWaiting = 0;
  private consumeWake: NodeJS.Timeout | undefined;
  canDecodeLz4 = false;
  /** The client reads the range fields of ERROR (HELLO flag ERROR_RANGES). */
  private errorRanges = false;
  private ownQueuedBytes = 0;
  private inFlight = 0;
  private paused = false;
  readonly subscriptions: SubscriptionTable;
  readonly memberships: MembershipTable;
  /** Agreed in HELLO: the highest both speak. */
  protocolVersion = PROTOCOL_VERSION;
  private idleWaiters: Array<() => void> = [];
  private cleanedUp = false;
  private resolveClosed!: () => void;
  /** Resolves once the socket has closed and the session is cleaned up. */
  readonly closed = new Promise<void>((resolve) => {
    this.resolveClosed = resolve;
  });
  /** Set by the heartbeat; cleared when the peer answers a ping or sends anything. */
  alive = true;
  private handshakeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ws: WebSocket,
    /** The upgraded request's socket (the one `ws` writes to): corked per tick, see corkForTick(). */
    private readonly socket: Duplex,
    private readonly ctx: SessionContext,
    remoteAddress: string,
    private readonly onClosed: (s: Session) => void,
    private readonly peer: PeerIdentity = { address: remoteAddress },
  ) {
    this.remoteAddress = remoteAddress;
    this.arena = new SendArena(ctx.limits.sendArenaBytes, ctx.limits.sendArenaSlicesMax);
    this.subscriptions = new SubscriptionTable(this, ctx.metrics, () => this.state === 'open');
    this.memberships = new MembershipTable(ctx.engine);
    ctx.metrics.connections.inc();
    ws.on('message', (data, isBinary) => {
      this.alive = true;
      this.onMessage(data as Buffer, isBinary);
    });
    ws.on('pong', () => {
      this.alive = true;
    });
    // An oversized frame or a broken socket lands here; ws closes the socket itself. Without a
    // handler the 'error' event would take the process down.
    ws.on('error', (e) => ctx.log(`session ${this.id} (${remoteAddress}): ${e.message}`));
    ws.on('close', () => this.cleanup());
    // The heartbeat only drops peers that stop answering pings; one that answers them but never
    // says HELLO would otherwise hold its socket and slot for as long as it likes.
    this.handshakeTimer = setTimeout(() => this.handshakeExpired(), ctx.limits.handshakeTimeoutMs);
    this.handshakeTimer.unref();
  }

  private handshakeExpired(): void {
    this.handshakeTimer = undefined;
    if (this.state !== 'handshake') return;
    const reason = `no HELLO within ${this.ctx.limits.handshakeTimeoutMs} ms`;
    this.ctx.log(`session ${this.id} (${this.remoteAddress}): ${reason}: closed`);
    this.ctx.metrics.handshakeTimeouts.inc();
    this.ws.close(CLOSE_POLICY_VIOLATION, reason);
    this.state = 'closed';
  }

  private clearHandshakeTimer(): void {
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
  }

  // --- sending and flow control --------------------------------------------------------------

  get queuedBytes(): number {
    return Math.max(this.ownQueuedBytes, this.ws.bufferedAmount);
  }

  writable(): boolean {
    if (this.state === 'closed' || this.queuedBytes >= this.ctx.limits.maxQueuedBytes) return false;
    const consume = this.buckets.consume;
    if (consume !== null) {
      const debtMs = consume.debtMs();
      if (debtMs > 0) {
        // Over the consume quota: deliveries wait (nothing is dropped) and resume once it is repaid.
        this.wakeSubscriptionsIn(debtMs);
        return false;
      }
    }
    return true;
  }

  deliveryBytesAllowed(): number {
    return this.buckets.consume === null ? Infinity : Math.floor(this.buckets.consume.availableBytes());
  }

  private wakeSubscriptionsIn(ms: number): void {
    if (this.consumeWake !== undefined) return;
    this.ctx.metrics.quotaThrottle.inc({ principal: this.principal.name, direction: 'consume' }, ms / 1000);
    this.consumeWake = setTimeout(() => {
      this.consumeWake = undefined;
      for (const s of this.subscriptions.values()) s.schedule();
    }, Math.ceil(ms));
  }

  /**
   * Holds a request to the principal's byte-rate quota: null when it may go at once, else a promise
   * that resolves when it may. Requests of this connection leave the gate in arrival order.
   */
  admitBytes(direction: 'produce' | 'consume', bytes: number): Promise<void> | null {
    const bucket = direction === 'produce' ? this.buckets.produce : this.buckets.consume;
    if (bucket === null) return null;
    const waitMs = direction === 'produce' ? bucket.take(bytes) : bucket.debtMs();
    if (waitMs <= 0 && this.quotaWaiting === 0) return null;
    if (waitMs > 0) this.ctx.metrics.quotaThrottle.inc({ principal: this.principal.name, direction }, waitMs / 1000);
    const readyAt = performance.now() + waitMs;
    this.quotaWaiting++;
    const gate = this.quotaGate.then(
      () =>
        new Promise<void>((resolve) => {
          const left = readyAt - performance.now();
          if (left <= 0) resolve();
          else setTimeout(resolve, Math.ceil(left));
        }),
    );
    this.quotaGate = gate.finally(() => {
      this.quotaWaiting--;
    });
    return gate;
  }

  private readonly afterSend = (bytes: number): ((err?: Error) => void) => () => {
    const before = this.ownQueuedBytes;
    this.ownQueuedBytes -= bytes;
    const high = this.ctx.limits.maxQueuedBytes;
    if (before >= high / 2 && this.ownQueuedBytes < high / 2) {
      for (const s of this.subscriptions.values()) s.schedule();
    }
    this.updateReading();
  };

  private readonly afterArenaSend = (bytes: number): ((err?: Error) => void) => {
    const done = this.afterSend(bytes);
    return (err) => {
      this.arena.release();
      done(err);
    };
  };

  /**
   * Holds the socket's writes until the end of this tick, so that the acks and deliveries one
   * turn of the event loop produces leave in one writev instead of one syscall (and, with Nagle
   * off, one TCP segment) each. ws corks around every frame itself; corks nest.
   */
  private corkForTick(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    process.nextTick(() => {
      this.corked = false;
      this.socket.uncork();
    });
  }

  private corked = false;
  /** Small deliveries are copied here rather than into a Buffer each; its memory is taken on first use. */
  private readonly arena: SendArena;

  sendFrame(frame: Uint8Array): void {
    if (this.state === 'closed' || this.ws.readyState !== this.ws.OPEN) return;
    this.corkForTick();
    this.ownQueuedBytes += frame.byteLength;
    this.ws.send(frame, { binary: true }, this.afterSend(frame.byteLength));
    this.updateReading();
  }

  sendDelivery(parts: Uint8Array[], batchBytes: number, records: number): void {
    if (this.state === 'closed' || this.ws.readyState !== this.ws.OPEN) return;
    let total = 0;
    for (const p of parts) total += p.byteLength;
    // Large deliveries go out at once (the peer starts decoding sooner); small ones join the tick's writev.
    if (total <= this.ctx.limits.coalesceBytes) this.corkForTick();
    this.ownQueuedBytes += total;
    const done = this.afterSend(total);
    if (parts.length === 1) this.ws.send(parts[0]!, { binary: true }, done);
    else if (total <= this.ctx.limits.coalesceBytes) {
      // Small: one copy into one message beats a write per fragment; into the socket's ring when
      // it has room, so a delivery allocates no Buffer of its own (send-arena.ts).
      const slice = this.arena.take(total);
      if (slice === null) this.ws.send(Buffer.concat(parts, total), { binary: true }, done);
      else {
        let at = 0;
        for (const p of parts) {
          slice.set(p, at);
          at += p.byteLength;
        }
        this.ws.send(slice, { binary: true }, this.afterArenaSend(total));
      }
    } else {
      // Large: one WebSocket message in fragments, the batches sent from where they lie.
      for (let i = 0; i < parts.length - 1; i++) this.ws.send(parts[i]!, { binary: true, fin: false });
      this.ws.send(parts[parts.length - 1]!, { binary: true, fin: true }, done);
    }
    this.ctx.metrics.bytesOut.inc(batchBytes);
    this.ctx.metrics.recordsOut.inc(records);
    this.buckets.consume?.take(batchBytes);
    this.updateReading();
  }

  private sendError(id: number, e: unknown): void {
    let code: string;
    let message: string;
    // Every refusal is a registry error (FrameError included); anything else is a bug of ours.
    if (isSeglogError(e)) {
      code = e.code;
      message = e.message;
    } else {
      code = GatewayErrorCode.INTERNAL;
      message = e instanceof Error ? e.message : String(e);
      this.ctx.log(`session ${this.id}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : message}`);
    }
    this.ctx.metrics.requestErrors.inc({ code });
    this.sendFrame(encodeError(id, code, message, this.errorRanges ? errorRange(e) : undefined));
  }

  /** Stop reading the socket while too much is in flight or queued; resume below the bounds. */
  private updateReading(): void {
    if (this.state === 'closed') return;
    const { maxInFlight, maxQueuedBytes } = this.ctx.limits;
    const over = this.inFlight >= maxInFlight || this.ownQueuedBytes >= maxQueuedBytes;
    if (over && !this.paused) {
      this.paused = true;
      this.ws.pause();
    } else if (!over && this.paused && this.inFlight < maxInFlight / 2 + 1 && this.ownQueuedBytes < maxQueuedBytes / 2) {
      this.paused = false;
      this.ws.resume();
    }
  }

  private violation(reason: string): void {
    this.ctx.log(`session ${this.id} (${this.remoteAddress}): protocol violation: ${reason}`);
    this.ctx.metrics.requestErrors.inc({ code: 'PROTOCOL_VIOLATION' });
    this.ws.close(CLOSE_PROTOCOL_ERROR, reason.slice(0, CLOSE_REASON_MAX_CHARS));
    this.stopSubscriptions();
    this.state = 'closed';
  }

  // --- requests ------------------------------------------------------------------------------

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    if (!isBinary) return this.violation('text messages are not part of the protocol');
    let header;
    let reader: FrameReader;
    try {
      ({ header, reader } = readHeader(data));
    } catch (e) {
      return this.violation((e as Error).message);
    }
    const { type, id } = header;
    if (this.state === 'handshake') {
      if (type !== FrameType.HELLO) return this.violation(`expected HELLO, got ${frameTypeName(type)}`);
      return this.onHello(id, reader);
    }
    // Nothing but the handshake is taken before it succeeds.
    if (this.state === 'authenticating') return this.violation(`${frameTypeName(type)} sent before HELLO_OK`);
    if (type === FrameType.HELLO) return this.violation('HELLO sent twice');
    if (this.state === 'draining' && type !== FrameType.CREDIT) {
      return this.sendError(id, new ShuttingDownError());
    }
    try {
      this.dispatch(type, id, reader);
    } catch (e) {
      this.sendError(id, e);
    }
  }

  private onHello(id: number, r: FrameReader): void {
    let hello;
    try {
      hello = decodeHello(r);
    } catch (e) {
      return this.violation(`bad HELLO: ${(e as Error).message}`);
    }
    if (hello.minVersion > PROTOCOL_VERSION || hello.maxVersion < MIN_PROTOCOL_VERSION) {
      this.sendFrame(
        encodeError(id, GatewayErrorCode.UNSUPPORTED_VERSION, `server speaks protocol ${MIN_PROTOCOL_VERSION}..${PROTOCOL_VERSION}, client ${hello.minVersion}..${hello.maxVersion}`),
      );
      return this.violation('no common protocol version');
    }
    this.canDecodeLz4 = (hello.flags & CAN_DECODE_LZ4) !== 0;
    this.clearHandshakeTimer();
    this.errorRanges = (hello.flags & ERROR_RANGES) !== 0;
    if (!this.authenticate(id, hello)) return;
    this.protocolVersion = Math.min(hello.maxVersion, PROTOCOL_VERSION);
    this.state = 'open';
    const auth = this.ctx.security.authenticator !== null;
    this.sendFrame(
      encodeHelloOk(
        id,
        {
          version: this.protocolVersion,
          flags: ERROR_RANGES | (auth ? AUTH : 0),
          maxFrameBytes: this.ctx.limits.maxFrameBytes,
          maxBatchBytes: this.ctx.limits.maxBatchBytes,
          serverId: this.ctx.serverId,
          principal: this.principal.name,
        },
        (hello.flags & AUTH) !== 0,
      ),
    );
  }

  /**
   * Sets the principal from the HELLO's token or the TLS client certificate. A failure is answered
   * (ERROR AUTHENTICATION_FAILED, then close 1008) only after the failure delay, and counted
   * against the peer's address; false then.
   */
  private authenticate(helloId: number, hello: Hello): boolean {
    const { authenticator, failures, refusalLog } = this.ctx.security;
    const token = hello.token === '' ? undefined : hello.token;
    if (authenticator === null) {
      // Authentication off: a verified client certificate still names the peer (with every right).
      if (this.peer.certificateName !== undefined) this.principal = { name: this.peer.certificateName, rights: Rights.ALL, quota: {} };
      return true;
    }
    try {
      if (token !== undefined && token.length > TOKEN_MAX_CHARS) throw new AuthenticationFailedError('invalid token');
      this.authenticated = authenticator.authenticate({ token, certificateName: this.peer.certificateName });
    } catch (e) {
      const reason = token === undefined && this.peer.certificateName === undefined ? 'missing' : 'invalid';
      this.ctx.metrics.authFailures.inc({ reason });
      // Never the token: only the peer, its client id and what was wrong.
      refusalLog.line(`authentication failed for session ${this.id} from ${this.remoteAddress} (client ${JSON.stringify(hello.clientId.slice(0, 100))}): ${(e as Error).message}`);
      const delayMs = failures.failed(this.peer.address);
      this.state = 'authenticating';
      const answer = (): void => {
        if (this.state === 'closed') return;
        this.sendFrame(encodeError(helloId, 'AUTHENTICATION_FAILED', (e as Error).message));
        this.ws.close(CLOSE_POLICY_VIOLATION, 'authentication failed');
        this.state = 'closed';
      };
      setTimeout(answer, delayMs).unref();
      return false;
    }
    this.setPrincipal(this.authenticated.principal);
    return true;
  }

  private setPrincipal(p: Principal): void {
    this.principal = p;
    this.buckets = this.ctx.security.quotas.of(p);
  }

  /**
   * After the auth file was reloaded: closes the connection when its credentials are gone, else
   * takes the principal's new rights and ends subscriptions they no longer cover.
   */
  reauthorize(): void {
    const authenticator = this.ctx.security.authenticator;
    if (authenticator === null || this.authenticated === null || this.state === 'closed') return;
    const now = authenticator.recheck(this.authenticated);
    if (now === null) {
      this.ctx.log(`session ${this.id} (${this.remoteAddress}): principal ${JSON.stringify(this.principal.name)} was removed or its token revoked: closed`);
      this.ctx.metrics.revokedSessions.inc();
      this.close(CLOSE_POLICY_VIOLATION, 'credentials revoked');
      this.stopSubscriptions();
      this.state = 'closed';
      return;
    }
    this.authenticated = { principal: now, tokenHash: this.authenticated.tokenHash };
    this.setPrincipal(now);
    for (const sub of [...this.subscriptions.values()]) {
      try {
        this.authorize('consume', 'topic', sub.topic);
      } catch (e) {
        this.subscriptionFailed(sub.id, e);
      }
    }
    for (const [id, m] of this.memberships.entries()) {
      try {
        this.authorize('consume', 'group', m.group);
      } catch (e) {
        // The member leaves (its partitions go to others); the join's id gets the reason.
        this.memberships.leaveById(id);
        this.sendError(id, e);
      }
    }
  }

  /** Throws NOT_AUTHORIZED (counted, logged once, bounded) unless the principal may do this. */
  authorize(action: Action, kind: ResourceKind, name: string): void {
    if (this.principal.rights.allows(action, kind, name)) return;
    this.ctx.metrics.notAuthorized.inc({ action, kind });
    const resource = `${kind} ${JSON.stringify(name)}`;
    this.ctx.security.refusalLog.line(`not authorized: session ${this.id} (${this.remoteAddress}) principal ${JSON.stringify(this.principal.name)} may not ${action} ${resource}`);
    throw new NotAuthorizedError(this.principal.name, action, resource);
  }

  /** Whether the principal has any right on the resource (what listing and describing show). */
  sees(kind: ResourceKind, name: string): boolean {
    return this.principal.rights.sees(kind, name);
  }

  /** Runs an engine request; its answer (or ERROR) goes out when it settles. */
  track(id: number, work: () => Promise<Uint8Array | null>): void {
    this.inFlight++;
    this.updateReading();
    let p: Promise<Uint8Array | null>;
    try {
      p = work();
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (frame) => {
        if (frame !== null) this.sendFrame(frame);
      },
      (e: unknown) => this.sendError(id, e),
    ).finally(() => {
      this.inFlight--;
      this.updateReading();
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    });
  }

  private dispatch(type: number, id: number, r: FrameReader): void {
    const handler = HANDLERS[type];
    if (handler !== undefined) return handler(this, id, r);
    if (isKnownFrameType(type)) throw new FrameError(`${frameTypeName(type)} is a server-to-client frame`);
    throw new UnknownFrameTypeError(frameTypeName(type));
  }

  // --- RequestContext (what handlers see) -----------------------------------------------------

  get engine(): GatewayEngine {
    return this.ctx.engine;
  }

  get metrics(): GatewayMetrics {
    return this.ctx.metrics;
  }

  get limits(): SessionLimits {
    return this.ctx.limits;
  }

  subscriptionFailed(subscriptionId: number, error: unknown): void {
    if (this.subscriptions.remove(subscriptionId)) this.sendError(subscriptionId, error);
  }

  // --- lifecycle -----------------------------------------------------------------------------

  private stopSubscriptions(): void {
    this.subscriptions.closeAll();
  }

  /** Graceful shutdown, step 1: no new requests, no more deliveries; resolves when in-flight requests are answered. */
  drain(): Promise<void> {
    if (this.state === 'open' || this.state === 'handshake' || this.state === 'authenticating') this.state = 'draining';
    this.stopSubscriptions();
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(code = CLOSE_GOING_AWAY, reason = 'server shutting down'): void {
    if (this.ws.readyState === this.ws.OPEN || this.ws.readyState === this.ws.CONNECTING) this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  ping(): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.ping();
  }

  private cleanup(): void {
    if (this.cleanedUp) return;
    this.cleanedUp = true;
    this.clearHandshakeTimer();
    clearTimeout(this.consumeWake);
    this.stopSubscriptions();
    this.memberships.leaveAll();
    this.state = 'closed';
    this.ctx.metrics.connections.dec();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
    this.onClosed(this);
    this.resolveClosed();
  }

  stats(): SessionStats {
    return {
      id: this.id,
      remoteAddress: this.remoteAddress,
      queuedBytes: this.queuedBytes,
      inFlight: this.inFlight,
      paused: this.paused,
      arenaSlices: this.arena.liveSlices,
      subscriptions: [...this.subscriptions.values()].map((s) => ({
        id: s.id,
        topic: s.topic,
        creditBytes: s.credit,
        bytesSent: s.bytesSent,
        positions: s.positions(),
      })),
    };
  }
}
