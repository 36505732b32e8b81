// What a run's figures depend on besides the code: the machine, the versions of everything measured
// and the settings. Suites add the versions of what they start or load (noteVersion).
import fs from 'node:fs';
import os from 'node:os';
import { crc32cImplementation } from '../engine/crc32c.js';

export interface RunInfo {
  startedAt: string;
  elapsedS: number;
  quick: boolean;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; os: string; loadAtStart: string };
  versions: Record<string, string>;
  settings: string;
  suites: string[];
}

const versions: Record<string, string> = {};

/** Records the version of a system or library a suite measured. */
export function noteVersion(name: string, version: string): void {
  versions[name] = version.trim();
}

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1];
    if (pretty !== undefined) return `${pretty}, kernel ${os.release()}`;
  } catch {
    // not Linux: the platform below
  }
  return `${os.platform()} ${os.release()}`;
}

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export function startRunInfo(quick: boolean, settings: string, suites: string[]): { finish: () => RunInfo } {
  const started = new Date();
  const startMs = performance.now();
  const cpus = os.cpus();
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  noteVersion('node', process.version);
  noteVersion('seglog', packageVersion());
  noteVersion('CRC-32C', crc32cImplementation);
  return {
    finish: () => ({
      startedAt: started.toISOString().replace(/\.\d+Z$/, 'Z'),
      elapsedS: (performance.now() - startMs) / 1000,
      quick,
      machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? '?', memoryGiB: os.totalmem() / 1024 ** 3, os: osName(), loadAtStart: load },
      versions: { ...versions },
      settings,
      suites,
    }),
  };
}
