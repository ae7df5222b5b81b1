/**
 * Snapshots in the reflink store's chunk store, with real bytes: the FIEMAP
 * parse and block comparison alone; then on this host (skipped with the reason
 * where probe() says it cannot run) a snapshot keeps the bytes before an
 * overwrite, an incremental one reads and stores only the changed blocks,
 * identical blocks are stored once, deleting a snapshot frees its space and
 * leaves the others whole, a crash at any step is resumed, and a randomized
 * run of writes, snapshots, copies and deletions restores every snapshot
 * byte for byte after each deletion.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run, setCommandLog } from '../../src/host/exec.js';
import { BlockStoreError } from '../../src/storage/block-store.js';
import { xxhash64 } from 'hash-wasm';
import { endHashThreads, hashRuns, hashRunsHere, idleHashThreads } from '../../src/storage/drivers/block-hasher.js';
import { ChunkStore } from '../../src/storage/drivers/chunk-store.js';
import { ReflinkFeed } from '../../src/storage/drivers/xfs-io.js';
import { compareBlocks, fiemap, parseFiemap, READ, SAME, ZERO, type Extent } from '../../src/storage/drivers/fiemap.js';
import { poolLeftovers, ReflinkBlockStore } from '../../src/storage/drivers/reflink.js';
import { random } from '../helpers/random.js';

const KiB = 1024;
const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

describe('FIEMAP block maps', () => {
  const a = parseFiemap(`a.img:
 EXT: FILE-OFFSET      BLOCK-RANGE      TOTAL FLAGS
   0: [0..10239]:      hole             10240
   1: [10240..11199]:  192..1151          960 0x2000
   2: [11200..11207]:  1152..1159           8   0x0
   3: [11208..16383]:  1160..6335        5176 0x2000
   4: [16384..18431]:  9000..11047       2048 0x800
   5: [18432..20479]:  20000..22047      2048 0x4
`);
  // the same file after one 4 KiB write at sector 11200 (a new extent), the rest shared and reported as one run
  const b = parseFiemap(`b.img:
 EXT: FILE-OFFSET      BLOCK-RANGE      TOTAL FLAGS
   0: [0..10239]:      hole             10240
   1: [10240..11199]:  192..1151          960 0x2000
   2: [11200..11207]:  8576..8583           8   0x0
   3: [11208..16383]:  1160..6335        5176 0x2000
`);

  it('parses sectors into bytes, holes without a physical place', () => {
    assert.equal(a.length, 6);
    assert.deepEqual(a[0], { logical: 0, physical: undefined, length: 10240 * 512, flags: 0 });
    assert.deepEqual(a[2], { logical: 11200 * 512, physical: 1152 * 512, length: 4096, flags: 0 });
  });

  it('tells zero, unknown and changed blocks apart (1 MiB blocks)', () => {
    const ab = compareBlocks(a, b, MiB, 10, 10);
    // sectors 0..10239 = the first 5 MiB: holes
    for (let i = 0; i < 5; i++) assert.equal(ab[i], ZERO);
    // MiB 5 holds the rewritten 4 KiB: differs; 6 and 7 are shared extents: the same
    assert.equal(compareBlocks(b, a, MiB, 10, 10)[5], READ);
    assert.equal(ab[5], READ);
    assert.ok(ab[6] === SAME && ab[7] === SAME);
    assert.equal(ab[8], ZERO, 'unwritten extents read as zeros');
    assert.equal(ab[9], READ, 'delayed allocation: no place yet, must be read');
    assert.equal(compareBlocks(a, a, MiB, 10, 10)[9], READ, 'even against itself');
    assert.equal(compareBlocks(b, a, MiB, 10, 10)[9], ZERO, 'past the end of the extents: a hole');
    assert.equal(compareBlocks(b, a, MiB, 10, 10)[6], SAME);
    assert.equal(compareBlocks(b, a, MiB, 10, 6)[6], READ, 'past the baseline: read');
    assert.equal(compareBlocks(b, undefined, MiB, 10, 0)[6], READ, 'no baseline: read');
  });

  it('extents split differently but mapping the same bytes compare equal', () => {
    const one = parseFiemap('   0: [0..2047]:   100..2147   2048 0x2000\n');
    const two = parseFiemap('   0: [0..1023]:   100..1123   1024 0x0\n   1: [1024..2047]:   1124..2147   1024 0x1\n');
    assert.equal(compareBlocks(one, two, MiB, 1, 1)[0], SAME);
  });

  it('randomized: a block is SAME exactly when every sector maps the same in both, ZERO when none holds data', () => {
    const rnd = random(7);
    const SECTOR = 512;
    const BS = 8 * SECTOR;
    const COUNT = 40;
    // a sector-by-sector map: hole / unwritten (reads as zeros), delayed (no place) or a physical sector
    const randomExtents = (): Extent[] => {
      const out: Extent[] = [];
      let at = 0;
      while (at < COUNT * BS) {
        const len = (1 + Math.floor(rnd() * 12)) * SECTOR;
        const r = rnd();
        if (r < 0.25) out.push({ logical: at, physical: undefined, length: len, flags: 0 });
        else if (r < 0.3) out.push({ logical: at, physical: 7 * SECTOR, length: len, flags: 0x800 });
        else if (r < 0.33) out.push({ logical: at, physical: 0, length: len, flags: 0x4 });
        // physical places from a small range, so that the two files often agree
        else out.push({ logical: at, physical: (at + Math.floor(rnd() * 3) * 4 * SECTOR), length: len, flags: rnd() < 0.5 ? 0x2000 : 0 });
        at += len;
      }
      return out.filter((e) => rnd() > 0.1).sort(() => rnd() - 0.5);
    };
    const sectors = (ex: Extent[]): string[] => {
      const m = Array.from({ length: (COUNT * BS) / SECTOR }, () => 'zero');
      for (const e of ex) {
        for (let s = e.logical; s < e.logical + e.length; s += SECTOR) {
          if (e.physical === undefined || e.flags & 0x800) continue;
          m[s / SECTOR] = e.flags & 0x4 ? 'delayed' : String(e.physical + (s - e.logical));
        }
      }
      return m;
    };
    let same = 0;
    for (let round = 0; round < 300; round++) {
      const x = randomExtents();
      // the baseline: often the same extents, some moved or dropped, regrouped
      const y = rnd() < 0.5 ? randomExtents() : x.map((e) => (rnd() < 0.1 ? { ...e, physical: (e.physical ?? 0) + SECTOR } : e)).filter(() => rnd() > 0.05);
      const baseCount = Math.floor(rnd() * (COUNT + 1));
      const got = compareBlocks(x, y, BS, COUNT, baseCount);
      const sx = sectors(x);
      const sy = sectors(y);
      for (let b = 0; b < COUNT; b++) {
        const ours = sx.slice((b * BS) / SECTOR, ((b + 1) * BS) / SECTOR);
        const theirs = sy.slice((b * BS) / SECTOR, ((b + 1) * BS) / SECTOR);
        const want = ours.every((v) => v === 'zero') ? ZERO : b < baseCount && !ours.includes('delayed') && !theirs.includes('delayed') && ours.every((v, k) => v === theirs[k]) ? SAME : READ;
        assert.equal(got[b], want, `round ${round}, block ${b}: ${ours.join(' ')} vs ${theirs.join(' ')}`);
        if (want === SAME) same++;
      }
    }
    assert.ok(same > 100, `the rounds compare equal blocks too (${same})`);
  });
});

const probe = await new ReflinkBlockStore({ dir: join(tmpdir(), 'overcast-reflink-probe-only'), sizeGiB: 1 }).probe();
const cannot = probe.ok ? undefined : probe.reason;

async function writeAt(path: string, offset: number, data: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(data, 0, data.length, offset);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function readAt(path: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, offset);
    return buf;
  } finally {
    await fh.close();
  }
}

async function sha(path: string, length: number): Promise<string> {
  return createHash('sha256').update(await readAt(path, 0, length)).digest('hex');
}

async function rejectsWith(p: Promise<unknown>, code: BlockStoreError['code']): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof BlockStoreError && e.code === code);
}

describe('reflink snapshots with real bytes', { skip: cannot, timeout: 300_000 }, () => {
  let dir = '';
  let poolDir = '';
  let bs: ReflinkBlockStore;
  const stores: ReflinkBlockStore[] = [];
  const volFile = (id: string) => join(poolDir, 'mnt', 'volumes', `${id}.img`);
  const chunks = () => join(poolDir, 'mnt', 'chunks');
  /** bytes of the packs mapped to data (FIEMAP, within each file's length: no preallocation counted) */
  const packData = async (only?: RegExp) => {
    let n = 0;
    for (const name of await readdir(join(chunks(), 'packs'))) {
      if (only !== undefined && !only.test(name)) continue;
      const file = join(chunks(), 'packs', name);
      const size = (await stat(file)).size;
      for (const e of await fiemap(file)) {
        if (e.physical === undefined || (e.flags & 0x800) !== 0) continue;
        n += Math.max(0, Math.min(e.logical + e.length, size) - e.logical);
      }
    }
    return n;
  };
  const open2 = (hook?: (step: string) => void) => {
    const s = new ReflinkBlockStore({ dir: poolDir, sizeGiB: 16, checkIntervalMs: 0, chunks: { blockSize: 512 * KiB, ...(hook ? { hook } : {}) } });
    stores.push(s);
    return s;
  };
  const inst = () => `i-${randomBytes(8).toString('hex')}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'overcast-snapshots-'));
    poolDir = join(dir, 'pool');
    bs = open2();
  });

  after(async () => {
    try {
      for (const s of stores) await s.close();
      await bs.destroy();
      assert.deepEqual(await poolLeftovers(poolDir), [], 'no loop device or mount left');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a snapshot keeps the bytes before an overwrite; a volume from it reads them back, through its device', async () => {
    await bs.createVolume({ volumeId: 'vol-a', sizeGiB: 1, source: { kind: 'empty' } });
    const dev = await bs.attach('vol-a', inst());
    try {
      const old = randomBytes(3 * MiB + 5000);
      await writeAt(dev, 7 * MiB + 512, old);
      const info = await bs.createSnapshot('snap-a', 'vol-a');
      // 3 MiB + 5000 bytes from 7 MiB + 512 touch the 512 KiB blocks 14 to 20
      assert.deepEqual(info, { snapshotId: 'snap-a', volumeId: 'vol-a', sizeGiB: 1, storedBytes: 7 * 512 * KiB, dataBytes: 7 * 512 * KiB });
      await writeAt(dev, 7 * MiB + 512, randomBytes(old.length));
      await bs.createVolume({ volumeId: 'vol-a2', sizeGiB: 2, source: { kind: 'snapshot', snapshotId: 'snap-a' } });
      const dev2 = await bs.attach('vol-a2', inst());
      assert.deepEqual(await readAt(dev2, 7 * MiB + 512, old.length), old);
      assert.deepEqual(await readAt(dev2, 0, 7 * MiB + 512), Buffer.alloc(7 * MiB + 512), 'zeros before');
      const { stdout } = await run('blockdev', ['--getsize64', dev2]);
      assert.equal(Number(stdout.trim()), 2 * GiB);
    } finally {
      for (const v of ['vol-a', 'vol-a2']) await bs.detach(v);
      await bs.deleteSnapshot('snap-a');
      for (const v of ['vol-a', 'vol-a2']) await bs.deleteVolume(v);
    }
    assert.deepEqual(await readdir(join(chunks(), 'packs')), [], 'no pack left');
    assert.deepEqual(await readdir(join(chunks(), 'baselines')), [], 'no baseline left');
  });

  it('snapshotPoint takes the point in time: bytes written after it are not in the snapshot stored later', async () => {
    await bs.createVolume({ volumeId: 'vol-p', sizeGiB: 1, source: { kind: 'empty' } });
    const dev = await bs.attach('vol-p', inst());
    try {
      const before = randomBytes(MiB);
      await writeAt(dev, 3 * MiB, before);
      await bs.snapshotPoint('snap-p', 'vol-p');
      await bs.snapshotPoint('snap-p', 'vol-p'); // again: the first point stays
      await writeAt(dev, 3 * MiB, randomBytes(MiB));
      assert.deepEqual((await bs.listSnapshots()).map((s) => s.snapshotId), [], 'a point is not a snapshot');
      await bs.createSnapshot('snap-p', 'vol-p');
      await bs.snapshotPoint('snap-p', 'vol-p'); // once it exists: no-op
      await rejectsWith(bs.snapshotPoint('snap-p', 'vol-a'), 'conflict');
      await rejectsWith(bs.snapshotPoint('snap-q', 'vol-0000000000000none'), 'not-found');
      await bs.createVolume({ volumeId: 'vol-p2', sizeGiB: 1, source: { kind: 'snapshot', snapshotId: 'snap-p' } });
      const dev2 = await bs.attach('vol-p2', inst());
      assert.deepEqual(await readAt(dev2, 3 * MiB, MiB), before);
    } finally {
      for (const v of ['vol-p', 'vol-p2']) await bs.detach(v);
      await bs.deleteSnapshot('snap-p');
      for (const v of ['vol-p', 'vol-p2']) await bs.deleteVolume(v);
    }
  });

  it('an incremental snapshot after changing 1% of the blocks reads only those and stores about 1% of the volume', async (t) => {
    await bs.createVolume({ volumeId: 'vol-inc', sizeGiB: 1, source: { kind: 'empty' } });
    const dev = await bs.attach('vol-inc', inst());
    try {
      await writeAt(dev, 0, randomBytes(600 * MiB));
      const full = await bs.createSnapshot('snap-full', 'vol-inc');
      assert.equal(full.storedBytes, 600 * MiB);
      assert.equal(bs.lastSnapshotStats!.read, 1200, 'the first snapshot reads every written block');
      const rnd = random(7);
      const changed = new Set<number>();
      while (changed.size < 20) changed.add(Math.floor(rnd() * 2048)); // 1% of 2048 blocks, some in holes
      for (const b of changed) await writeAt(dev, b * 512 * KiB + Math.floor(rnd() * 128) * 4096, randomBytes(4096));
      const progress: number[] = [];
      const inc = await bs.createSnapshot('snap-inc', 'vol-inc', { onProgress: (f) => progress.push(f) });
      const stats = bs.lastSnapshotStats!;
      t.diagnostic(`incremental: stored ${inc.storedBytes} bytes (${((100 * inc.storedBytes) / GiB).toFixed(2)}% of the volume), ${stats.unread} blocks unread`);
      assert.deepEqual([stats.read, stats.unread], [0, 20], 'the changed blocks are stored unread (fingerprinted later)');
      assert.ok(inc.storedBytes > 0 && inc.storedBytes <= 0.02 * GiB, `stored ${inc.storedBytes}`);
      assert.equal(inc.storedBytes, 20 * 512 * KiB);
      assert.deepEqual(stats.changedIndices, [...changed].sort((x, y) => x - y), 'only the changed blocks were taken');
      assert.equal(stats.unchanged, 1200 - [...changed].filter((b) => b < 1200).length);
      assert.equal(inc.dataBytes, (1200 + [...changed].filter((b) => b >= 1200).length) * 512 * KiB);
      assert.ok(progress.length >= 2 && progress.at(-1) === 1 && progress.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= progress[i - 1]!)), `progress ${progress.join(' ')}`);
      const want = await sha(dev, GiB);
      await bs.createVolume({ volumeId: 'vol-inc2', sizeGiB: 1, source: { kind: 'snapshot', snapshotId: 'snap-inc' } });
      assert.equal(await sha(volFile('vol-inc2'), GiB), want, 'the incremental snapshot restores the whole volume');
      // the baseline outlives its snapshot: the next one is still incremental
      await bs.deleteSnapshot('snap-inc');
      await writeAt(dev, 3 * 512 * KiB, randomBytes(4096));
      const next = await bs.createSnapshot('snap-next', 'vol-inc');
      assert.deepEqual(bs.lastSnapshotStats!.changedIndices, [3]);
      assert.equal(next.storedBytes, 512 * KiB);
      const now = await sha(dev, GiB);
      await bs.createVolume({ volumeId: 'vol-inc3', sizeGiB: 1, source: { kind: 'snapshot', snapshotId: 'snap-next' } });
      assert.equal(await sha(volFile('vol-inc3'), GiB), now);
    } finally {
      await bs.detach('vol-inc');
      for (const s of ['snap-full', 'snap-next']) await bs.deleteSnapshot(s);
      for (const v of ['vol-inc', 'vol-inc2', 'vol-inc3']) await bs.deleteVolume(v);
    }
  });

  it('settling: the blocks an incremental stored unread get their fingerprints; copies of stored blocks and zeros are freed, every snapshot restores whole', async () => {
    const blk = (n: number) => n * 512 * KiB;
    const [a, b, c, d] = [randomBytes(blk(1)), randomBytes(blk(1)), randomBytes(blk(1)), randomBytes(blk(1))];
    await bs.createVolume({ volumeId: 'vol-st', sizeGiB: 1, source: { kind: 'empty' } });
    const f = volFile('vol-st');
    try {
      await writeAt(f, 0, Buffer.concat([a, b, c]));
      const full = await bs.createSnapshot('snap-st1', 'vol-st');
      await bs.settled();
      // block 1 changed; 3 a copy of A; 4 zeros written as data; 5 and 6 copies of C; 7 and 8 a new block twice
      await writeAt(f, blk(1) + 4096, randomBytes(4096));
      await writeAt(f, blk(3), Buffer.concat([a, Buffer.alloc(blk(1)), c, c, d, d]));
      const then = await sha(f, blk(16));
      const inc = await bs.createSnapshot('snap-st2', 'vol-st');
      const stats = bs.lastSnapshotStats!;
      assert.deepEqual([stats.read, stats.unread, stats.unchanged], [0, 7, 2]);
      assert.equal(inc.storedBytes, blk(7), 'stored unread: in the clone at first');
      assert.ok((await readdir(join(chunks(), 'packs'))).includes('snap-st2.clone.pack'));
      await bs.settled();
      const manifest = async (id: string) => JSON.parse(await readFile(join(chunks(), 'manifests', `${id}.json`), 'utf8')) as { storedBytes: number; dataBytes: number; packs: string[]; blocks: ([number, number, string] | null)[] };
      const m2 = await manifest('snap-st2');
      const m1 = await manifest('snap-st1');
      const where = (m: typeof m1, i: number) => (m.blocks[i] ? `${m.packs[m.blocks[i]![0]]}:${m.blocks[i]![1]}` : null);
      assert.ok(m2.blocks.every((x) => x === null || x[2] !== ''), 'every block fingerprinted');
      assert.equal(where(m2, 3), where(m1, 0), 'the copy of A is the block snap-st1 stored');
      assert.equal(where(m2, 4), null, 'the zeros are no block');
      assert.equal(where(m2, 5), where(m1, 2));
      assert.equal(where(m2, 6), where(m1, 2));
      assert.equal(where(m2, 8), where(m2, 7), 'the second D is the first');
      assert.notEqual(where(m2, 1), where(m1, 1));
      assert.equal(m2.storedBytes, blk(2), 'B changed and D: what the snapshot holds alone');
      assert.equal(m2.dataBytes, blk(8));
      const settledPacks = (await readdir(join(chunks(), 'packs'))).sort();
      assert.equal(settledPacks.length, 2, settledPacks.join(' '));
      assert.equal(settledPacks[0], 'snap-st1.pack');
      assert.match(settledPacks[1]!, /^snap-st2\.[0-9a-f]{8}\.pack$/, 'the clone is no pack any more: a pack of the snapshot’s own');
      assert.equal(await packData(/^snap-st2\./), blk(2), 'B changed and D, shared into it');
      const base = await stat(join(chunks(), 'baselines', 'vol-st.json'));
      assert.equal(base.ino, (await stat(join(chunks(), 'manifests', 'snap-st2.json'))).ino, 'the baseline is the settled manifest');
      assert.equal((await bs.listSnapshots()).find((x) => x.snapshotId === 'snap-st2')?.storedBytes, blk(2));
      // the next incremental compares with the settled baseline; the first snapshot deleted, the others restore whole
      await writeAt(f, blk(2), randomBytes(4096));
      const now = await sha(f, blk(16));
      await bs.createSnapshot('snap-st3', 'vol-st');
      assert.deepEqual(bs.lastSnapshotStats!.changedIndices, [2]);
      await bs.settled();
      await bs.deleteSnapshot('snap-st1');
      for (const [snap, want] of [['snap-st2', then], ['snap-st3', now]] as const) {
        await bs.createVolume({ volumeId: `vol-${snap}`, sizeGiB: 1, source: { kind: 'snapshot', snapshotId: snap } });
        assert.equal(await sha(volFile(`vol-${snap}`), blk(16)), want, snap);
        await bs.deleteVolume(`vol-${snap}`);
      }
      assert.equal(full.storedBytes, blk(3));
    } finally {
      for (const s of ['snap-st1', 'snap-st2', 'snap-st3']) await bs.deleteSnapshot(s);
      await bs.deleteVolume('vol-st');
    }
    assert.deepEqual(await readdir(join(chunks(), 'packs')), []);
  });

  for (const at of ['planned', 'applied'] as const) {
    it(`settling cut short by a crash once ${at}: the manifests name whole blocks throughout; the next open drops the packs none names, settling again finishes`, async () => {
      const blk = (n: number) => n * 512 * KiB;
      const a = randomBytes(blk(1));
      await bs.createVolume({ volumeId: 'vol-sc', sizeGiB: 1, source: { kind: 'empty' } });
      const f = volFile('vol-sc');
      // a store that does not settle by itself: the chunk store alone, as a server would drive it
      const raw = new ChunkStore(chunks(), { blockSize: 512 * KiB });
      const snap = async (id: string) => {
        const p = await raw.clone(id, 'vol-sc', 1, f);
        await raw.build(p);
        await raw.promote(id);
      };
      try {
        await writeAt(f, 0, Buffer.concat([a, randomBytes(blk(1))]));
        await raw.open();
        await snap('snap-sc1');
        // two copies of A over block 1 and on 2, a new block on 3: the pack stays, two of its slots are freed
        await writeAt(f, blk(1), Buffer.concat([a, a, randomBytes(blk(1))]));
        const then = await sha(f, blk(4));
        await snap('snap-sc2');
        const packs = async () => (await readdir(join(chunks(), 'packs'))).sort();
        assert.deepEqual(await packs(), ['snap-sc1.pack', 'snap-sc2.clone.pack']);
        const plan = (await raw.planSettle())!;
        assert.equal(plan.freed[0], 'snap-sc2.clone');
        assert.match(plan.freed[1] ?? '', /^snap-sc2\.[0-9a-f]{8}$/, 'and the plan’s own pack, if no manifest comes to name it');
        assert.equal(await packData(/^snap-sc2\.[0-9a-f]{8}\.pack$/), blk(1), 'the new block shared into a pack of its own, the copies of A not');
        if (at === 'applied') for (const file of plan.files) await raw.applySettle(plan, file);
        // the crash: no more steps
        const later = open2(); // a restarted server
        await later.createVolume({ volumeId: 'vol-sc2', sizeGiB: 1, source: { kind: 'snapshot', snapshotId: 'snap-sc2' } });
        assert.equal(await sha(volFile('vol-sc2'), blk(4)), then);
        await later.settled();
        const after = await packs();
        assert.equal(after.length, 2, `the clone dropped (at the open, or by settling again), one pack of the snapshot's own: ${after.join(' ')}`);
        assert.equal(after[0], 'snap-sc1.pack');
        assert.equal(await packData(/^snap-sc2\.[0-9a-f]{8}\.pack$/), blk(1), 'the new block once');
        const m = JSON.parse(await readFile(join(chunks(), 'manifests', 'snap-sc2.json'), 'utf8')) as { storedBytes: number; blocks: ([number, number, string] | null)[] };
        assert.ok(m.blocks.every((x) => x === null || x[2] !== ''));
        assert.equal(m.storedBytes, blk(1));
        await later.deleteVolume('vol-sc2');
        await later.createVolume({ volumeId: 'vol-sc2', sizeGiB: 1, source: { kind: 'snapshot', snapshotId: 'snap-sc2' } });
        assert.equal(await sha(volFile('vol-sc2'), blk(4)), then, 'and restores the same after');
        await later.deleteVolume('vol-sc2');
        for (const s of ['snap-sc1', 'snap-sc2']) await later.deleteSnapshot(s);
      } finally {
        await bs.deleteVolume('vol-sc');
      }
      assert.deepEqual(await readdir(join(chunks(), 'packs')), []);
    });
  }

  it("a volume's next snapshot takes its baseline's extents from the one before (one FIEMAP, the clone's); a store opened afresh reads them, and both read the same blocks", async () => {
    await bs.createVolume({ volumeId: 'vol-fx', sizeGiB: 1, source: { kind: 'empty' } });
    const dev = await bs.attach('vol-fx', inst());
    const fiemaps: string[] = [];
    try {
      await writeAt(dev, 0, randomBytes(8 * MiB));
      await bs.createSnapshot('snap-fx0', 'vol-fx');
      await writeAt(dev, 5 * 512 * KiB + 4096, randomBytes(4096));
      setCommandLog((l) => {
        if (l.includes('fiemap')) fiemaps.push(l);
      });
      await bs.createSnapshot('snap-fx1', 'vol-fx');
      assert.deepEqual(bs.lastSnapshotStats!.changedIndices, [5]);
      assert.equal(fiemaps.length, 1, fiemaps.join('\n'));
      assert.match(fiemaps[0]!, /pending\/snap-fx1\.img/);
      // another store on the pool (a restarted server) knows nothing: it reads the baseline's extents
      await bs.settled(); // the first one done first, as a server that stopped would be
      fiemaps.length = 0;
      await writeAt(dev, 9 * 512 * KiB, randomBytes(4096));
      const other = open2();
      await other.createSnapshot('snap-fx2', 'vol-fx');
      assert.deepEqual(other.lastSnapshotStats!.changedIndices, [9]);
      assert.equal(fiemaps.length, 2, fiemaps.join('\n'));
      const want = await sha(dev, GiB);
      await bs.createVolume({ volumeId: 'vol-fx2', sizeGiB: 1, source: { kind: 'snapshot', snapshotId: 'snap-fx2' } });
      assert.equal(await sha(volFile('vol-fx2'), GiB), want);
    } finally {
      setCommandLog(undefined);
      await bs.detach('vol-fx');
      for (const s of ['snap-fx0', 'snap-fx1', 'snap-fx2']) await bs.deleteSnapshot(s);
      for (const v of ['vol-fx', 'vol-fx2']) await bs.deleteVolume(v);
    }
  });

  it('both hashers read a file with a hole at its start past the page cache, block for block as it reads', async () => {
    // a hole where O_DIRECT checks no buffer (nothing to transfer), data further on where it does
    await bs.createVolume({ volumeId: 'vol-h', sizeGiB: 1, source: { kind: 'empty' } });
    try {
      const data = randomBytes(3 * 512 * KiB);
      await writeAt(volFile('vol-h'), 5 * 512 * KiB, data);
      const runs = [{ first: 0, n: 2 }, { first: 4, n: 3 }, { first: 7, n: 1 }, { first: 2047, n: 1 }];
      // a block's fingerprint is its XXH64 (the reference vector of the empty input first)
      assert.equal(await xxhash64(''), 'ef46db3751d8e999');
      const fp = new Map<number, string>();
      for (let b = 5; b < 8; b++) fp.set(b, await xxhash64(data.subarray((b - 5) * 512 * KiB, (b - 4) * 512 * KiB)));
      const want = (b: number): string | null => fp.get(b) ?? null;
      for (const [name, hashed] of [
        ['workers', hashRuns(volFile('vol-h'), 512 * KiB, runs, { keep: true, threads: 2 })],
        ['this thread', hashRunsHere(volFile('vol-h'), 512 * KiB, runs, { keep: true, depth: 2 })],
      ] as const) {
        const got: (string | null)[] = [];
        let bytes = 0;
        for await (const r of hashed) {
          got.push(...r.hashes);
          assert.equal(r.data?.length, r.n * 512 * KiB, name);
          if (r.first === 4) assert.deepEqual(r.data!.subarray(512 * KiB), data.subarray(0, 2 * 512 * KiB), `${name}: the bytes kept`);
          bytes += r.data!.length;
        }
        assert.deepEqual(got, [0, 1, 4, 5, 6, 7, 2047].map(want), name);
        assert.equal(bytes, 7 * 512 * KiB);
      }
    } finally {
      await bs.deleteVolume('vol-h');
    }
  });

  it('the hashing threads are kept for the next call, are not reused after a call cut short, and end on demand', async () => {
    await bs.createVolume({ volumeId: 'vol-t', sizeGiB: 1, source: { kind: 'empty' } });
    try {
      const a = randomBytes(512 * KiB);
      const b = randomBytes(512 * KiB);
      await writeAt(volFile('vol-t'), 0, a);
      await writeAt(volFile('vol-t'), 3 * 512 * KiB, b);
      const [fa, fb] = [await xxhash64(a), await xxhash64(b)];
      const sha = (x: Buffer) => (x === a ? fa : fb);
      const all = async (file: string, runs: { first: number; n: number }[]) => {
        const out: (string | null)[] = [];
        for await (const r of hashRuns(file, 512 * KiB, runs, { threads: 2 })) out.push(...r.hashes);
        return out;
      };
      await endHashThreads();
      assert.deepEqual(await all(volFile('vol-t'), [{ first: 0, n: 2 }, { first: 3, n: 1 }]), [sha(a), null, sha(b)]);
      assert.equal(idleHashThreads(), 2, 'kept after the call');
      // the same threads on another file, a different run length: the other file's bytes
      await bs.createVolume({ volumeId: 'vol-t2', sizeGiB: 1, source: { kind: 'empty' } });
      await writeAt(volFile('vol-t2'), 512 * KiB, b);
      assert.deepEqual(await all(volFile('vol-t2'), [{ first: 0, n: 4 }]), [null, sha(b), null, null]);
      assert.equal(idleHashThreads(), 2);
      // a consumer that stops early: its threads may still be reading, they are ended, not kept
      for await (const _ of hashRuns(volFile('vol-t'), 512 * KiB, [{ first: 0, n: 1 }, { first: 1, n: 1 }, { first: 2, n: 1 }, { first: 3, n: 1 }], { threads: 2 })) break;
      assert.equal(idleHashThreads(), 0);
      assert.deepEqual(await all(volFile('vol-t'), [{ first: 3, n: 1 }, { first: 0, n: 1 }]), [sha(b), sha(a)]);
      await endHashThreads();
      assert.equal(idleHashThreads(), 0);
    } finally {
      await bs.deleteVolume('vol-t');
      await bs.deleteVolume('vol-t2').catch(() => undefined);
    }
  });

  it('a hashing thread that answers a call after it ended (it was still starting) does not disturb the next call', async () => {
    const a = randomBytes(512 * KiB);
    await bs.createVolume({ volumeId: 'vol-s2', sizeGiB: 1, source: { kind: 'empty' } });
    await writeAt(volFile('vol-s2'), 0, a);
    const all = async (file: string, runs: { first: number; n: number }[], threads: number) => {
      const out: (string | null)[] = [];
      for await (const r of hashRuns(file, 512 * KiB, runs, { threads })) out.push(...r.hashes);
      return out;
    };
    try {
      // timing decides whether a late thread answers after the file is gone: a few rounds
      for (let round = 0; round < 4; round++) {
        const gone = join(dir, `gone-${round}.img`);
        await writeFile(gone, Buffer.alloc(6 * 512 * KiB));
        await endHashThreads();
        await all(gone, [{ first: 0, n: 1 }], 1); // one thread kept, started
        // one started thread and three starting: the started one does the few runs before the others are up
        const tiny = Array.from({ length: 6 }, (_, k) => ({ first: k, n: 1 }));
        assert.deepEqual(await all(gone, tiny, 4), tiny.map(() => null));
        // the late threads open the first file when it is gone, and answer that; the next call is not theirs
        await rm(gone);
        const runs = [0, 1, 2, 3].map((k) => ({ first: k, n: 1 }));
        assert.deepEqual(await all(volFile('vol-s2'), runs, 4), [await xxhash64(a), null, null, null], `round ${round}`);
      }
    } finally {
      await bs.deleteVolume('vol-s2');
    }
  });

  it('ReflinkFeed shares ranges into a file while they are fed; a failing command fails end()', async () => {
    await bs.createVolume({ volumeId: 'vol-r', sizeGiB: 1, source: { kind: 'empty' } });
    try {
      const data = randomBytes(4 * 512 * KiB);
      await writeAt(volFile('vol-r'), 0, data);
      const dir = join(poolDir, 'mnt', 'volumes');
      const target = join(dir, 'feed.tmp');
      const feed = new ReflinkFeed(target, 'vol-r.img', dir);
      // blocks 3, then 0 and 1 (one range), at slots 0, 1, 2
      feed.add({ src: 3 * 512 * KiB, dst: 0, length: 512 * KiB });
      feed.add({ src: 0, dst: 512 * KiB, length: 512 * KiB });
      feed.add({ src: 512 * KiB, dst: 2 * 512 * KiB, length: 512 * KiB });
      await feed.end();
      const got = await readAt(target, 0, 3 * 512 * KiB);
      assert.deepEqual(got, Buffer.concat([data.subarray(3 * 512 * KiB), data.subarray(0, 2 * 512 * KiB)]));
      const bad = new ReflinkFeed(target, 'no-such.img', dir);
      bad.add({ src: 0, dst: 0, length: 512 * KiB });
      await assert.rejects(bad.end(), /no-such/);
      await rm(target, { force: true });
    } finally {
      await bs.deleteVolume('vol-r');
    }
  });

  it('identical blocks are stored once, across volumes', async () => {
    const data = randomBytes(16 * MiB);
    for (const v of ['vol-d1', 'vol-d2']) {
      await bs.createVolume({ volumeId: v, sizeGiB: 1, source: { kind: 'empty' } });
      await writeAt(volFile(v), v === 'vol-d1' ? 0 : 64 * MiB, data);
    }
    await writeAt(volFile('vol-d2'), 0, Buffer.concat([data.subarray(0, MiB), data.subarray(0, MiB)])); // the same block twice more
    const one = await bs.createSnapshot('snap-d1', 'vol-d1');
    const two = await bs.createSnapshot('snap-d2', 'vol-d2');
    assert.equal(one.storedBytes, 16 * MiB);
    assert.equal(two.storedBytes, 0, 'every block of the second volume was in the store already');
    assert.equal(two.dataBytes, 18 * MiB);
    await bs.deleteSnapshot('snap-d1');
    await bs.createVolume({ volumeId: 'vol-d3', sizeGiB: 1, source: { kind: 'snapshot', snapshotId: 'snap-d2' } });
    assert.deepEqual(await readAt(volFile('vol-d3'), 64 * MiB, data.length), data, 'the blocks the deleted snapshot stored stay for the other one');
    await bs.deleteSnapshot('snap-d2');
    for (const v of ['vol-d1', 'vol-d2', 'vol-d3']) await bs.deleteVolume(v);
    assert.deepEqual(await readdir(join(chunks(), 'packs')), []);
  });

  it('a block whose fingerprint is in the store but whose bytes are not is stored, not taken for the other (in the store and within a snapshot)', async () => {
    // the fingerprint is not a cryptographic hash: a guest can write blocks that collide. Forged here: the
    // manifest of a snapshot holding block A is rewritten to give A the fingerprint of another block, B
    const [a, b, c] = [randomBytes(512 * KiB), randomBytes(512 * KiB), randomBytes(512 * KiB)];
    await bs.createVolume({ volumeId: 'vol-k1', sizeGiB: 1, source: { kind: 'empty' } });
    await writeAt(volFile('vol-k1'), 0, Buffer.concat([a, c]));
    await bs.createSnapshot('snap-k1', 'vol-k1');
    const file = join(chunks(), 'manifests', 'snap-k1.json');
    const m = JSON.parse(await readFile(file, 'utf8')) as { version: number; blocks: ([number, number, string] | null)[] };
    assert.equal(m.version, 2);
    assert.equal(m.blocks[0]![2], await xxhash64(a), "a block's fingerprint is its XXH64");
    m.blocks[0]![2] = await xxhash64(b);
    await writeFile(file, JSON.stringify(m));
    const later = open2(); // its index is built from the manifests on disk
    // B (colliding with A's forged entry), then C (truly in the store), then B again (the copy of B just stored)
    await later.createVolume({ volumeId: 'vol-k2', sizeGiB: 1, source: { kind: 'empty' } });
    await writeAt(volFile('vol-k2'), 0, Buffer.concat([b, c, b]));
    const two = await later.createSnapshot('snap-k2', 'vol-k2');
    assert.deepEqual(
      { stored: later.lastSnapshotStats!.stored, deduped: later.lastSnapshotStats!.deduped, collided: later.lastSnapshotStats!.collided },
      { stored: 1, deduped: 2, collided: 1 },
      'B stored for its collision with A; C found; the second B found as the first',
    );
    assert.equal(two.storedBytes, 512 * KiB);
    await later.createVolume({ volumeId: 'vol-k3', sizeGiB: 1, source: { kind: 'snapshot', snapshotId: 'snap-k2' } });
    assert.deepEqual(await readAt(volFile('vol-k3'), 0, 3 * 512 * KiB), Buffer.concat([b, c, b]));
    await later.createVolume({ volumeId: 'vol-k4', sizeGiB: 1, source: { kind: 'snapshot', snapshotId: 'snap-k1' } });
    assert.deepEqual(await readAt(volFile('vol-k4'), 0, 2 * 512 * KiB), Buffer.concat([a, c]));
    for (const s of ['snap-k1', 'snap-k2']) await later.deleteSnapshot(s);
    for (const v of ['vol-k1', 'vol-k2', 'vol-k3', 'vol-k4']) await later.deleteVolume(v);
    assert.deepEqual(await readdir(join(chunks(), 'packs')), []);
  });

  it('deleting a snapshot frees its blocks (the pool uses less), the others restore whole', async (t) => {
    await bs.createVolume({ volumeId: 'vol-f', sizeGiB: 1, source: { kind: 'empty' } });
    const f = volFile('vol-f');
    await writeAt(f, 0, randomBytes(64 * MiB));
    const first = await sha(f, 96 * MiB);
    await bs.createSnapshot('snap-f1', 'vol-f');
    await writeAt(f, 0, randomBytes(32 * MiB)); // half of it rewritten
    await writeAt(f, 64 * MiB, randomBytes(32 * MiB));
    const second = await sha(f, 96 * MiB);
    await bs.createSnapshot('snap-f2', 'vol-f');
    await writeAt(f, 0, randomBytes(96 * MiB)); // all rewritten: only the snapshots hold the old blocks
    await bs.createSnapshot('snap-f3', 'vol-f');
    const packs0 = await bs.packBytes();
    const used0 = (await bs.space()).usedBytes;
    await bs.deleteSnapshot('snap-f1');
    const packs1 = await bs.packBytes();
    const used1 = (await bs.space()).usedBytes;
    t.diagnostic(`deleting snap-f1: packs ${packs0} → ${packs1} bytes, pool used ${used0} → ${used1}`);
    // snap-f1's pack holds 64 MiB; the 32 MiB of it snap-f2 still needs stay
    assert.equal(packs0 - packs1, 32 * MiB);
    assert.ok(used0 - used1 >= 30 * MiB, `the pool freed ${used0 - used1} bytes`);
    await bs.createVolume({ volumeId: 'vol-f2', sizeGiB: 1, source: { kind: 'snapshot', snapshotId: 'snap-f2' } });
    assert.equal(await sha(volFile('vol-f2'), 96 * MiB), second);
    assert.notEqual(first, second);
    for (const s of ['snap-f2', 'snap-f3']) await bs.deleteSnapshot(s);
    for (const v of ['vol-f', 'vol-f2']) await bs.deleteVolume(v);
  });

  for (const step of ['cloned', 'packed', 'manifest'] as const) {
    it(`a crash after the step '${step}' is resumed by the next call: the same point in time, nothing left over`, async () => {
      const crashing = open2((s) => {
        if (s === step) throw new Error(`crash at ${s}`);
      });
      await crashing.createVolume({ volumeId: 'vol-c', sizeGiB: 1, source: { kind: 'empty' } });
      const f = volFile('vol-c');
      await writeAt(f, 0, randomBytes(8 * MiB));
      const then = await sha(f, 16 * MiB);
      await assert.rejects(crashing.createSnapshot('snap-c', 'vol-c'), /crash at/);
      const files = async (d: string) => (await readdir(join(chunks(), d))).sort();
      assert.deepEqual(await files('pending'), ['snap-c.img', 'snap-c.json'], 'the point in time is kept');
      if (step === 'packed') assert.deepEqual(await files('packs'), ['snap-c.pack'], 'a pack without a manifest');
      await writeAt(f, 0, randomBytes(4 * MiB)); // written after the point in time: not in the snapshot
      const later = open2(); // a restarted server
      const info = await later.createSnapshot('snap-c', 'vol-c');
      assert.equal(info.dataBytes, 8 * MiB);
      if (step !== 'manifest') assert.equal(info.storedBytes, 8 * MiB);
      assert.deepEqual(await files('pending'), [], 'the pending clone became the baseline');
      assert.deepEqual(await files('baselines'), ['vol-c.json', 'vol-c.snap-c.img']);
      await later.createVolume({ volumeId: 'vol-k2', sizeGiB: 1, source: { kind: 'snapshot', snapshotId: 'snap-c' } });
      assert.equal(await sha(volFile('vol-k2'), 16 * MiB), then, 'the bytes of the first call’s point in time');
      await later.deleteSnapshot('snap-c');
      for (const v of ['vol-c', 'vol-k2']) await later.deleteVolume(v);
      for (const d of ['packs', 'manifests', 'pending', 'baselines']) assert.deepEqual(await files(d), [], `${d} empty`);
    });
  }

  it('an unfinished snapshot of a volume deleted since is dropped with it; a pending clone does not count as a snapshot', async () => {
    const crashing = open2((s) => {
      if (s === 'cloned') throw new Error('crash');
    });
    await crashing.createVolume({ volumeId: 'vol-gone', sizeGiB: 1, source: { kind: 'empty' } });
    await assert.rejects(crashing.createSnapshot('snap-gone', 'vol-gone'));
    assert.ok(!(await bs.listSnapshots()).some((s) => s.snapshotId === 'snap-gone'));
    await rejectsWith(bs.createVolume({ volumeId: 'vol-x', sizeGiB: 1, source: { kind: 'snapshot', snapshotId: 'snap-gone' } }), 'not-found');
    await bs.deleteVolume('vol-gone');
    assert.deepEqual(await readdir(join(chunks(), 'pending')), []);
  });

  it('an attached volume grown by resizeVolume: its device has the new size at once, its bytes stay', async () => {
    await bs.createVolume({ volumeId: 'vol-r', sizeGiB: 1, source: { kind: 'empty' } });
    const dev = await bs.attach('vol-r', inst());
    try {
      const data = randomBytes(MiB);
      await writeAt(dev, 100 * MiB, data);
      await bs.resizeVolume('vol-r', 3);
      const { stdout } = await run('blockdev', ['--getsize64', dev]);
      assert.equal(Number(stdout.trim()), 3 * GiB);
      assert.equal((await stat(volFile('vol-r'))).size, 3 * GiB);
      assert.deepEqual(await readAt(dev, 100 * MiB, MiB), data);
      await writeAt(dev, 2 * GiB + 5 * MiB, data);
      await bs.createSnapshot('snap-r', 'vol-r');
      await bs.createVolume({ volumeId: 'vol-r2', sizeGiB: 3, source: { kind: 'snapshot', snapshotId: 'snap-r' } });
      assert.deepEqual(await readAt(volFile('vol-r2'), 2 * GiB + 5 * MiB, MiB), data, 'written past the old end, snapshotted');
    } finally {
      await bs.detach('vol-r');
      await bs.deleteSnapshot('snap-r');
      for (const v of ['vol-r', 'vol-r2']) await bs.deleteVolume(v);
    }
  });

  it('randomized: chains of writes, snapshots, copies and deletions; after each deletion every snapshot restores byte for byte', async (t) => {
    // small blocks, writes within the first REGION bytes of 1 GiB volumes (the rest stays a hole, and is checked to)
    const REGION = 8 * MiB;
    const small = new ReflinkBlockStore({ dir: poolDir, sizeGiB: 16, checkIntervalMs: 0, chunks: { blockSize: 64 * KiB } });
    stores.push(small);
    const seeds = (process.env.SNAPSHOT_SEEDS ?? '1,2').split(',').map(Number);
    const deadline = Date.now() + 120_000;
    for (const seed of seeds) {
      const rnd = random(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const vols = ['vol-p0', 'vol-p1', 'vol-p2'];
      for (const v of vols) await small.createVolume({ volumeId: v, sizeGiB: 1, source: { kind: 'empty' } });
      const snaps = new Map<string, string>(); // id → sha256 of its region
      const shared = randomBytes(256 * KiB); // written to several places: dedup
      let n = 0;
      const restoresWhole = async (id: string) => {
        const v = `vol-r${seed}-${n++}`;
        await small.createVolume({ volumeId: v, sizeGiB: 1, source: { kind: 'snapshot', snapshotId: id } });
        assert.equal(await sha(volFile(v), REGION), snaps.get(id), `seed ${seed}: ${id} restores its bytes`);
        const { stdout } = await run('xfs_io', ['-r', '-c', `fiemap ${REGION} ${GiB - REGION}`, volFile(v)]);
        assert.ok(!/\d+\.\.\d+:\s+\d+\.\.\d+/.test(stdout.split('\n').slice(1).join('\n')), `seed ${seed}: ${id}: nothing beyond the region`);
        await small.deleteVolume(v);
      };
      for (let step = 0; step < 60 && Date.now() < deadline; step++) {
        const r = rnd();
        const v = pick(vols);
        if (r < 0.45) {
          const len = pick([4 * KiB, 60 * KiB, 64 * KiB, 200 * KiB, 256 * KiB]);
          const off = Math.floor((rnd() * (REGION - len)) / 4096) * 4096;
          const kind = rnd();
          const bytes = kind < 0.2 ? Buffer.alloc(len) : kind < 0.4 ? shared.subarray(0, len) : randomBytes(len);
          await writeAt(volFile(v), off, bytes);
        } else if (r < 0.75) {
          const id = `snap-p${seed}-${step}`;
          await small.createSnapshot(id, v);
          snaps.set(id, await sha(volFile(v), REGION));
        } else if (r < 0.82 && snaps.size > 0) {
          const src = pick([...snaps.keys()]);
          const id = `snap-p${seed}-${step}c`;
          assert.equal((await small.copySnapshot(id, src)).storedBytes, 0);
          snaps.set(id, snaps.get(src)!);
        } else if (snaps.size > 0) {
          const id = pick([...snaps.keys()]);
          await small.deleteSnapshot(id);
          snaps.delete(id);
          for (const s of snaps.keys()) await restoresWhole(s);
        }
      }
      t.diagnostic(`seed ${seed}: ${snaps.size} snapshots left, packs ${await small.packBytes()} bytes`);
      // settled (packBytes waits for it): no block without its fingerprint is left, nor a clone among the packs
      for (const dir of ['manifests', 'baselines']) {
        for (const f of (await readdir(join(chunks(), dir))).filter((x) => x.endsWith('.json'))) {
          const m = JSON.parse(await readFile(join(chunks(), dir, f), 'utf8')) as { blocks: ([number, number, string] | null)[] };
          assert.ok(m.blocks.every((b) => b === null || b[2] !== ''), `seed ${seed}: ${dir}/${f} settled`);
        }
      }
      assert.deepEqual((await readdir(join(chunks(), 'packs'))).filter((x) => x.endsWith('.clone.pack')), [], `seed ${seed}: no clone left among the packs`);
      for (const s of snaps.keys()) await restoresWhole(s);
      assert.deepEqual(
        (await small.listSnapshots()).map((s) => s.snapshotId).sort(),
        [...snaps.keys()].sort(),
      );
      for (const s of snaps.keys()) await small.deleteSnapshot(s);
      for (const v of vols) await small.deleteVolume(v);
      assert.deepEqual(await readdir(join(chunks(), 'packs')), [], `seed ${seed}: every pack freed once nothing refers to it`);
      assert.deepEqual(await readdir(join(chunks(), 'manifests')), []);
    }
  });
});
