/**
 * The mock driver: machines are entries in a map, transitions only change
 * their state (after `delayMs`, to let tests see pending/stopping), and the
 * console shows a few boot lines. For fast tests and for users who only want
 * an EC2 emulator. Nothing survives the process.
 *
 * Honest where it matters to the reconciler: it refuses a spec a real driver
 * could not run (checkSpec), and a guest can power itself off — user data
 * ending in `poweroff` (or `shutdown -h now`, `halt -p`) does so once booted,
 * and guestPowerOff()/crash()/lose() do it on demand — reported through
 * events() only, never as a result of an operation.
 */
import { Emitter, type ProbeResult } from '../driver.js';
import {
  checkSpec,
  HypervisorError,
  notFound,
  type Hypervisor,
  type MachineEvent,
  type DiskLimits,
  type DiskSpec,
  type HypervisorOperation,
  type InstanceSpec,
  type RuntimeState,
  type StopOptions,
} from '../hypervisor.js';

interface Machine {
  state: RuntimeState;
  spec: InstanceSpec;
  console: string[];
  boots: number;
  /** RAM saved by a hibernating stop */
  hibernated: boolean;
  /** its processes frozen (freeze) */
  frozen?: boolean;
}

/** Return an Error to make the operation fail (after its delay), undefined to let it run. */
export type FailureHook = (op: HypervisorOperation, id: string) => Error | undefined;

export interface MockOptions {
  /** milliseconds each transition takes (0 = resolve on the next tick) */
  delayMs?: number;
  failureHook?: FailureHook;
}

export class MockHypervisor implements Hypervisor {
  readonly name = 'mock';
  delayMs: number;
  failureHook: FailureHook | undefined;
  private readonly machines = new Map<string, Machine>();
  private readonly oneShot: { op: HypervisorOperation; id: string | undefined; error: Error }[] = [];
  private closed = false;
  private readonly emitter = new Emitter<MachineEvent>();
  /** guests about to power themselves off */
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly events = this.emitter.subscribe;
  /** operations carried out, in order ("launch i-…"), for tests */
  readonly calls: string[] = [];

  constructor(opts: MockOptions = {}) {
    this.delayMs = opts.delayMs ?? 0;
    this.failureHook = opts.failureHook;
  }

  /** Makes the next `op` (on `id`, or on any id) fail with `error`. */
  failNext(op: HypervisorOperation, id?: string, error?: Error): void {
    this.oneShot.push({ op, id, error: error ?? new HypervisorError('failed', id ?? '', `injected ${op} failure`) });
  }

  async probe(): Promise<ProbeResult> {
    return this.closed ? { ok: false, reason: 'the mock driver is closed' } : { ok: true };
  }

  async launch(spec: InstanceSpec): Promise<void> {
    checkSpec(spec);
    await this.transition('launch', spec.instanceId);
    const m = this.machines.get(spec.instanceId);
    if (m) {
      if (m.state === 'stopped') this.boot(m, spec);
      return;
    }
    const fresh: Machine = { state: 'stopped', spec, console: [], boots: 0, hibernated: false };
    this.machines.set(spec.instanceId, fresh);
    this.boot(fresh, spec);
  }

  async stop(id: string, opts: StopOptions = {}): Promise<void> {
    this.require(id);
    await this.transition('stop', id);
    const m = this.require(id);
    if (m.state === 'stopped') return;
    m.state = 'stopped';
    m.hibernated = opts.hibernate === true;
    m.console.push(
      opts.hibernate ? 'PM: hibernation: saving memory to the root volume' : opts.force ? '[mock] forced power off' : 'reboot: Power down',
    );
  }

  async start(spec: InstanceSpec): Promise<void> {
    this.require(spec.instanceId);
    checkSpec(spec);
    await this.transition('start', spec.instanceId);
    const m = this.require(spec.instanceId);
    if (m.state === 'running') return;
    this.boot(m, spec);
  }

  async reboot(id: string): Promise<void> {
    const before = this.require(id);
    if (before.state !== 'running') throw new HypervisorError('invalid-state', id, `machine ${id} is not running`);
    await this.transition('reboot', id);
    const m = this.require(id);
    if (m.state !== 'running') throw new HypervisorError('invalid-state', id, `machine ${id} is not running`);
    m.boots++;
    m.console.push('reboot: Restarting system', ...bootLines(m.spec, m.boots, false));
  }

