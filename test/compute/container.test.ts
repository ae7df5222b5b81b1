/**
 * The container driver against this host: the shared conformance suite, then
 * what only real machines show — PID 1 running as a system container, limits
 * enforced from inside, a guest powering itself off, a driver restart adopting
 * what runs, and nothing left behind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync, copyFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
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
  for (const a of ['sh', 'sleep', 'cat', 'echo', 'mount', 'poweroff', 'reboot', 'head', 'tr', 'ls', 'hostname', 'ip', 'dd', 'umount', 'sync', 'mkdir', 'rm', 'test']) symlinkSync('busybox', join(template, 'bin', a));
  symlinkSync('../bin/busybox', join(template, 'sbin/init'));
  writeFileSync(
    join(template, 'etc/inittab'),
    ['::sysinit:/bin/sh -c "echo overcast-test: booted $(hostname)"', '::respawn:/bin/sleep 3600', '::shutdown:/bin/echo overcast-test: shutting down', ''].join('\n'),
  );
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
  rmSync(work, { recursive: true, force: true });
});

runHypervisorConformance('container', () => new ContainerHypervisor({ dir: join(work, 'conformance'), stopTimeoutMs: 5000 }), {
  timeoutMs: 60_000,
  spec,
  disk: (deviceName) => ({ deviceName, path: dataDevice(), root: false }),
  guestDisks: async (_hv, id) => guestBlockDevices(id),
  skip: skip
    ? Object.fromEntries(
        (['name', 'probe', 'launch', 'launch-idempotent', 'stop-start', 'force-hibernate', 'launch-stopped', 'start-changed-spec', 'reboot', 'terminate', 'unknown-ids', 'invalid-spec', 'list', 'guest-poweroff-event', 'attach-detach', 'attach-invalid', 'attach-stopped', 'attach-reboot'] as const).map((k) => [k, skip]),
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
    const usage = () => Number(readFileSync(`/sys/fs/cgroup/cpuacct/${CGROUP_PARENT}/${s.instanceId}/cpuacct.usage`, 'utf8'));
    const u0 = usage();
    const t0 = process.hrtime.bigint();
    // two loops for ~1.5 s each; on a host with two cores they would use two cores without the quota
    execFileSync('crun', ['exec', s.instanceId, '/bin/sh', '-c', 'for n in 1 2; do (end=$(( $(date +%s) + 2 )); while [ $(date +%s) -lt $end ]; do :; done) & done; wait'], { stdio: 'pipe' });
    const used = (usage() - u0) / Number(process.hrtime.bigint() - t0);
    assert.ok(used <= 1.15, `cores used: ${used.toFixed(2)} (quota 1)`);
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
    for (const h of ['memory', 'cpu', 'pids', 'freezer']) assert.equal(existsSync(`/sys/fs/cgroup/${h}/${CGROUP_PARENT}/${s.instanceId}`), false, `no ${h} cgroup left`);
    assert.throws(() => process.kill(pid, 0), 'PID 1 is gone');
    assert.doesNotMatch(crun(['list']), new RegExp(s.instanceId));
  });
});
