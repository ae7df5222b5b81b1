/**
 * ModifyInstancePlacement: moves a stopped instance into or out of a placement
 * group (GroupName '' removes it), onto another dedicated host, or changes its
 * tenancy and affinity, with the same checks RunInstances makes.
 */
import type { ModifyInstancePlacementRequest, ModifyInstancePlacementResult } from '@aws-sdk/client-ec2';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { hostForLaunch } from '../../resources/ec2/dedicated-hosts.js';
import { instanceCollection } from '../../resources/ec2/instances.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { placeInGroup, requirePlacementGroupByName } from '../../resources/ec2/placement-groups.js';
import type { PlacementGroupRecord, StoredInstance } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { action, type ApiModule } from '../context.js';
import { requireInstances } from './instance-view.js';

const modifyInstancePlacement = action((ctx, input: ModifyInstancePlacementRequest): ModifyInstancePlacementResult => {
  if (input.InstanceId === undefined || input.InstanceId === '') throw missingParameter('InstanceId');
  const rec = requireInstances(ctx, [input.InstanceId])[0]!;
  if (rec.State.Name !== 'stopped') throw new Ec2Error('IncorrectInstanceState', `The instance '${rec.InstanceId}' is not in the 'stopped' state.`);
  const placement: NonNullable<StoredInstance['Placement']> = { ...(rec.Placement ?? {}) };
  const zone = placement.AvailabilityZone ?? '';
  const changesGroup = input.GroupName !== undefined || input.GroupId !== undefined;
  const changesHost = input.HostId !== undefined || input.Tenancy !== undefined || input.Affinity !== undefined || input.HostResourceGroupArn !== undefined;
  if (!changesGroup && !changesHost && input.PartitionNumber === undefined) throw missingParameter('GroupName, GroupId, PartitionNumber, Tenancy, HostId or Affinity');
  if (input.HostResourceGroupArn !== undefined) throw new Ec2Error('UnsupportedOperation', 'Host resource groups are not supported by Overcast.');
  if (input.GroupName && input.GroupId) throw invalidParameterCombination('GroupName and GroupId cannot both be specified.');

  if (changesGroup || input.PartitionNumber !== undefined) {
    let group: PlacementGroupRecord | undefined;
    if (input.GroupId) group = requireResource(ctx, KINDS.placementGroup, input.GroupId);
    else if (input.GroupName) group = requirePlacementGroupByName(ctx, input.GroupName);
    else if (input.GroupName === undefined && placement.GroupName) group = requirePlacementGroupByName(ctx, placement.GroupName);
    delete placement.GroupId;
    delete placement.PartitionNumber;
    placement.GroupName = '';
    if (group) {
      // a stopped instance takes no running place in a spread group: room for one is enough
      const moved = placeInGroup(ctx, group, zone, 1, input.PartitionNumber);
      placement.GroupName = group.GroupName;
      placement.GroupId = group.GroupId;
      const p = moved.partitionOf(0);
      if (p !== undefined) placement.PartitionNumber = p;
    } else if (input.PartitionNumber !== undefined) throw invalidParameterCombination('PartitionNumber requires a placement group.');
  }
  if (changesHost) {
    const tenancy = input.Tenancy ?? (input.HostId ? 'host' : placement.Tenancy);
    if (tenancy !== 'host' && tenancy !== 'dedicated' && tenancy !== 'default') {
      throw new Ec2Error('InvalidParameterValue', `Value (${tenancy}) for parameter tenancy is invalid. Valid values: dedicated, host`);
    }
    if (tenancy === 'host') {
      if (placement.GroupName) throw invalidParameterCombination('Instances on Dedicated Hosts cannot be in placement groups.');
      const hostId = input.HostId ?? placement.HostId;
      if (hostId === undefined || hostId !== placement.HostId) placement.HostId = hostForLaunch(ctx, hostId, rec.InstanceType, zone, 1).host.HostId;
      const affinity = input.Affinity ?? placement.Affinity ?? 'default';
      if (affinity !== 'default' && affinity !== 'host') throw new Ec2Error('InvalidParameterValue', `Value (${affinity}) for parameter affinity is invalid. Valid values: default, host`);
      placement.Affinity = affinity;
    } else {
      if (input.HostId || input.Affinity) throw invalidParameterCombination('HostId and Affinity require Tenancy host.');
      delete placement.HostId;
      delete placement.Affinity;
    }
    placement.Tenancy = tenancy;
  }
  rec.Placement = placement;
  instanceCollection(ctx).put(ctx.region, rec.InstanceId, rec);
  return { Return: true };
});

export const instancePlacementModule: ApiModule = { actions: { ModifyInstancePlacement: modifyInstancePlacement } };
