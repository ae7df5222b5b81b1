/**
 * Snapshots in the reflink block store on this host (root, XFS and loop devices; skipped with the reason
 * otherwise), the store in this process on a pool of its own under BENCH_STORAGE_DIR (default /var/tmp).
 * Selected with BENCH_ONLY=storage-real.
 *
 *  1. Full snapshot of a 1 GiB volume with 60% of it written (unique blocks), attached, as a throughput
 *     ratio to `dd` reading the whole device (iflag=direct, 1 MiB): dd time / snapshot time, both over the
 *     same GiB, best of BENCH_STORAGE_ROUNDS (3) alternating. Target ≥ 0.5. New blocks go into the pack by
 *     reflink; the same with their bytes written (packWrite 'copy') is printed as a reference.
 *  2. An incremental snapshot after 1% of the blocks changed (a 4 KiB write in each): bytes it stored as a
 *     fraction of the volume. Target ≤ 2%.
 *  3. A 10 GiB volume (60% written; scaled down, with a note, when the disk cannot hold it): time to create
 *     a volume from its full snapshot and attach it (usable), median of 5. Target under 200 ms.
 *  4. Its incremental snapshot after 1% of the blocks changed, as a ratio of time to the full one. Target ≤ 5%.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../src/host/exec.js';
import { poolLeftovers, ReflinkBlockStore } from '../src/storage/drivers/reflink.js';
import { failure, type Outcome } from './outcome.js';
import { median } from './stats.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const BLOCK = 512 * 1024;
const ROUNDS = Number(process.env.BENCH_STORAGE_ROUNDS ?? 3);
const BASE_DIR = process.env.BENCH_STORAGE_DIR ?? '/var/tmp';

function judge(outcomes: Outcome[], name: string, value: number, target: number, atMost: boolean, show: (x: number) => string): void {
  const o: Outcome = { name, ratio: value, target, atMost, errors: 0 };
  const why = failure(o);
  console.log(`  ${name}: ${show(value)} (target ${atMost ? '≤' : '≥'} ${show(target)}) ${why === undefined ? 'OK' : atMost ? 'ABOVE TARGET' : 'BELOW TARGET'}`);
  outcomes.push(o);
}

const ms = (t0: number) => performance.now() - t0;

/**
 * Writes `bytes` of data from offset 0 of `file`: every 512 KiB block distinct (a random buffer with the
 * block's number stamped in), so nothing dedups, without generating gigabytes of randomness.
 */
