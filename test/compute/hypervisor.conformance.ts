/**
 * The one suite every Hypervisor driver must pass, run by
 * test/compute/<driver>.test.ts as runHypervisorConformance(name, factory, { skip }).
 * It checks the interface contract only: states, idempotent repeats, errors
 * for unknown ids and bad specs, list(), probe() and the event stream (a
 * machine whose guest powers itself off is reported without being asked).
 * Driver-specific behaviour (real processes, limits, networking) belongs in
 * the driver's own tests. A driver that cannot do something the suite checks
 * names the case in `skip` with the reason, so the gap is visible in the
 * test output instead of silently missing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { HypervisorError, type DiskSpec, type Hypervisor, type InstanceSpec, type MachineEvent } from '../../src/compute/hypervisor.js';

export type HypervisorCase =
  | 'name'
  | 'probe'
  | 'launch'
  | 'launch-idempotent'
  | 'stop-start'
  | 'force-hibernate'
  | 'launch-stopped'
  | 'start-changed-spec'
  | 'reboot'
  | 'terminate'
  | 'unknown-ids'
  | 'invalid-spec'
  | 'list'
  | 'guest-poweroff-event'
  | 'attach-detach'
  | 'attach-invalid'
  | 'attach-stopped'
  | 'attach-reboot'
  | 'disk-limits'
  | 'resolv-conf';

export interface ConformanceOptions {
  /** extra time a driver needs per operation (for timeouts) */
  timeoutMs?: number;
  /** a spec a driver can really boot (devices, namespaces, sizes); defaults to a small generic one */
  spec?: (id: string) => InstanceSpec;
  /** a data disk the driver can attach (a host device the BlockStore would have attached); defaults to /dev/loop<n> paths */
  disk?: (deviceName: string) => DiskSpec;
  /** the device names a running guest sees (from inside where the driver can); without it only the operations' results are checked */
  guestDisks?: (hv: Hypervisor, id: string) => Promise<string[]>;
  /** the /etc/resolv.conf a running guest reads (from inside where the driver can); without it only the operations' results are checked */
  guestResolvConf?: (hv: Hypervisor, id: string) => Promise<string>;
  /** cases this driver cannot pass, with the reason */
  skip?: Partial<Record<HypervisorCase, string>>;
}

/** A spec as the reconciler prepares it: a root device from the BlockStore, a NIC from the Fabric. */
export function testSpec(id: string): InstanceSpec {
  return {
    instanceId: id,
    vcpus: 1,
    memoryMiB: 1024,
    architecture: 'x86_64',
    network: [
      {
        deviceIndex: 0,
        netns: 'ocns-test',
        ifname: 'eth0',
        mac: '02:00:00:00:00:0a',
        privateIp: '172.31.0.10',
        addresses: ['172.31.0.10/20'],
        gateway: '172.31.0.1',
        mtu: 9001,
      },
    ],
    userData: Buffer.from('#!/bin/sh\necho hello\n'),
    publicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOvercastTestKeyOvercastTestKeyOvercastTe test',
    hostname: 'ip-172-31-0-10.ec2.internal',
    blockDevices: [{ deviceName: '/dev/xvda', path: '/dev/loop0', root: true }],
  };
}

const newInstanceId = (): string => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;

