// One WebSocket connection: handshake, frame dispatch, in-flight requests, subscriptions, and the
// bounds on what we queue for this socket. Bad input from the peer ends in an ERROR frame (or a
// close with a reason for protocol violations) and never throws out of here.
import type { WebSocket } from 'ws';
import {
  BatchTooLargeError,
  CorruptRecordError,
  InvalidArgumentError,
  PartitionNotFoundError,
  isSeglogError,
} from '../../engine/format/errors.js';
import { resolveStartOffset, type StartRequest, type TopicConfig } from '../../engine/index.js';
import type { GatewayEngine } from './engine-port.js';
import type { GatewayMetrics } from './http.js';
import { FrameError, type FrameReader } from '../protocol/codec.js';
import { GatewayErrorCode, encodeError, type ErrorRange } from '../protocol/error.js';
import { encodeFetchResultHeader, decodeFetch } from '../protocol/fetch.js';
import { FrameType, PROTOCOL_VERSION, frameTypeName, isKnownFrameType, readHeader } from '../protocol/frame.js';
import { CAN_DECODE_LZ4, ERROR_RANGES, decodeHello, encodeHelloOk } from '../protocol/hello.js';
import {
  decodeCommit,
  decodeCommitted,
  decodeOffsets,
  encodeCommitOk,
  encodeCommittedResult,
  encodeOffsetsResult,
} from '../protocol/offsets.js';
import { encodePong } from '../protocol/ping.js';
import { decodeProduce, encodeProduceAck } from '../protocol/produce.js';
import {
  decodeCredit,
  decodeSubscribe,
  encodeSubscribed,
  encodeUnsubscribed,
  type PartitionStart,
  type SubscribeRequest,
} from '../protocol/subscribe.js';
import {
  decodeAddPartitions,
  decodeCreateTopic,
  decodeTopicName,
  encodeTopicDeleted,
  encodeTopicDescription,
  encodeTopicList,
} from '../protocol/topics.js';
import { outgoingBatches } from './outgoing-batches.js';
import { ServerSubscription, type DeliverySink } from './subscription.js';

export interface SessionLimits {
  /** Largest record batch in a PRODUCE. */
  maxBatchBytes: number;
  /** Largest message accepted (the WebSocket maxPayload). */
  maxFrameBytes: number;
  /** Bytes handed to the socket and not yet written out, above which delivery pauses and reading stops. */
  maxQueuedBytes: number;
  /** Requests awaiting the engine, above which we stop reading the socket. */
  maxInFlight: number;
  maxSubscriptions: number;
  /** Largest FETCH answer (the engine still returns at least one whole batch). */
  maxFetchBytes: number;
  /** Deliveries up to this size are copied into one buffer; larger ones go out as fragments. */
  coalesceBytes: number;
  readChunkBytes: number;
  readsPerTurn: number;
  /** A connection still without HELLO this long after the upgrade is closed (CLOSE_POLICY_VIOLATION). */
  handshakeTimeoutMs: number;
}

export interface SessionContext {
  engine: GatewayEngine;
  metrics: GatewayMetrics;
  limits: SessionLimits;
  serverId: string;
  log(message: string): void;
}

export interface SessionStats {
  id: number;
  remoteAddress: string;
  /** Bytes queued for this socket (our accounting of sends not yet written, or ws' bufferedAmount). */
  queuedBytes: number;
  inFlight: number;
  paused: boolean;
  subscriptions: Array<{ id: number; topic: string; creditBytes: number; bytesSent: number; positions: Record<number, number> }>;
}

const CLOSE_PROTOCOL_ERROR = 1002;
const CLOSE_GOING_AWAY = 1001;
/** RFC 6455 "policy violation": the peer broke a rule that is not about frame syntax (the HELLO deadline). */
const CLOSE_POLICY_VIOLATION = 1008;

/** The Partial<TopicConfig> keys a CREATE_TOPIC may carry. */
const TOPIC_CONFIG_KEYS = new Set(['partitions', 'segmentBytes', 'segmentMs', 'retentionMs', 'retentionBytes', 'compression', 'maxBatchBytes']);

let nextSessionId = 1;

/** The range an ERROR carries for damaged stored data (CORRUPT_RECORD of a known partition). */
function errorRange(e: unknown): ErrorRange | undefined {
  if (!(e instanceof CorruptRecordError) || e.offset === undefined || e.nextOffset === undefined || e.partition === undefined) return undefined;
  return { partition: e.partition, offset: e.offset, nextOffset: e.nextOffset };
}

