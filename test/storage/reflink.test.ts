/**
 * The reflink block store on this host: the shared conformance suite, then
 * real bytes (an ext4 image's files on an attached volume, a snapshot's old
 * bytes in a clone, a clone's cost), recovery after a restart, a lost device,
 * a full pool, and destroy() leaving nothing behind. Skipped, with the reason,
 * where probe() says the host cannot run it (not root, tools missing).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { run } from '../../src/host/exec.js';
import { BlockStoreError, type VolumeEvent, type VolumeSource } from '../../src/storage/block-store.js';
import { BLOCK_STORES } from '../../src/storage/drivers/index.js';
import { loopDevicesOf } from '../../src/storage/drivers/loop-devices.js';
import { listMounts } from '../../src/host/mounts.js';
import { poolLeftovers, ReflinkBlockStore } from '../../src/storage/drivers/reflink.js';
import { runBlockStoreConformance, type BlockStoreCase } from './block-store.conformance.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

const probe = await new ReflinkBlockStore({ dir: join(tmpdir(), 'overcast-reflink-probe-only'), sizeGiB: 1 }).probe();
const cannot = probe.ok ? undefined : probe.reason;

/** An ext4 image file of `sizeMiB` holding `files` (name → content), made with mkfs.ext4 -d. */
async function makeImage(file: string, sizeMiB: number, files: Record<string, string | Buffer>): Promise<void> {
  const src = await mkdtemp(join(tmpdir(), 'overcast-image-src-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(src, name), content);
    await run('mkfs.ext4', ['-q', '-F', '-b', '4096', '-d', src, file, `${sizeMiB}M`]);
  } finally {
    await rm(src, { recursive: true, force: true });
  }
}

async function rejectsWith(p: Promise<unknown>, code: BlockStoreError['code']): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof BlockStoreError, `expected a BlockStoreError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

async function readAt(dev: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(dev, 'r');
  try {
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, offset);
    return buf;
  } finally {
    await fh.close();
  }
}

async function writeAt(dev: string, offset: number, data: Buffer): Promise<void> {
  const fh = await open(dev, 'r+');
  try {
    await fh.write(data, 0, data.length, offset);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function gone(path: string): Promise<boolean> {
  try {
    await stat(path);
    return false;
  } catch {
    return true;
  }
}

// --- the shared suite ---------------------------------------------------------

const confDir = mkdtempSync(join(tmpdir(), 'overcast-reflink-conformance-'));
const confImage = join(confDir, 'image.ext4');
let confStore: ReflinkBlockStore | undefined;
const ALL: BlockStoreCase[] = ['create', 'create-idempotent', 'create-refusals', 'from-image', 'attach', 'attach-refusals', 'delete', 'snapshots', 'snapshot-unknown', 'copy-snapshot', 'resize', 'list'];

runBlockStoreConformance(
  'reflink',
  async () => {
    confStore = new ReflinkBlockStore({ dir: join(confDir, 'pool'), sizeGiB: 16 });
    if (!cannot) await makeImage(confImage, 64, { hello: 'conformance\n' });
    return confStore;
  },
  { timeoutMs: 120_000, imageFile: confImage, skip: cannot ? Object.fromEntries(ALL.map((c) => [c, cannot])) : {} },
);

after(async () => {
  try {
    await confStore?.destroy();
    assert.deepEqual(await poolLeftovers(join(confDir, 'pool')), []);
  } finally {
    await rm(confDir, { recursive: true, force: true });
  }
  assert.ok(await gone(confDir));
});

// --- without the host ---------------------------------------------------------

describe('reflink block store: registration', () => {
  it('is registered as "reflink", its pool under the data directory, made on first use (not by the constructor or probe)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'overcast-reflink-config-'));
    try {
      const bs = BLOCK_STORES.create('reflink', loadConfig(['--data-dir', dataDir, '--pool-size-gib', '3'], {}));
      assert.ok(bs instanceof ReflinkBlockStore);
      assert.equal(bs.name, 'reflink');
      const r = await bs.probe();
      if (!r.ok) assert.ok(r.reason.length > 0);
      assert.deepEqual(await readdir(dataDir), []);
      assert.deepEqual(await bs.listVolumes(), [], 'a pool never made lists nothing');
      assert.deepEqual(await readdir(dataDir), [], 'and is not made by listing');
      await bs.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

// --- on the host --------------------------------------------------------------

describe('reflink block store on this host', { skip: cannot, timeout: 180_000 }, () => {
  let dir = '';
  let poolDir = '';
  let bs: ReflinkBlockStore;
  const others: ReflinkBlockStore[] = [];
  const inst = () => `i-${randomBytes(8).toString('hex')}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'overcast-reflink-'));
    poolDir = join(dir, 'pool');
    bs = new ReflinkBlockStore({ dir: poolDir, sizeGiB: 8, checkIntervalMs: 0 });
  });

  after(async () => {
    try {
      for (const o of others) await o.close();
      await bs?.destroy();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a volume from an image holds the image's files, its filesystem grown to the volume's size", async () => {
    const image = join(dir, 'hello.ext4');
    await makeImage(image, 64, { hello: 'hello from the image\n' });
    const source: VolumeSource = { kind: 'image', imageId: 'ami-00000000000000001', deviceName: '/dev/xvda', file: image };
    await bs.createVolume({ volumeId: 'vol-image', sizeGiB: 2, source });
    const dev = await bs.attach('vol-image', inst());
    try {
      const { stdout } = await run('debugfs', ['-R', 'cat /hello', dev]);
      assert.equal(stdout, 'hello from the image\n');
      const { stdout: sb } = await run('dumpe2fs', ['-h', dev]);
      const count = Number(/^Block count:\s+(\d+)/m.exec(sb)?.[1]);
      const size = Number(/^Block size:\s+(\d+)/m.exec(sb)?.[1]);
      assert.equal(count * size, 2 * GiB, 'the filesystem fills the 2 GiB volume');
      const { stdout: devSize } = await run('blockdev', ['--getsize64', dev]);
      assert.equal(Number(devSize.trim()), 2 * GiB);
    } finally {
      await bs.detach('vol-image');
      await bs.deleteVolume('vol-image');
    }
  });

  it('an image volume needs the image file: none, or a missing one, is not-found; a volume smaller than the image is invalid', async () => {
    await rejectsWith(bs.createVolume({ volumeId: 'vol-nofile', sizeGiB: 1, source: { kind: 'image', imageId: 'ami-1', deviceName: '/dev/xvda' } }), 'not-found');
    await rejectsWith(bs.createVolume({ volumeId: 'vol-nofile', sizeGiB: 1, source: { kind: 'image', imageId: 'ami-1', deviceName: '/dev/xvda', file: join(dir, 'none.ext4') } }), 'not-found');
    const big = join(dir, 'big.ext4');
    await makeImage(big, 1100, {});
    await rejectsWith(bs.createVolume({ volumeId: 'vol-small', sizeGiB: 1, source: { kind: 'image', imageId: 'ami-2', deviceName: '/dev/xvda', file: big } }), 'invalid');
    await rm(big);
    assert.deepEqual(await bs.listVolumes(), []);
  });

  it('a snapshot keeps the bytes written before it; a volume cloned from it reads them back', async () => {
    const offset = 5 * MiB + 123;
    const old = Buffer.from('the bytes before the snapshot');
    const overwritten = Buffer.from('THE BYTES AFTER THE SNAPSHOT!');
    await bs.createVolume({ volumeId: 'vol-data', sizeGiB: 1, source: { kind: 'empty' } });
    const dev = await bs.attach('vol-data', inst());
    await writeAt(dev, offset, old);
    await bs.createSnapshot('snap-data', 'vol-data');
    await writeAt(dev, offset, overwritten);
    await bs.createVolume({ volumeId: 'vol-clone', sizeGiB: 2, source: { kind: 'snapshot', snapshotId: 'snap-data' } });
    const cloneDev = await bs.attach('vol-clone', inst());
    try {
      assert.deepEqual(await readAt(cloneDev, offset, old.length), old);
      assert.deepEqual(await readAt(dev, offset, overwritten.length), overwritten);
      const { stdout } = await run('blockdev', ['--getsize64', cloneDev]);
      assert.equal(Number(stdout.trim()), 2 * GiB, 'the clone has its own size');
    } finally {
      for (const v of ['vol-data', 'vol-clone']) await bs.detach(v);
      await bs.deleteSnapshot('snap-data');
      for (const v of ['vol-data', 'vol-clone']) await bs.deleteVolume(v);
    }
  });

  it('a clone of an imported image takes next to no space; a rebuilt image is imported again, its old copy dropped', async (t) => {
    const image = join(dir, 'data.ext4');
    await makeImage(image, 1024, { data: randomBytes(128 * MiB) });
    const source: VolumeSource = { kind: 'image', imageId: 'ami-00000000000000002', deviceName: '/dev/xvda', file: image };
    const imported = join(poolDir, 'mnt', 'images');
    try {
      const before0 = (await bs.space()).usedBytes;
      await bs.createVolume({ volumeId: 'vol-first', sizeGiB: 1, source });
      const before = (await bs.space()).usedBytes;
      assert.ok(before - before0 >= 128 * MiB, `the import copies the image's data (${before - before0} bytes)`);
      await bs.createVolume({ volumeId: 'vol-second', sizeGiB: 1, source });
      const grew = (await bs.space()).usedBytes - before;
      t.diagnostic(`import of a 1 GiB image holding 128 MiB: +${before - before0} bytes used; a 1 GiB clone of it: +${grew} bytes`);
      assert.ok(grew < 16 * MiB, `a 1 GiB clone holding 128 MiB of data grew the pool by ${grew} bytes`);
      const files = async () => (await readdir(imported)).filter((n) => n.startsWith('data-') && n.endsWith('.img'));
      const copiesOf = async () => (await files()).filter((n) => !n.includes('.grown-'));
      const copies = await copiesOf();
      assert.equal(copies.length, 1, 'imported once');
      // and grown to the volume size once: the next 1 GiB root is one clone, no e2fsck or resize2fs
      assert.deepEqual((await files()).filter((n) => n.includes('.grown-')), [copies[0]!.replace(/\.img$/, '.grown-1g.img')]);

      const later = new Date(Date.now() + 60_000);
      await utimes(image, later, later);
      await bs.createVolume({ volumeId: 'vol-rebuilt', sizeGiB: 1, source });
      const now = await copiesOf();
      assert.equal(now.length, 1, 'one copy, of the new build');
      assert.notEqual(now[0], copies[0]);
      assert.ok(!(await files()).some((n) => n.startsWith(copies[0]!.replace(/\.img$/, ''))), 'the old build’s grown copy went with it');
      const dev = await bs.attach('vol-first', inst());
      const { stdout } = await run('debugfs', ['-R', 'stat /data', dev]);
      assert.match(stdout, /Size: 134217728/, 'a volume of the old build keeps its blocks');
    } finally {
      await bs.detach('vol-first');
      for (const v of ['vol-first', 'vol-second', 'vol-rebuilt']) await bs.deleteVolume(v);
    }
  });

  it('a restarted server finds the pool, the volumes and their attachments as they are', async () => {
    const i = inst();
    await bs.createVolume({ volumeId: 'vol-kept', sizeGiB: 1, source: { kind: 'empty' } });
    const dev = await bs.attach('vol-kept', i);
    await bs.createSnapshot('snap-kept', 'vol-kept');
    const listed = await bs.listVolumes();
    const again = new ReflinkBlockStore({ dir: poolDir, sizeGiB: 8, checkIntervalMs: 0 });
    others.push(again);
    assert.deepEqual(await again.listVolumes(), listed);
    assert.deepEqual(await again.listSnapshots(), [{ snapshotId: 'snap-kept', volumeId: 'vol-kept', sizeGiB: 1, storedBytes: 0, dataBytes: 0 }]);
    assert.equal(await again.attach('vol-kept', i), dev, 'the same device for the same instance');
    await rejectsWith(again.attach('vol-kept', inst()), 'in-use');
    assert.equal((await loopDevicesOf(join(poolDir, 'pool.xfs'))).length, 1, 'the pool attached once');
    assert.equal((await listMounts()).filter((m) => m.target === join(poolDir, 'mnt')).length, 1, 'and mounted once');
    await again.detach('vol-kept');
    assert.equal((await bs.listVolumes()).find((v) => v.volumeId === 'vol-kept')?.attachment, undefined, 'detached for both');
    await again.deleteSnapshot('snap-kept');
    await again.deleteVolume('vol-kept');
    assert.deepEqual(await bs.listVolumes(), []);
  });

  it('the pool is set up once when two stores start together, and found again when attached but not mounted', async () => {
    const a = new ReflinkBlockStore({ dir: poolDir, sizeGiB: 8, checkIntervalMs: 0 });
    const b = new ReflinkBlockStore({ dir: poolDir, sizeGiB: 8, checkIntervalMs: 0 });
    others.push(a, b);
    await bs.destroy(); // the pool down (its files stay), as after a reboot
    bs = new ReflinkBlockStore({ dir: poolDir, sizeGiB: 8, checkIntervalMs: 0 });
    await Promise.all([a.createVolume({ volumeId: 'vol-a', sizeGiB: 1, source: { kind: 'empty' } }), b.createVolume({ volumeId: 'vol-b', sizeGiB: 1, source: { kind: 'empty' } })]);
    const pool = join(poolDir, 'pool.xfs');
    const mnt = join(poolDir, 'mnt');
    assert.equal((await loopDevicesOf(pool)).length, 1);
    assert.equal((await listMounts()).filter((m) => m.target === mnt).length, 1);
    await run('umount', [mnt]); // a crash between attaching the pool and mounting it
    const c = new ReflinkBlockStore({ dir: poolDir, sizeGiB: 8, checkIntervalMs: 0 });
    others.push(c);
    assert.deepEqual((await c.listVolumes()).map((v) => v.volumeId), ['vol-a', 'vol-b']);
    assert.equal((await loopDevicesOf(pool)).length, 1, 'the same loop device, mounted again');
    assert.equal((await listMounts()).filter((m) => m.target === mnt).length, 1);
    for (const v of ['vol-a', 'vol-b']) await bs.deleteVolume(v);
  });

  it('a loop device the books do not hold (a detach cut short) is not an attachment, and goes with the volume', async () => {
    await bs.createVolume({ volumeId: 'vol-orphan', sizeGiB: 1, source: { kind: 'empty' } });
    const file = join(poolDir, 'mnt', 'volumes', 'vol-orphan.img');
    await run('losetup', ['--find', '--show', file]);
    assert.equal((await bs.listVolumes()).find((v) => v.volumeId === 'vol-orphan')?.attachment, undefined);
    await bs.deleteVolume('vol-orphan');
    assert.deepEqual(await loopDevicesOf(file), []);
    assert.ok(!(await bs.listVolumes()).some((v) => v.volumeId === 'vol-orphan'));
  });

  it('a loop device that disappears is reported lost once, and the volume is detached', async () => {
    const i = inst();
    await bs.createVolume({ volumeId: 'vol-lost', sizeGiB: 1, source: { kind: 'empty' } });
    const dev = await bs.attach('vol-lost', i);
    const seen: VolumeEvent[] = [];
    const stop = bs.events((e) => seen.push(e));
    try {
      await run('losetup', ['-d', dev]);
      assert.equal((await bs.listVolumes()).find((v) => v.volumeId === 'vol-lost')?.attachment, undefined);
      await bs.listVolumes();
      assert.deepEqual(seen, [{ volumeId: 'vol-lost', instanceId: i, kind: 'lost' }]);
      const dev2 = await bs.attach('vol-lost', inst());
      assert.match(dev2, /^\/dev\/loop\d+$/, 'attachable again');
    } finally {
      stop();
      await bs.detach('vol-lost');
      await bs.deleteVolume('vol-lost');
    }
  });

  it('a full pool refuses new volumes and snapshots with no-space', async () => {
    await bs.createVolume({ volumeId: 'vol-fill', sizeGiB: 8, source: { kind: 'empty' } });
    try {
      // what a guest writing 8 GiB would do: the volume's blocks allocated, nearly all the pool's space used
      const { freeBytes } = await bs.space();
      await run('fallocate', ['-l', String(freeBytes - 8 * MiB), join(poolDir, 'mnt', 'volumes', 'vol-fill.img')]);
      await rejectsWith(bs.createVolume({ volumeId: 'vol-more', sizeGiB: 1, source: { kind: 'empty' } }), 'no-space');
      await rejectsWith(bs.createSnapshot('snap-full', 'vol-fill'), 'no-space');
      assert.ok(!(await bs.listVolumes()).some((v) => v.volumeId === 'vol-more'));
      assert.deepEqual(await bs.listSnapshots(), []);
    } finally {
      await bs.deleteVolume('vol-fill');
    }
    await bs.createVolume({ volumeId: 'vol-more', sizeGiB: 1, source: { kind: 'empty' } });
    await bs.deleteVolume('vol-more');
  });

  it('destroy() detaches every loop device, unmounts the pool and detaches it: nothing is left on the host', async () => {
    await bs.createVolume({ volumeId: 'vol-last', sizeGiB: 1, source: { kind: 'empty' } });
    await bs.attach('vol-last', inst());
    assert.ok((await poolLeftovers(poolDir)).length >= 3, 'the pool loop device, its mount and the volume loop device');
    await bs.destroy();
    assert.deepEqual(await poolLeftovers(poolDir), []);
    await bs.destroy();
    const reopened = new ReflinkBlockStore({ dir: poolDir, sizeGiB: 8, checkIntervalMs: 0 });
    try {
      const vols = await reopened.listVolumes();
      assert.deepEqual(vols.map((v) => v.volumeId), ['vol-last'], 'the files stay: the pool mounts again with its volumes');
      assert.equal(vols[0]!.attachment, undefined);
    } finally {
      await reopened.destroy();
    }
    assert.deepEqual(await poolLeftovers(poolDir), []);
  });
});
