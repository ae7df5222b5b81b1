/**
 * Route tables, their routes and their associations.
 *
 * Every VPC has a main route table (created with the VPC, holding the local
 * route for each VPC CIDR); subnets without an explicit association use it.
 * A route's State is not stored: it is worked out on describe (a route to a
 * gateway no longer attached to the VPC, or to a deleted interface, is a
 * blackhole), as EC2 shows it.
 */
import type { AssociateRouteTableRequest, AssociateRouteTableResult, CreateRouteRequest, CreateRouteResult, CreateRouteTableRequest, CreateRouteTableResult, DeleteRouteRequest, DeleteRouteTableRequest, DescribeRouteTablesRequest, DescribeRouteTablesResult, DisassociateRouteTableRequest, ReplaceRouteRequest, ReplaceRouteTableAssociationRequest, ReplaceRouteTableAssociationResult, Route, RouteTable } from '@aws-sdk/client-ec2';
import { contains, formatIpv6, isCanonical, parseCidr4, parseCidr6 } from '../../domain/cidr.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import type { NetworkInterfaceRecord } from '../../resources/ec2/records.js';
import { requireResource, requireResources } from '../../resources/ec2/registry.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { RouteTableRecord } from '../../resources/ec2/records.js';
import { insertTable, newAssociation, routeTablesOf, save, tables } from '../../resources/ec2/route-tables.js';
import { requirePrefixList } from '../../resources/ec2/prefix-lists.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { transitGatewayRouteActive, transitGatewayTarget } from './transit-gateway-route-target.js';
import { outsideGatewayVpcs, propagatedDestinations, propagatedRoutes, requireVpnGatewayTarget } from '../../resources/ec2/route-gateways.js';
import { EXTRA_TARGETS, extraTargetActive, loadExtraTargets, type ExtraTargetParam, type ExtraTargetWorld, type RouteTarget } from './route-targets.js';


// ---------------------------------------------------------------- describe

/** What a Describe call needs to know to work out route states, loaded once per call. */
interface RouteWorld {
  gatewayVpc: Map<string, string | undefined>;
  interfaces: Map<string, NetworkInterfaceRecord>;
  accountId: string;
  ctx: RequestContext;
  /** what propagating tables learn from virtual private gateways */
  propagated: Map<string, string[]>;
  extra: ExtraTargetWorld;
}

function loadWorld(ctx: RequestContext): RouteWorld {
  return {
    gatewayVpc: new Map(
      ctx.store
        .collection(KINDS.internetGateway)
        .list(ctx.region)
        .map((g): [string, string | undefined] => [g.InternetGatewayId, g.Attachments[0]?.VpcId])
        .concat(outsideGatewayVpcs(ctx)),
    ),
    interfaces: new Map(
      ctx.store
        .collection(KINDS.networkInterface)
        .list(ctx.region)
        .map((e) => [e.NetworkInterfaceId, e]),
    ),
    accountId: ctx.accountId,
    ctx,
    propagated: propagatedDestinations(ctx),
    extra: loadExtraTargets(ctx),
  };
}

function describeRoute(route: Route, table: RouteTableRecord, world: RouteWorld): Route {
  const out: Route = { ...route };
  let active = true;
  const extra = extraTargetActive(route, table, world.extra);
  if (extra !== undefined) {
    active = extra;
  } else if (route.GatewayId !== undefined && route.GatewayId !== 'local') {
    active = world.gatewayVpc.get(route.GatewayId) === table.VpcId;
  } else if (route.TransitGatewayId !== undefined) {
    active = transitGatewayRouteActive(world.ctx, table.VpcId, route.TransitGatewayId);
  } else if (route.NetworkInterfaceId !== undefined) {
    const eni = world.interfaces.get(route.NetworkInterfaceId);
    active = eni !== undefined;
    if (eni?.attachment) {
      out.InstanceId = eni.attachment.InstanceId;
      out.InstanceOwnerId = world.accountId;
    }
  }
  out.State = active ? 'active' : 'blackhole';
  return out;
}

function toOutput(table: RouteTableRecord, tags: Tag[] | undefined, world: RouteWorld): RouteTable {
  return { ...table, Routes: [...table.Routes.map((r) => describeRoute(r, table, world)), ...propagatedRoutes(table, world.gatewayVpc, world.propagated)], Tags: tagsField(tags) };
}

// ---------------------------------------------------------------- route parameters