  async freeze(id: string): Promise<void> {
    const m = this.require(id);
    this.calls.push(`freeze ${id}`);
    if (m.state !== 'running') throw new HypervisorError('invalid-state', id, `machine ${id} is not running`);
    m.frozen = true;
  }

  async thaw(id: string): Promise<void> {
    const m = this.require(id);
    this.calls.push(`thaw ${id}`);
    m.frozen = false;
  }

  async setResolvConf(id: string, text: string): Promise<void> {
    const m = this.require(id);
    this.calls.push(`setResolvConf ${id}`);
    // the machine's spec keeps what its guest reads now (specOf shows it)
    if (m.spec.resolvConf !== undefined) m.spec = { ...m.spec, resolvConf: text };
  }

  /** Whether the machine's processes are frozen now (for tests). */
  isFrozen(id: string): boolean {
    return this.machines.get(id)?.frozen === true;
  }

  async attachDisk(id: string, disk: DiskSpec): Promise<void> {
    const m = this.require(id);
    this.calls.push(`attachDisk ${id} ${disk.deviceName}`);
    if (disk.root) throw new HypervisorError('invalid-spec', id, `${id}: a root device cannot be attached to a machine that exists`);
    const held = m.spec.blockDevices.find((d) => d.deviceName === disk.deviceName);
    if (held) {
      if (held.path === disk.path) return;
      throw new HypervisorError('invalid-spec', id, `${id}: device ${disk.deviceName} is held by ${held.path}`);
    }
    // a stopped machine gets it from its next start's spec; a running one (and the book kept for tests) at once
    if (m.state === 'running') m.spec = { ...m.spec, blockDevices: [...m.spec.blockDevices, { ...disk }] };
  }

  async detachDisk(id: string, deviceName: string): Promise<void> {
    const m = this.require(id);
    this.calls.push(`detachDisk ${id} ${deviceName}`);
    const d = m.spec.blockDevices.find((x) => x.deviceName === deviceName);
    if (!d || d.root) return;
    m.spec = { ...m.spec, blockDevices: m.spec.blockDevices.filter((x) => x !== d) };
  }

  async setDiskLimits(id: string, deviceName: string, limits: DiskLimits | undefined): Promise<void> {
    const m = this.require(id);
    this.calls.push(`setDiskLimits ${id} ${deviceName} ${limits?.iops ?? 0}/${limits?.bytesPerSecond ?? 0}`);
    if (m.state !== 'running') return;
    m.spec = {
      ...m.spec,
      blockDevices: m.spec.blockDevices.map((d) => {
        if (d.deviceName !== deviceName) return d;
        const { limits: _old, ...rest } = d;
        return limits ? { ...rest, limits: { ...limits } } : rest;
      }),
    };
  }

  /** The devices a machine sees now (attached since its start included), for tests. */
  disksOf(id: string): DiskSpec[] {
    return this.machines.get(id)?.spec.blockDevices.map((d) => ({ ...d })) ?? [];
  }

  async terminate(id: string): Promise<void> {
    if (!this.machines.has(id)) return;
    await this.transition('terminate', id);
    this.machines.delete(id);
  }

  async describe(id: string): Promise<RuntimeState | undefined> {
    this.checkOpen();
    return this.machines.get(id)?.state;
  }

  async list(): Promise<string[]> {
    this.checkOpen();
    return [...this.machines.keys()];
  }

  /** A mock guest answers as soon as it runs. */
  async guestReachable(id: string): Promise<boolean> {
    return (await this.describe(id)) === 'running';
  }

  async consoleOutput(id: string): Promise<string> {
    return this.require(id).console.map((l) => l + '\n').join('');
  }

  /** Something the guest prints on its serial console (for tests of the console tail). */
  writeConsole(id: string, text: string): void {
    this.require(id).console.push(text);
  }

