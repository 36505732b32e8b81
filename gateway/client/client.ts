// seglog/client: the gateway client for Node and browsers. One WebSocket carries every request,
// produce and subscription of a client. Browser-safe: no Buffer, no node: imports (Node's `ws` is
// loaded lazily only where there is no global WebSocket).
//
//   const client = await SeglogClient.connect('ws://127.0.0.1:7070');
//   await client.send('events', { key: 'user-1', value: 'hello' });   // → { partition, offset }
//   for await (const record of client.subscribe('events', { from: 'earliest' })) { ... }
//
// Reconnects with backoff. Subscriptions resume from the last offset they received, so no record
// is lost or repeated. Produce requests in flight when the connection drops are rejected with
// code DISCONNECTED (the batch may or may not have been written: we never retry silently, which
// could duplicate it); batches not yet sent wait for the new connection.
import type { TopicConfig, TopicDescription } from '../../engine/format/topic-types.js';
import { decodeBatches, type ClientRecord } from './record-codec.js';
import { ClientErrorCode, SeglogClientError } from './client-errors.js';
import type { ClientConnection, PushTarget } from './connection.js';
import { Consumer, type ConsumerOptions } from './consumer.js';
import { GroupConsumer, type GroupConsumerOptions } from './group-consumer.js';
import { loadNativeCrc32c } from './crc32c.js';
import {
  CLOSE_HANDSHAKE_WAIT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FETCH_MAX_BYTES,
  DEFAULT_RECONNECT_INITIAL_DELAY_MS,
  DEFAULT_RECONNECT_MAX_DELAY_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  FREE_ID_ATTEMPTS,
  MAX_REQUEST_ID,
} from './limits.js';
import { isLz4Loaded, loadLz4 } from './lz4.js';
import { Producer, type BatchMetadata, type ProducerOptions, type RecordMetadata, type SendOptions } from './producer.js';
import type { FrameReader } from '../protocol/codec.js';
import { decodeError } from '../protocol/error.js';
import { decodeFetchResult, encodeFetch } from '../protocol/fetch.js';
import { FrameType, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, frameTypeName, readHeader } from '../protocol/frame.js';
import {
  decodeGroupJson,
  decodeGroupResetOk,
  encodeGroupName,
  encodeListGroups,
  encodeResetGroup,
  type WireResetTarget,
} from '../protocol/groups.js';
import { AUTH, CAN_DECODE_LZ4, ERROR_RANGES, decodeHelloOk, encodeHello, type HelloOk } from '../protocol/hello.js';
import {
  decodeCommittedResult,
  decodeOffsetsResult,
  encodeCommit,
  encodeCommitted,
  encodeOffsets,
} from '../protocol/offsets.js';
import { decodePong, encodePing } from '../protocol/ping.js';
import {
  decodeTopicDescription,
  decodeTopicList,
  encodeAddPartitions,
  encodeCreateTopic,
  encodeListTopics,
  encodeTopicName,
} from '../protocol/topics.js';
import { OPEN, messageBytes, openWebSocket, type ClientTlsOptions, type FrameMasking, type WebSocketConstructor, type WebSocketLike } from './socket.js';
import type { RecordInput } from '../../engine/format/record-types.js';

export { SeglogClientError, ClientErrorCode, type CorruptRange } from './client-errors.js';
export { Producer, type BatchMetadata, type ProducerOptions, type RecordMetadata, type SendOptions } from './producer.js';
export { Consumer, type ConsumerOptions, type CorruptInfo, type GapInfo } from './consumer.js';
export { GroupConsumer, type GroupConsumerOptions, type TopicPartitions } from './group-consumer.js';
export type { ClientRecord, ClientRecordHeader } from './record-codec.js';
export type { ClientTlsOptions, FrameMasking } from './socket.js';
export type { ClientConnection, PushTarget } from './connection.js';
export type { RecordInput, TopicConfig, TopicDescription };

/** DESCRIBE_GROUP's answer (engine GroupDescription, as JSON). */
export interface GroupDescriptionJson {
  group: string;
  state: string;
  protocolType: string;
  groupEpoch: number;
  rebalances: number;
  members: Array<{ memberId: string; clientId: string; memberEpoch: number; topics: string[]; assignment: Array<{ topic: string; partitions: number[] }>; revoking: Array<{ topic: string; partitions: number[] }> }>;
  offsets: Array<{ topic: string; partition: number; committed: number | null; endOffset: number; lag: number | null; memberId: string | null }>;
}

