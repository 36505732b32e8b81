// Apache Kafka: one broker in KRaft mode (broker and controller in one JVM, Java 17), the
// org.apache.kafka:kafka_2.13 jars fetched from Maven Central by `mvn dependency:copy-dependencies`
// into a cache dir outside the repository (never vendored), with kafkajs (devDependency) as the
// Node client, as its docs show:
//   - produce: producer.send of 1000 messages per request, acks all (-1; one broker, so its log),
//     two requests in flight, into one topic (one partition) per payload size;
//   - replay: a consumer group member from the beginning, eachBatch, every value touched (timed from
//     the first batch: the group join is not counted);
//   - produce→deliver latency: one send per tick of the schedule → a consumer group member.
// The broker's log is flushed by the OS (Kafka's default: no fsync per message), like seglog's
// acks `written`. Ports are free loopback ports; data in a temp dir; stopped by PID.
// The same kafkajs cases run first against seglog's own Kafka port (`seglog serve --memory --kafka`,
// system "seglog (Kafka port)"): a Kafka application's view of both servers, with one client.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, Partitioners, logLevel, type Admin, type Producer } from 'kafkajs';
import { startServer as startSeglog, stopServer as stopSeglog } from '../gateway.bench.js';
import { RECORD_SIZES, bytesBound, caseOrError, errorResult, networkRounds, payloads, progress, result, type BenchOptions, type BenchResult } from '../harness.js';
import { noteVersion } from '../run-info.js';
import { latencyWindowS, peerLatency, peerLatencyResult } from './latency.js';
import { PeerUnavailableError, commandVersion, ensureCommand, freePort, startServer, type PeerServer } from './servers.js';

const run = promisify(execFile);

const SUITE = 'kafka';
const SYSTEM = 'Apache Kafka';
/** seglog's Kafka listener, driven by the same kafkajs cases as Apache Kafka. */
const SEGLOG_KAFKA = 'seglog (Kafka port)';
type KafkaSystem = typeof SYSTEM | typeof SEGLOG_KAFKA;
const KAFKA_VERSION = '4.1.1';
/** mvn fetching the broker's jars (first run only), and formatting the broker's storage. */
const FETCH_TIMEOUT_MS = 10 * 60_000;
const FORMAT_TIMEOUT_MS = 60_000;
/** The JVM takes a few seconds to listen. */
const BROKER_READY_TIMEOUT_MS = 60_000;
const BROKER_HEAP = ['-Xms512m', '-Xmx1g'];
const MESSAGES_PER_SEND = 1000;
const SENDS_IN_FLIGHT = 2;
/** Payload bytes one produce round may store. */
const ROUND_PAYLOAD_BYTES_MAX = 256 * 1024 * 1024;
/** What the replay rounds read: stored once, at most this many bytes or records. */
const REPLAY_PAYLOAD_BYTES = 128 * 1024 * 1024;
const REPLAY_RECORDS_MAX = 1_000_000;
/** A replay round's wait for the group join and the first batch, beyond the round's time. */
const REPLAY_JOIN_TIMEOUT_MS = 30_000;
const POOL_RECORDS = 4096;
/**
 * kcat (librdkafka, Debian's) splits its input into messages at a delimiter; random payloads hold
 * any single byte, so a 16-byte string is used (a 100 B random payload contains it with odds of
 * about 100 / 2^128).
 */
const KCAT_DELIMITER = '~seglog:bench:~~';
/** A kcat round's size: payload bytes at most (fewer when the topic holds fewer), records at least. */
const KCAT_ROUND_RECORDS_MIN = 1000;
const KCAT_ROUND_BYTES_MAX = 128 * 1024 * 1024;
/** A kcat process still running after this is killed (its case fails). */
const KCAT_TIMEOUT_MS = 120_000;

