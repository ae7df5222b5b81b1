/**
 * VPC endpoints: CreateVpcEndpoint, DescribeVpcEndpoints, ModifyVpcEndpoint,
 * DeleteVpcEndpoints, and DescribeVpcEndpointServices (the region's AWS
 * services and the account's own endpoint services).
 *
 *  - Gateway (s3, dynamodb): a route to the service's AWS-managed prefix list
 *    through the endpoint in each of its route tables (one per service and table).
 *  - Interface: subnets (one per zone), security groups (the VPC's default
 *    group when none are given), DNS entries `vpce-<id>-<8 hex>.<service>.<region>.vpce.amazonaws.com`
 *    and one per zone, plus the service's private DNS name when PrivateDnsEnabled
 *    (which needs the VPC's DNS support and hostnames, and one such endpoint per
 *    name and VPC).
 *  - GatewayLoadBalancer: one subnet, to a service of the account that fronts
 *    Gateway Load Balancers; no DNS names.
 *
 * Records only: no interfaces are made and no traffic is carried. State goes
 * pending → available and deleting → deleted through reconcile/record-states.ts;
 * a deleted endpoint stays visible for a while.
 */
import type {
  CreateVpcEndpointRequest,
  CreateVpcEndpointResult,
  DeleteVpcEndpointsRequest,
  DeleteVpcEndpointsResult,
  DescribeVpcEndpointServicesRequest,
  DescribeVpcEndpointServicesResult,
  DescribeVpcEndpointsRequest,
  DescribeVpcEndpointsResult,
  DnsEntry,
  ModifyVpcEndpointRequest,
  ModifyVpcEndpointResult,
  ServiceDetail,
  UnsuccessfulItem,
  VpcEndpoint,
} from '@aws-sdk/client-ec2';
import {
  awsEndpointServices,
  DEFAULT_ENDPOINT_POLICY,
  endpointDnsNames,
  privateHostedZoneId,
  vpceHostedZoneId,
  type EndpointServiceType,
} from '../../domain/endpoint-services.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { isWellFormedId, newId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import { findRegion } from '../../domain/regions.js';
import { hasUnsafeCharacters, quotable } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { isGone } from '../../resources/ec2/record-lifecycles.js';
import type { VpcEndpointRecord, VpcEndpointServiceRecord } from '../../resources/ec2/records.js';
import { requireResource, requireResources } from '../../resources/ec2/registry.js';
import { tagsByResource } from '../../resources/ec2/tags.js';
import { describeStored, insertStored, saveStored } from './stored-records.js';
import { endpointServices, endpointTargets, type EndpointTarget } from '../../resources/ec2/vpc-endpoint-services.js';
import {
  addEndpointRoutes,
  endpoints,
  gatewayPrefixListId,
  liveEndpointsOf,
  removeEndpointRoutes,
  routesPrefixList,
} from '../../resources/ec2/vpc-endpoints.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { unsuccessfulItem } from './unsuccessful.js';

const TYPES: readonly EndpointServiceType[] = ['Interface', 'Gateway', 'GatewayLoadBalancer'];

/** The longest policy document EC2 takes. */
const MAX_POLICY_LENGTH = 20_480;

const invalidParameter = (message: string) => new Ec2Error('InvalidParameter', message);

// ---------------------------------------------------------------- output

/** What describing endpoints needs, loaded once per call. */
interface EndpointWorld {
  region: string;
  routeTables: ReadonlySet<string>;
  zoneOfSubnet: ReadonlyMap<string, string>;
}

function loadWorld(ctx: RequestContext): EndpointWorld {
  return {
    region: ctx.region,
    routeTables: new Set(ctx.store.collection(KINDS.routeTable).list(ctx.region).map((t) => t.RouteTableId)),
    zoneOfSubnet: new Map(ctx.store.collection(KINDS.subnet).list(ctx.region).map((s) => [s.SubnetId, s.AvailabilityZone])),
  };
}

