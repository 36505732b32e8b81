// Damage at rest seen through the gateway: consumers and FETCH get the intact records, then
// CORRUPT_RECORD carrying the damaged range, and can go on past it.
import test, { type ExecutionContext } from 'ava';
import { SeglogClientError, type ClientRecord, type CorruptInfo } from '../../gateway/client/client.js';
import { decodeError, ERROR_RANGES, encodeFetch, encodeSubscribe, FrameType } from '../../gateway/protocol/index.js';
import { decodeHelloOk } from '../../gateway/protocol/hello.js';
import { FrameReader } from '../../gateway/protocol/codec.js';
import { readHeader } from '../../gateway/protocol/frame.js';
import { TOPIC, batchesOf, engineOptions, flipBaseOffsetBit, flipRecordByte, segments, valueOf, writeTopic, type BatchAt } from '../helpers/damage.js';
import { runCli } from '../helpers/cli-run.js';
import { RawPeer, startGateway, type Harness } from './helpers.js';

const decoder = new TextDecoder();

function checkRecords(t: ExecutionContext, records: readonly ClientRecord[]): void {
  for (const r of records) {
    if (r.value === null || decoder.decode(r.value) !== valueOf(r.offset)) t.fail(`offset ${r.offset} returned the wrong value`);
  }
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let o = from; o < to; o++) out.push(o);
  return out;
}

interface Setup {
  gw: Harness;
  total: number;
  victim: BatchAt;
}

/** A topic of 2000 records in 64 KiB segments, one sealed batch damaged, served by a gateway. */
async function setup(t: ExecutionContext, damage: 'baseOffset' | 'crc'): Promise<Setup> {
  const w = await writeTopic();
  t.teardown(w.cleanup);
  const seg = segments(w.partitionDir)[1]!;
  const victim = batchesOf(seg.log)[9]!;
  if (damage === 'baseOffset') flipBaseOffsetBit(seg.log, victim, 7, 4);
  else flipRecordByte(seg.log, victim);
  const gw = await startGateway({ memory: false, ...engineOptions(w.dir) });
  t.teardown(() => gw.stop());
  return { gw, total: w.total, victim };
}

for (const damage of ['baseOffset', 'crc'] as const) {
  test(`a consumer from earliest gets the intact records, then CORRUPT_RECORD with the range (${damage}), and resubscribes past it`, async (t) => {
    const { gw, total, victim } = await setup(t, damage);
    const client = await gw.connect();
    const corrupt: CorruptInfo[] = [];
    const seen: number[] = [];
    const error = await t.throwsAsync(async () => {
      const consumer = client.subscribe(TOPIC, { from: 'earliest', stopAtEnd: true, checkCrcs: true, maxBufferedBytes: 64 * 1024, onCorrupt: (c) => corrupt.push(c) });
      for await (const r of consumer) {
        checkRecords(t, [r]);
        seen.push(r.offset);
        if (seen.length > total) break;
      }
    });
    t.true(error instanceof SeglogClientError);
    const e = error as SeglogClientError;
    t.is(e.code, 'CORRUPT_RECORD');
    t.deepEqual([e.partition, e.offset, e.nextOffset], [0, victim.base, victim.last + 1]);
    t.deepEqual(seen, range(0, victim.base), 'every intact record before the damage, in order, once');
    t.deepEqual(corrupt.map((c) => [c.partition, c.offset, c.nextOffset]), [[0, victim.base, victim.last + 1]]);

    const rest: number[] = [];
    for await (const r of client.subscribe(TOPIC, { partitions: 0, from: { offset: e.nextOffset! }, stopAtEnd: true })) {
      checkRecords(t, [r]);
      rest.push(r.offset);
      if (rest.length > total) break;
    }
    t.deepEqual(rest, range(victim.last + 1, total));
  });
}

test("corrupt: 'skip' steps over the range and goes on, in order, with onCorrupt between", async (t) => {
  const { gw, total, victim } = await setup(t, 'baseOffset');
  const client = await gw.connect();
  const events: Array<number | string> = [];
  const consumer = client.subscribe(TOPIC, {
    from: 'earliest',
    stopAtEnd: true,
    corrupt: 'skip',
    maxBufferedBytes: 32 * 1024,
    onCorrupt: (c) => events.push(`corrupt ${c.offset}..${c.nextOffset}`),
  });
  const seen: number[] = [];
  for await (const r of consumer) {
    checkRecords(t, [r]);
    seen.push(r.offset);
    events.push(r.offset);
    if (seen.length > total) break;
  }
  t.deepEqual(seen, [...range(0, victim.base), ...range(victim.last + 1, total)]);
  t.is(events[victim.base], `corrupt ${victim.base}..${victim.last + 1}`, 'reported where it lies in the stream');
  t.is(consumer.positions().get(0), total);
});

