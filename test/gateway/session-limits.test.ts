// Per-session limits (maxSubscriptionsPerSession, queue bounds) and abusive peers: floods of
// subscriptions and pings, bogus credit and unsubscribes, many connections leave the server and
// other clients working.
import test from 'ava';
import { decodeError } from '../../gateway/protocol/error.js';
import { FrameType, encodeEmpty } from '../../gateway/protocol/frame.js';
import { encodeCredit, encodeSubscribe, encodeUnsubscribe } from '../../gateway/protocol/subscribe.js';
import { RawPeer, startGateway, take, text, until } from './helpers.js';

function subscribeFrame(id: number, creditBytes = 1): Uint8Array {
  return encodeSubscribe(id, { topic: 't', partitions: null, start: 'earliest', group: '', resume: [], creditBytes });
}

/** Sends frames in one write (one TCP segment on loopback): the server reads them in one go. */
function sendCorked(peer: RawPeer, frames: Uint8Array[]): void {
  const socket = (peer.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
  socket.cork();
  for (const f of frames) peer.send(f);
  socket.uncork();
}

// session.ts used to count a subscription opened in the same read as both pending and open (the
// pending id was dropped in a .finally() microtask after `subscriptions.set`), so SUBSCRIBEs
// arriving together were refused at half the limit.
test('maxSubscriptionsPerSession: as many SUBSCRIBEs as the limit arriving together all succeed', async (t) => {
  const h = await startGateway({}, { maxSubscriptionsPerSession: 8 });
  t.teardown(() => h.stop());
  await h.engine.createTopic('t', { partitions: 2 });
  const peer = await RawPeer.open(h.server.url);
  t.teardown(() => peer.close());
  sendCorked(peer, Array.from({ length: 9 }, (_, i) => subscribeFrame(i + 1)));
  await until(() => peer.frames.filter((f) => f.type === FrameType.SUBSCRIBED || f.type === FrameType.ERROR).length >= 9, '9 answers');
  const subscribed = peer.frames.filter((f) => f.type === FrameType.SUBSCRIBED).map((f) => f.id);
  const refused = peer.frames.filter((f) => f.type === FrameType.ERROR).map((f) => f.id);
  t.deepEqual(subscribed, [1, 2, 3, 4, 5, 6, 7, 8]);
  t.deepEqual(refused, [9]);
});

test('abusive peers (subscription and ping floods, bogus credit and unsubscribes, many connections) leave the server and other clients working', async (t) => {
  const h = await startGateway();
  t.teardown(() => h.stop());
  const c = await h.connect();
  await c.createTopic('t', { partitions: 2 });
  await c.send('t', Array.from({ length: 20 }, (_, i) => ({ value: `v${i}` })), { partition: 0 });

  // 1100 subscriptions on one connection: at most the limit (1024) open, the rest refused.
  const subs = await RawPeer.open(h.server.url);
  for (let i = 1; i <= 1100; i++) subs.send(subscribeFrame(i));
  await until(() => subs.frames.filter((f) => f.type === FrameType.SUBSCRIBED || f.type === FrameType.ERROR).length >= 1100, '1100 answers', 15_000);
  const opened = subs.frames.filter((f) => f.type === FrameType.SUBSCRIBED).length;
  t.true(opened >= 1 && opened <= 1024, `opened ${opened}`);
  for (const f of subs.frames.filter((x) => x.type === FrameType.ERROR)) t.is(decodeError(f.reader).code, 'INVALID_ARGUMENT');
  // Huge, zero and unknown credit, unknown unsubscribe, a duplicate subscription id.
  subs.send(encodeCredit(1, 0xffffffff));
  subs.send(encodeCredit(1, 0xffffffff));
  subs.send(encodeCredit(2, 0));
  subs.send(encodeCredit(999_999, 5));
  subs.send(encodeUnsubscribe(999_998));
  subs.send(subscribeFrame(1));
  const unknown = await subs.waitFor((f) => f.id === 999_998 && f.type === FrameType.ERROR, 'unsubscribe error');
  t.is(decodeError(unknown.reader).code, 'INVALID_ARGUMENT');
  // Subscription 1 got unlimited credit: it receives the whole partition 0.
  await until(() => (h.server.sessionStats().find((s) => s.subscriptions.some((x) => x.id === 1))?.subscriptions.find((x) => x.id === 1)?.positions[0] ?? 0) === 20, 'sub 1 delivered');

  // A ping flood from a peer that does not read: the server's queue for it stays bounded.
  const flood = await RawPeer.open(h.server.url);
  (flood.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const ping = encodeEmpty(FrameType.PING, 7);
  for (let i = 0; i < 20_000; i++) flood.send(ping);

  // 200 connections at once, then gone.
  const many = await Promise.all(Array.from({ length: 200 }, () => RawPeer.open(h.server.url)));
  t.is(many.length, 200);
  for (const p of many) p.close();

  // Everyone else is unaffected.
  const other = await h.connect();
  t.deepEqual(await other.send('t', { value: 'after' }, { partition: 1 }), { topic: 't', partition: 1, offset: 0 });
  const got = await take(other.subscribe('t', { partitions: 0, from: 'earliest' }), 20);
  t.deepEqual(got.map((r) => text(r.value)), Array.from({ length: 20 }, (_, i) => `v${i}`));
  for (const s of h.server.sessionStats()) t.true(s.queuedBytes <= 8 * 1024 * 1024 + 1024 * 1024, `session ${s.id} queued ${s.queuedBytes}`);
  subs.close();
  flood.close();
});
