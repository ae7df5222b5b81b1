/**
 * The volume reconciler: makes the block store hold what the volume, snapshot
 * and image records say, apart from attachments (the instance reconciler hands
 * devices to machines).
 *
 *  - volume creating → its bytes made (empty, or from a snapshot) → available;
 *    deleting → its bytes removed → the record goes; a ModifyVolume
 *    modifying → grown, its new limits applied to the attached running
 *    machines → optimizing (the record shows the new size and type) →
 *    completed.
 *  - snapshot pending → taken (or copied) by the block store, its progress
 *    written on the way → completed (error when its volume is gone);
 *    deleted → its blocks freed → the record goes.
 *  - image pending → available once every snapshot it maps is completed
 *    (failed when one failed); CreateImage without NoReboot then reboots the
 *    instance.
 *
 * Keys are `<kind>/<region>/<id>`. Every step is idempotent, and start-up
 * looks at every record that is not settled, so a killed server resumes a
 * pending snapshot (the block store resumes from the same point in time).
 */
import { internalContext, type ChangeEvent, type ResourceContext } from '../resources/context.js';
import { KINDS } from '../resources/ec2/kinds.js';
import type { ImageRecord, SnapshotRecord, VolumeRecord } from '../resources/ec2/records.js';
import { ec2Time } from '../domain/time.js';
import { BlockStoreError, type BlockStore, type SnapshotInfo, type VolumeSource } from '../storage/block-store.js';
import { LoopReconciler } from './loop-reconciler.js';
import type { ReconcilerDeps } from './reconciler.js';

export interface VolumeReconcilerDeps extends ReconcilerDeps {
  blockStore: BlockStore;
  /** an instance record changed here (a reboot CreateImage asked for): its reconciler looks again */
  onInstance?: (region: string, instanceId: string) => void;
  /** a ModifyVolume's new I/O limits applied to the running machines the volume is attached to (awaited before optimizing) */
  applyLimits?: (region: string, volumeId: string) => Promise<void>;
  log?: (line: string) => void;
  /** the time records are stamped with (the API's clock; tests fake it) */
  clock?: () => Date;
  retryBaseMs?: number;
  resyncMs?: number;
}

type Kind = 'volume' | 'snapshot' | 'image';

const key = (kind: Kind, region: string, id: string) => `${kind}/${region}/${id}`;

/** How often a pending snapshot's progress is written (fractions of the whole). */
const PROGRESS_STEP = 0.1;

export class VolumeReconciler extends LoopReconciler {
  private readonly log: (line: string) => void;

  constructor(private readonly deps: VolumeReconcilerDeps) {
    const log = deps.log ?? ((line: string) => process.stderr.write(`reconcile/volumes: ${line}\n`));
    super({ store: deps.store, name: 'volumes', log, retryBaseMs: deps.retryBaseMs, resyncMs: deps.resyncMs });
    this.log = log;
  }

  protected keysFor(e: ChangeEvent): string | undefined {
    if (e.kind === KINDS.volume.name || e.kind === KINDS.snapshot.name || e.kind === KINDS.image.name) return key(e.kind as Kind, e.region, e.id);
    return undefined;
  }

  /** Every record that is not settled, in every region. */
  protected async keys(): Promise<string[]> {
    const out: string[] = [];
    const store = this.deps.store;
    for (const { region, value } of store.collection(KINDS.volume).listAllRegions()) {
      const m = value.modification?.ModificationState;
      if (value.State === 'creating' || value.State === 'deleting' || m === 'modifying' || m === 'optimizing') out.push(key('volume', region, value.VolumeId));
    }
    for (const { region, value } of store.collection(KINDS.snapshot).listAllRegions()) {
      if (value.State === 'pending' || value.deleting) out.push(key('snapshot', region, value.SnapshotId));
    }
    for (const { region, value } of store.collection(KINDS.image).listAllRegions()) {
      if (value.State === 'pending') out.push(key('image', region, value.ImageId));
    }
    return out;
  }

  private context(region: string): ResourceContext {
    return internalContext(this.deps.store, this.deps.config, region, { afterCommit: () => {}, now: this.deps.clock?.() });
  }

  protected async step(k: string): Promise<boolean> {
    const [kind, region, id] = k.split('/') as [Kind, string, string];
    switch (kind) {
      case 'volume':
        return this.volumeStep(region, id);
      case 'snapshot':
        return this.snapshotStep(region, id);
      case 'image':
        return this.imageStep(region, id);
    }
  }

