/**
 * What a compute driver must do for the instance reconciler. One interface,
 * several drivers (mock now; containers run by crun in network namespaces and
 * QEMU VMs later), one conformance suite (test/compute/hypervisor.conformance.ts).
 *
 * A driver knows nothing of EC2: it gets prepared host resources (a root
 * device, block devices by guest device name, a network namespace and
 * interface per NIC, user data bytes, the public key) — the way Incus hands
 * an instance driver its run config — and only keeps a machine running,
 * stopped or gone. It never looks up an image, volume or security group id.
 * The reconciler prepares those resources (BlockStore, Fabric, Firewall),
 * maps the machine's state onto pending/stopping/… and writes what it
 * observed. Every method is idempotent where the contract says so, so that a
 * reconciler can repeat an operation after a crash.
 */
import type { EventStream, ProbeResult } from './driver.js';

/** What a machine is, as far as the driver knows. Absent = `undefined`. */
export type RuntimeState = 'running' | 'stopped';

/** One network interface, plugged by the Fabric: the driver moves it into (or bridges it to) the guest. */
export interface NicSpec {
  /** the guest's device order (0 = eth0) */
  deviceIndex: number;
  /** the network namespace the Fabric made for this interface (a name under /run/netns, or a path) */
  netns: string;
  /** the interface inside that namespace the guest gets (a veth end, a tap…) */
  ifname: string;
  /** 02:xx:xx:xx:xx:xx */
  mac: string;
  /** the primary private IPv4 */
  privateIp: string;
  /** every address of the interface with its prefix length, primary first ("172.31.0.10/20") */
  addresses: string[];
  /** the subnet's router (first usable address) */
  gateway: string;
  mtu: number;
  /** public IPv4 the Fabric maps 1:1 to privateIp; the guest never sees it (for the console and metadata) */
  publicIp?: string;
}

/** One block device, a host path the BlockStore attached. */
export interface DiskSpec {
  /** the device name the guest sees: /dev/xvda, /dev/sdb… */
  deviceName: string;
  /** host block device (or image file) backing it: /dev/loop7… */
  path: string;
  /** the device the machine boots from (exactly one) */
  root: boolean;
  readOnly?: boolean;
  /** the volume type's limits, enforced on the device from the machine's side (cgroup I/O throttling) */
  limits?: DiskLimits;
}

/** I/O limits of one device (EBS: the volume type's IOPS and throughput). Absent: unlimited. */
export interface DiskLimits {
  /** read operations per second (and write operations, unless writeIops says otherwise) */
  iops?: number;
  /** write operations per second, as the host counts them (default: iops) */
  writeIops?: number;
  /** bytes per second, read and write each */
  bytesPerSecond?: number;
}

/** Everything a driver needs to create (or re-create on start) a machine. */
export interface InstanceSpec {
  /** the machine's name on this host (the EC2 instance id, as a name only) */
  instanceId: string;
  /** from the instance type catalogue; drivers enforce them */
  vcpus: number;
  memoryMiB: number;
  architecture: string;
  /** primary interface first */
  network: NicSpec[];
  /** exactly one has root: true */
  blockDevices: DiskSpec[];
  /** decoded user data, run at first boot */
  userData?: Buffer;
  /** OpenSSH public key line of the key pair, installed for the default user */
  publicKey?: string;
  hostname: string;
  /** the guest's /etc/resolv.conf, from its VPC's DHCP options (undefined: the image's own) */
  resolvConf?: string;
}

export interface StopOptions {
  /** do not wait for a clean guest shutdown */
  force?: boolean;
  /** save RAM to the root volume and resume from it on the next start */
  hibernate?: boolean;
}

/**
 * Something happened to a machine that nobody asked the driver for: the guest
 * powered off or rebooted itself, the process crashed, the host lost it.
 * Drivers may also report changes they were asked for; the reconciler only
 * takes an event as a reason to look again (it reads describe()).
 */
export interface MachineEvent {
  instanceId: string;
  /** the state after the event (undefined: the machine is gone) */
  state: RuntimeState | undefined;
  /** guest: powered off from inside; crash: the runtime process died; host: lost by the host (device, restart) */
  cause: 'guest' | 'crash' | 'host';
  detail?: string;
}

export type HypervisorErrorCode =
  /** the driver has no machine of that id */
  | 'not-found'
  /** the machine is in a state the operation cannot apply to (e.g. reboot while stopped) */
  | 'invalid-state'
  /** the spec cannot be run (no root device, two roots, a NIC without a namespace…) */
  | 'invalid-spec'
  /** the runtime failed (process exited, tool returned non-zero…) */
  | 'failed';

export class HypervisorError extends Error {
  constructor(
    readonly code: HypervisorErrorCode,
    readonly instanceId: string,
    message: string,
  ) {
    super(message);
    this.name = 'HypervisorError';
  }
}

export const notFound = (id: string): HypervisorError => new HypervisorError('not-found', id, `no machine ${id}`);