interface Destination {
  key: 'DestinationCidrBlock' | 'DestinationIpv6CidrBlock' | 'DestinationPrefixListId';
  value: string;
  /** a prefix list's address family (a route to one takes the targets of that family) */
  ipv6?: boolean;
}

type RouteParams = Pick<
  CreateRouteRequest,
  'DestinationCidrBlock' | 'DestinationIpv6CidrBlock' | 'DestinationPrefixListId'
>;

/** The route's destination in canonical text; exactly one of the destination parameters. */
function destinationOf(ctx: RequestContext, input: RouteParams): Destination {
  const given = [input.DestinationCidrBlock, input.DestinationIpv6CidrBlock, input.DestinationPrefixListId].filter(
    (v) => v !== undefined,
  );
  if (given.length === 0) {
    throw new Ec2Error(
      'MissingParameter',
      'The request must contain exactly one of destinationCidrBlock, destinationIpv6CidrBlock or destinationPrefixListId',
    );
  }
  if (given.length > 1) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      'Only one of destinationCidrBlock, destinationIpv6CidrBlock or destinationPrefixListId may be specified',
    );
  }
  if (input.DestinationPrefixListId !== undefined) {
    // a managed prefix list: AWS's or the account's (the fabric follows its entries)
    const list = requirePrefixList(ctx, input.DestinationPrefixListId);
    return { key: 'DestinationPrefixListId', value: list.PrefixListId, ipv6: list.AddressFamily === 'IPv6' };
  }
  if (input.DestinationCidrBlock !== undefined) {
    const s = input.DestinationCidrBlock;
    const c = parseCidr4(s);
    if (!c || !isCanonical(c)) {
      throw new Ec2Error('InvalidParameterValue', `Value (${s}) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.`);
    }
    return { key: 'DestinationCidrBlock', value: s };
  }
  const s = input.DestinationIpv6CidrBlock!;
  const c = parseCidr6(s);
  const hostBits = c ? c.address & ((1n << BigInt(128 - c.prefix)) - 1n) : 1n;
  if (!c || hostBits !== 0n) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${s}) for parameter destinationIpv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.`,
    );
  }
  return { key: 'DestinationIpv6CidrBlock', value: `${formatIpv6(c.address)}/${c.prefix}` };
}

function findRoute(table: RouteTableRecord, d: Destination): number {
  return table.Routes.findIndex((r) => r[d.key] === d.value);
}

/** Target parameters of CreateRoute / ReplaceRoute, in the order EC2 documents them. */
const TARGETS = [
  'GatewayId',
  'InstanceId',
  'NetworkInterfaceId',
  'NatGatewayId',
  'TransitGatewayId',
  'VpcPeeringConnectionId',
  'EgressOnlyInternetGatewayId',
  'VpcEndpointId',
  'CarrierGatewayId',
  'LocalGatewayId',
  'CoreNetworkArn',
  'OdbNetworkArn',
] as const;

/** Target kinds Overcast has no resources for: any id given is one that does not exist. */
const UNSUPPORTED_TARGETS: Readonly<Record<string, (id: string) => Ec2Error>> = {
  VpcEndpointId: (id) => new Ec2Error('InvalidVpcEndpointId.NotFound', `The VpcEndPoint ID '${id}' does not exist`),
  CarrierGatewayId: (id) => new Ec2Error('InvalidCarrierGatewayID.NotFound', `The CarrierGateway ID '${id}' does not exist`),
  LocalGatewayId: (id) => new Ec2Error('InvalidLocalGatewayID.NotFound', `The localGateway ID '${id}' does not exist`),
  CoreNetworkArn: (id) => new Ec2Error('InvalidParameterValue', `Core network routes are not supported: ${id}`),
  OdbNetworkArn: (id) => new Ec2Error('InvalidParameterValue', `ODB network routes are not supported: ${id}`),
};

const differentNetworks = (table: RouteTableRecord, what: string, id: string): Ec2Error =>
  new Ec2Error('InvalidParameterValue', `route table ${table.RouteTableId} and ${what} ${id} belong to different networks`);

/**
 * The stored target of a route (`GatewayId` or `NetworkInterfaceId`), checked
 * against the table's VPC. An instance target resolves to its only interface.
 * `'local'` is returned for GatewayId local / LocalTarget (ReplaceRoute only).
 */
function targetOf(
  ctx: RequestContext,
  table: RouteTableRecord,
  input: Pick<CreateRouteRequest, (typeof TARGETS)[number]> & { LocalTarget?: boolean },
  ipv6 = false,
): RouteTarget | 'local' {
  const given = TARGETS.filter((k) => input[k] !== undefined);
  const local = input.LocalTarget === true;
  if (given.length + (local ? 1 : 0) === 0) {
    throw new Ec2Error(
      'MissingParameter',
      'The request must contain exactly one of gatewayId, instanceId, networkInterfaceId, natGatewayId, transitGatewayId, vpcPeeringConnectionId, egressOnlyInternetGatewayId, vpcEndpointId, carrierGatewayId or localGatewayId',
    );
  }
  if (given.length + (local ? 1 : 0) > 1) {
    const names = [...given, ...(local ? ['LocalTarget'] : [])];
    throw new Ec2Error('InvalidParameterCombination', `Only one route target may be specified, got: ${names.join(', ')}`);
  }
  if (local) return 'local';
  const param = given[0]!;
  const id = input[param]!;
  const unsupported = UNSUPPORTED_TARGETS[param];
  if (unsupported) throw unsupported(id);
  if (Object.hasOwn(EXTRA_TARGETS, param)) return EXTRA_TARGETS[param as ExtraTargetParam](ctx, table, id, ipv6);
  if (param === 'GatewayId') {
    if (id === 'local') return 'local';
    if (id.startsWith('vgw-')) return { GatewayId: requireVpnGatewayTarget(ctx, table.VpcId, id) };
    if (!id.startsWith('igw-')) throw new Ec2Error('InvalidGatewayID.NotFound', `The gateway ID '${id}' does not exist`);
    const igw = requireResource(ctx, KINDS.internetGateway, id);
    if (igw.Attachments[0]?.VpcId !== table.VpcId) throw differentNetworks(table, 'network gateway', id);
    return { GatewayId: id };
  }
  if (param === 'TransitGatewayId') return transitGatewayTarget(ctx, table.VpcId, id);
  if (param === 'InstanceId') {
    const instance = requireResource(ctx, KINDS.instance, id);
    if (instance.VpcId !== table.VpcId) throw differentNetworks(table, 'instance', id);
    if (instance.networkInterfaceIds.length !== 1) {
      throw new Ec2Error(
        'InvalidInstanceID',
        `There are multiple interfaces attached to instance '${id}'. Please specify an interface ID for the operation instead.`,
      );
    }
    return { NetworkInterfaceId: instance.networkInterfaceIds[0]! };
  }
  const eni = requireResource(ctx, KINDS.networkInterface, id);
  if (eni.VpcId !== table.VpcId) throw differentNetworks(table, 'interface', id);
  return { NetworkInterfaceId: id };
}

/** IPv4 destinations inside the VPC's own range may only point at an interface or instance. */
function checkInsideVpc(ctx: RequestContext, table: RouteTableRecord, d: Destination, target: RouteTarget): void {
  if (d.key !== 'DestinationCidrBlock' || target.NetworkInterfaceId !== undefined) return;
  const vpc = ctx.store.collection(KINDS.vpc).get(ctx.region, table.VpcId);
  const dest = parseCidr4(d.value)!;
  const vpcCidrs = (vpc?.CidrBlockAssociationSet ?? []).map((a) => parseCidr4(a.CidrBlock ?? '')).filter((c) => c !== undefined);
  if (vpcCidrs.some((c) => contains(c, dest))) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `The destination CIDR block ${d.value} is equal to or more specific than one of this VPC's CIDR blocks. This route can target only an interface or an instance.`,
    );
  }
}

