/**
 * Block devices added to and removed from a running container (EBS attach and
 * detach), and their I/O limits, on cgroup v1:
 *
 *  - access: `b MAJ:MIN rwm` (or `r`) written to devices.allow of the
 *    instance's devices cgroup and of every cgroup below it (a v1 child does
 *    not inherit a parent's later allows; a systemd guest runs its services in
 *    child cgroups), devices.deny on the instance's cgroup on detach (a deny
 *    reaches the children by itself);
 *  - the node: made by the host's `mknod` in the guest's /dev, reached through
 *    /proc/<pid1>/root. No guest binary is run (nsenter + the guest's mknod
 *    would run a program the guest controls as host root outside its cgroups),
 *    and no path the guest controls is followed: every directory on the way is
 *    opened here with O_NOFOLLOW and the tool is given /proc/<this pid>/fd/<n>/name,
 *    so a guest that swaps its /dev for a symlink to the host's /etc gets an
 *    error, not a device node in the host's /etc;
 *  - limits: blkio.throttle.{read,write}_{iops,bps}_device of the instance's
 *    blkio cgroup ("MAJ:MIN value"; 0 removes the rule). Throttling is
 *    hierarchical, so the guest's own child cgroups are capped too. As with any
 *    v1 blkio throttle, direct I/O and reads are capped; buffered writes are
 *    written back by the kernel outside the cgroup.
 */
import { constants, type Stats } from 'node:fs';
import { lstat, lchown, mkdir, open, readdir, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { CGROUP_PARENT, v1Hierarchies } from '../../../host/cgroups.js';
import { run } from '../../../host/exec.js';
import type { DiskLimits } from '../../hypervisor.js';

export interface DeviceNumbers {
  major: number;
  minor: number;
}

/** MAJ:MIN of a block device's stat (glibc's dev_t encoding). */
export function deviceNumbers(st: Stats): DeviceNumbers {
  return { major: Math.floor(st.rdev / 256) & 0xfff, minor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) };
}

/** Whether `name` is a device name the driver accepts: /dev/<name>[/<name>…], no . or .. or empty parts. */
export function validDeviceName(name: string): boolean {
  if (!name.startsWith('/dev/')) return false;
  const parts = name.slice('/dev/'.length).split('/');
  return parts.every((p) => p !== '' && p !== '.' && p !== '..' && /^[A-Za-z0-9._:+-]+$/.test(p));
}

function hierarchy(controller: 'devices' | 'blkio'): string {
  const root = v1Hierarchies().get(controller);
  if (!root) throw new Error(`the cgroup v1 ${controller} controller is not mounted: block devices cannot be changed on a running container`);
  return root;
}

/** The instance's cgroup in a v1 hierarchy. */
export function instanceCgroup(controller: 'devices' | 'blkio', id: string): string {
  return join(hierarchy(controller), CGROUP_PARENT, id);
}

/** The cgroup at `dir` and every one below it, parents first. */
async function cgroupTree(dir: string): Promise<string[]> {
  const out = [dir];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) out.push(...(await cgroupTree(join(dir, e.name))));
  }
  return out;
}

/** Lets the instance (and every cgroup below it) open the device. */
export async function allowDevice(id: string, dev: DeviceNumbers, readOnly: boolean): Promise<void> {
  const rule = `b ${dev.major}:${dev.minor} ${readOnly ? 'r' : 'rwm'}`;
  for (const cg of await cgroupTree(instanceCgroup('devices', id))) {
    await writeFile(join(cg, 'devices.allow'), rule).catch((e: NodeJS.ErrnoException) => {
      // a child cgroup that went away meanwhile is no matter; the instance's own must take it
      if (cg === instanceCgroup('devices', id) || e.code !== 'ENOENT') throw e;
    });
  }
}

/** Takes the device away from the instance (and, by v1's propagation, from every cgroup below it). */
export async function denyDevice(id: string, dev: DeviceNumbers): Promise<void> {
  await writeFile(join(instanceCgroup('devices', id), 'devices.deny'), `b ${dev.major}:${dev.minor} rwm`);
}