/**
 * The driver contract:
 *  - probe(): whether this host can run the driver (binaries, kernel features, permissions) and why not.
 *  - launch(spec): creates the machine and runs it → 'running'. On a machine
 *    that already exists it only makes sure it runs (idempotent; a stopped one
 *    is started with the new spec). A spec without exactly one root disk → invalid-spec.
 *  - stop(id): → 'stopped'; a stopped machine stays stopped; unknown id → not-found.
 *  - start(spec): stopped → 'running' (on a "new host": instance store is
 *    lost, type and network may have changed); running: no-op; unknown → not-found.
 *  - reboot(id): running → running (same host, disks and addresses);
 *    stopped → invalid-state; unknown → not-found.
 *  - terminate(id): → absent, whatever the state; unknown id: no-op.
 *  - describe(id): the state, or undefined when absent.
 *  - list(): ids of every machine the driver has (for crash recovery).
 *  - attachDisk(id, disk): a running machine sees the device at once under
 *    disk.deviceName (formattable and mountable without a restart); a
 *    stopped one gets it from the spec of its next start (the driver keeps
 *    nothing for it); the same disk again: no-op; a root disk, or a device
 *    name held by another path → invalid-spec; unknown id → not-found.
 *  - detachDisk(id, deviceName): the device is gone from the running guest
 *    (a guest still using it loses it, as a forced EBS detach); a name not
 *    attached: no-op; unknown id → not-found.
 *  - setDiskLimits(id, deviceName, limits): the I/O limits of a device the
 *    running machine has (its root too) become `limits` at once (undefined:
 *    unlimited), kept over reboots; a stopped or hibernated machine gets what
 *    its next start's spec says (the driver keeps nothing for it); a device
 *    name it does not have: no-op; unknown id → not-found.
 *  - guestReachable(id): whether the guest answers on its network (for the
 *    instance status check: something listens on its SSH port); false while it
 *    boots, stopped or unknown.
 *  - consoleOutput(id): the serial console text so far (drivers may keep only
 *    a tail); unknown → not-found.
 *  - freeze(id): every process of a running machine stopped where it is (the
 *    cgroup freezer), so that nothing it writes lands between two snapshot
 *    points; thaw(id) lets them run on. Stopped → invalid-state; unknown →
 *    not-found; thaw of a machine not frozen: no-op.
 *  - setResolvConf(id, text): the guest's /etc/resolv.conf becomes `text` in
 *    place (the file the machine has, rewritten: a running guest reads the new
 *    one at once, as a DHCP lease renewal hands a new options set out) and is
 *    kept for a reboot; a machine whose resolv.conf is the image's own (the
 *    driver could not bind one): no-op; unknown id → not-found.
 *  - events(listener): machines that changed by themselves (see MachineEvent).
 *  - close(): releases driver resources; machines keep running where the
 *    runtime allows (a restarted server finds them again through list()).
 */
export interface Hypervisor {
  readonly name: string;
  probe(): Promise<ProbeResult>;
  launch(spec: InstanceSpec): Promise<void>;
  stop(id: string, opts?: StopOptions): Promise<void>;
  start(spec: InstanceSpec): Promise<void>;
  reboot(id: string): Promise<void>;
  terminate(id: string): Promise<void>;
  attachDisk(id: string, disk: DiskSpec): Promise<void>;
  detachDisk(id: string, deviceName: string): Promise<void>;
  setDiskLimits(id: string, deviceName: string, limits: DiskLimits | undefined): Promise<void>;
  describe(id: string): Promise<RuntimeState | undefined>;
  list(): Promise<string[]>;
  consoleOutput(id: string): Promise<string>;
  guestReachable(id: string): Promise<boolean>;
  freeze(id: string): Promise<void>;
  thaw(id: string): Promise<void>;
  setResolvConf(id: string, text: string): Promise<void>;
  readonly events: EventStream<MachineEvent>;
  close(): Promise<void>;
}

export type HypervisorOperation = 'launch' | 'stop' | 'start' | 'reboot' | 'terminate';

/** The checks every driver makes on a spec before running it; throws invalid-spec. */
export function checkSpec(spec: InstanceSpec): void {
  const fail = (why: string) => new HypervisorError('invalid-spec', spec.instanceId, `${spec.instanceId}: ${why}`);
  const roots = spec.blockDevices.filter((d) => d.root);
  if (roots.length !== 1) throw fail(`needs exactly one root device, got ${roots.length}`);
  const names = new Set<string>();
  for (const d of spec.blockDevices) {
    if (!d.path) throw fail(`device ${d.deviceName} has no host path`);
    if (names.has(d.deviceName)) throw fail(`device ${d.deviceName} given twice`);
    names.add(d.deviceName);
  }
  const indexes = new Set<number>();
  for (const n of spec.network) {
    if (!n.netns || !n.ifname) throw fail(`NIC ${n.deviceIndex} has no network namespace or interface`);
    if (indexes.has(n.deviceIndex)) throw fail(`NIC device index ${n.deviceIndex} given twice`);
    indexes.add(n.deviceIndex);
  }
  if (!(spec.vcpus >= 1) || !(spec.memoryMiB >= 1)) throw fail('needs at least one vCPU and some memory');
}
