/**
 * EBS with real bytes, end to end through @aws-sdk/client-ec2 and ssh2 into
 * real instances: a volume attached to a running instance appears as a block
 * device under its name, is formatted and mounted there, detached and read
 * back in another instance; a snapshot keeps the old bytes after an
 * overwrite; an image made from a running instance boots a copy of it (its
 * marker file there), also in another region; the volume type's IOPS are
 * enforced on the device (the instance cgroup's count of its reads over a
 * window, against the IOPS); and nothing is left on the host.
 *
 * Runs as root where the container runtime runs; skipped with the reason
 * elsewhere.
 */
import {
  AttachVolumeCommand,
  CopyImageCommand,
  CreateImageCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  ImportKeyPairCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { endRealServer, openSshInDefaultGroup, realRuntimeSkip, sshExec, until } from '../helpers/real-instances.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/host/exec.js';
import { CGROUP_PARENT } from '../../src/host/cgroups.js';

const IMAGE_DIR = process.env.OVERCAST_TEST_IMAGE_DIR ?? '/var/tmp/overcast-test-images';
const PREFIX = 'ovtv';
const POOL = '203.0.113.0/27'; // not real-debian's: two servers' host guards on one pool drop each other's traffic

const probeWhy = await realRuntimeSkip(PREFIX);

describe('EBS volumes, snapshots and images with real bytes in real instances', { skip: probeWhy, timeout: 900_000 }, () => {
  let t: TestServer;
  let c: EC2Client;
  let west: EC2Client;
  let key: string;
  let tiny: string;
  const launched: string[] = [];
  const launchedWest: string[] = [];

  // the tiny image has no sudo: root logs in with the key pair too
  const sh = async (i: Instance, cmd: string) => {
    // the login retried until the guest answers; the command then runs once
    await until(`ssh ${i.InstanceId}`, () => sshExec(i.PublicIpAddress!, key, 'true', { timeoutMs: 5_000, user: 'root' }), 30, 200);
    const r = await sshExec(i.PublicIpAddress!, key, cmd, { timeoutMs: 60_000, user: 'root' });
    assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
    return r.stdout;
  };
  const running = (client: EC2Client, id: string): Promise<Instance> =>
    until(`${id} running`, async () => {
      const i = (await client.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
      if (i.State?.Name === 'terminated') throw new Error(`${id} terminated: ${i.StateReason?.Message}`);
      return i.State?.Name === 'running' ? i : undefined;
    }, 600);
  const launch = async (client: EC2Client, imageId: string, list: string[]) => {
    const id = (await client.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'vol', Placement: { AvailabilityZone: client === c ? 'us-east-1a' : 'us-west-2a' } }))).Instances![0]!.InstanceId!;
    list.push(id);
    return running(client, id);
  };
  const volumeState = (id: string, want: (v: { State?: string; Attachments?: { State?: string }[] }) => boolean) =>
    until(`${id}`, async () => {
      const v = (await c.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!;
      return want(v) ? v : undefined;
    }, 300);

  before(async () => {
    mkdirSync(IMAGE_DIR, { recursive: true });
    t = await startTestServer({ driver: 'container', hostPrefix: PREFIX, publicIpPool: POOL, imageDir: IMAGE_DIR });
    c = t.client();
    west = t.client('us-west-2');
    tiny = (await c.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['overcast/tiny-*'] }] }))).Images![0]!.ImageId!;
    // one key of the user's own, imported into both regions
    const dir = mkdtempSync(join(tmpdir(), 'overcast-vol-key-'));
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')]);
    key = readFileSync(join(dir, 'id'), 'utf8');
    const pub = readFileSync(join(dir, 'id.pub'));
    rmSync(dir, { recursive: true, force: true });
    await c.send(new ImportKeyPairCommand({ KeyName: 'vol', PublicKeyMaterial: pub }));
    await west.send(new ImportKeyPairCommand({ KeyName: 'vol', PublicKeyMaterial: pub }));
    await openSshInDefaultGroup(c);
    await openSshInDefaultGroup(west);
  });

  after(async () => {
    const all = [...launched];
    if (launchedWest.length > 0) await west.send(new TerminateInstancesCommand({ InstanceIds: launchedWest })).catch(() => undefined);
    assert.deepEqual(await endRealServer(t, c, all), [], 'nothing of this server is left on the host');
  });

  it('a volume attached to a running instance is a block device there; its bytes follow it to another instance', async () => {
    const [a, b] = await Promise.all([launch(c, tiny, launched), launch(c, tiny, launched)]);
    const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1, VolumeType: 'gp3' }))).VolumeId!;
    await volumeState(vol, (v) => v.State === 'available');
    await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: a.InstanceId, Device: '/dev/sdf' }));
    await volumeState(vol, (v) => v.Attachments?.[0]?.State === 'attached');
    const size = await sh(a, 'cat /sys/class/block/$(basename $(readlink -f /dev/sdf))/size 2>/dev/null || blockdev --getsize64 /dev/sdf');
    assert.ok(Number(size.trim()) > 0, `the device has a size (${size.trim()})`);
    await sh(a, 'mkfs.ext2 -q /dev/sdf 2>/dev/null || mke2fs -q /dev/sdf; mkdir -p /mnt/d && mount /dev/sdf /mnt/d && echo written-in-a > /mnt/d/hello && umount /mnt/d');
    await c.send(new DetachVolumeCommand({ VolumeId: vol }));
    await volumeState(vol, (v) => v.State === 'available');
    assert.match(await sh(a, 'ls /dev/sdf 2>&1 || true'), /No such file|can't access/, 'gone from the guest');
    await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: b.InstanceId, Device: '/dev/xvdg' }));
    await volumeState(vol, (v) => v.Attachments?.[0]?.State === 'attached');
    assert.equal((await sh(b, 'mkdir -p /mnt/d && mount /dev/xvdg /mnt/d && cat /mnt/d/hello; umount /mnt/d')).trim(), 'written-in-a');

    // a snapshot keeps what was there: overwrite, then a volume from the snapshot shows the old bytes
    const snapshot = async () => {
      const id = (await c.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
      await until(`${id} completed`, async () => ((await c.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots![0]!.State === 'completed' ? true : undefined), 300);
      return id;
    };
    /** the file on a volume made from `snap`, attached to instance a as `device` */
    const fromSnapshot = async (snap: string, device: string) => {
      const id = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snap }))).VolumeId!;
      await volumeState(id, (v) => v.State === 'available');
      await c.send(new AttachVolumeCommand({ VolumeId: id, InstanceId: a.InstanceId, Device: device }));
      await volumeState(id, (v) => v.Attachments?.[0]?.State === 'attached');
      return (await sh(a, `mkdir -p /mnt/r && mount ${device} /mnt/r && cat /mnt/r/hello; umount /mnt/r`)).trim();
    };
    const snap = await snapshot();
    await sh(b, 'mount /dev/xvdg /mnt/d && echo overwritten > /mnt/d/hello && umount /mnt/d');
    assert.equal(await fromSnapshot(snap, '/dev/sdh'), 'written-in-a');
    assert.equal((await sh(b, 'mount /dev/xvdg /mnt/d && cat /mnt/d/hello; umount /mnt/d')).trim(), 'overwritten');

    // the volume's second snapshot is incremental (its changed blocks kept unread, settled after it completed):
    // a volume from it has the new bytes, and the first snapshot's volume still the old ones
    assert.equal(await fromSnapshot(await snapshot(), '/dev/sdi'), 'overwritten');
    assert.equal((await sh(a, 'mount /dev/sdh /mnt/r && cat /mnt/r/hello; umount /mnt/r')).trim(), 'written-in-a');
  });

  it('an image made from a running instance boots a copy of it, in this region and in another', async () => {
    const a = await launch(c, tiny, launched);
    await sh(a, 'echo made-in-a > /etc/marker && sync');
    const { ImageId } = await c.send(new CreateImageCommand({ InstanceId: a.InstanceId, Name: 'with-marker', NoReboot: true }));
    await until('image available', async () => ((await c.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0]!.State === 'available' ? true : undefined), 600);
    const child = await launch(c, ImageId!, launched);
    assert.equal((await sh(child, 'cat /etc/marker')).trim(), 'made-in-a');
    const copied = (await west.send(new CopyImageCommand({ SourceRegion: 'us-east-1', SourceImageId: ImageId, Name: 'with-marker' }))).ImageId!;
    await until('copy available', async () => ((await west.send(new DescribeImagesCommand({ ImageIds: [copied] }))).Images![0]!.State === 'available' ? true : undefined), 600);
    const far = await launch(west, copied, launchedWest);
    assert.equal((await sh(far, 'cat /etc/marker')).trim(), 'made-in-a');
  });

  it("the volume type's IOPS are enforced on the device: reads from inside, counted by the instance's cgroup", async () => {
    const a = await launch(c, tiny, launched);
    const slow = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'io1', Iops: 100 }))).VolumeId!;
    await volumeState(slow, (v) => v.State === 'available');
    await c.send(new AttachVolumeCommand({ VolumeId: slow, InstanceId: a.InstanceId, Device: '/dev/sdf' }));
    await volumeState(slow, (v) => v.Attachments?.[0]?.State === 'attached');
    // the guest's node is the host's device (same major:minor): the cgroup's counter for it is the guest's reads
    const [maj, min] = (await sh(a, 'stat -L -c %t:%T /dev/sdf')).trim().split(':').map((h) => parseInt(h, 16));
    const reads = () => {
      const text = readFileSync(`/sys/fs/cgroup/blkio/${CGROUP_PARENT}/${a.InstanceId}/blkio.throttle.io_serviced`, 'utf8');
      return Number(new RegExp(`^${maj}:${min} Read (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    };
    // io1 at 100 IOPS: direct 4 KiB reads, over and over, for a window the guest's `sleep 3` bounds
    const before = reads();
    const t0 = process.hrtime.bigint();
    await sh(a, '(while :; do dd if=/dev/sdf of=/dev/null bs=4096 count=100000 iflag=direct 2>/dev/null; done) & p=$!; sleep 3; kill $p; busybox killall dd 2>/dev/null; wait; true');
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    const ops = reads() - before;
    // a rate, the count over the window, against the volume's IOPS; unthrottled, a loop device does thousands a second
    assert.ok(ops >= 100, `the guest read the device: ${ops} reads in a window of at least 3 s`);
    assert.ok(ops <= 100 * secs * 1.25 + 10, `${ops} reads at 100 IOPS in a ${secs.toFixed(2)} s window`);
  });
});