function requireTable(ctx: RequestContext, id: string | undefined): RouteTableRecord {
  if (id === undefined || id === '') throw missingParameter('RouteTableId');
  return requireResource(ctx, KINDS.routeTable, id);
}

/** The table holding an association id, and the association's index in it. */
function findAssociation(ctx: RequestContext, associationId: string | undefined): { table: RouteTableRecord; index: number } {
  if (associationId === undefined || associationId === '') throw missingParameter('AssociationId');
  for (const table of tables(ctx).list(ctx.region)) {
    const index = table.Associations.findIndex((a) => a.RouteTableAssociationId === associationId);
    if (index >= 0) return { table, index };
  }
  throw new Ec2Error('InvalidAssociationID.NotFound', `The association ID '${associationId}' does not exist`);
}

// ---------------------------------------------------------------- actions

const createRouteTable = action((ctx, input: CreateRouteTableRequest): CreateRouteTableResult => {
  if (input.VpcId === undefined || input.VpcId === '') throw missingParameter('VpcId');
  const vpc = requireResource(ctx, KINDS.vpc, input.VpcId);
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.routeTable.name]).get(KINDS.routeTable.name) ?? [];
  const table = insertTable(ctx, vpc);
  putTags(ctx, table.RouteTableId, KINDS.routeTable.name, tags);
  return { RouteTable: toOutput(table, tags, loadWorld(ctx)) };
});