export interface ReconnectOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Give up after this many failed attempts in a row (default: never). */
  maxAttempts?: number;
}

export interface ClientOptions {
  clientId?: string;
  /**
   * The token `seglog auth add` printed, sent in the handshake (HELLO) to a server that requires
   * authentication. Sent on every reconnect; a server that refuses it ends the client with
   * AUTHENTICATION_FAILED (no further attempts).
   */
  token?: string;
  /** Node only (browsers use the system's trust): a CA for wss:// URLs, and a client certificate. */
  tls?: ClientTlsOptions;
  /**
   * Node only: `auto` (default) masks frames with a zero key over wss:// or to a loopback host
   * (no intermediary reads them there; it saves a copy and an XOR per frame at both ends),
   * `random` always with a random key. See FrameMasking in socket.ts and PROTOCOL.md §1.
   */
  frameMasking?: FrameMasking;
  /** Announce that we decode LZ4 (loads lz4js). Otherwise the server sends LZ4 batches decompressed. Default true. */
  lz4?: boolean;
  /** Default 30 s. */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /** Reconnect after a lost connection. Default true. `false` fails everything on the first loss. */
  reconnect?: boolean | ReconnectOptions;
  /** A WebSocket implementation to use instead of the global one (or `ws`). */
  WebSocket?: WebSocketConstructor;
  /** Called on connection events, for logging. */
  onConnectionEvent?: (event: { type: 'disconnected' | 'reconnected' | 'reconnect-failed'; error?: Error }) => void;
}

interface Pending {
  expect: number;
  decode: (r: FrameReader, type: number) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface FetchResult {
  records: ClientRecord[];
  nextOffset: number;
  startOffset: number;
  endOffset: number;
}

export class SeglogClient implements ClientConnection {
  private ws: WebSocketLike | null = null;
  private nextRequestId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly pushTargets = new Map<number, PushTarget>();
  private state: 'open' | 'reconnecting' | 'closed' = 'reconnecting';
  private openWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private closeError: SeglogClientError | null = null;
  private defaultProducer: Producer | null = null;
  private readonly producers = new Set<Producer>();
  server: HelloOk | null = null;
  private readonly requestTimeoutMs: number;
  private readonly reconnect: Required<ReconnectOptions> | null;

  private constructor(
    readonly url: string,
    private readonly options: ClientOptions,
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const r = options.reconnect ?? true;
    this.reconnect =
      r === false
        ? null
        : {
            initialDelayMs: (r === true ? undefined : r.initialDelayMs) ?? DEFAULT_RECONNECT_INITIAL_DELAY_MS,
            maxDelayMs: (r === true ? undefined : r.maxDelayMs) ?? DEFAULT_RECONNECT_MAX_DELAY_MS,
            maxAttempts: (r === true ? undefined : r.maxAttempts) ?? Infinity,
          };
  }

  /** Connects (the first attempt is not retried: a wrong URL fails fast). */
  static async connect(url: string, options: ClientOptions = {}): Promise<SeglogClient> {
    const client = new SeglogClient(url, options);
    // Native CRC-32C and LZ4 where they load (Node); plain JavaScript otherwise.
    await loadNativeCrc32c();
    if (options.lz4 !== false) await loadLz4();
    await client.open();
    return client;
  }

  /** True when the client decodes LZ4 itself. */
  get canDecodeLz4(): boolean {
    return this.options.lz4 !== false && isLz4Loaded();
  }

  get isConnected(): boolean {
    return this.state === 'open';
  }

