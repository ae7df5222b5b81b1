/**
 * The mock block store: volumes and snapshots as entries in maps, device
 * paths /dev/mock/loopN, with the refusals of the real store. Any image id
 * is taken to exist (the catalogue's images have no bytes here) unless the
 * constructor is given the list of images the pool holds.
 */
import { Emitter, type ProbeResult } from '../../compute/driver.js';
import {
  BlockStoreError,
  type BlockStore,
  type SnapshotInfo,
  type SnapshotOptions,
  type VolumeEvent,
  type VolumeInfo,
  type AttachOptions,
  type VolumeSource,
  type VolumeSpec,
} from '../block-store.js';

export interface MockBlockStoreOptions {
  /** image ids the pool holds (default: any) */
  images?: readonly string[];
  /** pool size; creating beyond it fails with no-space (default: unlimited) */
  capacityGiB?: number;
}

const sameSource = (a: VolumeSource, b: VolumeSource): boolean => JSON.stringify(a) === JSON.stringify(b);
const copy = (v: VolumeInfo): VolumeInfo => {
  const out: VolumeInfo = { volumeId: v.volumeId, sizeGiB: v.sizeGiB, source: { ...v.source } };
  if (v.attachment) out.attachment = { ...v.attachment, ...(v.attachment.sharedWith ? { sharedWith: [...v.attachment.sharedWith] } : {}) };
  return out;
};

export class MockBlockStore implements BlockStore {
  readonly name = 'mock';
  private readonly volumes = new Map<string, VolumeInfo>();
  private readonly snapshots = new Map<string, SnapshotInfo>();
  private readonly emitter = new Emitter<VolumeEvent>();
  readonly events = this.emitter.subscribe;
  private nextLoop = 0;
  private closed = false;
  /** operations carried out, in order ("createVolume vol-…"), for tests */
  readonly calls: string[] = [];

  constructor(private readonly opts: MockBlockStoreOptions = {}) {}

  async probe(): Promise<ProbeResult> {
    return this.closed ? { ok: false, reason: 'the mock block store is closed' } : { ok: true };
  }

  async createVolume(spec: VolumeSpec): Promise<VolumeInfo> {
    this.op(`createVolume ${spec.volumeId}`);
    const have = this.volumes.get(spec.volumeId);
    if (have) {
      if (have.sizeGiB === spec.sizeGiB && sameSource(have.source, spec.source)) return copy(have);
      throw new BlockStoreError('conflict', spec.volumeId, `volume ${spec.volumeId} exists with other properties`);
    }
    if (!Number.isInteger(spec.sizeGiB) || spec.sizeGiB < 1) throw new BlockStoreError('invalid', spec.volumeId, `size ${spec.sizeGiB} GiB`);
    const src = spec.source;
    if (src.kind === 'snapshot') {
      const snap = this.snapshots.get(src.snapshotId);
      if (!snap) throw new BlockStoreError('not-found', src.snapshotId, `no snapshot ${src.snapshotId}`);
      if (spec.sizeGiB < snap.sizeGiB) {
        throw new BlockStoreError('invalid', spec.volumeId, `${spec.sizeGiB} GiB is smaller than snapshot ${src.snapshotId} (${snap.sizeGiB} GiB)`);
      }
    } else if (src.kind === 'image') {
      if (this.opts.images && !this.opts.images.includes(src.imageId)) throw new BlockStoreError('not-found', src.imageId, `no image ${src.imageId} in the pool`);
    }
    if (this.opts.capacityGiB !== undefined && this.usedGiB() + spec.sizeGiB > this.opts.capacityGiB) {
      throw new BlockStoreError('no-space', spec.volumeId, `the pool has no room for ${spec.sizeGiB} GiB`);
    }
    const v: VolumeInfo = { volumeId: spec.volumeId, sizeGiB: spec.sizeGiB, source: { ...src } };
    this.volumes.set(spec.volumeId, v);
    return copy(v);
  }

  async deleteVolume(volumeId: string): Promise<void> {
    this.op(`deleteVolume ${volumeId}`);
    const v = this.volumes.get(volumeId);
    if (!v) return;
    if (v.attachment) throw new BlockStoreError('in-use', volumeId, `volume ${volumeId} is attached to ${v.attachment.instanceId}`);
    this.volumes.delete(volumeId);
  }

  async attach(volumeId: string, instanceId: string, opts: AttachOptions = {}): Promise<string> {
    this.op(`attach ${volumeId}`);
    const v = this.volumes.get(volumeId);
    if (!v) throw new BlockStoreError('not-found', volumeId, `no volume ${volumeId}`);
    const a = v.attachment;
    if (a) {
      if (a.instanceId === instanceId || a.sharedWith?.includes(instanceId)) return a.devicePath;
      if (!opts.shared) throw new BlockStoreError('in-use', volumeId, `volume ${volumeId} is attached to ${a.instanceId}`);
      a.sharedWith = [...(a.sharedWith ?? []), instanceId];
      return a.devicePath;
    }
    v.attachment = { instanceId, devicePath: `/dev/mock/loop${this.nextLoop++}` };
    return v.attachment.devicePath;
  }

