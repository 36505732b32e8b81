// How the console shows bytes, sizes and times. Values are untrusted data: they only ever become
// text nodes (never HTML).
import { TAIL_VALUE_SHOWN_BYTES_MAX } from './limits.js';

export type ValueFormat = 'text' | 'json' | 'hex';

const decoder = new TextDecoder();

export function showBytes(b: Uint8Array | null, format: ValueFormat): string {
  if (b === null) return '∅';
  const cut = b.length > TAIL_VALUE_SHOWN_BYTES_MAX;
  const part = cut ? b.subarray(0, TAIL_VALUE_SHOWN_BYTES_MAX) : b;
  let s: string;
  if (format === 'hex') s = Array.from(part, (x) => x.toString(16).padStart(2, '0')).join(' ');
  else if (format === 'json' && !cut) {
    try {
      s = JSON.stringify(JSON.parse(decoder.decode(b)));
    } catch {
      s = decoder.decode(part);
    }
  } else s = decoder.decode(part);
  return cut ? `${s}…` : s;
}

export function size(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function duration(ms: number): string {
  if (ms < 0) return 'forever';
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

export function time(ms: number | null): string {
  return ms === null ? '—' : new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}
