// Record timestamps: what the engine and the client batch codec accept round-trips exactly; the rest
// (deltas beyond safe integers) is refused with INVALID_RECORD and nothing is written.
import test from 'ava';
import { Engine } from '../../engine/index.js';
import { decodeRecords, encodeBatch } from '../../engine/record-batch.js';
import { decodeBatches, encodeRecordBatch } from '../../gateway/client/record-codec.js';

const code = (c: string) => ({ code: c }) as never;

// Timestamp deltas are zigzag varlongs limited to safe integers: records whose timestamps lie
// further apart than that used to be accepted and read back with a different (or garbage)
// timestamp. Every accepted timestamp must round-trip exactly; the rest is refused.
test('engine encodeBatch: timestamps round-trip exactly or are refused with INVALID_RECORD', (t) => {
  const cases: Array<[number, number]> = [
    [-(2 ** 53 - 1), 2 ** 53 - 2],
    [2 ** 53 - 1, -(2 ** 53 - 2)],
    [2 ** 53 - 1, 0],
    [0, 2 ** 53 - 1],
    [0, 2 ** 52],
    [2 ** 52, 0],
    [1_700_000_000_000, 1_700_000_000_001],
  ];
  for (const [a, b] of cases) {
    let batch: Buffer;
    try {
      batch = encodeBatch([{ value: 'a', timestamp: a }, { value: 'b', timestamp: b }]);
    } catch (e) {
      t.is((e as { code?: string }).code, 'INVALID_RECORD', `${a}, ${b}`);
      continue;
    }
    t.deepEqual(decodeRecords(batch).map((r) => r.timestamp), [a, b], `${a}, ${b}`);
  }
  // Ordinary timestamps (and spans up to 2^52 ms, far beyond any real clock) are accepted.
  t.notThrows(() => encodeBatch([{ value: 'a', timestamp: 0 }, { value: 'b', timestamp: 2 ** 52 }]));
});

test('client encodeRecordBatch: timestamps round-trip exactly or are refused with INVALID_RECORD', (t) => {
  const cases: Array<[number, number]> = [
    [-(2 ** 53 - 1), 2 ** 53 - 2],
    [2 ** 53 - 1, -(2 ** 53 - 2)],
    [2 ** 53 - 1, 0],
    [0, 2 ** 52],
  ];
  for (const [a, b] of cases) {
    let batch: Uint8Array;
    try {
      batch = encodeRecordBatch([{ value: 'a', timestamp: a }, { value: 'b', timestamp: b }]);
    } catch (e) {
      t.is((e as { code?: string }).code, 'INVALID_RECORD', `${a}, ${b}`);
      continue;
    }
    t.deepEqual(decodeBatches(batch, 't', 0).map((r) => r.timestamp), [a, b], `${a}, ${b}`);
  }
});

test('produce of timestamps too far apart writes nothing', async (t) => {
  const engine = await Engine.open({ memory: true });
  t.teardown(() => engine.close());
  await engine.createTopic('t');
  await t.throwsAsync(engine.produce('t', [{ value: 'a', timestamp: 2 ** 53 - 1 }, { value: 'b', timestamp: -(2 ** 53 - 2) }]), code('INVALID_RECORD'));
  t.deepEqual(engine.offsets('t', 0), { startOffset: 0, endOffset: 0 });
});
