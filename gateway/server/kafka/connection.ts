// One Kafka client connection: size-prefixed requests in, responses out in request order.
//
// Framing: an int32 size, then the request (header, body). A size below the header's 8 bytes or
// above maxRequestBytes closes the connection before anything is buffered (as a broker does), and
// so does a request that does not decode: Kafka has no error answer for a request that cannot be
// read, and a client that sent one cannot trust the stream any more. Every close says why in the
// server log. An unknown API key or a version we do not serve also closes the connection (with the
// reason logged), except ApiVersions, which answers an unknown version with the v0 layout and
// UNSUPPORTED_VERSION so the client can retry lower, as the protocol asks.
//
// Requests are handled as they come (a long-polling Fetch does not hold up a Produce behind it),
// answers are written in request order (Kafka clients match them by order). At
// maxInFlightPerConnection requests not yet answered the connection stops reading until answers go out.
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { GatewayMetrics } from '../http.js';
import { Reader, Writer, readStruct, writeStruct, type Struct } from './codec.js';
import type { KafkaContext, RequestInfo } from './context.js';
import { apiVersionsBody } from './handlers/api-versions.js';
import { KafkaError } from './errors.js';
import { inRange, type ApiSchema } from './schema.js';
import { API_VERSIONS } from './messages/core.js';
import { KAFKA_REQUEST_HEADER_MIN_BYTES } from '../limits.js';
import { ANONYMOUS } from '../auth/principal.js';
import type { KafkaPeer } from './peer.js';
import { SASL_AUTHENTICATE, SASL_HANDSHAKE } from './messages/sasl.js';

/** What a peer may ask before SASL names its principal (auth on): Kafka's own pre-authentication set. */
const BEFORE_AUTHENTICATION = new Set([API_VERSIONS.apiKey, SASL_HANDSHAKE.apiKey, SASL_AUTHENTICATE.apiKey]);

/** Why the server closed a connection (the label of seglog_kafka_connections_closed_total). */
type CloseKind = 'request-size' | 'malformed' | 'unknown-api' | 'unsupported-version' | 'failed' | 'unauthenticated' | 'authentication-failed' | 'revoked';

interface Slot {
  /** The encoded answer (size prefix included), null for none (acks=0), undefined while pending. */
  chunks: Buffer[] | null | undefined;
}

export interface KafkaConnectionStats {
  remote: string;
  inFlight: number;
  /** Reading stopped: maxInFlightPerConnection requests are unanswered. */
  paused: boolean;
  requests: number;
}

