/**
 * Dedicated hosts: AllocateHosts (one instance type, or a whole family),
 * DescribeHosts (capacity from the instance-type catalogue and the instances
 * on each host), ModifyHosts, ReleaseHosts (refused per host while instances
 * are on it; released hosts stay visible). RunInstances places instances on
 * them with Placement.Tenancy host / Placement.HostId (launch-placement.ts).
 * Recorded only: the instances run on this Overcast host.
 */
import type {
  AllocateHostsRequest,
  AllocateHostsResult,
  DescribeHostsRequest,
  DescribeHostsResult,
  Host,
  ModifyHostsRequest,
  ModifyHostsResult,
  ReleaseHostsRequest,
  ReleaseHostsResult,
  UnsuccessfulItem,
} from '@aws-sdk/client-ec2';
import { familyOf, hostFamilyTypes, hostShape, requireHostInstanceType } from '../../domain/dedicated-hosts.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { newId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import { findZone } from '../../domain/regions.js';
import { ec2Time } from '../../domain/time.js';
import type { Tag } from '../../store/store.js';
import { capacityOf, dedicatedHosts, instancesByHost, instancesOnHost } from '../../resources/ec2/dedicated-hosts.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { HostRecord, StoredInstance } from '../../resources/ec2/records.js';
import { requireResources, requireWellFormed } from '../../resources/ec2/registry.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { isoTime } from './instance-view.js';
import { tagSpecificationTags, tagsField } from './tags.js';

const MAX_HOSTS_PER_CALL = 100;

function onOff(param: string, v: string | undefined, fallback: 'on' | 'off'): 'on' | 'off' {
  if (v === undefined) return fallback;
  if (v !== 'on' && v !== 'off') throw new Ec2Error('InvalidParameterValue', `Value (${v}) for parameter ${param} is invalid. Valid values: on, off`);
  return v;
}

/** The host's properties for InstanceType xor InstanceFamily. */
function hostKind(instanceType: string | undefined, family: string | undefined): Pick<HostRecord, 'HostProperties' | 'AllowsMultipleInstanceTypes'> {
  const hasType = instanceType !== undefined && instanceType !== '';
  const hasFamily = family !== undefined && family !== '';
  if (hasType && hasFamily) throw invalidParameterCombination('Specify either InstanceType or InstanceFamily, not both.');
  if (!hasType && !hasFamily) throw missingParameter('InstanceType or InstanceFamily');
  if (hasType) {
    requireHostInstanceType(instanceType);
    return { HostProperties: { ...hostShape(familyOf(instanceType)), InstanceType: instanceType }, AllowsMultipleInstanceTypes: 'off' };
  }
  if (hostFamilyTypes(family!).length === 0) throw new Ec2Error('InvalidParameterValue', `Value (${family}) for parameter instanceFamily is invalid.`);
  return { HostProperties: { ...hostShape(family!), InstanceFamily: family! }, AllowsMultipleInstanceTypes: 'on' };
}

export function hostOutput(ctx: RequestContext, h: HostRecord, tags: Tag[] | undefined, byHost: Map<string, StoredInstance[]>): Host {
  const released = h.State === 'released';
  const on = byHost.get(h.HostId) ?? [];
  const cap = released ? undefined : capacityOf(ctx, h, on);
  return {
    ...h,
    AllocationTime: isoTime(h.AllocationTime),
    ReleaseTime: h.ReleaseTime === undefined ? undefined : isoTime(h.ReleaseTime),
    AvailableCapacity: cap ? { AvailableInstanceCapacity: cap.lines, AvailableVCpus: cap.availableVCpus } : undefined,
    Instances: released ? [] : on.map((i) => ({ InstanceId: i.InstanceId, InstanceType: i.InstanceType, OwnerId: i.ownerId })),
    MemberOfServiceLinkedResourceGroup: false,
    Tags: tagsField(tags),
  };
}

const allocateHosts = action((ctx, input: AllocateHostsRequest): AllocateHostsResult => {
  const zoneName = input.AvailabilityZone;
  if (zoneName === undefined || zoneName === '') throw missingParameter('AvailabilityZone');
  const zone = findZone(zoneName);
  if (!zone || zone.GroupName !== ctx.region) throw new Ec2Error('InvalidParameterValue', `Value (${zoneName}) for parameter availabilityZone is invalid.`);
  const kind = hostKind(input.InstanceType, input.InstanceFamily);
  const quantity = input.Quantity ?? 1;
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_HOSTS_PER_CALL) {
    throw new Ec2Error('InvalidParameterValue', `Value (${quantity}) for parameter quantity is invalid. Valid range: 1-${MAX_HOSTS_PER_CALL}`);
  }
  if (input.OutpostArn !== undefined || (input.AssetIds ?? []).length > 0) throw new Ec2Error('UnsupportedOperation', 'Outposts are not supported by Overcast.');
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.dedicatedHost.name]).get(KINDS.dedicatedHost.name) ?? [];
  const base = {
    AvailabilityZone: zoneName,
    AvailabilityZoneId: zone.ZoneId,
    AutoPlacement: onOff('AutoPlacement', input.AutoPlacement, 'off'),
    HostRecovery: onOff('HostRecovery', input.HostRecovery, 'off'),
    HostMaintenance: onOff('HostMaintenance', input.HostMaintenance, 'on'),
    ...kind,
  };
  const ids: string[] = [];
  for (let i = 0; i < quantity; i++) {
    const rec: HostRecord = {
      HostId: newId('h'),
      ...structuredClone(base),
      State: 'available',
      AllocationTime: ec2Time(ctx.now),
      OwnerId: ctx.accountId,
      ...(input.ClientToken ? { ClientToken: input.ClientToken } : {}),
    };
    dedicatedHosts(ctx).put(ctx.region, rec.HostId, rec);
    putTags(ctx, rec.HostId, KINDS.dedicatedHost.name, tags);
    ids.push(rec.HostId);
  }
  return { HostIds: ids };
});

