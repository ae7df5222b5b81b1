/**
 * The host's cgroup layout, as the container runtime needs it.
 *
 * crun refuses a hybrid layout (v1 controllers plus a cgroup2 hierarchy that
 * holds a controller): "cgroups in hybrid mode not supported, drop all
 * controllers from cgroupv2". On hosts where cgroup2 holds only `hugetlb`,
 * mounting hugetlb as a v1 hierarchy empties cgroup2 and keeps every cgroup
 * contained. `prepareCgroups()` does that (idempotently) and `resetCgroups()`
 * undoes it (`overcast host reset`). Instances live under one top-level
 * parent, /overcast/<instance-id>, in every hierarchy, whatever the host prefix.
 *
 * The layout is shared by every Overcast process on the host, so a reset undoes
 * it only for the last user: a process that relies on it (a container driver
 * about to launch) registers with `holdCgroupLayout()` — a file per process in
 * /run/overcast/cgroup-layout/ naming its pid and start time — and
 * `resetCgroups()` leaves the layout while a registered process still runs or
 * any cgroup under /overcast still holds processes (a machine of any prefix,
 * whose server may be gone). Both take one lock, so a reset never decides
 * between another process's registering and its set-up.
 */
import { existsSync, readFileSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.js';
import { acquireLock } from './lock.js';
import { processStartTime } from './processes.js';

export const CGROUP_ROOT = '/sys/fs/cgroup';
/** The parent of every instance's cgroup, in each hierarchy. */
export const CGROUP_PARENT = 'overcast';

interface MountEntry {
  target: string;
  fstype: string;
  options: string[];
}

function mounts(): MountEntry[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [, target = '', fstype = '', options = ''] = l.split(' ');
      return { target: target.replace(/\\040/g, ' '), fstype, options: options.split(',') };
    });
}

/** The controllers cgroup2 holds at `path` (empty when it holds none or is absent). */
function cgroup2Controllers(path: string): string[] {
  try {
    return readFileSync(join(path, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

export type CgroupLayout =
  /** cgroup2 only (crun works as is) */
  | { kind: 'unified' }
  /** v1 controllers, and cgroup2 (if mounted) holds none: crun works */
  | { kind: 'legacy' }
  /** v1 controllers and a cgroup2 hierarchy holding `controllers` at `unifiedPath` */
  | { kind: 'hybrid'; unifiedPath: string; controllers: string[] }
  | { kind: 'none' };

export function cgroupLayout(): CgroupLayout {
  const all = mounts();
  const v2 = all.filter((m) => m.fstype === 'cgroup2');
  const v1 = all.filter((m) => m.fstype === 'cgroup');
  if (v1.length === 0) return v2.length > 0 ? { kind: 'unified' } : { kind: 'none' };
  for (const m of v2) {
    const controllers = cgroup2Controllers(m.target);
    if (controllers.length > 0) return { kind: 'hybrid', unifiedPath: m.target, controllers };
  }
  return { kind: 'legacy' };
}

/** v1 controllers mounted, by name (cpu, memory, …), and where. */
export function v1Hierarchies(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of mounts()) {
    if (m.fstype !== 'cgroup') continue;
    for (const o of m.options) {
      if (['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb', 'net_cls', 'net_prio', 'perf_event'].includes(o) || o.startsWith('name=')) {
        out.set(o, m.target);
      }
    }
  }
  return out;
}

/** Why the container runtime cannot run here, or undefined when it can (after prepareCgroups where that helps). */
export function cgroupProblem(): string | undefined {
  const layout = cgroupLayout();
  if (layout.kind === 'none') return 'no cgroup hierarchy is mounted under /sys/fs/cgroup';
  if (layout.kind === 'hybrid') {
    const movable = layout.controllers.every((c) => c === 'hugetlb');
    return movable
      ? undefined
      : `cgroups are hybrid and cgroup2 at ${layout.unifiedPath} holds ${layout.controllers.join(', ')}: crun cannot run (only hugetlb can be moved to v1 automatically)`;
  }
  if (layout.kind === 'legacy') {
    const h = v1Hierarchies();
    const missing = ['cpu', 'cpuset', 'memory', 'pids', 'devices', 'freezer'].filter((c) => !h.has(c));
    if (missing.length > 0) return `cgroup v1 controllers missing: ${missing.join(', ')}`;
  }
  return undefined;
}

/**
 * Makes the layout one crun accepts: on a hybrid host whose cgroup2 holds only
 * hugetlb, mounts hugetlb as a v1 hierarchy at /sys/fs/cgroup/hugetlb. Returns
 * what it did ('none' when nothing was needed). Idempotent.
 */
export async function prepareCgroups(): Promise<'mounted-hugetlb' | 'none'> {
  const layout = cgroupLayout();
  if (layout.kind !== 'hybrid') return 'none';
  if (!layout.controllers.every((c) => c === 'hugetlb')) throw new Error(cgroupProblem());
  const target = join(CGROUP_ROOT, 'hugetlb');
  if (!existsSync(target)) {
    // /sys/fs/cgroup is usually a tmpfs on hybrid hosts; a read-only one is remounted for the mkdir
    try {
      await mkdir(target, { recursive: true });
    } catch {
      await run('mount', ['-o', 'remount,rw', CGROUP_ROOT]);
      await mkdir(target, { recursive: true });
    }
  }
  try {
    await run('mount', ['-t', 'cgroup', '-o', 'hugetlb', 'cgroup', target]);
  } catch (e) {
    // another process (a second server, a parallel test) mounted it meanwhile: that is as good
    if (cgroupLayout().kind === 'hybrid') throw e;
    return 'none';
  }
  return 'mounted-hugetlb';
}

/** The hierarchies that may hold an /overcast parent. */
function cgroupRoots(): string[] {
  const roots = new Set(v1Hierarchies().values());
  if (cgroupLayout().kind === 'unified') roots.add(CGROUP_ROOT);
  return [...roots];
}

/** Every cgroup directory at and below `dir`, children before their parent. */
function cgroupTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...cgroupTree(p));
  }
  out.push(dir);
  return out;
}

