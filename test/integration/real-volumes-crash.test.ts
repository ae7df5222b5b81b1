/**
 * kill -9 of a server with real instances during an EBS snapshot and during
 * an attach: after a restart on the same data directory the snapshot
 * completes and restores the volume byte for byte (the same point in time),
 * the attach completes and the guest sees the device, and once everything is
 * terminated and the host reset nothing is left (no loop device, mount,
 * namespace or pool file of this server).
 *
 * The server runs as users run it (bin/overcast.js). Runs as root where the
 * container runtime runs; skipped with the reason elsewhere.
 */
import {
  AttachVolumeCommand,
  CreateKeyPairCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_CREDENTIAL, loadConfig } from '../../src/config.js';
import { hostLeftovers, resetHost } from '../../src/host-reset.js';
import { kill9, spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { openSshInDefaultGroup, realRuntimeSkip, sshExec, until } from '../helpers/real-instances.js';

const IMAGE_DIR = process.env.OVERCAST_TEST_IMAGE_DIR ?? '/var/tmp/overcast-test-images';
const PREFIX = 'ovtc';
const POOL = '203.0.113.224/28';

const probeWhy = await realRuntimeSkip(PREFIX);

type Proc = ServerProcess;

const startServer = (dataDir: string): Promise<Proc> =>
  spawnServer(dataDir, ['--driver', 'container', '--host-prefix', PREFIX, '--public-ip-pool', POOL, '--image-dir', IMAGE_DIR], 120_000);

const client = (url: string) => new EC2Client({ endpoint: url, region: 'us-east-1', credentials: DEFAULT_CREDENTIAL, maxAttempts: 1 });

describe('kill -9 during a snapshot and an attach, with real instances', { skip: probeWhy, timeout: 900_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'overcast-ebs-crash-'));
  let proc: Proc | undefined;
  const config = { ...loadConfig([], {}), dataDir, hostPrefix: PREFIX, publicIpPool: POOL, imageDir: IMAGE_DIR, driver: 'container' };

  after(async () => {
    if (proc) await kill9(proc);
    await resetHost(config, { cgroups: false });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the snapshot and the attach finish after the restart; the bytes are the ones of the point in time; nothing is left', async () => {
    mkdirSync(IMAGE_DIR, { recursive: true });
    proc = await startServer(dataDir);
    let c = client(proc.url);
    const tiny = (await c.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['overcast/tiny-*'] }] }))).Images![0]!.ImageId!;
    const key = (await c.send(new CreateKeyPairCommand({ KeyName: 'crash', KeyType: 'ed25519' }))).KeyMaterial!;
    await openSshInDefaultGroup(c);
    const id = (await c.send(new RunInstancesCommand({ ImageId: tiny, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'crash', Placement: { AvailabilityZone: 'us-east-1a' } }))).Instances![0]!.InstanceId!;
    const instance = (): Promise<Instance> =>
      until('running', async () => {
        const i = (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
        return i.State?.Name === 'running' ? i : undefined;
      }, 600);
    let inst = await instance();
    // the login retried until the guest answers; each command then runs once (a retry would run it twice)
    const sh = async (cmd: string) => {
      await until('ssh', () => sshExec(inst.PublicIpAddress!, key, 'true', { user: 'root', timeoutMs: 5_000 }), 30, 200);
      const r = await sshExec(inst.PublicIpAddress!, key, cmd, { user: 'root', timeoutMs: 120_000 });
      assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const volumeIs = (vol: string, ok: (v: { State?: string; Attachments?: { State?: string }[] }) => boolean) =>
      until(vol, async () => {
        const v = (await c.send(new DescribeVolumesCommand({ VolumeIds: [vol] }))).Volumes![0]!;
        return ok(v) ? v : undefined;
      }, 600);

    // a volume with 600 MiB of random bytes: its snapshot takes long enough to be cut
    const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    await volumeIs(vol, (v) => v.State === 'available');
    await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: id, Device: '/dev/sdf' }));
    await volumeIs(vol, (v) => v.Attachments?.[0]?.State === 'attached');
    await sh('dd if=/dev/urandom of=/dev/sdf bs=1M count=600 2>/dev/null && sync');
    const before = await sh('md5sum /dev/sdf');

    const snap = (await c.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
    await new Promise((r) => setTimeout(r, 150));
    await kill9(proc);
    // the guest keeps writing after the point in time: the snapshot must not see it
    await sh('dd if=/dev/zero of=/dev/sdf bs=1M count=16 2>/dev/null && sync');

    // an attach cut short by a kill
    proc = await startServer(dataDir);
    c = client(proc.url);
    const second = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    await volumeIs(second, (v) => v.State === 'available');
    await c.send(new AttachVolumeCommand({ VolumeId: second, InstanceId: id, Device: '/dev/sdg' }));
    await kill9(proc);

    proc = await startServer(dataDir);
    c = client(proc.url);
    inst = await instance();
    await until('snapshot completed', async () => {
      const s = (await c.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap] }))).Snapshots![0]!;
      assert.notEqual(s.State, 'error', s.StateMessage);
      return s.State === 'completed' ? s : undefined;
    }, 600);
    await volumeIs(second, (v) => v.Attachments?.[0]?.State === 'attached');
    assert.match(await sh('ls /dev/sdg'), /sdg/, 'the attach finished: the guest has the device');

    const restored = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snap }))).VolumeId!;
    await volumeIs(restored, (v) => v.State === 'available');
    await c.send(new AttachVolumeCommand({ VolumeId: restored, InstanceId: id, Device: '/dev/sdh' }));
    await volumeIs(restored, (v) => v.Attachments?.[0]?.State === 'attached');
    assert.equal((await sh('md5sum /dev/sdh')).split(/\s+/)[0], before.split(/\s+/)[0], 'the snapshot holds the bytes of its point in time');
    assert.notEqual((await sh('md5sum /dev/sdf')).split(/\s+/)[0], before.split(/\s+/)[0], 'the volume moved on after it');

    await c.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await until('terminated', async () => ((await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.State?.Name === 'terminated' ? true : undefined), 300);
    proc.child.kill('SIGTERM');
    await new Promise((r) => proc!.child.once('exit', r));
    proc = undefined;
    const left = await resetHost(config, { cgroups: false });
    assert.deepEqual(left.length ? left : await hostLeftovers(config), [], 'nothing of this server is left on the host');
  });
});
