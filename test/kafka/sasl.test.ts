// TLS and SASL on the Kafka listener: kafkajs with SASL/PLAIN and SASL/SCRAM-SHA-256 over TLS
// (certificates made here), a wrong password refused, a consume-only principal refused
// TOPIC_AUTHORIZATION_FAILED on produce and shown only its topics, kcat with sasl_ssl, nothing but
// the handshake before authentication, and the failed-authentication limiter per address.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { writeAuthFile, type AuthFile } from '../../gateway/server/auth/auth-file.js';
import { parseRight } from '../../gateway/server/auth/rights.js';
import { scramCredential } from '../../gateway/server/auth/scram.js';
import { generateToken, hashToken } from '../../gateway/server/auth/tokens.js';
import { makePki, type TestPki } from '../security/certs.js';
import { until } from '../helpers/until.js';
import { RawKafka, frame, kafkajsProtocol, kcat, startKafka, type KafkaHarness } from './helpers.js';
import { KafkaError } from '../../gateway/server/kafka/errors.js';
import { KAFKA_SASL_MESSAGE_MAX_BYTES } from '../../gateway/server/limits.js';

interface Setup {
  dir: string;
  authFile: string;
  caFile: string;
  pki: TestPki;
  tokens: { writer: string; reader: string; legacy: string };
}

let setupOnce: Promise<Setup> | null = null;

/** One PKI and auth file for the whole file: writer (produce/consume/admin on sasl.*), reader (consume sasl.r), legacy (no SCRAM credential). */
function setup(): Promise<Setup> {
  setupOnce ??= (async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-kafka-sasl-'));
    const pki = await makePki();
    const caFile = path.join(dir, 'ca.pem');
    fs.writeFileSync(caFile, pki.ca.cert);
    const tokens = { writer: generateToken(), reader: generateToken(), legacy: generateToken() };
    const auth: AuthFile = { principals: new Map() };
    auth.principals.set('writer', { tokens: [hashToken(tokens.writer)], rights: ['produce:sasl.*', 'consume:sasl.*', 'admin:topic:sasl.*'].map(parseRight), quota: {}, scramSha256: scramCredential(tokens.writer) });
    auth.principals.set('reader', { tokens: [hashToken(tokens.reader)], rights: ['consume:sasl.r'].map(parseRight), quota: {}, scramSha256: scramCredential(tokens.reader) });
    auth.principals.set('legacy', { tokens: [hashToken(tokens.legacy)], rights: ['consume:sasl.*'].map(parseRight), quota: {} });
    const authFile = path.join(dir, 'auth.json');
    writeAuthFile(authFile, auth);
    return { dir, authFile, caFile, pki, tokens };
  })();
  return setupOnce;
}

test.after.always(async () => {
  if (setupOnce !== null) fs.rmSync((await setupOnce).dir, { recursive: true, force: true });
});

async function startSecure(tls: boolean, failuresMax?: number): Promise<{ h: KafkaHarness; s: Setup }> {
  const s = await setup();
  const h = await startKafka({}, {}, {
    authFile: s.authFile,
    ...(tls ? { tls: { cert: s.pki.server.cert, key: s.pki.server.key } } : {}),
    ...(failuresMax !== undefined ? { authFailureLimits: { failuresMax, delayMs: 1 } } : { authFailureLimits: { delayMs: 1 } }),
  });
  await h.engine.createTopic('sasl.w', { partitions: 1 });
  await h.engine.createTopic('sasl.r', { partitions: 1 });
  await h.engine.createTopic('other', { partitions: 1 });
  return { h, s };
}

function client(h: KafkaHarness, s: Setup, sasl: SASLOptions): Kafka {
  return new Kafka({ brokers: [h.broker], clientId: 'sasl-test', logLevel: logLevel.NOTHING, ssl: { ca: [s.pki.ca.cert] }, sasl, retry: { retries: 0 }, connectionTimeout: 5000 });
}

for (const mechanism of ['plain', 'scram-sha-256'] as const) {
  test(`kafkajs SASL/${mechanism} over TLS: produce, metadata of visible topics only; a consume-only principal gets TOPIC_AUTHORIZATION_FAILED`, async (t) => {
    const { h, s } = await startSecure(true);
    const writer = client(h, s, { mechanism, username: 'writer', password: s.tokens.writer } as SASLOptions).producer({ allowAutoTopicCreation: false });
    const readerKafka = client(h, s, { mechanism, username: 'reader', password: s.tokens.reader } as SASLOptions);
    const reader = readerKafka.producer({ allowAutoTopicCreation: false });
    const readerAdmin = readerKafka.admin();
    try {
      await writer.connect();
      const sent = await writer.send({ topic: 'sasl.w', acks: -1, messages: [{ value: `via ${mechanism}` }] });
      t.is(sent[0]!.errorCode, 0);
      t.deepEqual(h.engine.read('sasl.w', 0, 0).map((r) => r.value!.toString()), [`via ${mechanism}`]);
      await reader.connect();
      const refused = await t.throwsAsync(reader.send({ topic: 'sasl.r', messages: [{ value: 'nope' }] }));
      t.regex(JSON.stringify({ m: refused?.message, t: (refused as { type?: string }).type }), /TOPIC_AUTHORIZATION_FAILED|not authorized to access topics/i);
      t.is(h.engine.offsets('sasl.r', 0).endOffset, 0);
      await readerAdmin.connect();
      t.deepEqual(await readerAdmin.listTopics(), ['sasl.r']);
      // An idempotent producer needs a produce right somewhere: InitProducerId is CLUSTER_AUTHORIZATION_FAILED.
      const idem = readerKafka.producer({ idempotent: true, retry: { retries: 1, initialRetryTime: 10 } });
      const e = await t.throwsAsync(idem.connect());
      t.regex(e!.message, /Cluster authorization failed/i);
      await idem.disconnect();
    } finally {
      await Promise.allSettled([writer.disconnect(), reader.disconnect(), readerAdmin.disconnect()]);
      await h.stop();
    }
  });
}

