// kafka-python (Debian's python3-kafka, installed by .ci/run) on the Kafka port: a KafkaProducer
// (keys, headers, LZ4) read back over the WebSocket front end, a KafkaConsumer seeking by offset and
// by timestamp, and a KafkaConsumer with a group_id that reads everything once, commits, and a second
// run of the group resumes from the committed offsets. Fails (never skips) when kafka-python is missing.
import { spawn, spawnSync } from 'node:child_process';
import test from 'ava';
import { startKafka } from './helpers.js';

const PYTHON_TIMEOUT_MS = 60_000;

// Reads until `expected` records came (bounded by consumer_timeout_ms), commits, prints one JSON line.
const CONSUMER = `
import json, sys
from kafka import KafkaConsumer
broker, group, topic, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = KafkaConsumer(topic, bootstrap_servers=broker, group_id=group, auto_offset_reset='earliest',
                  enable_auto_commit=False, consumer_timeout_ms=10000, heartbeat_interval_ms=100,
                  session_timeout_ms=6000, fetch_max_wait_ms=100)
seen = []
for m in c:
    seen.append([m.partition, m.offset, m.value.decode()])
    if len(seen) >= expected:
        break
c.commit()
print(json.dumps({"seen": seen, "assignment": sorted(tp.partition for tp in c.assignment())}))
c.close()
`;

/**
 * The Python that has kafka-python: Debian's (/usr/bin/python3, where python3-kafka installs) or the
 * first python3 on PATH (a pyenv or venv with `pip install kafka-python`). Null when none has it.
 */
const interpreter: string | null = (() => {
  for (const candidate of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(candidate, ['-c', 'import kafka, lz4'], { stdio: 'ignore', timeout: PYTHON_TIMEOUT_MS }).status === 0) return candidate;
  }
  return null;
})();

function python(args: string[], script = CONSUMER): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    if (interpreter === null) {
      reject(new Error("kafka-python (with lz4) is missing from /usr/bin/python3 and python3 (Debian's python3-kafka and python3-lz4; .ci/run installs them)"));
      return;
    }
    const child = spawn(interpreter, ['-c', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), PYTHON_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (/No module named 'kafka'/.test(stderr)) reject(new Error("kafka-python is missing (Debian's python3-kafka; .ci/run installs it)"));
      resolve({ code, stdout, stderr });
    });
  });
}

test('kafka-python KafkaConsumer with a group_id: reads every record once, commits, a second run resumes', async (t) => {
  const h = await startKafka();
  try {
    await h.engine.createTopic('py', { partitions: 2 });
    for (let i = 0; i < 10; i++) await h.engine.produce('py', [{ value: `v${i}` }], { partition: i % 2 });
    const first = await python([h.broker, 'pygroup', 'py', '10']);
    t.is(first.code, 0, first.stderr);
    const r1 = JSON.parse(first.stdout) as { seen: [number, number, string][]; assignment: number[] };
    t.deepEqual(r1.assignment, [0, 1]);
    t.deepEqual(r1.seen.map((s) => s[2]).sort(), Array.from({ length: 10 }, (_, i) => `v${i}`).sort());
    t.is(await h.engine.committed('pygroup', 'py', 0), 5);
    t.is(await h.engine.committed('pygroup', 'py', 1), 5);
    for (let i = 10; i < 14; i++) await h.engine.produce('py', [{ value: `v${i}` }], { partition: i % 2 });
    const second = await python([h.broker, 'pygroup', 'py', '4']);
    t.is(second.code, 0, second.stderr);
    const r2 = JSON.parse(second.stdout) as { seen: [number, number, string][] };
    t.deepEqual(r2.seen.map((s) => s[2]).sort(), ['v10', 'v11', 'v12', 'v13']);
    t.is(h.engine.describeGroup('pygroup').members.length, 0, 'close() left the group');
  } finally {
    await h.stop();
  }
});

// Produces N records (key k<i>, value v<i>, a header, timestamps 1000*i apart from a fixed base),
// flushes, then seeks: by offset (3) and by timestamp (that of record 5); prints one JSON line.
const PRODUCER_AND_SEEK = `
import json, sys
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
broker, topic, n, base = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
p = KafkaProducer(bootstrap_servers=broker, compression_type='lz4', acks='all', linger_ms=5)
futures = [p.send(topic, key=b'k%d' % i, value=b'v%d' % i, headers=[('h', b'x%d' % i)], partition=0, timestamp_ms=base + 1000 * i) for i in range(n)]
p.flush()
offsets = [f.get(timeout=10).offset for f in futures]
p.close()
c = KafkaConsumer(bootstrap_servers=broker, enable_auto_commit=False, consumer_timeout_ms=5000, fetch_max_wait_ms=100)
tp = TopicPartition(topic, 0)
c.assign([tp])
c.seek(tp, 3)
by_offset = [next(c).value.decode() for _ in range(2)]
found = c.offsets_for_times({tp: base + 5000})[tp]
c.seek(tp, found.offset)
by_time = next(c).value.decode()
c.close()
print(json.dumps({"offsets": offsets, "byOffset": by_offset, "byTime": by_time, "foundOffset": found.offset}))
`;

test('kafka-python KafkaProducer (LZ4, keys, headers, timestamps) and a KafkaConsumer seeking by offset and by timestamp; the WebSocket client reads the same records', async (t) => {
  const h = await startKafka();
  try {
    await h.engine.createTopic('pyp', { partitions: 1 });
    const base = 1_700_000_000_000;
    const r = await python([h.broker, 'pyp', '8', String(base)], PRODUCER_AND_SEEK);
    t.is(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { offsets: number[]; byOffset: string[]; byTime: string; foundOffset: number };
    t.deepEqual(out.offsets, [0, 1, 2, 3, 4, 5, 6, 7]);
    t.deepEqual(out.byOffset, ['v3', 'v4']);
    t.is(out.foundOffset, 5);
    t.is(out.byTime, 'v5');
    // The same records through the engine (what the WebSocket front end serves).
    const stored = h.engine.read('pyp', 0, 0);
    t.deepEqual(stored.map((x) => [x.offset, x.key!.toString(), x.value!.toString(), x.timestamp, x.headers[0]!.value!.toString()]), Array.from({ length: 8 }, (_, i) => [i, `k${i}`, `v${i}`, base + 1000 * i, `x${i}`]));
  } finally {
    await h.stop();
  }
});
