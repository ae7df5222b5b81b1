/**
 * Endpoint services of the account: CreateVpcEndpointServiceConfiguration,
 * DescribeVpcEndpointServiceConfigurations, DeleteVpcEndpointServiceConfigurations,
 * ModifyVpcEndpointServicePermissions, DescribeVpcEndpointServicePermissions,
 * and the endpoints connected to them: AcceptVpcEndpointConnections,
 * RejectVpcEndpointConnections, DescribeVpcEndpointConnections (a service with
 * AcceptanceRequired holds new endpoints in pendingAcceptance until accepted).
 *
 * A service stands in front of Network or Gateway Load Balancers, which
 * Overcast does not run: their ARNs are checked for form and recorded. The
 * service goes Pending → Available (then DescribeVpcEndpointServices lists it
 * and CreateVpcEndpoint connects to it) and Deleting → Deleted through
 * reconcile/record-states.ts. Records only.
 */
import type {
  AcceptVpcEndpointConnectionsRequest,
  AcceptVpcEndpointConnectionsResult,
  AddedPrincipal,
  AllowedPrincipal,
  CreateVpcEndpointServiceConfigurationRequest,
  CreateVpcEndpointServiceConfigurationResult,
  DeleteVpcEndpointServiceConfigurationsRequest,
  DeleteVpcEndpointServiceConfigurationsResult,
  DescribeVpcEndpointServiceConfigurationsRequest,
  DescribeVpcEndpointServiceConfigurationsResult,
  DescribeVpcEndpointServicePermissionsRequest,
  DescribeVpcEndpointServicePermissionsResult,
  ModifyVpcEndpointServicePermissionsRequest,
  ModifyVpcEndpointServicePermissionsResult,
  DescribeVpcEndpointConnectionsRequest,
  DescribeVpcEndpointConnectionsResult,
  RejectVpcEndpointConnectionsRequest,
  RejectVpcEndpointConnectionsResult,
  ServiceConfiguration,
  UnsuccessfulItem,
  VpcEndpointConnection,
} from '@aws-sdk/client-ec2';
import { randomBytes } from 'node:crypto';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { isWellFormedId, newId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import { findRegion } from '../../domain/regions.js';
import { checkText, quotable } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { isGone } from '../../resources/ec2/record-lifecycles.js';
import type { VpcEndpointServiceRecord } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { describeStored, insertStored, saveStored } from './stored-records.js';
import { endpointServices, ownServiceName } from '../../resources/ec2/vpc-endpoint-services.js';
import { endpoints } from '../../resources/ec2/vpc-endpoints.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { unsuccessfulItem } from './unsuccessful.js';

const invalidParameter = (message: string) => new Ec2Error('InvalidParameter', message);

/** At most this many load balancers per service, and principals per call. */
const MAX_LOAD_BALANCERS = 10;
const MAX_PRINCIPALS = 100;

function toOutput(s: VpcEndpointServiceRecord, tags: Tag[] | undefined): ServiceConfiguration {
  const { allowedPrincipals: _a, deletedAt: _d, ...rest } = s;
  return { ...rest, Tags: tagsField(tags) };
}

/** `arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/<net|gwy>/<name>/<id>` in the caller's region. */
function checkLoadBalancerArns(ctx: RequestContext, arns: readonly string[], kind: 'net' | 'gwy', parameter: string): void {
  if (arns.length > MAX_LOAD_BALANCERS) throw invalidParameter(`At most ${MAX_LOAD_BALANCERS} load balancers may be given in ${parameter}.`);
  const re = new RegExp(`^arn:aws:elasticloadbalancing:${ctx.region}:\\d{12}:loadbalancer/${kind}/[A-Za-z0-9-]{1,32}/[0-9a-f]{16}$`);
  for (const arn of arns) {
    checkText(parameter, arn);
    if (!re.test(arn)) throw new Ec2Error('InvalidParameterValue', `Value (${quotable(arn)}) for parameter ${parameter} is invalid. Expecting a ${kind === 'net' ? 'Network' : 'Gateway'} Load Balancer ARN in ${ctx.region}.`);
  }
}

function ipAddressTypes(v: readonly string[] | undefined): ('ipv4' | 'ipv6')[] {
  if (v === undefined || v.length === 0) return ['ipv4'];
  for (const t of v) if (t !== 'ipv4' && t !== 'ipv6') throw new Ec2Error('InvalidParameterValue', `Value (${quotable(t)}) for parameter SupportedIpAddressTypes is invalid. Valid values are: ipv4, ipv6.`);
  return [...new Set(v as ('ipv4' | 'ipv6')[])];
}

function supportedRegions(ctx: RequestContext, v: readonly string[] | undefined): string[] {
  const regions = [ctx.region, ...(v ?? []).filter((r) => r !== ctx.region)];
  for (const r of regions) if (!findRegion(r)) throw new Ec2Error('InvalidParameterValue', `Value (${quotable(r)}) for parameter SupportedRegions is invalid: no such region.`);
  return [...new Set(regions)];
}

/** A private DNS name: a domain name, or `*.` and one. */
function privateDnsName(v: string): string {
  checkText('PrivateDnsName', v);
  if (v.length > 255 || !/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(v)) {
    throw new Ec2Error('InvalidParameterValue', `Value (${quotable(v)}) for parameter PrivateDnsName is invalid: it is not a domain name.`);
  }
  return v.toLowerCase();
}

const createConfiguration = action((ctx, input: CreateVpcEndpointServiceConfigurationRequest): CreateVpcEndpointServiceConfigurationResult => {
  const nlbs = input.NetworkLoadBalancerArns ?? [];
  const gwlbs = input.GatewayLoadBalancerArns ?? [];
  if (nlbs.length === 0 && gwlbs.length === 0) throw invalidParameter('At least one Network Load Balancer or Gateway Load Balancer ARN is required.');
  if (nlbs.length > 0 && gwlbs.length > 0) throw invalidParameter('A service fronts Network Load Balancers or Gateway Load Balancers, not both.');
  checkLoadBalancerArns(ctx, nlbs, 'net', 'NetworkLoadBalancerArns');
  checkLoadBalancerArns(ctx, gwlbs, 'gwy', 'GatewayLoadBalancerArns');
  const types = ipAddressTypes(input.SupportedIpAddressTypes);
  const regions = supportedRegions(ctx, input.SupportedRegions);
  if (gwlbs.length > 0 && input.PrivateDnsName !== undefined) throw invalidParameter('A Gateway Load Balancer service has no private DNS name.');
  const dns = input.PrivateDnsName !== undefined ? privateDnsName(input.PrivateDnsName) : undefined;
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.vpcEndpointService.name]).get(KINDS.vpcEndpointService.name) ?? [];
  const id = newId(KINDS.vpcEndpointService.prefix);
  const zones = findRegion(ctx.region)?.zones ?? [];
  const record: VpcEndpointServiceRecord = {
    ServiceType: [{ ServiceType: nlbs.length > 0 ? 'Interface' : 'GatewayLoadBalancer' }],
    ServiceId: id,
    ServiceName: ownServiceName(ctx.region, id),
    ServiceState: 'Pending',
    AvailabilityZoneIds: zones.map((z) => z.ZoneId),
    AvailabilityZones: zones.map((z) => z.ZoneName),
    AcceptanceRequired: input.AcceptanceRequired ?? false,
    ManagesVpcEndpoints: false,
    ...(nlbs.length > 0 ? { NetworkLoadBalancerArns: [...new Set(nlbs)] } : { GatewayLoadBalancerArns: [...new Set(gwlbs)] }),
    SupportedIpAddressTypes: types,
    BaseEndpointDnsNames: [`${id}.${ctx.region}.vpce.amazonaws.com`],
    PayerResponsibility: 'ServiceOwner',
    SupportedRegions: regions.map((Region) => ({ Region, ServiceState: 'Available' })),
    RemoteAccessEnabled: false,
    allowedPrincipals: [],
  };
  if (dns !== undefined) {
    const token = randomBytes(8).toString('hex');
    record.PrivateDnsName = dns;
    record.PrivateDnsNameConfiguration = { State: 'pendingVerification', Type: 'TXT', Value: `vpce:${token}`, Name: `_${token.slice(0, 10)}` };
  }
  insertStored(ctx, KINDS.vpcEndpointService, id, record, tags);
  return { ServiceConfiguration: toOutput(record, tags), ClientToken: input.ClientToken };
});

