/**
 * The container driver: every instance is a system container run by crun
 * (an OCI runtime) from a generated spec — its root volume's filesystem as the
 * root, PID 1 the image's init, joined to the network namespace the Fabric
 * plugged its interfaces into, vCPUs and memory enforced by cgroups under
 * /overcast/<instance-id>.
 *
 * Machines are not children of the server: each runs under its own monitor
 * (monitor.ts) and survives a restart, and everything the driver needs to
 * find them again is on disk under `dir/<instance-id>/`: the spec it was last
 * started with, the block devices attached to or detached from it since
 * (disks.json: a reboot, from inside or by reboot(), runs with those), the OCI
 * bundle, the console log, crun's pid file and the monitor's exit file.
 * Volumes are plugged into a running guest as hotplug.ts describes, and each
 * disk's I/O limits are blkio throttle rules on the instance's cgroup.
 *
 * A machine that ends by itself is noticed by a light poll of the exit files:
 * a reboot from inside is carried out (the machine comes back on the same
 * devices and addresses), a power-off or crash is reported as an event.
 * Hibernation freezes the container's cgroup (`crun pause`) with its memory
 * kept on the host: CRIU would save it to disk, but `criu check` fails on
 * this kernel, so a hibernated instance does not survive a host reboot.
 */
import { availableParallelism } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { lstat, mkdir, open, readFile, readdir, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { CommandError, hasCommand, isRoot, run, spawnDetached } from '../../../host/exec.js';
import { CGROUP_PARENT, cgroupProblem, holdCgroupLayout, instanceCgroupFiles, releaseCgroupLayout } from '../../../host/cgroups.js';
import { Emitter, type ProbeResult } from '../../driver.js';
import {
  checkSpec,
  HypervisorError,
  type DiskLimits,
  type DiskSpec,
  notFound,
  type Hypervisor,
  type InstanceSpec,
  type MachineEvent,
  type RuntimeState,
  type StopOptions,
} from '../../hypervisor.js';
import { readGuestManifest } from './guest.js';
import { exitKind, installMonitor, readExit } from './monitor.js';
import { ociSpec, type DeviceNode, type OciSpec } from './oci-spec.js';
import { allowDevice, denyDevice, deviceNumbers, makeGuestNode, removeGuestNode, setThrottle, validDeviceName, type DeviceNumbers } from './hotplug.js';
import { processAlive } from '../../../host/processes.js';
import { IdleTrim, type IdleTrimOptions } from './idle-trim.js';
import { isMountedSync } from '../../../host/mounts.js';

export interface ContainerOptions {
  /** where machines keep their bundles and logs (e.g. <data-dir>/machines) */
  dir: string;
  /** the OCI runtime (default crun) */
  runtime?: string;
  /** how long a clean stop may take before the machine is killed (default 10 s) */
  stopTimeoutMs?: number;
  /** how often the exit files of running machines are looked at (default 250 ms) */
  pollMs?: number;
  /** reclaiming the page cache of idle machines (idle-trim.ts); false: never (default: on) */
  idleTrim?: IdleTrimOptions | false;
}

/** EC2 returns the last 64 KiB of the console. */
export const CONSOLE_TAIL_BYTES = 64 * 1024;

interface Paths {
  dir: string;
  spec: string;
  /** the block devices the machine has now, when attached or detached since its start (absent: those of spec.json) */
  disks: string;
  config: string;
  rootfs: string;
  console: string;
  pid: string;
  exit: string;
}



/** The hard limit on open files this process has (a container cannot get more without CAP_SYS_RESOURCE). */
function hostOpenFilesLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const hard = Number(line?.trim().split(/\s+/)[4]);
    return Number.isInteger(hard) && hard > 0 ? hard : 1024;
  } catch {
    return 1024;
  }
}

/** A disk as disks.json keeps it: with the device numbers it was plugged in with (the host path may be gone or reused by then). */
type DiskEntry = DiskSpec & { dev?: DeviceNumbers };

