// The security building blocks on their own: rights grammar and matching, the auth file's checks,
// token hashing, the failed-authentication limiter's bounds, the byte-rate bucket.
import test from 'ava';
import { parseAuthFile } from '../../gateway/server/auth/auth-file.js';
import { ByteQuotaBucket } from '../../gateway/server/auth/byte-quota.js';
import { AuthFailureLimiter } from '../../gateway/server/auth/failure-limiter.js';
import { QuotaRegistry } from '../../gateway/server/auth/quotas.js';
import { Rights, formatRight, parseRight } from '../../gateway/server/auth/rights.js';
import { generateToken, hashToken, matchToken } from '../../gateway/server/auth/tokens.js';

test('rights: exact, prefix and all; topic and group kinds; metrics; visibility', (t) => {
  const r = new Rights(['consume:orders', 'produce:orders.*', 'admin:group:team-*', 'consume:group:billing', 'metrics'].map(parseRight));
  t.true(r.allows('consume', 'topic', 'orders'));
  t.false(r.allows('consume', 'topic', 'orders.eu'));
  t.true(r.allows('produce', 'topic', 'orders.eu'));
  t.false(r.allows('produce', 'topic', 'orders'), 'orders.* is a prefix "orders." and does not cover "orders"');
  t.false(r.allows('produce', 'topic', 'ordersx'));
  t.true(r.allows('admin', 'group', 'team-a'));
  t.false(r.allows('admin', 'topic', 'team-a'), 'a group right is not a topic right');
  t.true(r.allows('consume', 'group', 'billing'));
  t.false(r.allows('consume', 'group', 'billing2'));
  t.true(r.metrics);
  t.true(r.sees('topic', 'orders.us'));
  t.false(r.sees('topic', 'payments'));
  t.true(new Rights([parseRight('admin:topic:*')]).allows('admin', 'topic', 'anything'));
  t.false(new Rights([]).sees('topic', 'x'));
  t.deepEqual(['produce:x', 'consume:group:g*', 'metrics'].map((x) => formatRight(parseRight(x))), ['produce:topic:x', 'consume:group:g*', 'metrics']);
  for (const bad of ['produce', 'read:x', 'produce:group:g', 'consume:', 'consume:a*b', `consume:${'x'.repeat(300)}`]) t.throws(() => parseRight(bad), { code: 'INVALID_ARGUMENT' } as never, bad);
});

test('tokens: 256 random bits, hashed with SHA-256, matched against every stored hash', (t) => {
  const a = generateToken();
  const b = generateToken();
  t.not(a, b);
  t.regex(a, /^sgl_[A-Za-z0-9_-]{43}$/);
  t.regex(hashToken(a), /^sha256:[0-9a-f]{64}$/);
  t.is(matchToken(a, [hashToken(b), hashToken(a)]), hashToken(a));
  t.is(matchToken(a, [hashToken(b)]), null);
  t.is(matchToken('', [hashToken(a)]), null);
});

test('the auth file: every fault is one INVALID_ARGUMENT naming the file and the principal', (t) => {
  const h = hashToken(generateToken());
  const ok = parseAuthFile(JSON.stringify({ version: 1, principals: { a: { tokens: [h], rights: ['consume:x'], quota: { produceBytesPerSecond: 10 } } } }), 'f.json');
  t.deepEqual(ok.principals.get('a')!.quota, { produceBytesPerSecond: 10 });
  const cases: Array<[unknown, RegExp]> = [
    ['{', /auth file f\.json: not JSON/],
    [{ version: 2, principals: {} }, /version must be 1/],
    [{ version: 1 }, /"principals" must be an object/],
    [{ version: 1, principals: { a: { tokens: ['sgl_plaintext'] } } }, /principal "a": tokens must be/],
    [{ version: 1, principals: { a: { tokens: [h] }, b: { tokens: [h] } } }, /principal "b": a token hash is listed for "a" too/],
    [{ version: 1, principals: { a: { rights: ['fly:x'] } } }, /principal "a": right "fly:x"/],
    [{ version: 1, principals: { a: { quota: { produceBytesPerSecond: 0 } } } }, /quota.produceBytesPerSecond must be an integer/],
    [{ version: 1, principals: { a: { quota: { bytes: 1 } } } }, /unknown quota "bytes"/],
    [{ version: 1, principals: { a: { password: 'x' } } }, /unknown field "password"/],
    [{ version: 1, principals: { 'bad\nname': {} } }, /1\.\.255 printable characters/],
  ];
  for (const [input, message] of cases) {
    t.throws(() => parseAuthFile(typeof input === 'string' ? input : JSON.stringify(input), 'f.json'), { code: 'INVALID_ARGUMENT', message } as never, String(message));
  }
});

test('failure limiter: delays each failure, blocks an address after failuresMax in its window, forgets the oldest beyond addressesMax', (t) => {
  let now = 0;
  const l = new AuthFailureLimiter({ failuresMax: 3, windowMs: 1000, delayMs: 50, addressesMax: 2 }, () => now);
  t.is(l.failed('a'), 50);
  l.failed('a');
  t.is(l.blockedForMs('a'), 0);
  l.failed('a');
  t.is(l.blockedForMs('a'), 1000);
  t.is(l.blockedForMs('b'), 0, 'other addresses are not affected');
  now = 600;
  t.is(l.blockedForMs('a'), 400);
  now = 1000;
  t.is(l.blockedForMs('a'), 0, 'the window ended');
  // Bounded memory: a third address pushes out the oldest.
  l.failed('x');
  l.failed('y');
  l.failed('z');
  t.is(l.trackedAddresses, 2);
});

test('byte-rate bucket: a burst of rate × QUOTA_BURST_MS passes at once, then debt turns into waits that grow in arrival order', (t) => {
  let now = 0;
  const b = new ByteQuotaBucket(1000, () => now); // 1000 B/s, burst 100 B
  t.is(b.take(100), 0);
  t.is(b.take(100), 100, 'a request over the burst waits for its bytes');
  t.is(b.take(50), 150);
  t.is(b.availableBytes(), 0);
  now = 150;
  t.is(b.debtMs(), 0);
  now = 10_000;
  t.is(b.availableBytes(), 100, 'an idle bucket refills only up to the burst');
});

test('quota registry: one bucket pair per principal, kept (with its debt) while the rates stay, replaced when they change, dropped with the principal', (t) => {
  const q = new QuotaRegistry();
  const p = { name: 'p', rights: new Rights([]), quota: { produceBytesPerSecond: 1000 } };
  const first = q.of(p);
  t.not(first.produce, null);
  t.is(first.consume, null);
  first.produce!.take(10_000); // in debt
  t.is(q.of({ ...p }).produce, first.produce, 'same rate: the same bucket, debt and all');
  const faster = q.of({ ...p, quota: { produceBytesPerSecond: 2000 } });
  t.not(faster.produce, first.produce);
  t.is(faster.produce!.bytesPerSecond, 2000);
  t.deepEqual(q.of({ name: 'free', rights: new Rights([]), quota: {} }), { produce: null, consume: null });
  q.retain(new Set(['other']));
  t.not(q.of(p).produce, faster.produce, 'a removed principal starts afresh if it comes back');
});
