/** Security groups. (Skeleton: the default group of a VPC; the full family is being built.) */
import { newId } from '../../domain/ids.js';
import type { ApiModule, RequestContext } from '../context.js';
import type { SecurityGroupRecord } from './records.js';

/** Creates the VPC's `default` group: inbound from itself, all outbound. */
export function createDefaultSecurityGroup(ctx: RequestContext, vpcId: string): SecurityGroupRecord {
  const groupId = newId('sg');
  const record: SecurityGroupRecord = {
    GroupId: groupId,
    GroupName: 'default',
    Description: 'default VPC security group',
    VpcId: vpcId,
    OwnerId: ctx.accountId,
    IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: groupId, UserId: ctx.accountId }], IpRanges: [], Ipv6Ranges: [], PrefixListIds: [] }],
    IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] }],
  };
  ctx.store.collection<SecurityGroupRecord>('security-group').put(ctx.region, groupId, record);
  return record;
}

export const securityGroupsModule: ApiModule = { actions: {} };