/** A refusal with a gateway-level code (engine failures carry the engine's codes). */
class GatewayRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Session implements DeliverySink {
  readonly id = nextSessionId++;
  readonly remoteAddress: string;
  private state: 'handshake' | 'open' | 'draining' | 'closed' = 'handshake';
  canDecodeLz4 = false;
  /** The client reads the range fields of ERROR (HELLO flag ERROR_RANGES). */
  private errorRanges = false;
  private ownQueuedBytes = 0;
  private inFlight = 0;
  private paused = false;
  private readonly subscriptions = new Map<number, ServerSubscription>();
  /** Subscription ids between SUBSCRIBE and SUBSCRIBED (start offsets being resolved). */
  private readonly pendingSubscriptionIds = new Set<number>();
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
    private readonly ctx: SessionContext,
    remoteAddress: string,
    private readonly onClosed: (s: Session) => void,
  ) {
    this.remoteAddress = remoteAddress;
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
    return this.state !== 'closed' && this.queuedBytes < this.ctx.limits.maxQueuedBytes;
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

  /**
   * Holds the socket's writes until the end of this tick, so that the acks and deliveries one
   * turn of the event loop produces leave in one writev instead of one syscall (and, with Nagle
   * off, one TCP segment) each. ws corks around every frame itself; corks nest.
   */
  private corkForTick(): void {
    if (this.corked) return;
    const socket = (this.ws as unknown as { _socket?: { cork?: () => void; uncork?: () => void } })._socket;
    if (typeof socket?.cork !== 'function' || typeof socket.uncork !== 'function') return;
    this.corked = true;
    socket.cork();
    process.nextTick(() => {
      this.corked = false;
      socket.uncork!();
    });
  }

  private corked = false;

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
      // Small: one copy into one message beats a write per fragment.
      this.ws.send(Buffer.concat(parts, total), { binary: true }, done);
    } else {
      // Large: one WebSocket message in fragments, the batches sent from where they lie.
      for (let i = 0; i < parts.length - 1; i++) this.ws.send(parts[i]!, { binary: true, fin: false });
      this.ws.send(parts[parts.length - 1]!, { binary: true, fin: true }, done);
    }
    this.ctx.metrics.bytesOut.inc(batchBytes);
    this.ctx.metrics.recordsOut.inc(records);
    this.updateReading();
  }

  private sendError(id: number, e: unknown): void {
    let code: string;
    let message: string;
    if (e instanceof GatewayRequestError) {
      code = e.code;
      message = e.message;
    } else if (isSeglogError(e)) {
      code = e.code;
      message = e.message;
    } else if (e instanceof FrameError) {
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
    // Close reasons are limited to 123 bytes.
    this.ws.close(CLOSE_PROTOCOL_ERROR, reason.slice(0, 120));
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
    if (type === FrameType.HELLO) return this.violation('HELLO sent twice');
    if (this.state === 'draining' && type !== FrameType.CREDIT) {
      return this.sendError(id, new GatewayRequestError(GatewayErrorCode.SHUTTING_DOWN, 'the server is shutting down'));
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
    if (hello.minVersion > PROTOCOL_VERSION || hello.maxVersion < PROTOCOL_VERSION) {
      this.sendFrame(
        encodeError(id, GatewayErrorCode.UNSUPPORTED_VERSION, `server speaks protocol ${PROTOCOL_VERSION}, client ${hello.minVersion}..${hello.maxVersion}`),
      );
      return this.violation('no common protocol version');
    }
    this.canDecodeLz4 = (hello.flags & CAN_DECODE_LZ4) !== 0;
    this.clearHandshakeTimer();
    this.errorRanges = (hello.flags & ERROR_RANGES) !== 0;
    this.state = 'open';
    this.sendFrame(
      encodeHelloOk(id, {
        version: PROTOCOL_VERSION,
        flags: ERROR_RANGES,
        maxFrameBytes: this.ctx.limits.maxFrameBytes,
        maxBatchBytes: this.ctx.limits.maxBatchBytes,
        serverId: this.ctx.serverId,
      }),
    );
  }

  /** Runs an engine request; its answer (or ERROR) goes out when it settles. */
  private track(id: number, work: () => Promise<Uint8Array | null>): void {
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
    const engine = this.ctx.engine;
    switch (type) {
      case FrameType.PRODUCE: {
        const req = decodeProduce(r);
        const size = req.batch.byteLength;
        if (size > this.ctx.limits.maxBatchBytes) throw new BatchTooLargeError(size, this.ctx.limits.maxBatchBytes);
        const started = performance.now();
        return this.track(id, async () => {
          const partition = req.partition === -1 ? undefined : req.partition;
          // The engine validates (lengths, CRC) and copies the bytes: the frame is appended as is.
          const res = await engine.appendBatch(req.topic, req.batch, { partition, acks: req.acks });
          this.ctx.metrics.appendLatency.observe((performance.now() - started) / 1000);
          this.ctx.metrics.recordsIn.inc(res.lastOffset - res.baseOffset + 1);
          this.ctx.metrics.bytesIn.inc(size);
          return encodeProduceAck(id, { partition: res.partition, baseOffset: res.baseOffset, lastOffset: res.lastOffset });
        });
      }
      case FrameType.SUBSCRIBE: {
        const req = decodeSubscribe(r);
        if (this.subscriptions.has(id) || this.pendingSubscriptionIds.has(id)) {
          throw new InvalidArgumentError(`subscription id ${id} is already in use on this connection`);
        }
        if (this.subscriptions.size + this.pendingSubscriptionIds.size >= this.ctx.limits.maxSubscriptions) {
          throw new InvalidArgumentError(`at most ${this.ctx.limits.maxSubscriptions} subscriptions per connection`);
        }
        this.pendingSubscriptionIds.add(id);
        // subscribe() moves the id from pending to open itself, in the same synchronous step.
        return this.track(id, () => this.subscribe(id, req));
      }
      case FrameType.CREDIT: {
        const bytes = decodeCredit(r);
        // A grant racing with the subscription's end is harmless: ignored.
        this.subscriptions.get(id)?.addCredit(bytes);
        return;
      }
      case FrameType.UNSUBSCRIBE: {
        r.end();
        const sub = this.subscriptions.get(id);
        if (sub === undefined) throw new InvalidArgumentError(`no subscription with id ${id}`);
        sub.close();
        this.subscriptions.delete(id);
        this.ctx.metrics.subscriptions.dec();
        this.sendFrame(encodeUnsubscribed(id));
        return;
      }
      case FrameType.FETCH: {
        const req = decodeFetch(r);
        const read = engine.readBatches(req.topic, req.partition, req.offset, {
          maxBytes: Math.max(1, Math.min(req.maxBytes, this.ctx.limits.maxFetchBytes)),
        });
        const out = outgoingBatches(new Uint8Array(0), read.batches, this.canDecodeLz4, req.topic, req.partition);
        // Fewer batches than read when one did not decompress: the next FETCH, from it, reports it.
        const nextOffset = out.parts.length - 1 < read.batches.length ? out.nextOffset : read.nextOffset;
        out.parts[0] = encodeFetchResultHeader(id, {
          partition: req.partition,
          startOffset: read.startOffset,
          endOffset: read.endOffset,
          nextOffset,
        });
        this.sendDelivery(out.parts, out.bytes, out.records);
        return;
      }
      case FrameType.COMMIT: {
        const req = decodeCommit(r);
        return this.track(id, async () => {
          await engine.commit(req.group, req.topic, req.partition, req.offset);
          return encodeCommitOk(id);
        });
      }
      case FrameType.COMMITTED: {
        const req = decodeCommitted(r);
        return this.track(id, async () => encodeCommittedResult(id, await engine.committed(req.group, req.topic, req.partition)));
      }
      case FrameType.OFFSETS: {
        const req = decodeOffsets(r);
        this.sendFrame(encodeOffsetsResult(id, engine.offsets(req.topic, req.partition)));
        return;
      }
      case FrameType.CREATE_TOPIC: {
        const { name, config } = decodeCreateTopic(r);
        for (const key of Object.keys(config)) {
          if (!TOPIC_CONFIG_KEYS.has(key)) {
            throw new InvalidArgumentError(`unknown topic config ${JSON.stringify(key)} (known: ${[...TOPIC_CONFIG_KEYS].join(', ')})`);
          }
        }
        return this.track(id, async () => encodeTopicDescription(id, await engine.createTopic(name, config as Partial<TopicConfig>)));
      }
      case FrameType.LIST_TOPICS:
        r.end();
        this.sendFrame(encodeTopicList(id, engine.listTopics()));
        return;
      case FrameType.DESCRIBE_TOPIC:
        this.sendFrame(encodeTopicDescription(id, engine.describeTopic(decodeTopicName(r))));
        return;
      case FrameType.DELETE_TOPIC: {
        const name = decodeTopicName(r);
        return this.track(id, async () => {
          await engine.deleteTopic(name);
          return encodeTopicDeleted(id);
        });
      }
      case FrameType.ADD_PARTITIONS: {
        const { name, totalPartitions } = decodeAddPartitions(r);
        return this.track(id, async () => encodeTopicDescription(id, await engine.addPartitions(name, totalPartitions)));
      }
      case FrameType.PING:
        r.end();
        this.sendFrame(encodePong(id, Date.now()));
        return;
      default:
        if (isKnownFrameType(type)) {
          throw new FrameError(`${frameTypeName(type)} is a server-to-client frame`);
        }
        this.ctx.metrics.requestErrors.inc({ code: GatewayErrorCode.UNKNOWN_FRAME_TYPE });
        this.sendFrame(encodeError(id, GatewayErrorCode.UNKNOWN_FRAME_TYPE, `unknown frame type ${frameTypeName(type)}`));
    }
  }

  /**
   * Resolves where each partition starts, then opens the subscription. The id leaves
   * pendingSubscriptionIds exactly when it enters `subscriptions` (or when this fails): a
   * SUBSCRIBE with no group resolves synchronously, and dropping the pending id a microtask later
   * counted it twice against maxSubscriptions for the rest of the read.
   */
  private async subscribe(id: number, req: SubscribeRequest): Promise<null> {
    try {
      const engine = this.ctx.engine;
      const description = engine.describeTopic(req.topic);
      const count = description.partitions.length;
      let partitions: number[];
      if (req.partitions === null) partitions = description.partitions.map((p) => p.partition);
      else {
        partitions = [...new Set(req.partitions)];
        if (partitions.length === 0) throw new InvalidArgumentError('a subscription needs at least one partition');
        for (const p of partitions) if (!(p >= 0 && p < count)) throw new PartitionNotFoundError(req.topic, p, count);
      }
      const resume = new Map(req.resume.map((x) => [x.partition, x.offset]));
      const starts: PartitionStart[] = [];
      for (const partition of partitions) {
        const range = engine.offsets(req.topic, partition);
        let from: number | undefined = resume.get(partition);
        if (from === undefined && req.group !== '') {
          const committed = await engine.committed(req.group, req.topic, partition);
          if (committed !== null) from = committed;
        }
        // The engine's start rule (start-positions.ts): below the log start the pump sends a GAP.
        const request: StartRequest = from !== undefined ? { resume: Math.max(from, 0) } : req.start;
        const startOffset = resolveStartOffset(request, range, (at) => engine.offsetForTimestamp(req.topic, partition, at), `${req.topic}-${partition}`);
        starts.push({ partition, startOffset, endOffset: range.endOffset });
      }
      if (req.partitions === null) {
        // Partitions added while we awaited committed offsets: new, so from offset 0, like those
        // added once the subscription is open (see ServerSubscription's followNewPartitions).
        const total = engine.describeTopic(req.topic).partitions.length;
        for (let partition = count; partition < total; partition++) {
          starts.push({ partition, startOffset: 0, endOffset: engine.offsets(req.topic, partition).endOffset });
        }
      }
      if (this.state !== 'open') return null;
      const sub = new ServerSubscription(
        engine,
        this,
        { readChunkBytes: this.ctx.limits.readChunkBytes, readsPerTurn: this.ctx.limits.readsPerTurn },
        id,
        req.topic,
        starts,
        req.creditBytes,
        req.partitions === null,
      );
      this.subscriptions.set(id, sub);
      this.ctx.metrics.subscriptions.inc();
      this.sendFrame(encodeSubscribed(id, starts));
      sub.schedule();
      return null;
    } finally {
      // Synchronously as this returns or throws (unless it awaited): not a microtask later.
      this.pendingSubscriptionIds.delete(id);
    }
  }

  subscriptionFailed(subscriptionId: number, error: unknown): void {
    const sub = this.subscriptions.get(subscriptionId);
    if (sub === undefined) return;
    sub.close();
    this.subscriptions.delete(subscriptionId);
    this.ctx.metrics.subscriptions.dec();
    this.sendError(subscriptionId, error);
  }

  // --- lifecycle -----------------------------------------------------------------------------

  private stopSubscriptions(): void {
    for (const s of this.subscriptions.values()) s.close();
    this.ctx.metrics.subscriptions.dec(this.subscriptions.size);
    this.subscriptions.clear();
  }

  /** Graceful shutdown, step 1: no new requests, no more deliveries; resolves when in-flight requests are answered. */
  drain(): Promise<void> {
    if (this.state === 'open' || this.state === 'handshake') this.state = 'draining';
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
    this.stopSubscriptions();
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
