/**
 * The one suite every BlockStore driver must pass, run by
 * test/storage/<driver>.test.ts as runBlockStoreConformance(name, factory, { skip }).
 * Contract only: idempotent repeats, attachment rules, snapshots and clones,
 * the refusals with their codes, and the listings recovery relies on. A case
 * a driver cannot pass is named in `skip` with the reason.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BlockStoreError, type BlockStore, type VolumeSource } from '../../src/storage/block-store.js';

export type BlockStoreCase =
  | 'probe'
  | 'create'
  | 'create-idempotent'
  | 'create-refusals'
  | 'from-image'
  | 'attach'
  | 'attach-refusals'
  | 'attach-shared'
  | 'delete'
  | 'snapshots'
  | 'snapshot-unknown'
  | 'snapshot-point'
  | 'copy-snapshot'
  | 'resize'
  | 'list';

export interface BlockStoreConformanceOptions {
  timeoutMs?: number;
  /** an image the store holds (default: the catalogue's first x86 AMI id form) */
  imageId?: string;
  /** the image's disk file on the host, for drivers that clone real bytes (an ext4 image of at most 8 GiB) */
  imageFile?: string;
  skip?: Partial<Record<BlockStoreCase, string>>;
}

async function rejectsWith(p: Promise<unknown>, code: BlockStoreError['code']): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof BlockStoreError, `expected a BlockStoreError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

const vol = () => `vol-${randomBytes(9).toString('hex').slice(0, 17)}`;
const snap = () => `snap-${randomBytes(9).toString('hex').slice(0, 17)}`;
const inst = () => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;
const EMPTY: VolumeSource = { kind: 'empty' };

export function runBlockStoreConformance(name: string, factory: () => BlockStore | Promise<BlockStore>, opts: BlockStoreConformanceOptions = {}): void {
  const skip = opts.skip ?? {};
  const imageId = opts.imageId ?? 'ami-0123456789abcdef0';
  const imageSource: VolumeSource = { kind: 'image', imageId, deviceName: '/dev/xvda', ...(opts.imageFile !== undefined ? { file: opts.imageFile } : {}) };
  const test = (key: BlockStoreCase, title: string, fn: () => Promise<void>) =>
    it(title, skip[key] !== undefined ? { skip: `${name}: ${skip[key]}` } : {}, fn);

  describe(`BlockStore conformance: ${name}`, { timeout: opts.timeoutMs ?? 10_000 }, () => {
    let bs: BlockStore;
    before(async () => {
      bs = await factory();
    });
    after(async () => {
      await bs.close();
    });

    test('probe', 'probe says whether this host can run it, with a reason when not', async () => {
      const r = await bs.probe();
      if (!r.ok) assert.ok(r.reason.length > 0);
      else assert.deepEqual(r, { ok: true });
    });

    test('create', 'createVolume answers the volume, detached', async () => {
      const id = vol();
      const v = await bs.createVolume({ volumeId: id, sizeGiB: 1, source: EMPTY });
      assert.deepEqual(v, { volumeId: id, sizeGiB: 1, source: EMPTY });
      await bs.deleteVolume(id);
    });

    test('create-idempotent', 'the same create again answers the same volume; another size or source is a conflict', async () => {
      const id = vol();
      const a = await bs.createVolume({ volumeId: id, sizeGiB: 2, source: EMPTY });
      assert.deepEqual(await bs.createVolume({ volumeId: id, sizeGiB: 2, source: { kind: 'empty' } }), a);
      await rejectsWith(bs.createVolume({ volumeId: id, sizeGiB: 3, source: EMPTY }), 'conflict');
      await rejectsWith(bs.createVolume({ volumeId: id, sizeGiB: 2, source: imageSource }), 'conflict');
      assert.equal((await bs.listVolumes()).filter((v) => v.volumeId === id).length, 1);
      await bs.deleteVolume(id);
    });

    test('create-refusals', 'a size below 1 GiB is invalid; an unknown snapshot is not-found', async () => {
      await rejectsWith(bs.createVolume({ volumeId: vol(), sizeGiB: 0, source: EMPTY }), 'invalid');
      await rejectsWith(bs.createVolume({ volumeId: vol(), sizeGiB: 1, source: { kind: 'snapshot', snapshotId: 'snap-00000000000000none' } }), 'not-found');
    });

    test('from-image', "a volume from an image's device", async () => {
      const id = vol();
      const v = await bs.createVolume({ volumeId: id, sizeGiB: 8, source: imageSource });
      assert.deepEqual(v.source, imageSource);
      assert.deepEqual(await bs.createVolume({ volumeId: id, sizeGiB: 8, source: { ...imageSource } }), v, 'again: the same');
      await bs.deleteVolume(id);
    });

    test('attach', 'attach answers a host device path; again for the same instance the same path; detach is idempotent', async () => {
      const id = vol();
      const i = inst();
      await bs.createVolume({ volumeId: id, sizeGiB: 1, source: EMPTY });
      const path = await bs.attach(id, i);
      assert.match(path, /^\//, 'an absolute host path');
      assert.equal(await bs.attach(id, i), path);
      assert.deepEqual((await bs.listVolumes()).find((v) => v.volumeId === id)!.attachment, { instanceId: i, devicePath: path });
      await bs.detach(id);
      await bs.detach(id);
      await bs.detach('vol-0000000000000none');
      assert.equal((await bs.listVolumes()).find((v) => v.volumeId === id)!.attachment, undefined);
      await bs.deleteVolume(id);
    });

    test('attach-shared', 'a shared attach (Multi-Attach) gives a second instance the same device; each detach lets one go, the last detaches', async () => {
      const id = vol();
      await bs.createVolume({ volumeId: id, sizeGiB: 1, source: EMPTY });
      const [a, b, c] = [inst(), inst(), inst()];
      const path = await bs.attach(id, a, { shared: true });
      assert.equal(await bs.attach(id, b, { shared: true }), path, 'the same device');
      assert.equal(await bs.attach(id, b, { shared: true }), path, 'again: the same');
      await rejectsWith(bs.attach(id, c), 'in-use'); // not shared: refused
      const held = () => bs.listVolumes().then((l) => l.find((v) => v.volumeId === id)!.attachment);
      assert.deepEqual(await held(), { instanceId: a, devicePath: path, sharedWith: [b] });
      await rejectsWith(bs.deleteVolume(id), 'in-use');
      await bs.detach(id, c); // not a holder: no-op
      await bs.detach(id, a);
      assert.deepEqual(await held(), { instanceId: b, devicePath: path }, 'b still holds the device');
      await bs.detach(id, b);
      assert.equal(await held(), undefined);
      await bs.deleteVolume(id);
    });

    test('attach-refusals', 'attached to another instance is in-use; an unknown volume is not-found', async () => {
      const id = vol();
      await bs.createVolume({ volumeId: id, sizeGiB: 1, source: EMPTY });
      const i = inst();
      await bs.attach(id, i);
      await rejectsWith(bs.attach(id, inst()), 'in-use');
      await rejectsWith(bs.attach('vol-0000000000000none', i), 'not-found');
      await bs.detach(id);
      await bs.deleteVolume(id);
    });

    test('delete', 'an attached volume cannot be deleted; a detached one can; again, or unknown, is a no-op', async () => {
      const id = vol();
      await bs.createVolume({ volumeId: id, sizeGiB: 1, source: EMPTY });
      await bs.attach(id, inst());
      await rejectsWith(bs.deleteVolume(id), 'in-use');
      assert.ok((await bs.listVolumes()).some((v) => v.volumeId === id), 'still there');
      await bs.detach(id);
      await bs.deleteVolume(id);
      await bs.deleteVolume(id);
      assert.ok(!(await bs.listVolumes()).some((v) => v.volumeId === id));
    });

    test('snapshots', 'snapshot (attached or not), clone at least its size, delete; ids are idempotent', async () => {
      const id = vol();
      await bs.createVolume({ volumeId: id, sizeGiB: 4, source: EMPTY });
      await bs.attach(id, inst());
      const s = snap();
      const info = await bs.createSnapshot(s, id);
      assert.deepEqual(info, { snapshotId: s, volumeId: id, sizeGiB: 4, storedBytes: 0, dataBytes: 0 }, 'an empty volume: nothing stored, nothing to restore');
      assert.deepEqual(await bs.createSnapshot(s, id), info);
      const other = vol();
      await bs.createVolume({ volumeId: other, sizeGiB: 1, source: EMPTY });
      await rejectsWith(bs.createSnapshot(s, other), 'conflict');
      await rejectsWith(bs.createSnapshot(snap(), 'vol-0000000000000none'), 'not-found');
      await rejectsWith(bs.createVolume({ volumeId: vol(), sizeGiB: 3, source: { kind: 'snapshot', snapshotId: s } }), 'invalid');
      const clone = vol();
      await bs.createVolume({ volumeId: clone, sizeGiB: 6, source: { kind: 'snapshot', snapshotId: s } });
      assert.ok((await bs.listSnapshots()).some((x) => x.snapshotId === s));
      await bs.deleteSnapshot(s);
      await bs.deleteSnapshot(s);
      assert.ok(!(await bs.listSnapshots()).some((x) => x.snapshotId === s));
      assert.ok((await bs.listVolumes()).some((v) => v.volumeId === clone), 'a clone outlives its snapshot');
      await bs.detach(id);
      for (const v of [id, other, clone]) await bs.deleteVolume(v);
    });

    test('snapshot-unknown', 'a snapshot of an unknown (or malformed) volume is not-found and leaves nothing', async () => {
      const s = snap();
      await rejectsWith(bs.createSnapshot(s, 'vol-0000000000000none'), 'not-found');
      await rejectsWith(bs.createSnapshot(s, 'not a volume id'), 'not-found');
      assert.ok(!(await bs.listSnapshots()).some((x) => x.snapshotId === s));
      await rejectsWith(bs.createVolume({ volumeId: vol(), sizeGiB: 1, source: { kind: 'snapshot', snapshotId: s } }), 'not-found');
    });

    test('snapshot-point', 'snapshotPoint: no snapshot yet; again a no-op; createSnapshot then stores it; unknown volume → not-found; another volume → conflict', async () => {
      const a = vol();
      const other = vol();
      const s = snap();
      await bs.createVolume({ volumeId: a, sizeGiB: 1, source: EMPTY });
      await bs.createVolume({ volumeId: other, sizeGiB: 1, source: EMPTY });
      await bs.snapshotPoint(s, a);
      await bs.snapshotPoint(s, a);
      assert.ok(!(await bs.listSnapshots()).some((x) => x.snapshotId === s), 'a point is not a snapshot');
      const info = await bs.createSnapshot(s, a);
      assert.equal(info.volumeId, a);
      await bs.snapshotPoint(s, a);
      await rejectsWith(bs.snapshotPoint(s, other), 'conflict');
      await rejectsWith(bs.snapshotPoint(snap(), 'vol-0000000000000none'), 'not-found');
      await bs.deleteSnapshot(s);
      await bs.deleteVolume(a);
      await bs.deleteVolume(other);
    });

    test('copy-snapshot', 'copySnapshot: the same bytes under a new id, nothing stored; again the same; another source is a conflict; unknown → not-found', async () => {
      const a = vol();
      const b = vol();
      await bs.createVolume({ volumeId: a, sizeGiB: 2, source: EMPTY });
      await bs.createVolume({ volumeId: b, sizeGiB: 1, source: EMPTY });
      const sa = snap();
      const sb = snap();
      const src = await bs.createSnapshot(sa, a);
      await bs.createSnapshot(sb, b);
      const c = snap();
      const copied = await bs.copySnapshot(c, sa);
      assert.deepEqual(copied, { ...src, snapshotId: c, storedBytes: 0 });
      assert.deepEqual(await bs.copySnapshot(c, sa), copied, 'again: the same');
      await rejectsWith(bs.copySnapshot(c, sb), 'conflict');
      await rejectsWith(bs.copySnapshot(sb, sa), 'conflict');
      await rejectsWith(bs.copySnapshot(snap(), 'snap-00000000000000none'), 'not-found');
      await rejectsWith(bs.copySnapshot(c, 'snap-00000000000000none'), 'conflict');
      await bs.deleteSnapshot(sa);
      const listed = await bs.listSnapshots();
      assert.deepEqual(listed.find((x) => x.snapshotId === c), copied, 'the copy outlives its source');
      const clone = vol();
      await bs.createVolume({ volumeId: clone, sizeGiB: 2, source: { kind: 'snapshot', snapshotId: c } });
      await rejectsWith(bs.createVolume({ volumeId: vol(), sizeGiB: 1, source: { kind: 'snapshot', snapshotId: c } }), 'invalid');
      for (const s of [c, sb]) await bs.deleteSnapshot(s);
      for (const v of [a, b, clone]) await bs.deleteVolume(v);
    });

    test('resize', 'resizeVolume grows (attached or not); the same size is a no-op; smaller or not whole is invalid; unknown → not-found', async () => {
      const id = vol();
      await bs.createVolume({ volumeId: id, sizeGiB: 1, source: EMPTY });
      assert.deepEqual(await bs.resizeVolume(id, 2), { volumeId: id, sizeGiB: 2, source: EMPTY });
      assert.deepEqual(await bs.resizeVolume(id, 2), { volumeId: id, sizeGiB: 2, source: EMPTY }, 'the same size: no-op');
      await rejectsWith(bs.resizeVolume(id, 1), 'invalid');
      await rejectsWith(bs.resizeVolume(id, 2.5), 'invalid');
      const i = inst();
      const path = await bs.attach(id, i);
      const grown = await bs.resizeVolume(id, 5);
      assert.deepEqual(grown, { volumeId: id, sizeGiB: 5, source: EMPTY, attachment: { instanceId: i, devicePath: path } }, 'attached: still attached, same device');
      assert.equal((await bs.listVolumes()).find((v) => v.volumeId === id)!.sizeGiB, 5);
      await rejectsWith(bs.resizeVolume('vol-0000000000000none', 3), 'not-found');
      const s = snap();
      assert.equal((await bs.createSnapshot(s, id)).sizeGiB, 5, 'a snapshot after: of the new size');
      await bs.deleteSnapshot(s);
      await bs.detach(id);
      await bs.deleteVolume(id);
    });

    test('list', 'listVolumes holds every volume once with its attachment', async () => {
      const ids = [vol(), vol(), vol()];
      for (const id of ids) await bs.createVolume({ volumeId: id, sizeGiB: 1, source: EMPTY });
      const i = inst();
      await bs.attach(ids[1]!, i);
      const listed = await bs.listVolumes();
      for (const id of ids) assert.equal(listed.filter((v) => v.volumeId === id).length, 1);
      assert.equal(listed.find((v) => v.volumeId === ids[1])!.attachment?.instanceId, i);
      assert.equal(listed.find((v) => v.volumeId === ids[0])!.attachment, undefined);
      await bs.detach(ids[1]!);
      for (const id of ids) await bs.deleteVolume(id);
    });
  });
}
