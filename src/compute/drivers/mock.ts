/**
 * The mock driver: machines are entries in a map, transitions only change
 * their state (after `delayMs`, to let tests see pending/stopping), and the
 * console shows a few boot lines. For fast tests and for users who only want
 * an EC2 emulator. Nothing survives the process.
 */
import {
  HypervisorError,
  notFound,
  type Hypervisor,
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

  async launch(spec: InstanceSpec): Promise<void> {
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

  async consoleOutput(id: string): Promise<string> {
    return this.require(id).console.map((l) => l + '\n').join('');
  }

  /** The spec a machine was last (re)started with, for tests. */
  specOf(id: string): InstanceSpec | undefined {
    return this.machines.get(id)?.spec;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private boot(m: Machine, spec: InstanceSpec): void {
    const resumed = m.hibernated;
    m.spec = spec;
    m.state = 'running';
    m.hibernated = false;
    m.boots++;
    m.console.push(...bootLines(spec, m.boots, resumed));
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

function bootLines(spec: InstanceSpec, boot: number, resumed: boolean): string[] {
  const eth0 = spec.network[0];
  const lines = [
    `[    0.000000] Linux version 6.1.0-overcast-mock (${spec.architecture}) boot #${boot}`,
    `[    0.000000] Command line: console=ttyS0 root=/dev/${spec.blockDevices.find((b) => b.root)?.deviceName.replace('/dev/', '') ?? 'xvda1'}`,
    `[    0.010000] Memory: ${spec.memoryMiB * 1024}K available, ${spec.vcpus} CPUs`,
  ];
  if (resumed) lines.push('[    0.500000] PM: hibernation: image restored');
  if (eth0) lines.push(`[    1.000000] eth0: ${eth0.mac} ${eth0.privateIp} via ${eth0.gateway}`);
  if (boot === 1) {
    lines.push(`cloud-init: hostname ${spec.hostname}`);
    if (spec.publicKey) lines.push('cloud-init: installed the key pair for the default user');
    if (spec.userData) lines.push(`cloud-init: running user data (${spec.userData.length} bytes)`);
  }
  lines.push(`${spec.hostname} login:`);
  return lines;
}
