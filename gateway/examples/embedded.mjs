// The engine in your process: produce, read, tail, commit. Run: npm run build && node gateway/examples/embedded.mjs
// Its own data directory (npm start holds ./data); runs again and again (the topic is created once).
import { Engine } from 'seglog';

const dir = process.env.SEGLOG_EXAMPLE_DIR ?? './example-data';
const engine = await Engine.open({ dir });
if (!engine.listTopics().includes('greetings')) await engine.createTopic('greetings', { partitions: 1 });
const [first] = await engine.produce('greetings', [{ key: 'en', value: 'hello' }, { key: 'fr', value: 'bonjour' }], { acks: 'flushed' });
for (const r of engine.read('greetings', 0, first.offset, { maxRecords: 2 })) {
  console.log(`${r.offset} ${r.key?.toString()} ${r.value?.toString()}`);
}
await engine.commit('example', 'greetings', 0, first.offset + 2);
console.log(`committed ${await engine.committed('example', 'greetings', 0)}`);
await engine.close();
