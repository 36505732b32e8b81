// The client producer compresses as the topic says (Kafka's compression.type) unless told
// otherwise: LZ4 topics get LZ4 batches, others plain, on every send path.
import test from 'ava';
import { startGateway } from './helpers.js';

/** The codec bits (attributes, bytes 21..22, low 3 bits) of every stored batch of a partition. */
function storedCodecs(h: Awaited<ReturnType<typeof startGateway>>, topic: string, partition: number): number[] {
  const read = h.engine.readBatches(topic, partition, 0, { maxBytes: 64 * 1024 * 1024 });
  return read.batches.map((b) => new DataView(b.buffer, b.byteOffset, b.byteLength).getInt16(21) & 0x7);
}

const LZ4 = 3;
const NONE = 0;

test('without a compression option the producer follows each topic; an explicit one overrides it', async (t) => {
  const h = await startGateway();
  try {
    await h.engine.createTopic('packed', { partitions: 2, compression: 'lz4' });
    await h.engine.createTopic('plain', { partitions: 1, compression: 'none' });
    const c = await h.connect();
    const value = 'x'.repeat(200);
    // send() (keyed and keyless) and sendBatch() with an explicit partition, on one default producer.
    const p = c.producer({ lingerMs: 0 });
    await p.send('packed', { key: 'k', value });
    await p.send('packed', { value }, { partition: 1 });
    await p.sendBatch('packed', [{ value }, { value }], { partition: 0 });
    await p.send('plain', { value });
    await c.send('packed', { value }, { partition: 1 }); // the client's own default producer
    t.true(storedCodecs(h, 'packed', 0).length > 0);
    t.deepEqual([...storedCodecs(h, 'packed', 0), ...storedCodecs(h, 'packed', 1)].filter((x) => x !== LZ4), [], 'every batch of the LZ4 topic is LZ4');
    t.deepEqual(storedCodecs(h, 'plain', 0), [NONE]);
    // An explicit choice wins over the topic's.
    const forced = c.producer({ lingerMs: 0, compression: 'none' });
    await forced.sendBatch('packed', [{ value }], { partition: 0 });
    t.is(storedCodecs(h, 'packed', 0).at(-1), NONE);
    const lz4 = c.producer({ lingerMs: 0, compression: 'lz4' });
    await lz4.send('plain', { value });
    t.is(storedCodecs(h, 'plain', 0).at(-1), LZ4);
    // Whatever the codec, the records read back the same.
    const read = await c.fetch('packed', 0, 0);
    t.true(read.records.every((r) => new TextDecoder().decode(r.value!) === value));
  } finally {
    await h.stop();
  }
});