const ROUTE_TABLE_FILTERS = filterTable<RouteTable>('DescribeRouteTables', {
  'association.gateway-id': 'Associations.GatewayId',
  'association.route-table-association-id': 'Associations.RouteTableAssociationId',
  'association.route-table-id': 'Associations.RouteTableId',
  'association.subnet-id': 'Associations.SubnetId',
  'association.main': 'Associations.Main',
  'owner-id': 'OwnerId',
  'route-table-id': 'RouteTableId',
  'route.destination-cidr-block': 'Routes.DestinationCidrBlock',
  'route.destination-ipv6-cidr-block': 'Routes.DestinationIpv6CidrBlock',
  'route.destination-prefix-list-id': 'Routes.DestinationPrefixListId',
  'route.gateway-id': 'Routes.GatewayId',
  'route.instance-id': 'Routes.InstanceId',
  'route.network-interface-id': 'Routes.NetworkInterfaceId',
  'route.egress-only-internet-gateway-id': 'Routes.EgressOnlyInternetGatewayId',
  'route.nat-gateway-id': 'Routes.NatGatewayId',
  'route.vpc-peering-connection-id': 'Routes.VpcPeeringConnectionId',
  'route.origin': 'Routes.Origin',
  'route.transit-gateway-id': 'Routes.TransitGatewayId',
  'route.state': 'Routes.State',
  'vpc-id': 'VpcId',
});

const describeRouteTables = action((ctx, input: DescribeRouteTablesRequest): DescribeRouteTablesResult => {
  const ids = input.RouteTableIds ?? [];
  const records = ids.length > 0 ? requireResources(ctx, KINDS.routeTable, ids) : tables(ctx).list(ctx.region);
  const tags = tagsByResource(ctx, KINDS.routeTable.name);
  const world = loadWorld(ctx);
  const described = records.map((t) => toOutput(t, tags.get(t.RouteTableId), world));
  const filtered = applyFilters(
    described,
    input.Filters,
    ROUTE_TABLE_FILTERS,
    (t) => t.Tags,
  );
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 100 });
  return { RouteTables: page.items, NextToken: page.nextToken };
});

const deleteRouteTable = action((ctx, input: DeleteRouteTableRequest) => {
  const table = requireTable(ctx, input.RouteTableId);
  if (table.Associations.length > 0) {
    throw new Ec2Error('DependencyViolation', `The routeTable '${table.RouteTableId}' has dependencies and cannot be deleted.`);
  }
  tables(ctx).delete(ctx.region, table.RouteTableId);
  ctx.notify(KINDS.routeTable.name, table.RouteTableId);
  ctx.store.tags.removeAll(ctx.region, table.RouteTableId);
  return {};
});

const createRoute = action((ctx, input: CreateRouteRequest): CreateRouteResult => {
  const table = requireTable(ctx, input.RouteTableId);
  const d = destinationOf(ctx, input);
  const target = targetOf(ctx, table, input, d.key === 'DestinationIpv6CidrBlock' || d.ipv6 === true);
  if (target === 'local') throw new Ec2Error('InvalidGatewayID.NotFound', "The gateway ID 'local' does not exist");
  if (findRoute(table, d) >= 0) throw new Ec2Error('RouteAlreadyExists', `The route identified by ${d.value} already exists.`);
  checkInsideVpc(ctx, table, d, target);
  table.Routes.push({ [d.key]: d.value, ...target, Origin: 'CreateRoute' });
  save(ctx, table);
  return { Return: true };
});

const replaceRoute = action((ctx, input: ReplaceRouteRequest) => {
  const table = requireTable(ctx, input.RouteTableId);
  const d = destinationOf(ctx, input);
  const index = findRoute(table, d);
  if (index < 0) {
    throw new Ec2Error('InvalidParameterValue', `There is no route defined for '${d.value}' in the route table. Use CreateRoute instead.`);
  }
  const target = targetOf(ctx, table, input, d.key === 'DestinationIpv6CidrBlock' || d.ipv6 === true);
  const current = table.Routes[index]!;
  const isLocal = current.GatewayId === 'local';
  if (target === 'local' || isLocal) {
    if (target === 'local' && isLocal) return {};
    throw new Ec2Error(
      'InvalidParameterValue',
      isLocal
        ? `cannot replace the target of local route ${d.value} in route table ${table.RouteTableId}`
        : `Route ${d.value} is not inside the VPC's range and cannot target 'local'`,
    );
  }
  checkInsideVpc(ctx, table, d, target);
  table.Routes[index] = { [d.key]: d.value, ...target, Origin: current.Origin ?? 'CreateRoute' };
  save(ctx, table);
  return {};
});