  private async open(): Promise<void> {
    let ws: WebSocketLike;
    try {
      ws = await openWebSocket(this.url, this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, this.options.WebSocket, this.options.tls, this.options.frameMasking);
    } catch (e) {
      throw new SeglogClientError(ClientErrorCode.CONNECT_FAILED, (e as Error).message, { cause: e });
    }
    this.ws = ws;
    ws.onmessage = (ev) => this.onMessage(ws, ev.data);
    ws.onclose = (ev) => this.onSocketClosed(ws, `closed by the server (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`);
    ws.onerror = () => {
      // followed by onclose
    };
    // The handshake goes out before any queued request (they wait for state 'open').
    // AUTH only with a token: a server older than authentication would refuse the extra field.
    const auth = this.options.token !== undefined;
    const hello = this.sendRequest<HelloOk>(
      ws,
      (id) =>
        encodeHello(id, {
          minVersion: MIN_PROTOCOL_VERSION,
          maxVersion: PROTOCOL_VERSION,
          flags: ERROR_RANGES | (this.canDecodeLz4 ? CAN_DECODE_LZ4 : 0) | (auth ? AUTH : 0),
          clientId: this.options.clientId ?? 'seglog-client',
          token: this.options.token,
        }),
      FrameType.HELLO_OK,
      (r) => decodeHelloOk(r, auth),
    );
    try {
      this.server = await hello;
    } catch (e) {
      ws.onclose = null;
      ws.close();
      throw e;
    }
    if ((this.state as string) === 'closed') {
      // close() was called during the handshake.
      ws.onclose = ws.onmessage = null;
      ws.close(1000, 'client closed');
      throw this.closedError();
    }
    this.state = 'open';
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const w of waiters) w.resolve();
  }

  // --- plumbing --------------------------------------------------------------------------------

  /** @internal A fresh request or subscription id. */
  allocateId(): number {
    for (let i = 0; i < FREE_ID_ATTEMPTS; i++) {
      const id = this.nextRequestId;
      this.nextRequestId = id >= MAX_REQUEST_ID ? 1 : id + 1;
      if (!this.pending.has(id) && !this.pushTargets.has(id)) return id;
    }
    throw new SeglogClientError(ClientErrorCode.PROTOCOL_ERROR, 'no free request id');
  }

  /** @internal Resolves when connected; rejects when the client closed (or after the timeout). */
  whenOpen(timeoutMs = this.requestTimeoutMs): Promise<void> {
    if (this.state === 'open') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.openWaiters = this.openWaiters.filter((w) => w !== waiter);
        reject(new SeglogClientError(ClientErrorCode.TIMEOUT, `not connected to ${this.url} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.openWaiters.push(waiter);
    });
  }

  private closedError(): SeglogClientError {
    return this.closeError ?? new SeglogClientError(ClientErrorCode.CLOSED, 'the client is closed');
  }

  private sendRequest<T>(
    ws: WebSocketLike,
    build: (id: number) => Uint8Array,
    expect: number,
    decode: (r: FrameReader, type: number) => T,
    id = this.allocateId(),
    timeoutMs: number | null = this.requestTimeoutMs,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.pending.has(id)) {
        // Two outstanding requests with one id would each take the other's answer.
        reject(new SeglogClientError(ClientErrorCode.PROTOCOL_ERROR, `request id ${id} is already awaiting an answer`));
        return;
      }
      let frame: Uint8Array;
      try {
        frame = build(id);
      } catch (e) {
        // An argument that does not fit its field (NaN, a float, out of range): refused here.
        reject(new SeglogClientError('INVALID_ARGUMENT', (e as Error)?.message ?? String(e), { cause: e }));
        return;
      }
      const entry: Pending = { expect, decode, resolve: resolve as (v: unknown) => void, reject, timer: undefined };
      if (timeoutMs !== null) {
        entry.timer = setTimeout(() => {
          if (this.pending.get(id) === entry) this.pending.delete(id);
          reject(new SeglogClientError(ClientErrorCode.TIMEOUT, `no answer to request ${id} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      try {
        ws.send(frame);
      } catch (e) {
        this.pending.delete(id);
        clearTimeout(entry.timer);
        reject(new SeglogClientError(ClientErrorCode.DISCONNECTED, `send failed: ${(e as Error).message}`));
      }
    });
  }

  /**
   * @internal Sends a request once connected and resolves with its decoded answer. Requests made
   * while reconnecting wait (up to requestTimeoutMs) and go out on the new connection.
   */
  async request<T>(
    build: (id: number) => Uint8Array,
    expect: number,
    decode: (r: FrameReader, type: number) => T,
    options: { id?: number; timeoutMs?: number | null } = {},
  ): Promise<T> {
    await this.whenOpen();
    return this.sendRequest(this.ws!, build, expect, decode, options.id ?? this.allocateId(), options.timeoutMs === undefined ? this.requestTimeoutMs : options.timeoutMs);
  }

  /** @internal Fire-and-forget frame (CREDIT, UNSUBSCRIBE); dropped when not connected. */
  sendRaw(frame: Uint8Array): boolean {
    if (this.state !== 'open' || this.ws === null || this.ws.readyState !== OPEN) return false;
    this.ws.send(frame);
    return true;
  }

