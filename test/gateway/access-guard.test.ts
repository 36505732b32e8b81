// The refusal log is bounded: a page that retries in a loop gets every request refused and counted,
// but at most REFUSAL_LOG_LINES_PER_WINDOW_MAX log lines per window, then one line summing up the rest.
import type { IncomingMessage, ServerResponse } from 'node:http';
import os from 'node:os';
import test from 'ava';
import { AccessGuard, REFUSAL_LOG_LINES_PER_WINDOW_MAX, REFUSAL_LOG_WINDOW_MS } from '../../gateway/server/access-guard.js';
import type { GatewayMetrics } from '../../gateway/server/http.js';
import { parseAllowedHosts, parseAllowedOrigins } from '../../gateway/server/origin-policy.js';

test('refusals beyond the per-window log bound are counted, answered 403 and summed up in one line later', (t) => {
  let clock = 1_000_000;
  let counted = 0;
  const lines: string[] = [];
  const metrics = { refusedRequests: { inc: () => void counted++ } } as unknown as GatewayMetrics;
  const guard = new AccessGuard({
    allowOrigins: parseAllowedOrigins([]),
    allowHosts: parseAllowedHosts([]),
    metrics,
    log: (m) => lines.push(m),
    interfaceAddresses: () => [],
    now: () => clock,
  });
  guard.bind(7070, ['127.0.0.1']);
  const statuses: number[] = [];
  const refuse = (): boolean => {
    const req = { headers: { host: 'evil.example:7070' }, method: 'GET', socket: { remoteAddress: '127.0.0.1', remotePort: 5 } } as unknown as IncomingMessage;
    const res = { writeHead: (status: number) => void statuses.push(status), end: () => undefined } as unknown as ServerResponse;
    return guard.admitHttp(req, res);
  };
  const attempts = REFUSAL_LOG_LINES_PER_WINDOW_MAX + 15;
  for (let i = 0; i < attempts; i++) t.false(refuse());
  t.is(counted, attempts);
  t.is(statuses.length, attempts);
  t.true(statuses.every((s) => s === 403));
  t.is(lines.length, REFUSAL_LOG_LINES_PER_WINDOW_MAX);
  t.true(lines.every((l) => /refused HTTP GET from 127\.0\.0\.1:5: Host "evil\.example:7070"/.test(l)), lines[0]);
  clock += REFUSAL_LOG_WINDOW_MS;
  t.false(refuse());
  t.is(lines.length, REFUSAL_LOG_LINES_PER_WINDOW_MAX + 2);
  t.regex(lines[REFUSAL_LOG_LINES_PER_WINDOW_MAX]!, /^15 more refused requests were not logged/);
  t.regex(lines[REFUSAL_LOG_LINES_PER_WINDOW_MAX + 1]!, /^refused HTTP GET/);
});

test('bound to every interface, the machine\'s host name is one of its names', (t) => {
  const guard = new AccessGuard({
    allowOrigins: parseAllowedOrigins([]),
    allowHosts: parseAllowedHosts([]),
    metrics: { refusedRequests: { inc: () => undefined } } as unknown as GatewayMetrics,
    log: () => undefined,
    interfaceAddresses: () => ['10.1.2.3'],
  });
  guard.bind(7070, ['0.0.0.0']);
  const admit = (host: string): boolean =>
    guard.admitHttp(
      { headers: { host }, method: 'GET', socket: {} } as unknown as IncomingMessage,
      { writeHead: () => undefined, end: () => undefined } as unknown as ServerResponse,
    );
  t.true(admit(`${os.hostname()}:7070`));
  t.true(admit('10.1.2.3:7070'));
  t.false(admit('rebind.example:7070'));
});
