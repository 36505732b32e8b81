// The web console (GET / on the gateway): topics, a topic's partitions, a live tail, a produce
// form, consumer groups and their lag, the server's health and throughput. Plain DOM and the HTTP
// API; no framework (a handful of tables and forms do not need one, and the bundle stays small).
// Built by esbuild into dist/browser/seglog-console.js; everything it loads comes from this server.
import { ApiError, auth, call, enc, type GroupDescription, type GroupListing, type PartitionInfo, type TopicSummary } from './api.js';
import { fill, h, table } from './dom.js';
import { duration, size, time } from './format.js';
import { CHART_SAMPLES_MAX, POLL_INTERVAL_MS, THROUGHPUT_WINDOW_MS } from './limits.js';
import { tailView } from './tail.js';

const main = document.getElementById('main')!;
const healthEl = document.getElementById('health')!;
const chart = document.getElementById('chart') as HTMLCanvasElement;
const messageEl = document.getElementById('message')!;

/** Sum of end offsets per topic at each poll: the throughput column and chart come from these. */
const samples: Array<{ at: number; ends: Map<string, number> }> = [];
let topics: TopicSummary[] = [];
/** Refreshes the open page's figures (each view sets its own). */
let refreshView: () => Promise<void> = async () => {};
let leaveView: () => void = () => {};
/** The token form is showing: polls leave the page alone (they would redraw the form being typed in). */
let signingIn = false;

function say(text: string, error = false): void {
  messageEl.textContent = text;
  messageEl.className = error ? 'error' : 'muted';
}

function failed(e: unknown): void {
  if (e instanceof ApiError && e.status === 401) return; // the token form is showing
  say(e instanceof ApiError ? `${e.code}: ${e.message}` : String(e), true);
}

/** Records appended to `topic` over the last THROUGHPUT_WINDOW_MS (null until a sample that old exists). */
function perMinute(topic: string): number | null {
  const now = samples[samples.length - 1];
  const then = samples.find((s) => now !== undefined && now.at - s.at <= THROUGHPUT_WINDOW_MS);
  if (now === undefined || then === undefined || then === now) return null;
  const a = then.ends.get(topic);
  const b = now.ends.get(topic);
  return a === undefined || b === undefined ? null : Math.round(((b - a) * THROUGHPUT_WINDOW_MS) / (now.at - then.at));
}

