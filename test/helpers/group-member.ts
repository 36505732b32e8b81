// A consumer group member in its own process, for tests that SIGKILL or SIGSTOP it: joins GROUP on
// TOPIC at URL (argv; then PAUSE_EVERY and an optional SESSION_TIMEOUT_MS), prints one line per
// record (`R partition offset epochMs`) and per assignment change (`A`/`V` and the partitions as
// JSON), commits every 100 ms, and consumes slowly (a 1 ms pause every PAUSE_EVERY records) so
// that a backlog exists when it is killed.
import { SeglogClient } from '../../gateway/client/client.js';

const [url, topic, group, pauseEvery, sessionTimeoutMs] = process.argv.slice(2);
const every = Number(pauseEvery ?? '0');
const client = await SeglogClient.connect(url!, { clientId: `member-${process.pid}` });
const consumer = client.subscribe(topic!, { group: group!, from: 'earliest', autoCommitIntervalMs: 100, clientId: `member-${process.pid}`, ...(sessionTimeoutMs ? { sessionTimeoutMs: Number(sessionTimeoutMs) } : {}) });
consumer.on('assigned', (p) => process.stdout.write(`A ${JSON.stringify(p)}\n`));
consumer.on('revoked', (p) => process.stdout.write(`V ${JSON.stringify(p)}\n`));
await consumer.ready;
process.stdout.write(`J ${consumer.memberId}\n`);
let n = 0;
process.on('SIGTERM', () => void consumer.close().then(() => client.close()).then(() => process.exit(0)));
for await (const r of consumer) {
  process.stdout.write(`R ${r.partition} ${r.offset} ${Date.now()}\n`);
  if (every > 0 && ++n % every === 0) await new Promise((resolve) => setTimeout(resolve, 1));
}
