// The pure allow/refuse decision (gateway/server/origin-policy.ts): Origin on upgrades, Host always.
import test from 'ava';
import {
  decideAccess,
  normalizeOrigin,
  ownAuthorities,
  parseAllowedHosts,
  parseAllowedOrigins,
  parseAuthority,
  type AccessPolicy,
} from '../../gateway/server/origin-policy.js';

const PORT = 7070;

function policy(allowOrigins: string[] = [], allowHosts: string[] = [], bound: string[] = ['127.0.0.1'], interfaces: string[] = []): AccessPolicy {
  return { allowOrigins: parseAllowedOrigins(allowOrigins), allowHosts: parseAllowedHosts(allowHosts), ownAuthorities: ownAuthorities(PORT, bound, interfaces) };
}

const upgrade = (origin: string | undefined, host: string | undefined = `127.0.0.1:${PORT}`) => ({ origin, host, upgrade: true });
const allowed = (v: ReturnType<typeof decideAccess>): boolean => v.allowed;
const reason = (v: ReturnType<typeof decideAccess>): string | null => (v.allowed ? null : v.reason);

test('default: only no Origin or the server\'s own origin may upgrade', (t) => {
  const p = policy();
  t.true(allowed(decideAccess(upgrade(undefined), p)), 'no Origin: not a browser');
  for (const own of [`http://127.0.0.1:${PORT}`, `http://localhost:${PORT}`, `http://[::1]:${PORT}`, `https://localhost:${PORT}`, `HTTP://LOCALHOST:${PORT}`]) {
    t.true(allowed(decideAccess(upgrade(own), p)), own);
  }
  for (const foreign of ['https://evil.example', 'null', `http://127.0.0.1:${PORT + 1}`, 'http://127.0.0.1', `http://0.0.0.0:${PORT}`, `ws://127.0.0.1:${PORT}`, 'chrome-extension://abcdef', 'not an origin', `http://127.0.0.1:${PORT}/path`, '']) {
    t.is(reason(decideAccess(upgrade(foreign), p)), 'origin', JSON.stringify(foreign));
  }
});

test('allowOrigins: listed origins (normalised), null only when listed, * for all', (t) => {
  const p = policy(['https://App.Example.com:443/', 'http://localhost:3000']);
  t.true(allowed(decideAccess(upgrade('https://app.example.com'), p)));
  t.true(allowed(decideAccess(upgrade('http://localhost:3000'), p)));
  t.false(allowed(decideAccess(upgrade('https://app.example.com:8443'), p)));
  t.false(allowed(decideAccess(upgrade('http://app.example.com'), p)), 'another scheme is another origin');
  t.false(allowed(decideAccess(upgrade('https://evil.app.example.com'), p)));
  t.false(allowed(decideAccess(upgrade('null'), p)));
  t.true(allowed(decideAccess(upgrade('null'), policy(['null']))));
  const all = policy(['*']);
  for (const o of ['https://evil.example', 'null', 'garbage']) t.true(allowed(decideAccess(upgrade(o), all)), o);
});

test('Host: loopback names and the bound host with our port; anything else refused, upgrade or not', (t) => {
  const p = policy([], [], ['localhost', '127.0.0.1']);
  for (const host of [`127.0.0.1:${PORT}`, `localhost:${PORT}`, `LocalHost:${PORT}`, `[::1]:${PORT}`, `127.1:${PORT}`, `[0:0:0:0:0:0:0:1]:${PORT}`]) {
    t.true(allowed(decideAccess({ origin: undefined, host, upgrade: false }, p)), host);
  }
  for (const host of [`evil.example:${PORT}`, 'evil.example', `127.0.0.1:${PORT + 1}`, '127.0.0.1', `0.0.0.0:${PORT}`, `[::]:${PORT}`, `localhost.:${PORT}`, `user@127.0.0.1:${PORT}`, `127.0.0.1:${PORT}/x`, `127.0.0.1:99999`, '']) {
    t.is(reason(decideAccess({ origin: undefined, host, upgrade: false }, p)), 'host', JSON.stringify(host));
    t.is(reason(decideAccess({ origin: `http://127.0.0.1:${PORT}`, host, upgrade: true }, p)), 'host', `upgrade ${JSON.stringify(host)}`);
  }
  t.true(allowed(decideAccess({ origin: undefined, host: undefined, upgrade: false }, p)), 'no Host (HTTP/1.0): not a browser');
  // Plain GETs are not judged by Origin (a foreign page cannot read them anyway).
  t.true(allowed(decideAccess({ origin: 'https://evil.example', host: `127.0.0.1:${PORT}`, upgrade: false }, p)));
});