test('kafkajs: a wrong password (PLAIN and SCRAM), a PLAIN token of another principal and SCRAM for an entry without a SCRAM credential are refused', async (t) => {
  const { h, s } = await startSecure(true);
  try {
    const cases: SASLOptions[] = [
      { mechanism: 'plain', username: 'writer', password: 'sgl_wrong' },
      { mechanism: 'plain', username: 'writer', password: s.tokens.reader },
      { mechanism: 'scram-sha-256', username: 'writer', password: 'sgl_wrong' },
      { mechanism: 'scram-sha-256', username: 'legacy', password: s.tokens.legacy },
      { mechanism: 'scram-sha-256', username: 'nobody', password: 'x' },
    ];
    for (const sasl of cases) {
      const p = client(h, s, sasl).producer();
      const e = await t.throwsAsync(p.connect());
      t.regex(e!.name + e!.message, /SASL|authentication/i, JSON.stringify({ ...sasl, password: '…' }));
      await p.disconnect();
    }
    // The legacy principal still logs in with PLAIN.
    const legacy = client(h, s, { mechanism: 'plain', username: 'legacy', password: s.tokens.legacy }).admin();
    await legacy.connect();
    t.deepEqual((await legacy.listTopics()).sort(), ['sasl.r', 'sasl.w']);
    await legacy.disconnect();
  } finally {
    await h.stop();
  }
});

test('kcat -X security.protocol=sasl_ssl with PLAIN and SCRAM-SHA-256: produce and consume', async (t) => {
  const { h, s } = await startSecure(true);
  try {
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256']) {
      const auth = ['-X', 'security.protocol=sasl_ssl', '-X', `sasl.mechanisms=${mechanism}`, '-X', 'sasl.username=writer', '-X', `sasl.password=${s.tokens.writer}`, '-X', `ssl.ca.location=${s.caFile}`];
      const p = await kcat(['-b', h.broker, ...auth, '-P', '-t', 'sasl.w'], `from kcat ${mechanism}\n`);
      t.is(p.code, 0, p.stderr);
    }
    const auth = ['-X', 'security.protocol=sasl_ssl', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=writer', '-X', `sasl.password=${s.tokens.writer}`, '-X', `ssl.ca.location=${s.caFile}`];
    const c = await kcat(['-b', h.broker, ...auth, '-C', '-t', 'sasl.w', '-o', 'beginning', '-e', '-f', '%s\n']);
    t.is(c.code, 0, c.stderr);
    t.is(c.stdout.toString(), 'from kcat PLAIN\nfrom kcat SCRAM-SHA-256\n');
    const wrong = await kcat(['-b', h.broker, ...auth.slice(0, 6), '-X', 'sasl.password=sgl_wrong', ...auth.slice(8), '-L', '-m', '3']);
    t.not(wrong.code, 0);
  } finally {
    await h.stop();
  }
});

