import test from 'ava';
import { createRequire } from 'node:module';
import { murmur2, partitionForKey, toPositive } from '../../engine/format/partitioner.js';

const require = createRequire(import.meta.url);
// kafkajs's own murmur2 (a Long-based port of the Java client's) and its DefaultPartitioner: an
// independent implementation to check ours against.
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: Buffer | string) => number;
const { Partitioners } = require('kafkajs') as {
  Partitioners: { DefaultPartitioner: () => (args: { topic: string; partitionMetadata: unknown[]; message: { key: Buffer | string | null; partition?: number } }) => number };
};

const KEYS: (string | Buffer)[] = [
  '', 'a', 'ab', 'abc', 'abcd', 'abcde', 'key-0', 'key-1', 'key-42', 'user:1234', 'order/987654321',
  'The quick brown fox jumps over the lazy dog', 'ünïcödé', '日本語のキー', '🙂🙃', 'x'.repeat(1000),
  Buffer.from([0]), Buffer.from([0xff]), Buffer.from([0xff, 0xfe, 0xfd]), Buffer.from([0x80, 0, 0, 0, 1]),
  Buffer.from(Array.from({ length: 257 }, (_, i) => (i * 37) & 0xff)),
];
for (let i = 0; i < 200; i++) KEYS.push(`k${i * 7919}`);

test('murmur2 equals kafkajs murmur2 for a fixed list of keys', (t) => {
  for (const key of KEYS) {
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    t.is(murmur2(bytes), kafkajsMurmur2(bytes), `key ${JSON.stringify(key.toString())}`);
  }
});

test('known Kafka murmur2 values (from the Java client tests)', (t) => {
  // UtilsTest.testMurmur2 in Apache Kafka
  const cases: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ];
  for (const [key, hash] of cases) t.is(murmur2(Buffer.from(key)), hash, key);
});

test('partitionForKey matches kafkajs DefaultPartitioner for 1..64 partitions', (t) => {
  const partitioner = Partitioners.DefaultPartitioner();
  for (const partitions of [1, 2, 3, 5, 8, 12, 16, 31, 64]) {
    const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0 }));
    for (const key of KEYS) {
      const expected = partitioner({ topic: 't', partitionMetadata, message: { key } });
      t.is(partitionForKey(key, partitions), expected, `key ${JSON.stringify(key.toString())}, ${partitions} partitions`);
    }
  }
});

test('toPositive clears the sign bit like Kafka (not Math.abs)', (t) => {
  t.is(toPositive(-1), 0x7fffffff);
  t.is(toPositive(-2147483648), 0);
  t.is(toPositive(5), 5);
});

test('partitionForKey refuses a bad partition count', (t) => {
  t.throws(() => partitionForKey('a', 0), { instanceOf: RangeError });
  t.throws(() => partitionForKey('a', 1.5), { instanceOf: RangeError });
});