  // ---------------------------------------------------------------- volumes

  private async volumeStep(region: string, id: string): Promise<boolean> {
    const v = this.deps.store.collection(KINDS.volume).get(region, id);
    if (!v) return true;
    if (v.State === 'creating') {
      const source: VolumeSource = v.origin.kind === 'snapshot' ? { kind: 'snapshot', snapshotId: v.origin.snapshotId } : { kind: 'empty' };
      try {
        await this.deps.blockStore.createVolume({ volumeId: id, sizeGiB: v.Size, source });
      } catch (err) {
        if (!(err instanceof BlockStoreError) || (err.code !== 'not-found' && err.code !== 'invalid' && err.code !== 'no-space')) throw err;
        this.log(`${id}: ${err.message}`);
        return this.commitVolume(region, id, (r) => r.State === 'creating', (r) => {
          r.State = 'error';
        });
      }
      return this.commitVolume(region, id, (r) => r.State === 'creating', (r) => {
        r.State = 'available';
      });
    }
    if (v.State === 'deleting') {
      await this.deps.blockStore.deleteVolume(id);
      return this.deps.store.transaction(() => {
        const ctx = this.context(region);
        const col = ctx.store.collection(KINDS.volume);
        if (col.get(region, id)?.State !== 'deleting') return false;
        col.delete(region, id);
        ctx.store.tags.removeAll(region, id);
        return true;
      });
    }
    const m = v.modification;
    if (m?.ModificationState === 'modifying') {
      // the bytes first, then the new limits on the devices the volume is attached to: both are in force once it reports optimizing
      if (m.TargetSize > v.Size) await this.deps.blockStore.resizeVolume(id, m.TargetSize);
      if ((v.attachments ?? []).length > 0) await this.deps.applyLimits?.(region, id);
      await this.commitVolume(region, id, (r) => r.modification?.StartTime === m.StartTime && r.modification.ModificationState === 'modifying', (r) => {
        const mod = r.modification!;
        r.Size = mod.TargetSize;
        r.VolumeType = mod.TargetVolumeType;
        if (mod.TargetIops !== undefined) r.Iops = mod.TargetIops;
        else delete r.Iops;
        if (mod.TargetThroughput !== undefined) r.Throughput = mod.TargetThroughput;
        else delete r.Throughput;
        r.MultiAttachEnabled = mod.TargetMultiAttachEnabled;
        mod.ModificationState = 'optimizing';
        mod.Progress = 50;
      });
      return false; // on to completed
    }
    if (m?.ModificationState === 'optimizing') {
      return this.commitVolume(region, id, (r) => r.modification?.StartTime === m.StartTime && r.modification.ModificationState === 'optimizing', (r, ctx) => {
        const mod = r.modification!;
        mod.ModificationState = 'completed';
        mod.Progress = 100;
        mod.EndTime = ec2Time(ctx.now);
      });
    }
    return true;
  }

  private commitVolume(region: string, id: string, still: (v: VolumeRecord) => boolean, fn: (v: VolumeRecord, ctx: ResourceContext) => void): Promise<boolean> {
    return this.loop.commit(() => {
      const ctx = this.context(region);
      const col = ctx.store.collection(KINDS.volume);
      const v = col.get(region, id);
      if (!v || !still(v)) return false;
      fn(v, ctx);
      col.put(region, id, v);
      return true;
    });
  }

  // ---------------------------------------------------------------- snapshots

  private async snapshotStep(region: string, id: string): Promise<boolean> {
    const s = this.deps.store.collection(KINDS.snapshot).get(region, id);
    if (!s) return true;
    if (s.deleting) {
      await this.deps.blockStore.deleteSnapshot(id);
      return this.deps.store.transaction(() => {
        const col = this.deps.store.collection(KINDS.snapshot);
        if (!col.get(region, id)?.deleting) return false;
        col.delete(region, id);
        this.deps.store.tags.removeAll(region, id);
        return true;
      });
    }
    if (s.State !== 'pending') return true;
    // its point in time is its instance's reconciler's to take, with the instance's other volumes
    if (s.awaitingPoint) return true;
    let info: SnapshotInfo;
    try {
      info = await this.take(region, s);
    } catch (err) {
      if (!(err instanceof BlockStoreError) || err.code !== 'not-found') throw err;
      // the volume has no bytes yet (an instance still launching) or is gone
      if (this.sourceAlive(region, s)) throw err;
      this.log(`${id}: ${err.message}`);
      const done = await this.commitSnapshot(region, id, (r) => {
        r.State = 'error';
        r.StateMessage = `the source is gone: ${err.message}`;
      });
      this.imagesOf(region, id);
      return done;
    }
    const done = await this.commitSnapshot(region, id, (r, ctx) => {
      r.State = 'completed';
      r.Progress = '100%';
      r.CompletionTime = new Date(ctx.now.getTime()).toISOString();
      r.FullSnapshotSizeInBytes = info.dataBytes;
      r.storedBytes = info.storedBytes;
    });
    this.imagesOf(region, id);
    return done;
  }

