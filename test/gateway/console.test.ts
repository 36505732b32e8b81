// The web console (GET /) in a real browser: Debian's headless Chromium, driven by playwright-core,
// against a real gateway on 127.0.0.1. The topics table lists what the API created; the live tail
// shows records a Node producer sends while the page is open, in order; the produce form writes a
// record a Node consumer reads; a group's lag moves as it commits; with authentication on the page
// asks for a token. Screenshots of the main pages go to test-artifacts/console/ (gitignored).
//
// Needs Chromium at /usr/bin/chromium (or SEGLOG_CHROMIUM): without it these tests FAIL.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TAIL_ROWS_MAX, TAIL_VALUE_SHOWN_BYTES_MAX } from '../../gateway/console/limits.js';
import { authFixture } from '../security/helpers.js';
import { startGateway, take, text, until, type Harness } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = path.resolve(here, '../../../test-artifacts/console'); // repo/test-artifacts/console
const CHROMIUM = process.env['SEGLOG_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const LAUNCH_TIMEOUT_MS = 30_000;
const WAIT_MS = 15_000;

let browser: Browser | undefined;

test.before(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium, or set SEGLOG_CHROMIUM)`);
  fs.mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, timeout: LAUNCH_TIMEOUT_MS });
});

test.after.always(async () => {
  await browser?.close();
});

interface Opened {
  page: Page;
  problems: string[];
  urls: string[];
  close(): Promise<void>;
}

async function open(h: Harness, hash = '#/'): Promise<Opened> {
  const context = await browser!.newContext({ viewport: { width: 1200, height: 800 } });
  const page = await context.newPage();
  const problems: string[] = [];
  const urls: string[] = [];
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    // A 401 answer is logged by Chromium as a failed resource: expected while signed out.
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`console.error: ${m.text()}`);
  });
  page.on('request', (r) => urls.push(r.url()));
  page.on('websocket', (ws) => urls.push(ws.url()));
  await page.goto(`${h.server.httpUrl}/${hash}`, { timeout: WAIT_MS });
  return { page, problems, urls, close: () => context.close() };
}

/** Everything the page loaded came from the gateway (HTTP and its WebSocket); no errors. */
function onlyTheGateway(t: ExecutionContext, h: Harness, o: Opened): void {
  const host = new URL(h.server.httpUrl).host;
  t.deepEqual(o.urls.filter((u) => !u.startsWith('data:') && new URL(u).host !== host), [], 'nothing fetched from anywhere else');
  t.deepEqual(o.problems, [], 'no errors in the page');
}

async function api(h: Harness, method: string, p: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${h.server.httpUrl}${p}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.json();
}

const cells = (page: Page, testId: string, column: number): Promise<string[]> =>
  page.locator(`[data-testid="${testId}"] tbody tr td:nth-child(${column})`).allTextContents();

test.serial('topics table lists what the API created; the live tail shows a Node producer\'s records in order; the produce form writes a record a Node consumer reads', async (t) => {
  const h = await startGateway();
  const o = await open(h);
  try {
    await api(h, 'POST', '/api/topics', { name: 'orders', partitions: 3 });
    await api(h, 'POST', '/api/topics', { name: 'payments', partitions: 1, retentionMs: 3_600_000 });
    await api(h, 'POST', '/api/topics/payments/records', [{ value: 'p1' }, { value: 'p2' }]);
    await o.page.waitForFunction(() => document.querySelectorAll('[data-testid="topics"] tbody tr a').length === 2, undefined, { timeout: WAIT_MS });
    t.deepEqual(await cells(o.page, 'topics', 1), ['orders', 'payments']);
    t.deepEqual(await cells(o.page, 'topics', 2), ['3', '1']);
    t.deepEqual(await cells(o.page, 'topics', 3), ['0', '2']);
    await o.page.locator('[data-testid="health"]').filter({ hasText: 'ok' }).waitFor({ timeout: WAIT_MS });
    await o.page.screenshot({ path: path.join(SHOTS, 'topics.png'), fullPage: true });

    // The topic page: start the tail at the end, then a Node producer writes.
    await o.page.locator('a', { hasText: 'orders' }).click();
    await o.page.locator('[data-testid="partitions"] tbody tr').nth(2).waitFor({ timeout: WAIT_MS });
    await o.page.locator('[data-testid="tail-start"]').click();
    await o.page.locator('[data-testid="tail-status"]', { hasText: 'live' }).waitFor({ timeout: WAIT_MS });
    const c = await h.connect();
    const values = Array.from({ length: 12 }, (_, i) => `order-${i}`);
    // The tail's subscription is live on the server before anything is sent ('latest' is where the end was then).
    await until(() => h.server.metrics.subscriptions.get().then((m) => (m.values[0]?.value ?? 0) >= 1), 'the tail subscribed');
    for (const v of values) await c.send('orders', { key: 'same-key', value: v, headers: { n: v.slice(6) } });
    await o.page.waitForFunction((n) => document.querySelectorAll('[data-testid="tail"] tbody tr').length === n, values.length, { timeout: WAIT_MS });
    t.deepEqual(await cells(o.page, 'tail', 5), values, 'in order');
    t.deepEqual((await cells(o.page, 'tail', 2)).map(Number), values.map((_, i) => i));
    t.is((await cells(o.page, 'tail', 4))[0], 'same-key');
    t.is((await cells(o.page, 'tail', 6))[3], 'n=3');

    // The produce form: a Node consumer reads what it wrote.
    const consumer = c.subscribe('orders', { partitions: [0], from: 'latest' });
    await until(() => h.server.metrics.subscriptions.get().then((m) => (m.values[0]?.value ?? 0) >= 2), 'the Node consumer subscribed');
    await o.page.locator('[data-testid="produce-key"]').fill('web-key');
    await o.page.locator('[data-testid="produce-value"]').fill('{"from":"the console"}');
    await o.page.locator('[data-testid="produce-headers"]').fill('source=console, v=1');
    await o.page.locator('[data-testid="produce-partition"]').fill('0');
    await o.page.locator('[data-testid="produce-send"]').click();
    await o.page.locator('[data-testid="produce-result"]', { hasText: 'offset' }).waitFor({ timeout: WAIT_MS });
    const [got] = await take(consumer[Symbol.asyncIterator](), 1);
    t.is(text(got!.value), '{"from":"the console"}');
    t.is(text(got!.key), 'web-key');
    t.deepEqual(got!.headers.map((x) => [x.key, text(x.value)]), [['source', 'console'], ['v', '1']]);
    await consumer.close();
    // The tail shows it too; JSON view.
    await o.page.waitForFunction((n) => document.querySelectorAll('[data-testid="tail"] tbody tr').length === n, values.length + 1, { timeout: WAIT_MS });
    await o.page.locator('[data-testid="partitions"] tbody tr td:nth-child(3)').filter({ hasText: /^\d+$/ }).first().waitFor();
    await o.page.screenshot({ path: path.join(SHOTS, 'topic.png'), fullPage: true });

    // Bounds: the tail keeps TAIL_ROWS_MAX rows (the oldest go), and shows TAIL_VALUE_SHOWN_BYTES_MAX bytes of a value.
    const more = Array.from({ length: TAIL_ROWS_MAX + 20 }, (_, i) => ({ value: i === TAIL_ROWS_MAX + 19 ? 'L'.repeat(TAIL_VALUE_SHOWN_BYTES_MAX + 100) : `bulk-${i}` }));
    const last = await h.engine.produce('orders', more, { partition: 0 });
    const lastOffset = String(last[last.length - 1]!.offset);
    await o.page.locator('[data-testid="tail"] tbody tr td:nth-child(2)', { hasText: new RegExp(`^${lastOffset}$`) }).waitFor({ timeout: WAIT_MS });
    t.is(await o.page.locator('[data-testid="tail"] tbody tr').count(), TAIL_ROWS_MAX);
    const shown = (await cells(o.page, 'tail', 5)).pop()!;
    t.is(shown, `${'L'.repeat(TAIL_VALUE_SHOWN_BYTES_MAX)}…`);

    // Pause, records arrive meanwhile, resume: none lost, in order (the credit window held them back).
    await o.page.locator('[data-testid="tail-pause"]').click();
    await o.page.locator('[data-testid="tail-status"]', { hasText: 'paused' }).waitFor();
    const during = await h.engine.produce('orders', [{ value: 'while-paused-1' }, { value: 'while-paused-2' }], { partition: 0 });
    await o.page.locator('[data-testid="tail-pause"]', { hasText: 'Resume' }).click();
    await o.page.locator('[data-testid="tail"] tbody tr td', { hasText: 'while-paused-2' }).waitFor({ timeout: WAIT_MS });
    t.deepEqual((await cells(o.page, 'tail', 5)).slice(-2), ['while-paused-1', 'while-paused-2']);
    t.deepEqual((await cells(o.page, 'tail', 2)).slice(-2), during.map((r) => String(r.offset)));
    onlyTheGateway(t, h, o);
  } finally {
    await o.close();
    await h.stop();
  }
});

test.serial('the group page shows members and lag per partition, and the lag moves as the group commits', async (t) => {
  const h = await startGateway();
  try {
    await h.engine.createTopic('jobs', { partitions: 2 });
    const c = await h.connect();
    for (let i = 0; i < 10; i++) await c.send('jobs', { value: `job-${i}` }, { partition: 0 });
    await c.commit('workers', 'jobs', 0, 2);
    const o = await open(h, '#/groups');
    try {
      await o.page.locator('[data-testid="groups"] a', { hasText: 'workers' }).click();
      const lag = o.page.locator('[data-testid="lag-jobs-0"]');
      await lag.filter({ hasText: /^8$/ }).waitFor({ timeout: WAIT_MS });
      // A member joins (it shows in the members table), reads five records from the committed 2 and
      // commits: the lag goes from 8 to 3.
      const member = c.subscribe('jobs', { group: 'workers', clientId: 'node-worker', autoCommit: false });
      await o.page.locator('[data-testid="members"] tbody tr td:nth-child(2)', { hasText: 'node-worker' }).waitFor({ timeout: WAIT_MS });
      const read = await take(member[Symbol.asyncIterator](), 5);
      t.deepEqual(read.map((r) => text(r.value)), ['job-2', 'job-3', 'job-4', 'job-5', 'job-6']);
      await member.commit();
      await lag.filter({ hasText: /^3$/ }).waitFor({ timeout: WAIT_MS });
      t.regex((await o.page.locator('[data-testid="group-summary"]').textContent()) ?? '', /total lag 3/);
      await o.page.screenshot({ path: path.join(SHOTS, 'group.png'), fullPage: true });
      await member.close();
      onlyTheGateway(t, h, o);
    } finally {
      await o.close();
    }
  } finally {
    await h.stop();
  }
});

test.serial('with authentication on the console asks for a token, then shows only what the principal may see', async (t) => {
  const auth = authFixture({ viewer: { rights: ['consume:visible', 'produce:visible'] } });
  const h = await startGateway({}, { authFile: auth.file, authFailureLimits: { delayMs: 1, failuresMax: 1000 } });
  try {
    await h.engine.createTopic('visible', { partitions: 1 });
    await h.engine.createTopic('hidden', { partitions: 1 });
    const o = await open(h);
    try {
      const token = o.page.locator('[data-testid="token"]');
      await token.waitFor({ timeout: WAIT_MS });
      await o.page.screenshot({ path: path.join(SHOTS, 'sign-in.png'), fullPage: true });
      await token.fill(auth.tokens['viewer']!);
      await o.page.locator('button', { hasText: 'Sign in' }).click();
      await o.page.locator('[data-testid="topics"] a', { hasText: 'visible' }).waitFor({ timeout: WAIT_MS });
      t.deepEqual(await cells(o.page, 'topics', 1), ['visible']);
      // The tail authenticates its WebSocket with the same token.
      await o.page.locator('a', { hasText: 'visible' }).click();
      await o.page.locator('[data-testid="tail-from"]').selectOption('earliest');
      await h.engine.produce('visible', [{ value: 'secret-ok' }]);
      await o.page.locator('[data-testid="tail-start"]').click();
      await o.page.locator('[data-testid="tail"] tbody tr td', { hasText: 'secret-ok' }).waitFor({ timeout: WAIT_MS });
      t.pass();
      onlyTheGateway(t, h, o);
    } finally {
      await o.close();
    }
  } finally {
    await h.stop();
    auth.remove();
  }
});