/** Where the broker's jars are kept between runs: $SEGLOG_BENCH_CACHE, else ~/.cache/seglog-bench. */
function cacheDir(): string {
  const base = process.env.SEGLOG_BENCH_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'seglog-bench');
  return path.join(base, `kafka-${KAFKA_VERSION}`);
}

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>seglog.bench</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;

/** The broker's classpath dir, fetched with mvn on first use. */
async function kafkaJars(options: BenchOptions): Promise<string> {
  const dir = cacheDir();
  const libs = path.join(dir, 'libs');
  const complete = path.join(libs, '.complete');
  if (fs.existsSync(complete)) return libs;
  if (!options.installMissing) throw new PeerUnavailableError(`the kafka_2.13 ${KAFKA_VERSION} jars are not installed in ${libs} (--no-install given: not fetching them)`);
  const mvn = await ensureCommand('mvn', 'maven', options);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'pom.xml'), POM);
  progress(`mvn: fetching kafka_2.13 ${KAFKA_VERSION} into ${libs}`);
  try {
    await run(mvn, ['-q', '-B', '-f', path.join(dir, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`], { timeout: FETCH_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    throw new PeerUnavailableError(`the kafka_2.13 ${KAFKA_VERSION} jars are not installed in ${libs} and mvn could not fetch them: ${(e as Error).message.split('\n')[0]}`);
  }
  fs.writeFileSync(complete, `${new Date().toISOString()}\n`);
  return libs;
}

function brokerProperties(port: number, controllerPort: number, dir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${path.join(dir, 'data')}`,
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    // A single consumer joins: no point waiting for others.
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

async function startBroker(java: string, libs: string): Promise<PeerServer> {
  const classpath = `${libs}/*`;
  return startServer(
    'kafka',
    java,
    (_port, dir) => [...BROKER_HEAP, '-cp', classpath, 'kafka.Kafka', path.join(dir, 'server.properties')],
    async (port, dir) => {
      const controllerPort = await freePort();
      fs.writeFileSync(path.join(dir, 'server.properties'), brokerProperties(port, controllerPort, dir));
      // A base64url id may start with '-', which StorageTool's parser takes for an option (the
      // quick run failed that way once in a while): `--cluster-id=ID` keeps it one argument.
      const clusterId = randomBytes(16).toString('base64url');
      await run(java, ['-cp', classpath, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', path.join(dir, 'server.properties')], { timeout: FORMAT_TIMEOUT_MS });
    },
    BROKER_READY_TIMEOUT_MS,
  );
}

let seq = 0;
const freshTopic = (what: string, recordBytes: number): string => `bench-${what}-${recordBytes}-${seq++}`;

async function createTopic(admin: Admin, topic: string): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
}

/**
 * Sends `records` messages (sends of up to 1000, two in flight), stopping early once `deadline`
 * (performance.now()) has passed; returns how many were sent and acknowledged.
 */
async function sendMessages(producer: Producer, topic: string, values: Buffer[], records: number, deadline = Number.POSITIVE_INFINITY): Promise<number> {
  let sent = 0;
  const inFlight: Promise<unknown>[] = [];
  while (sent < records && performance.now() < deadline) {
    const n = Math.min(MESSAGES_PER_SEND, records - sent);
    const messages = Array.from({ length: n }, (_, i) => ({ value: values[(sent + i) % values.length]! }));
    inFlight.push(producer.send({ topic, acks: -1, messages }));
    sent += n;
    if (inFlight.length >= SENDS_IN_FLIGHT) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return sent;
}

/** Sends of 1000 messages until `ms` passed or `maxRecords` (whole sends) were sent; acked records per second. */
async function produceRound(producer: Producer, topic: string, values: Buffer[], ms: number, maxRecords: number): Promise<number> {
  const start = performance.now();
  const sent = await sendMessages(producer, topic, values, Math.floor(maxRecords / MESSAGES_PER_SEND) * MESSAGES_PER_SEND, start + ms);
  return sent / ((performance.now() - start) / 1000);
}

/** A fresh consumer group from the beginning until `total` records or `ms` after the first batch. */
async function replayRound(kafka: Kafka, topic: string, total: number, ms: number): Promise<number> {
  const consumer = kafka.consumer({ groupId: `replay-${seq++}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let start = 0;
    let n = 0;
    let bytes = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kafka replay: not done within ${ms + REPLAY_JOIN_TIMEOUT_MS} ms`)), ms + REPLAY_JOIN_TIMEOUT_MS);
      consumer
        .run({
          eachBatch: async ({ batch }) => {
            if (start === 0) start = performance.now();
            for (const m of batch.messages) bytes += m.value?.length ?? 0;
            n += batch.messages.length;
            if (n >= total || performance.now() - start > ms) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
    if (bytes === 0) throw new Error('kafka replay read nothing');
    return n / ((performance.now() - start) / 1000);
  } finally {
    await consumer.disconnect();
  }
}

interface KcatRun {
  /** Lines kcat wrote to stdout (with -f '%o\\n': one per message consumed). */
  lines: number;
  ms: number;
}

/** Runs kcat to completion (input on stdin when given); rejects on a non-zero exit or the timeout. */
function kcat(bin: string, args: string[], input?: Buffer): Promise<KcatRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(bin, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let lines = 0;
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => {
      for (let i = 0; i < d.length; i++) if (d[i] === 10) lines++;
    });
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), KCAT_TIMEOUT_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      if (code === 0) resolve({ lines, ms });
      else reject(new Error(`kcat ${args.slice(0, 6).join(' ')} … exited ${code ?? signal}: ${stderr.trim().split('\n')[0] ?? ''}`));
    });
    if (input !== undefined) {
      child.stdin!.on('error', () => undefined); // a kcat that died early: its exit code tells
      child.stdin!.end(input);
    }
  });
}

/** `count` payloads from `values`, each followed by the delimiter: kcat -P's input. */
function kcatInput(values: Buffer[], count: number): Buffer {
  const delimiter = Buffer.from(KCAT_DELIMITER);
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) parts.push(values[i % values.length]!, delimiter);
  return Buffer.concat(parts);
}

