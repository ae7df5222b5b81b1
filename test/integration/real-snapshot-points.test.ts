/**
 * Snapshot sets with real bytes in a real instance, through @aws-sdk/client-ec2
 * and ssh2: CreateSnapshots of an instance whose guest writes a counter to two
 * volumes in lockstep (first one, then the other) gives snapshots that agree —
 * the second's counter is the first's or one behind, as at one instant, because
 * the instance is frozen while their points are taken; CreateImage without
 * NoReboot snapshots the instance after its guest has shut down (a file its
 * shutdown script writes is in the image) and starts it again.
 *
 * Runs as root where the container runtime runs; skipped with the reason elsewhere.
 */
import {
  AttachVolumeCommand,
  CreateImageCommand,
  CreateSnapshotsCommand,
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  RunInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { endRealServer, importFreshKey, openSshInDefaultGroup, realRuntimeSkip, rootShell, runningInstance, sshExec, until } from '../helpers/real-instances.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const IMAGE_DIR = process.env.OVERCAST_TEST_IMAGE_DIR ?? '/var/tmp/overcast-test-images';
const PREFIX = 'ovts';
const POOL = '192.0.2.128/27';

const probeWhy = await realRuntimeSkip(PREFIX);

/** The guest's writer: one counter, to sdf and then to sdg, as fast as it can (through the page cache). */
const COUNTER = [
  'i=0',
  'while true; do',
  '  i=$((i+1))',
  "  printf '%-31d\\n' $i | dd of=/dev/sdf bs=32 count=1 conv=notrunc 2>/dev/null",
  "  printf '%-31d\\n' $i | dd of=/dev/sdg bs=32 count=1 conv=notrunc 2>/dev/null",
  'done',
  '',
].join('\n');

describe('snapshot sets and CreateImage reboots in real instances', { skip: probeWhy, timeout: 900_000 }, () => {
  let t: TestServer;
  let c: EC2Client;
  let key: string;
  let tiny: string;
  const launched: string[] = [];

  const sh = (i: Instance, cmd: string): Promise<string> => rootShell(i, key, cmd);
  const launch = async (imageId: string): Promise<Instance> => {
    const id = (await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'pt', Placement: { AvailabilityZone: 'us-east-1a' } }))).Instances![0]!.InstanceId!;
    launched.push(id);
    return runningInstance(c, id);
  };
  const volumeWhen = (id: string, want: (v: { State?: string; Attachments?: { State?: string }[] }) => boolean) =>
    until(id, async () => {
      const v = (await c.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!;
      return want(v) ? v : undefined;
    }, 300);
  /** The counter at the start of a volume made from the snapshot, read from its file on the pool. */
  const counterIn = async (snapshotId: string): Promise<number> => {
    const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snapshotId }))).VolumeId!;
    await volumeWhen(vol, (v) => v.State === 'available');
    const fh = await open(join(t.dataDir, 'pool', 'mnt', 'volumes', `${vol}.img`), 'r');
    const buf = Buffer.alloc(32);
    try {
      await fh.read(buf, 0, 32, 0);
    } finally {
      await fh.close();
    }
    await c.send(new DeleteVolumeCommand({ VolumeId: vol }));
    return Number(buf.toString('latin1').split('\n')[0]!.trim());
  };

  before(async () => {
    mkdirSync(IMAGE_DIR, { recursive: true });
    t = await startTestServer({ driver: 'container', hostPrefix: PREFIX, publicIpPool: POOL, imageDir: IMAGE_DIR });
    c = t.client();
    tiny = (await c.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['overcast/tiny-*'] }] }))).Images![0]!.ImageId!;
    key = await importFreshKey(c, 'pt');
    await openSshInDefaultGroup(c);
  });

  after(async () => {
    assert.deepEqual(await endRealServer(t, c, launched), [], 'nothing of this server is left on the host');
  });

  it('CreateSnapshots while the guest writes a counter to two volumes in lockstep: the snapshots agree', async () => {
    const inst = await launch(tiny);
    const vols: string[] = [];
    for (const device of ['/dev/sdf', '/dev/sdg']) {
      const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
      await volumeWhen(vol, (v) => v.State === 'available');
      await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst.InstanceId, Device: device }));
      await volumeWhen(vol, (v) => v.Attachments?.[0]?.State === 'attached');
      vols.push(vol);
    }
    await sh(inst, `printf '%s' '${Buffer.from(COUNTER).toString('base64')}' | base64 -d > /counter.sh`);
    await sh(inst, 'setsid sh /counter.sh </dev/null >/dev/null 2>&1 & sleep 1; head -1 /dev/sdg');
    const counted = (): Promise<number> => sh(inst, 'head -1 /dev/sdg').then((s) => Number(s.trim()));
    assert.ok((await counted()) > 0, 'the guest counts');
    for (let round = 0; round < 3; round++) {
      const { Snapshots } = await c.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: inst.InstanceId, ExcludeBootVolume: true } }));
      assert.equal(Snapshots!.length, 2);
      await until('snapshots completed', async () => {
        const s = (await c.send(new DescribeSnapshotsCommand({ SnapshotIds: Snapshots!.map((x) => x.SnapshotId!) }))).Snapshots!;
        return s.every((x) => x.State === 'completed') ? s : undefined;
      }, 600);
      const of = (vol: string) => Snapshots!.find((s) => s.VolumeId === vol)!.SnapshotId!;
      const f = await counterIn(of(vols[0]!));
      const g = await counterIn(of(vols[1]!));
      assert.ok(f > 0, `the counter ran (sdf: ${f})`);
      assert.ok(f === g || f === g + 1, `round ${round}: sdf ${f} and sdg ${g} are one instant's (written in lockstep)`);
    }
    // the guest runs on after the freeze
    const a = await counted();
    await new Promise((r) => setTimeout(r, 500));
    assert.ok((await counted()) > a, 'the counter still counts (thawed)');
  });

  it('CreateImage without NoReboot: snapshots taken after the guest shut down, then it runs again', async () => {
    const inst = await launch(tiny);
    // the guest's shutdown script leaves a mark on its root: only a snapshot taken after it holds it
    await sh(inst, `sed -i 's|^exit 0$|echo shut-down-cleanly > /shutdown-mark; sync\\nexit 0|' /etc/init.d/rcK && grep -q shutdown-mark /etc/init.d/rcK && rm -f /shutdown-mark && sync`);
    const pid1 = await sh(inst, "cut -d' ' -f22 /proc/1/stat");
    const { ImageId } = await c.send(new CreateImageCommand({ InstanceId: inst.InstanceId, Name: 'after-shutdown' }));
    await until('image available', async () => ((await c.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0]!.State === 'available' ? true : undefined), 600);
    // the instance came back (a new PID 1)
    const again = await until('running again', async () => {
      const r = await sshExec(inst.PublicIpAddress!, key, "cut -d' ' -f22 /proc/1/stat", { timeoutMs: 5_000, user: 'root' });
      return r.code === 0 && r.stdout.trim() !== pid1 ? r.stdout.trim() : undefined;
    }, 240, 250);
    assert.notEqual(again, pid1);
    const child = await launch(ImageId!);
    assert.equal(await sh(child, 'cat /shutdown-mark'), 'shut-down-cleanly', 'the image was taken after the guest shut down');
  });

  it('CreateImage with NoReboot: the instance is frozen, not shut down, and what it wrote (unsynced) is in the image', async () => {
    const inst = await launch(tiny);
    await sh(inst, 'echo written-not-synced > /nr-mark');
    const pid1 = await sh(inst, "cut -d' ' -f22 /proc/1/stat");
    const { ImageId } = await c.send(new CreateImageCommand({ InstanceId: inst.InstanceId, Name: 'no-reboot', NoReboot: true }));
    await until('image available', async () => ((await c.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0]!.State === 'available' ? true : undefined), 600);
    assert.equal(await sh(inst, "cut -d' ' -f22 /proc/1/stat"), pid1, 'the same PID 1: no reboot');
    const child = await launch(ImageId!);
    assert.equal(await sh(child, 'cat /nr-mark'), 'written-not-synced');
  });
});
