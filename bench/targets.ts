// The design targets (bench/README.md "Design targets") as figures and ratios from one run.
import type { BenchResult } from './harness.js';
import { formatRate } from './format.js';

function rate(results: readonly BenchResult[], suite: string, prefix: string, recordBytes: number): number | undefined {
  return results.find((r) => r.suite === suite && r.operation.startsWith(prefix) && r.recordBytes === recordBytes && r.error === undefined && r.recordsPerSec > 0)?.recordsPerSec;
}

function p99Of(results: readonly BenchResult[], system: string, recordBytes: number): number | undefined {
  return results.find((r) => r.system === system && r.scenario === 'latency' && r.recordBytes === recordBytes && r.latency !== undefined)?.latency?.p99Ms;
}

export function targetLines(results: readonly BenchResult[]): string[] {
  const lines: string[] = [];
  const append100 = rate(results, 'engine', 'PartitionLog.append, CRC-checked', 100);
  const raw100 = rate(results, 'baseline', 'raw fs.writeSync', 100);
  const read100 = rate(results, 'engine', 'PartitionLog.read', 100);
  const append1k = rate(results, 'engine', 'PartitionLog.append, CRC-checked', 1024);
  const mmap1k = rate(results, 'baseline', 'memcpy into an mmapped', 1024);
  const sqlite100 = results.find((r) => r.system === 'better-sqlite3' && r.scenario === 'append' && r.recordBytes === 100 && r.error === undefined)?.recordsPerSec;
  const decode100 = rate(results, 'record batch', 'decode, forEachRecord (none)', 100);
  const engineRead100 = rate(results, 'engine api', 'Engine.read with decoding', 100);
  const replay100 = rate(results, 'engine api', 'Subscription replay', 100);
  const produce100 = rate(results, 'engine api', 'Engine.produce, 1000', 100);
  if (append100 !== undefined) lines.push(`append 100 B: ${formatRate(append100)} records/s (target ≥ 8M)`);
  if (append100 !== undefined && raw100 !== undefined) lines.push(`append 100 B vs raw fs.writeSync: ${(append100 / raw100).toFixed(2)}× (target ≥ 1.5×)`);
  if (append100 !== undefined && sqlite100 !== undefined) lines.push(`append 100 B vs better-sqlite3: ${(append100 / sqlite100).toFixed(1)}× (target ≥ 12×)`);
  if (append1k !== undefined && mmap1k !== undefined) lines.push(`append 1 KiB vs memcpy into touched mmap: ${((100 * append1k) / mmap1k).toFixed(0)}% (target ≥ 50%)`);
  if (read100 !== undefined) lines.push(`sequential read with decoding, 100 B: ${formatRate(read100)} records/s (target ≥ 10M)`);
  if (engineRead100 !== undefined) lines.push(`Engine.read with decoding, 100 B: ${formatRate(engineRead100)} records/s (target ≥ 10M)`);
  if (replay100 !== undefined) lines.push(`Subscription replay, 100 B: ${formatRate(replay100)} records/s`);
  if (produce100 !== undefined && append100 !== undefined) lines.push(`Engine.produce 100 B vs PartitionLog.append: ${((100 * produce100) / append100).toFixed(0)}%`);
  if (decode100 !== undefined) lines.push(`decode alone (forEachRecord), 100 B: ${formatRate(decode100)} records/s`);
  const gwProduces = results.filter((r) => r.suite === 'gateway' && r.recordBytes === 100 && r.error === undefined && /^produce, (send|sendBatch)/.test(r.operation));
  const gwProduce = gwProduces.length > 0 ? Math.max(...gwProduces.map((r) => r.recordsPerSec)) : undefined;
  const gwReplay = rate(results, 'gateway', 'replay, subscribe batches', 100);
  const gwRawReplay = rate(results, 'gateway', 'replay, raw protocol (no decoding)', 100);
  const gwRawDecodeReplay = rate(results, 'gateway', 'replay, raw protocol, CRC check', 100);
  if (gwProduce !== undefined) lines.push(`gateway produce over loopback (client library, best API), 100 B: ${formatRate(gwProduce)} records/s (target ≥ 2M)`);
  if (gwReplay !== undefined) lines.push(`gateway replay over loopback (consumer.batches()), 100 B: ${formatRate(gwReplay)} records/s (target ≥ 3M)`);
  if (gwReplay !== undefined && gwRawReplay !== undefined) lines.push(`gateway replay, client library vs raw protocol, 100 B: ${((100 * gwReplay) / gwRawReplay).toFixed(0)}% (target ≥ 70%)`);
  if (gwReplay !== undefined && gwRawDecodeReplay !== undefined) {
    lines.push(`gateway replay, client library vs raw protocol decoding in place, 100 B: ${((100 * gwReplay) / gwRawDecodeReplay).toFixed(0)}% (no target; what the library costs beyond reading the records)`);
  }
  const seglogP99 = p99Of(results, 'seglog', 100);
  const natsP99 = p99Of(results, 'core NATS', 100);
  if (seglogP99 !== undefined) lines.push(`gateway produce→deliver at 20k/s, 100 B: p99 ${seglogP99.toFixed(2)} ms (target < 1 ms)`);
  if (seglogP99 !== undefined && natsP99 !== undefined) lines.push(`gateway produce→deliver p99 vs core NATS p99, 100 B: ${(seglogP99 / natsP99).toFixed(2)}× (target ≤ 1×)`);
  return lines;
}
