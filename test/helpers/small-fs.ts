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

const probed = new Map<SmallFsKind, string | null>();

/** null when a filesystem of `kind` can be mounted here, else why not (for the skip message). */
export function cannotMountReason(kind: SmallFsKind): string | null {
  const known = probed.get(kind);
  if (known !== undefined) return known;
  let reason: string | null = null;
  if (process.platform !== 'linux') reason = 'not Linux';
  else if (process.getuid?.() !== 0) reason = 'mounting needs root';
  else {
    try {
      mountSmallFs(kind, 2 * 1024 * 1024, 0).unmount();
    } catch (e) {
      reason = `mounting ${kind} failed: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim()}`;
    }
  }
  probed.set(kind, reason);
  return reason;
}

/** Mounts a filesystem of `sizeBytes`, with a slack file of `slackBytes` that freeSlack() removes. */
export function mountSmallFs(kind: SmallFsKind, sizeBytes: number, slackBytes: number): SmallFs {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), `seglog-${kind}-`));
  const mountPoint = path.join(base, 'mnt');
  fs.mkdirSync(mountPoint);
  const image = path.join(base, 'fs.img');
  if (kind === 'tmpfs') {
    run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes}`, 'tmpfs', mountPoint], base);
  } else {
    fs.writeFileSync(image, '');
    fs.truncateSync(image, sizeBytes);
    run('mkfs.ext4', ['-q', '-F', '-b', '1024', '-m', '0', image], base);
    run('mount', ['-o', 'loop', image, mountPoint], base);
  }
  const slack = path.join(mountPoint, 'slack');
  if (slackBytes > 0) fs.writeFileSync(slack, Buffer.alloc(slackBytes, 0x5a));
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

function run(cmd: string, args: string[], base: string): void {
  try {
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    fs.rmSync(base, { recursive: true, force: true });
    throw e;
  }
}

/** Free bytes on the filesystem holding `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return Number(s.bavail) * Number(s.bsize);
}
