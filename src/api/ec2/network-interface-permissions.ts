/**
 * Network interface permissions: CreateNetworkInterfacePermission,
 * DescribeNetworkInterfacePermissions, DeleteNetworkInterfacePermission.
 * A permission lets another account attach the interface to its instances
 * (INSTANCE-ATTACH) or associate Elastic IPs with it (EIP-ASSOCIATE); Overcast
 * serves one account, so a permission is recorded and shown (`GRANTED`), and
 * goes with its interface. Only account grants: EC2 documents AwsService as
 * not supported.
 */
import type {
  CreateNetworkInterfacePermissionRequest,
  CreateNetworkInterfacePermissionResult,
  DeleteNetworkInterfacePermissionRequest,
  DeleteNetworkInterfacePermissionResult,
  DescribeNetworkInterfacePermissionsRequest,
  DescribeNetworkInterfacePermissionsResult,
  NetworkInterfacePermission,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { NetworkInterfacePermissionRecord } from '../../resources/ec2/records.js';
import { requireResource, requireResources } from '../../resources/ec2/registry.js';
import { requireInterface } from './network-interfaces.js';

const PERMISSIONS = ['INSTANCE-ATTACH', 'EIP-ASSOCIATE'] as const;

export const permissionCollection = (ctx: Pick<RequestContext, 'store'>) => ctx.store.collection(KINDS.networkInterfacePermission);

const output = (p: NetworkInterfacePermissionRecord): NetworkInterfacePermission => ({
  NetworkInterfacePermissionId: p.NetworkInterfacePermissionId,
  NetworkInterfaceId: p.NetworkInterfaceId,
  AwsAccountId: p.AwsAccountId,
  AwsService: p.AwsService,
  Permission: p.Permission,
  PermissionState: p.PermissionState,
});

const createNetworkInterfacePermission = action((ctx, input: CreateNetworkInterfacePermissionRequest): CreateNetworkInterfacePermissionResult => {
  const eni = requireInterface(ctx, input.NetworkInterfaceId);
  const permission = input.Permission;
  if (permission === undefined || (permission as string) === '') throw missingParameter('Permission');
  if (!(PERMISSIONS as readonly string[]).includes(permission)) {
    throw new Ec2Error('InvalidParameterValue', `Value (${permission}) for parameter permission is invalid. Valid values: ${PERMISSIONS.join(', ')}`);
  }
  const account = input.AwsAccountId || undefined;
  const service = input.AwsService || undefined;
  if (account !== undefined && service !== undefined) throw invalidParameterCombination('You may specify an AWS account ID or an AWS service, but not both.');
  if (service !== undefined) throw new Ec2Error('InvalidParameterValue', 'Granting a permission to an AWS service is not supported.');
  if (account === undefined) throw missingParameter('AwsAccountId');
  if (!/^\d{12}$/.test(account)) throw new Ec2Error('InvalidParameterValue', `Value (${account}) for parameter awsAccountId is invalid. It must be a 12-digit account ID.`);
  const col = permissionCollection(ctx);
  if (col.list(ctx.region).some((p) => p.NetworkInterfaceId === eni.NetworkInterfaceId && p.AwsAccountId === account && p.Permission === permission)) {
    throw new Ec2Error('InvalidPermission.Duplicate', `The permission ${permission} for account ${account} already exists on ${eni.NetworkInterfaceId}.`);
  }
  const record: NetworkInterfacePermissionRecord = {
    NetworkInterfacePermissionId: newId('eni-perm'),
    NetworkInterfaceId: eni.NetworkInterfaceId,
    AwsAccountId: account,
    Permission: permission,
    PermissionState: { State: 'granted' },
  };
  col.put(ctx.region, record.NetworkInterfacePermissionId, record);
  return { InterfacePermission: output(record) };
});

const PERMISSION_FILTERS = filterTable<NetworkInterfacePermission>('DescribeNetworkInterfacePermissions', {
  'network-interface-permission.network-interface-permission-id': 'NetworkInterfacePermissionId',
  'network-interface-permission.network-interface-id': 'NetworkInterfaceId',
  'network-interface-permission.aws-account-id': 'AwsAccountId',
  'network-interface-permission.aws-service': 'AwsService',
  'network-interface-permission.permission': 'Permission',
});

const describeNetworkInterfacePermissions = action(
  (ctx, input: DescribeNetworkInterfacePermissionsRequest): DescribeNetworkInterfacePermissionsResult => {
    const ids = input.NetworkInterfacePermissionIds ?? [];
    const records = ids.length > 0 ? requireResources(ctx, KINDS.networkInterfacePermission, ids) : permissionCollection(ctx).list(ctx.region);
    const filtered = applyFilters(records.map(output), input.Filters, PERMISSION_FILTERS);
    const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 255 });
    return { NetworkInterfacePermissions: page.items, NextToken: page.nextToken };
  },
);

const deleteNetworkInterfacePermission = action((ctx, input: DeleteNetworkInterfacePermissionRequest): DeleteNetworkInterfacePermissionResult => {
  const id = input.NetworkInterfacePermissionId;
  if (id === undefined || id === '') throw missingParameter('NetworkInterfacePermissionId');
  const p = requireResource(ctx, KINDS.networkInterfacePermission, id);
  permissionCollection(ctx).delete(ctx.region, p.NetworkInterfacePermissionId);
  return { Return: true };
});

export const networkInterfacePermissionsModule: ApiModule = {
  actions: {
    CreateNetworkInterfacePermission: createNetworkInterfacePermission,
    DescribeNetworkInterfacePermissions: describeNetworkInterfacePermissions,
    DeleteNetworkInterfacePermission: deleteNetworkInterfacePermission,
  },
};
