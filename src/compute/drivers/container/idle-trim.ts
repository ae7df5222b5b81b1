/**
 * Idle trim: the page cache a machine's boot leaves behind — the files systemd,
 * cloud-init and Python read, ~65 MiB for debian-12 against ~6 MiB its processes
 * hold — is charged to the instance's cgroup and stays there while it idles, so
 * every idle machine kept host memory it no longer used. A VM hands such pages
 * back through free-page reporting; a container gives them back here.
 *
 * Every interval the driver looks at each running machine's CPU time: a machine
 * that used less than `idleCpuShare` of one CPU since the last look is idle, and
 * when its page cache is above `minBytes` the kernel is asked to reclaim it
 * (memory.force_empty on cgroup v1, memory.reclaim on cgroup2). The guest sees
 * only a colder cache: its processes' memory stays, dirty pages are written back
 * before they are dropped, and nothing is reclaimed from a busy machine. Once per
 * idle spell, and again when the cache has grown by `minBytes` since.
 */
import type { InstanceCgroupFiles } from '../../../host/cgroups.js';

export interface IdleTrimOptions {
  /** how often machines are looked at, ms (default 2000) */
  intervalMs?: number;
  /** the share of one CPU below which a machine is idle (default 0.02) */
  idleCpuShare?: number;
  /** page cache worth reclaiming, bytes (default 4 MiB) */
  minBytes?: number;
}

interface Seen {
  cpuNs: number;
  at: number;
  /** the page cache right after this idle spell's trim (undefined: not trimmed in this spell) */
  trimmedTo?: number;
}

export class IdleTrim {
  readonly intervalMs: number;
  private readonly idleCpuShare: number;
  private readonly minBytes: number;
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly files: InstanceCgroupFiles,
    opts: IdleTrimOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 2000;
    this.idleCpuShare = opts.idleCpuShare ?? 0.02;
    this.minBytes = opts.minBytes ?? 4 * 1024 * 1024;
  }

  /** One look at the machines running now (`now` in ms); answers the ids whose cache was reclaimed. */
  async tick(ids: readonly string[], now = performance.now()): Promise<string[]> {
    const running = new Set(ids);
    for (const id of this.seen.keys()) if (!running.has(id)) this.seen.delete(id);
    const trimmed: string[] = [];
    for (const id of ids) {
      const cpuNs = await this.files.cpuNs(id);
      if (cpuNs === undefined) continue;
      const prev = this.seen.get(id);
      // a machine restarted since (a new cgroup) starts its count again
      if (!prev || cpuNs < prev.cpuNs || now <= prev.at) {
        this.seen.set(id, { cpuNs, at: now });
        continue;
      }
      const share = (cpuNs - prev.cpuNs) / ((now - prev.at) * 1e6);
      if (share >= this.idleCpuShare) {
        this.seen.set(id, { cpuNs, at: now }); // busy: the next idle spell trims again
        continue;
      }
      const next: Seen = { cpuNs, at: now, trimmedTo: prev.trimmedTo };
      const cache = await this.files.pageCacheBytes(id);
      if (cache !== undefined && cache > this.minBytes && (prev.trimmedTo === undefined || cache - prev.trimmedTo > this.minBytes)) {
        await this.files.reclaim(id, cache);
        next.trimmedTo = (await this.files.pageCacheBytes(id)) ?? 0;
        trimmed.push(id);
      }
      this.seen.set(id, next);
    }
    return trimmed;
  }
}
