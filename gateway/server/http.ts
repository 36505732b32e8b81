// Plain HTTP on the gateway's port: GET /healthz (JSON) and GET /metrics (Prometheus text, via
// prom-client). Each server has its own registry, so several servers can share a process.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { serveConsole } from './console-page.js';
import type { GatewayEngine } from './engine-port.js';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly connections: Gauge;
  readonly subscriptions: Gauge;
  readonly recordsIn: Counter;
  readonly bytesIn: Counter;
  readonly recordsOut: Counter;
  readonly bytesOut: Counter;
  readonly requestErrors: Counter<'code'>;
  readonly appendLatency: Histogram;
  /** Requests refused before reaching the protocol: reason origin|host, request upgrade|http. */
  readonly refusedRequests: Counter<'reason' | 'request'>;
  readonly handshakeTimeouts: Counter;
  /** Handshakes whose credentials were missing or invalid. */
  readonly authFailures: Counter<'reason'>;
  /** Requests refused NOT_AUTHORIZED, by action and resource kind. */
  readonly notAuthorized: Counter<'action' | 'kind'>;
  /** Time requests and deliveries were held back by byte-rate quotas. */
  readonly quotaThrottle: Counter<'principal' | 'direction'>;
  /** Connections closed because the auth file no longer lists their credentials. */
  readonly revokedSessions: Counter;
  readonly gcPause: Histogram<'kind'>;
  /** The Kafka listener (kafka/): connections, requests by API and version, error codes answered, closes, latency. */
  readonly kafkaConnections: Gauge;
  readonly kafkaRequests: Counter<'api' | 'version'>;
  readonly kafkaErrors: Counter<'api' | 'code'>;
  readonly kafkaClosed: Counter<'reason'>;
  readonly kafkaLatency: Histogram<'api'>;
  /** Event-loop delay, sampled every EVENT_LOOP_RESOLUTION_MS; reset at each scrape. */
  private readonly loopDelay: IntervalHistogram;
  private readonly gcObserver: PerformanceObserver;

  constructor(engine: GatewayEngine) {
    const registers = [this.registry];
    this.connections = new Gauge({ name: 'seglog_connections', help: 'Open WebSocket connections', registers });
    this.subscriptions = new Gauge({ name: 'seglog_subscriptions', help: 'Live subscriptions', registers });
    this.recordsIn = new Counter({ name: 'seglog_records_in_total', help: 'Records appended through the gateway', registers });
    this.bytesIn = new Counter({ name: 'seglog_bytes_in_total', help: 'Record batch bytes appended through the gateway', registers });
    this.recordsOut = new Counter({ name: 'seglog_records_out_total', help: 'Records sent to subscribers and fetches (whole batches)', registers });
    this.bytesOut = new Counter({ name: 'seglog_bytes_out_total', help: 'Record batch bytes sent to subscribers and fetches', registers });
    this.requestErrors = new Counter({ name: 'seglog_request_errors_total', help: 'Error frames sent, by code', labelNames: ['code'], registers });
    this.refusedRequests = new Counter({
      name: 'seglog_refused_requests_total',
      help: 'Requests refused before reaching the protocol, by reason (origin, host: 403; metrics-auth: 401/403; connections: 503; address-connections, auth-rate: 429) and request kind',
      labelNames: ['reason', 'request'],
      registers,
    });
    this.authFailures = new Counter({ name: 'seglog_auth_failures_total', help: 'Handshakes refused AUTHENTICATION_FAILED, by reason (missing, invalid)', labelNames: ['reason'], registers });
    this.notAuthorized = new Counter({ name: 'seglog_not_authorized_total', help: 'Requests refused NOT_AUTHORIZED, by action and resource kind', labelNames: ['action', 'kind'], registers });
    this.quotaThrottle = new Counter({
      name: 'seglog_quota_throttle_seconds_total',
      help: 'Seconds requests and deliveries were delayed by byte-rate quotas, by principal and direction',
      labelNames: ['principal', 'direction'],
      registers,
    });
    this.revokedSessions = new Counter({ name: 'seglog_revoked_sessions_total', help: 'Connections closed because a reload of the auth file removed their principal or token', registers });
    this.handshakeTimeouts = new Counter({ name: 'seglog_handshake_timeouts_total', help: 'Connections closed for not sending HELLO within the handshake timeout', registers });
    this.appendLatency = new Histogram({
      name: 'seglog_append_latency_seconds',
      help: 'Time from a PRODUCE frame arriving to the engine accepting its batch',
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.kafkaConnections = new Gauge({ name: 'seglog_kafka_connections', help: 'Open Kafka protocol connections', registers });
    this.kafkaRequests = new Counter({ name: 'seglog_kafka_requests_total', help: 'Kafka protocol requests handled, by API name and version', labelNames: ['api', 'version'], registers });
    this.kafkaErrors = new Counter({ name: 'seglog_kafka_errors_total', help: 'Kafka error codes answered (per topic or partition result), by API name and Kafka error code', labelNames: ['api', 'code'], registers });
    this.kafkaClosed = new Counter({
      name: 'seglog_kafka_connections_closed_total',
      help: 'Kafka protocol connections closed by the server, by reason (request-size, malformed, unknown-api, unsupported-version, failed, connections)',
      labelNames: ['reason'],
      registers,
    });
    this.kafkaLatency = new Histogram({
      name: 'seglog_kafka_request_seconds',
      help: 'Time from a Kafka request read to its answer ready (long-polling fetches include their wait), by API name',
      labelNames: ['api'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
      registers,
    });
    // A stalled event loop delays every ack and delivery of every connection: make it visible.
    this.loopDelay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    this.loopDelay.enable();
    const loopDelay = this.loopDelay;
    new Gauge({
      name: 'seglog_event_loop_delay_seconds',
      help: `Event-loop delay since the previous scrape (sampled every ${EVENT_LOOP_RESOLUTION_MS} ms), by quantile; quantile 1 is the longest stall`,
      labelNames: ['quantile'],
      registers,
      collect() {
        const seconds = (ns: number): number => (Number.isFinite(ns) ? ns / 1e9 : 0);
        const empty = loopDelay.count === 0;
        this.set({ quantile: '0.5' }, empty ? 0 : seconds(loopDelay.percentile(50)));
        this.set({ quantile: '0.99' }, empty ? 0 : seconds(loopDelay.percentile(99)));
        this.set({ quantile: '1' }, empty ? 0 : seconds(loopDelay.max));
        loopDelay.reset();
      },
    });
    this.gcPause = new Histogram({
      name: 'seglog_gc_pause_seconds',
      help: 'Garbage-collection pauses of the server process, by kind (minor, major, incremental, weakcb)',
      labelNames: ['kind'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers,
    });
    const gcPause = this.gcPause;
    this.gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = GC_KINDS[((entry as { detail?: { kind?: number } }).detail)?.kind ?? 0] ?? 'other';
        gcPause.observe({ kind }, entry.duration / 1000);
      }
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
    new Gauge({
      name: 'seglog_partition_end_offset',
      help: 'Next offset to be assigned, per partition',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const topic of engine.listTopics()) {
          let description;
          try {
            description = engine.describeTopic(topic);
          } catch {
            continue; // deleted while we listed
          }
          for (const p of description.partitions) this.set({ topic, partition: String(p.partition) }, p.endOffset);
        }
      },
    });
    this.groupMetrics(engine, registers);
  }

  /** Per group: members, lag per partition, rebalances (read from the coordinator at each scrape). */
  private groupMetrics(engine: GatewayEngine, registers: Registry[]): void {
    const describeAll = (): Array<ReturnType<GatewayEngine['describeGroup']>> => {
      const out = [];
      for (const g of engine.listGroups()) {
        try {
          out.push(engine.describeGroup(g.group));
        } catch {
          // deleted while we listed
        }
      }
      return out;
    };
    new Gauge({
      name: 'seglog_group_members',
      help: 'Members of each consumer group',
      labelNames: ['group'],
      registers,
      collect() {
        this.reset();
        for (const g of engine.listGroups()) this.set({ group: g.group }, g.members);
      },
    });
    new Gauge({
      name: 'seglog_group_lag',
      help: 'End offset minus the group\'s committed offset, per partition (partitions without a commit are left out)',
      labelNames: ['group', 'topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const d of describeAll()) {
          for (const o of d.offsets) if (o.lag !== null) this.set({ group: d.group, topic: o.topic, partition: String(o.partition) }, o.lag);
        }
      },
    });
    new Counter({
      name: 'seglog_group_rebalances_total',
      help: 'Assignment changes (revocations and assignments) of each consumer group since the server started',
      labelNames: ['group'],
      registers,
      collect() {
        this.reset();
        for (const d of describeAll()) if (d.rebalances > 0) this.inc({ group: d.group }, d.rebalances);
      },
    });
  }

  /** Stops the event-loop monitor and the GC observer (the server is closing). */
  close(): void {
    this.loopDelay.disable();
    this.gcObserver.disconnect();
  }
}

