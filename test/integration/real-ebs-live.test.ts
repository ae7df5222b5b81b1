/**
 * EBS changes that reach running instances, through @aws-sdk/client-ec2 and
 * SSH into real (tiny) instances:
 *  - ModifyVolume of an attached volume: its new IOPS are the device's blkio
 *    throttle on the host by the time the modification reports optimizing, and
 *    direct reads inside the guest are served at the new rate (counted by the
 *    cgroup in equal windows, not timed);
 *  - Multi-Attach: one io2 volume attached to two running instances is one
 *    device (a marker written with direct I/O in one is read in the other);
 *    detaching one attachment leaves the other;
 *  - Multi-Attach IOPS are the aggregate: each instance's cgroup gets an even
 *    share (the v1 blkio throttle is not hierarchical), so two reading at once
 *    stay within the volume's IOPS together and one alone gets all of it.
 * Nothing is left on the host afterwards.
 *
 * Runs as root where the container runtime runs; skipped with the reason elsewhere.
 */
import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DescribeVolumesCommand,
  DescribeVolumesModificationsCommand,
  DetachVolumeCommand,
  ModifyVolumeCommand,
  RunInstancesCommand,
  type EC2Client,
  type Instance,
  type Volume,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CGROUP_PARENT } from '../../src/host/cgroups.js';
import { deviceNumbers } from '../../src/compute/drivers/container/hotplug.js';
import { endRealServer, realRuntimeSkip, rootShell, runningInstance, startRealServer, until } from '../helpers/real-instances.js';
import type { TestServer } from '../helpers/server.js';

const PREFIX = 'ovhv';
const POOL = '198.51.100.32/28';
const MiB = 1024 * 1024;

const probeWhy = await realRuntimeSkip(PREFIX);

