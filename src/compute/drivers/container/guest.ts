/**
 * What the container driver needs to know about the guest in a root
 * filesystem: how to start it, stop it cleanly and reboot it. Images say so in
 * their manifest, /etc/overcast/image.json (storage/images/manifest.ts, written
 * by Overcast's image builders); a root without a valid one is taken as a
 * systemd machine when /sbin/init leads to systemd, else as a SysV/busybox init.
 */
import { readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ManifestError, readManifest, type ImageManifest } from '../../../storage/images/manifest.js';

export type GuestManifest = Pick<ImageManifest, 'init' | 'stopSignal' | 'rebootSignal' | 'systemd'> & { env?: Record<string, string> };

// systemd: SIGRTMIN+3 halts; SIGINT starts ctrl-alt-del.target, a reboot (SIGTERM would only re-execute it)
const SYSTEMD: GuestManifest = { init: ['/lib/systemd/systemd'], stopSignal: 'SIGRTMIN+3', rebootSignal: 'SIGINT', systemd: true };
// busybox init: SIGUSR2 powers off, SIGTERM reboots
const BUSYBOX: GuestManifest = { init: ['/sbin/init'], stopSignal: 'SIGUSR2', rebootSignal: 'SIGTERM', systemd: false };

/** The guest manifest of the root filesystem mounted at `rootfs`. */
export async function readGuestManifest(rootfs: string): Promise<GuestManifest> {
  try {
    return await readManifest(rootfs);
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
  }
  try {
    const target = await readlink(join(rootfs, 'sbin/init'));
    if (target.includes('systemd')) return SYSTEMD;
  } catch {
    // not a link: a plain init
  }
  return BUSYBOX;
}