/**
 * Rounds of one kcat run each, every run of the same size: as many records as the bounds allow
 * (KCAT_ROUND_BYTES_MAX, or what the topic holds), so kcat's start-up is a small, constant share.
 * (Sizing each run from the previous one's rate fed back: a run slowed by its start-up made the
 * next one small, where start-up weighed more; seglog's consume median fell to 0.88M from 2.0M.)
 */
function kcatRounds(options: BenchOptions, recordBytes: number, maxRecords: number, runOnce: (records: number) => Promise<number>): ReturnType<typeof networkRounds> {
  const records = Math.max(KCAT_ROUND_RECORDS_MIN, Math.min(maxRecords, Math.floor(bytesBound(options, KCAT_ROUND_BYTES_MAX) / recordBytes)));
  return networkRounds(options, () => runOnce(records));
}

/**
 * kcat produce and consume against one Kafka-protocol server, each run timed from the process's
 * start to its exit (its start-up, tens of ms, is in the figure). Produce: `kcat -P`, acks all,
 * the payloads on stdin split at KCAT_DELIMITER, into a fresh topic (`newTopic`). Consume:
 * `kcat -C` from the beginning of `replayTopic` (holding `stored` records), `-c N` messages, printing
 * one offset per message (`-f '%o\n'`: the pipe does not carry the payloads), the count checked.
 */