const deleteRoute = action((ctx, input: DeleteRouteRequest) => {
  const table = requireTable(ctx, input.RouteTableId);
  const d = destinationOf(ctx, input);
  const index = findRoute(table, d);
  if (index < 0) {
    const param = d.key === 'DestinationCidrBlock' ? 'destination-cidr-block' : d.key === 'DestinationIpv6CidrBlock' ? 'destination-ipv6-cidr-block' : 'destination-prefix-list-id';
    throw new Ec2Error('InvalidRoute.NotFound', `no route with ${param} ${d.value} in route table ${table.RouteTableId}`);
  }
  if (table.Routes[index]!.GatewayId === 'local') {
    throw new Ec2Error('InvalidParameterValue', `cannot remove local route ${d.value} in route table ${table.RouteTableId}`);
  }
  table.Routes.splice(index, 1);
  save(ctx, table);
  return {};
});

const associateRouteTable = action((ctx, input: AssociateRouteTableRequest): AssociateRouteTableResult => {
  const table = requireTable(ctx, input.RouteTableId);
  if (input.GatewayId !== undefined) {
    if (input.SubnetId !== undefined) {
      throw new Ec2Error('InvalidParameterCombination', 'The parameters SubnetId and GatewayId cannot be used together');
    }
    throw new Ec2Error('InvalidParameterValue', 'Gateway route table associations are not supported.');
  }
  if (input.SubnetId === undefined || input.SubnetId === '') throw missingParameter('SubnetId');
  const subnet = requireResource(ctx, KINDS.subnet, input.SubnetId);
  if (subnet.VpcId !== table.VpcId) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Route table ${table.RouteTableId} and subnet ${subnet.SubnetId} belong to different networks`,
    );
  }
  const existing = routeTablesOf(ctx, table.VpcId).find((t) => t.Associations.some((a) => a.SubnetId === subnet.SubnetId));
  if (existing) {
    throw new Ec2Error(
      'Resource.AlreadyAssociated',
      `the specified association for route table ${existing.RouteTableId} conflicts with an existing association`,
    );
  }
  const association = newAssociation(table, subnet.SubnetId);
  table.Associations.push(association);
  save(ctx, table);
  return { AssociationId: association.RouteTableAssociationId, AssociationState: association.AssociationState };
});

const disassociateRouteTable = action((ctx, input: DisassociateRouteTableRequest) => {
  const { table, index } = findAssociation(ctx, input.AssociationId);
  if (table.Associations[index]!.Main === true) {
    throw new Ec2Error('InvalidParameterValue', `cannot disassociate the main route table association ${input.AssociationId}`);
  }
  table.Associations.splice(index, 1);
  save(ctx, table);
  return {};
});

const replaceRouteTableAssociation = action(
  (ctx, input: ReplaceRouteTableAssociationRequest): ReplaceRouteTableAssociationResult => {
    const { table: from, index } = findAssociation(ctx, input.AssociationId);
    const to = requireTable(ctx, input.RouteTableId);
    if (to.VpcId !== from.VpcId) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `Route table ${to.RouteTableId} and association ${input.AssociationId} belong to different networks`,
      );
    }
    const old = from.Associations[index]!;
    from.Associations.splice(index, 1);
    // When both are the same table, keep working on one object so neither write undoes the other.
    const target = to.RouteTableId === from.RouteTableId ? from : to;
    const association = newAssociation(target, old.Main === true ? undefined : old.SubnetId);
    target.Associations.push(association);
    save(ctx, from);
    if (target !== from) save(ctx, target);
    return { NewAssociationId: association.RouteTableAssociationId, AssociationState: association.AssociationState };
  },
);

export const routeTablesModule: ApiModule = {
  actions: {
    CreateRouteTable: createRouteTable,
    DescribeRouteTables: describeRouteTables,
    DeleteRouteTable: deleteRouteTable,
    CreateRoute: createRoute,
    ReplaceRoute: replaceRoute,
    DeleteRoute: deleteRoute,
    AssociateRouteTable: associateRouteTable,
    DisassociateRouteTable: disassociateRouteTable,
    ReplaceRouteTableAssociation: replaceRouteTableAssociation,
  },
};
