/**
 * What a compute driver must do for the instance reconciler. One interface,
 * several drivers (mock now; containers in network namespaces and QEMU VMs
 * later), one conformance suite (test/compute/hypervisor.conformance.ts).
 *
 * A driver knows nothing of EC2 states: it only keeps a machine running,
 * stopped or gone. The reconciler maps that onto pending/stopping/… and
 * writes the observed state. Every method is idempotent where the contract
 * says so, so that a reconciler can repeat an operation after a crash.
 */

/** What a machine is, as far as the driver knows. Absent = `undefined`. */
export type RuntimeState = 'running' | 'stopped';

/** One network interface as the guest sees it. */
export interface NetworkSpec {
  /** ENI id (eni-…) */
  networkInterfaceId: string;
  deviceIndex: number;
  privateIp: string;
  /** 02:xx:xx:xx:xx:xx */
  mac: string;
  /** the subnet's CIDR, e.g. 172.31.0.0/20 */
  subnetCidr: string;
  /** first usable address of the subnet (the VPC router) */
  gateway: string;
  /** public IPv4 mapped 1:1 at the internet gateway; the guest never sees it, NAT does */
  publicIp?: string;
  securityGroupIds: string[];
}

/** One block device of the machine. */
export interface BlockDeviceSpec {
  /** /dev/xvda, /dev/sdb … */
  deviceName: string;
  kind: 'ebs' | 'instance-store';
  /** vol-… for EBS volumes */
  volumeId?: string;
  sizeGiB?: number;
  /** the device the machine boots from */
  root: boolean;
}

/** Everything a driver needs to create (or re-create on start) a machine. */
export interface InstanceSpec {
  instanceId: string;
  region: string;
  availabilityZone: string;
  imageId: string;
  instanceType: string;
  /** from the instance type catalogue; drivers enforce them */
  vcpus: number;
  memoryMiB: number;
  architecture: string;
  /** primary interface first */
  network: NetworkSpec[];
  /** decoded user data, run at first boot */
  userData?: Buffer;
  /** OpenSSH public key line of the key pair, installed for the default user */
  publicKey?: string;
  hostname: string;
  blockDevices: BlockDeviceSpec[];
}

export interface StopOptions {
  /** do not wait for a clean guest shutdown */
  force?: boolean;
  /** save RAM to the root volume and resume from it on the next start */
  hibernate?: boolean;
}

export type HypervisorErrorCode =
  /** the driver has no machine of that id */
  | 'not-found'
  /** the machine is in a state the operation cannot apply to (e.g. reboot while stopped) */
  | 'invalid-state'
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
 *  - launch(spec): creates the machine and runs it → 'running'. On a machine
 *    that already exists it only makes sure it runs (idempotent; a stopped one
 *    is started with the new spec).
 *  - stop(id): → 'stopped'; a stopped machine stays stopped; unknown id → not-found.
 *  - start(spec): stopped → 'running' (on a "new host": instance store is
 *    lost, type and network may have changed); running: no-op; unknown → not-found.
 *  - reboot(id): running → running (same host, disks and addresses);
 *    stopped → invalid-state; unknown → not-found.
 *  - terminate(id): → absent, whatever the state; unknown id: no-op.
 *  - describe(id): the state, or undefined when absent.
 *  - list(): ids of every machine the driver has (for crash recovery).
 *  - consoleOutput(id): the serial console text so far; unknown → not-found.
 *  - close(): releases driver resources; machines keep running where the
 *    runtime allows (a restarted server finds them again through list()).
 */
export interface Hypervisor {
  readonly name: string;
  launch(spec: InstanceSpec): Promise<void>;
  stop(id: string, opts?: StopOptions): Promise<void>;
  start(spec: InstanceSpec): Promise<void>;
  reboot(id: string): Promise<void>;
  terminate(id: string): Promise<void>;
  describe(id: string): Promise<RuntimeState | undefined>;
  list(): Promise<string[]>;
  consoleOutput(id: string): Promise<string>;
  close(): Promise<void>;
}

export type HypervisorOperation = 'launch' | 'stop' | 'start' | 'reboot' | 'terminate';