test('a Host on port 80 may omit the port', (t) => {
  const p: AccessPolicy = { allowOrigins: new Set(), allowHosts: new Set(), ownAuthorities: ownAuthorities(80, ['127.0.0.1']) };
  t.true(allowed(decideAccess({ origin: undefined, host: '127.0.0.1', upgrade: false }, p)));
  t.true(allowed(decideAccess(upgrade('http://localhost', 'localhost'), p)));
});

test('allowHosts: a name on any port, name:port on that port only, * for all', (t) => {
  const p = policy([], ['seglog.internal', 'Gateway.Example:8080', '[fd00::5]:7070']);
  const host = (h: string) => allowed(decideAccess({ origin: undefined, host: h, upgrade: false }, p));
  t.true(host(`seglog.internal:${PORT}`));
  t.true(host('seglog.internal'));
  t.true(host('gateway.example:8080'));
  t.false(host('gateway.example:8081'));
  t.true(host('[fd00::5]:7070'));
  t.false(host(`evil.example:${PORT}`));
  t.true(allowed(decideAccess({ origin: undefined, host: 'anything:1', upgrade: false }, policy([], ['*']))));
  // An allowed host is not an allowed origin: a page there still needs allowOrigins.
  t.is(reason(decideAccess(upgrade('http://seglog.internal:7070', 'seglog.internal:7070'), p)), 'origin');
});

test('bound to every interface: the interfaces\' addresses and the wildcard count as ours', (t) => {
  const p = policy([], [], ['0.0.0.0', '0.0.0.0'], ['127.0.0.1', '192.168.1.5', 'fe80::1%eth0', '::1']);
  const host = (h: string) => allowed(decideAccess({ origin: undefined, host: h, upgrade: false }, p));
  t.true(host(`192.168.1.5:${PORT}`));
  t.true(host(`[fe80::1]:${PORT}`));
  t.true(allowed(decideAccess(upgrade(`http://192.168.1.5:${PORT}`, `192.168.1.5:${PORT}`), p)), 'a page the server itself would serve');
  t.true(host(`0.0.0.0:${PORT}`), 'what the server prints as its URL');
  t.false(host(`[::]:${PORT}`), 'not bound to ::');
  t.false(host(`192.168.1.6:${PORT}`));
  t.true(allowed(decideAccess({ origin: undefined, host: `[::]:${PORT}`, upgrade: false }, policy([], [], ['::', '::']))));
});

test('refusal messages are short and quote the offending value safely', (t) => {
  const v = decideAccess(upgrade(`https://evil.example/${'x'.repeat(500)}\r\nSet-Cookie: a=b`), policy());
  t.false(v.allowed);
  if (v.allowed) return;
  t.false(/[\r\n]/.test(v.message), 'no raw line breaks (the message goes into a log line and a response)');
  t.true(v.message.length < 250, v.message);
  t.regex(v.message, /--allow-origin/);
});

test('allow-list entries are validated', (t) => {
  for (const bad of ['https://a.com/path', 'https://a.com?q', 'a.com', 'https://user@a.com', '']) {
    t.throws(() => parseAllowedOrigins([bad]), { code: 'INVALID_ARGUMENT' } as never, bad);
  }
  for (const bad of ['a/b', 'a.com:99999', 'user@a.com', 'https://a.com', '']) {
    t.throws(() => parseAllowedHosts([bad]), { code: 'INVALID_ARGUMENT' } as never, bad);
  }
  t.deepEqual([...parseAllowedOrigins(['HTTPS://A.COM:443', 'http://b.com:8080/', 'null', '*'])], ['https://a.com', 'http://b.com:8080', 'null', '*']);
  t.deepEqual([...parseAllowedHosts(['A.com', 'b.com:1', '[::1]:2', '*'])], ['a.com', 'b.com:1', '[::1]:2', '*']);
  t.is(normalizeOrigin('https://a.com/'), 'https://a.com');
  t.deepEqual(parseAuthority('[::1]:80'), { hostname: '[::1]', port: 80 });
  t.is(parseAuthority('a b'), null);
});
