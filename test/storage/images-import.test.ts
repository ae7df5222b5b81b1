/**
 * `overcast image import`: a rootfs tarball, a raw ext4 disk and a qcow2 image
 * become launchable ext4 disks holding the user's files, registered as a
 * private AMI of the account; what is not a filesystem is refused.
 */
import { DescribeImagesCommand, DescribeInstancesCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runImageCommand } from '../../src/images-command.js';
import { hasCommand, run } from '../../src/host/exec.js';
import { detectFormat, importDisk, ImportError } from '../../src/storage/images/import.js';
import { startTestServer } from '../helpers/server.js';

const sink = () => ({
  text: '',
  write(s: string) {
    this.text += s;
    return true;
  },
});

/** The file at `path` inside an ext4 image, read without mounting it. */
async function catInside(image: string, path: string): Promise<string> {
  return (await run('debugfs', ['-R', `cat ${path}`, image])).stdout;
}

describe('overcast image import', () => {
  let dir: string;
  let tarball: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'overcast-import-'));
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'etc'), { recursive: true });
    writeFileSync(join(tree, 'etc', 'marker'), 'imported by a user\n');
    tarball = join(dir, 'rootfs.tar');
    await run('tar', ['-c', '-f', tarball, '-C', tree, '.']);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a rootfs tarball becomes an ext4 disk holding its files; the same tarball again is not rebuilt', async () => {
    assert.equal(await detectFormat(tarball), 'tar');
    const disk = await importDisk(tarball, join(dir, 'out'), 'mine');
    assert.equal(disk.format, 'tar');
    assert.equal(await catInside(disk.file, '/etc/marker'), 'imported by a user\n');
    const again = await importDisk(tarball, join(dir, 'out'), 'mine');
    assert.equal(again.file, disk.file);
  });

  it('a raw ext4 disk is taken as it is; qcow2 is converted with qemu-img; anything else is refused', async (t) => {
    const raw = (await importDisk(tarball, join(dir, 'raw-src'), 'raw-src')).file;
    const fromRaw = await importDisk(raw, join(dir, 'out'), 'raw');
    assert.equal(fromRaw.format, 'raw');
    assert.equal(await catInside(fromRaw.file, '/etc/marker'), 'imported by a user\n');
    const junk = join(dir, 'junk.img');
    writeFileSync(junk, Buffer.alloc(1 << 20, 7));
    await assert.rejects(importDisk(junk, join(dir, 'out'), 'junk'), ImportError);
    if (!(await hasCommand('qemu-img'))) {
      t.skip('qemu-img is not installed (Debian package qemu-utils)');
      return;
    }
    const qcow = join(dir, 'disk.qcow2');
    await run('qemu-img', ['convert', '-O', 'qcow2', raw, qcow]);
    assert.equal(await detectFormat(qcow), 'qcow2');
    const fromQcow = await importDisk(qcow, join(dir, 'out'), 'qcow');
    assert.equal(await catInside(fromQcow.file, '/etc/marker'), 'imported by a user\n');
  });

  it('registers a private AMI the server lists under Owners=self and launches', async () => {
    const data = join(dir, 'data');
    const out = sink();
    const err = sink();
    const code = await runImageCommand(['import', tarball, '--name', 'my-rootfs', '--data-dir', data], out, err);
    assert.equal(code, 0, err.text);
    const amiId = out.text.split('\t')[0]!;
    assert.match(amiId, /^ami-[0-9a-f]{17}$/);
    const dup = sink();
    assert.equal(await runImageCommand(['import', tarball, '--name', 'my-rootfs', '--data-dir', data], sink(), dup), 1);
    assert.match(dup.text, /already in use/);
    assert.equal(await runImageCommand(['import', tarball, '--data-dir', data], sink(), sink()), 2, 'no --name');

    const t = await startTestServer({}, data);
    try {
      const c = t.client();
      const images = await c.send(new DescribeImagesCommand({ Owners: ['self'] }));
      const image = images.Images!.find((i) => i.ImageId === amiId);
      assert.ok(image, 'listed as the account’s own');
      assert.equal(image.Public, false);
      assert.equal(image.Name, 'my-rootfs');
      const id = (await c.send(new RunInstancesCommand({ ImageId: amiId, MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
      const state = (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.State!.Name;
      assert.ok(state === 'pending' || state === 'running');
    } finally {
      await t.close();
    }
  });
});
