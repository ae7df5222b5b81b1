/** Route tables: their records and the rules VPCs and subnets use (main table, associations, local routes). */
import type { Route, RouteTableAssociation } from '@aws-sdk/client-ec2';
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import { type Cidr4, parseCidr4 } from '../../domain/cidr.js';
import { KINDS } from './kinds.js';
import { prefixListCidrs } from './prefix-lists.js';
import type { RouteTableRecord, SubnetRecord, VpcRecord } from './records.js';
import { liveIpv4Blocks, liveIpv6Blocks } from './vpcs.js';

export function tables(ctx: ResourceContext) {
  return ctx.store.collection(KINDS.routeTable);
}

/** Stores the table and tells the reconcilers (what a VPC peering connection carries follows its routes and associations). */
export function save(ctx: ResourceContext, table: RouteTableRecord): void {
  tables(ctx).put(ctx.region, table.RouteTableId, table);
  ctx.notify(KINDS.routeTable.name, table.RouteTableId);
}

/** The local routes of a VPC: one per IPv4 and IPv6 CIDR block. */
function localRoutes(vpc: VpcRecord): Route[] {
  const v4 = liveIpv4Blocks(vpc);
  const v6 = liveIpv6Blocks(vpc);
  return [
    ...(v4.length > 0 ? v4 : [vpc.CidrBlock]).map((c) => ({ DestinationCidrBlock: c, GatewayId: 'local', Origin: 'CreateRouteTable' as const })),
    ...v6.map((c) => ({ DestinationIpv6CidrBlock: c, GatewayId: 'local', Origin: 'CreateRouteTable' as const })),
  ];
}

export function insertTable(ctx: ResourceContext, vpc: VpcRecord): RouteTableRecord {
  const table: RouteTableRecord = {
    RouteTableId: newId('rtb'),
    VpcId: vpc.VpcId,
    OwnerId: ctx.accountId,
    Routes: localRoutes(vpc),
    Associations: [],
    PropagatingVgws: [],
  };
  save(ctx, table);
  return table;
}

export function newAssociation(table: RouteTableRecord, subnetId: string | undefined): RouteTableAssociation {
  const a: RouteTableAssociation = {
    Main: subnetId === undefined,
    RouteTableAssociationId: newId('rtbassoc'),
    RouteTableId: table.RouteTableId,
    AssociationState: { State: 'associated' },
  };
  if (subnetId !== undefined) a.SubnetId = subnetId;
  return a;
}

/** Creates a VPC's main route table, with its local routes plus `extraRoutes`. */
export function createMainRouteTable(ctx: ResourceContext, vpc: VpcRecord, extraRoutes: Route[] = []): RouteTableRecord {
  const table = insertTable(ctx, vpc);
  table.Routes.push(...extraRoutes.map((r) => ({ ...r, Origin: 'CreateRoute' as const })));
  table.Associations.push(newAssociation(table, undefined));
  save(ctx, table);
  return table;
}

export function routeTablesOf(ctx: ResourceContext, vpcId: string): RouteTableRecord[] {
  return tables(ctx)
    .list(ctx.region)
    .filter((t) => t.VpcId === vpcId);
}

/** The table a subnet's traffic uses: its explicit association, else the VPC's main table. */
function routeTableForSubnet(ctx: ResourceContext, subnet: SubnetRecord): RouteTableRecord | undefined {
  const all = routeTablesOf(ctx, subnet.VpcId);
  return (
    all.find((t) => t.Associations.some((a) => a.SubnetId === subnet.SubnetId)) ??
    all.find((t) => t.Associations.some((a) => a.Main === true))
  );
}

/**
 * The IPv4 destinations of the table's routes that `target` picks: a route's
 * CIDR block, or the IPv4 entries of the managed prefix list it names (their
 * current version, as EC2 routes follow a list's changes). What the fabric is
 * asked to carry for a NAT gateway or a peering connection.
 */
export function ipv4Destinations(ctx: Pick<ResourceContext, 'store' | 'region'>, t: RouteTableRecord, target: (r: Route) => boolean): Cidr4[] {
  const out: Cidr4[] = [];
  for (const r of t.Routes) {
    if (!target(r)) continue;
    const texts = r.DestinationCidrBlock !== undefined ? [r.DestinationCidrBlock] : r.DestinationPrefixListId !== undefined ? (prefixListCidrs(ctx, r.DestinationPrefixListId) ?? []) : [];
    for (const text of texts) {
      const c = parseCidr4(text);
      if (c) out.push(c);
    }
  }
  return out;
}

/** The subnets whose traffic a table routes: its explicit associations, and for the main table the subnets with none. */
export function subnetsUsing(t: RouteTableRecord, tables: readonly RouteTableRecord[], subnets: readonly SubnetRecord[]): SubnetRecord[] {
  const explicit = new Set(t.Associations.map((a) => a.SubnetId).filter((x): x is string => x !== undefined));
  const main = t.Associations.some((a) => a.Main === true);
  const associated = new Set(tables.flatMap((x) => x.Associations.map((a) => a.SubnetId)).filter((x): x is string => x !== undefined));
  return subnets.filter((s) => explicit.has(s.SubnetId) || (main && !associated.has(s.SubnetId)));
}

/** Drops a deleted subnet's explicit association. */
export function removeSubnetAssociations(ctx: ResourceContext, subnetId: string): void {
  for (const t of tables(ctx).list(ctx.region)) {
    const kept = t.Associations.filter((a) => a.SubnetId !== subnetId);
    if (kept.length === t.Associations.length) continue;
    t.Associations = kept;
    save(ctx, t);
  }
}

/** Deletes every route table of a VPC (with tags), when the VPC goes. */
export function deleteRouteTablesOf(ctx: ResourceContext, vpcId: string): void {
  for (const t of routeTablesOf(ctx, vpcId)) {
    tables(ctx).delete(ctx.region, t.RouteTableId);
    ctx.notify(KINDS.routeTable.name, t.RouteTableId);
    ctx.store.tags.removeAll(ctx.region, t.RouteTableId);
  }
}

/** The route tables of the region with a route to the prefix list, each once. */
export function tablesRoutingTo(ctx: Pick<ResourceContext, 'store' | 'region'>, prefixListId: string): string[] {
  return ctx.store
    .collection(KINDS.routeTable)
    .list(ctx.region)
    .filter((t) => t.Routes.some((r) => r.DestinationPrefixListId === prefixListId))
    .map((t) => t.RouteTableId);
}