  /** The block store's part: the volume read into it, or the source snapshot copied. */
  private take(region: string, s: SnapshotRecord): Promise<SnapshotInfo> {
    if (s.source.kind === 'copy') {
      const src = this.deps.store.collection(KINDS.snapshot).get(s.source.region, s.source.snapshotId);
      if (src && src.State === 'pending') throw new Error(`${s.SnapshotId}: waiting for ${src.SnapshotId} to complete`);
      return this.deps.blockStore.copySnapshot(s.SnapshotId, s.source.snapshotId);
    }
    let written = 0;
    return this.deps.blockStore.createSnapshot(s.SnapshotId, s.source.volumeId, {
      onProgress: (f) => {
        if (f - written < PROGRESS_STEP || f >= 1) return;
        written = f;
        void this.commitSnapshot(region, s.SnapshotId, (r) => {
          r.Progress = `${Math.floor(f * 100)}%`;
        }).catch(() => {});
      },
    });
  }

  private sourceAlive(region: string, s: SnapshotRecord): boolean {
    if (s.source.kind === 'copy') {
      const src = this.deps.store.collection(KINDS.snapshot).get(s.source.region, s.source.snapshotId);
      return src !== undefined && !src.deleting && src.State !== 'error';
    }
    const v = this.deps.store.collection(KINDS.volume).get(region, s.source.volumeId);
    return v !== undefined && v.State !== 'deleting' && v.State !== 'error';
  }

  private commitSnapshot(region: string, id: string, fn: (s: SnapshotRecord, ctx: ResourceContext) => void): Promise<boolean> {
    return this.loop.commit(() => {
      const ctx = this.context(region);
      const col = ctx.store.collection(KINDS.snapshot);
      const s = col.get(region, id);
      if (!s || s.State !== 'pending' || s.deleting) return false;
      fn(s, ctx);
      col.put(region, id, s);
      return true;
    });
  }

  /** Pending images that map the snapshot look again. */
  private imagesOf(region: string, snapshotId: string): void {
    for (const i of this.deps.store.collection(KINDS.image).list(region)) {
      if (i.State === 'pending' && (i.BlockDeviceMappings ?? []).some((m) => m.Ebs?.SnapshotId === snapshotId)) this.loop.schedule(key('image', region, i.ImageId));
    }
  }

  // ---------------------------------------------------------------- images

  private async imageStep(region: string, id: string): Promise<boolean> {
    const image = this.deps.store.collection(KINDS.image).get(region, id);
    if (!image || image.State !== 'pending') return true;
    const snaps = (image.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : []));
    const col = this.deps.store.collection(KINDS.snapshot);
    const states = snaps.map((s) => col.get(region, s)?.State ?? 'error');
    if (states.some((s) => s === 'pending')) return true; // a completed snapshot schedules it again
    const failed = states.some((s) => s === 'error');
    let reboot: string | undefined;
    const done = await this.loop.commit(() => {
      const images = this.deps.store.collection(KINDS.image);
      const rec = images.get(region, id);
      if (!rec || rec.State !== 'pending') return false;
      const next: ImageRecord = { ...rec, State: failed ? 'failed' : 'available' };
      if (failed) next.StateReason = { Code: 'Client.SnapshotFailed', Message: 'A snapshot of the image failed.' };
      if (rec.rebootInstanceId !== undefined) {
        reboot = rec.rebootInstanceId;
        delete next.rebootInstanceId;
        const instances = this.deps.store.collection(KINDS.instance);
        const inst = instances.get(region, reboot);
        if (inst && inst.State.Name === 'running') instances.put(region, reboot, { ...inst, rebootGeneration: inst.rebootGeneration + 1 });
        else reboot = undefined;
      }
      images.put(region, id, next);
      return true;
    });
    if (done && reboot !== undefined) this.deps.onInstance?.(region, reboot);
    return done;
  }
}
