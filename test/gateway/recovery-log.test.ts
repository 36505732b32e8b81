// `seglog serve` (GatewayServer) opens every partition at start and logs one line per partition
// whose log recovery had to cut.
import test from 'ava';
import fs from 'node:fs';
import { tempDir } from '../engine/helpers.js';
import { makeTornTail, TORN_BYTES } from '../helpers/torn-tail.js';
import { startGateway, until } from './helpers.js';

test('the gateway logs a recovery cut at start, before any request touches the partition', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { cutPosition } = await makeTornTail(dir, 'orders');
  const h = await startGateway({ memory: false, dir });
  try {
    await until(() => h.logs.some((l) => l.includes('recovered after an unclean shutdown')), 'the recovery line');
    const lines = h.logs.filter((l) => l.includes('recovered'));
    t.is(lines.length, 1, lines.join('\n'));
    t.true(lines[0]!.includes('partition orders-0 '), lines[0]);
    t.true(lines[0]!.includes(`at position ${cutPosition}, ${TORN_BYTES} bytes dropped`), lines[0]);
    const c = await h.connect();
    t.deepEqual(await c.offsets('orders', 0), { startOffset: 0, endOffset: 2 });
  } finally {
    await h.stop();
  }
});

test('openPartitionsAtStart false leaves recovery to the first use, which is still logged', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  await makeTornTail(dir, 'lazy');
  const h = await startGateway({ memory: false, dir }, { openPartitionsAtStart: false });
  try {
    // An observation window for something that must not happen (a background open): no event to await.
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.false(h.logs.some((l) => l.includes('recovered')), 'nothing opened yet');
    const c = await h.connect();
    t.deepEqual(await c.offsets('lazy', 0), { startOffset: 0, endOffset: 2 });
    t.true(h.logs.some((l) => l.includes('partition lazy-0 recovered')), h.logs.join('\n'));
  } finally {
    await h.stop();
  }
});
