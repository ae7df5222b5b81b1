/**
 * The host's cgroup layout, as the container runtime needs it.
 *
 * crun refuses a hybrid layout (v1 controllers plus a cgroup2 hierarchy that
 * holds a controller): "cgroups in hybrid mode not supported, drop all
 * controllers from cgroupv2". On hosts where cgroup2 holds only `hugetlb`,
 * mounting hugetlb as a v1 hierarchy empties cgroup2 and keeps every cgroup
 * contained. `prepareCgroups()` does that (idempotently) and `resetCgroups()`
 * undoes it (`overcast host reset`). Instances live under one top-level
 * parent, /overcast/<instance-id>, in every hierarchy.
 */
import { existsSync, readFileSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.js';

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

/** Removes /overcast (and the empty cgroups below it) from every v1 hierarchy; busy ones are left and named. */
function removeCgroupParent(): string[] {
  const left: string[] = [];
  const roots = new Set(v1Hierarchies().values());
  const layout = cgroupLayout();
  if (layout.kind === 'unified') roots.add(CGROUP_ROOT);
  for (const root of roots) {
    const parent = join(root, CGROUP_PARENT);
    if (!existsSync(parent)) continue;
    const remove = (dir: string): void => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        if (statSync(p).isDirectory()) remove(p);
      }
      try {
        rmdirSync(dir);
      } catch {
        left.push(dir);
      }
    };
    remove(parent);
  }
  return left;
}

/**
 * Undoes prepareCgroups: removes Overcast's cgroups and unmounts the v1 hugetlb
 * hierarchy it mounted, so hugetlb returns to cgroup2 (the kernel may need a
 * second mount and unmount before /proc/cgroups shows it there again).
 */
export async function resetCgroups(): Promise<string[]> {
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
  return left;
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