/** The cgroups below /overcast, in any hierarchy, that hold a process, as paths relative to the cgroup root (`overcast/i-…`). */
function populatedCgroups(): string[] {
  const out = new Set<string>();
  for (const root of cgroupRoots()) {
    for (const dir of cgroupTree(join(root, CGROUP_PARENT))) {
      let procs = '';
      try {
        procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8');
      } catch {
        continue; // removed meanwhile
      }
      if (procs.trim() !== '') out.add(dir.slice(root.length + 1));
    }
  }
  return [...out].sort();
}

/** Removes /overcast (and the cgroups below it) from every hierarchy; busy ones are left and named. */
function removeCgroupParent(): string[] {
  const left: string[] = [];
  for (const root of cgroupRoots()) {
    for (const dir of cgroupTree(join(root, CGROUP_PARENT))) {
      try {
        rmdirSync(dir);
      } catch {
        left.push(dir);
      }
    }
  }
  return left;
}

/** Where processes that rely on the layout register, one file each. */
export const LAYOUT_USERS_DIR = '/run/overcast/cgroup-layout';

/** A process registered as relying on the layout. */
export interface LayoutUser {
  pid: number;
  /** its start time (processStartTime): a pid reused by another process is not the user */
  startTime: string;
  /** what it is, for messages (a container driver and its machines directory) */
  what: string;
}

/** What a reset of the layout looks at. */
export interface LayoutObservation {
  /** the registered processes, each with whether it still runs */
  users: { user: LayoutUser; alive: boolean }[];
  /** cgroups under /overcast that hold processes: machines running, of any host prefix */
  populated: string[];
  /** cgroups of the v1 hugetlb hierarchy Overcast mounted that are not its own: someone else's */
  foreign: string[];
}

export type LayoutResetDecision =
  | { restore: true; stale: LayoutUser[] }
  | { restore: false; usedBy: string[]; stale: LayoutUser[] };

/**
 * Whether a reset may undo the layout: only when no registered process still runs, no cgroup under
 * /overcast holds a process and nobody else has cgroups in the hierarchy it would unmount. The
 * registrations of processes that are gone are stale either way (to be removed).
 */
