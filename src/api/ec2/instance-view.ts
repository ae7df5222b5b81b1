/**
 * How an instance is shown (DescribeInstances, RunInstances, …): the stored
 * record plus what is derived at describe time — public IP and DNS names
 * from the primary interface, NetworkInterfaces, Tags. Built without
 * per-instance queries: one list of interfaces and one tag query per call.
 */
import type { Instance } from '@aws-sdk/client-ec2';
import { isStillVisible } from '../../domain/lifecycle.js';
import { Ec2Error } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';
import type { RequestContext } from '../context.js';
import { eniCollection, instanceCollection, type StoredInstance } from '../../resources/ec2/instances.js';
import { instanceInterfaceOutput } from './network-interfaces.js';
import { privateDnsName, publicDnsName } from '../../resources/ec2/public-ips.js';
import type { NetworkInterfaceRecord } from '../../resources/ec2/records.js';
import { requireResources } from '../../resources/ec2/registry.js';
import { tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { tagsByResource } from '../../resources/ec2/tags.js';

/** An ISO-8601 string where the SDK types say Date: the serializer writes both the same way. */
export const isoTime = (s: string): Date => s as unknown as Date;

export { ec2Time } from '../../domain/time.js';

export interface InstanceLookups {
  enis: Map<string, NetworkInterfaceRecord>;
  tags: Map<string, Tag[]>;
}

/** Everything instanceOutput needs for a whole call: one interface list, one tag query. */
export function loadLookups(ctx: RequestContext): InstanceLookups {
  const enis = new Map<string, NetworkInterfaceRecord>();
  for (const e of eniCollection(ctx).list(ctx.region)) enis.set(e.NetworkInterfaceId, e);
  return { enis, tags: tagsByResource(ctx, KINDS.instance.name) };
}

/** The lookups of a few instances (Describe by id): their interfaces and tags by id, nothing else of the region read. */
export function lookupsFor(ctx: RequestContext, records: readonly StoredInstance[]): InstanceLookups {
  const col = eniCollection(ctx);
  const lookups: InstanceLookups = { enis: new Map(), tags: new Map() };
  for (const r of records) {
    for (const id of r.networkInterfaceIds) {
      const e = col.get(ctx.region, id);
      if (e) lookups.enis.set(id, e);
    }
    const tags = ctx.store.tags.forResource(ctx.region, r.InstanceId);
    if (tags.length > 0) lookups.tags.set(r.InstanceId, tags);
  }
  return lookups;
}

/** Output plus the reservation it belongs to (extra members are not serialized). */
export type InstanceOutput = Instance & { reservationId: string; ownerId: string };

export function instanceOutput(ctx: RequestContext, rec: StoredInstance, lk: InstanceLookups): InstanceOutput {
  const interfaces: NetworkInterfaceRecord[] = [];
  for (const id of rec.networkInterfaceIds) {
    const e = lk.enis.get(id);
    if (e && e.attachment?.InstanceId === rec.InstanceId) interfaces.push(e);
  }
  const primary = interfaces.find((e) => e.attachment?.DeviceIndex === 0);
  const publicIp = primary?.association?.PublicIp;
  const terminated = rec.State.Name === 'terminated';
  // one explicit literal (not a spread of the record): a single object shape for every instance keeps this fast
  return {
    AmiLaunchIndex: rec.AmiLaunchIndex,
    ImageId: rec.ImageId,
    InstanceId: rec.InstanceId,
    InstanceType: rec.InstanceType,
    KeyName: rec.KeyName,
    LaunchTime: isoTime(rec.LaunchTime),
    Monitoring: rec.Monitoring,
    Placement: rec.Placement,
    PrivateDnsName: terminated ? '' : privateDnsName(ctx.region, rec.PrivateIpAddress),
    PrivateIpAddress: terminated ? undefined : rec.PrivateIpAddress,
    ProductCodes: rec.ProductCodes,
    PublicDnsName: publicIp ? publicDnsName(ctx.region, publicIp) : '',
    PublicIpAddress: publicIp,
    State: rec.State,
    StateTransitionReason: rec.StateTransitionReason,
    SubnetId: terminated ? undefined : rec.SubnetId,
    VpcId: terminated ? undefined : rec.VpcId,
    Architecture: rec.Architecture,
    BlockDeviceMappings: terminated ? [] : rec.BlockDeviceMappings,
    ClientToken: rec.ClientToken,
    EbsOptimized: rec.EbsOptimized,
    EnaSupport: rec.EnaSupport,
    Hypervisor: rec.Hypervisor,
    NetworkInterfaces: interfaces.map((e) => instanceInterfaceOutput(ctx, e)),
    RootDeviceName: rec.RootDeviceName,
    RootDeviceType: rec.RootDeviceType,
    SecurityGroups: terminated ? [] : rec.SecurityGroups,
    SourceDestCheck: rec.SourceDestCheck,
    SriovNetSupport: rec.SriovNetSupport,
    StateReason: rec.StateReason,
    Tags: tagsField(lk.tags.get(rec.InstanceId)),
    VirtualizationType: rec.VirtualizationType,
    CpuOptions: rec.CpuOptions,
    CapacityReservationSpecification: rec.CapacityReservationSpecification,
    CapacityReservationId: rec.CapacityReservationId,
    IamInstanceProfile: terminated ? undefined : rec.IamInstanceProfile,
    HibernationOptions: rec.HibernationOptions,
    MetadataOptions: rec.MetadataOptions,
    EnclaveOptions: rec.EnclaveOptions,
    BootMode: rec.BootMode,
    PlatformDetails: rec.PlatformDetails,
    UsageOperation: rec.UsageOperation,
    UsageOperationUpdateTime: isoTime(rec.usageOperationUpdateTime),
    PrivateDnsNameOptions: rec.PrivateDnsNameOptions,
    MaintenanceOptions: rec.MaintenanceOptions,
    CurrentInstanceBootMode: rec.CurrentInstanceBootMode,
    reservationId: rec.reservationId,
    ownerId: rec.ownerId,
  };
}

/** Whether DescribeInstances still shows the instance (terminated ones for an hour). */
export function visible(ctx: RequestContext, rec: StoredInstance): boolean {
  return isStillVisible(rec.State.Name, rec.terminatedAt, ctx.now.getTime());
}

/** The instances named by id (Malformed / NotFound as EC2 says them); terminated more than an hour ago count as gone. */
export function requireInstances(ctx: RequestContext, ids: readonly string[]): StoredInstance[] {
  const found = requireResources(ctx, KINDS.instance, ids);
  const gone = found.filter((r) => !visible(ctx, r)).map((r) => r.InstanceId);
  if (gone.length === 1) throw KINDS.instance.notFound(gone[0]!);
  if (gone.length > 1) throw new Ec2Error('InvalidInstanceID.NotFound', `The instance IDs '${gone.join(', ')}' do not exist`);
  return found;
}

/** All visible instances of the region, in launch order. */
export function visibleInstances(ctx: RequestContext): StoredInstance[] {
  return instanceCollection(ctx)
    .list(ctx.region)
    .filter((r) => visible(ctx, r));
}