const CONFIGURATION_FILTERS = filterTable<VpcEndpointServiceRecord>('DescribeVpcEndpointServiceConfigurations', {
  'service-name': 'ServiceName',
  'service-id': 'ServiceId',
  'service-state': 'ServiceState',
  'supported-ip-address-types': 'SupportedIpAddressTypes',
});

const describeConfigurations = action((ctx, input: DescribeVpcEndpointServiceConfigurationsRequest): DescribeVpcEndpointServiceConfigurationsResult => {
  const { records, tags } = describeStored(ctx, KINDS.vpcEndpointService, (s) => s.ServiceId, input.ServiceIds, input.Filters, CONFIGURATION_FILTERS);
  const page = paginate(records, input.MaxResults, input.NextToken, { min: 1, max: 1000, clamp: true });
  return { ServiceConfigurations: page.items.map((s) => toOutput(s, tags.get(s.ServiceId))), NextToken: page.nextToken };
});

const deleteConfigurations = action((ctx, input: DeleteVpcEndpointServiceConfigurationsRequest): DeleteVpcEndpointServiceConfigurationsResult => {
  const ids = input.ServiceIds ?? [];
  if (ids.length === 0) throw missingParameter('ServiceId');
  const col = endpointServices(ctx);
  const failed: UnsuccessfulItem[] = [];
  const live = endpoints(ctx)
    .list(ctx.region)
    .filter((e) => !isGone(e));
  for (const id of new Set(ids)) {
    if (!isWellFormedId(KINDS.vpcEndpointService.prefix, id)) {
      failed.push(unsuccessfulItem(id, KINDS.vpcEndpointService.malformed(id)));
      continue;
    }
    const s = col.get(ctx.region, id);
    if (!s || isGone(s)) {
      failed.push(unsuccessfulItem(id, KINDS.vpcEndpointService.notFound(id)));
      continue;
    }
    if (s.ServiceState === 'Deleting') continue;
    if (live.some((e) => e.ServiceName === s.ServiceName)) {
      failed.push(unsuccessfulItem(id, new Ec2Error('ExistingVpcEndpointConnections', `Service ${id} has existing active VPC Endpoint connections.`)));
      continue;
    }
    saveStored(ctx, KINDS.vpcEndpointService, id, { ...s, ServiceState: 'Deleting' });
  }
  return { Unsuccessful: failed };
});

