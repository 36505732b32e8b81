// The two charts of a run, as SVG text: throughput by payload per system (one panel per scenario,
// log scale, each system's best row; seglog's reference row), and produce→deliver latency
// percentiles per system. Written by hand: a chart library would need a DOM or a headless browser
// to render, for a few dozen rectangles and lines.
import { formatPayload, formatRate } from './format.js';
import type { BenchResult, Scenario } from './harness.js';
import { SCENARIO_TITLES, bestRowsBySystem } from './report.js';
import type { RunInfo } from './run-info.js';

const WIDTH_PX = 820;
const LABEL_PX = 170;
const VALUE_PX = 70;
const BAR_PX = 11;
const BAR_GAP_PX = 3;
const SYSTEM_GAP_PX = 8;
const PANEL_HEAD_PX = 44;
const TOP_PX = 46;
const FONT = 'font-family="system-ui, sans-serif"';
/** Colours by payload size (100 B, 1 KiB), and for the latency lines. */
const PAYLOAD_COLOURS = ['#3b6fb6', '#e08a2c'];
const LINE_COLOURS = ['#3b6fb6', '#e08a2c', '#4a9c5d', '#b8473e', '#7d5ba6', '#8c6d3f', '#c45ca2', '#6b6b6b'];
const THROUGHPUT_SCENARIOS: Scenario[] = ['append', 'read', 'produce', 'replay'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A text element; font-size 12 unless `attrs` give one. */
function text(x: number, y: number, s: string, attrs = ''): string {
  const size = attrs.includes('font-size=') ? '' : ' font-size="12"';
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT}${size} ${attrs}>${esc(s)}</text>`;
}

function svg(width: number, height: number, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n<rect width="100%" height="100%" fill="#fff"/>\n${body.join('\n')}\n</svg>\n`;
}

function subtitle(info: RunInfo): string {
  return `${info.startedAt} · ${info.machine.cpus} × ${info.machine.cpuModel} · node ${info.versions.node ?? '?'}${info.quick ? ' · --quick: figures mean nothing' : ''}`;
}

export function throughputChart(results: readonly BenchResult[], info: RunInfo): string {
  const panels = THROUGHPUT_SCENARIOS.map((s) => ({ scenario: s, systems: bestRowsBySystem(results, s) })).filter((p) => p.systems.size > 0);
  const sizes = [...new Set(results.filter((r) => r.scenario !== undefined && r.scenario !== 'latency').map((r) => r.recordBytes))].sort((a, b) => a - b);
  const rates = panels.flatMap((p) => [...p.systems.values()].flatMap((m) => [...m.values()].map((r) => r.recordsPerSec)));
  const lo = Math.floor(Math.log10(Math.max(1, Math.min(...rates, 1e4))));
  const hi = Math.ceil(Math.log10(Math.max(...rates, 1e5)));
  const plotW = WIDTH_PX - LABEL_PX - VALUE_PX - 20;
  const xOf = (v: number): number => LABEL_PX + ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotW;
  const body: string[] = [
    text(10, 20, 'seglog and peers: records per second (log scale), by payload', 'font-size="15" font-weight="bold"'),
    text(10, 36, subtitle(info), 'fill="#555"'),
  ];
  sizes.forEach((b, i) => {
    body.push(`<rect x="${WIDTH_PX - 200 + i * 90}" y="10" width="12" height="12" fill="${PAYLOAD_COLOURS[i % PAYLOAD_COLOURS.length]}"/>`);
    body.push(text(WIDTH_PX - 183 + i * 90, 20, formatPayload(b)));
  });
  let y = TOP_PX;
  for (const panel of panels) {
    const groupH = sizes.length * (BAR_PX + BAR_GAP_PX) + SYSTEM_GAP_PX;
    const panelH = PANEL_HEAD_PX + panel.systems.size * groupH;
    body.push(text(10, y + 20, SCENARIO_TITLES[panel.scenario], 'font-weight="bold"'));
    for (let e = lo; e <= hi; e++) {
      const x = xOf(10 ** e);
      body.push(`<line x1="${x.toFixed(1)}" y1="${y + 38}" x2="${x.toFixed(1)}" y2="${y + panelH - 4}" stroke="#ddd"/>`);
      body.push(text(x, y + 35, formatRate(10 ** e), 'text-anchor="middle" fill="#777" font-size="10"'));
    }
    let gy = y + PANEL_HEAD_PX;
    for (const [system, bySize] of panel.systems) {
      body.push(text(10, gy + groupH / 2, system, system === 'seglog' ? 'font-weight="bold"' : ''));
      sizes.forEach((b, i) => {
        const r = bySize.get(b);
        const by = gy + i * (BAR_PX + BAR_GAP_PX);
        if (r === undefined) return;
        const w = Math.max(1, xOf(r.recordsPerSec) - LABEL_PX);
        body.push(`<rect x="${LABEL_PX}" y="${by}" width="${w.toFixed(1)}" height="${BAR_PX}" fill="${PAYLOAD_COLOURS[i % PAYLOAD_COLOURS.length]}"><title>${esc(`${system} · ${r.operation} · ${formatPayload(b)}: ${formatRate(r.recordsPerSec)} records/s`)}</title></rect>`);
        body.push(text(LABEL_PX + w + 4, by + BAR_PX - 1, formatRate(r.recordsPerSec), 'font-size="10"'));
      });
      gy += groupH;
    }
    y += panelH + 6;
  }
  if (panels.length === 0) body.push(text(10, y + 20, 'no throughput rows in this run'));
  return svg(WIDTH_PX, y + 10, body);
}