describe('EBS changes reach running instances', { skip: probeWhy, timeout: 600_000 }, () => {
  let t: TestServer;
  let c: EC2Client;
  let tiny: string;
  let key: string;
  const launched: string[] = [];

  const launch = async (): Promise<Instance> => {
    const id = (await c.send(new RunInstancesCommand({ ImageId: tiny, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'live', Placement: { AvailabilityZone: 'us-east-1a' } }))).Instances![0]!.InstanceId!;
    launched.push(id);
    return runningInstance(c, id);
  };
  const volumeWhen = (id: string, want: (v: Volume) => boolean) =>
    until(`${id}`, async () => {
      const v = (await c.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!;
      return want(v) ? v : undefined;
    }, 300);
  /** MAJ:MIN of the volume's loop device on the host (the block store's books name it). */
  const majMin = (volumeId: string): string => {
    const books = JSON.parse(readFileSync(join(t.dataDir, 'pool', 'mnt', 'volumes', `${volumeId}.json`), 'utf8')) as { devicePath: string };
    const n = deviceNumbers(statSync(books.devicePath));
    return `${n.major}:${n.minor}`;
  };
  const blkio = (instanceId: string, file: string): string => readFileSync(`/sys/fs/cgroup/blkio/${CGROUP_PARENT}/${instanceId}/blkio.throttle.${file}`, 'utf8');
  const limitOf = (instanceId: string, file: string, dev: string): number | undefined => {
    const line = blkio(instanceId, file).split('\n').find((l) => l.startsWith(`${dev} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  };
  /** Reads of the device the instance's cgroup counted (every cgroup below it too). */
  const readsCounted = (instanceId: string, dev: string): number => {
    const line = blkio(instanceId, 'io_serviced_recursive').split('\n').find((l) => l.startsWith(`${dev} Read `));
    return line === undefined ? 0 : Number(line.split(' ')[2]);
  };
  /** Direct 4 KiB reads of `device` inside the guest for a window of `secs` (its own timeout), as the host counted them. */
  const readsInWindow = async (i: Instance, device: string, dev: string, secs: number): Promise<number> => {
    const before = readsCounted(i.InstanceId!, dev);
    await rootShell(i, key, `timeout ${secs} dd if=${device} of=/dev/null bs=4096 count=1000000 iflag=direct 2>/dev/null; true`);
    return readsCounted(i.InstanceId!, dev) - before;
  };

  before(async () => {
    ({ t, c, imageId: tiny, key } = await startRealServer(PREFIX, POOL, 'live'));
  });

  after(async () => {
    assert.deepEqual(await endRealServer(t, c, launched), [], 'nothing of this server is left on the host');
  });

  it('ModifyVolume of an attached volume: the new IOPS are on the device by optimizing, and reads inside run at the new rate', async () => {
    const a = await launch();
    // io2 at 2000 IOPS (31.25 MiB/s), lowered to 100 IOPS (1.5625 MiB/s)
    const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'io2', Iops: 2000 }))).VolumeId!;
    await volumeWhen(vol, (v) => v.State === 'available');
    await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: a.InstanceId, Device: '/dev/sdf' }));
    await volumeWhen(vol, (v) => v.Attachments?.[0]?.State === 'attached');
    const dev = majMin(vol);
    assert.equal(limitOf(a.InstanceId!, 'read_iops_device', dev), 2000, 'attached with the IOPS it was created with');
    const fast = await readsInWindow(a, '/dev/sdf', dev, 2);

    const m = await c.send(new ModifyVolumeCommand({ VolumeId: vol, Iops: 100 }));
    assert.equal(m.VolumeModification!.ModificationState, 'modifying');
    const states: string[] = [];
    await until('optimizing or completed', async () => {
      const s = (await c.send(new DescribeVolumesModificationsCommand({ VolumeIds: [vol] }))).VolumesModifications![0]!.ModificationState!;
      if (states.at(-1) !== s) states.push(s);
      return s === 'optimizing' || s === 'completed' ? s : undefined;
    }, 300, 20);
    // by now the device has the new limits, read from the host's cgroup files
    assert.equal(limitOf(a.InstanceId!, 'read_iops_device', dev), 100, `read IOPS after ${states.join(' → ')}`);
    assert.equal(limitOf(a.InstanceId!, 'write_iops_device', dev), 100 * 64, 'write IOPS (64 host bios per EBS operation)');
    assert.equal(limitOf(a.InstanceId!, 'read_bps_device', dev), Math.floor((100 / 64) * MiB), 'throughput');
    const slow = await readsInWindow(a, '/dev/sdf', dev, 2);
    console.log(`# direct 4 KiB reads in a 2 s window: ${fast} at 2000 IOPS, ${slow} at 100 IOPS`);
    assert.ok(slow > 0, 'the guest still reads the device');
    assert.ok(fast > 3 * slow, `fewer reads at the lower limit: ${fast} at 2000 IOPS vs ${slow} at 100 IOPS`);

    await until('completed', async () => ((await c.send(new DescribeVolumesModificationsCommand({ VolumeIds: [vol] }))).VolumesModifications![0]!.ModificationState === 'completed' ? true : undefined), 300);
    const v = await volumeWhen(vol, () => true);
    assert.deepEqual([v.Iops, v.State, v.Attachments?.[0]?.State], [100, 'in-use', 'attached']);
    await c.send(new DetachVolumeCommand({ VolumeId: vol }));
    await volumeWhen(vol, (x) => x.State === 'available');
    assert.equal(limitOf(a.InstanceId!, 'read_iops_device', dev), undefined, 'the detach lifted the cap');
  });

  it('Multi-Attach IOPS are shared: two instances reading at once stay within the volume\'s IOPS together; one alone gets (nearly) all of it', async () => {
    const [a, b] = await Promise.all([launch(), launch()]);
    const IOPS = 600;
    const SECS = 3;
    const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'io2', Iops: IOPS, MultiAttachEnabled: true }))).VolumeId!;
    await volumeWhen(vol, (v) => v.State === 'available');
    await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: a.InstanceId, Device: '/dev/sdf' }));
    await volumeWhen(vol, (x) => x.Attachments?.[0]?.State === 'attached');
    const dev = majMin(vol);
    assert.equal(limitOf(a.InstanceId!, 'read_iops_device', dev), IOPS, 'alone: all of it');
    await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: b.InstanceId, Device: '/dev/sdf' }));
    await volumeWhen(vol, (x) => x.Attachments?.length === 2 && x.Attachments.every((y) => y.State === 'attached'));
    assert.deepEqual([limitOf(a.InstanceId!, 'read_iops_device', dev), limitOf(b.InstanceId!, 'read_iops_device', dev)], [IOPS / 2, IOPS / 2], 'two: half each, a gave up its half');

    // both read at once, each for a window of SECS: together within the volume's IOPS
    const [ra, rb] = await Promise.all([readsInWindow(a, '/dev/sdf', dev, SECS), readsInWindow(b, '/dev/sdf', dev, SECS)]);
    const budget = IOPS * SECS;
    console.log(`# direct 4 KiB reads in ${SECS} s windows of a ${IOPS}-IOPS Multi-Attach volume: a ${ra} + b ${rb} = ${ra + rb} together (budget ${budget})`);
    assert.ok(ra > 0 && rb > 0, 'both read');
    assert.ok(ra + rb <= budget * 1.1, `together within the volume's IOPS (+10%): ${ra} + ${rb} of ${budget}`);

    // b leaves: a alone gets (nearly) all of it
    await c.send(new DetachVolumeCommand({ VolumeId: vol, InstanceId: b.InstanceId }));
    await volumeWhen(vol, (x) => x.Attachments?.length === 1);
    assert.equal(limitOf(a.InstanceId!, 'read_iops_device', dev), IOPS);
    const alone = await readsInWindow(a, '/dev/sdf', dev, SECS);
    console.log(`# a alone: ${alone} in ${SECS} s (budget ${budget})`);
    assert.ok(alone >= budget * 0.8 && alone <= budget * 1.1, `one alone gets nearly all of it: ${alone} of ${budget}`);
    assert.ok(alone >= 1.6 * Math.max(ra, rb), `alone it reads more than either did sharing: ${alone} vs ${ra}, ${rb}`);
    await c.send(new DetachVolumeCommand({ VolumeId: vol, InstanceId: a.InstanceId }));
    await volumeWhen(vol, (x) => x.State === 'available');
  });

  it('Multi-Attach: one io2 volume in two running instances is one device — a marker written with direct I/O in one is read in the other; detaching one leaves the other', async () => {
    const [a, b] = await Promise.all([launch(), launch()]);
    const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'io2', Iops: 1000, MultiAttachEnabled: true }))).VolumeId!;
    await volumeWhen(vol, (v) => v.State === 'available');
    await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: a.InstanceId, Device: '/dev/sdf' }));
    await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: b.InstanceId, Device: '/dev/sdg' }));
    const v = await volumeWhen(vol, (x) => x.Attachments?.length === 2 && x.Attachments.every((y) => y.State === 'attached'));
    assert.equal(v.MultiAttachEnabled, true);
    assert.deepEqual(v.Attachments!.map((x) => x.InstanceId).sort(), [a.InstanceId, b.InstanceId].sort());
    // the same host device in both, by its numbers as each guest sees it
    const numbers = (i: Instance, device: string) => rootShell(i, key, `stat -L -c '%t:%T' ${device}`);
    assert.equal(await numbers(a, '/dev/sdf'), await numbers(b, '/dev/sdg'), 'one block device');
    // a 4 KiB block written with direct I/O (no page cache in between) in a, read with direct I/O in b
    const marker = `multi-attach-${vol}`;
    await rootShell(a, key, `(printf '%s' '${marker}'; dd if=/dev/zero bs=1 count=$((4096 - ${marker.length})) 2>/dev/null) | dd of=/dev/sdf bs=4096 count=1 seek=10 oflag=direct conv=notrunc 2>/dev/null`);
    const read = await rootShell(b, key, `dd if=/dev/sdg bs=4096 count=1 skip=10 iflag=direct 2>/dev/null | head -c ${marker.length}`);
    assert.equal(read, marker, 'b reads what a wrote');
    // each instance's cgroup throttles its own access to the device, with its share of the volume's IOPS
    const dev = majMin(vol);
    assert.equal(limitOf(a.InstanceId!, 'read_iops_device', dev), 500);
    assert.equal(limitOf(b.InstanceId!, 'read_iops_device', dev), 500);

    // detaching a leaves b attached, with the device and its bytes
    await c.send(new DetachVolumeCommand({ VolumeId: vol, InstanceId: a.InstanceId }));
    const left = await volumeWhen(vol, (x) => x.Attachments?.length === 1);
    assert.deepEqual([left.State, left.Attachments![0]!.InstanceId, left.Attachments![0]!.State], ['in-use', b.InstanceId, 'attached']);
    assert.match(await rootShell(a, key, 'ls /dev/sdf 2>&1 || true'), /No such file|can't access/, 'gone from a');
    assert.equal(limitOf(a.InstanceId!, 'read_iops_device', dev), undefined, "a's cap went with it");
    assert.equal(limitOf(b.InstanceId!, 'read_iops_device', dev), 1000, 'b alone has all the IOPS again');
    assert.equal(await rootShell(b, key, `dd if=/dev/sdg bs=4096 count=1 skip=10 iflag=direct 2>/dev/null | head -c ${marker.length}`), marker, 'b still reads the device');
    await c.send(new DetachVolumeCommand({ VolumeId: vol, InstanceId: b.InstanceId }));
    await volumeWhen(vol, (x) => x.State === 'available');
  });
});
