/**
 * The OCI runtime spec (config.json) of one instance: a system container with
 * its own PID, mount, UTS, IPC and cgroup namespaces, joined to the network
 * namespace the Fabric made for it, its root volume mounted as the root
 * filesystem, its other block devices as device nodes under the names the
 * guest expects (/dev/xvdb…), and the instance type enforced by cgroups:
 * vCPUs as a CPU quota (and a cpuset where the host has the cores), memory as
 * a hard limit (no swap), each device's I/O limits as blkio throttling. Pure: everything it needs is passed in.
 */
import type { DiskLimits } from '../../hypervisor.js';
import type { GuestManifest } from './guest.js';

export interface DeviceNode {
  /** the name inside the guest: /dev/xvdb */
  path: string;
  major: number;
  minor: number;
  readOnly: boolean;
  /** I/O limits of the device (blkio throttling); absent: unlimited */
  limits?: DiskLimits;
}

/** One blkio throttle rule of the OCI spec. */
export interface ThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface OciSpecInput {
  instanceId: string;
  hostname: string;
  /** host path of the mounted root filesystem */
  rootfs: string;
  /** network namespace path (/run/netns/…); undefined: a fresh, empty one */
  netnsPath?: string;
  vcpus: number;
  memoryMiB: number;
  /** cores this host has (cpuset only when the instance gets fewer than all) */
  hostCpus: number;
  /** the hard limit on open files the runtime itself has (the guest cannot be given more) */
  maxOpenFiles: number;
  devices: DeviceNode[];
  guest: GuestManifest;
  /** the cgroup path under each hierarchy's root */
  cgroupsPath: string;
  /** host path of the console FIFO, bound at /dev/console (undefined: none) */
  consolePath?: string;
  /** a file bound at the guest's /etc/resolv.conf */
  resolvConfPath?: string;
}

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>;
    rlimits: { type: string; hard: number; soft: number }[];
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: { destination: string; type: string; source: string; options?: string[] }[];
  linux: {
    namespaces: { type: string; path?: string }[];
    cgroupsPath: string;
    resources: {
      devices: { allow: boolean; type?: string; major?: number; minor?: number; access: string }[];
      memory: { limit: number; swap: number };
      cpu: { quota: number; period: number; cpus?: string };
      pids: { limit: number };
      blockIO?: {
        throttleReadIOPSDevice?: ThrottleDevice[];
        throttleWriteIOPSDevice?: ThrottleDevice[];
        throttleReadBpsDevice?: ThrottleDevice[];
        throttleWriteBpsDevice?: ThrottleDevice[];
      };
    };
    devices: { path: string; type: string; major: number; minor: number; fileMode: number; uid: number; gid: number }[];
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

/**
 * What a system container may do: a root that can mount, chown, bind ports,
 * reboot its own PID namespace, manage its network namespace. CAP_SYS_RESOURCE
 * is left out on purpose (the host's bounding set may lack it, and it would let
 * the guest lift its own limits), as are module loading, raw I/O and time.
 */
export const GUEST_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
] as const;

/** The CPU period the quota is counted in (100 ms, the kernel's default). */
export const CPU_PERIOD_US = 100_000;