async function fill(file: string, bytes: number, salt: number): Promise<void> {
  const chunk = 8 * MiB;
  const buf = randomBytes(chunk);
  const fh = await open(file, 'r+');
  try {
    for (let off = 0; off < bytes; off += chunk) {
      for (let b = 0; b < chunk; b += BLOCK) {
        buf.writeUInt32LE(salt, b);
        buf.writeUInt32LE((off + b) / BLOCK, b + 4);
      }
      await fh.write(buf, 0, Math.min(chunk, bytes - off), off);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A 4 KiB write into 1% of the blocks (spread evenly). */
async function changeOnePercent(file: string, bytes: number): Promise<number> {
  const blocks = bytes / BLOCK;
  const n = Math.round(blocks / 100);
  const fh = await open(file, 'r+');
  try {
    for (let i = 0; i < n; i++) await fh.write(randomBytes(4096), 0, 4096, Math.floor((i * blocks) / n) * BLOCK + 8192);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return n;
}

export async function storageCases(outcomes: Outcome[], targetScale = 1): Promise<void> {
  const probeStore = new ReflinkBlockStore({ dir: join(BASE_DIR, 'overcast-bench-probe-only'), sizeGiB: 1 });
  const probe = await probeStore.probe();
  if (!probe.ok) {
    console.log(`storage-real: SKIPPED (${probe.reason})`);
    return;
  }
  mkdirSync(BASE_DIR, { recursive: true });
  const dir = mkdtempSync(join(BASE_DIR, 'overcast-bench-storage-'));
  const free = statfsSync(dir).bavail * statfsSync(dir).bsize;
  // the big volume: 10 GiB with 60% written, unless the disk cannot hold that (its data, a restore shares it) and a margin
  let bigGiB = 10;
  while (bigGiB > 1 && 0.6 * bigGiB * GiB + 4 * GiB > free) bigGiB--;
  const poolGiB = bigGiB + 8;
  const bs = new ReflinkBlockStore({ dir: join(dir, 'pool'), sizeGiB: poolGiB, checkIntervalMs: 0 });
  const copying = new ReflinkBlockStore({ dir: join(dir, 'pool'), sizeGiB: poolGiB, checkIntervalMs: 0, chunks: { packWrite: 'copy' } });
  const volFile = (id: string) => join(dir, 'pool', 'mnt', 'volumes', `${id}.img`);
  let left: string[] = [];
  try {
    console.log(`storage-real: reflink block store, pool in ${dir} (${(free / GiB).toFixed(0)} GiB free on its disk), 512 KiB blocks`);

    // 1. full snapshot vs dd of the device
    const written = Math.round((0.6 * GiB) / BLOCK) * BLOCK;
    const snapMs: number[] = [];
    const ddMs: number[] = [];
    let lastVol = '';
    for (let r = 0; r < ROUNDS; r++) {
      const vol = `vol-full${r}`;
      await bs.createVolume({ volumeId: vol, sizeGiB: 1, source: { kind: 'empty' } });
      await fill(volFile(vol), written, r + 1);
      const dev = await bs.attach(vol, `i-bench${r}`);
      let t0 = performance.now();
      const s = await bs.createSnapshot(`snap-full${r}`, vol);
      snapMs.push(ms(t0));
      if (s.storedBytes !== written) throw new Error(`storage-real: the full snapshot stored ${s.storedBytes} bytes, not ${written}`);
      t0 = performance.now();
      await run('dd', [`if=${dev}`, 'of=/dev/null', 'bs=1M', 'iflag=direct', 'status=none']);
      ddMs.push(ms(t0));
      if (r < ROUNDS - 1) {
        await bs.detach(vol);
        await bs.deleteSnapshot(`snap-full${r}`);
        await bs.deleteVolume(vol);
      }
      lastVol = vol;
    }
    const snapBest = Math.min(...snapMs);
    const ddBest = Math.min(...ddMs);
    console.log(
      `  full snapshot of 1 GiB (${(written / MiB).toFixed(0)} MiB written): ${snapMs.map((x) => x.toFixed(0)).join(', ')} ms; ` +
        `dd of the device: ${ddMs.map((x) => x.toFixed(0)).join(', ')} ms (best: ${((GiB / MiB) / (snapBest / 1000)).toFixed(0)} vs ${((GiB / MiB) / (ddBest / 1000)).toFixed(0)} MiB/s of volume)`,
    );
    // the same with the new blocks' bytes written into the pack instead of shared
    await copying.createVolume({ volumeId: 'vol-copy', sizeGiB: 1, source: { kind: 'empty' } });
    await fill(volFile('vol-copy'), written, 99);
    let t0 = performance.now();
    await copying.createSnapshot('snap-copy', 'vol-copy');
    const copyMs = ms(t0);
    console.log(`  (reference: the same snapshot writing the blocks' bytes into the pack instead of reflinking them: ${copyMs.toFixed(0)} ms vs ${snapBest.toFixed(0)} ms)`);
    await copying.deleteSnapshot('snap-copy');
    await copying.deleteVolume('vol-copy');
    judge(outcomes, 'storage-real: full snapshot throughput / dd reading the device', ddBest / snapBest, 0.5 * targetScale, false, (x) => `${x.toFixed(2)}x`);

    // 2. incremental after 1% changed
    const changed = await changeOnePercent(volFile(lastVol), GiB);
    t0 = performance.now();
    const inc = await bs.createSnapshot('snap-inc1', lastVol);
    const incMs = ms(t0);
    const st = bs.lastSnapshotStats!;
    console.log(`  incremental snapshot of 1 GiB after ${changed} blocks changed: ${incMs.toFixed(0)} ms, ${st.unread} blocks stored unread, ${st.read} read, stored ${(inc.storedBytes / MiB).toFixed(1)} MiB`);
    judge(outcomes, 'storage-real: bytes stored by an incremental snapshot (1% of blocks changed) / volume size', inc.storedBytes / GiB, 0.02 * targetScale, true, (x) => `${(x * 100).toFixed(2)}%`);
    await bs.detach(lastVol);
    for (const s of [`snap-full${ROUNDS - 1}`, 'snap-inc1']) await bs.deleteSnapshot(s);
    await bs.deleteVolume(lastVol);

    // 3. and 4. the big volume
    if (bigGiB < 10) console.log(`  NOTE: only ${(free / GiB).toFixed(1)} GiB free on ${dir}: the big volume is ${bigGiB} GiB instead of 10`);
    const bigBytes = bigGiB * GiB;
    const bigWritten = Math.round((0.6 * bigBytes) / BLOCK) * BLOCK;
    await bs.createVolume({ volumeId: 'vol-big', sizeGiB: bigGiB, source: { kind: 'empty' } });
    t0 = performance.now();
    await fill(volFile('vol-big'), bigWritten, 1000);
    console.log(`  (${bigGiB} GiB volume: ${(bigWritten / GiB).toFixed(1)} GiB written in ${(ms(t0) / 1000).toFixed(1)} s)`);
    await bs.attach('vol-big', 'i-bench-big');
    t0 = performance.now();
    const full = await bs.createSnapshot('snap-big', 'vol-big');
    const fullMs = ms(t0);
    const restoreMs: number[] = [];
    for (let i = 0; i < 5; i++) {
      t0 = performance.now();
      await bs.createVolume({ volumeId: `vol-restored${i}`, sizeGiB: bigGiB, source: { kind: 'snapshot', snapshotId: 'snap-big' } });
      const dev = await bs.attach(`vol-restored${i}`, `i-bench-r${i}`);
      restoreMs.push(ms(t0));
      if (i === 0) {
        // usable: the last block written reads back as the original's
        const probeAt = bigWritten - BLOCK;
        const { stdout } = await run('cmp', ['-n', String(BLOCK), '-i', `${probeAt}:${probeAt}`, dev, volFile('vol-big')], { okCodes: [1] });
        if (stdout.trim() !== '') throw new Error(`storage-real: the restored volume differs: ${stdout}`);
      }
    }
    console.log(`  create + attach a ${bigGiB} GiB volume from its snapshot (${(full.dataBytes / GiB).toFixed(1)} GiB of data): ${restoreMs.map((x) => x.toFixed(0)).join(', ')} ms`);
    judge(outcomes, `storage-real: create and attach a volume from a ${bigGiB} GiB snapshot, median of 5`, median(restoreMs), 200 * targetScale, true, (x) => `${x.toFixed(0)} ms`);
    for (let i = 0; i < 5; i++) {
      await bs.detach(`vol-restored${i}`);
      await bs.deleteVolume(`vol-restored${i}`);
    }
    const bigChanged = await changeOnePercent(volFile('vol-big'), bigBytes);
    t0 = performance.now();
    const bigInc = await bs.createSnapshot('snap-big-inc', 'vol-big');
    const bigIncMs = ms(t0);
    const bst = bs.lastSnapshotStats!;
    // the blocks it stored unread are fingerprinted afterwards, in the background: timed for reference
    t0 = performance.now();
    await bs.settled();
    const settleMs = ms(t0);
    console.log(
      `  ${bigGiB} GiB volume: full snapshot ${fullMs.toFixed(0)} ms (stored ${(full.storedBytes / GiB).toFixed(2)} GiB); ` +
        `incremental after ${bigChanged} blocks changed ${bigIncMs.toFixed(0)} ms (${bst.unread} blocks stored unread, ${bst.read} read; stored ${(bigInc.storedBytes / MiB).toFixed(0)} MiB), ` +
        `settled ${settleMs.toFixed(0)} ms after`,
    );
    judge(outcomes, `storage-real: incremental / full snapshot time, ${bigGiB} GiB volume, 1% of blocks changed`, bigIncMs / fullMs, 0.05 * targetScale, true, (x) => `${(x * 100).toFixed(1)}%`);
    await bs.detach('vol-big');
    for (const s of ['snap-big', 'snap-big-inc']) await bs.deleteSnapshot(s);
    await bs.deleteVolume('vol-big');
  } finally {
    try {
      await copying.close();
      await bs.destroy();
      left = await poolLeftovers(join(dir, 'pool'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(left.length === 0 ? '  (pool, loop devices and mounts gone)' : `  LEFT ON THE HOST: ${left.join(', ')}`);
    outcomes.push({ name: 'storage-real: nothing left on the host', ratio: 1, target: 0, errors: left.length });
  }
}
