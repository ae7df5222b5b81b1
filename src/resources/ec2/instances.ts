/**
 * The stored instance (records.ts `InstanceRecord` plus the few fields only
 * the instances family and its reconciler use) and the network bookkeeping
 * that both the API and the reconciler do on state changes: public IPs on
 * stop/start, interfaces and Elastic IPs on terminate.
 */
import type { ResourceContext } from '../context.js';
import { allocatePublicIp } from './public-ips.js';
import type { InstanceRecord, NetworkInterfaceRecord, StoredInstance } from './records.js';

export type { StoredInstance } from './records.js';
import { KINDS, LIVE_INDEX } from './kinds.js';
import { kind } from '../../store/kind.js';
import { deletePermissionsOf } from './network-interfaces.js';

export const instanceCollection = (ctx: { store: ResourceContext['store'] }) => ctx.store.collection(KINDS.instance);
export const eniCollection = (ctx: { store: ResourceContext['store'] }) => ctx.store.collection(KINDS.networkInterface);

/** Instances of the region that count against the account limit (all but terminated), from the store's index. */
export function liveInstanceCount(ctx: Pick<ResourceContext, 'store' | 'region'>): number {
  return instanceCollection(ctx).count(ctx.region, LIVE_INDEX, '1');
}

/** The instance's interfaces that still exist, in device-index order. */
export function interfacesOf(ctx: ResourceContext, rec: InstanceRecord): NetworkInterfaceRecord[] {
  const col = eniCollection(ctx);
  const out: NetworkInterfaceRecord[] = [];
  for (const id of rec.networkInterfaceIds) {
    const eni = col.get(ctx.region, id);
    if (eni) out.push(eni);
  }
  return out;
}

/** Stop: auto-assigned public IPs go back to the pool; Elastic IPs stay. */
export function releaseAutoPublicIps(ctx: ResourceContext, rec: InstanceRecord): void {
  const col = eniCollection(ctx);
  for (const eni of interfacesOf(ctx, rec)) {
    if (eni.association && eni.association.allocationId === undefined) {
      delete eni.association;
      col.put(ctx.region, eni.NetworkInterfaceId, eni);
    }
  }
}

/** Start: a new public IPv4 on the primary interface when the instance has one on start and holds none. */
export function assignPublicIpOnStart(ctx: ResourceContext, rec: StoredInstance): void {
  if (!rec.publicIpOnStart) return;
  const primary = interfacesOf(ctx, rec).find((e) => e.attachment?.DeviceIndex === 0);
  if (!primary || primary.association) return;
  primary.association = { PublicIp: allocatePublicIp(ctx) };
  eniCollection(ctx).put(ctx.region, primary.NetworkInterfaceId, primary);
}

/** Clears an Elastic IP's association fields (the allocation itself is kept). */
export function disassociateElasticIp(ctx: ResourceContext, allocationId: string): void {
  const col = ctx.store.collection(KINDS.elasticIp);
  const addr = col.get(ctx.region, allocationId);
  if (!addr) return;
  delete addr.AssociationId;
  delete addr.InstanceId;
  delete addr.NetworkInterfaceId;
  delete addr.NetworkInterfaceOwnerId;
  delete addr.PrivateIpAddress;
  col.put(ctx.region, allocationId, addr);
}

/** The allocation ids of the Elastic IPs on an interface (its primary address and secondary ones). */
export function elasticIpsOf(eni: NetworkInterfaceRecord): string[] {
  return [eni.association?.allocationId, ...(eni.secondaryAssociations ?? []).map((s) => s.allocationId)].filter((a): a is string => a !== undefined);
}

/** The instance the Elastic IPs of an interface name (undefined: the interface left its instance; they stay on the interface). */
export function setInstanceOfElasticIps(ctx: ResourceContext, eni: NetworkInterfaceRecord, instanceId: string | undefined): void {
  const col = ctx.store.collection(KINDS.elasticIp);
  for (const allocationId of elasticIpsOf(eni)) {
    const addr = col.get(ctx.region, allocationId);
    if (!addr || addr.InstanceId === instanceId) continue;
    if (instanceId === undefined) delete addr.InstanceId;
    else addr.InstanceId = instanceId;
    col.put(ctx.region, allocationId, addr);
  }
}

/**
 * Terminate: interfaces marked DeleteOnTermination are deleted (their private
 * and public IPs return to the pools, their tags go, their Elastic IPs are
 * disassociated but stay allocated); the others are detached and become
 * available, keeping their Elastic IPs.
 */
export function releaseInterfacesOnTerminate(ctx: ResourceContext, rec: InstanceRecord): void {
  const col = eniCollection(ctx);
  for (const eni of interfacesOf(ctx, rec)) {
    if (eni.attachment?.InstanceId !== rec.InstanceId) continue;
    if (eni.attachment.DeleteOnTermination) {
      for (const a of elasticIpsOf(eni)) disassociateElasticIp(ctx, a);
      col.delete(ctx.region, eni.NetworkInterfaceId);
      ctx.store.tags.removeAll(ctx.region, eni.NetworkInterfaceId);
      deletePermissionsOf(ctx, eni.NetworkInterfaceId);
    } else {
      // detached: its Elastic IPs stay with it (no longer the instance's), an auto-assigned public IP goes
      setInstanceOfElasticIps(ctx, eni, undefined);
      delete eni.attachment;
      if (eni.association && eni.association.allocationId === undefined) delete eni.association;
      eni.Status = 'available';
      col.put(ctx.region, eni.NetworkInterfaceId, eni);
    }
  }
}

/**
 * collection 'console-output': the serial console's tail per instance, apart
 * from the instance document (which stays small for Describe calls). Written
 * by the instance reconciler, read by GetConsoleOutput; deleted with the
 * instance when it is purged.
 */
export const CONSOLE_OUTPUT = kind<ConsoleOutputRecord>({ name: 'console-output' });

/** EC2 keeps the most recent 64 KiB of console output. */
export const CONSOLE_TAIL_BYTES = 64 * 1024;

export interface ConsoleOutputRecord {
  InstanceId: string;
  /** the last CONSOLE_TAIL_BYTES bytes (UTF-8) of the console, cut at a character boundary */
  output: string;
  /** ms since epoch of the last write */
  updatedAt: number;
}

export const consoleOutputCollection = (ctx: { store: ResourceContext['store'] }) => ctx.store.collection(CONSOLE_OUTPUT);

/** The last `maxBytes` bytes of `text` in UTF-8, never starting inside a character. */
export function consoleTail(text: string, maxBytes = CONSOLE_TAIL_BYTES): string {
  // a UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no counting
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let start = bytes.length - maxBytes;
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString('utf8');
}

/** The stored console tail of an instance (the old in-document text for records written before the split). */
export function consoleOutputOf(ctx: Pick<ResourceContext, 'store' | 'region'>, rec: InstanceRecord): string {
  return consoleOutputCollection(ctx).get(ctx.region, rec.InstanceId)?.output ?? rec.consoleOutput ?? '';
}