/** A window of `count` cores of `hostCpus`, placed by the instance id so instances spread out. */
export function cpusetFor(instanceId: string, count: number, hostCpus: number): string | undefined {
  if (count >= hostCpus) return undefined;
  let h = 0;
  for (const c of instanceId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const first = h % hostCpus;
  const cpus: number[] = [];
  for (let i = 0; i < count; i++) cpus.push((first + i) % hostCpus);
  return cpus.sort((a, b) => a - b).join(',');
}

export function ociSpec(input: OciSpecInput): OciSpec {
  const caps = [...GUEST_CAPABILITIES];
  const systemd = input.guest.systemd;
  const env = [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'container=crun',
    ...Object.entries(input.guest.env ?? {}).map(([k, v]) => `${k}=${v}`),
  ];
  const mounts: OciSpec['mounts'] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    // systemd manages its own slices below the instance's cgroup (a cgroup namespace hides the host's)
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', systemd ? 'rw' : 'ro'] },
  ];
  if (systemd) {
    for (const d of ['/run', '/run/lock', '/tmp']) {
      mounts.push({ destination: d, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', d === '/tmp' ? 'mode=1777' : 'mode=755'] });
    }
  }
  if (input.consolePath) mounts.push({ destination: '/dev/console', type: 'bind', source: input.consolePath, options: ['bind', 'rw'] });
  // the VPC's DHCP options as the guest's resolver (over the image's file, as a DHCP client would write it)
  if (input.resolvConfPath) mounts.push({ destination: '/etc/resolv.conf', type: 'bind', source: input.resolvConfPath, options: ['bind', 'rw'] });
  const namespaces: OciSpec['linux']['namespaces'] = [
    { type: 'pid' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
    { type: 'cgroup' },
    input.netnsPath ? { type: 'network', path: input.netnsPath } : { type: 'network' },
  ];
  const cpus = cpusetFor(input.instanceId, input.vcpus, input.hostCpus);
  const blockIO = blockIOFor(input.devices);
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: input.guest.init,
      env,
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: input.maxOpenFiles, soft: Math.min(1024, input.maxOpenFiles) }],
      noNewPrivileges: false,
    },
    root: { path: input.rootfs, readonly: false },
    hostname: input.hostname,
    mounts,
    linux: {
      namespaces,
      cgroupsPath: input.cgroupsPath,
      resources: {
        devices: [
          { allow: false, access: 'rwm' },
          // the usual character devices of a Linux machine
          ...[
            [1, 3], // null
            [1, 5], // zero
            [1, 7], // full
            [1, 8], // random
            [1, 9], // urandom
            [5, 0], // tty
            [5, 1], // console
            [5, 2], // ptmx
          ].map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
          { allow: true, type: 'c', major: 136, access: 'rwm' }, // pts
          ...input.devices.map((d) => ({ allow: true, type: 'b', major: d.major, minor: d.minor, access: d.readOnly ? 'r' : 'rwm' })),
        ],
        memory: { limit: input.memoryMiB * 1024 * 1024, swap: input.memoryMiB * 1024 * 1024 },
        cpu: { quota: input.vcpus * CPU_PERIOD_US, period: CPU_PERIOD_US, ...(cpus ? { cpus } : {}) },
        pids: { limit: Math.max(1024, input.memoryMiB * 4) },
        ...(blockIO ? { blockIO } : {}),
      },
      devices: input.devices.map((d) => ({ path: d.path, type: 'b', major: d.major, minor: d.minor, fileMode: 0o660, uid: 0, gid: 6 })),
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys/kernel', '/proc/sys/vm', '/proc/sysrq-trigger'],
    },
  };
}

/** The devices' limits as OCI blkio throttle rules (read and write each get the limit); undefined when none has one. */
export function blockIOFor(devices: DeviceNode[]): OciSpec['linux']['resources']['blockIO'] {
  const rules = (pick: (l: DiskLimits) => number | undefined): ThrottleDevice[] =>
    devices.flatMap((d) => {
      const rate = d.limits ? pick(d.limits) : undefined;
      return rate !== undefined && rate > 0 ? [{ major: d.major, minor: d.minor, rate: Math.floor(rate) }] : [];
    });
  const iops = rules((l) => l.iops);
  const writeIops = rules((l) => l.writeIops ?? l.iops);
  const bps = rules((l) => l.bytesPerSecond);
  if (iops.length === 0 && writeIops.length === 0 && bps.length === 0) return undefined;
  return {
    ...(iops.length > 0 ? { throttleReadIOPSDevice: iops } : {}),
    ...(writeIops.length > 0 ? { throttleWriteIOPSDevice: writeIops } : {}),
    ...(bps.length > 0 ? { throttleReadBpsDevice: bps, throttleWriteBpsDevice: bps } : {}),
  };
}
