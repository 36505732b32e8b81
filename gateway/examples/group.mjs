// A consumer group: start this twice (in two shells) against a running gateway; the members share
// the topic's partitions, and each prints what it is given. Ctrl-C leaves the group (the other
// member takes over). Run: node gateway/examples/group.mjs [group-name]
import { SeglogClient } from 'seglog/client';

const group = process.argv[2] ?? 'example-workers';
const client = await SeglogClient.connect(process.env.SEGLOG_URL ?? 'ws://127.0.0.1:7070', { token: process.env.SEGLOG_TOKEN || undefined });
if (!(await client.listTopics()).includes('example-jobs')) await client.createTopic('example-jobs', { partitions: 4 }).catch(() => {});
const member = client.subscribe('example-jobs', { group, from: 'earliest', clientId: `worker-${process.pid}` });
member.on('assigned', (parts) => console.error(`assigned ${JSON.stringify(parts)}`));
member.on('revoked', (parts) => console.error(`revoked ${JSON.stringify(parts)}`));
process.once('SIGINT', () => void member.close().then(() => client.close()));
const max = Number(process.env.EXAMPLE_MAX ?? Infinity);
let n = 0;
for await (const r of member) {
  console.log(`${r.partition} ${r.offset} ${new TextDecoder().decode(r.value)}`);
  if (++n >= max) break;
}
await member.commit();
await member.close();
await client.close();
