// Shared setup for the Kafka listener tests: an engine in memory, a gateway with the Kafka listener
// on free loopback ports, kafkajs clients, kcat runs, and a raw socket that sends requests encoded
// by kafkajs's own protocol code (an implementation independent of ours) and reads the answers.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { Engine } from '../../engine/index.js';
import type { EngineOptions } from '../../engine/types.js';
import { SeglogClient } from '../../gateway/client/client.js';
import type { KafkaListenerOptions } from '../../gateway/server/kafka/listener.js';
import { GatewayServer, type GatewayOptions } from '../../gateway/server/server.js';
import '../engine/kafkajs-helpers.js'; // registers kafkajs's LZ4 codec

const require = createRequire(import.meta.url);

export interface KafkaHarness {
  engine: Engine;
  server: GatewayServer;
  port: number;
  broker: string;
  logs: string[];
  kafkajs(): Kafka;
  client(): Promise<SeglogClient>;
  stop(): Promise<void>;
}

export async function startKafka(
  engineOptions: Partial<EngineOptions> = {},
  kafkaOptions: KafkaListenerOptions & { autoCreateTopics?: boolean } = {},
  serverOptions: Partial<Omit<GatewayOptions, 'engine' | 'kafka'>> = {},
): Promise<KafkaHarness> {
  const engine = await Engine.open({ memory: true, ...engineOptions });
  const logs: string[] = [];
  const server = await GatewayServer.start({ engine, host: '127.0.0.1', port: 0, log: (m) => logs.push(m), kafka: { host: '127.0.0.1', port: 0, ...kafkaOptions }, ...serverOptions });
  const port = server.kafka!.port;
  const clients: SeglogClient[] = [];
  return {
    engine,
    server,
    port,
    broker: `127.0.0.1:${port}`,
    logs,
    kafkajs: () => new Kafka({ brokers: [`127.0.0.1:${port}`], clientId: 'seglog-test', logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 50 } }),
    async client() {
      const c = await SeglogClient.connect(server.url, { requestTimeoutMs: 10_000 });
      clients.push(c);
      return c;
    },
    async stop() {
      await Promise.allSettled(clients.map((c) => c.close()));
      await server.close(2000);
      await engine.close();
    },
  };
}

export interface KcatRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

export const KCAT_TIMEOUT_MS = 20_000;

/** Runs kcat (Debian's `kcat`, installed by .ci/run); fails the test when it is missing. */
export function kcat(args: string[], input?: Buffer | string): Promise<KcatRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (e) => reject(new Error(`kcat could not run (is Debian's kcat installed? .ci/run installs it): ${e.message}`)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kcat ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, KCAT_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** A kafkajs protocol request (apiKey, apiVersion, encode) and its response decoder, from kafkajs's sources. */
export interface KafkajsProtocol {
  request: { apiKey: number; apiVersion: number; encode(): Promise<any> };
  response: { decode(payload: Buffer): Promise<any>; parse(decoded: any): Promise<any> };
}

export function kafkajsProtocol(name: string, version: number, args: Record<string, unknown>): KafkajsProtocol {
  const request = require(`kafkajs/src/protocol/requests/${name}/v${version}/request`)(args);
  const response = require(`kafkajs/src/protocol/requests/${name}/v${version}/response`);
  return { request, response };
}
/** kafkajs's Fetch v11 request for one topic's partitions. */
export function fetchV11(topic: string, partitions: { partition: number; fetchOffset: number; maxBytes: number }[], o: { maxWaitTime?: number; minBytes?: number; maxBytes?: number } = {}) {
  return kafkajsProtocol('fetch', 11, {
    replicaId: -1,
    maxWaitTime: o.maxWaitTime ?? 0,
    minBytes: o.minBytes ?? 1,
    maxBytes: o.maxBytes ?? 10 * 1024 * 1024,
    isolationLevel: 0,
    topics: [{ topic, partitions: partitions.map((p) => ({ ...p, fetchOffset: String(p.fetchOffset), currentLeaderEpoch: -1, logStartOffset: '-1' })) }],
  });
}

export interface DecodedFetch {
  responses: { topicName: string; partitions: { partition: number; errorCode: number; highWatermark: string; messages: { offset: string; value: Buffer }[] }[] }[];
}

const createRequest: (a: { correlationId: number; clientId: string; request: KafkajsProtocol['request'] }) => Promise<{ buffer: Buffer }> = require('kafkajs/src/protocol/request');

/** A plain TCP connection to the Kafka port: raw bytes out, size-prefixed answers in. */
export class RawKafka {
  private buffered = Buffer.alloc(0);
  private readonly answers: Buffer[] = [];
  private waiting: ((b: Buffer | null) => void) | null = null;
  private correlationId = 0;
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, d]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        this.answers.push(this.buffered.subarray(4, 4 + size));
        this.buffered = this.buffered.subarray(4 + size);
      }
      this.deliver();
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.deliver();
        resolve();
      }),
    );
  }

  static connect(port: number): Promise<RawKafka> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawKafka(s)));
      s.once('error', reject);
    });
  }

  private deliver(): void {
    if (this.waiting === null) return;
    if (this.answers.length > 0) {
      const w = this.waiting;
      this.waiting = null;
      w(this.answers.shift()!);
    } else if (this.isClosed) {
      const w = this.waiting;
      this.waiting = null;
      w(null);
    }
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The next answer (without its size prefix), or null when the server closed the connection. */
  next(): Promise<Buffer | null> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.deliver();
    });
  }

  /** Sends a kafkajs-encoded request; resolves with the correlation id used. */
  async send(p: KafkajsProtocol): Promise<number> {
    const correlationId = ++this.correlationId;
    const encoded = await createRequest({ correlationId, clientId: 'raw-test', request: p.request });
    this.write(encoded.buffer);
    return correlationId;
  }

  /** Decodes an answer with kafkajs's decoder, checking its correlation id. */
  static async decode(p: KafkajsProtocol, answer: Buffer | null, correlationId: number): Promise<any> {
    if (answer === null) throw new Error('the server closed the connection instead of answering');
    const got = answer.readInt32BE(0);
    if (got !== correlationId) throw new Error(`answer for correlation id ${got}, expected ${correlationId}`);
    return p.response.decode(answer.subarray(4));
  }

  async request(p: KafkajsProtocol): Promise<any> {
    const id = await this.send(p);
    return RawKafka.decode(p, await this.next(), id);
  }

  end(): void {
    this.socket.destroy();
  }
}

/** A request frame by hand: size, api key, version, correlation id, client id, body. */
export function frame(apiKey: number, version: number, correlationId: number, body: Buffer = Buffer.alloc(0), clientId = 'raw'): Buffer {
  const id = Buffer.from(clientId);
  const header = Buffer.alloc(10);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(version, 2);
  header.writeInt32BE(correlationId, 4);
  header.writeInt16BE(id.length, 8);
  const payload = Buffer.concat([header, id, body]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(payload.length, 0);
  return Buffer.concat([size, payload]);
}