/** Whether two disks have the same I/O limits. */
const sameLimits = (a: DiskSpec, b: DiskSpec): boolean =>
  (a.limits?.iops ?? 0) === (b.limits?.iops ?? 0) && (a.limits?.writeIops ?? 0) === (b.limits?.writeIops ?? 0) && (a.limits?.bytesPerSecond ?? 0) === (b.limits?.bytesPerSecond ?? 0);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ContainerHypervisor implements Hypervisor {
  readonly name = 'container';
  private readonly emitter = new Emitter<MachineEvent>();
  readonly events = this.emitter.subscribe;
  private readonly runtime: string;
  private readonly stopTimeoutMs: number;
  private readonly pollMs: number;
  /** machines believed running, watched for an exit nobody asked for */
  private readonly watching = new Set<string>();
  /** one operation at a time per machine */
  private readonly chains = new Map<string, Promise<unknown>>();
  private poller: NodeJS.Timeout | undefined;
  private trimmer: NodeJS.Timeout | undefined;
  private trimming = false;
  private idleTrim: IdleTrim | undefined;
  private monitor: Promise<string> | undefined;
  private hostReady: Promise<void> | undefined;
  private holdsLayout = false;
  private closed = false;

  constructor(private readonly opts: ContainerOptions) {
    this.runtime = opts.runtime ?? 'crun';
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
    this.pollMs = opts.pollMs ?? 250;
  }

  async probe(): Promise<ProbeResult> {
    if (process.platform !== 'linux') return { ok: false, reason: 'containers need Linux' };
    if (!isRoot()) return { ok: false, reason: 'needs root (network namespaces, mounts and cgroups)' };
    if (!(await hasCommand(this.runtime))) return { ok: false, reason: `${this.runtime} is not installed (Debian package crun)` };
    const problem = cgroupProblem();
    if (problem) return { ok: false, reason: problem };
    return { ok: true };
  }

  private paths(id: string): Paths {
    const dir = join(this.opts.dir, id);
    return {
      dir,
      spec: join(dir, 'spec.json'),
      disks: join(dir, 'disks.json'),
      config: join(dir, 'config.json'),
      rootfs: join(dir, 'rootfs'),
      console: join(dir, 'console.log'),
      pid: join(dir, 'container.pid'),
      exit: join(dir, 'exit'),
    };
  }

  /** Runs `fn` after every earlier operation on the machine. */
  private serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    this.chains.set(id, settled);
    void settled.then(() => {
      if (this.chains.get(id) === settled) this.chains.delete(id);
    });
    return next;
  }

  /** The host set-up containers need (the cgroup layout), once; held (a reset leaves it) until close(). */
  private ensureHost(): Promise<void> {
    this.hostReady ??= holdCgroupLayout(`container driver of ${this.opts.dir}`).then(() => {
      this.holdsLayout = true;
    });
    return this.hostReady;
  }

  private startPolling(): void {
    if (this.poller || this.closed) return;
    this.poller = setInterval(() => void this.poll(), this.pollMs);
    this.poller.unref();
    if (this.opts.idleTrim === false) return;
    const trim = (this.idleTrim ??= new IdleTrim(instanceCgroupFiles(), this.opts.idleTrim));
    this.trimmer = setInterval(() => {
      if (this.trimming) return;
      this.trimming = true;
      void trim
        .tick([...this.watching])
        .catch(() => undefined) // a machine gone meanwhile: its files are gone too
        .finally(() => (this.trimming = false));
    }, trim.intervalMs);
    this.trimmer.unref();
  }

  private async poll(): Promise<void> {
    for (const id of [...this.watching]) {
      if (this.chains.has(id)) continue; // an operation is under way: it handles the exit
      const p = this.paths(id);
      if (!existsSync(p.exit)) continue;
      const status = await readExit(p.exit);
      if (status === undefined || !this.watching.has(id) || this.chains.has(id)) continue;
      this.watching.delete(id);
      void this.serial(id, () => this.exited(id, status));
    }
  }

  /** A machine ended by itself: a reboot from inside comes back; anything else is reported. */
  private async exited(id: string, status: number): Promise<void> {
    const p = this.paths(id);
    if (!existsSync(p.spec)) return;
    const kind = exitKind(status);
    if (kind === 'reboot') {
      try {
        await this.cleanupRun(id);
        await this.run(id, await this.currentSpec(id), { reboot: true });
        this.emitter.emit({ instanceId: id, state: 'running', cause: 'guest', detail: 'rebooted from inside' });
        return;
      } catch (e) {
        this.emitter.emit({ instanceId: id, state: 'stopped', cause: 'crash', detail: `reboot failed: ${(e as Error).message}` });
        return;
      }
    }
    await this.cleanupRun(id).catch(() => undefined);
    this.emitter.emit({
      instanceId: id,
      state: 'stopped',
      cause: kind === 'poweroff' ? 'guest' : 'crash',
      detail: kind === 'poweroff' ? 'powered off from inside' : `PID 1 ended with status ${status}`,
    });
  }

  /** 'running', 'paused' (hibernated), 'down' (dir but no container) or undefined (no machine). */
  private async observe(id: string): Promise<'running' | 'paused' | 'down' | undefined> {
    const p = this.paths(id);
    if (!existsSync(p.spec)) return undefined;
    if (existsSync(p.exit) || !existsSync(p.pid)) return 'down';
    const pid = Number((await readFile(p.pid, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return 'down';
    try {
      const freezer = (await readFile(`/sys/fs/cgroup/freezer/${CGROUP_PARENT}/${id}/freezer.state`, 'utf8')).trim();
      if (freezer === 'FROZEN' || freezer === 'FREEZING') return 'paused';
    } catch {
      // no v1 freezer: not paused by us
    }
    return 'running';
  }

  async describe(id: string): Promise<RuntimeState | undefined> {
    const o = await this.observe(id);
    if (o === undefined) return undefined;
    if (o === 'running') this.watch(id);
    return o === 'running' ? 'running' : 'stopped';
  }

  private watch(id: string): void {
    this.watching.add(id);
    this.startPolling();
  }

  async list(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.opts.dir);
    } catch {
      return [];
    }
    return entries.filter((e) => existsSync(join(this.opts.dir, e, 'spec.json'))).sort();
  }

  async launch(spec: InstanceSpec): Promise<void> {
    checkSpec(spec);
    return this.serial(spec.instanceId, async () => {
      const o = await this.observe(spec.instanceId);
      if (o === 'running') return;
      if (o === 'paused') return this.resume(spec.instanceId, spec);
      await this.run(spec.instanceId, spec);
    });
  }

  async start(spec: InstanceSpec): Promise<void> {
    checkSpec(spec);
    return this.serial(spec.instanceId, async () => {
      const o = await this.observe(spec.instanceId);
      if (o === undefined) throw notFound(spec.instanceId);
      if (o === 'running') return;
      if (o === 'paused') return this.resume(spec.instanceId, spec);
      await this.cleanupRun(spec.instanceId);
      await this.run(spec.instanceId, spec);
    });
  }

  /**
   * Thaws a hibernated machine. It keeps its memory, vCPUs and memory limit,
   * but its block devices become those of `spec` (volumes attached or detached
   * while it was stopped), plugged in and out as on a running machine.
   */
  private async resume(id: string, spec: InstanceSpec): Promise<void> {
    await run(this.runtime, ['resume', id]);
    this.watch(id);
    const have = await this.currentDisks(id);
    for (const d of have) {
      if (!d.root && !spec.blockDevices.some((w) => w.deviceName === d.deviceName && w.path === d.path)) await this.unplug(id, d);
    }
    const now: DiskEntry[] = [have.find((d) => d.root)!];
    for (const d of spec.blockDevices) {
      if (d.root) continue;
      const had = have.find((h) => h.deviceName === d.deviceName && h.path === d.path);
      now.push(had && sameLimits(had, d) ? had : { ...d, dev: await this.plug(id, d) });
    }
    await this.writeDisks(id, now);
  }

  /** The spec the machine last started with, its block devices those it has now. */
  private async currentSpec(id: string): Promise<InstanceSpec> {
    const spec = JSON.parse(await readFile(this.paths(id).spec, 'utf8')) as InstanceSpec;
    return { ...spec, blockDevices: await this.currentDisks(id, spec) };
  }

  /** The block devices the machine has now: disks.json, else those of spec.json. */
  private async currentDisks(id: string, spec?: InstanceSpec): Promise<DiskEntry[]> {
    const p = this.paths(id);
    try {
      return JSON.parse(await readFile(p.disks, 'utf8')) as DiskEntry[];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return (spec ?? (JSON.parse(await readFile(p.spec, 'utf8')) as InstanceSpec)).blockDevices;
  }

  private async writeDisks(id: string, disks: DiskEntry[]): Promise<void> {
    const p = this.paths(id);
    await writeFile(`${p.disks}.tmp`, JSON.stringify(disks));
    await rename(`${p.disks}.tmp`, p.disks);
  }

  /** PID 1 of a machine whose container exists (running or frozen). */
  private async pid1(id: string): Promise<number> {
    const pid = Number((await readFile(this.paths(id).pid, 'utf8')).trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new HypervisorError('failed', id, `${id}: no PID 1 recorded`);
    return pid;
  }

  /** The device numbers of a disk's host block device; invalid-spec when it is not one. */
  private async numbers(id: string, disk: DiskSpec): Promise<DeviceNumbers> {
    let st;
    try {
      st = await stat(disk.path);
    } catch (e) {
      throw new HypervisorError('invalid-spec', id, `${id}: ${disk.path}: ${(e as Error).message}`);
    }
    if (!st.isBlockDevice()) throw new HypervisorError('invalid-spec', id, `${id}: ${disk.path} is not a block device`);
    return deviceNumbers(st);
  }

  /** Gives the container's guest the disk now: cgroup access, its limits, the node under its device name. Answers its numbers. */
  private async plug(id: string, disk: DiskSpec): Promise<DeviceNumbers> {
    const dev = await this.numbers(id, disk);
    try {
      await allowDevice(id, dev, disk.readOnly === true);
      await setThrottle(id, dev, disk.limits);
      await makeGuestNode(await this.pid1(id), disk.deviceName, dev);
      return dev;
    } catch (e) {
      if (e instanceof HypervisorError) throw e;
      throw new HypervisorError('failed', id, `${id}: cannot attach ${disk.path} as ${disk.deviceName}: ${(e as Error).message}`);
    }
  }

  /**
   * The numbers the guest got the disk under: recorded when it was plugged in, else those of the
   * bundle it started with (the host path may be gone, or another device by now), else the path's.
   */
  private async pluggedNumbers(id: string, disk: DiskEntry): Promise<DeviceNumbers | undefined> {
    if (disk.dev) return disk.dev;
    try {
      const config = JSON.parse(await readFile(this.paths(id).config, 'utf8')) as OciSpec;
      const d = config.linux.devices.find((x) => x.path === disk.deviceName);
      if (d) return { major: d.major, minor: d.minor };
    } catch {
      // no bundle: the path says
    }
    return this.numbers(id, disk).catch(() => undefined);
  }

  /** Takes the disk away from the container's guest: node, cgroup access, limits. */
  private async unplug(id: string, disk: DiskEntry): Promise<void> {
    const dev = await this.pluggedNumbers(id, disk);
    if (!dev) return; // never plugged in (an image file): nothing to take away
    try {
      await removeGuestNode(await this.pid1(id), disk.deviceName, dev).catch(() => undefined); // a guest that moved it keeps a node it cannot open
      await denyDevice(id, dev);
      await setThrottle(id, dev, undefined);
    } catch (e) {
      throw new HypervisorError('failed', id, `${id}: cannot detach ${disk.deviceName}: ${(e as Error).message}`);
    }
  }

  /**
   * Mounts the root, writes the bundle and starts the container under its monitor; resolves once PID 1 runs.
   * A launch or start records `spec` as the machine's (and forgets disks attached since the last one:
   * the spec has the machine's disks); a reboot runs the current spec and records nothing.
   */
  private async run(id: string, spec: InstanceSpec, opts: { reboot?: boolean } = {}): Promise<void> {
    await this.ensureHost();
    const p = this.paths(id);
    await mkdir(p.rootfs, { recursive: true });
    if (!opts.reboot) {
      await writeFile(`${p.spec}.tmp`, JSON.stringify(spec));
      await rename(`${p.spec}.tmp`, p.spec);
      await rm(p.disks, { force: true });
    }
    const root = spec.blockDevices.find((d) => d.root)!;
    if (!isMountedSync(p.rootfs)) {
      try {
        await run('mount', [root.path, p.rootfs]);
      } catch (e) {
        throw new HypervisorError('failed', id, `cannot mount the root device ${root.path}: ${(e as Error).message}`);
      }
    }
    const devices: DeviceNode[] = [];
    for (const d of spec.blockDevices) {
      const st = await stat(d.path);
      if (!st.isBlockDevice()) continue; // an image file (tests): nothing to expose
      devices.push({ path: d.deviceName, ...deviceNumbers(st), readOnly: d.readOnly === true, ...(d.limits ? { limits: d.limits } : {}) });
    }
    const nic = [...spec.network].sort((a, b) => a.deviceIndex - b.deviceIndex)[0];
    const netnsPath = nic ? (isAbsolute(nic.netns) ? nic.netns : `/run/netns/${nic.netns}`) : undefined;
    if (netnsPath && !existsSync(netnsPath)) throw new HypervisorError('invalid-spec', id, `${id}: network namespace ${netnsPath} does not exist`);
    const guest = await readGuestManifest(p.rootfs);
    // the resolver from the VPC's DHCP options, bound over the image's /etc/resolv.conf where that is a plain file
    let resolvConfPath: string | undefined;
    if (spec.resolvConf !== undefined && (await lstat(join(p.rootfs, 'etc/resolv.conf')).then((s) => s.isFile(), () => false))) {
      resolvConfPath = join(p.dir, 'resolv.conf');
      await writeFile(resolvConfPath, spec.resolvConf);
    }
    const config = ociSpec({
      instanceId: id,
      hostname: spec.hostname,
      rootfs: p.rootfs,
      netnsPath,
      vcpus: spec.vcpus,
      memoryMiB: spec.memoryMiB,
      hostCpus: availableParallelism(),
      maxOpenFiles: hostOpenFilesLimit(),
      devices,
      guest,
      cgroupsPath: `/${CGROUP_PARENT}/${id}`,
      consolePath: `${p.console}.pipe`,
      resolvConfPath,
    });
    await writeFile(p.config, JSON.stringify(config, null, 1));
    await rm(p.exit, { force: true });
    await rm(p.pid, { force: true });
    const monitor = await (this.monitor ??= installMonitor(this.opts.dir));
    await spawnDetached('/bin/sh', [monitor, p.exit, p.console, this.runtime, 'run', '--bundle', p.dir, '--pid-file', p.pid, id], { logFile: p.console, cwd: p.dir });
    // PID 1 runs once crun wrote its pid file; the monitor's exit file first means it failed
    for (let i = 0; i < 2000; i++) {
      if (existsSync(p.exit)) {
        const status = await readExit(p.exit);
        throw new HypervisorError('failed', id, `${id}: the container did not start (status ${status}): ${(await this.consoleOutput(id)).slice(-400).trim()}`);
      }
      if (existsSync(p.pid)) break;
      await sleep(i < 100 ? 2 : 10);
    }
    if (!existsSync(p.pid)) throw new HypervisorError('failed', id, `${id}: the container did not start within 20 s`);
    // crun writes the pid file before PID 1 executes the guest's init: until then a signal
    // (a stop) would end it without its shutdown, so "running" waits for the exec
    const pid = (await readFile(p.pid, 'utf8')).trim();
    for (let i = 0; i < 1000 && !existsSync(p.exit); i++) {
      const exe = await readlink(`/proc/${pid}/exe`).catch(() => '');
      if (exe !== '' && !exe.includes(this.runtime)) break; // also crun's own memfd copy of itself
      await sleep(i < 100 ? 2 : 10);
    }
    this.watch(id);
  }

  /** After the container ended: the runtime's record deleted, the root unmounted. */
  private async cleanupRun(id: string): Promise<void> {
    const p = this.paths(id);
    await run(this.runtime, ['delete', '--force', id]).catch(() => undefined);
    if (isMountedSync(p.rootfs)) {
      try {
        await run('umount', [p.rootfs]);
      } catch {
        await run('umount', ['--lazy', p.rootfs]);
      }
    }
  }

  /** Signals PID 1 and waits for the monitor to record its end; kills it after the timeout. */
  private async signalAndWait(id: string, signal: string, timeoutMs: number): Promise<number> {
    const p = this.paths(id);
    this.watching.delete(id);
    if (!existsSync(p.exit)) {
      await run(this.runtime, ['kill', id, signal]).catch((e: unknown) => {
        if (!(e instanceof CommandError)) throw e;
      });
    }
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(p.exit) && Date.now() < deadline) await sleep(20);
    if (!existsSync(p.exit)) {
      await run(this.runtime, ['kill', '--all', id, 'SIGKILL']).catch(() => undefined);
      for (let i = 0; i < 500 && !existsSync(p.exit); i++) await sleep(10);
    }
    const status = await readExit(p.exit);
    if (status === undefined) {
      // the monitor itself is gone (killed with the server's session?): nothing runs any more once crun is deleted
      await run(this.runtime, ['delete', '--force', id]).catch(() => undefined);
      return -1;
    }
    return status;
  }

  stop(id: string, opts: StopOptions = {}): Promise<void> {
    return this.serial(id, async () => {
      const o = await this.observe(id);
      if (o === undefined) throw notFound(id);
      if (o === 'down') {
        await this.cleanupRun(id);
        return;
      }
      if (o === 'paused') {
        if (!opts.force) return;
        await run(this.runtime, ['resume', id]).catch(() => undefined);
      } else if (opts.hibernate && !opts.force) {
        // memory stays in the frozen cgroup on the host (see the file's comment)
        this.watching.delete(id);
        await run(this.runtime, ['pause', id]);
        return;
      }
      const guest = await readGuestManifest(this.paths(id).rootfs);
      await this.signalAndWait(id, opts.force ? 'SIGKILL' : guest.stopSignal, opts.force ? 2_000 : this.stopTimeoutMs);
      await this.cleanupRun(id);
    });
  }

  /** The cgroup freezer (`crun pause`); its memory stays where it is. */
  freeze(id: string): Promise<void> {
    return this.serial(id, async () => {
      const o = await this.observe(id);
      if (o === undefined) throw notFound(id);
      if (o !== 'running') throw new HypervisorError('invalid-state', id, `${id} is not running`);
      await run(this.runtime, ['pause', id]);
    });
  }

  thaw(id: string): Promise<void> {
    return this.serial(id, async () => {
      const o = await this.observe(id);
      if (o === undefined) throw notFound(id);
      if (o === 'paused') await run(this.runtime, ['resume', id]);
    });
  }

  reboot(id: string): Promise<void> {
    return this.serial(id, async () => {
      const o = await this.observe(id);
      if (o === undefined) throw notFound(id);
      if (o !== 'running') throw new HypervisorError('invalid-state', id, `${id} is not running`);
      const p = this.paths(id);
      const spec = await this.currentSpec(id);
      const guest = await readGuestManifest(p.rootfs);
      // the guest's own shutdown runs; its init then ends the PID namespace with a reboot
      await this.signalAndWait(id, guest.rebootSignal, this.stopTimeoutMs);
      await this.cleanupRun(id);
      await this.run(id, spec, { reboot: true });
    });
  }

  /**
   * A running machine gets the disk at once (see hotplug.ts) and keeps it
   * over reboots (disks.json); a stopped or hibernated one gets what its next
   * start's spec says. The same disk again re-applies it (its limits, a node
   * the guest removed).
   */
  attachDisk(id: string, disk: DiskSpec): Promise<void> {
    return this.serial(id, async () => {
      const o = await this.observe(id);
      if (o === undefined) throw notFound(id);
      const fail = (why: string) => new HypervisorError('invalid-spec', id, `${id}: ${why}`);
      if (disk.root) throw fail('a root device cannot be attached to a machine that exists');
      if (!validDeviceName(disk.deviceName)) throw fail(`${disk.deviceName} is not a device name under /dev`);
      if (!disk.path) throw fail(`device ${disk.deviceName} has no host path`);
      const have = await this.currentDisks(id);
      const held = have.find((d) => d.deviceName === disk.deviceName);
      if (held && held.path !== disk.path) throw fail(`device ${disk.deviceName} is held by ${held.path}`);
      if (o !== 'running') return;
      const dev = await this.plug(id, disk);
      const entry: DiskEntry = { deviceName: disk.deviceName, path: disk.path, root: false, ...(disk.readOnly ? { readOnly: true } : {}), ...(disk.limits ? { limits: disk.limits } : {}), dev };
      await this.writeDisks(id, [...have.filter((d) => d.deviceName !== disk.deviceName), entry]);
    });
  }

  /** The device leaves a running guest at once (a mount inside keeps the kernel's hold on it until unmounted); stopped: nothing to do. */
  detachDisk(id: string, deviceName: string): Promise<void> {
    return this.serial(id, async () => {
      const found = await this.runningDisk(id, deviceName);
      if (!found || found.d.root) return;
      const { have, d } = found;
      await this.unplug(id, d);
      await this.writeDisks(id, have.filter((x) => x !== d));
    });
  }

  /** A running machine's disks and the one named `deviceName` (undefined when not running or no such disk); not-found for no machine. */
  private async runningDisk(id: string, deviceName: string): Promise<{ have: DiskEntry[]; d: DiskEntry } | undefined> {
    const o = await this.observe(id);
    if (o === undefined) throw notFound(id);
    if (o !== 'running') return undefined;
    const have = await this.currentDisks(id);
    const d = have.find((x) => x.deviceName === deviceName);
    return d ? { have, d } : undefined;
  }

  /**
   * New I/O limits for a device of a running machine (a ModifyVolume): its blkio
   * throttle rules rewritten at once, and kept in disks.json for reboots. A
   * stopped or hibernated machine gets its next start's spec (resume() re-applies
   * limits that differ).
   */
  setDiskLimits(id: string, deviceName: string, limits: DiskLimits | undefined): Promise<void> {
    return this.serial(id, async () => {
      const found = await this.runningDisk(id, deviceName);
      if (!found) return;
      const { have, d } = found;
      const dev = await this.pluggedNumbers(id, d);
      if (!dev) return; // an image file (tests): nothing is throttled
      try {
        await setThrottle(id, dev, limits);
      } catch (e) {
        throw new HypervisorError('failed', id, `${id}: cannot set the limits of ${deviceName}: ${(e as Error).message}`);
      }
      const { limits: _old, ...rest } = d;
      const entry: DiskEntry = { ...rest, ...(limits ? { limits } : {}), dev };
      await this.writeDisks(id, have.map((x) => (x === d ? entry : x)));
    });
  }

  terminate(id: string): Promise<void> {
    return this.serial(id, async () => {
      const o = await this.observe(id);
      if (o === undefined) return;
      if (o === 'paused') await run(this.runtime, ['resume', id]).catch(() => undefined);
      if (o !== 'down') await this.signalAndWait(id, 'SIGKILL', 2_000);
      this.watching.delete(id);
      await this.cleanupRun(id);
      await rm(this.paths(id).dir, { recursive: true, force: true });
    });
  }

  /**
   * Whether something in the guest listens on TCP port 22 (its SSH server), read from
   * PID 1's network namespace (/proc/<pid>/net/tcp and tcp6): no process is run for it.
   */
  async guestReachable(id: string): Promise<boolean> {
    if ((await this.observe(id)) !== 'running') return false;
    const pid = (await readFile(this.paths(id).pid, 'utf8').catch(() => '')).trim();
    for (const table of ['tcp', 'tcp6']) {
      const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
      // "  sl  local_address rem_address   st …": a local port of 0016 (22) in state 0A (LISTEN)
      for (const line of text.split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f[3] === '0A' && f[1]?.endsWith(':0016')) return true;
      }
    }
    return false;
  }

  /**
   * Rewrites the machine's resolv.conf, the host file bound over the guest's
   * /etc/resolv.conf: truncated and written in place (same inode, no rename),
   * so the bind mount shows the new content to a running guest at once; and
   * the spec a reboot reuses carries it. Without a bound file (the image's own
   * resolv.conf is not a plain file): nothing to do.
   */
  async setResolvConf(id: string, text: string): Promise<void> {
    return this.serial(id, async () => {
      const p = this.paths(id);
      if (!existsSync(p.spec)) throw notFound(id);
      const file = join(p.dir, 'resolv.conf');
      if (!existsSync(file)) return;
      await writeFile(file, text);
      const spec = JSON.parse(await readFile(p.spec, 'utf8')) as InstanceSpec;
      await writeFile(`${p.spec}.tmp`, JSON.stringify({ ...spec, resolvConf: text }));
      await rename(`${p.spec}.tmp`, p.spec);
    });
  }

  async consoleOutput(id: string): Promise<string> {
    const p = this.paths(id);
    if (!existsSync(p.spec) && !existsSync(p.console)) throw notFound(id);
    let fh;
    try {
      fh = await open(p.console, 'r');
    } catch {
      return '';
    }
    try {
      const { size } = await fh.stat();
      const length = Math.min(size, CONSOLE_TAIL_BYTES);
      const buf = Buffer.alloc(length);
      await fh.read(buf, 0, length, size - length);
      return buf.toString('utf8');
    } finally {
      await fh.close();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.poller) clearInterval(this.poller);
    if (this.trimmer) clearInterval(this.trimmer);
    this.poller = undefined;
    this.trimmer = undefined;
    await Promise.all([...this.chains.values()]);
    await this.hostReady?.catch(() => undefined);
    if (this.holdsLayout) {
      this.holdsLayout = false;
      this.hostReady = undefined;
      await releaseCgroupLayout();
    }
  }
}