const HOST_FILTERS = filterTable<HostRecord>('DescribeHosts', {
  'auto-placement': 'AutoPlacement',
  'availability-zone': 'AvailabilityZone',
  'client-token': 'ClientToken',
  'host-reservation-id': () => undefined,
  'instance-type': (h) => h.HostProperties.InstanceType ?? h.HostProperties.InstanceFamily,
  state: 'State',
});

const describeHosts = action((ctx, input: DescribeHostsRequest): DescribeHostsResult => {
  const ids = input.HostIds ?? [];
  if (ids.length > 0 && input.MaxResults !== undefined) throw invalidParameterCombination('HostIds and MaxResults cannot be specified together.');
  let hosts = dedicatedHosts(ctx).list(ctx.region);
  if (ids.length > 0) {
    const wanted = new Set(requireResources(ctx, KINDS.dedicatedHost, ids).map((h) => h.HostId));
    hosts = hosts.filter((h) => wanted.has(h.HostId));
  }
  const tags = tagsByResource(ctx, KINDS.dedicatedHost.name);
  const filtered = applyFilters(hosts, input.Filter, HOST_FILTERS, (h) => tags.get(h.HostId));
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 500 });
  const byHost = instancesByHost(ctx);
  return { Hosts: page.items.map((h) => hostOutput(ctx, h, tags.get(h.HostId), byHost)), NextToken: page.nextToken };
});

/** The hosts a Modify/Release call names: well formed, each found or reported unsuccessful. */
function namedHosts(ctx: RequestContext, ids: readonly string[] | undefined): { found: HostRecord[]; unsuccessful: UnsuccessfulItem[] } {
  if (!ids || ids.length === 0) throw missingParameter('HostId');
  for (const id of ids) requireWellFormed(KINDS.dedicatedHost, id);
  const found: HostRecord[] = [];
  const unsuccessful: UnsuccessfulItem[] = [];
  for (const id of new Set(ids)) {
    const h = dedicatedHosts(ctx).get(ctx.region, id);
    if (!h || h.State === 'released') unsuccessful.push({ ResourceId: id, Error: { Code: 'InvalidHostID.NotFound', Message: `The host ID '${id}' does not exist` } });
    else found.push(h);
  }
  return { found, unsuccessful };
}

const modifyHosts = action((ctx, input: ModifyHostsRequest): ModifyHostsResult => {
  const auto = input.AutoPlacement === undefined ? undefined : onOff('AutoPlacement', input.AutoPlacement, 'off');
  const recovery = input.HostRecovery === undefined ? undefined : onOff('HostRecovery', input.HostRecovery, 'off');
  const maintenance = input.HostMaintenance === undefined ? undefined : onOff('HostMaintenance', input.HostMaintenance, 'on');
  const changesKind = (input.InstanceType ?? '') !== '' || (input.InstanceFamily ?? '') !== '';
  const kind = changesKind ? hostKind(input.InstanceType, input.InstanceFamily) : undefined;
  if (auto === undefined && recovery === undefined && maintenance === undefined && !kind) {
    throw missingParameter('AutoPlacement, HostRecovery, HostMaintenance, InstanceType or InstanceFamily');
  }
  const { found, unsuccessful } = namedHosts(ctx, input.HostIds);
  const successful: string[] = [];
  for (const h of found) {
    if (kind && instancesOnHost(ctx, h.HostId).length > 0) {
      unsuccessful.push({ ResourceId: h.HostId, Error: { Code: 'InvalidHost.Occupied', Message: `The host '${h.HostId}' has instances; its instance type cannot be changed.` } });
      continue;
    }
    if (auto) h.AutoPlacement = auto;
    if (recovery) h.HostRecovery = recovery;
    if (maintenance) h.HostMaintenance = maintenance;
    if (kind) Object.assign(h, structuredClone(kind));
    dedicatedHosts(ctx).put(ctx.region, h.HostId, h);
    successful.push(h.HostId);
  }
  return { Successful: successful, Unsuccessful: unsuccessful };
});

const releaseHosts = action((ctx, input: ReleaseHostsRequest): ReleaseHostsResult => {
  const { found, unsuccessful } = namedHosts(ctx, input.HostIds);
  const successful: string[] = [];
  for (const h of found) {
    if (instancesOnHost(ctx, h.HostId).length > 0) {
      // the code and message of ReleaseHosts' documented unsuccessful example (with its `Client.` prefix)
      unsuccessful.push({ ResourceId: h.HostId, Error: { Code: 'Client.InvalidHost.Occupied', Message: `Dedicated host '${h.HostId}' cannot be released as it is occupied` } });
      continue;
    }
    h.State = 'released';
    h.ReleaseTime = ec2Time(ctx.now);
    dedicatedHosts(ctx).put(ctx.region, h.HostId, h);
    successful.push(h.HostId);
  }
  return { Successful: successful, Unsuccessful: unsuccessful };
});

export const dedicatedHostsModule: ApiModule = {
  actions: {
    AllocateHosts: allocateHosts,
    DescribeHosts: describeHosts,
    ModifyHosts: modifyHosts,
    ReleaseHosts: releaseHosts,
  },
};
