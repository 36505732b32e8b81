// The client library refuses arguments that do not fit the protocol (NaN, fractions, values past a
// field's range, unknown acks modes) with INVALID_ARGUMENT before anything is sent, instead of
// sending another value.
import test from 'ava';
import { startGateway, take } from './helpers.js';

const code = (c: string) => ({ code: c }) as never;

test('client arguments that do not fit their protocol field are refused with INVALID_ARGUMENT, not sent as another value', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  const c = await h.connect();
  await c.createTopic('t', { partitions: 2 });
  await c.send('t', { value: 'x' }, { partition: 0 });
  // NaN used to go out as partition 0 (DataView wraps it) and answer for the wrong partition.
  await t.throwsAsync(c.offsets('t', NaN), code('INVALID_ARGUMENT'));
  await t.throwsAsync(c.offsets('t', 0.5), code('INVALID_ARGUMENT'));
  await t.throwsAsync(c.committed('g', 't', 2 ** 32), code('INVALID_ARGUMENT'));
  await t.throwsAsync(c.addPartitions('t', Number.NaN), code('INVALID_ARGUMENT'));
  // These used to reject with a bare RangeError / TypeError.
  await t.throwsAsync(c.fetch('t', 0, Number.NaN), code('INVALID_ARGUMENT'));
  await t.throwsAsync(c.commit('g', 't', 0, 1.5), code('INVALID_ARGUMENT'));
  await t.throwsAsync(take(c.subscribe('t', { from: 'x' as never }), 1), code('INVALID_ARGUMENT'));
  await t.throwsAsync(take(c.subscribe('t', { partitions: Number.NaN, from: 'earliest' }), 1), code('INVALID_ARGUMENT'));
  // Nothing of the above reached the server as a valid request.
  t.is(await c.committed('g', 't', 0), null);
  t.is(h.engine.describeTopic('t').partitions.length, 2);
  t.deepEqual(await c.offsets('t', 0), { startOffset: 0, endOffset: 1 });
});

test('an acks typo is refused instead of silently meaning "written"', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  const c = await h.connect();
  await c.createTopic('t');
  await t.throwsAsync(c.send('t', { value: 'x' }, { acks: 'all' as never }), code('INVALID_ARGUMENT'));
  await t.throwsAsync(c.sendBatch('t', [{ value: 'x' }], { acks: 'flush' as never }), code('INVALID_ARGUMENT'));
  t.throws(() => c.producer({ acks: 'all' as never }), code('INVALID_ARGUMENT'));
  t.deepEqual(h.engine.offsets('t', 0), { startOffset: 0, endOffset: 0 });
  t.deepEqual(await c.send('t', { value: 'x' }, { acks: 'flushed' }), { topic: 't', partition: 0, offset: 0 });
});
