/**
 * Snapshots of several volumes of one instance taken at one point in time
 * (CreateSnapshots, CreateImage): the snapshots wait (awaitingPoint) until
 * the instance's reconciler has taken every point of the set — with the
 * machine frozen (cgroup freezer), or while it is down for the reboot
 * CreateImage asks for — and then they are stored as any snapshot is.
 */
import type { ResourceContext } from '../context.js';
import { KINDS } from './kinds.js';
import type { SnapshotRecord, StoredInstance } from './records.js';

/** The snapshots wait for their instance to take their points (notifies the instance). */
export function awaitPoints(ctx: ResourceContext, inst: StoredInstance, snapshots: readonly SnapshotRecord[], reboot: boolean): void {
  if (snapshots.length === 0) return;
  const snaps = ctx.store.collection(KINDS.snapshot);
  for (const s of snapshots) snaps.put(ctx.region, s.SnapshotId, { ...s, awaitingPoint: true });
  const col = ctx.store.collection(KINDS.instance);
  const rec = col.get(ctx.region, inst.InstanceId) as StoredInstance;
  col.put(ctx.region, rec.InstanceId, {
    ...rec,
    pendingPoints: [...(rec.pendingPoints ?? []), ...snapshots.map((s) => s.SnapshotId)],
    ...(reboot || rec.pointsReboot ? { pointsReboot: true } : {}),
  });
  ctx.notify(KINDS.instance.name, rec.InstanceId);
}

/** The points of these snapshots are taken: they are stored from now on; the instance forgets them. */
export function pointsTaken(ctx: Pick<ResourceContext, 'store' | 'region'>, instanceId: string, snapshotIds: readonly string[]): void {
  const snaps = ctx.store.collection(KINDS.snapshot);
  for (const id of snapshotIds) {
    const s = snaps.get(ctx.region, id);
    if (s?.awaitingPoint) {
      const { awaitingPoint: _a, ...rest } = s;
      snaps.put(ctx.region, id, rest);
    }
  }
  const col = ctx.store.collection(KINDS.instance);
  const rec = col.get(ctx.region, instanceId) as StoredInstance | undefined;
  if (!rec) return;
  const left = (rec.pendingPoints ?? []).filter((id) => !snapshotIds.includes(id));
  const { pendingPoints: _p, pointsReboot: _r, ...rest } = rec;
  col.put(ctx.region, instanceId, left.length > 0 ? { ...rest, pendingPoints: left, ...(rec.pointsReboot ? { pointsReboot: true } : {}) } : rest);
}