const EVENT_LOOP_RESOLUTION_MS = 10;
/** perf_hooks constants.NODE_PERFORMANCE_GC_* (1, 4, 8, 16) to names. */
const GC_KINDS: Record<number, string> = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weakcb' };

export interface HealthSource {
  health(): Record<string, unknown>;
}

export function handleHttp(req: IncomingMessage, res: ServerResponse, metrics: GatewayMetrics, source: HealthSource): void {
  const path = (req.url ?? '/').split('?')[0];
  const reply = (status: number, type: string, body: string): void => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    reply(405, 'application/json', JSON.stringify({ error: 'method not allowed' }));
    return;
  }
  if (path === '/healthz') {
    const h = source.health();
    reply(h['status'] === 'ok' ? 200 : 503, 'application/json', JSON.stringify(h));
    return;
  }
  if (serveConsole(path, res)) return;
  if (path === '/metrics') {
    metrics.registry.metrics().then(
      (text) => reply(200, metrics.registry.contentType, text),
      (e: unknown) => reply(500, 'text/plain', `metrics failed: ${(e as Error).message}`),
    );
    return;
  }
  reply(404, 'application/json', JSON.stringify({ error: 'not found', paths: ['/ (console)', '/api (see /api/openapi.json)', '/healthz', '/metrics', 'WebSocket upgrade on /'] }));
}