const PERCENTILES: Array<[string, 'p50Ms' | 'p99Ms' | 'p999Ms']> = [
  ['p50', 'p50Ms'],
  ['p99', 'p99Ms'],
  ['p99.9', 'p999Ms'],
];

export function latencyChart(results: readonly BenchResult[], info: RunInfo): string {
  const rows = results.filter((r) => r.scenario === 'latency' && r.latency !== undefined && r.error === undefined);
  // One line per system and payload (the first run of each, as the table's first row).
  const lines = new Map<string, BenchResult>();
  for (const r of rows) {
    const key = `${r.system ?? r.suite}, ${formatPayload(r.recordBytes)}`;
    if (!lines.has(key)) lines.set(key, r);
  }
  const values = [...lines.values()].flatMap((r) => PERCENTILES.map(([, k]) => r.latency![k])).filter((v) => v > 0 && Number.isFinite(v));
  const lo = Math.floor(Math.log10(Math.min(...values, 0.1)));
  const hi = Math.ceil(Math.log10(Math.max(...values, 10)));
  const height = 420;
  const left = 70;
  const top = TOP_PX + 10;
  const plotW = 420;
  const plotH = height - top - 40;
  const xOf = (i: number): number => left + 30 + (i * (plotW - 60)) / (PERCENTILES.length - 1);
  const yOf = (v: number): number => top + plotH - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * plotH;
  const body: string[] = [
    text(10, 20, 'Produce→deliver latency at 20k records/s, ms (log scale)', 'font-size="15" font-weight="bold"'),
    text(10, 36, subtitle(info), 'fill="#555"'),
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#bbb"/>`,
  ];
  for (let e = lo; e <= hi; e++) {
    const y = yOf(10 ** e);
    body.push(`<line x1="${left}" y1="${y.toFixed(1)}" x2="${left + plotW}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
    body.push(text(left - 8, y + 4, String(10 ** e), 'text-anchor="end" fill="#777" font-size="10"'));
  }
  PERCENTILES.forEach(([label], i) => body.push(text(xOf(i), top + plotH + 18, label, 'text-anchor="middle"')));
  // One colour per system; 1 KiB dashed.
  const systems = [...new Set([...lines.values()].map((r) => r.system ?? r.suite))];
  body.push(text(left + plotW + 20, top - 4, 'p50 / p99 / p99.9 ms', 'fill="#555"'));
  [...lines.entries()].forEach(([key, r], n) => {
    const colour = LINE_COLOURS[systems.indexOf(r.system ?? r.suite) % LINE_COLOURS.length]!;
    const dash = r.recordBytes >= 1024 ? ' stroke-dasharray="5 3"' : '';
    const points = PERCENTILES.map(([, k], i) => `${xOf(i).toFixed(1)},${yOf(r.latency![k]).toFixed(1)}`);
    body.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
    PERCENTILES.forEach(([, k], i) => body.push(`<circle cx="${xOf(i).toFixed(1)}" cy="${yOf(r.latency![k]).toFixed(1)}" r="3" fill="${colour}"><title>${esc(`${key}: ${r.latency![k].toFixed(2)} ms`)}</title></circle>`));
    const ly = top + 10 + n * 18;
    body.push(`<line x1="${left + plotW + 20}" y1="${ly}" x2="${left + plotW + 44}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash}/>`);
    const p = r.latency!;
    body.push(text(left + plotW + 50, ly + 4, `${key}: ${p.p50Ms.toFixed(2)} / ${p.p99Ms.toFixed(2)} / ${p.p999Ms.toFixed(1)}`, key.startsWith('seglog') ? 'font-weight="bold"' : ''));
  });
  if (lines.size === 0) body.push(text(left + 10, top + 20, 'no latency rows in this run'));
  return svg(WIDTH_PX, height, body);
}
