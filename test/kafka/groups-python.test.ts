// Consumer groups on the Kafka port with kafka-python (Debian's python3-kafka, installed by
// .ci/run): a KafkaConsumer with a group_id reads everything once, commits, and a second run of the
// group resumes from the committed offsets. Fails (never skips) when kafka-python is missing.
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

function python(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    if (interpreter === null) {
      reject(new Error("kafka-python (with lz4) is missing from /usr/bin/python3 and python3 (Debian's python3-kafka and python3-lz4; .ci/run installs them)"));
      return;
    }
    const child = spawn(interpreter, ['-c', CONSUMER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