/** Whether the instance's devices cgroup lets it open the device for reading (devices.list). */
export async function deviceAllowed(id: string, dev: DeviceNumbers): Promise<boolean> {
  const list = await readFile(join(instanceCgroup('devices', id), 'devices.list'), 'utf8');
  return list.split('\n').some((l) => {
    const [type, nums, access] = l.split(' ');
    if ((type !== 'b' && type !== 'a') || !access?.includes('r')) return false;
    if (type === 'a') return true;
    const [ma, mi] = (nums ?? '').split(':');
    return (ma === '*' || Number(ma) === dev.major) && (mi === '*' || Number(mi) === dev.minor);
  });
}

export const THROTTLE_FILES = ['read_iops_device', 'write_iops_device', 'read_bps_device', 'write_bps_device'] as const;

/** Sets (or with undefined limits, clears) the device's throttle on the instance's blkio cgroup. */
export async function setThrottle(id: string, dev: DeviceNumbers, limits: DiskLimits | undefined): Promise<void> {
  const cg = instanceCgroup('blkio', id);
  const value = (f: (typeof THROTTLE_FILES)[number]): number => {
    const v = f === 'write_iops_device' ? (limits?.writeIops ?? limits?.iops) : f.includes('iops') ? limits?.iops : limits?.bytesPerSecond;
    return v !== undefined && v > 0 ? Math.floor(v) : 0;
  };
  for (const f of THROTTLE_FILES) {
    // writing 0 for a device without a rule is accepted and does nothing
    await writeFile(join(cg, `blkio.throttle.${f}`), `${dev.major}:${dev.minor} ${value(f)}`);
  }
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * Opens the directory of `deviceName` inside the guest whose PID 1 is `pid`
 * (creating missing directories when `create`), never following a symlink.
 * Answers the open directory and the node's base name; undefined when a
 * directory is missing and not to be created.
 */
async function openGuestDir(pid: number, deviceName: string, create: boolean): Promise<{ dir: FileHandle; base: string } | undefined> {
  const parts = deviceName.split('/').filter(Boolean); // ['dev', …, base]
  const base = parts.pop()!;
  let dir = await open(`/proc/${pid}/root`, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for (const part of parts) {
      const at = `/proc/self/fd/${dir.fd}/${part}`;
      let next: FileHandle;
      try {
        next = await open(at, DIR_FLAGS);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !create) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
            await dir.close();
            return undefined;
          }
          throw e;
        }
        await mkdir(at, { mode: 0o755 }).catch((m: NodeJS.ErrnoException) => {
          if (m.code !== 'EEXIST') throw m;
        });
        next = await open(at, DIR_FLAGS);
      }
      await dir.close();
      dir = next;
    }
    return { dir, base };
  } catch (e) {
    await dir.close().catch(() => undefined);
    if ((e as NodeJS.ErrnoException).code === 'ELOOP' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new Error(`${deviceName}: a directory on the way is not one in the guest (a symlink or a file)`);
    }
    throw e;
  }
}

/** What is at `path` without following it, or undefined. */
async function lstatOrNothing(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Makes the block device node `deviceName` (root:disk, 0660) in the guest of PID 1 `pid`; an equal node there is kept. */
export async function makeGuestNode(pid: number, deviceName: string, dev: DeviceNumbers): Promise<void> {
  const opened = await openGuestDir(pid, deviceName, true);
  const { dir, base } = opened!;
  try {
    // the tool runs in another process: the directory is named by this process's descriptor, which it resolves to the same directory
    const node = `/proc/${process.pid}/fd/${dir.fd}/${base}`;
    const st = await lstatOrNothing(node);
    if (st?.isBlockDevice()) {
      const have = deviceNumbers(st);
      if (have.major === dev.major && have.minor === dev.minor) return;
    }
    if (st) await rm(node, { force: true }); // something else under the name: unlink (never follows it)
    await run('mknod', ['-m', '0660', node, 'b', String(dev.major), String(dev.minor)]);
    await lchown(node, 0, 6);
  } finally {
    await dir.close();
  }
}

/** Removes the node `deviceName` from the guest of PID 1 `pid` if it is still the device; anything else there is left. */
export async function removeGuestNode(pid: number, deviceName: string, dev: DeviceNumbers): Promise<void> {
  const opened = await openGuestDir(pid, deviceName, false);
  if (!opened) return;
  const { dir, base } = opened;
  try {
    const node = `/proc/self/fd/${dir.fd}/${base}`;
    const st = await lstatOrNothing(node);
    if (!st?.isBlockDevice()) return;
    const have = deviceNumbers(st);
    if (have.major === dev.major && have.minor === dev.minor) await rm(node, { force: true });
  } finally {
    await dir.close();
  }
}
