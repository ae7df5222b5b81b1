/**
 * The container driver against this host: the shared conformance suite, then
 * what only real machines show — PID 1 running as a system container, limits
 * enforced from inside, a guest powering itself off, a driver restart adopting
 * what runs, and nothing left behind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, truncateSync, writeFileSync, copyFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContainerHypervisor } from '../../src/compute/drivers/container/container.js';
import type { InstanceSpec, MachineEvent } from '../../src/compute/hypervisor.js';
import { CGROUP_PARENT } from '../../src/host/cgroups.js';
import { manifestText } from '../../src/storage/images/manifest.js';
import { runHypervisorConformance, testSpec } from './hypervisor.conformance.js';

const probe = await new ContainerHypervisor({ dir: '/nonexistent' }).probe();
const haveBusybox = existsSync('/bin/busybox');
const skip = !probe.ok ? `container driver cannot run here: ${probe.reason}` : !haveBusybox ? 'busybox-static is not installed' : undefined;

const work = mkdtempSync(join(tmpdir(), 'overcast-container-'));
const template = join(work, 'template');
const loops: string[] = [];

/** A busybox root: init from an inittab, a respawned sleeper as the machine's work. */
function makeTemplate(): void {
  for (const d of ['bin', 'sbin', 'etc/overcast', 'proc', 'sys', 'dev', 'tmp', 'run', 'root', 'mnt']) mkdirSync(join(template, d), { recursive: true });
  copyFileSync('/bin/busybox', join(template, 'bin/busybox'));
  chmodSync(join(template, 'bin/busybox'), 0o755);
  for (const a of ['sh', 'sleep', 'cat', 'echo', 'mount', 'poweroff', 'reboot', 'head', 'tr', 'ls', 'hostname', 'ip', 'dd', 'umount', 'sync', 'mkdir', 'rm', 'test', 'mknod', 'ln', 'stat']) symlinkSync('busybox', join(template, 'bin', a));
  symlinkSync('../bin/busybox', join(template, 'sbin/init'));
  writeFileSync(
    join(template, 'etc/inittab'),
    ['::sysinit:/bin/sh -c "echo overcast-test: booted $(hostname)"', '::respawn:/bin/sleep 3600', '::shutdown:/bin/echo overcast-test: shutting down', ''].join('\n'),
  );
  // a plain file, as the default images have: the driver binds the VPC's resolver over it
  writeFileSync(join(template, 'etc/resolv.conf'), 'nameserver 127.0.0.1\n');
  writeFileSync(join(template, 'etc/overcast/image.json'), manifestText({ name: 'container-test', init: ['/sbin/init'], stopSignal: 'SIGUSR2', rebootSignal: 'SIGTERM', env: {}, systemd: false, defaultUser: 'root' }));
}

/** A root device of its own for each machine: an ext4 image of the template on a loop device. */
function rootDevice(id: string): string {
  const file = join(work, `${id}.ext4`);
  execFileSync('mkfs.ext4', ['-q', '-F', '-d', template, file, '64M']);
  const dev = execFileSync('losetup', ['--find', '--show', file], { encoding: 'utf8' }).trim();
  loops.push(dev);
  return dev;
}

/** A data disk: a loop device over a sparse file of `mib` MiB, formatted ext4 when `ext4`. */
function dataDevice(mib = 16, ext4 = false): string {
  const file = join(work, `data-${randomBytes(4).toString('hex')}.img`);
  writeFileSync(file, '');
  truncateSync(file, mib * 1024 * 1024);
  if (ext4) execFileSync('mkfs.ext4', ['-q', '-F', file]);
  const dev = execFileSync('losetup', ['--find', '--show', file], { encoding: 'utf8' }).trim();
  loops.push(dev);
  return dev;
}

/** The block device nodes the guest has under /dev (one level deep), as it sees them. */
function guestBlockDevices(id: string): string[] {
  const out = crun(['exec', id, '/bin/sh', '-c', 'for f in /dev/* /dev/*/*; do [ -b "$f" ] && echo "$f"; done; true']);
  return out.split('\n').filter(Boolean);
}

/** MAJ:MIN of a host block device. */
function majMin(dev: string): string {
  return execFileSync('stat', ['-L', '-c', '%t:%T', dev], { encoding: 'utf8' })
    .trim()
    .split(':')
    .map((h) => String(parseInt(h, 16)))
    .join(':');
}

