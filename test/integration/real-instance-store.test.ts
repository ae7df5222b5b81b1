/**
 * Instance-store-backed AMIs with real bytes, through @aws-sdk/client-ec2 and
 * ssh2 into a real instance: the tiny image bundled by `overcast image import
 * --instance-store`, registered by its ImageLocation, boots from a copy of the
 * bundle's disk; a file written to / survives a reboot (and the bundle never
 * sees it); a stop is refused; a terminate removes the root; nothing is left on
 * the host.
 *
 * Runs as root where the container runtime runs; skipped with the reason elsewhere.
 */
import {
  DescribeImagesCommand,
  DescribeInstancesCommand,
  RebootInstancesCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundleFile } from '../../src/domain/bundle-manifest.js';
import { run } from '../../src/host/exec.js';
import { runImageCommand } from '../../src/images-command.js';
import { ImageCache } from '../../src/storage/images/cache.js';
import { endRealServer, importFreshKey, openSshInDefaultGroup, realRuntimeSkip, rootShell, runningInstance, sshExec, until } from '../helpers/real-instances.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

const IMAGE_DIR = process.env.OVERCAST_TEST_IMAGE_DIR ?? '/var/tmp/overcast-test-images';
const PREFIX = 'ovts';
const POOL = '192.0.2.128/27';

const probeWhy = await realRuntimeSkip(PREFIX);

describe('instance-store-backed AMIs in real instances', { skip: probeWhy, timeout: 600_000 }, () => {
  let t: TestServer;
  let c: EC2Client;
  let key: string;
  const bundle = `ovts-${process.pid}-${Date.now().toString(36)}`;
  const launched: string[] = [];

  const sh = (i: Instance, cmd: string): Promise<string> => rootShell(i, key, cmd);
  const describeOne = async (id: string): Promise<Instance> => (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;

  before(async () => {
    mkdirSync(IMAGE_DIR, { recursive: true });
    t = await startTestServer({ driver: 'container', hostPrefix: PREFIX, publicIpPool: POOL, imageDir: IMAGE_DIR });
    c = t.client();
    key = await importFreshKey(c, 'is');
    await openSshInDefaultGroup(c);
  });

  after(async () => {
    rmSync(join(IMAGE_DIR, 'bundles', bundle), { recursive: true, force: true });
    assert.deepEqual(await endRealServer(t, c, launched), [], 'nothing of this server is left on the host');
  });

  it('boots from a copy of the bundle; / survives a reboot; stop is refused; terminate removes the root', async () => {
    const tiny = await new ImageCache({ dir: IMAGE_DIR }).ensure('tiny');
    const out = { text: '', write(s: string) { this.text += s; } };
    const err = { text: '', write(s: string) { this.text += s; } };
    assert.equal(await runImageCommand(['import', tiny, '--name', bundle, '--instance-store', '--image-dir', IMAGE_DIR], out, err), 0, err.text);
    rmSync(join(IMAGE_DIR, 'imports'), { recursive: true, force: true });
    const location = out.text.split('\t')[0]!;
    assert.equal(location, `overcast-images/${bundle}/image.manifest.xml`);
    const { ImageId } = await c.send(new RegisterImageCommand({ Name: bundle, ImageLocation: location }));
    assert.equal((await c.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0]!.RootDeviceType, 'instance-store');

    const id = (await c.send(new RunInstancesCommand({ ImageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'is' }))).Instances![0]!.InstanceId!;
    launched.push(id);
    const inst = await runningInstance(c, id);
    assert.equal(inst.RootDeviceType, 'instance-store');
    const rootFile = join(t.dataDir, 'pool', 'mnt', 'volumes', `${id}-root.img`);
    assert.ok(existsSync(rootFile), `the root volume is on the pool (${rootFile})`);

    await sh(inst, 'echo survives-reboot > /marker && sync');
    const pid1Start = await sh(inst, "cut -d' ' -f22 /proc/1/stat");
    // the bundle's disk is not the instance's: the marker is only in the copy
    const inBundle = await run('debugfs', ['-R', 'cat /marker', bundleFile(IMAGE_DIR, bundle, 'root.img')]).catch((e: Error) => e);
    assert.ok(inBundle instanceof Error || !inBundle.stdout.includes('survives-reboot'), 'the bundle does not hold the instance\'s writes');

    await c.send(new RebootInstancesCommand({ InstanceIds: [id] }));
    const rebooted = await until('a new PID 1 after the reboot', async () => {
      const r = await sshExec(inst.PublicIpAddress!, key, "cut -d' ' -f22 /proc/1/stat", { timeoutMs: 5_000, user: 'root' });
      return r.code === 0 && r.stdout.trim() !== pid1Start ? r.stdout.trim() : undefined;
    }, 240, 250);
    assert.notEqual(rebooted, pid1Start);
    assert.equal(await sh(inst, 'cat /marker'), 'survives-reboot');

    const stop = await ec2Error(c.send(new StopInstancesCommand({ InstanceIds: [id] })));
    assert.equal(stop.code, 'UnsupportedOperation');
    assert.equal(stop.message, `The instance '${id}' does not have an 'ebs' root device type and cannot be stopped.`);
    assert.equal(await sh(inst, 'cat /marker'), 'survives-reboot', 'still running after the refused stop');

    await c.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await until('terminated', async () => ((await describeOne(id)).State?.Name === 'terminated' ? true : undefined), 600);
    await until('the root volume removed', async () => (existsSync(rootFile) ? undefined : true), 100);
  });
});
