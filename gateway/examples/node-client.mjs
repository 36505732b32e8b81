// A Node service talking to a running gateway (npm start in another shell).
// Run: node gateway/examples/node-client.mjs   (SEGLOG_URL and SEGLOG_TOKEN are honoured)
import { SeglogClient } from 'seglog/client';

const client = await SeglogClient.connect(process.env.SEGLOG_URL ?? 'ws://127.0.0.1:7070', { token: process.env.SEGLOG_TOKEN || undefined });
try {
  if (!(await client.listTopics()).includes('example-orders')) await client.createTopic('example-orders', { partitions: 3 });
  const producer = client.producer({ lingerMs: 5 });
  const sent = await Promise.all(['paid', 'packed', 'shipped'].map((value) => producer.send('example-orders', { key: 'order-42', value })));
  const { partition, offset } = sent[0];
  // Read back what was just written: same key, same partition, in order.
  const consumer = client.subscribe('example-orders', { partitions: [partition], offsets: { [partition]: offset }, stopAtEnd: true });
  for await (const r of consumer) console.log(`${r.partition} ${r.offset} ${new TextDecoder().decode(r.value)}`);
} finally {
  await client.close();
}
