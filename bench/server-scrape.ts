// The seglog server's own noise figures for a latency run, read from its /metrics by the bench's
// parent process (never by the producer or consumer child, whose timing it would disturb: loading
// `fetch` in the producer at the start of the window raised the window's p99; bench/README.md
// "Latency").

/** What one scrape gives. */
export interface ServerScrape {
  /** Event-loop stalls since the previous scrape (a scrape resets them), ms. */
  loop: { p50Ms: number; p99Ms: number; maxMs: number } | null;
  /** GC pauses so far (seglog_gc_pause_seconds, all kinds): total ms and count. */
  gcTotalMs: number;
  gcCount: number;
}

/** A scrape that takes longer than this gives null (the figures are then n/a). */
const SCRAPE_TIMEOUT_MS = 2000;

/** The server's seglog_event_loop_delay_seconds and seglog_gc_pause_seconds from its /metrics; null when unreachable. */
export async function scrapeServer(wsUrl: string): Promise<ServerScrape | null> {
  try {
    const res = await fetch(`http${wsUrl.slice(2).replace(/\/$/, '')}/metrics`, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
    return parseScrape(await res.text());
  } catch {
    return null;
  }
}

/** The figures in a /metrics text (exported for its test). */
export function parseScrape(text: string): ServerScrape {
  const q = (quantile: string): number => {
    const m = new RegExp(`^seglog_event_loop_delay_seconds\\{quantile="${quantile.replace('.', '\\.')}"\\} (\\S+)$`, 'm').exec(text);
    return m === null ? NaN : Number(m[1]) * 1000;
  };
  // The histogram holds whole sampling intervals (Node's monitorEventLoopDelay): subtract the
  // interval the help text names, so the figures are the stall beyond it.
  const intervalMs = Number(/^# HELP seglog_event_loop_delay_seconds .*sampled every (\d+(?:\.\d+)?) ms/m.exec(text)?.[1] ?? 0);
  const stall = (x: number): number => Math.max(0, x - intervalMs);
  const loop = { p50Ms: stall(q('0.5')), p99Ms: stall(q('0.99')), maxMs: stall(q('1')) };
  const sum = (re: RegExp): number => [...text.matchAll(re)].reduce((acc, m) => acc + Number(m[1]), 0);
  return {
    loop: Number.isFinite(loop.maxMs) ? loop : null,
    gcTotalMs: sum(/^seglog_gc_pause_seconds_sum\{[^}]*\} (\S+)$/gm) * 1000,
    gcCount: sum(/^seglog_gc_pause_seconds_count\{[^}]*\} (\S+)$/gm),
  };
}