/** The part of a service name DNS names use (`ec2`, `vpce-svc-…`). */
function shortName(region: string, serviceName: string): string {
  for (const prefix of [`com.amazonaws.vpce.${region}.`, `com.amazonaws.${region}.`]) if (serviceName.startsWith(prefix)) return serviceName.slice(prefix.length);
  return serviceName;
}

function dnsEntries(e: VpcEndpointRecord, world: EndpointWorld): DnsEntry[] {
  if (e.VpcEndpointType !== 'Interface' || isGone(e)) return [];
  const zones = [...new Set(e.SubnetIds.map((s) => world.zoneOfSubnet.get(s)).filter((z): z is string => z !== undefined))].sort();
  const zone = vpceHostedZoneId(world.region);
  const out: DnsEntry[] = endpointDnsNames(e.VpcEndpointId, shortName(world.region, e.ServiceName), world.region, zones).map((DnsName) => ({ DnsName, HostedZoneId: zone }));
  if (e.PrivateDnsEnabled === true && e.privateDnsName !== undefined) out.push({ DnsName: e.privateDnsName, HostedZoneId: privateHostedZoneId(e.VpcId, e.privateDnsName) });
  return out;
}

function toOutput(e: VpcEndpointRecord, tags: Tag[] | undefined, world: EndpointWorld): VpcEndpoint {
  const { prefixListId: _p, privateDnsName: _d, deletedAt: _x, CreationTimestamp, State, RouteTableIds, ...rest } = e;
  return {
    ...rest,
    // EC2's wire spelling (lower case) is outside the SDK's enum
    State: State as unknown as VpcEndpoint['State'],
    RouteTableIds: RouteTableIds.filter((id) => world.routeTables.has(id)),
    DnsEntries: dnsEntries(e, world),
    CreationTimestamp: CreationTimestamp as unknown as Date,
    Tags: tagsField(tags),
  };
}

// ---------------------------------------------------------------- parameters

function requireVpcId(id: string | undefined): string {
  if (id === undefined || id === '') throw missingParameter('VpcId');
  return id;
}

function endpointType(v: string | undefined): EndpointServiceType {
  if (v === undefined) return 'Gateway';
  if ((TYPES as readonly string[]).includes(v)) return v as EndpointServiceType;
  if (v === 'Resource' || v === 'ServiceNetwork') throw new Ec2Error('UnsupportedOperation', `VPC endpoints of type ${v} are not supported: Overcast has no VPC Lattice.`);
  throw new Ec2Error('InvalidParameterValue', `Value (${quotable(v)}) for parameter VpcEndpointType is invalid. Valid values are: Interface, Gateway, GatewayLoadBalancer.`);
}

/** The service the endpoint connects to, offering the type. */
function targetOf(ctx: RequestContext, serviceName: string | undefined, type: EndpointServiceType): EndpointTarget {
  if (serviceName === undefined || serviceName === '') throw missingParameter('ServiceName');
  const targets = endpointTargets(ctx, serviceName);
  if (targets.length === 0) throw new Ec2Error('InvalidServiceName', `The Vpc Endpoint Service '${quotable(serviceName)}' does not exist`);
  const target = targets.find((t) => t.type === type);
  if (!target) throw invalidParameter(`The Vpc Endpoint Service '${serviceName}' does not support the endpoint type ${type}.`);
  return target;
}

