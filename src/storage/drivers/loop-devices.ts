/**
 * Loop devices through `losetup`: the list (with each device's backing file),
 * attaching a file and detaching a device. The kernel is the record of what is
 * attached: a device is found again by its backing file, never remembered.
 */
import { readdir, readFile } from 'node:fs/promises';
import { run } from '../../host/exec.js';

export interface LoopDevice {
  /** /dev/loopN */
  name: string;
  /** the backing file's path as the kernel reports it (without a " (deleted)" mark) */
  backFile: string;
  /** the backing file was deleted while attached */
  deleted: boolean;
}

interface LosetupJson {
  loopdevices?: { name?: unknown; 'back-file'?: unknown }[];
}

/**
 * Every loop device attached on the host, read from sysfs (each attached device's
 * loop/backing_file, what `losetup -l` itself reads) without a process per call;
 * through `losetup -J -l` where sysfs has no block devices to show.
 */
export async function listLoopDevices(): Promise<LoopDevice[]> {
  let names: string[];
  try {
    names = (await readdir(SYS_BLOCK)).filter((n) => /^loop\d+$/.test(n));
  } catch {
    return listWithLosetup();
  }
  const out: LoopDevice[] = [];
  await Promise.all(
    names.map(async (n) => {
      const d = await attached(n);
      if (d) out.push(d);
    }),
  );
  return out.sort((a, b) => loopNumber(a.name) - loopNumber(b.name));
}

const SYS_BLOCK = '/sys/block';

/** Loop device `name` (loopN) with its backing file, from sysfs; undefined when it is not attached (or detached meanwhile). */
async function attached(name: string): Promise<LoopDevice | undefined> {
  try {
    return device(`/dev/${name}`, (await readFile(`${SYS_BLOCK}/${name}/loop/backing_file`, 'utf8')).replace(/\n$/, ''));
  } catch {
    return undefined;
  }
}

function device(name: string, raw: string): LoopDevice {
  const deleted = raw.endsWith(' (deleted)');
  return { name, backFile: deleted ? raw.slice(0, -' (deleted)'.length) : raw, deleted };
}

async function listWithLosetup(): Promise<LoopDevice[]> {
  const { stdout } = await run('losetup', ['-J', '-l']);
  if (stdout.trim() === '') return [];
  const parsed = JSON.parse(stdout) as LosetupJson;
  const out: LoopDevice[] = [];
  for (const d of parsed.loopdevices ?? []) {
    if (typeof d.name !== 'string' || typeof d['back-file'] !== 'string') continue;
    out.push(device(d.name, d['back-file']));
  }
  return out;
}

/** The loop devices backed by `file` (an absolute, resolved path), oldest name first. */
export async function loopDevicesOf(file: string): Promise<string[]> {
  return (await listLoopDevices())
    .filter((d) => d.backFile === file && !d.deleted)
    .map((d) => d.name)
    .sort((a, b) => loopNumber(a) - loopNumber(b));
}

/**
 * The loop devices that may hold writes for `file`, from what its books say: none when they
 * name no attachment (a device a crash left behind then has no instance writing through it);
 * the device they name when the kernel confirms it is backed by `file` (one sysfs read, not a
 * scan of every loop device); else (an attach that did not finish, a device the books got
 * wrong) every device found backed by it.
 */
export async function loopDevicesInUse(file: string, books: { attached: boolean; devicePath?: string }): Promise<string[]> {
  if (!books.attached && books.devicePath === undefined) return [];
  const dev = books.devicePath;
  if (dev !== undefined && /^\/dev\/loop\d+$/.test(dev)) {
    const d = await attached(dev.slice('/dev/'.length));
    if (d?.backFile === file && !d.deleted) return [dev];
  }
  // not attached (any more), or to another file: look for the file's devices
  return loopDevicesOf(file);
}

/** Attaches `file` to a free loop device and answers its path. */
export async function attachLoopDevice(file: string, opts: { directIo?: boolean } = {}): Promise<string> {
  // 512-byte logical sectors, as EC2's block devices: a filesystem of any block size mounts
  // (with direct I/O the kernel would otherwise take the pool's 4 KiB and refuse 1 KiB ext4)
  const args = ['--find', '--show', '--sector-size', '512'];
  if (opts.directIo) args.push('--direct-io=on');
  args.push(file);
  const { stdout } = await run('losetup', args);
  const dev = stdout.trim();
  if (!dev.startsWith('/dev/')) throw new Error(`losetup answered '${dev}' for ${file}`);
  return dev;
}

/** Detaches a loop device (a busy one is detached by the kernel once its last user closes it). */
export async function detachLoopDevice(dev: string): Promise<void> {
  await run('losetup', ['-d', dev]);
}

function loopNumber(dev: string): number {
  const m = /(\d+)$/.exec(dev);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}