async function kcatCases(
  system: KafkaSystem,
  bin: string,
  broker: string,
  recordBytes: number,
  values: Buffer[],
  newTopic: () => Promise<string>,
  replayTopic: string,
  stored: number,
  options: BenchOptions,
): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  const produceName = 'kcat -P (librdkafka), acks all, process start included';
  out.push(
    await caseOrError(SUITE, { system, scenario: 'produce' }, produceName, recordBytes, async () => {
      const maxRecords = Math.floor(bytesBound(options, ROUND_PAYLOAD_BYTES_MAX) / recordBytes);
      const topic = await newTopic();
      let input: Buffer | null = null; // the same every round: built once
      const rate = await kcatRounds(options, recordBytes, maxRecords, async (records) => {
        input ??= kcatInput(values, records);
        const run = await kcat(bin, ['-P', '-b', broker, '-t', topic, '-p', '0', '-D', KCAT_DELIMITER, '-X', 'acks=all', '-q'], input);
        return records / (run.ms / 1000);
      });
      return result(SUITE, produceName, recordBytes, rate, undefined, { system, scenario: 'produce' });
    }),
  );
  const consumeName = 'kcat -C from the beginning (librdkafka), process start included';
  out.push(
    await caseOrError(SUITE, { system, scenario: 'replay' }, consumeName, recordBytes, async () => {
      const rate = await kcatRounds(options, recordBytes, stored, async (records) => {
        const run = await kcat(bin, ['-C', '-b', broker, '-t', replayTopic, '-p', '0', '-o', 'beginning', '-c', String(records), '-e', '-q', '-f', '%o\n']);
        if (run.lines !== records) throw new Error(`kcat consumed ${run.lines} of ${records} messages`);
        return records / (run.ms / 1000);
      });
      return result(SUITE, consumeName, recordBytes, rate, undefined, { system, scenario: 'replay' });
    }),
  );
  return out;
}

/**
 * The client cases against one Kafka-protocol server (Apache Kafka's broker, or seglog's Kafka
 * port): kafkajs produce, replay and latency, and kcat produce and consume. Each case's failure is
 * its row's error.
 */