export class KafkaConnection {
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly slots: Slot[] = [];
  private paused = false;
  private drainWaiters: (() => void)[] = [];
  private requests = 0;
  private readonly abort = new AbortController();
  readonly closed: Promise<void>;
  readonly remote: string;
  private readonly peer: KafkaPeer;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: KafkaContext,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.peer = {
      address: socket.remoteAddress ?? '?',
      remote: this.remote,
      principal: ctx.security.authenticator === null ? ANONYMOUS : null,
      authenticated: null,
      mechanism: null,
      scram: null,
      failed: false,
    };
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      this.readRequests();
    });
    socket.on('error', () => {}); // a reset peer: 'close' follows
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.abort.abort();
      this.slots.length = 0;
      this.drained();
      resolve();
    }));
  }

  stats(): KafkaConnectionStats {
    return { remote: this.remote, inFlight: this.slots.length, paused: this.paused, requests: this.requests };
  }

  /** Resolves once every request read so far is answered. */
  drain(): Promise<void> {
    if (this.slots.length === 0 || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private drained(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Closes the connection for `reason` (logged, bounded) counted as `kind`. */
  private refuse(kind: CloseKind, reason: string): void {
    this.ctx.metrics.kafkaClosed.inc({ reason: kind });
    const line = `kafka connection ${this.remote} closed: ${reason}`;
    // A failing handler is a bug of ours: always logged. The rest a peer can cause at will.
    if (kind === 'failed') this.ctx.log(line);
    else this.ctx.refusalLog.line(line);
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.socket.destroy();
  }

  /** Takes whole requests off the buffered bytes while fewer than the in-flight bound are unanswered. */
  private readRequests(): void {
    while (!this.socket.destroyed && this.pendingBytes >= 4) {
      if (this.slots.length >= this.ctx.limits.maxInFlightPerConnection) {
        if (!this.paused) {
          this.paused = true;
          this.socket.pause();
        }
        return;
      }
      const first = this.pending[0]!.length >= 4 ? this.pending[0]! : Buffer.concat(this.pending);
      const size = first.readInt32BE(0);
      if (size < KAFKA_REQUEST_HEADER_MIN_BYTES || size > this.ctx.limits.maxRequestBytes) {
        return this.refuse('request-size', `request size ${size} is outside ${KAFKA_REQUEST_HEADER_MIN_BYTES}..${this.ctx.limits.maxRequestBytes} bytes`);
      }
      if (this.pendingBytes < 4 + size) return; // joined once whole, not on every chunk
      const head = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
      const request = head.subarray(4, 4 + size);
      const rest = head.subarray(4 + size);
      this.pending.length = 0;
      this.pendingBytes = rest.length;
      if (rest.length > 0) this.pending.push(rest);
      this.handle(request);
    }
    if (this.paused && this.slots.length < this.ctx.limits.maxInFlightPerConnection) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private handle(request: Buffer): void {
    this.requests++;
    const r = new Reader(request);
    const apiKey = r.int16();
    const version = r.int16();
    const correlationId = r.int32();
    const api = this.ctx.apis.get(apiKey);
    if (api === undefined) return this.refuse('unknown-api', `unknown API key ${apiKey} (version ${version}, correlation id ${correlationId})`);
    const authenticator = this.ctx.security.authenticator;
    if (authenticator !== null) {
      // As a broker with SASL: nothing but the handshake before authentication (closed, logged).
      if (this.peer.principal === null && !BEFORE_AUTHENTICATION.has(apiKey)) {
        return this.refuse('unauthenticated', `${api.schema.name} before SASL authentication`);
      }
      // A principal removed or whose token was revoked (auth file reloaded on SIGHUP) loses its connections.
      if (this.peer.authenticated !== null) {
        const now = authenticator.recheck(this.peer.authenticated);
        if (now === null) return this.refuse('revoked', `principal ${JSON.stringify(this.peer.authenticated.principal.name)} is no longer in the auth file (or its token was revoked)`);
        this.peer.principal = now;
      }
    }
    if (!inRange(api.schema.versions, version)) {
      if (apiKey === API_VERSIONS.apiKey) return this.answer(API_VERSIONS, 0, correlationId, apiVersionsBody(this.ctx, KafkaError.UNSUPPORTED_VERSION));
      return this.refuse('unsupported-version', `${api.schema.name} v${version} is not served (versions ${api.schema.versions.min}..${api.schema.versions.max}; the client should have asked ApiVersions)`);
    }
    const flexible = inRange(api.schema.flexible, version);
    let body: Struct;
    let clientId: string | null;
    try {
      const n = r.int16();
      clientId = n < 0 ? null : r.bytes(n).toString('utf8');
      if (flexible) readStruct(r, [], version, true); // request header v2: its tagged fields
      body = readStruct(r, api.schema.request, version, flexible);
    } catch (e) {
      return this.refuse('malformed', `malformed ${api.schema.name} v${version} request: ${(e as Error).message}`);
    }
    const info: RequestInfo = {
      version,
      clientId,
      localAddress: (this.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      localPort: this.socket.localPort ?? 0,
      remoteAddress: (this.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
      closed: this.abort.signal,
      peer: this.peer,
    };
    const slot: Slot = { chunks: undefined };
    this.slots.push(slot);
    const metrics = this.ctx.metrics;
    metrics.kafkaRequests.inc({ api: api.schema.name, version });
    const started = performance.now();
    Promise.resolve()
      .then(() => api.handle(this.ctx, body, info))
      .then((response) => {
        metrics.kafkaLatency.observe({ api: api.schema.name }, (performance.now() - started) / 1000);
        if (response === null) return null;
        countErrors(metrics, api.schema.name, response);
        return encodeResponse(api.schema, version, correlationId, response);
      })
      .then(
        (chunks) => {
          slot.chunks = chunks;
          this.writeAnswered();
        },
        // A handler answers every expected failure in its response; anything else is a bug that
        // ends this connection (logged), never the server.
        (e: unknown) => this.refuse('failed', `${api.schema.name} v${version} failed: ${(e as Error).message}`),
      );
  }

  /** An answer outside the handler path (ApiVersions' UNSUPPORTED_VERSION), in order with the others. */
  private answer(schema: ApiSchema, version: number, correlationId: number, body: Struct): void {
    this.slots.push({ chunks: encodeResponse(schema, version, correlationId, body) });
    this.writeAnswered();
  }

  /** Writes the answers at the head of the queue that are ready, in request order. */
  private writeAnswered(): void {
    if (this.socket.destroyed) {
      this.slots.length = 0;
      return;
    }
    let wrote = false;
    while (this.slots.length > 0 && this.slots[0]!.chunks !== undefined) {
      const chunks = this.slots.shift()!.chunks as Buffer[] | null;
      if (chunks === null) continue;
      if (!wrote) this.socket.cork();
      wrote = true;
      for (const c of chunks) this.socket.write(c);
    }
    if (wrote) this.socket.uncork();
    if (this.peer.failed) {
      // A failed SaslAuthenticate: its answer is out; the connection ends (the reason was logged by the handler).
      this.ctx.metrics.kafkaClosed.inc({ reason: 'authentication-failed' });
      this.slots.length = 0;
      this.socket.end();
      this.drained();
      return;
    }
    if (this.slots.length === 0) this.drained();
    this.readRequests();
  }
}

/** Counts the error codes an answer carries (top level and per topic or partition result). */
function countErrors(metrics: GatewayMetrics, api: string, value: unknown): void {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return;
  if (Array.isArray(value)) {
    for (const v of value) countErrors(metrics, api, v);
    return;
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === 'errorCode' && typeof v === 'number' && v !== KafkaError.NONE) metrics.kafkaErrors.inc({ api, code: v });
    else if (k !== 'records' && typeof v === 'object') countErrors(metrics, api, v);
  }
}

/** Size prefix, response header (v1 with tagged fields in flexible versions; ApiVersions always v0), body. */
export function encodeResponse(schema: ApiSchema, version: number, correlationId: number, body: Struct): Buffer[] {
  const flexible = inRange(schema.flexible, version);
  const w = new Writer();
  w.int32(0); // the size, filled in below
  w.int32(correlationId);
  if (flexible && schema.apiKey !== API_VERSIONS.apiKey) w.uvarint(0);
  writeStruct(w, schema.response, body, version, flexible);
  const size = w.size - 4;
  const chunks = w.finish();
  chunks[0]!.writeInt32BE(size, 0);
  return chunks;
}
