// A topic's compression is honoured on every path (Kafka's compression.type): the client producer
// compresses as the topic says unless told otherwise, and the server stores LZ4 for an LZ4 topic
// whatever the producer sent; a 'none' topic keeps what was sent.
import test from 'ava';
import { startGateway } from './helpers.js';

/** The codec bits (attributes, bytes 21..22, low 3 bits) of every stored batch of a partition. */
function storedCodecs(h: Awaited<ReturnType<typeof startGateway>>, topic: string, partition: number): number[] {
  const read = h.engine.readBatches(topic, partition, 0, { maxBytes: 64 * 1024 * 1024 });
  return read.batches.map((b) => new DataView(b.buffer, b.byteOffset, b.byteLength).getInt16(21) & 0x7);
}

const LZ4 = 3;
const NONE = 0;

/** Record batch bytes the gateway has received (before the engine stores them). */
async function bytesIn(h: Awaited<ReturnType<typeof startGateway>>): Promise<number> {
  const line = (await h.server.metrics.registry.metrics()).split('\n').find((l) => l.startsWith('seglog_bytes_in_total '));
  return Number(line!.split(' ')[1]);
}

test('without a compression option the producer compresses as each topic says, on every send path; an explicit one overrides it', async (t) => {
  const h = await startGateway();
  try {
    await h.engine.createTopic('packed', { partitions: 2, compression: 'lz4' });
    await h.engine.createTopic('plain', { partitions: 1, compression: 'none' });
    const c = await h.connect();
    const value = 'x'.repeat(2000);
    const sendAll = async (p: ReturnType<typeof c.producer>): Promise<number> => {
      const before = await bytesIn(h);
      // send() keyed and keyless, and sendBatch() to an explicit partition.
      await p.send('packed', { key: 'k', value });
      await p.send('packed', { value }, { partition: 1 });
      await p.sendBatch('packed', [{ value }, { value }], { partition: 0 });
      return (await bytesIn(h)) - before;
    };
    const followed = await sendAll(c.producer({ lingerMs: 0 }));
    const forcedPlain = await sendAll(c.producer({ lingerMs: 0, compression: 'none' }));
    // 4 records of 2,000 bytes: plain on the wire is over 8,000 bytes, LZ4 a small fraction of it.
    t.true(forcedPlain > 8000, `plain: ${forcedPlain} bytes`);
    t.true(followed * 4 < forcedPlain, `followed the LZ4 topic: ${followed} bytes on the wire against ${forcedPlain} plain`);
    // Either way the LZ4 topic stores LZ4 (the server compresses what came plain).
    t.deepEqual([...storedCodecs(h, 'packed', 0), ...storedCodecs(h, 'packed', 1)].filter((x) => x !== LZ4), []);
    // A 'none' topic: the default producer sends plain, an explicit 'lz4' is kept as sent.
    await c.producer({ lingerMs: 0 }).send('plain', { value });
    await c.producer({ lingerMs: 0, compression: 'lz4' }).send('plain', { value });
    t.deepEqual(storedCodecs(h, 'plain', 0), [NONE, LZ4]);
    const read = await c.fetch('packed', 0, 0);
    t.true(read.records.length > 0 && read.records.every((r) => new TextDecoder().decode(r.value!) === value));
  } finally {
    await h.stop();
  }
});

test('the server stores LZ4 for an LZ4 topic also when a producer sends plain batches; a damaged plain batch is still refused', async (t) => {
  const h = await startGateway();
  try {
    await h.engine.createTopic('packed', { partitions: 1, compression: 'lz4' });
    await h.engine.createTopic('asis', { partitions: 1, compression: 'none' });
    const c = await h.connect();
    const plain = c.producer({ lingerMs: 0, compression: 'none' });
    const value = 'y'.repeat(300);
    const ack = await plain.sendBatch('packed', [{ key: 'a', value, headers: { h: 'v' } }, { value }], { partition: 0 });
    t.deepEqual(storedCodecs(h, 'packed', 0), [LZ4]);
    const back = await c.fetch('packed', 0, 0);
    t.deepEqual(back.records.map((r) => [r.offset, r.key === null ? null : new TextDecoder().decode(r.key), new TextDecoder().decode(r.value!)]), [
      [ack.baseOffset, 'a', value],
      [ack.baseOffset + 1, null, value],
    ]);
    t.is(new TextDecoder().decode(back.records[0]!.headers[0]!.value!), 'v');
    // A topic set to 'none' keeps what the producer sent (as Kafka's 'producer').
    await c.producer({ lingerMs: 0, compression: 'lz4' }).send('asis', { value });
    await plain.send('asis', { value });
    t.deepEqual(storedCodecs(h, 'asis', 0), [LZ4, NONE]);
    // A damaged plain batch is refused before it would get a fresh (valid) CRC.
    const { encodeBatch } = await import('../../engine/record-batch.js');
    const bad = encodeBatch([{ value: 'z' }]);
    bad[bad.length - 1] ^= 0xff;
    await t.throwsAsync(h.engine.appendBatch('packed', bad, { partition: 0 }), { code: 'CORRUPT_RECORD' } as never);
    t.is(h.engine.offsets('packed', 0).endOffset, 2);
  } finally {
    await h.stop();
  }
});