test('with auth: a request before SASL closes the connection; failed authentications past the limit refuse the address at accept', async (t) => {
  const { h, s } = await startSecure(false, 3);
  try {
    const raw = await RawKafka.connect(h.port);
    // ApiVersions is served before authentication; Metadata is not.
    t.is((await raw.request(kafkajsProtocol('apiVersions', 0, {}))).errorCode, 0);
    await raw.send(kafkajsProtocol('metadata', 1, { topics: [] }));
    t.is(await raw.next(), null);
    t.true(h.logs.some((l) => /Metadata before SASL authentication/.test(l)));
    // A SASL message past KAFKA_SASL_MESSAGE_MAX_BYTES fails authentication (and counts as a failure).
    const long = await RawKafka.connect(h.port);
    t.is((await long.request(kafkajsProtocol('saslHandshake', 1, { mechanism: 'PLAIN' }))).errorCode, 0);
    const password = 'x'.repeat(KAFKA_SASL_MESSAGE_MAX_BYTES);
    const message = Buffer.from(`\u0000writer\u0000${password}`);
    const length = Buffer.alloc(4);
    length.writeInt32BE(message.length, 0);
    long.write(frame(36, 0, 77, Buffer.concat([length, message]))); // SaslAuthenticate v0: authBytes as int32-length bytes
    const answer = await long.next();
    t.is(answer?.readInt32BE(0), 77, h.logs.join('\n'));
    t.is(answer?.readInt16BE(4), KafkaError.SASL_AUTHENTICATION_FAILED);
    await long.closed;
    t.true(h.logs.some((l) => /SASL message too long/.test(l)));
    // With the one above, two failed PLAIN logins from 127.0.0.1 reach the limit (failuresMax 3): the next connection is closed at accept.
    for (let i = 0; i < 2; i++) {
      const p = new Kafka({ brokers: [h.broker], logLevel: logLevel.NOTHING, sasl: { mechanism: 'plain', username: 'writer', password: 'sgl_wrong' }, retry: { retries: 0 } }).producer();
      await t.throwsAsync(p.connect());
      await p.disconnect();
    }
    const blocked = await RawKafka.connect(h.port);
    await blocked.closed;
    t.true(blocked.isClosed);
    await until(() => h.logs.some((l) => /too many failed authentications/.test(l)), 'the refusal logged');
    void s;
  } finally {
    await h.stop();
  }
});

test('SIGHUP revocation reaches the Kafka port: after reloadAuth without the principal, its next request closes the connection', async (t) => {
  const s = await setup();
  const file = path.join(s.dir, 'revoke.json');
  fs.copyFileSync(s.authFile, file);
  const h = await startKafka({}, {}, { authFile: file });
  try {
    await h.engine.createTopic('sasl.w', { partitions: 1 });
    const raw = await RawKafka.connect(h.port);
    t.is((await raw.request(kafkajsProtocol('saslHandshake', 1, { mechanism: 'PLAIN' }))).errorCode, 0);
    const message = Buffer.from(`\u0000writer\u0000${s.tokens.writer}`);
    const length = Buffer.alloc(4);
    length.writeInt32BE(message.length, 0);
    raw.write(frame(36, 0, 50, Buffer.concat([length, message])));
    const ok = await raw.next();
    t.is(ok?.readInt16BE(4), 0);
    t.is((await raw.request(kafkajsProtocol('metadata', 1, { topics: ['sasl.w'] }))).topicMetadata[0].topicErrorCode, 0);
    const auth = JSON.parse(fs.readFileSync(file, 'utf8'));
    delete auth.principals.writer;
    fs.writeFileSync(file, JSON.stringify(auth));
    h.server.reloadAuth();
    await raw.send(kafkajsProtocol('metadata', 1, { topics: ['sasl.w'] }));
    t.is(await raw.next(), null);
    t.true(h.logs.some((l) => /principal "writer" is no longer in the auth file/.test(l)));
  } finally {
    await h.stop();
  }
});

test('group rights on the Kafka port: joining needs consume on the group (GROUP_AUTHORIZATION_FAILED), list and describe show only visible groups, deleting needs admin', async (t) => {
  const { h, s } = await startSecure(false);
  // writer may consume sasl.* topics but has no group right at all; reader none either.
  // Without TLS for this test: the listener is on loopback.
  const plainWriter = new Kafka({ brokers: [h.broker], clientId: 'sasl-groups', logLevel: logLevel.NOTHING, sasl: { mechanism: 'plain', username: 'writer', password: s.tokens.writer }, retry: { retries: 0 } });
  const consumer = plainWriter.consumer({ groupId: 'sasl-group', retry: { retries: 0 } });
  const admin = plainWriter.admin();
  try {
    await h.engine.produce('sasl.w', [{ value: 'x' }]);
    // A group made by an embedded member exists; the writer must not see it.
    const embedded = h.engine.subscribe('sasl.w', { group: 'hidden', from: 'earliest' });
    await embedded.ready;
    await consumer.connect();
    await consumer.subscribe({ topic: 'sasl.w', fromBeginning: true });
    let crash: { message?: string; type?: string } | null = null;
    consumer.on(consumer.events.CRASH, (e) => {
      crash = e.payload.error as { message?: string; type?: string };
    });
    await consumer.run({ eachMessage: async () => {} });
    await until(() => crash !== null, 'the consumer gave up joining');
    t.regex(JSON.stringify({ m: crash!.message, t: crash!.type }), /GROUP_AUTHORIZATION_FAILED|not authorized to access group/i);
    t.is(h.engine.listGroups().find((g) => g.group === 'sasl-group')?.members ?? 0, 0, 'never joined');
    await admin.connect();
    t.deepEqual((await admin.listGroups()).groups, [], 'no group is visible to a principal without group rights');
    const deleted = await t.throwsAsync(admin.deleteGroups(['hidden']));
    t.regex(JSON.stringify(deleted), /GROUP_AUTHORIZATION_FAILED|not authorized/i);
    t.true(h.engine.listGroups().some((g) => g.group === 'hidden'));
    await embedded.close();
  } finally {
    await Promise.allSettled([consumer.disconnect(), admin.disconnect()]);
    await h.stop();
  }
});
