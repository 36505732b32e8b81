// The Kafka listener's life: started by GatewayServer.start({ kafka }) and `seglog serve --kafka`,
// refused where it would open a hole (an auth file, TLS, a non-loopback address), topics
// auto-created as --auto-create says, waiting fetches answered and connections closed on close().
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Engine } from '../../engine/index.js';
import { parseHostPort } from '../../gateway/cli/cli-args.js';
import { GatewayServer } from '../../gateway/server/server.js';
import { runCli } from '../helpers/cli-run.js';
import { startServe } from '../helpers/gateway-process.js';
import { until } from '../helpers/until.js';
import { RawKafka, fetchV11, frame, kafkajsProtocol, kcat, startKafka } from './helpers.js';

test('start refuses a Kafka listener on a non-loopback address without auth, or with SASL but without TLS (the WebSocket port\'s exposure rule), unless --insecure', async (t) => {
  const engine = await Engine.open({ memory: true });
  try {
    const base = { engine, host: '127.0.0.1', port: 0, log: () => undefined, kafka: { port: 0 } };
    const exposed = await t.throwsAsync(GatewayServer.start({ ...base, kafka: { host: '0.0.0.0', port: 0 } }));
    t.regex(exposed!.message, /Kafka listener: listening on 0\.0\.0\.0 \(not loopback\) without authentication/);
    const saslClear = await t.throwsAsync(GatewayServer.start({ ...base, authFile: '/nonexistent/auth.json', kafka: { host: '0.0.0.0', port: 0 } }));
    t.regex(saslClear!.message, /Kafka listener: listening on 0\.0\.0\.0 \(not loopback\) without TLS/);
    const limit = await t.throwsAsync(GatewayServer.start({ ...base, kafka: { port: 0, maxInFlightPerConnection: 0 } }));
    t.regex(limit!.message, /kafka\.maxInFlightPerConnection must be an integer in 1\.\./);
  } finally {
    await engine.close();
  }
});

test('a Kafka port already taken: start rejects with EADDRINUSE', async (t) => {
  const h = await startKafka();
  const engine = await Engine.open({ memory: true });
  try {
    const e = await t.throwsAsync(GatewayServer.start({ engine, host: '127.0.0.1', port: 0, log: () => undefined, kafka: { port: h.port } }));
    t.is((e as NodeJS.ErrnoException).code, 'EADDRINUSE');
  } finally {
    await engine.close();
    await h.stop();
  }
});

test('Metadata auto-creates a topic only with autoCreateTopics and when the request allows it', async (t) => {
  const off = await startKafka();
  const on = await startKafka({ autoCreateTopics: true }, { autoCreateTopics: true });
  try {
    const ask = async (port: number, topic: string, allow: boolean) => {
      const raw = await RawKafka.connect(port);
      try {
        return await raw.request(kafkajsProtocol('metadata', 5, { topics: [topic], allowAutoTopicCreation: allow }));
      } finally {
        raw.end();
      }
    };
    const refused = await ask(off.port, 'fresh', true);
    t.is(refused.topicMetadata[0].topicErrorCode, 3);
    t.deepEqual(off.engine.listTopics(), []);
    const notAllowed = await ask(on.port, 'fresh', false);
    t.is(notAllowed.topicMetadata[0].topicErrorCode, 3);
    const created = await ask(on.port, 'fresh', true);
    t.is(created.topicMetadata[0].topicErrorCode, 0);
    t.is(created.topicMetadata[0].partitionMetadata.length, 1);
    t.deepEqual(on.engine.listTopics(), ['fresh']);
    const invalid = await ask(on.port, 'bad/name', true);
    t.is(invalid.topicMetadata[0].topicErrorCode, 17); // INVALID_TOPIC_EXCEPTION
  } finally {
    await off.stop();
    await on.stop();
  }
});