function requireService(ctx: RequestContext, id: string | undefined): VpcEndpointServiceRecord {
  if (id === undefined || id === '') throw missingParameter('ServiceId');
  const s = requireResource(ctx, KINDS.vpcEndpointService, id);
  if (isGone(s)) throw KINDS.vpcEndpointService.notFound(id);
  return s;
}

/** A principal's type: `*` is everyone, else an IAM ARN of an account root, user or role. */
function principalType(p: string): string {
  if (p === '*') return 'All';
  checkText('Principal', p);
  const m = /^arn:aws:iam::\d{12}:(root|user\/[\w+=,.@/-]{1,512}|role\/[\w+=,.@/-]{1,512})$/.exec(p);
  if (!m) throw new Ec2Error('InvalidPrincipal', `Invalid principal ${quotable(p)}: expecting '*' or an IAM ARN of an account root, user or role.`);
  return m[1] === 'root' ? 'Account' : m[1]!.startsWith('user/') ? 'User' : 'Role';
}

const modifyPermissions = action((ctx, input: ModifyVpcEndpointServicePermissionsRequest): ModifyVpcEndpointServicePermissionsResult => {
  const s = requireService(ctx, input.ServiceId);
  const add = [...new Set(input.AddAllowedPrincipals ?? [])];
  const remove = [...new Set(input.RemoveAllowedPrincipals ?? [])];
  if (add.length + remove.length > MAX_PRINCIPALS) throw invalidParameter(`At most ${MAX_PRINCIPALS} principals may be given in one call.`);
  const both = add.find((p) => remove.includes(p));
  if (both !== undefined) throw new Ec2Error('InvalidParameterCombination', `The principal ${quotable(both)} cannot be both added and removed.`);
  const types = new Map(add.map((p) => [p, principalType(p)]));
  for (const p of remove) principalType(p);
  const kept = s.allowedPrincipals.filter((a) => !remove.includes(a.Principal));
  const added: AddedPrincipal[] = [];
  for (const p of add) {
    if (kept.some((a) => a.Principal === p)) continue;
    const entry = { Principal: p, PrincipalType: types.get(p)!, ServicePermissionId: newId('vpce-svc-perm') };
    kept.push(entry);
    added.push({ ...entry, PrincipalType: entry.PrincipalType as AddedPrincipal['PrincipalType'], ServiceId: s.ServiceId });
  }
  endpointServices(ctx).put(ctx.region, s.ServiceId, { ...s, allowedPrincipals: kept });
  return { ...(add.length > 0 ? { AddedPrincipals: added } : {}), ReturnValue: true };
});

const PERMISSION_FILTERS = filterTable<AllowedPrincipal>('DescribeVpcEndpointServicePermissions', {
  principal: 'Principal',
  'principal-type': 'PrincipalType',
});

const describePermissions = action((ctx, input: DescribeVpcEndpointServicePermissionsRequest): DescribeVpcEndpointServicePermissionsResult => {
  const s = requireService(ctx, input.ServiceId);
  const all: AllowedPrincipal[] = s.allowedPrincipals.map((a) => ({ ...a, PrincipalType: a.PrincipalType as AllowedPrincipal['PrincipalType'], ServiceId: s.ServiceId }));
  const filtered = applyFilters(all, input.Filters, PERMISSION_FILTERS);
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000, clamp: true });
  return { AllowedPrincipals: page.items, NextToken: page.nextToken };
});


// ---------------------------------------------------------------- connections to a service