async function rejectsWith(p: Promise<unknown>, code: HypervisorError['code']): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof HypervisorError, `expected a HypervisorError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

export function runHypervisorConformance(name: string, factory: () => Hypervisor | Promise<Hypervisor>, opts: ConformanceOptions = {}): void {
  const specFor = opts.spec ?? testSpec;
  const timeout = opts.timeoutMs ?? 10_000;
  const skip = opts.skip ?? {};
  let loopN = 20;
  const diskFor = opts.disk ?? ((deviceName: string): DiskSpec => ({ deviceName, path: `/dev/loop${loopN++}`, root: false }));
  const sees = async (hv: Hypervisor, id: string, deviceName: string): Promise<boolean | undefined> =>
    opts.guestDisks ? (await opts.guestDisks(hv, id)).includes(deviceName) : undefined;
  /** asserts what the guest sees, where the driver lets the suite look */
  const assertSees = async (hv: Hypervisor, id: string, deviceName: string, expected: boolean, why: string): Promise<void> => {
    const seen = await sees(hv, id, deviceName);
    if (seen !== undefined) assert.equal(seen, expected, why);
  };
  const test = (key: HypervisorCase, title: string, fn: () => void | Promise<void>) =>
    it(title, skip[key] !== undefined ? { skip: `${name}: ${skip[key]}` } : {}, fn);

  describe(`Hypervisor conformance: ${name}`, { timeout }, () => {
    let hv: Hypervisor;
    const made: string[] = [];
    const fresh = (): InstanceSpec => {
      const s = specFor(newInstanceId());
      made.push(s.instanceId);
      return s;
    };

    before(async () => {
      hv = await factory();
    });
    afterEach(async () => {
      for (const id of made.splice(0)) await hv.terminate(id);
    });
    after(async () => {
      await hv.close();
    });

    test('name', 'has a name', () => {
      assert.equal(typeof hv.name, 'string');
      assert.ok(hv.name.length > 0);
    });

    test('launch', 'launch → running, listed, with console output', async () => {
      const spec = fresh();
      assert.equal(await hv.describe(spec.instanceId), undefined);
      await hv.launch(spec);
      assert.equal(await hv.describe(spec.instanceId), 'running');
      assert.ok((await hv.list()).includes(spec.instanceId));
      assert.equal(typeof (await hv.consoleOutput(spec.instanceId)), 'string');
    });

    test('launch-idempotent', 'launch is idempotent', async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.launch(spec);
      assert.equal(await hv.describe(spec.instanceId), 'running');
      assert.equal((await hv.list()).filter((id) => id === spec.instanceId).length, 1);
    });

    test('stop-start', 'stop → stopped; start → running; repeats are no-ops', async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.stop(spec.instanceId);
      assert.equal(await hv.describe(spec.instanceId), 'stopped');
      await hv.stop(spec.instanceId);
      assert.equal(await hv.describe(spec.instanceId), 'stopped');
      assert.ok((await hv.list()).includes(spec.instanceId), 'a stopped machine is still listed');
      await hv.start(spec);
      assert.equal(await hv.describe(spec.instanceId), 'running');
      await hv.start(spec);
      assert.equal(await hv.describe(spec.instanceId), 'running');
    });

    test('force-hibernate', 'forced and hibernating stops, then start again', async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.stop(spec.instanceId, { force: true });
      assert.equal(await hv.describe(spec.instanceId), 'stopped');
      await hv.start(spec);
      await hv.stop(spec.instanceId, { hibernate: true });
      assert.equal(await hv.describe(spec.instanceId), 'stopped');
      await hv.start(spec);
      assert.equal(await hv.describe(spec.instanceId), 'running');
    });

    test('launch-stopped', 'launch of a stopped machine starts it', async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.stop(spec.instanceId);
      await hv.launch(spec);
      assert.equal(await hv.describe(spec.instanceId), 'running');
    });

    test('start-changed-spec', 'start applies a changed spec (e.g. a new instance type)', async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.stop(spec.instanceId);
      await hv.start({ ...spec, vcpus: 2, memoryMiB: 2048 });
      assert.equal(await hv.describe(spec.instanceId), 'running');
    });

    test('reboot', 'reboot keeps it running; refused while stopped', async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.reboot(spec.instanceId);
      assert.equal(await hv.describe(spec.instanceId), 'running');
      await hv.stop(spec.instanceId);
      await rejectsWith(hv.reboot(spec.instanceId), 'invalid-state');
      assert.equal(await hv.describe(spec.instanceId), 'stopped');
    });

    test('terminate', 'terminate → absent, from running and from stopped; repeat is a no-op', async () => {
      const a = fresh();
      const b = fresh();
      await hv.launch(a);
      await hv.launch(b);
      await hv.stop(b.instanceId);
      await hv.terminate(a.instanceId);
      await hv.terminate(b.instanceId);
      assert.equal(await hv.describe(a.instanceId), undefined);
      assert.equal(await hv.describe(b.instanceId), undefined);
      const listed = await hv.list();
      assert.ok(!listed.includes(a.instanceId) && !listed.includes(b.instanceId));
      await hv.terminate(a.instanceId);
      assert.equal(await hv.describe(a.instanceId), undefined);
    });

    test('unknown-ids', 'unknown ids: stop, start, reboot and consoleOutput fail with not-found; describe is undefined', async () => {
      const spec = specFor(newInstanceId());
      await rejectsWith(hv.stop(spec.instanceId), 'not-found');
      await rejectsWith(hv.start(spec), 'not-found');
      await rejectsWith(hv.reboot(spec.instanceId), 'not-found');
      await rejectsWith(hv.consoleOutput(spec.instanceId), 'not-found');
      assert.equal(await hv.describe(spec.instanceId), undefined);
      await hv.terminate(spec.instanceId); // no-op
      assert.ok(!(await hv.list()).includes(spec.instanceId));
    });

    test('list', 'list holds every machine once, and several machines are independent', async () => {
      const specs = [fresh(), fresh(), fresh()];
      await Promise.all(specs.map((s) => hv.launch(s)));
      await hv.stop(specs[1]!.instanceId);
      const listed = await hv.list();
      for (const s of specs) assert.equal(listed.filter((id) => id === s.instanceId).length, 1);
      assert.equal(await hv.describe(specs[0]!.instanceId), 'running');
      assert.equal(await hv.describe(specs[1]!.instanceId), 'stopped');
      assert.equal(await hv.describe(specs[2]!.instanceId), 'running');
    });

    test('probe', 'probe says whether this host can run it, with a reason when not', async () => {
      const r = await hv.probe();
      assert.equal(typeof r.ok, 'boolean');
      if (!r.ok) assert.ok(r.reason.length > 0, 'a failed probe says why');
      else assert.deepEqual(Object.keys(r), ['ok']);
    });

    test('invalid-spec', 'a spec without exactly one root device is refused with invalid-spec, and nothing is created', async () => {
      const none = { ...fresh(), blockDevices: [] };
      await rejectsWith(hv.launch(none), 'invalid-spec');
      assert.equal(await hv.describe(none.instanceId), undefined);
      const base = fresh();
      const two = { ...base, blockDevices: [base.blockDevices[0]!, { deviceName: '/dev/xvdb', path: '/dev/loop1', root: true }] };
      await rejectsWith(hv.launch(two), 'invalid-spec');
      assert.equal(await hv.describe(two.instanceId), undefined);
    });

    test('attach-detach', 'attachDisk: a running guest sees the device at once; repeats are no-ops; detachDisk takes it away', async () => {
      const spec = fresh();
      await hv.launch(spec);
      const disk = diskFor('/dev/xvdf');
      await assertSees(hv, spec.instanceId, '/dev/xvdf', false, 'not there before the attach');
      await hv.attachDisk(spec.instanceId, disk);
      await assertSees(hv, spec.instanceId, '/dev/xvdf', true, 'the guest sees the attached device');
      await hv.attachDisk(spec.instanceId, { ...disk });
      await assertSees(hv, spec.instanceId, '/dev/xvdf', true, 'the same disk again changes nothing');
      assert.equal(await hv.describe(spec.instanceId), 'running');
      await hv.detachDisk(spec.instanceId, '/dev/xvdf');
      await assertSees(hv, spec.instanceId, '/dev/xvdf', false, 'gone after the detach');
      await hv.detachDisk(spec.instanceId, '/dev/xvdf'); // no longer attached: no-op
      await hv.detachDisk(spec.instanceId, '/dev/xvdz'); // never attached: no-op
      await assertSees(hv, spec.instanceId, spec.blockDevices[0]!.deviceName, true, 'the root device stays');
      assert.equal(await hv.describe(spec.instanceId), 'running');
      // attached again after a detach
      await hv.attachDisk(spec.instanceId, disk);
      await assertSees(hv, spec.instanceId, '/dev/xvdf', true, 'attached again');
      const unknown = newInstanceId();
      await rejectsWith(hv.attachDisk(unknown, diskFor('/dev/xvdg')), 'not-found');
      await rejectsWith(hv.detachDisk(unknown, '/dev/xvdg'), 'not-found');
    });

    test('attach-invalid', 'attachDisk refuses a root disk and a device name held by another device with invalid-spec', async () => {
      const spec = fresh();
      await hv.launch(spec);
      const a = diskFor('/dev/xvdf');
      const b = diskFor('/dev/xvdg');
      await rejectsWith(hv.attachDisk(spec.instanceId, { ...b, root: true }), 'invalid-spec');
      await rejectsWith(hv.attachDisk(spec.instanceId, { ...b, deviceName: spec.blockDevices[0]!.deviceName }), 'invalid-spec');
      await hv.attachDisk(spec.instanceId, a);
      await rejectsWith(hv.attachDisk(spec.instanceId, { ...b, deviceName: '/dev/xvdf' }), 'invalid-spec');
      await assertSees(hv, spec.instanceId, '/dev/xvdf', true, 'the first disk stays');
      await assertSees(hv, spec.instanceId, '/dev/xvdg', false, 'the refused one is not there');
      assert.equal(await hv.describe(spec.instanceId), 'running');
      // the same checks while stopped
      await hv.stop(spec.instanceId);
      await rejectsWith(hv.attachDisk(spec.instanceId, { ...b, root: true }), 'invalid-spec');
      await rejectsWith(hv.attachDisk(spec.instanceId, { ...b, deviceName: spec.blockDevices[0]!.deviceName }), 'invalid-spec');
    });

    test('attach-stopped', "attachDisk on a stopped machine keeps nothing: its next start's spec says what it has", async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.stop(spec.instanceId);
      const f = diskFor('/dev/xvdf');
      const g = diskFor('/dev/xvdg');
      await hv.attachDisk(spec.instanceId, f);
      await hv.attachDisk(spec.instanceId, g);
      await hv.detachDisk(spec.instanceId, '/dev/xvdh');
      assert.equal(await hv.describe(spec.instanceId), 'stopped');
      // the reconciler starts it with the volumes it has now: f only
      await hv.start({ ...spec, blockDevices: [...spec.blockDevices, f] });
      assert.equal(await hv.describe(spec.instanceId), 'running');
      await assertSees(hv, spec.instanceId, '/dev/xvdf', true, "a disk of the start's spec is there");
      await assertSees(hv, spec.instanceId, '/dev/xvdg', false, "one attached while stopped but not in the start's spec is not");
      // a start without it: gone again
      await hv.stop(spec.instanceId);
      await hv.start(spec);
      await assertSees(hv, spec.instanceId, '/dev/xvdf', false, 'a start without the disk has none');
    });

    test('disk-limits', 'setDiskLimits on a running machine (root and attached disks) keeps it running with its devices; stopped, or a name it lacks: no-op; unknown id: not-found', async () => {
      const spec = fresh();
      await hv.launch(spec);
      const root = spec.blockDevices[0]!.deviceName;
      await hv.attachDisk(spec.instanceId, diskFor('/dev/xvdf'));
      await hv.setDiskLimits(spec.instanceId, '/dev/xvdf', { iops: 100, bytesPerSecond: 1024 * 1024 });
      await hv.setDiskLimits(spec.instanceId, root, { iops: 3000 });
      await hv.setDiskLimits(spec.instanceId, '/dev/xvdf', undefined);
      await hv.setDiskLimits(spec.instanceId, '/dev/xvdz', { iops: 100 }); // not there: no-op
      assert.equal(await hv.describe(spec.instanceId), 'running');
      await assertSees(hv, spec.instanceId, '/dev/xvdf', true, 'the disk stays');
      await assertSees(hv, spec.instanceId, root, true, 'the root stays');
      await hv.stop(spec.instanceId);
      await hv.setDiskLimits(spec.instanceId, root, { iops: 100 });
      assert.equal(await hv.describe(spec.instanceId), 'stopped');
      await rejectsWith(hv.setDiskLimits(newInstanceId(), root, { iops: 100 }), 'not-found');
    });

    test('attach-reboot', 'a disk attached to a running machine stays over a reboot; a detached one stays away', async () => {
      const spec = fresh();
      await hv.launch(spec);
      await hv.attachDisk(spec.instanceId, diskFor('/dev/xvdf'));
      await hv.attachDisk(spec.instanceId, diskFor('/dev/xvdg'));
      await hv.reboot(spec.instanceId);
      assert.equal(await hv.describe(spec.instanceId), 'running');
      await assertSees(hv, spec.instanceId, '/dev/xvdf', true, 'still there after the reboot');
      await hv.detachDisk(spec.instanceId, '/dev/xvdg');
      await hv.reboot(spec.instanceId);
      await assertSees(hv, spec.instanceId, '/dev/xvdf', true, 'still there after a second reboot');
      await assertSees(hv, spec.instanceId, '/dev/xvdg', false, 'the detached one does not come back');
    });

    test('resolv-conf', 'setResolvConf: a running guest reads the new resolv.conf at once, and after a reboot', async () => {
      const spec: InstanceSpec = { ...fresh(), resolvConf: '# first\nnameserver 169.254.169.253\n' };
      const id = spec.instanceId;
      const read = opts.guestResolvConf;
      await hv.launch(spec);
      if (read) assert.equal(await read(hv, id), spec.resolvConf, 'the launch spec\'s resolv.conf');
      const next = '# second\nsearch corp.example\nnameserver 10.0.0.2\n';
      await hv.setResolvConf(id, next);
      assert.equal(await hv.describe(id), 'running', 'no restart');
      if (read) assert.equal(await read(hv, id), next, 'rewritten in place');
      await hv.reboot(id);
      if (read) assert.equal(await read(hv, id), next, 'kept over a reboot');
      await rejectsWith(hv.setResolvConf(newInstanceId(), next), 'not-found');
    });

    test('guest-poweroff-event', 'a guest that powers itself off is reported through events(), without being asked', async () => {
      const spec = { ...fresh(), userData: Buffer.from('#!/bin/sh\necho bye\npoweroff\n') };
      const seen: MachineEvent[] = [];
      const stopped = new Promise<MachineEvent>((resolve) => {
        const unsubscribe = hv.events((e) => {
          seen.push(e);
          if (e.instanceId === spec.instanceId && e.state === 'stopped') {
            unsubscribe();
            resolve(e);
          }
        });
      });
      await hv.launch(spec);
      const e = await stopped;
      assert.equal(e.cause, 'guest');
      assert.equal(await hv.describe(spec.instanceId), 'stopped');
      assert.ok((await hv.list()).includes(spec.instanceId), 'a machine that powered off is still there, stopped');
      // the driver can start it again
      await hv.start({ ...spec, userData: undefined });
      assert.equal(await hv.describe(spec.instanceId), 'running');
      // an unsubscribed listener hears nothing more
      const before = seen.length;
      await hv.stop(spec.instanceId);
      assert.equal(seen.length, before, 'an unsubscribed listener hears nothing more');
    });
  });
}

/** The old name. */
export const hypervisorConformance = runHypervisorConformance;