test('FETCH returns the intact batches before the damage, then ERROR with the range; fetching from nextOffset goes on', async (t) => {
  const { gw, total, victim } = await setup(t, 'crc');
  const client = await gw.connect();
  const first = await client.fetch(TOPIC, 0, victim.base - 15, { maxBytes: 1 << 20 });
  checkRecords(t, first.records);
  t.deepEqual(first.records.map((r) => r.offset), range(victim.base - 15, victim.base));
  t.is(first.nextOffset, victim.base);
  const e = (await t.throwsAsync(client.fetch(TOPIC, 0, first.nextOffset))) as SeglogClientError;
  t.is(e.code, 'CORRUPT_RECORD');
  t.deepEqual([e.partition, e.offset, e.nextOffset], [0, victim.base, victim.last + 1]);
  const after = await client.fetch(TOPIC, 0, e.nextOffset!, { maxBytes: 4096 });
  checkRecords(t, after.records);
  t.is(after.records[0]!.offset, victim.last + 1);
  t.true(after.nextOffset > victim.last + 1 && after.nextOffset <= total);
});

test('the range fields go only to clients that announce ERROR_RANGES (older clients parse ERROR as before)', async (t) => {
  const { gw, victim } = await setup(t, 'baseOffset');
  const fetchAt = (id: number) => encodeFetch(id, { topic: TOPIC, partition: 0, offset: victim.base, maxBytes: 4096 });

  const old = await RawPeer.open(gw.server.url, true, 0);
  t.teardown(() => old.close());
  old.send(fetchAt(7));
  const oldError = await old.waitFor((f) => f.type === FrameType.ERROR && f.id === 7, 'ERROR');
  // decodeError of an older client ends after the message: no bytes may follow it.
  const oldReader = readHeader(oldError.bytes).reader;
  oldReader.string();
  oldReader.string();
  t.is(oldReader.remaining, 0);

  const peer = await RawPeer.open(gw.server.url, true, ERROR_RANGES);
  t.teardown(() => peer.close());
  const helloOk = decodeHelloOk(new FrameReader(peer.frames[0]!.bytes, 5));
  t.true((helloOk.flags & ERROR_RANGES) !== 0, 'HELLO_OK says the server sends ranges');
  peer.send(fetchAt(8));
  const withRange = decodeError((await peer.waitFor((f) => f.type === FrameType.ERROR && f.id === 8, 'ERROR')).reader);
  t.is(withRange.code, 'CORRUPT_RECORD');
  t.deepEqual(withRange.range, { partition: 0, offset: victim.base, nextOffset: victim.last + 1 });

  // A subscription's ERROR carries it too, after the DELIVERs of the records before the damage.
  peer.send(encodeSubscribe(9, { topic: TOPIC, partitions: [0], start: { offset: victim.base - 10 }, group: '', resume: [], creditBytes: 1 << 20 }));
  const subError = await peer.waitFor((f) => f.type === FrameType.ERROR && f.id === 9, 'subscription ERROR');
  const order = peer.frames.filter((f) => f.id === 9).map((f) => f.type);
  t.deepEqual(order, [FrameType.SUBSCRIBED, FrameType.DELIVER, FrameType.ERROR]);
  t.deepEqual(decodeError(subError.reader).range, { partition: 0, offset: victim.base, nextOffset: victim.last + 1 });
});


test('seglog consume stops at damage with its offsets, or goes past it with --skip-corrupt', async (t) => {
  const { gw, total, victim } = await setup(t, 'crc');
  const env = { SEGLOG_URL: gw.server.url };
  const offsetsOf = (stdout: string): number[] => stdout.trim().split('\n').map((l) => (JSON.parse(l) as { offset: number }).offset);
  const stopped = await runCli(['consume', TOPIC, '--no-follow', '--format', 'json'], { env, timeoutMs: 20_000 });
  t.is(stopped.code, 1);
  t.deepEqual(offsetsOf(stopped.stdout), range(0, victim.base));
  t.regex(stopped.stderr, new RegExp(`CORRUPT_RECORD: .*resume at offset ${victim.last + 1}`));
  const skipped = await runCli(['consume', TOPIC, '--no-follow', '--format', 'json', '--skip-corrupt'], { env, timeoutMs: 20_000 });
  t.is(skipped.code, 0, skipped.stderr);
  t.deepEqual(offsetsOf(skipped.stdout), [...range(0, victim.base), ...range(victim.last + 1, total)]);
  t.regex(skipped.stderr, new RegExp(`skipped damaged records ${victim.base}\\.\\.${victim.last} of partition 0`));
});
