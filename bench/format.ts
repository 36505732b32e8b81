// How figures are written in the bench's tables, charts and the README.

export function formatRate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)}k`;
  return n.toFixed(0);
}

export function formatPayload(recordBytes: number): string {
  if (recordBytes === 0) return '';
  return recordBytes >= 1024 ? `${recordBytes / 1024} KiB` : `${recordBytes} B`;
}

/** The median and, where the case ran several rounds, the slowest and fastest: `5.20M (4.91–5.63M)`. */
export function formatRateSpread(median: number, min?: number, max?: number): string {
  if (min === undefined || max === undefined || min === max) return formatRate(median);
  return `${formatRate(median)} (${formatRate(min)}–${formatRate(max)})`;
}