test('close(): a waiting fetch is answered at once, connections close, the port stops accepting', async (t) => {
  const h = await startKafka();
  await h.engine.createTopic('c', { partitions: 1 });
  const raw = await RawKafka.connect(h.port);
  const p = fetchV11('c', [{ partition: 0, fetchOffset: 0, maxBytes: 1024 }], { maxWaitTime: 60_000, maxBytes: 1024 });
  const id = await raw.send(p);
  await until(() => h.server.kafka!.connections().some((c) => c.inFlight === 1), 'the fetch to wait');
  const closing = h.server.close(10_000);
  const answer = await RawKafka.decode(p, await raw.next(), id);
  t.deepEqual(answer.responses[0].partitions[0].messages, []);
  await raw.closed;
  await closing;
  const refused = await new Promise<boolean>((resolve) => {
    const s = net.connect(h.port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
  t.true(refused);
  await h.engine.close();
});

test('--kafka [HOST:]PORT parses as documented', (t) => {
  t.deepEqual(parseHostPort('9092', '127.0.0.1', '--kafka'), { host: '127.0.0.1', port: 9092 });
  t.deepEqual(parseHostPort('localhost:0', '127.0.0.1', '--kafka'), { host: 'localhost', port: 0 });
  t.deepEqual(parseHostPort('[::1]:9093', '127.0.0.1', '--kafka'), { host: '::1', port: 9093 });
  t.throws(() => parseHostPort('host:', '127.0.0.1', '--kafka'), { message: /--kafka must be \[HOST:\]PORT/ });
  t.throws(() => parseHostPort('70000', '127.0.0.1', '--kafka'), { message: /at most 65535/ });
});

test('seglog serve --kafka: kcat reaches it; --kafka with --auth or a bad value is a usage error', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-kafka-cli-'));
  try {
    const s = await startServe(dir, ['--kafka', '0']);
    try {
      const m = /Kafka protocol on (127\.0\.0\.1:\d+)/.exec(s.output());
      t.truthy(m, s.output());
      const p = await kcat(['-b', m![1]!, '-P', '-t', 'cli'], 'from kcat\n');
      t.is(p.code, 0, p.stderr);
      const c = await kcat(['-b', m![1]!, '-C', '-t', 'cli', '-o', 'beginning', '-e', '-f', '%s\n']);
      t.is(c.stdout.toString(), 'from kcat\n');
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
    const bad = await runCli(['serve', '--memory', '--port', '0', '--kafka', 'nope']);
    t.is(bad.code, 2, bad.stderr);
    t.regex(bad.stderr, /--kafka must be \[HOST:\]PORT/);
    const authFile = path.join(dir, 'auth.json');
    const added = await runCli(['auth', 'add', 'alice', '--rights', 'produce:*', '--file', authFile]);
    t.is(added.code, 0, added.stderr);
    // SASL PLAIN sends the token: off loopback the Kafka port needs TLS, as the WebSocket port does.
    const withAuth = await runCli(['serve', '--memory', '--port', '0', '--kafka', '0.0.0.0:0', '--auth', authFile]);
    t.is(withAuth.code, 2, withAuth.stderr);
    t.regex(withAuth.stderr, /--kafka: listening on 0\.0\.0\.0 \(not loopback\) without TLS/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('/metrics and /healthz cover the Kafka listener: connections, requests by API and version, error codes, closes, latency', async (t) => {
  const h = await startKafka();
  const raw = await RawKafka.connect(h.port);
  try {
    await raw.request(kafkajsProtocol('apiVersions', 2, {}));
    const md = await raw.request(kafkajsProtocol('metadata', 5, { topics: ['missing'], allowAutoTopicCreation: false }));
    t.is(md.topicMetadata[0].topicErrorCode, 3);
    const bad = await RawKafka.connect(h.port);
    bad.write(frame(999, 0, 1));
    await bad.closed;
    const health = (await (await fetch(`${h.server.httpUrl}/healthz`)).json()) as { kafkaConnections: number };
    t.is(health.kafkaConnections, 1);
    const text = await (await fetch(`${h.server.httpUrl}/metrics`)).text();
    t.regex(text, /^seglog_kafka_connections 1$/m);
    t.regex(text, /^seglog_kafka_requests_total\{api="ApiVersions",version="2"\} 1$/m);
    t.regex(text, /^seglog_kafka_requests_total\{api="Metadata",version="5"\} 1$/m);
    t.regex(text, /^seglog_kafka_errors_total\{api="Metadata",code="3"\} 1$/m);
    t.regex(text, /^seglog_kafka_connections_closed_total\{reason="unknown-api"\} 1$/m);
    t.regex(text, /^seglog_kafka_request_seconds_count\{api="Metadata"\} 1$/m);
  } finally {
    raw.end();
    await h.stop();
  }
});
