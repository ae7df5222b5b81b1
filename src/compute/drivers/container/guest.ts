/**
 * What the container driver needs to know about the guest in a root
 * filesystem: how to start it, stop it cleanly and reboot it. Images say so in
 * /etc/overcast/image.json (written by Overcast's image builders); a root
 * without one is taken as a systemd machine when /sbin/init leads to systemd,
 * else as a SysV/busybox init.
 */
import { readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface GuestManifest {
  /** PID 1 and its arguments */
  init: string[];
  /** the signal PID 1 takes as "power off cleanly" */
  stopSignal: string;
  /** the signal PID 1 takes as "reboot" */
  rebootSignal: string;
  /** systemd as PID 1 (gets a writable cgroup tree and tmpfs on /run, /run/lock, /tmp) */
  systemd: boolean;
  /** extra environment of PID 1 */
  env?: Record<string, string>;
}

export const MANIFEST_PATH = 'etc/overcast/image.json';

const SYSTEMD: GuestManifest = { init: ['/lib/systemd/systemd'], stopSignal: 'SIGRTMIN+3', rebootSignal: 'SIGINT', systemd: true };
const BUSYBOX: GuestManifest = { init: ['/sbin/init'], stopSignal: 'SIGUSR2', rebootSignal: 'SIGTERM', systemd: false };

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string');
}

/** The guest manifest of the root filesystem mounted at `rootfs`. */
export async function readGuestManifest(rootfs: string): Promise<GuestManifest> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(rootfs, MANIFEST_PATH), 'utf8'));
  } catch {
    raw = undefined;
  }
  if (raw && typeof raw === 'object') {
    const m = raw as Record<string, unknown>;
    const systemd = m.systemd === true;
    const base = systemd ? SYSTEMD : BUSYBOX;
    const env =
      m.env && typeof m.env === 'object'
        ? Object.fromEntries(Object.entries(m.env as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string'))
        : undefined;
    return {
      init: isStringArray(m.init) ? m.init : base.init,
      stopSignal: typeof m.stopSignal === 'string' ? m.stopSignal : base.stopSignal,
      rebootSignal: typeof m.rebootSignal === 'string' ? m.rebootSignal : base.rebootSignal,
      systemd,
      ...(env ? { env } : {}),
    };
  }
  try {
    const target = await readlink(join(rootfs, 'sbin/init'));
    if (target.includes('systemd')) return SYSTEMD;
  } catch {
    // not a link: a plain init
  }
  return BUSYBOX;
}
