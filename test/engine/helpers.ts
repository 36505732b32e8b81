// Shared test helpers: run a test against an engine on disk and in memory.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Engine } from '../../engine/index.js';
import type { EngineOptions } from '../../engine/types.js';

export type Mode = 'disk' | 'memory';

export function tempDir(prefix = 'seglog-engine-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface EngineFixture {
  mode: Mode;
  /** Opens an engine (same dir each time on disk, so a second call after close is a restart). */
  open(options?: Partial<EngineOptions>): Promise<Engine>;
  dir: string | undefined;
}

/** Registers `fn` twice: on a temp data dir and with { memory: true }. Engines are closed after. */
export function bothModes(title: string, fn: (t: ExecutionContext, fx: EngineFixture) => Promise<void>): void {
  for (const mode of ['disk', 'memory'] as const) {
    test(`[${mode}] ${title}`, async (t) => {
      const dir = mode === 'disk' ? tempDir() : undefined;
      const engines: Engine[] = [];
      t.teardown(async () => {
        for (const e of engines) await e.close().catch(() => undefined);
        if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
      });
      const fx: EngineFixture = {
        mode,
        dir,
        async open(options = {}) {
          const engine = await Engine.open(mode === 'disk' ? { dir, ...options } : { memory: true, ...options });
          engines.push(engine);
          return engine;
        },
      };
      await fn(t, fx);
    });
  }
}

/** A test on a temp data dir only (restarts need the files to stay). */
export function onDisk(title: string, fn: (t: ExecutionContext, dir: string, open: (o?: Partial<EngineOptions>) => Promise<Engine>) => Promise<void>): void {
  test(`[disk] ${title}`, async (t) => {
    const dir = tempDir();
    const engines: Engine[] = [];
    t.teardown(async () => {
      for (const e of engines) await e.close().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    });
    await fn(t, dir, async (o = {}) => {
      const e = await Engine.open({ dir, ...o });
      engines.push(e);
      return e;
    });
  });
}

/** A manual clock for retention and segmentMs tests. */
export function manualClock(startMs = 1_700_000_000_000): { now: () => number; advance(ms: number): void; set(ms: number): void } {
  let t = startMs;
  return { now: () => t, advance: (ms) => void (t += ms), set: (ms) => void (t = ms) };
}

export const text = (b: Buffer | null): string | null => (b === null ? null : b.toString('utf8'));

/** Resolves after `n` turns of the event loop (bounded waits for "nothing happened" checks). */
export async function ticks(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

/** Segment files under `dir` still waiting for their delayed deletion (*.deleted); none in memory mode. */
export function filesAwaitingDeletion(dir: string | undefined): string[] {
  if (dir === undefined) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.deleted'));
}