/** A policy document: JSON, stored compact (no control characters), at most 20 KiB. */
function policyDocument(v: string): string {
  if (v.length > MAX_POLICY_LENGTH) throw invalidParameter(`The policy document exceeds the maximum length of ${MAX_POLICY_LENGTH} characters.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new Ec2Error('MalformedPolicyDocument', 'The policy document is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Ec2Error('MalformedPolicyDocument', 'The policy document must be a JSON object.');
  const compact = JSON.stringify(parsed);
  if (hasUnsafeCharacters(compact)) throw new Ec2Error('MalformedPolicyDocument', 'The policy document holds characters that are not allowed.');
  return compact;
}

function checkIpAddressType(v: string | undefined): void {
  if (v === undefined || v === 'ipv4') return;
  if (v === 'dualstack' || v === 'ipv6') throw invalidParameter(`The IP address type ${v} is not supported by the service: it supports ipv4.`);
  throw new Ec2Error('InvalidParameterValue', `Value (${quotable(v)}) for parameter IpAddressType is invalid. Valid values are: ipv4, dualstack, ipv6.`);
}

function checkDnsOptions(o: CreateVpcEndpointRequest['DnsOptions'], type: EndpointServiceType): void {
  if (o === undefined) return;
  if (type === 'Gateway') throw invalidParameter('DnsOptions are not supported for Gateway endpoints.');
  const t = o.DnsRecordIpType;
  if (t !== undefined && t !== 'ipv4' && t !== 'service-defined') {
    if (t === 'dualstack' || t === 'ipv6') throw invalidParameter(`The DNS record IP type ${t} needs an IP address type the service does not support.`);
    throw new Ec2Error('InvalidParameterValue', `Value (${quotable(String(t))}) for parameter DnsOptions.DnsRecordIpType is invalid. Valid values are: ipv4, dualstack, ipv6, service-defined.`);
  }
  if (o.PrivateDnsOnlyForInboundResolverEndpoint !== undefined || o.PrivateDnsPreference !== undefined || o.PrivateDnsSpecifiedDomains !== undefined) {
    throw new Ec2Error('UnsupportedOperation', 'Route 53 Resolver options of DnsOptions are not supported: Overcast has no Route 53 Resolver.');
  }
}

/** Route tables for a Gateway endpoint: in its VPC, without a route to the list yet. */
function checkRouteTables(ctx: RequestContext, vpcId: string, ids: readonly string[], prefixListId: string): void {
  for (const t of requireResources(ctx, KINDS.routeTable, ids)) {
    if (t.VpcId !== vpcId) throw invalidParameter(`Route table ${t.RouteTableId} is not in the VPC ${vpcId}.`);
    if (routesPrefixList(t, prefixListId)) throw new Ec2Error('RouteAlreadyExists', `route table ${t.RouteTableId} already has a route with destination-prefix-list-id ${prefixListId}`);
  }
}

/** Subnets for an Interface / GWLB endpoint: in its VPC, at most one per zone (counting `existing`). */
function checkSubnets(ctx: RequestContext, vpcId: string, ids: readonly string[], existing: readonly string[] = []): void {
  const zones = new Map<string, string>();
  for (const s of existing) {
    const subnet = ctx.store.collection(KINDS.subnet).get(ctx.region, s);
    if (subnet) zones.set(subnet.AvailabilityZone, s);
  }
  for (const s of requireResources(ctx, KINDS.subnet, ids)) {
    if (s.VpcId !== vpcId) throw invalidParameter(`The subnet ${s.SubnetId} is not in the VPC ${vpcId}.`);
    const other = zones.get(s.AvailabilityZone);
    if (other !== undefined && other !== s.SubnetId) {
      throw new Ec2Error('DuplicateSubnetsInSameZone', `Found another VPC endpoint subnet in the availability zone of ${s.SubnetId}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service.`);
    }
    zones.set(s.AvailabilityZone, s.SubnetId);
  }
}

/** Security groups for an Interface endpoint: in its VPC; as EC2 lists them, with their names. */
function groupsOf(ctx: RequestContext, vpcId: string, ids: readonly string[]): { GroupId: string; GroupName: string }[] {
  const groups = requireResources(ctx, KINDS.securityGroup, ids);
  for (const g of groups) if (g.VpcId !== vpcId) throw invalidParameter(`The security group ${g.GroupId} is not in the VPC ${vpcId}.`);
  return groups.map((g) => ({ GroupId: g.GroupId, GroupName: g.GroupName }));
}

/** Private DNS for an Interface endpoint: the VPC's DNS attributes on, the name not taken in the VPC by another endpoint. */
function checkPrivateDns(ctx: RequestContext, vpcId: string, name: string, self?: string): void {
  const vpc = requireResource(ctx, KINDS.vpc, vpcId);
  if (!vpc.EnableDnsSupport || !vpc.EnableDnsHostnames) {
    throw invalidParameter(`Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for ${vpcId}`);
  }
  const clash = liveEndpointsOf(ctx, vpcId).find((e) => e.VpcEndpointId !== self && e.PrivateDnsEnabled === true && e.privateDnsName === name);
  if (clash) throw invalidParameter(`private-dns-enabled cannot be set because there is already a conflicting DNS domain for ${name} in the VPC ${vpcId}`);
}

function requireEndpoint(ctx: RequestContext, id: string | undefined): VpcEndpointRecord {
  if (id === undefined || id === '') throw missingParameter('VpcEndpointId');
  const e = requireResource(ctx, KINDS.vpcEndpoint, id);
  if (isGone(e) || e.State === 'deleting') throw new Ec2Error('IncorrectState', `The Vpc Endpoint '${id}' is in state ${e.State} and cannot be modified.`);
  return e;
}

// ---------------------------------------------------------------- CreateVpcEndpoint

const createVpcEndpoint = action((ctx, input: CreateVpcEndpointRequest): CreateVpcEndpointResult => {
  const vpc = requireResource(ctx, KINDS.vpc, requireVpcId(input.VpcId));
  const type = endpointType(input.VpcEndpointType);
  if (input.ServiceNetworkArn !== undefined || input.ResourceConfigurationArn !== undefined) {
    throw new Ec2Error('UnsupportedOperation', 'ServiceNetworkArn and ResourceConfigurationArn are not supported: Overcast has no VPC Lattice.');
  }
  if (input.ServiceRegion !== undefined && input.ServiceRegion !== ctx.region) {
    throw new Ec2Error('UnsupportedOperation', `Cross-region endpoints are not supported: the service must be in ${ctx.region}.`);
  }
  if (input.SubnetConfigurations !== undefined && input.SubnetConfigurations.length > 0) {
    throw new Ec2Error('UnsupportedOperation', 'SubnetConfigurations is not supported: endpoint addresses are not chosen by Overcast.');
  }
  const target = targetOf(ctx, input.ServiceName, type);
  checkIpAddressType(input.IpAddressType);
  checkDnsOptions(input.DnsOptions, type);
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.vpcEndpoint.name]).get(KINDS.vpcEndpoint.name) ?? [];
  const routeTableIds = [...new Set(input.RouteTableIds ?? [])];
  const subnetIds = [...new Set(input.SubnetIds ?? [])];
  const groupIds = [...new Set(input.SecurityGroupIds ?? [])];
  const record: VpcEndpointRecord = {
    VpcEndpointId: newId(KINDS.vpcEndpoint.prefix),
    VpcEndpointType: type,
    VpcId: vpc.VpcId,
    ServiceName: target.serviceName,
    State: target.own?.AcceptanceRequired === true ? 'pendingAcceptance' : 'pending',
    RouteTableIds: [],
    SubnetIds: [],
    IpAddressType: 'ipv4',
    RequesterManaged: false,
    NetworkInterfaceIds: [],
    CreationTimestamp: ctx.now.toISOString(),
    OwnerId: ctx.accountId,
    ServiceRegion: ctx.region,
  };
  if (type === 'Gateway') {
    if (subnetIds.length > 0 || groupIds.length > 0) throw invalidParameter('Subnets and security groups cannot be specified for a Gateway endpoint.');
    if (input.PrivateDnsEnabled === true) throw invalidParameter('PrivateDnsEnabled is not supported for Gateway endpoints.');
    const prefixListId = gatewayPrefixListId(ctx.region, target.serviceName)!;
    checkRouteTables(ctx, vpc.VpcId, routeTableIds, prefixListId);
    record.prefixListId = prefixListId;
    record.RouteTableIds = routeTableIds;
    record.PolicyDocument = input.PolicyDocument !== undefined ? policyDocument(input.PolicyDocument) : DEFAULT_ENDPOINT_POLICY;
    record.PrivateDnsEnabled = false;
    record.Groups = [];
  } else {
    if (routeTableIds.length > 0) throw invalidParameter(`Route tables cannot be specified for an ${type} endpoint.`);
    checkSubnets(ctx, vpc.VpcId, subnetIds);
    record.SubnetIds = subnetIds;
    if (type === 'Interface') {
      const groups = groupIds.length > 0 ? groupIds : ctx.store.collection(KINDS.securityGroup).list(ctx.region).filter((g) => g.VpcId === vpc.VpcId && g.GroupName === 'default').map((g) => g.GroupId);
      record.Groups = groupsOf(ctx, vpc.VpcId, groups);
      record.PolicyDocument = input.PolicyDocument !== undefined ? policyDocument(input.PolicyDocument) : DEFAULT_ENDPOINT_POLICY;
      record.DnsOptions = { DnsRecordIpType: 'ipv4' };
      // AWS services default to private DNS; an account's service only when asked
      const privateDns = input.PrivateDnsEnabled ?? (target.own === undefined && target.privateDnsName !== undefined);
      if (privateDns) {
        if (target.privateDnsName === undefined) throw invalidParameter(`The Vpc Endpoint Service '${target.serviceName}' has no private DNS name.`);
        checkPrivateDns(ctx, vpc.VpcId, target.privateDnsName);
      }
      if (target.privateDnsName !== undefined) record.privateDnsName = target.privateDnsName;
      record.PrivateDnsEnabled = privateDns;
    } else {
      if (subnetIds.length !== 1) throw invalidParameter('A GatewayLoadBalancer endpoint takes exactly one subnet.');
      if (groupIds.length > 0) throw invalidParameter('Security groups cannot be specified for a GatewayLoadBalancer endpoint.');
      if (input.PolicyDocument !== undefined) throw invalidParameter('A policy document cannot be specified for a GatewayLoadBalancer endpoint.');
      if (input.PrivateDnsEnabled === true) throw invalidParameter('PrivateDnsEnabled is not supported for GatewayLoadBalancer endpoints.');
      record.PrivateDnsEnabled = false;
      record.Groups = [];
    }
  }
  insertStored(ctx, KINDS.vpcEndpoint, record.VpcEndpointId, record, tags);
  if (type === 'Gateway') addEndpointRoutes(ctx, record, routeTableIds);
  return { VpcEndpoint: toOutput(record, tags, loadWorld(ctx)), ClientToken: input.ClientToken };
});

// ---------------------------------------------------------------- DescribeVpcEndpoints

const VPC_ENDPOINT_FILTERS = filterTable<VpcEndpointRecord>('DescribeVpcEndpoints', {
  'ip-address-type': 'IpAddressType',
  'service-name': 'ServiceName',
  'service-region': 'ServiceRegion',
  'vpc-id': 'VpcId',
  'vpc-endpoint-id': 'VpcEndpointId',
  'vpc-endpoint-state': 'State',
  'vpc-endpoint-type': 'VpcEndpointType',
});

const describeVpcEndpoints = action((ctx, input: DescribeVpcEndpointsRequest): DescribeVpcEndpointsResult => {
  const { records, tags } = describeStored(ctx, KINDS.vpcEndpoint, (e) => e.VpcEndpointId, input.VpcEndpointIds, input.Filters, VPC_ENDPOINT_FILTERS);
  const page = paginate(records, input.MaxResults, input.NextToken, { min: 1, max: 1000, clamp: true });
  const world = loadWorld(ctx);
  return { VpcEndpoints: page.items.map((e) => toOutput(e, tags.get(e.VpcEndpointId), world)), NextToken: page.nextToken };
});

// ---------------------------------------------------------------- ModifyVpcEndpoint

const modifyVpcEndpoint = action((ctx, input: ModifyVpcEndpointRequest): ModifyVpcEndpointResult => {
  const e = requireEndpoint(ctx, input.VpcEndpointId);
  const type = e.VpcEndpointType;
  if (input.ResetPolicy === true && input.PolicyDocument !== undefined) throw invalidParameterCombination('ResetPolicy and PolicyDocument cannot be used together.');
  if (input.SubnetConfigurations !== undefined && input.SubnetConfigurations.length > 0) {
    throw new Ec2Error('UnsupportedOperation', 'SubnetConfigurations is not supported: endpoint addresses are not chosen by Overcast.');
  }
  checkIpAddressType(input.IpAddressType);
  checkDnsOptions(input.DnsOptions, type);
  const addTables = [...new Set(input.AddRouteTableIds ?? [])];
  const removeTables = [...new Set(input.RemoveRouteTableIds ?? [])];
  const addSubnets = [...new Set(input.AddSubnetIds ?? [])];
  const removeSubnets = [...new Set(input.RemoveSubnetIds ?? [])];
  const addGroups = [...new Set(input.AddSecurityGroupIds ?? [])];
  const removeGroups = [...new Set(input.RemoveSecurityGroupIds ?? [])];
  if (type !== 'Gateway' && addTables.length + removeTables.length > 0) throw invalidParameter(`Route tables cannot be modified for an ${type} endpoint.`);
  if (type === 'Gateway' && addSubnets.length + removeSubnets.length > 0) throw invalidParameter('Subnets cannot be modified for a Gateway endpoint.');
  if (type !== 'Interface' && addGroups.length + removeGroups.length > 0) throw invalidParameter(`Security groups cannot be modified for a ${type} endpoint.`);
  if (type !== 'Interface' && input.PrivateDnsEnabled !== undefined) throw invalidParameter(`PrivateDnsEnabled cannot be modified for a ${type} endpoint.`);
  if (type === 'GatewayLoadBalancer' && (input.PolicyDocument !== undefined || input.ResetPolicy === true)) throw invalidParameter('A GatewayLoadBalancer endpoint has no policy document.');
  for (const [add, remove, what] of [[addTables, removeTables, 'route table'], [addSubnets, removeSubnets, 'subnet'], [addGroups, removeGroups, 'security group']] as const) {
    const both = add.find((id) => remove.includes(id));
    if (both !== undefined) throw invalidParameterCombination(`The ${what} ${both} cannot be both added and removed.`);
  }
  if (type === 'Gateway') {
    for (const id of removeTables) if (!e.RouteTableIds.includes(id)) throw invalidParameter(`Route table ${id} is not associated with the endpoint ${e.VpcEndpointId}.`);
    const fresh = addTables.filter((id) => !e.RouteTableIds.includes(id));
    checkRouteTables(ctx, e.VpcId, fresh, e.prefixListId!);
    removeEndpointRoutes(ctx, e.VpcEndpointId, removeTables);
    addEndpointRoutes(ctx, e, fresh);
    e.RouteTableIds = [...e.RouteTableIds.filter((id) => !removeTables.includes(id)), ...fresh];
  } else {
    for (const id of removeSubnets) if (!e.SubnetIds.includes(id)) throw invalidParameter(`The subnet ${id} is not a subnet of the endpoint ${e.VpcEndpointId}.`);
    const kept = e.SubnetIds.filter((id) => !removeSubnets.includes(id));
    checkSubnets(ctx, e.VpcId, addSubnets, kept);
    const subnets = [...kept, ...addSubnets.filter((id) => !kept.includes(id))];
    if (type === 'GatewayLoadBalancer' && subnets.length !== 1) throw invalidParameter('A GatewayLoadBalancer endpoint takes exactly one subnet.');
    e.SubnetIds = subnets;
  }
  if (type === 'Interface') {
    const current = (e.Groups ?? []).map((g) => g.GroupId!);
    for (const id of removeGroups) if (!current.includes(id)) throw invalidParameter(`The security group ${id} is not a group of the endpoint ${e.VpcEndpointId}.`);
    const keptGroups = (e.Groups ?? []).filter((g) => !removeGroups.includes(g.GroupId!));
    const added = groupsOf(ctx, e.VpcId, addGroups.filter((id) => !current.includes(id)));
    const groups = [...keptGroups, ...added];
    if (groups.length === 0) throw invalidParameter('An Interface endpoint needs at least one security group.');
    e.Groups = groups;
    if (input.PrivateDnsEnabled !== undefined && input.PrivateDnsEnabled !== e.PrivateDnsEnabled) {
      if (input.PrivateDnsEnabled) {
        if (e.privateDnsName === undefined) throw invalidParameter(`The Vpc Endpoint Service '${e.ServiceName}' has no private DNS name.`);
        checkPrivateDns(ctx, e.VpcId, e.privateDnsName, e.VpcEndpointId);
      }
      e.PrivateDnsEnabled = input.PrivateDnsEnabled;
    }
  }
  if (input.ResetPolicy === true) e.PolicyDocument = DEFAULT_ENDPOINT_POLICY;
  else if (input.PolicyDocument !== undefined) e.PolicyDocument = policyDocument(input.PolicyDocument);
  endpoints(ctx).put(ctx.region, e.VpcEndpointId, e);
  return { Return: true };
});

// ---------------------------------------------------------------- DeleteVpcEndpoints

/** At most this many endpoints per DeleteVpcEndpoints. */
const MAX_DELETE = 25;

const deleteVpcEndpoints = action((ctx, input: DeleteVpcEndpointsRequest): DeleteVpcEndpointsResult => {
  const ids = input.VpcEndpointIds ?? [];
  if (ids.length === 0) throw missingParameter('VpcEndpointId');
  if (ids.length > MAX_DELETE) throw new Ec2Error('InvalidParameterValue', `At most ${MAX_DELETE} VPC endpoints may be deleted in one call.`);
  const col = endpoints(ctx);
  const failed: UnsuccessfulItem[] = [];
  for (const id of new Set(ids)) {
    if (!isWellFormedId(KINDS.vpcEndpoint.prefix, id)) {
      failed.push(unsuccessfulItem(id, KINDS.vpcEndpoint.malformed(id)));
      continue;
    }
    const e = col.get(ctx.region, id);
    if (!e || isGone(e)) {
      failed.push(unsuccessfulItem(id, new Ec2Error('InvalidVpcEndpoint.NotFound', `The Vpc Endpoint Id '${id}' does not exist`)));
      continue;
    }
    if (e.State === 'deleting') continue;
    if (e.VpcEndpointType === 'Gateway') removeEndpointRoutes(ctx, id, e.RouteTableIds);
    saveStored(ctx, KINDS.vpcEndpoint, id, { ...e, State: 'deleting' });
  }
  return { Unsuccessful: failed };
});

// ---------------------------------------------------------------- DescribeVpcEndpointServices

function awsServiceDetails(ctx: RequestContext): ServiceDetail[] {
  const zones = findRegion(ctx.region)?.zones ?? [];
  return awsEndpointServices(ctx.region).map((s) => ({
    ServiceName: s.serviceName,
    ServiceId: s.serviceId,
    ServiceType: [{ ServiceType: s.type }],
    ServiceRegion: ctx.region,
    AvailabilityZoneIds: zones.map((z) => z.ZoneId),
    AvailabilityZones: zones.map((z) => z.ZoneName),
    Owner: 'amazon',
    BaseEndpointDnsNames: [s.type === 'Gateway' ? `${s.short}.${ctx.region}.amazonaws.com` : `${s.short}.${ctx.region}.vpce.amazonaws.com`],
    ...(s.privateDnsName !== undefined ? { PrivateDnsName: s.privateDnsName, PrivateDnsNames: [{ PrivateDnsName: s.privateDnsName }] } : {}),
    VpcEndpointPolicySupported: true,
    AcceptanceRequired: false,
    ManagesVpcEndpoints: false,
    PrivateDnsNameVerificationState: 'verified',
    SupportedIpAddressTypes: ['ipv4'],
  }));
}

function ownServiceDetail(s: VpcEndpointServiceRecord, tags: Tag[] | undefined, ownerId: string): ServiceDetail {
  return {
    ServiceName: s.ServiceName,
    ServiceId: s.ServiceId,
    ServiceType: s.ServiceType,
    ServiceRegion: s.SupportedRegions?.[0]?.Region,
    AvailabilityZoneIds: s.AvailabilityZoneIds,
    AvailabilityZones: s.AvailabilityZones,
    Owner: ownerId,
    BaseEndpointDnsNames: s.BaseEndpointDnsNames,
    ...(s.PrivateDnsName !== undefined ? { PrivateDnsName: s.PrivateDnsName, PrivateDnsNames: [{ PrivateDnsName: s.PrivateDnsName }] } : {}),
    VpcEndpointPolicySupported: (s.ServiceType ?? []).some((t) => t.ServiceType === 'Interface'),
    AcceptanceRequired: s.AcceptanceRequired,
    ManagesVpcEndpoints: s.ManagesVpcEndpoints,
    PayerResponsibility: s.PayerResponsibility,
    PrivateDnsNameVerificationState: s.PrivateDnsNameConfiguration?.State,
    SupportedIpAddressTypes: s.SupportedIpAddressTypes,
    Tags: tagsField(tags),
  };
}

const SERVICE_FILTERS = filterTable<ServiceDetail>('DescribeVpcEndpointServices', {
  owner: 'Owner',
  'service-name': 'ServiceName',
  'service-region': 'ServiceRegion',
  'service-type': 'ServiceType.ServiceType',
  'supported-ip-address-types': 'SupportedIpAddressTypes',
});

const describeVpcEndpointServices = action((ctx, input: DescribeVpcEndpointServicesRequest): DescribeVpcEndpointServicesResult => {
  for (const r of input.ServiceRegions ?? []) {
    if (r !== ctx.region) throw new Ec2Error('UnsupportedOperation', `Cross-region endpoint services are not supported: only ${ctx.region}'s services are listed here.`);
  }
  const tags = tagsByResource(ctx, KINDS.vpcEndpointService.name);
  const own = endpointServices(ctx)
    .list(ctx.region)
    .filter((s) => s.ServiceState === 'Available')
    .map((s) => ownServiceDetail(s, tags.get(s.ServiceId), ctx.accountId));
  let details = [...awsServiceDetails(ctx), ...own];
  const names = input.ServiceNames ?? [];
  if (names.length > 0) {
    const known = new Set(details.map((d) => d.ServiceName));
    const missing = names.filter((n) => !known.has(n));
    if (missing.length > 0) throw new Ec2Error('InvalidServiceName', `The Vpc Endpoint Service '${quotable(missing[0]!)}' does not exist`);
    details = details.filter((d) => names.includes(d.ServiceName!));
  }
  const filtered = applyFilters(details, input.Filters, SERVICE_FILTERS, (d) => d.Tags);
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 1, max: 1000, clamp: true });
  return { ServiceNames: [...new Set(page.items.map((d) => d.ServiceName!))], ServiceDetails: page.items, NextToken: page.nextToken };
});

export const vpcEndpointsModule: ApiModule = {
  actions: {
    CreateVpcEndpoint: createVpcEndpoint,
    DescribeVpcEndpoints: describeVpcEndpoints,
    ModifyVpcEndpoint: modifyVpcEndpoint,
    DeleteVpcEndpoints: deleteVpcEndpoints,
    DescribeVpcEndpointServices: describeVpcEndpointServices,
  },
};