  async detach(volumeId: string, instanceId?: string): Promise<void> {
    this.op(`detach ${volumeId}`);
    const v = this.volumes.get(volumeId);
    const a = v?.attachment;
    if (!v || !a) return;
    if (instanceId !== undefined) {
      const holders = [a.instanceId, ...(a.sharedWith ?? [])];
      if (!holders.includes(instanceId)) return;
      const rest = holders.filter((h) => h !== instanceId);
      if (rest.length > 0) {
        v.attachment = { instanceId: rest[0]!, devicePath: a.devicePath, ...(rest.length > 1 ? { sharedWith: rest.slice(1) } : {}) };
        return;
      }
    }
    delete v.attachment;
  }

  async resizeVolume(volumeId: string, sizeGiB: number): Promise<VolumeInfo> {
    this.op(`resizeVolume ${volumeId}`);
    const v = this.volumes.get(volumeId);
    if (!v) throw new BlockStoreError('not-found', volumeId, `no volume ${volumeId}`);
    if (!Number.isInteger(sizeGiB) || sizeGiB < v.sizeGiB) {
      throw new BlockStoreError('invalid', volumeId, `volume ${volumeId} is ${v.sizeGiB} GiB: it can only grow (asked ${sizeGiB})`);
    }
    if (this.opts.capacityGiB !== undefined && this.usedGiB() + sizeGiB - v.sizeGiB > this.opts.capacityGiB) {
      throw new BlockStoreError('no-space', volumeId, `the pool has no room for ${sizeGiB} GiB`);
    }
    v.sizeGiB = sizeGiB;
    return copy(v);
  }

  async createSnapshot(snapshotId: string, volumeId: string, opts: SnapshotOptions = {}): Promise<SnapshotInfo> {
    this.op(`createSnapshot ${snapshotId}`);
    const have = this.snapshots.get(snapshotId);
    if (have) {
      if (have.volumeId === volumeId) return { ...have };
      throw new BlockStoreError('conflict', snapshotId, `snapshot ${snapshotId} is of ${have.volumeId}`);
    }
    const v = this.volumes.get(volumeId);
    if (!v) throw new BlockStoreError('not-found', volumeId, `no volume ${volumeId}`);
    // the mock holds no bytes: nothing is stored, nothing restored
    const s: SnapshotInfo = { snapshotId, volumeId, sizeGiB: v.sizeGiB, storedBytes: 0, dataBytes: 0 };
    this.snapshots.set(snapshotId, s);
    opts.onProgress?.(1);
    return { ...s };
  }

  /** snapshot id → volume id: points taken and not stored yet */
  private readonly points = new Map<string, string>();

  async snapshotPoint(snapshotId: string, volumeId: string): Promise<void> {
    this.op(`snapshotPoint ${snapshotId}`);
    const have = this.snapshots.get(snapshotId);
    if (have) {
      if (have.volumeId === volumeId) return;
      throw new BlockStoreError('conflict', snapshotId, `snapshot ${snapshotId} is of ${have.volumeId}`);
    }
    if (!this.volumes.has(volumeId)) throw new BlockStoreError('not-found', volumeId, `no volume ${volumeId}`);
    if (!this.points.has(snapshotId)) this.points.set(snapshotId, volumeId);
  }

  /** Whether a point was taken for the snapshot (stored or not; for tests). */
  hasPoint(snapshotId: string): boolean {
    return this.points.has(snapshotId);
  }

  async copySnapshot(snapshotId: string, sourceSnapshotId: string): Promise<SnapshotInfo> {
    this.op(`copySnapshot ${snapshotId}`);
    const src = this.snapshots.get(sourceSnapshotId);
    const have = this.snapshots.get(snapshotId);
    if (have) {
      if (src && have.volumeId === src.volumeId && have.sizeGiB === src.sizeGiB) return { ...have };
      throw new BlockStoreError('conflict', snapshotId, `snapshot ${snapshotId} exists and is not a copy of ${sourceSnapshotId}`);
    }
    if (!src) throw new BlockStoreError('not-found', sourceSnapshotId, `no snapshot ${sourceSnapshotId}`);
    const s: SnapshotInfo = { ...src, snapshotId, storedBytes: 0 };
    this.snapshots.set(snapshotId, s);
    return { ...s };
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    this.op(`deleteSnapshot ${snapshotId}`);
    this.snapshots.delete(snapshotId);
  }

  async listVolumes(): Promise<VolumeInfo[]> {
    this.checkOpen();
    return [...this.volumes.values()].map(copy);
  }

  async listSnapshots(): Promise<SnapshotInfo[]> {
    this.checkOpen();
    return [...this.snapshots.values()].map((s) => ({ ...s }));
  }

  /** The host loses an attached volume's device (for tests): detached, reported as an event. */
  loseDevice(volumeId: string): void {
    const v = this.volumes.get(volumeId);
    if (!v?.attachment) return;
    const holders = [v.attachment.instanceId, ...(v.attachment.sharedWith ?? [])];
    delete v.attachment;
    for (const instanceId of holders) this.emitter.emit({ volumeId, instanceId, kind: 'lost' });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private usedGiB(): number {
    let n = 0;
    for (const v of this.volumes.values()) n += v.sizeGiB;
    return n;
  }

  private op(what: string): void {
    this.checkOpen();
    this.calls.push(what);
  }

  private checkOpen(): void {
    if (this.closed) throw new BlockStoreError('failed', '', 'the mock block store is closed');
  }
}