/** The endpoints connected to a service of the account (not deleted). */
function connectionsOf(ctx: RequestContext, s: VpcEndpointServiceRecord) {
  return endpoints(ctx)
    .list(ctx.region)
    .filter((e) => e.ServiceName === s.ServiceName && !isGone(e));
}

/** Moves the named endpoints of the service from pendingAcceptance; the others are Unsuccessful. */
function decide(ctx: RequestContext, serviceId: string | undefined, ids: readonly string[] | undefined, to: 'pending' | 'rejected'): UnsuccessfulItem[] {
  const s = requireService(ctx, serviceId);
  if (!ids || ids.length === 0) throw missingParameter('VpcEndpointId');
  const mine = new Map(connectionsOf(ctx, s).map((e) => [e.VpcEndpointId, e]));
  const failed: UnsuccessfulItem[] = [];
  for (const id of new Set(ids)) {
    const e = mine.get(id);
    if (!e) {
      failed.push(unsuccessfulItem(id, new Ec2Error('InvalidVpcEndpoint.NotFound', `The Vpc Endpoint Id '${quotable(id)}' does not exist for the service ${s.ServiceId}`)));
      continue;
    }
    if (e.State !== 'pendingAcceptance' && !(to === 'pending' && e.State === 'rejected')) {
      failed.push(unsuccessfulItem(id, new Ec2Error('InvalidVpcEndpointState', `The Vpc Endpoint '${id}' is in state ${e.State}: only endpoints pending acceptance can be ${to === 'pending' ? 'accepted' : 'rejected'}.`)));
      continue;
    }
    saveStored(ctx, KINDS.vpcEndpoint, id, { ...e, State: to });
  }
  return failed;
}

const acceptConnections = action((ctx, input: AcceptVpcEndpointConnectionsRequest): AcceptVpcEndpointConnectionsResult => ({
  Unsuccessful: decide(ctx, input.ServiceId, input.VpcEndpointIds, 'pending'),
}));

const rejectConnections = action((ctx, input: RejectVpcEndpointConnectionsRequest): RejectVpcEndpointConnectionsResult => ({
  Unsuccessful: decide(ctx, input.ServiceId, input.VpcEndpointIds, 'rejected'),
}));

const CONNECTION_FILTERS = filterTable<VpcEndpointConnection>('DescribeVpcEndpointConnections', {
  'ip-address-type': 'IpAddressType',
  'service-id': 'ServiceId',
  'vpc-endpoint-owner': 'VpcEndpointOwner',
  'vpc-endpoint-region': 'VpcEndpointRegion',
  'vpc-endpoint-state': 'VpcEndpointState',
  'vpc-endpoint-id': 'VpcEndpointId',
});

const describeConnections = action((ctx, input: DescribeVpcEndpointConnectionsRequest): DescribeVpcEndpointConnectionsResult => {
  const all = endpointServices(ctx)
    .list(ctx.region)
    .filter((s) => !isGone(s))
    .flatMap((s) =>
      connectionsOf(ctx, s).map(
        (e): VpcEndpointConnection => ({
          ServiceId: s.ServiceId,
          VpcEndpointId: e.VpcEndpointId,
          VpcEndpointOwner: e.OwnerId,
          // EC2's wire spelling (lower case) is outside the SDK's enum
          VpcEndpointState: e.State as unknown as VpcEndpointConnection['VpcEndpointState'],
          CreationTimestamp: e.CreationTimestamp as unknown as Date,
          ...(s.NetworkLoadBalancerArns !== undefined ? { NetworkLoadBalancerArns: s.NetworkLoadBalancerArns } : {}),
          ...(s.GatewayLoadBalancerArns !== undefined ? { GatewayLoadBalancerArns: s.GatewayLoadBalancerArns } : {}),
          IpAddressType: e.IpAddressType,
          VpcEndpointConnectionId: `vpce-con-${e.VpcEndpointId.slice('vpce-'.length)}`,
          VpcEndpointRegion: ctx.region,
        }),
      ),
    );
  const filtered = applyFilters(all, input.Filters, CONNECTION_FILTERS);
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 1, max: 1000, clamp: true });
  return { VpcEndpointConnections: page.items, NextToken: page.nextToken };
});

export const vpcEndpointServicesModule: ApiModule = {
  actions: {
    CreateVpcEndpointServiceConfiguration: createConfiguration,
    DescribeVpcEndpointServiceConfigurations: describeConfigurations,
    DeleteVpcEndpointServiceConfigurations: deleteConfigurations,
    ModifyVpcEndpointServicePermissions: modifyPermissions,
    DescribeVpcEndpointServicePermissions: describePermissions,
    AcceptVpcEndpointConnections: acceptConnections,
    RejectVpcEndpointConnections: rejectConnections,
    DescribeVpcEndpointConnections: describeConnections,
  },
};