  /** @internal Bytes the socket has not written yet (for producer backpressure). */
  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0;
  }

  /** @internal */
  registerPushTarget(id: number, target: PushTarget): void {
    this.pushTargets.set(id, target);
  }

  /** @internal */
  unregisterPushTarget(id: number): void {
    this.pushTargets.delete(id);
  }

  private onMessage(ws: WebSocketLike, data: unknown): void {
    if (ws !== this.ws) return;
    const bytes = messageBytes(data);
    if (bytes === null) return this.protocolFailure(ws, 'the server sent a text message');
    let header;
    let reader: FrameReader;
    try {
      ({ header, reader } = readHeader(bytes));
    } catch (e) {
      return this.protocolFailure(ws, (e as Error).message);
    }
    const { type, id } = header;
    try {
      if (type === FrameType.DELIVER || type === FrameType.GAP || type === FrameType.GROUP_ASSIGNMENT) {
        // A push for a subscription we already ended is dropped.
        this.pushTargets.get(id)?.onPush(type, reader);
        return;
      }
      const pending = this.pending.get(id);
      if (type === FrameType.ERROR) {
        const body = decodeError(reader);
        const error = new SeglogClientError(body.code, body.message, body.range !== undefined ? { range: body.range } : undefined);
        if (pending !== undefined) {
          this.settle(id, pending);
          pending.reject(error);
        } else if (this.pushTargets.has(id)) {
          const target = this.pushTargets.get(id)!;
          this.pushTargets.delete(id);
          target.onSubscriptionError(error);
        }
        // Otherwise: about a request that timed out or a subscription already ended. Dropped.
        return;
      }
      if (pending === undefined) return; // answer to a request that timed out
      this.settle(id, pending);
      if (type !== pending.expect) {
        pending.reject(new SeglogClientError(ClientErrorCode.PROTOCOL_ERROR, `expected ${frameTypeName(pending.expect)}, got ${frameTypeName(type)}`));
        return;
      }
      pending.resolve(pending.decode(reader, type));
    } catch (e) {
      this.protocolFailure(ws, `bad ${frameTypeName(type)} frame: ${(e as Error).message}`);
    }
  }

  private settle(id: number, p: Pending): void {
    this.pending.delete(id);
    clearTimeout(p.timer);
  }

  private protocolFailure(ws: WebSocketLike, reason: string): void {
    try {
      ws.close(1002, reason.slice(0, 120));
    } catch {
      // already closing
    }
    this.onSocketClosed(ws, `protocol error: ${reason}`);
  }

  private onSocketClosed(ws: WebSocketLike, reason: string): void {
    if (ws !== this.ws) return;
    ws.onmessage = ws.onclose = ws.onerror = null;
    this.ws = null;
    const error = new SeglogClientError(ClientErrorCode.DISCONNECTED, `connection to ${this.url} lost (${reason}) before the answer came`);
    for (const [id, p] of this.pending) {
      this.settle(id, p);
      p.reject(error);
    }
    if (this.state === 'open') for (const t of [...this.pushTargets.values()]) t.onDisconnected?.();
    // A failure during a handshake is reported by open() to whoever called it.
    if (this.state !== 'open') return;
    if (this.reconnect === null) {
      this.shutdown(new SeglogClientError(ClientErrorCode.DISCONNECTED, `connection to ${this.url} lost (${reason})`));
      return;
    }
    this.state = 'reconnecting';
    this.options.onConnectionEvent?.({ type: 'disconnected', error });
    void this.reconnectLoop();
  }

  private async reconnectLoop(): Promise<void> {
    const r = this.reconnect!;
    let delay = r.initialDelayMs;
    for (let attempt = 1; attempt <= r.maxAttempts; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random() / 2)));
      if (this.state === 'closed') return;
      try {
        await this.open();
        this.options.onConnectionEvent?.({ type: 'reconnected' });
        for (const t of [...this.pushTargets.values()]) t.onReconnected();
        return;
      } catch (e) {
        if ((this.state as string) === 'closed') return;
        if ((e as { code?: string }).code === 'AUTHENTICATION_FAILED') {
          // Revoked or wrong credentials do not come right by retrying.
          const error = new SeglogClientError('AUTHENTICATION_FAILED', `reconnecting to ${this.url}: ${(e as Error).message}`);
          this.options.onConnectionEvent?.({ type: 'reconnect-failed', error });
          this.shutdown(error);
          return;
        }
        delay = Math.min(delay * 2, r.maxDelayMs);
        if (attempt === r.maxAttempts) {
          const error = new SeglogClientError(ClientErrorCode.CONNECT_FAILED, `gave up reconnecting to ${this.url} after ${attempt} attempts: ${(e as Error).message}`);
          this.options.onConnectionEvent?.({ type: 'reconnect-failed', error });
          this.shutdown(error);
        }
      }
    }
  }

  private shutdown(error: SeglogClientError): void {
    this.state = 'closed';
    this.closeError = error;
    const waiters = this.openWaiters;
    this.openWaiters = [];
    for (const w of waiters) w.reject(error);
    for (const t of [...this.pushTargets.values()]) t.onClientClosed(error);
    this.pushTargets.clear();
    for (const p of this.producers) p.failAll(error);
  }

  // --- produce ---------------------------------------------------------------------------------

  /** A producer with its own batching settings. */
  producer(options: ProducerOptions = {}): Producer {
    const p = new Producer(this, options, () => this.producers.delete(p));
    this.producers.add(p);
    return p;
  }

  /** Sends through the client's default producer (linger 0: batches what is sent in one tick). */
  send(topic: string, record: RecordInput, options?: SendOptions): Promise<RecordMetadata>;
  send(topic: string, records: RecordInput[], options?: SendOptions): Promise<RecordMetadata[]>;
  send(topic: string, records: RecordInput | RecordInput[], options?: SendOptions): Promise<RecordMetadata | RecordMetadata[]> {
    this.defaultProducer ??= this.producer({ lingerMs: 0 });
    return this.defaultProducer.send(topic, records as RecordInput[], options);
  }

  /** One batch, one answer: see Producer.sendBatch(). Through the client's default producer. */
  sendBatch(topic: string, records: RecordInput[], options?: SendOptions): Promise<BatchMetadata> {
    this.defaultProducer ??= this.producer({ lingerMs: 0 });
    return this.defaultProducer.sendBatch(topic, records, options);
  }

  // --- consume ---------------------------------------------------------------------------------

  /**
   * A consumer: an async iterator of records, granting credit as it is consumed. With `group` (and
   * no `partitions`): a member of the consumer group, sharing the topics' partitions with the other
   * members (GroupConsumer). With `partitions`, `group` only names where offsets are committed.
   */
  subscribe(topics: string | string[], options: GroupConsumerOptions): GroupConsumer;
  subscribe(topic: string, options?: ConsumerOptions): Consumer;
  subscribe(topics: string | string[], options: ConsumerOptions | GroupConsumerOptions = {}): Consumer | GroupConsumer {
    if (options.group !== undefined && options.partitions === undefined) {
      this.needsVersion(2, 'consumer groups');
      return new GroupConsumer(this, topics, options as GroupConsumerOptions);
    }
    if (typeof topics !== 'string') throw new SeglogClientError('INVALID_ARGUMENT', 'several topics need a consumer group ({ group })');
    return new Consumer(this, topics, options as ConsumerOptions);
  }

  /** Refuses a feature the connected server's protocol version lacks (an older server). */
  private needsVersion(version: number, what: string): void {
    if (this.server !== null && this.server.version < version) {
      throw new SeglogClientError('UNSUPPORTED_VERSION', `${what} need protocol version ${version}; the server speaks ${this.server.version}`);
    }
  }

  /**
   * Pulls whole batches of one partition from `offset` (records before `offset` are skipped). Stops
   * before damaged stored data; a fetch from inside it rejects with CORRUPT_RECORD whose
   * `offset`/`nextOffset` give the range: fetch from nextOffset to go on past it.
   */
  async fetch(topic: string, partition: number, offset: number, options: { maxBytes?: number } = {}): Promise<FetchResult> {
    const res = await this.request((id) => encodeFetch(id, { topic, partition, offset, maxBytes: options.maxBytes ?? DEFAULT_FETCH_MAX_BYTES }), FrameType.FETCH_RESULT, decodeFetchResult);
    // The answer's bytes are a view of the message; decoding copies nothing either.
    return { records: decodeBatches(res.batches, topic, partition, offset), nextOffset: res.nextOffset, startOffset: res.startOffset, endOffset: res.endOffset };
  }

  // --- offsets and admin -----------------------------------------------------------------------

  /** Stores `offset` (the next offset the group will read) for a consumer group. */
  async commit(group: string, topic: string, partition: number, offset: number): Promise<void> {
    await this.request((id) => encodeCommit(id, { group, topic, partition, offset }), FrameType.COMMIT_OK, (r) => r.end());
  }

  committed(group: string, topic: string, partition: number): Promise<number | null> {
    return this.request((id) => encodeCommitted(id, { group, topic, partition }), FrameType.COMMITTED_RESULT, decodeCommittedResult);
  }

  offsets(topic: string, partition: number): Promise<{ startOffset: number; endOffset: number }> {
    return this.request((id) => encodeOffsets(id, { topic, partition }), FrameType.OFFSETS_RESULT, decodeOffsetsResult);
  }

  createTopic(name: string, config: Partial<TopicConfig> = {}): Promise<TopicDescription> {
    return this.request((id) => encodeCreateTopic(id, name, config), FrameType.TOPIC_DESCRIPTION, (r) => decodeTopicDescription<TopicDescription>(r));
  }

  listTopics(): Promise<string[]> {
    return this.request(encodeListTopics, FrameType.TOPIC_LIST, decodeTopicList);
  }

  describeTopic(name: string): Promise<TopicDescription> {
    return this.request((id) => encodeTopicName(FrameType.DESCRIBE_TOPIC, id, name), FrameType.TOPIC_DESCRIPTION, (r) => decodeTopicDescription<TopicDescription>(r));
  }

  async deleteTopic(name: string): Promise<void> {
    await this.request((id) => encodeTopicName(FrameType.DELETE_TOPIC, id, name), FrameType.TOPIC_DELETED, (r) => r.end());
  }

  addPartitions(name: string, totalPartitions: number): Promise<TopicDescription> {
    return this.request((id) => encodeAddPartitions(id, name, totalPartitions), FrameType.TOPIC_DESCRIPTION, (r) => decodeTopicDescription<TopicDescription>(r));
  }

  // --- consumer groups -------------------------------------------------------------------------

  /** Every group the server knows: `{ group, state, protocolType, members }`. */
  listGroups(): Promise<Array<{ group: string; state: string; protocolType: string; members: number }>> {
    return this.request(encodeListGroups, FrameType.GROUP_LIST, (r) => decodeGroupJson(r));
  }

  /** State, members with assignments, per partition committed, end offset and lag (PROTOCOL.md §4.10). */
  describeGroup(group: string): Promise<GroupDescriptionJson> {
    return this.request((id) => encodeGroupName(FrameType.DESCRIBE_GROUP, id, group), FrameType.GROUP_DESCRIPTION, (r) => decodeGroupJson<GroupDescriptionJson>(r));
  }

  /** Moves the group's committed offsets of a topic (refused while it has members: GROUP_NOT_EMPTY). */
  resetGroupOffsets(group: string, topic: string, to: WireResetTarget): Promise<Array<{ partition: number; offset: number }>> {
    return this.request((id) => encodeResetGroup(id, { group, topic, to }), FrameType.GROUP_RESET_OK, decodeGroupResetOk);
  }

  async deleteGroup(group: string): Promise<void> {
    await this.request((id) => encodeGroupName(FrameType.DELETE_GROUP, id, group), FrameType.GROUP_DELETED, (r) => r.end());
  }

  /** Round trip to the server. */
  async ping(): Promise<{ rttMs: number; serverTimeMs: number }> {
    const started = Date.now();
    const serverTimeMs = await this.request(encodePing, FrameType.PONG, decodePong);
    return { rttMs: Date.now() - started, serverTimeMs };
  }

  /** Flushes producers, ends subscriptions, closes the socket. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    await Promise.allSettled([...this.producers].map((p) => p.flush()));
    this.shutdown(new SeglogClientError(ClientErrorCode.CLOSED, 'the client is closed'));
    const ws = this.ws;
    this.ws = null;
    if (ws !== null) {
      ws.onmessage = ws.onerror = null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, CLOSE_HANDSHAKE_WAIT_MS);
        ws.onclose = () => {
          clearTimeout(timer);
          resolve();
        };
        try {
          ws.close(1000, 'client closed');
        } catch {
          clearTimeout(timer);
          resolve();
        }
      });
    }
    for (const [id, p] of this.pending) {
      this.settle(id, p);
      p.reject(this.closedError());
    }
  }
}
