/**
 * The points in time of a set of snapshots of one machine's volumes, taken
 * together (resources/ec2/snapshot-points.ts keeps the books): with the
 * machine's processes frozen (the cgroup freezer) while every point is
 * flushed and cloned, then thawed — or, for CreateImage without NoReboot,
 * with the guest shut down cleanly, the points taken while it is down, and
 * the machine started again on the same devices.
 */
import { HypervisorError, type Hypervisor } from '../compute/hypervisor.js';
import { BlockStoreError, type BlockStore } from '../storage/block-store.js';

export interface SnapshotPoint {
  snapshotId: string;
  volumeId: string;
}

async function takeEach(blockStore: BlockStore, points: readonly SnapshotPoint[], log: (line: string) => void): Promise<void> {
  for (const p of points) {
    try {
      await blockStore.snapshotPoint(p.snapshotId, p.volumeId);
    } catch (err) {
      // a volume with no bytes: its snapshot is stored (or fails) as any other
      if (!(err instanceof BlockStoreError) || err.code !== 'not-found') throw err;
      log(`${p.snapshotId}: no point taken: ${err.message}`);
    }
  }
}

/**
 * Takes the points. `running`: whether the machine runs; `restart` starts it
 * again after a reboot for the points (reboot: true).
 */
export async function takeSnapshotPoints(
  deps: { driver: Hypervisor; blockStore: BlockStore; log: (line: string) => void },
  instanceId: string,
  points: readonly SnapshotPoint[],
  opts: { running: boolean; reboot: boolean; restart: () => Promise<void> },
): Promise<void> {
  if (!opts.running) return takeEach(deps.blockStore, points, deps.log);
  if (opts.reboot) {
    // the guest's own clean shutdown, then the points while nothing runs, then the same machine up again
    await deps.driver.stop(instanceId);
    try {
      await takeEach(deps.blockStore, points, deps.log);
    } finally {
      await opts.restart();
    }
    return;
  }
  let frozen = false;
  try {
    await deps.driver.freeze(instanceId);
    frozen = true;
  } catch (err) {
    // it stopped meanwhile: nothing writes, the points are consistent as they are
    if (!(err instanceof HypervisorError) || err.code !== 'invalid-state') throw err;
  }
  try {
    await takeEach(deps.blockStore, points, deps.log);
  } finally {
    if (frozen) await deps.driver.thaw(instanceId);
  }
}
