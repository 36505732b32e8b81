// The live tail: a subscription through the browser build of the client library (the same
// WebSocket protocol as any client, with the console's token). Pause stops taking records from the
// consumer, so its credit window fills and the server stops sending: nothing piles up in the page.
import { SeglogClient, type Consumer } from '../client/client.js';
import { auth } from './api.js';
import { fill, h, table } from './dom.js';
import { showBytes, time, type ValueFormat } from './format.js';
import { TAIL_BUFFERED_BYTES_MAX, TAIL_ROWS_MAX, TITLE_CHARS_MAX } from './limits.js';

let shared: Promise<SeglogClient> | null = null;

/** One client per page (made at the first tail, with the token of that moment). */
function client(): Promise<SeglogClient> {
  shared ??= SeglogClient.connect(location.origin.replace(/^http/, 'ws'), { clientId: 'seglog-console', ...(auth.token !== null ? { token: auth.token } : {}) }).catch((e: unknown) => {
    shared = null;
    throw e;
  });
  return shared;
}

export function tailView(topic: string): { el: HTMLElement; stop(): void } {
  const from = h('select', { 'data-testid': 'tail-from' }, ...['latest', 'earliest', 'offset', 'time'].map((v) => h('option', { value: v }, v)));
  const at = h('input', { 'data-testid': 'tail-at', placeholder: 'offset or ISO time', size: '22' });
  const format = h('select', { 'data-testid': 'tail-format' }, ...['text', 'json', 'hex'].map((v) => h('option', { value: v }, v)));
  const status = h('span', { class: 'muted', 'data-testid': 'tail-status' }, 'stopped');
  const { el: rowsTable, body } = table('tail', ['partition', 'offset', 'time', 'key', 'value', 'headers']);
  let consumer: Consumer | null = null;
  let paused = false;
  let wake: (() => void) | null = null;
  let generation = 0;

  const stop = (): void => {
    generation++;
    void consumer?.close().catch(() => {});
    consumer = null;
    wake?.();
  };
  const start = async (): Promise<void> => {
    stop();
    const mine = generation;
    fill(body);
    paused = false;
    pauseButton.textContent = 'Pause';
    let spec: 'earliest' | 'latest' | { offset: number } | { timestamp: number } = from.value as 'earliest' | 'latest';
    if (from.value === 'offset') spec = { offset: Number(at.value) };
    if (from.value === 'time') spec = { timestamp: Date.parse(at.value) };
    status.textContent = 'connecting…';
    try {
      const c = await client();
      if (mine !== generation) return;
      consumer = c.subscribe(topic, { from: spec, maxBufferedBytes: TAIL_BUFFERED_BYTES_MAX }) as Consumer;
      status.textContent = 'live';
      const it = consumer;
      for (;;) {
        while (paused && mine === generation) await new Promise<void>((resolve) => (wake = resolve));
        if (mine !== generation) return;
        const r = await it.next();
        if (r.done === true || mine !== generation) return;
        const rec = r.value;
        const f = format.value as ValueFormat;
        const headers = rec.headers.map((x) => `${x.key}=${showBytes(x.value, f)}`).join(' ');
        const value = showBytes(rec.value, f);
        body.appendChild(
          h(
            'tr',
            {},
            h('td', {}, rec.partition),
            h('td', {}, rec.offset),
            h('td', {}, time(rec.timestamp)),
            h('td', { class: 'mono' }, showBytes(rec.key, f)),
            h('td', { class: 'mono value', title: value.slice(0, TITLE_CHARS_MAX) }, value),
            h('td', { class: 'mono' }, headers),
          ),
        );
        while (body.rows.length > TAIL_ROWS_MAX) body.deleteRow(0);
      }
    } catch (e) {
      if (mine === generation) status.textContent = `stopped: ${(e as Error).message}`;
    }
  };
  const pauseButton = h('button', {
    'data-testid': 'tail-pause',
    onclick: () => {
      paused = !paused;
      pauseButton.textContent = paused ? 'Resume' : 'Pause';
      status.textContent = paused ? 'paused' : 'live';
      if (!paused) wake?.();
    },
  }, 'Pause');
  const el = h(
    'section',
    {},
    h('h3', {}, 'Live tail'),
    h('div', { class: 'row' }, 'from ', from, ' ', at, ' values as ', format, ' ', h('button', { 'data-testid': 'tail-start', onclick: () => void start() }, 'Start'), ' ', pauseButton, ' ', status),
    rowsTable,
  );
  return { el, stop };
}