function drawChart(): void {
  const ctx = chart.getContext('2d');
  if (ctx === null) return;
  const rates: number[] = [];
  for (let i = 1; i < samples.length; i++) {
    let d = 0;
    for (const [t, end] of samples[i]!.ends) d += Math.max(0, end - (samples[i - 1]!.ends.get(t) ?? end));
    rates.push((d * 1000) / (samples[i]!.at - samples[i - 1]!.at));
  }
  ctx.clearRect(0, 0, chart.width, chart.height);
  const max = Math.max(1, ...rates);
  ctx.strokeStyle = '#2f6fdd';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  rates.forEach((r, i) => {
    const x = (i / Math.max(1, CHART_SAMPLES_MAX - 2)) * chart.width;
    const y = chart.height - 2 - (r / max) * (chart.height - 4);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.stroke();
  chart.title = `records/s, last ${rates.length} polls; now ${Math.round(rates[rates.length - 1] ?? 0)}`;
  document.getElementById('rate')!.textContent = `${Math.round(rates[rates.length - 1] ?? 0)} rec/s`;
}

async function poll(): Promise<void> {
  try {
    const health = (await fetch('/healthz', { cache: 'no-store' }).then((r) => r.json())) as { status: string; uptimeSeconds?: number; connections?: number; topics?: number };
    healthEl.textContent = `${health.status} · up ${duration((health.uptimeSeconds ?? 0) * 1000)} · ${health.connections ?? 0} connections · ${health.topics ?? 0} topics`;
    healthEl.className = health.status === 'ok' ? 'ok' : 'error';
  } catch {
    healthEl.textContent = 'server unreachable';
    healthEl.className = 'error';
  }
  if (signingIn) return;
  try {
    topics = (await call<{ topics: TopicSummary[] }>('GET', '/api/topics')).topics;
    samples.push({ at: Date.now(), ends: new Map(topics.map((t) => [t.name, t.endOffsets])) });
    if (samples.length > CHART_SAMPLES_MAX) samples.shift();
    drawChart();
    await refreshView();
  } catch (e) {
    failed(e);
  }
}

// --- views ----------------------------------------------------------------------------------

function topicsView(): void {
  const { el, body } = table('topics', ['topic', 'partitions', 'records', 'bytes', 'retention', 'compression', 'records / min', 'newest']);
  const name = h('input', { placeholder: 'name', 'data-testid': 'create-name', required: true });
  const partitions = h('input', { type: 'number', min: '1', value: '1', 'data-testid': 'create-partitions', size: '4' });
  const form = h(
    'form',
    {
      class: 'row',
      onsubmit: (e: Event) => {
        e.preventDefault();
        call('POST', '/api/topics', { name: name.value, partitions: Number(partitions.value) })
          .then(() => {
            say(`created ${name.value}`);
            name.value = '';
            return poll();
          })
          .catch(failed);
      },
    },
    'New topic ',
    name,
    ' partitions ',
    partitions,
    ' ',
    h('button', { type: 'submit' }, 'Create'),
  );
  fill(main, h('h2', {}, 'Topics'), el, form);
  refreshView = async () => {
    fill(
      body,
      ...topics.map((t) => {
        const rate = perMinute(t.name);
        return h(
          'tr',
          {},
          h('td', {}, h('a', { href: `#/topic/${enc(t.name)}` }, t.name)),
          h('td', {}, t.partitions),
          h('td', {}, t.records),
          h('td', {}, size(t.bytes)),
          h('td', {}, t.config.retentionBytes >= 0 ? `${duration(t.config.retentionMs)} / ${size(t.config.retentionBytes)}` : duration(t.config.retentionMs)),
          h('td', {}, t.config.compression),
          h('td', {}, rate === null ? '…' : rate),
          h('td', {}, time(t.newestTimestamp)),
        );
      }),
    );
    if (topics.length === 0) body.appendChild(h('tr', {}, h('td', { colspan: '8', class: 'muted' }, 'no topics yet (or none this token may see)')));
  };
}

function topicView(name: string): void {
  const { el, body } = table('partitions', ['partition', 'start offset', 'end offset', 'records', 'size', 'segments', 'newest']);
  const summary = h('p', { class: 'muted' });
  const total = h('input', { type: 'number', min: '1', size: '4', 'data-testid': 'add-partitions-total' });
  const key = h('input', { placeholder: 'key (optional)', 'data-testid': 'produce-key' });
  const value = h('textarea', { placeholder: 'value', rows: '2', cols: '40', 'data-testid': 'produce-value' });
  const headers = h('input', { placeholder: 'headers: a=1, b=2', 'data-testid': 'produce-headers' });
  const partition = h('input', { type: 'number', min: '0', size: '4', placeholder: 'auto', 'data-testid': 'produce-partition' });
  const result = h('span', { class: 'muted', 'data-testid': 'produce-result' });
  const produce = h(
    'form',
    {
      class: 'produce',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const hs: Record<string, string> = {};
        for (const pair of headers.value.split(',')) {
          const i = pair.indexOf('=');
          if (i > 0) hs[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
        }
        const record = { value: value.value, ...(key.value !== '' ? { key: key.value } : {}), headers: hs, ...(partition.value !== '' ? { partition: Number(partition.value) } : {}) };
        call<{ offsets: Array<{ partition: number; offset: number }> }>('POST', `/api/topics/${enc(name)}/records`, record)
          .then((r) => {
            result.textContent = `written to partition ${r.offsets[0]!.partition} at offset ${r.offsets[0]!.offset}`;
            return poll();
          })
          .catch(failed);
      },
    },
    h('h3', {}, 'Produce'),
    h('div', { class: 'row' }, key, ' ', headers, ' partition ', partition),
    h('div', { class: 'row' }, value),
    h('div', { class: 'row' }, h('button', { type: 'submit', 'data-testid': 'produce-send' }, 'Send'), ' ', result),
  );
  const tail = tailView(name);
  const actions = h(
    'div',
    { class: 'row' },
    'Grow to ',
    total,
    ' partitions ',
    h('button', {
      onclick: () => {
        call('POST', `/api/topics/${enc(name)}/partitions`, { partitions: Number(total.value) })
          .then(() => poll())
          .catch(failed);
      },
    }, 'Add partitions'),
    ' ',
    h('button', {
      class: 'danger',
      onclick: () => {
        if (!confirm(`Delete topic ${name} and all its records?`)) return;
        call('DELETE', `/api/topics/${enc(name)}`)
          .then(() => {
            say(`deleted ${name}`);
            location.hash = '#/';
          })
          .catch(failed);
      },
    }, 'Delete topic'),
  );
  fill(main, h('h2', {}, h('a', { href: '#/' }, 'Topics'), ' / ', name), summary, el, actions, produce, tail.el);
  leaveView = () => tail.stop();
  refreshView = async () => {
    const d = await call<TopicSummary & { partitions: PartitionInfo[] }>('GET', `/api/topics/${enc(name)}`);
    summary.textContent = `${d.records} records · ${size(d.bytes)} · retention ${duration(d.config.retentionMs)}${d.config.retentionBytes >= 0 ? ` or ${size(d.config.retentionBytes)}` : ''} · compression ${d.config.compression}`;
    if (total.value === '') total.value = String(d.partitions.length + 1);
    fill(
      body,
      ...d.partitions.map((p) =>
        h('tr', {}, h('td', {}, p.partition), h('td', {}, p.startOffset), h('td', {}, p.endOffset), h('td', {}, p.endOffset - p.startOffset), h('td', {}, size(p.sizeBytes)), h('td', {}, p.segments), h('td', {}, time(p.newestTimestamp))),
      ),
    );
  };
}

function groupsView(): void {
  const { el, body } = table('groups', ['group', 'state', 'members']);
  fill(main, h('h2', {}, 'Consumer groups'), el);
  refreshView = async () => {
    const { groups } = await call<{ groups: GroupListing[] }>('GET', '/api/groups');
    fill(body, ...groups.map((g) => h('tr', {}, h('td', {}, h('a', { href: `#/group/${enc(g.group)}` }, g.group)), h('td', {}, g.state), h('td', {}, g.members))));
    if (groups.length === 0) body.appendChild(h('tr', {}, h('td', { colspan: '3', class: 'muted' }, 'no groups yet')));
  };
}

function groupView(name: string): void {
  const summary = h('p', { 'data-testid': 'group-summary' });
  const members = table('members', ['member', 'client', 'topics', 'assigned']);
  const lag = table('lag', ['topic', 'partition', 'committed', 'end offset', 'lag', 'owner']);
  fill(main, h('h2', {}, h('a', { href: '#/groups' }, 'Groups'), ' / ', name), summary, h('h3', {}, 'Members'), members.el, h('h3', {}, 'Lag per partition'), lag.el);
  refreshView = async () => {
    const d = await call<GroupDescription>('GET', `/api/groups/${enc(name)}`);
    summary.textContent = `${d.state} · epoch ${d.groupEpoch} · ${d.members.length} members · total lag ${d.totalLag}`;
    fill(members.body, ...d.members.map((m) => h('tr', {}, h('td', { class: 'mono' }, m.memberId), h('td', {}, m.clientId), h('td', {}, m.topics.join(', ')), h('td', {}, m.assignment.map((a) => `${a.topic}[${a.partitions.join(',')}]`).join(' ')))));
    fill(lag.body, ...d.offsets.map((o) => h('tr', {}, h('td', {}, o.topic), h('td', {}, o.partition), h('td', {}, o.committed ?? '—'), h('td', {}, o.endOffset), h('td', { 'data-testid': `lag-${o.topic}-${o.partition}` }, o.lag ?? '—'), h('td', { class: 'mono' }, o.memberId ?? '—'))));
  };
}

function tokenView(): void {
  signingIn = true;
  const input = h('input', { type: 'password', size: '50', placeholder: 'token (seglog auth add prints one)', 'data-testid': 'token' });
  fill(
    main,
    h('h2', {}, 'Sign in'),
    h('p', {}, 'This server requires a token. It is kept in this tab only.'),
    h(
      'form',
      {
        class: 'row',
        onsubmit: (e: Event) => {
          e.preventDefault();
          auth.token = input.value.trim();
          route();
        },
      },
      input,
      ' ',
      h('button', { type: 'submit' }, 'Sign in'),
    ),
  );
  refreshView = async () => {};
}

function route(): void {
  signingIn = false;
  leaveView();
  leaveView = () => {};
  say('');
  const [, kind, arg] = /^#\/(groups|topic|group)?\/?(.*)$/.exec(location.hash) ?? [];
  const name = arg !== undefined && arg !== '' ? decodeURIComponent(arg) : '';
  if (kind === 'topic' && name !== '') topicView(name);
  else if (kind === 'group' && name !== '') groupView(name);
  else if (kind === 'groups') groupsView();
  else topicsView();
  void poll();
}

auth.onUnauthorized = () => {
  if (signingIn) return;
  if (auth.token !== null) say('the token was refused', true);
  auth.token = null;
  leaveView();
  tokenView();
};
document.getElementById('signout')!.addEventListener('click', () => {
  auth.token = null;
  location.reload();
});
window.addEventListener('hashchange', route);
route();
setInterval(() => void poll(), POLL_INTERVAL_MS);
