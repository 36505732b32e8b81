// Small real filesystems for full-disk tests: a tmpfs of a few MiB, and ext4 with 1 KiB blocks in a
// loop-mounted image (what mkfs picks for small filesystems). Mounting needs root (CI runs as root);
// `canMount()` probes once so the tests can skip with a message where it is not possible.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type SmallFsKind = 'tmpfs' | 'ext4-1k';

export interface SmallFs {
  kind: SmallFsKind;
  mountPoint: string;
  /** Frees space: removes the slack file written at mount (see fill). */
  freeSlack(): void;
  unmount(): void;
}

let probed: string | null | undefined;

/** null when mounting works here, else why not (for the skip message). */
export function cannotMountReason(): string | null {
  if (probed !== undefined) return probed;
  if (process.platform !== 'linux') return (probed = 'not Linux');
  if (process.getuid?.() !== 0) return (probed = 'mounting needs root');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seglog-probe-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status === 0) spawnSync('umount', [dir]);
  fs.rmSync(dir, { recursive: true, force: true });
  const mkfs = spawnSync('mkfs.ext4', ['-V'], { encoding: 'utf8' });
  if (r.status !== 0) return (probed = `mount -t tmpfs failed: ${r.stderr.trim()}`);
  if (mkfs.error !== undefined) return (probed = 'mkfs.ext4 is missing (e2fsprogs)');
  return (probed = null);
}

/** Mounts a filesystem of `sizeBytes`, with a slack file of `slackBytes` that freeSlack() removes. */
export function mountSmallFs(kind: SmallFsKind, sizeBytes: number, slackBytes: number): SmallFs {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `seglog-${kind}-`));
  const mountPoint = path.join(base, 'mnt');
  fs.mkdirSync(mountPoint);
  const image = path.join(base, 'fs.img');
  if (kind === 'tmpfs') {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', mountPoint]);
  } else {
    fs.writeFileSync(image, '');
    fs.truncateSync(image, sizeBytes);
    execFileSync('mkfs.ext4', ['-q', '-F', '-b', '1024', '-m', '0', image]);
    execFileSync('mount', ['-o', 'loop', image, mountPoint]);
  }
  const slack = path.join(mountPoint, 'slack');
  fs.writeFileSync(slack, Buffer.alloc(slackBytes, 0x5a));
  let mounted = true;
  return {
    kind,
    mountPoint,
    freeSlack() {
      fs.rmSync(slack, { force: true });
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      spawnSync('umount', ['-l', mountPoint]);
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Free bytes on the filesystem holding `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}