async function clientCases(system: KafkaSystem, host: string, port: number, options: BenchOptions): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  // kcat is optional here: without it (and --no-install) its rows say so, the kafkajs rows run.
  let kcatBin: string | null = null;
  let kcatMissing: unknown = null;
  try {
    kcatBin = await ensureCommand('kcat', 'kcat', options);
  } catch (e) {
    kcatMissing = e;
  }
  // Failures surface as rejected promises (in the rows); kafkajs' own log would only repeat them.
  const kafka = new Kafka({ clientId: 'bench', brokers: [`${host}:${port}`], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await admin.connect();
  await producer.connect();
  try {
    for (const recordBytes of RECORD_SIZES) {
      const values = payloads(POOL_RECORDS, recordBytes).map((v) => Buffer.from(v));
      const maxRecords = Math.floor(bytesBound(options, ROUND_PAYLOAD_BYTES_MAX) / recordBytes);
      out.push(
        await caseOrError(SUITE, { system, scenario: 'produce' }, 'producer.send of 1000', recordBytes, async () => {
          // One topic for all rounds (a topic made and deleted per round left the producer's
          // metadata behind: "does not host this topic-partition"); one send first, untimed, so
          // the producer knows the partition's leader.
          const topic = freshTopic('produce', recordBytes);
          await createTopic(admin, topic);
          await producer.send({ topic, acks: -1, messages: [{ value: values[0]! }] });
          const rate = await networkRounds(options, (ms) => produceRound(producer, topic, values, ms, maxRecords));
          return result(SUITE, `producer.send of ${MESSAGES_PER_SEND} messages, acks all, ${SENDS_IN_FLIGHT} in flight`, recordBytes, rate, undefined, { system, scenario: 'produce' });
        }),
      );
      let replayTopic = '';
      let stored = 0;
      out.push(
        await caseOrError(SUITE, { system, scenario: 'replay' }, 'consumer group replay', recordBytes, async () => {
          const topic = freshTopic('replay', recordBytes);
          replayTopic = topic;
          await createTopic(admin, topic);
          const wanted = Math.max(MESSAGES_PER_SEND, Math.min(REPLAY_RECORDS_MAX, Math.floor(bytesBound(options, REPLAY_PAYLOAD_BYTES) / recordBytes)));
          await producer.send({ topic, acks: -1, messages: [{ value: values[0]! }] });
          // Exactly the count the rounds then read: a round waiting for more than the topic holds would
          // wait for batches that never come.
          const total = 1 + (await sendMessages(producer, topic, values, wanted - 1));
          stored = total;
          const rate = await networkRounds(options, (ms) => replayRound(kafka, topic, total, ms));
          return result(SUITE, 'consumer from the beginning, eachBatch (group join not timed)', recordBytes, rate, undefined, { system, scenario: 'replay' });
        }),
      );
      if (kcatBin === null) out.push(errorResult(SUITE, 'kcat produce and consume', recordBytes, kcatMissing, system));
      else if (stored === 0) out.push(errorResult(SUITE, 'kcat produce and consume', recordBytes, new Error('no topic to consume: the replay case failed'), system));
      else {
        const newTopic = async (): Promise<string> => {
          const topic = freshTopic('kcat', recordBytes);
          await createTopic(admin, topic);
          return topic;
        };
        out.push(...(await kcatCases(system, kcatBin, `${host}:${port}`, recordBytes, values, newTopic, replayTopic, stored, options)));
      }
    }
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
  for (const recordBytes of RECORD_SIZES) {
    out.push(
      await caseOrError(SUITE, { system, scenario: 'latency' }, 'produce→deliver latency', recordBytes, async () => {
        const l = await peerLatency(system, { host, port, name: freshTopic('latency', recordBytes) }, recordBytes, options.quick);
        return peerLatencyResult(SUITE, system, recordBytes, l, latencyWindowS(options.quick));
      }),
    );
  }
  return out;
}

/**
 * The same client cases against seglog's own Kafka port (`seglog serve --memory --kafka`): what a
 * Kafka application gets from seglog, beside what it gets from Apache Kafka. Needs no Java.
 */
async function runSeglogKafkaPort(options: BenchOptions): Promise<BenchResult[]> {
  progress('starting seglog serve --kafka');
  const server = await startSeglog(['--memory', '--kafka', '127.0.0.1:0']);
  try {
    if (server.kafka === null) throw new Error('seglog serve --kafka did not name its Kafka port');
    return await clientCases(SEGLOG_KAFKA, server.kafka.host, server.kafka.port, options);
  } finally {
    await stopSeglog(server);
  }
}

/** Apache Kafka's broker (fetched and started here), then the client cases against it. */
async function runApacheKafka(options: BenchOptions): Promise<BenchResult[]> {
  let server: PeerServer | null = null;
  try {
    const java = await ensureCommand('java', 'openjdk-17-jre-headless', options);
    const libs = await kafkaJars(options);
    noteVersion('kafka broker', `${KAFKA_VERSION} (KRaft, Java ${await commandVersion(java, ['-version'])})`);
    progress('starting the broker');
    server = await startBroker(java, libs);
    return await clientCases(SYSTEM, server.host, server.port, options);
  } finally {
    await server?.stop();
  }
}

export async function runKafkaPeer(options: BenchOptions): Promise<BenchResult[]> {
  noteVersion('kafkajs', (createRequire(import.meta.url)('kafkajs/package.json') as { version: string }).version);
  const out: BenchResult[] = [];
  // Each part's failure (a broker that is not installed, a server that does not start) is its own
  // row: one does not take the other's rows with it.
  for (const [name, part] of [
    [SEGLOG_KAFKA, runSeglogKafkaPort],
    [SYSTEM, runApacheKafka],
  ] as const) {
    try {
      out.push(...(await part(options)));
    } catch (e) {
      out.push(errorResult(SUITE, `${name}: start`, 0, e, name));
    }
  }
  return out;
}