export function decideLayoutReset(o: LayoutObservation): LayoutResetDecision {
  const stale = o.users.filter((u) => !u.alive).map((u) => u.user);
  const usedBy = [
    ...o.users.filter((u) => u.alive).map((u) => `process ${u.user.pid} (${u.user.what})`),
    ...o.populated.map((c) => `cgroup ${c} (a running machine)`),
    ...o.foreign.map((c) => `cgroup ${c} (not Overcast's)`),
  ];
  return usedBy.length === 0 ? { restore: true, stale } : { restore: false, usedBy, stale };
}

export interface LayoutOptions {
  /** where users register (LAYOUT_USERS_DIR; tests give their own) */
  usersDir?: string;
}

const lockPath = (usersDir: string) => `${usersDir}.lock`;

async function withLayoutLock<T>(usersDir: string, fn: () => Promise<T>): Promise<T> {
  await mkdir(usersDir, { recursive: true });
  const lock = await acquireLock(lockPath(usersDir), { pollMs: 20 });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** The registered users of the layout in `usersDir`, unreadable files skipped. */
export function layoutUsers(usersDir = LAYOUT_USERS_DIR): LayoutUser[] {
  if (!existsSync(usersDir)) return [];
  const out: LayoutUser[] = [];
  for (const name of readdirSync(usersDir)) {
    try {
      const u = JSON.parse(readFileSync(join(usersDir, name), 'utf8')) as Partial<LayoutUser>;
      if (typeof u.pid === 'number' && typeof u.startTime === 'string') out.push({ pid: u.pid, startTime: u.startTime, what: String(u.what ?? '') });
    } catch {
      // torn or foreign: not a registration
    }
  }
  return out;
}

/** What a reset would look at now (observed, not changed). */
export function observeLayout(opts: LayoutOptions = {}): LayoutObservation {
  const users = layoutUsers(opts.usersDir).map((user) => ({ user, alive: processStartTime(user.pid) === user.startTime }));
  const hugetlb = join(CGROUP_ROOT, 'hugetlb');
  const ours = mounts().some((m) => m.fstype === 'cgroup' && m.target === hugetlb && m.options.includes('hugetlb'));
  const foreign = ours ? readdirSync(hugetlb).filter((e) => e !== CGROUP_PARENT && statSync(join(hugetlb, e)).isDirectory()).map((e) => `hugetlb/${e}`) : [];
  return { users, populated: populatedCgroups(), foreign };
}

/** Registrations of this process, by users directory: how many holders (container drivers) each has. */
const holds = new Map<string, number>();

/**
 * Registers this process as a user of the layout (once however many of its drivers hold it) and applies
 * the layout crun needs (prepareCgroups), under the layout lock. Each hold is ended by releaseCgroupLayout.
 */
export async function holdCgroupLayout(what: string, opts: LayoutOptions = {}): Promise<'mounted-hugetlb' | 'none'> {
  const dir = opts.usersDir ?? LAYOUT_USERS_DIR;
  return withLayoutLock(dir, async () => {
    const n = holds.get(dir) ?? 0;
    if (n === 0) {
      const user: LayoutUser = { pid: process.pid, startTime: processStartTime(process.pid) ?? '', what };
      await writeFile(join(dir, String(process.pid)), `${JSON.stringify(user)}\n`);
    }
    holds.set(dir, n + 1);
    try {
      return await prepareCgroups();
    } catch (e) {
      await releaseHold(dir);
      throw e;
    }
  });
}

async function releaseHold(dir: string): Promise<void> {
  const n = holds.get(dir) ?? 0;
  if (n === 0) return;
  if (n > 1) {
    holds.set(dir, n - 1);
    return;
  }
  holds.delete(dir);
  await rm(join(dir, String(process.pid)), { force: true });
}

/** Ends one holdCgroupLayout; the last one of this process removes its registration. */
export async function releaseCgroupLayout(opts: LayoutOptions = {}): Promise<void> {
  const dir = opts.usersDir ?? LAYOUT_USERS_DIR;
  await withLayoutLock(dir, () => releaseHold(dir));
}

export interface CgroupReset {
  /** whether the layout was undone (false: others still use it, see usedBy) */
  restored: boolean;
  usedBy: string[];
  /** what could not be removed */
  left: string[];
}

/**
 * Undoes prepareCgroups when nothing uses the layout any more (decideLayoutReset): removes Overcast's
 * cgroups and unmounts the v1 hugetlb hierarchy it mounted, so hugetlb returns to cgroup2 (the kernel
 * may need a second mount and unmount before /proc/cgroups shows it there again). While something
 * uses it, nothing of it is touched — not even the empty cgroups under /overcast, which may be a
 * launch under way. Registrations of processes that are gone are removed.
 */
export async function resetCgroups(opts: LayoutOptions = {}): Promise<CgroupReset> {
  const dir = opts.usersDir ?? LAYOUT_USERS_DIR;
  return withLayoutLock(dir, async () => {
    const decision = decideLayoutReset(observeLayout(opts));
    for (const u of decision.stale) await rm(join(dir, String(u.pid)), { force: true });
    if (!decision.restore) return { restored: false, usedBy: decision.usedBy, left: [] };
    const left = removeCgroupParent();
    const target = join(CGROUP_ROOT, 'hugetlb');
    const mounted = () => mounts().some((m) => m.fstype === 'cgroup' && m.target === target);
    if (mounted()) {
      const children = readdirSync(target).filter((e) => statSync(join(target, e)).isDirectory());
      if (children.length === 0) {
        await run('umount', [target]);
        if (cgroup2Controllers(join(CGROUP_ROOT, 'unified')).length === 0 && existsSync(join(CGROUP_ROOT, 'unified'))) {
          // hugetlb may stay bound to the (now unmounted) v1 hierarchy until it is mounted and dropped once more
          await run('mount', ['-t', 'cgroup', '-o', 'hugetlb', 'cgroup', target]).catch(() => undefined);
          await run('umount', [target]).catch(() => undefined);
        }
        try {
          rmdirSync(target);
        } catch {
          // a tmpfs directory we could not remove: harmless
        }
      } else left.push(...children.map((c) => join(target, c)));
    }
    return { restored: true, usedBy: [], left };
  });
}

/**
 * An instance's CPU time and page cache, read from its cgroup, and the reclaim
 * of that cache: what the container driver's idle trim (compute/drivers/
 * container/idle-trim.ts) uses. v1: cpuacct.usage, memory.stat total_cache,
 * memory.force_empty; cgroup2: cpu.stat usage_usec, memory.stat file,
 * memory.reclaim. Each answers undefined (or does nothing) where the file is absent.
 */
export interface InstanceCgroupFiles {
  /** CPU time the instance used so far, ns */
  cpuNs(id: string): Promise<number | undefined>;
  /** page cache (file pages) charged to the instance, bytes */
  pageCacheBytes(id: string): Promise<number | undefined>;
  /** asks the kernel to reclaim what it can of the instance's memory (clean page cache first) */
  reclaim(id: string, bytes: number): Promise<void>;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

function statField(text: string | undefined, field: string): number | undefined {
  const m = text === undefined ? null : new RegExp(`^${field} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The instance cgroup files of this host's layout (v1 hierarchies, or cgroup2 at /sys/fs/cgroup). */
export function instanceCgroupFiles(): InstanceCgroupFiles {
  const layout = cgroupLayout();
  if (layout.kind === 'unified') {
    const dir = (id: string) => join(CGROUP_ROOT, CGROUP_PARENT, id);
    return {
      async cpuNs(id) {
        const us = statField(await readText(join(dir(id), 'cpu.stat')), 'usage_usec');
        return us === undefined ? undefined : us * 1000;
      },
      async pageCacheBytes(id) {
        return statField(await readText(join(dir(id), 'memory.stat')), 'file');
      },
      async reclaim(id, bytes) {
        await writeFile(join(dir(id), 'memory.reclaim'), String(bytes)).catch(() => undefined); // EAGAIN: less was reclaimable
      },
    };
  }
  const h = v1Hierarchies();
  const cpuacct = h.get('cpuacct');
  const memory = h.get('memory');
  return {
    async cpuNs(id) {
      if (!cpuacct) return undefined;
      const t = await readText(join(cpuacct, CGROUP_PARENT, id, 'cpuacct.usage'));
      return t === undefined ? undefined : Number(t.trim());
    },
    async pageCacheBytes(id) {
      return memory ? statField(await readText(join(memory, CGROUP_PARENT, id, 'memory.stat')), 'total_cache') : undefined;
    },
    async reclaim(id) {
      if (memory) await writeFile(join(memory, CGROUP_PARENT, id, 'memory.force_empty'), '0').catch(() => undefined);
    },
  };
}