/** A counter of the instance's blkio cgroup for the host device `dev` (`io_serviced`: read operations, `io_service_bytes`: bytes read). */
function blkioRead(id: string, dev: string, counter: 'io_serviced' | 'io_service_bytes'): number {
  const text = readFileSync(`/sys/fs/cgroup/blkio/${CGROUP_PARENT}/${id}/blkio.throttle.${counter}`, 'utf8');
  const m = new RegExp(`^${majMin(dev)} Read (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

interface ReadWindow {
  /** per disk, what the instance's cgroup counted over the window */
  ops: number[];
  bytes: number[];
  /** the window, seconds, between the two reads of the counters */
  secs: number;
}

/**
 * Direct reads of `bs` blocks, over and over, from each disk at once inside the guest, for a window the
 * guest's `sleep 2` bounds; what the instance's blkio cgroup counted per disk (operations and bytes) over it.
 * A rate is a count over this window: it is compared with the limit, never a time with a constant.
 */
function readWindow(id: string, disks: { guest: string; host: string }[], bs: string): ReadWindow {
  const loops = disks.map((d) => `(while :; do dd if=${d.guest} of=/dev/null bs=${bs} count=100000 iflag=direct 2>/dev/null; done) & p="$p $!"`);
  const script = `p=""; ${loops.join('; ')}; sleep 2; kill $p; /bin/busybox killall dd; wait; true`;
  const before = disks.map((d) => [blkioRead(id, d.host, 'io_serviced'), blkioRead(id, d.host, 'io_service_bytes')] as const);
  const t0 = process.hrtime.bigint();
  crun(['exec', id, '/bin/sh', '-c', script]);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const ops = disks.map((d, i) => blkioRead(id, d.host, 'io_serviced') - before[i]![0]);
  const bytes = disks.map((d, i) => blkioRead(id, d.host, 'io_service_bytes') - before[i]![1]);
  return { ops, bytes, secs };
}

/** Runs `fn` with the loop device mounted on the host, read-only, at a temporary directory. */
function onHost<T>(dev: string, fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(work, 'host-mnt-'));
  execFileSync('mount', ['-o', 'ro', dev, dir]);
  try {
    return fn(dir);
  } finally {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true });
  }
}

function spec(id: string): InstanceSpec {
  return { ...testSpec(id), network: [], vcpus: 1, memoryMiB: 64, blockDevices: [{ deviceName: '/dev/xvda', path: rootDevice(id), root: true }] };
}

/** `crun exec` of a command that ends the container: the container may die before the command exits, which crun reports as a failure; what happened is asserted from the events. */
function crunEnding(args: string[]): void {
  try {
    crun(args);
  } catch {
    // see above
  }
}

function crun(args: string[]): string {
  return execFileSync('crun', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((t) => t.startsWith(dir));
}

if (!skip) makeTemplate();

after(() => {
  for (const dev of loops) {
    try {
      execFileSync('losetup', ['-d', dev], { stdio: 'ignore' });
    } catch {
      // already detached
    }
  }
  assert.deepEqual(mountsUnder(work), [], 'nothing of the tests is mounted');
  assert.doesNotMatch(execFileSync('losetup', ['-l', '-n', '-O', 'BACK-FILE'], { encoding: 'utf8' }), new RegExp(work), 'no loop device of the tests is left');
  rmSync(work, { recursive: true, force: true });
});

runHypervisorConformance('container', () => new ContainerHypervisor({ dir: join(work, 'conformance'), stopTimeoutMs: 5000 }), {
  timeoutMs: 60_000,
  spec,
  disk: (deviceName) => ({ deviceName, path: dataDevice(), root: false }),
  guestDisks: async (_hv, id) => guestBlockDevices(id),
  guestResolvConf: async (_hv, id) => crun(['exec', id, '/bin/cat', '/etc/resolv.conf']),
  skip: skip
    ? Object.fromEntries(
        (['name', 'probe', 'launch', 'launch-idempotent', 'stop-start', 'force-hibernate', 'launch-stopped', 'start-changed-spec', 'reboot', 'terminate', 'unknown-ids', 'invalid-spec', 'list', 'guest-poweroff-event', 'attach-detach', 'attach-invalid', 'attach-stopped', 'attach-reboot', 'resolv-conf'] as const).map((k) => [k, skip]),
      )
    : {
        'guest-poweroff-event':
          'user data reaches the guest through the metadata service, which the driver alone does not run; the test below powers the guest off from inside with crun exec',
      },
});

describe('container driver on this host', { skip, timeout: 120_000 }, () => {
  const dir = join(work, 'specifics');
  let hv: ContainerHypervisor;
  before(() => {
    hv = new ContainerHypervisor({ dir, stopTimeoutMs: 5000, pollMs: 50 });
  });
  after(async () => {
    for (const id of await hv.list()) await hv.terminate(id);
    await hv.close();
  });

  it('runs the image init as PID 1 of its own PID namespace, with the hostname, and logs its console', async () => {
    const s = { ...spec('i-0c0000000000000a1'), hostname: 'ip-172-31-0-99.ec2.internal' };
    await hv.launch(s);
    assert.equal(crun(['exec', s.instanceId, '/bin/cat', '/proc/1/comm']).trim(), 'init');
    assert.equal(crun(['exec', s.instanceId, '/bin/hostname']).trim(), 'ip-172-31-0-99.ec2.internal');
    const ps = crun(['exec', s.instanceId, '/bin/ls', '/proc']).split(/\s+/).filter((e) => /^\d+$/.test(e));
    assert.ok(ps.length < 10, `the guest sees only its own processes (${ps.length})`);
    for (let i = 0; i < 100 && !(await hv.consoleOutput(s.instanceId)).includes('booted'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(await hv.consoleOutput(s.instanceId), /overcast-test: booted ip-172-31-0-99/);
    await hv.terminate(s.instanceId);
  });

  it('enforces the memory limit: a process that allocates past it is killed, the machine stays', async () => {
    const s = { ...spec('i-0c0000000000000a2'), memoryMiB: 48 };
    await hv.launch(s);
    const limit = Number(crun(['exec', s.instanceId, '/bin/cat', '/sys/fs/cgroup/memory/memory.limit_in_bytes']).trim());
    assert.equal(limit, 48 * 1024 * 1024, 'the guest reads its own limit');
    // a shell variable of ~100 MB: the kernel's OOM killer ends it inside the cgroup
    assert.throws(() => execFileSync('crun', ['exec', s.instanceId, '/bin/sh', '-c', 'x=$(head -c 100000000 /dev/zero | tr "\\0" a); echo ${#x}'], { stdio: 'pipe' }));
    const oom = readFileSync(`/sys/fs/cgroup/memory/${CGROUP_PARENT}/${s.instanceId}/memory.oom_control`, 'utf8');
    assert.match(oom, /oom_kill [1-9]/, 'the kernel killed in the instance cgroup');
    assert.equal(await hv.describe(s.instanceId), 'running');
    await hv.terminate(s.instanceId);
  });

  it('enforces vCPUs as a CPU quota: two busy loops in a 1-vCPU machine get one core', async () => {
    const s = { ...spec('i-0c0000000000000a3'), vcpus: 1 };
    await hv.launch(s);
    assert.equal(crun(['exec', s.instanceId, '/bin/cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us']).trim(), '100000');
    const cg = (h: string, f: string) => readFileSync(`/sys/fs/cgroup/${h}/${CGROUP_PARENT}/${s.instanceId}/${f}`, 'utf8');
    const usageNs = () => Number(cg('cpuacct', 'cpuacct.usage'));
    const stat = (field: string) => Number(new RegExp(`^${field} (\\d+)$`, 'm').exec(cg('cpu', 'cpu.stat'))?.[1]);
    const quotaUs = Number(cg('cpu', 'cpu.cfs_quota_us'));
    const [u0, p0, t0] = [usageNs(), stat('nr_periods'), stat('nr_throttled')];
    // two loops for ~2 s each (the guest's clock bounds the work); on a host with two cores they would use two cores without the quota
    execFileSync('crun', ['exec', s.instanceId, '/bin/sh', '-c', 'for n in 1 2; do (end=$(( $(date +%s) + 2 )); while [ $(date +%s) -lt $end ]; do :; done) & done; wait'], { stdio: 'pipe' });
    // the cgroup's own counters: CPU time used against the quota of the enforcement periods it ran in (a ratio,
    // whatever the host's load; how often it was throttled depends on that load, so it is only reported)
    const periods = stat('nr_periods') - p0;
    const throttled = stat('nr_throttled') - t0;
    const share = (usageNs() - u0) / 1000 / (periods * quotaUs);
    assert.ok(periods > 0, `the quota was in force: ${periods} enforcement periods`);
    assert.ok(share <= 1.15, `CPU time ${share.toFixed(2)}x the quota of the ${periods} periods (throttled in ${throttled})`);
    console.log(`# CPU quota: ${periods} periods, CPU time ${share.toFixed(2)}x the quota, throttled in ${throttled}`);
    await hv.terminate(s.instanceId);
  });

  it('a guest that powers itself off is reported as a guest stop; one that reboots itself comes back', async () => {
    const s = spec('i-0c0000000000000a4');
    await hv.launch(s);
    const events: MachineEvent[] = [];
    const off = hv.events((e) => {
      if (e.instanceId === s.instanceId) events.push(e);
    });
    const pid0 = readFileSync(join(dir, s.instanceId, 'container.pid'), 'utf8');
    crunEnding(['exec', s.instanceId, '/bin/reboot']);
    for (let i = 0; i < 200 && !events.some((e) => e.state === 'running'); i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(
      events.map((e) => [e.state, e.cause]),
      [['running', 'guest']],
    );
    assert.notEqual(readFileSync(join(dir, s.instanceId, 'container.pid'), 'utf8'), pid0, 'a new PID 1');
    assert.equal(await hv.describe(s.instanceId), 'running');
    // the new PID 1 takes poweroff once its init is up (its boot line printed a second time)
    const boots = async () => (await hv.consoleOutput(s.instanceId)).split('overcast-test: booted').length - 1;
    for (let i = 0; i < 250 && (await boots()) < 2; i++) await new Promise((r) => setTimeout(r, 20));
    crunEnding(['exec', s.instanceId, '/bin/poweroff']);
    for (let i = 0; i < 200 && !events.some((e) => e.state === 'stopped'); i++) await new Promise((r) => setTimeout(r, 25));
    off();
    assert.deepEqual(events.at(-1) && [events.at(-1)!.state, events.at(-1)!.cause], ['stopped', 'guest']);
    assert.equal(await hv.describe(s.instanceId), 'stopped');
    assert.deepEqual(mountsUnder(join(dir, s.instanceId)), [], 'the root is unmounted once the guest is off');
    await hv.terminate(s.instanceId);
  });

  it('attachDisk hot-adds a volume a running guest mounts and writes to; detachDisk takes it away (denied in the cgroup), the data stays on the device', async () => {
    const s = spec('i-0c0000000000000b1');
    await hv.launch(s);
    const id = s.instanceId;
    const vol = dataDevice(32, true); // formatted on the host: the tiny guest has no mkfs.ext4
    const [maj, min] = majMin(vol).split(':');
    // a cgroup below the instance's (as a systemd guest makes for its services) gets the device too
    const child = `/sys/fs/cgroup/devices/${CGROUP_PARENT}/${id}/child`;
    mkdirSync(child);
    await hv.attachDisk(id, { deviceName: '/dev/xvdf', path: vol, root: false });
    assert.match(readFileSync(join(child, 'devices.list'), 'utf8'), new RegExp(`^b ${maj}:${min} rwm$`, 'm'), 'allowed in the child cgroup');
    assert.ok(guestBlockDevices(id).includes('/dev/xvdf'));
    assert.equal(crun(['exec', id, '/bin/stat', '-c', '%t:%T %u:%g %a', '/dev/xvdf']).trim(), `${Number(maj).toString(16)}:${Number(min).toString(16)} 0:6 660`, 'the volume, root:disk 0660');
    assert.match(readFileSync(`/sys/fs/cgroup/devices/${CGROUP_PARENT}/${id}/devices.list`, 'utf8'), new RegExp(`^b ${maj}:${min} rwm$`, 'm'));
    crun(['exec', id, '/bin/mount', '-t', 'ext4', '/dev/xvdf', '/mnt']);
    crun(['exec', id, '/bin/sh', '-c', 'echo written-inside > /mnt/hello && sync']);
    assert.equal(crun(['exec', id, '/bin/cat', '/mnt/hello']).trim(), 'written-inside');
    crun(['exec', id, '/bin/umount', '/mnt']);
    await hv.attachDisk(id, { deviceName: '/dev/xvdf', path: vol, root: false }); // the same again: no-op
    await hv.detachDisk(id, '/dev/xvdf');
    assert.ok(!guestBlockDevices(id).includes('/dev/xvdf'), 'the node is gone from the guest');
    assert.doesNotMatch(readFileSync(`/sys/fs/cgroup/devices/${CGROUP_PARENT}/${id}/devices.list`, 'utf8'), new RegExp(`^b ${maj}:${min} `, 'm'));
    assert.doesNotMatch(readFileSync(join(child, 'devices.list'), 'utf8'), new RegExp(`^b ${maj}:${min} `, 'm'), 'denied in the child by propagation');
    rmdirSync(child);
    // a guest that makes the node again itself (it has CAP_MKNOD) cannot open it: the cgroup denies it
    crun(['exec', id, '/bin/mknod', '/tmp/again', 'b', maj!, min!]);
    assert.throws(() => crun(['exec', id, '/bin/dd', 'if=/tmp/again', 'of=/dev/null', 'count=1']), /Operation not permitted/);
    assert.equal(onHost(vol, (d) => readFileSync(join(d, 'hello'), 'utf8')).trim(), 'written-inside', 'what the guest wrote is on the device');
    assert.equal(JSON.parse(readFileSync(join(dir, id, 'disks.json'), 'utf8')).length, 1, 'only the root is remembered');
    await hv.terminate(id);
  });

  it('makes the parent directories of a nested device name, and never follows a symlink the guest put on the way', async () => {
    const s = spec('i-0c0000000000000b2');
    await hv.launch(s);
    const id = s.instanceId;
    await hv.attachDisk(id, { deviceName: '/dev/disk/data1', path: dataDevice(), root: false });
    assert.ok(guestBlockDevices(id).includes('/dev/disk/data1'));
    // the guest points /dev/evil at a host path: the driver must not make a node there
    const target = mkdtempSync(join(work, 'host-target-'));
    crun(['exec', id, '/bin/ln', '-s', target, '/dev/evil']);
    await assert.rejects(hv.attachDisk(id, { deviceName: '/dev/evil/xvdg', path: dataDevice(), root: false }), (e: unknown) => (e as { code?: string }).code === 'failed');
    assert.deepEqual(readdirSync(target), [], 'nothing was made on the host');
    await assert.rejects(hv.attachDisk(id, { deviceName: '/dev/../etc/x', path: dataDevice(), root: false }), (e: unknown) => (e as { code?: string }).code === 'invalid-spec');
    await hv.detachDisk(id, '/dev/evil/xvdg'); // never attached: no-op
    await hv.detachDisk(id, '/dev/disk/data1');
    assert.ok(!guestBlockDevices(id).includes('/dev/disk/data1'));
    await hv.terminate(id);
  });

  it('detachDisk takes the device away even when the host device is gone already (its numbers may be reused)', async () => {
    const atLaunch = dataDevice();
    const s = spec('i-0c0000000000000b6');
    await hv.launch({ ...s, blockDevices: [...s.blockDevices, { deviceName: '/dev/xvdb', path: atLaunch, root: false }] });
    const id = s.instanceId;
    const hot = dataDevice();
    await hv.attachDisk(id, { deviceName: '/dev/xvdf', path: hot, root: false });
    const nums = [majMin(atLaunch), majMin(hot)];
    // the BlockStore let go of both first (the loop devices are free for other volumes now)
    for (const dev of [atLaunch, hot]) execFileSync('losetup', ['-d', dev]);
    await hv.detachDisk(id, '/dev/xvdb');
    await hv.detachDisk(id, '/dev/xvdf');
    const seen = guestBlockDevices(id);
    assert.ok(!seen.includes('/dev/xvdb') && !seen.includes('/dev/xvdf'), `gone from the guest: ${seen.join(' ')}`);
    const list = readFileSync(`/sys/fs/cgroup/devices/${CGROUP_PARENT}/${id}/devices.list`, 'utf8');
    for (const n of nums) assert.doesNotMatch(list, new RegExp(`^b ${n} `, 'm'), `${n} denied`);
    await hv.terminate(id);
  });

  it('a hot-attached volume stays over reboot(), a reboot from inside and a restarted driver; its data with it', async () => {
    const s = spec('i-0c0000000000000b3');
    await hv.launch(s);
    const id = s.instanceId;
    const vol = dataDevice(32, true);
    await hv.attachDisk(id, { deviceName: '/dev/sdf', path: vol, root: false });
    crun(['exec', id, '/bin/mount', '/dev/sdf', '/mnt']);
    crun(['exec', id, '/bin/sh', '-c', 'echo before-reboot > /mnt/f && sync && umount /mnt']);
    await hv.reboot(id);
    assert.ok(guestBlockDevices(id).includes('/dev/sdf'), 'there after reboot()');
    // a restarted server, then a reboot from inside
    await hv.close();
    hv = new ContainerHypervisor({ dir, stopTimeoutMs: 5000, pollMs: 50 });
    assert.equal(await hv.describe(id), 'running');
    const boots = async () => (await hv.consoleOutput(id)).split('overcast-test: booted').length - 1;
    for (let i = 0; i < 250 && (await boots()) < 2; i++) await new Promise((r) => setTimeout(r, 20));
    const pidNow = () => (existsSync(join(dir, id, 'container.pid')) ? readFileSync(join(dir, id, 'container.pid'), 'utf8') : '');
    const pid0 = pidNow();
    const events: MachineEvent[] = [];
    const off = hv.events((e) => {
      if (e.instanceId === id) events.push(e);
    });
    crunEnding(['exec', id, '/bin/reboot']);
    for (let i = 0; i < 250 && !events.some((e) => e.state === 'running'); i++) await new Promise((r) => setTimeout(r, 20));
    off();
    assert.deepEqual(events.map((e) => [e.state, e.cause]), [['running', 'guest']], 'rebooted from inside');
    assert.notEqual(pidNow(), pid0, 'a new PID 1');
    for (let i = 0; i < 250 && !guestBlockDevices(id).includes('/dev/sdf'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(guestBlockDevices(id).includes('/dev/sdf'), 'there after a reboot from inside');
    crun(['exec', id, '/bin/mount', '/dev/sdf', '/mnt']);
    assert.equal(crun(['exec', id, '/bin/cat', '/mnt/f']).trim(), 'before-reboot');
    crun(['exec', id, '/bin/umount', '/mnt']);
    // a detach is remembered as well
    await hv.detachDisk(id, '/dev/sdf');
    await hv.reboot(id);
    assert.ok(!guestBlockDevices(id).includes('/dev/sdf'), 'a detached volume does not come back');
    // a stop and start: the start's spec alone says what it has
    await hv.attachDisk(id, { deviceName: '/dev/sdf', path: vol, root: false });
    await hv.stop(id);
    await hv.start(s);
    assert.ok(!guestBlockDevices(id).includes('/dev/sdf'), "a start follows its spec, not what was hot-attached");
    await hv.stop(id);
    await hv.start({ ...s, blockDevices: [...s.blockDevices, { deviceName: '/dev/sdf', path: vol, root: false }] });
    assert.ok(guestBlockDevices(id).includes('/dev/sdf'), "a disk of the start's spec is there");
    await hv.terminate(id);
  });

  it("a hibernated machine started again takes the disks of the start's spec", async () => {
    const s = spec('i-0c0000000000000b5');
    await hv.launch(s);
    const id = s.instanceId;
    const a = { deviceName: '/dev/xvdf', path: dataDevice(), root: false };
    const b = { deviceName: '/dev/xvdg', path: dataDevice(), root: false, limits: { iops: 70 } };
    await hv.attachDisk(id, a);
    await hv.stop(id, { hibernate: true });
    assert.equal(await hv.describe(id), 'stopped');
    await hv.attachDisk(id, b); // stopped: kept for nothing
    const pid = readFileSync(join(dir, id, 'container.pid'), 'utf8');
    await hv.start({ ...s, blockDevices: [...s.blockDevices, b] });
    assert.equal(readFileSync(join(dir, id, 'container.pid'), 'utf8'), pid, 'resumed, not restarted');
    const seen = guestBlockDevices(id);
    assert.ok(seen.includes('/dev/xvdg') && !seen.includes('/dev/xvdf'), `the start's disks: ${seen.join(' ')}`);
    assert.match(readFileSync(`/sys/fs/cgroup/blkio/${CGROUP_PARENT}/${id}/blkio.throttle.read_iops_device`, 'utf8'), new RegExp(`^${majMin(b.path)} 70$`, 'm'));
    await hv.reboot(id);
    assert.deepEqual(guestBlockDevices(id).filter((d) => d !== '/dev/xvda'), ['/dev/xvdg'], 'and keeps them over a reboot');
    await hv.terminate(id);
  });

  it("caps a volume's I/O with its limits, from launch and from a hot attach, and lifts them on detach", async () => {
    const free = dataDevice(16);
    const capped = dataDevice(16);
    const s = spec('i-0c0000000000000b4');
    const launched = { ...s, blockDevices: [...s.blockDevices, { deviceName: '/dev/xvdb', path: free, root: false }, { deviceName: '/dev/xvdc', path: capped, root: false, limits: { iops: 50 } }] };
    await hv.launch(launched);
    const id = s.instanceId;
    const blkio = (f: string) => readFileSync(`/sys/fs/cgroup/blkio/${CGROUP_PARENT}/${id}/blkio.throttle.${f}`, 'utf8');
    assert.match(blkio('read_iops_device'), new RegExp(`^${majMin(capped)} 50$`, 'm'), 'launch set the read IOPS cap');
    assert.match(blkio('write_iops_device'), new RegExp(`^${majMin(capped)} 50$`, 'm'));
    assert.doesNotMatch(blkio('read_iops_device'), new RegExp(`^${majMin(free)} `, 'm'));
    // direct 4 KiB reads from both disks at once: the capped one is counted at no more than 50 a second, the free one at many times that
    const small = readWindow(id, [{ guest: '/dev/xvdb', host: free }, { guest: '/dev/xvdc', host: capped }], '4k');
    const [freeOps, cappedOps] = small.ops as [number, number];
    assert.ok(cappedOps > 0 && cappedOps <= 50 * small.secs * 1.25 + 5, `${cappedOps} reads at 50 IOPS in a ${small.secs.toFixed(2)} s window`);
    assert.ok(freeOps > 4 * cappedOps, `in the same window: ${freeOps} reads unlimited, ${cappedOps} capped`);
    // a hot attach with a throughput cap: 64 KiB reads at 1 MiB/s
    const hot = dataDevice(16);
    await hv.attachDisk(id, { deviceName: '/dev/xvdd', path: hot, root: false, limits: { bytesPerSecond: 1024 * 1024 } });
    assert.match(blkio('read_bps_device'), new RegExp(`^${majMin(hot)} 1048576$`, 'm'));
    const big = readWindow(id, [{ guest: '/dev/xvdb', host: free }, { guest: '/dev/xvdd', host: hot }], '64k');
    const [freeBytes, hotBytes] = big.bytes as [number, number];
    assert.ok(hotBytes > 0 && hotBytes <= 1024 * 1024 * big.secs * 1.25 + 65536, `${hotBytes} bytes at 1 MiB/s in a ${big.secs.toFixed(2)} s window`);
    assert.ok(freeBytes > 4 * hotBytes, `in the same window: ${freeBytes} bytes unlimited, ${hotBytes} capped`);
    // the caps survive a reboot (disks.json, then the OCI spec)
    await hv.reboot(id);
    assert.match(blkio('read_bps_device'), new RegExp(`^${majMin(hot)} 1048576$`, 'm'), 'the hot-attached cap is back after a reboot');
    assert.match(blkio('read_iops_device'), new RegExp(`^${majMin(capped)} 50$`, 'm'));
    // a detach lifts the cap with the device
    await hv.detachDisk(id, '/dev/xvdd');
    assert.doesNotMatch(blkio('read_bps_device'), new RegExp(`^${majMin(hot)} `, 'm'));
    // new limits for a disk of the running machine (a ModifyVolume) at once, kept over a reboot
    await hv.setDiskLimits(id, '/dev/xvdc', { iops: 500, writeIops: 600 });
    assert.match(blkio('read_iops_device'), new RegExp(`^${majMin(capped)} 500$`, 'm'));
    assert.match(blkio('write_iops_device'), new RegExp(`^${majMin(capped)} 600$`, 'm'));
    await hv.reboot(id);
    assert.match(blkio('read_iops_device'), new RegExp(`^${majMin(capped)} 500$`, 'm'), 'the new cap is back after a reboot');
    console.log(`# I/O caps: 4 KiB reads in ${small.secs.toFixed(2)} s: ${freeOps} unlimited, ${cappedOps} at 50 IOPS; 64 KiB reads in ${big.secs.toFixed(2)} s: ${freeBytes} B unlimited, ${hotBytes} B at 1 MiB/s`);
    await hv.terminate(id);
    for (const h of ['devices', 'blkio']) assert.equal(existsSync(`/sys/fs/cgroup/${h}/${CGROUP_PARENT}/${id}`), false, `no ${h} cgroup left`);
  });

  it('gives back the page cache of an idle machine, not of a busy one, and the guest keeps its files', async () => {
    const trimming = new ContainerHypervisor({ dir: join(work, 'trim'), stopTimeoutMs: 5000, pollMs: 50, idleTrim: { intervalMs: 200 } });
    const s = spec('i-0c0000000000000b1');
    const stat = (field: string) => Number(new RegExp(`^${field} (\\d+)$`, 'm').exec(readFileSync(`/sys/fs/cgroup/memory/${CGROUP_PARENT}/${s.instanceId}/memory.stat`, 'utf8'))?.[1]);
    try {
      await trimming.launch(s);
      // busy: 20 MiB written and read again in a loop, its pages charged to the machine
      crun(['exec', '--detach', s.instanceId, '/bin/sh', '-c', 'dd if=/dev/zero of=/root/big bs=1M count=20 2>/dev/null; sync; end=$(( $(busybox date +%s) + 2 )); while [ $(busybox date +%s) -lt $end ]; do cat /root/big > /dev/null; done; echo > /root/done']);
      let busyMin = Infinity;
      for (let i = 0; i < 100 && !existsSync(join(work, 'trim', s.instanceId, 'rootfs', 'root', 'done')); i++) {
        await new Promise((r) => setTimeout(r, 50));
        if (i > 10) busyMin = Math.min(busyMin, stat('total_cache'));
      }
      assert.ok(busyMin >= 16 * 1024 * 1024, `while busy the cache stays (${(busyMin / 1024 / 1024).toFixed(1)} MiB at least)`);
      // idle now: within a few intervals the cache is given back
      let cache = stat('total_cache');
      for (let i = 0; i < 40 && cache >= 8 * 1024 * 1024; i++) {
        await new Promise((r) => setTimeout(r, 100));
        cache = stat('total_cache');
      }
      assert.ok(cache < 8 * 1024 * 1024, `idle, the cache went from 20+ MiB to ${(cache / 1024 / 1024).toFixed(1)} MiB`);
      const zeros = createHash('md5').update(Buffer.alloc(20 * 1024 * 1024)).digest('hex');
      assert.equal(crun(['exec', s.instanceId, '/bin/busybox', 'md5sum', '/root/big']).split(' ')[0], zeros, 'the file reads back whole');
      assert.equal(await trimming.describe(s.instanceId), 'running');
    } finally {
      await trimming.terminate(s.instanceId);
      await trimming.close();
    }
  });

  it('a new driver (a restarted server) finds running machines and can stop them; terminate leaves nothing', async () => {
    const s = spec('i-0c0000000000000a5');
    await hv.launch(s);
    // a stop before the guest's init has its signal handlers would wait for the timeout and kill it
    for (let i = 0; i < 250 && !(await hv.consoleOutput(s.instanceId)).includes('booted'); i++) await new Promise((r) => setTimeout(r, 20));
    const pid = Number(readFileSync(join(dir, s.instanceId, 'container.pid'), 'utf8'));
    await hv.close();
    hv = new ContainerHypervisor({ dir, stopTimeoutMs: 5000, pollMs: 50 });
    assert.ok((await hv.list()).includes(s.instanceId));
    assert.equal(await hv.describe(s.instanceId), 'running');
    assert.equal(Number(readFileSync(join(dir, s.instanceId, 'container.pid'), 'utf8')), pid, 'the same machine, not a new one');
    await hv.stop(s.instanceId);
    assert.equal(await hv.describe(s.instanceId), 'stopped');
    assert.match(await hv.consoleOutput(s.instanceId), /overcast-test: shutting down/, 'a clean stop ran the guest shutdown');
    await hv.terminate(s.instanceId);
    assert.equal(await hv.describe(s.instanceId), undefined);
    assert.equal(existsSync(join(dir, s.instanceId)), false, 'its directory is gone');
    assert.deepEqual(mountsUnder(join(dir, s.instanceId)), []);
    for (const h of ['memory', 'cpu', 'pids', 'freezer', 'devices', 'blkio']) assert.equal(existsSync(`/sys/fs/cgroup/${h}/${CGROUP_PARENT}/${s.instanceId}`), false, `no ${h} cgroup left`);
    assert.throws(() => process.kill(pid, 0), 'PID 1 is gone');
    assert.doesNotMatch(crun(['list']), new RegExp(s.instanceId));
  });
});
