/**
 * Block storage: volumes (empty, or cloned from an image or a snapshot),
 * attached to a machine as a host block device, and snapshots of them. The
 * real driver keeps volumes as sparse files on a reflink pool (XFS) exposed
 * as loop devices, and snapshots in a content-addressed chunk store (fixed
 * blocks, hashed, each stored once; a snapshot is a manifest); the mock keeps
 * the same books in memory.
 *
 * Volume and snapshot ids are the EC2 ones, used as names. Every operation
 * is idempotent — repeated with the same arguments it does nothing and
 * answers the same — so a crash between two steps is repaired by the next
 * one; what contradicts the store's books is refused with a BlockStoreError.
 */
import type { EventStream, ProbeResult } from '../compute/driver.js';

export type VolumeSource =
  | { kind: 'empty' }
  /** the image's disk for a device (the AMI's root, or another of its mappings) */
  | {
      kind: 'image';
      imageId: string;
      deviceName: string;
      /**
       * the image's disk for that device on this host (an ext4 filesystem image, built or
       * imported and cached under the data directory); drivers that hold real bytes clone it
       */
      file?: string;
    }
  | { kind: 'snapshot'; snapshotId: string };

export interface VolumeSpec {
  /** vol-… (a name only) */
  volumeId: string;
  sizeGiB: number;
  source: VolumeSource;
}

export interface VolumeInfo {
  volumeId: string;
  sizeGiB: number;
  source: VolumeSource;
  /** set while attached: the instance that attached it first, and (a shared attach) the others holding the same device */
  attachment?: { instanceId: string; devicePath: string; sharedWith?: string[] };
}

export interface SnapshotInfo {
  snapshotId: string;
  /** the volume it was taken of (for a copy: the source snapshot's volume) */
  volumeId: string;
  sizeGiB: number;
  /** bytes this snapshot added to the store (blocks no earlier snapshot or image held) */
  storedBytes: number;
  /** bytes of the volume it holds (non-zero blocks): what a restore writes */
  dataBytes: number;
}

export interface AttachOptions {
  /** other instances may hold the same device (EBS Multi-Attach) */
  shared?: boolean;
}

export interface SnapshotOptions {
  /** called as blocks are stored, with the fraction done (0..1) */
  onProgress?: (fraction: number) => void;
}

export type BlockStoreErrorCode =
  /** the volume, snapshot or image named does not exist */
  | 'not-found'
  /** the volume is attached (to another instance, or at all for delete) */
  | 'in-use'
  /** an id that exists with other properties (size, source, volume) */
  | 'conflict'
  /** malformed: a size below 1 GiB or below the source's, … */
  | 'invalid'
  /** the pool is full */
  | 'no-space'
  | 'failed';

export class BlockStoreError extends Error {
  constructor(
    readonly code: BlockStoreErrorCode,
    readonly subject: string,
    message: string,
  ) {
    super(message);
    this.name = 'BlockStoreError';
  }
}

/** A volume's device went away without being detached (a loop device lost, a disk failing). */
export interface VolumeEvent {
  volumeId: string;
  /** the instance it was attached to */
  instanceId: string;
  kind: 'lost';
}

/**
 * The contract:
 *  - createVolume(spec): the volume; again with the same spec: the same
 *    volume; the same id with another size or source → conflict; an unknown
 *    snapshot or image → not-found; a size below 1 GiB, or below the
 *    snapshot's, → invalid.
 *  - deleteVolume(id): deletes it; attached → in-use; unknown: no-op.
 *  - attach(volumeId, instanceId, { shared }): the host device path; attached
 *    to the same instance: the same path; to another → in-use, unless shared
 *    (EBS Multi-Attach): then the same device, held by both; unknown →
 *    not-found.
 *  - detach(volumeId, instanceId?): that instance lets go of the device,
 *    which is detached once no instance holds it (without an instance: every
 *    holder at once); an instance not holding it, not attached or unknown:
 *    no-op.
 *  - createSnapshot(snapshotId, volumeId): a point-in-time copy (attached or
 *    not); again for the same volume: the same; the id taken by another
 *    volume's snapshot → conflict; unknown volume → not-found.
 *    A snapshot interrupted by a crash is resumed (from the same point in
 *    time) or started afresh by the next call with the same arguments.
 *  - snapshotPoint(snapshotId, volumeId): takes the snapshot's point in time
 *    now (what was written to the volume, flushed and cloned) without storing
 *    its blocks; the next createSnapshot with the same arguments stores that
 *    point. Again, or once the snapshot exists: no-op; unknown volume →
 *    not-found. (Points of several volumes taken while their machine is
 *    frozen are one crash-consistent set.)
 *  - copySnapshot(snapshotId, sourceId): a second snapshot holding the same
 *    bytes (stores nothing new); again: the same; unknown source → not-found.
 *  - resizeVolume(volumeId, sizeGiB): grows the volume (attached or not: an
 *    attached device sees its new size at once); the same size: no-op;
 *    smaller → invalid; unknown → not-found.
 *  - deleteSnapshot(id): frees the blocks no other snapshot needs; unknown:
 *    no-op (volumes made from it and other snapshots stay whole).
 *  - listVolumes() / listSnapshots(): everything (for recovery).
 *  - events(listener): devices lost.
 */
export interface BlockStore {
  readonly name: string;
  probe(): Promise<ProbeResult>;
  createVolume(spec: VolumeSpec): Promise<VolumeInfo>;
  deleteVolume(volumeId: string): Promise<void>;
  attach(volumeId: string, instanceId: string, opts?: AttachOptions): Promise<string>;
  detach(volumeId: string, instanceId?: string): Promise<void>;
  resizeVolume(volumeId: string, sizeGiB: number): Promise<VolumeInfo>;
  createSnapshot(snapshotId: string, volumeId: string, opts?: SnapshotOptions): Promise<SnapshotInfo>;
  snapshotPoint(snapshotId: string, volumeId: string): Promise<void>;
  copySnapshot(snapshotId: string, sourceSnapshotId: string): Promise<SnapshotInfo>;
  deleteSnapshot(snapshotId: string): Promise<void>;
  listVolumes(): Promise<VolumeInfo[]>;
  listSnapshots(): Promise<SnapshotInfo[]>;
  readonly events: EventStream<VolumeEvent>;
  close(): Promise<void>;
}