  /** The guest shuts itself down (`poweroff` inside): stopped, reported as a guest event. */
  guestPowerOff(id: string): void {
    const m = this.require(id);
    if (m.state !== 'running') return;
    m.state = 'stopped';
    m.hibernated = false;
    m.console.push('reboot: Power down');
    this.emitter.emit({ instanceId: id, state: 'stopped', cause: 'guest' });
  }

  /** The machine's process dies: stopped, reported as a crash. */
  crash(id: string): void {
    const m = this.require(id);
    if (m.state !== 'running') return;
    m.state = 'stopped';
    m.console.push('[mock] the machine process exited unexpectedly');
    this.emitter.emit({ instanceId: id, state: 'stopped', cause: 'crash' });
  }

  /** The host loses the machine altogether (e.g. a host restart wiped it). */
  lose(id: string): void {
    if (!this.machines.delete(id)) return;
    this.emitter.emit({ instanceId: id, state: undefined, cause: 'host' });
  }

  /** The spec a machine was last (re)started with, for tests. */
  specOf(id: string): InstanceSpec | undefined {
    return this.machines.get(id)?.spec;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private boot(m: Machine, spec: InstanceSpec): void {
    const resumed = m.hibernated;
    m.spec = spec;
    m.state = 'running';
    m.hibernated = false;
    m.boots++;
    m.console.push(...bootLines(spec, m.boots, resumed));
    if (m.boots === 1 && spec.userData && POWEROFF.test(spec.userData.toString('utf8'))) {
      // cloud-init runs the script after boot; its last command powers the guest off
      const boots = m.boots;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.machines.get(spec.instanceId) === m && m.boots === boots && !this.closed) this.guestPowerOff(spec.instanceId);
      }, this.delayMs);
      this.timers.add(timer);
    }
  }

  private require(id: string): Machine {
    this.checkOpen();
    const m = this.machines.get(id);
    if (!m) throw notFound(id);
    return m;
  }

  private checkOpen(): void {
    if (this.closed) throw new HypervisorError('failed', '', 'the mock driver is closed');
  }

  private async transition(op: HypervisorOperation, id: string): Promise<void> {
    this.checkOpen();
    this.calls.push(`${op} ${id}`);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    else await Promise.resolve();
    const i = this.oneShot.findIndex((f) => f.op === op && (f.id === undefined || f.id === id));
    if (i >= 0) {
      const [f] = this.oneShot.splice(i, 1);
      throw f!.error;
    }
    const err = this.failureHook?.(op, id);
    if (err) throw err;
  }
}

/** User data whose last command powers the guest off. */
const POWEROFF = /(?:^|\n)\s*(?:poweroff|shutdown\s+(?:-h|-P)\s+now|halt\s+-p)\s*$/;

function bootLines(spec: InstanceSpec, boot: number, resumed: boolean): string[] {
  const lines = [
    `[    0.000000] Linux version 6.1.0-overcast-mock (${spec.architecture}) boot #${boot}`,
    `[    0.000000] Command line: console=ttyS0 root=/dev/${spec.blockDevices.find((b) => b.root)?.deviceName.replace('/dev/', '') ?? 'xvda1'}`,
    ...spec.blockDevices.map((b) => `[    0.005000] blk: ${b.deviceName} on ${b.path}${b.readOnly ? ' (ro)' : ''}`),
    `[    0.010000] Memory: ${spec.memoryMiB * 1024}K available, ${spec.vcpus} CPUs`,
  ];
  if (resumed) lines.push('[    0.500000] PM: hibernation: image restored');
  for (const nic of [...spec.network].sort((a, b) => a.deviceIndex - b.deviceIndex)) {
    lines.push(`[    1.000000] eth${nic.deviceIndex}: ${nic.mac} ${nic.addresses.join(' ')} via ${nic.gateway} (${nic.netns}/${nic.ifname}, mtu ${nic.mtu})`);
  }
  if (boot === 1) {
    lines.push(`cloud-init: hostname ${spec.hostname}`);
    if (spec.publicKey) lines.push('cloud-init: installed the key pair for the default user');
    if (spec.userData) lines.push(`cloud-init: running user data (${spec.userData.length} bytes)`);
  }
  lines.push(`${spec.hostname} login:`);
  return lines;
}
