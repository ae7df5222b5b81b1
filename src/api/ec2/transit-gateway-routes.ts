/**
 * Transit gateway routes: Create / Delete / ReplaceTransitGatewayRoute (static
 * routes, to an attachment or blackhole) and SearchTransitGatewayRoutes.
 *
 * A route table's routes are its static routes plus, for each enabled
 * propagation of a VPC attachment that is available, one propagated route per
 * IPv4 CIDR block of the VPC (a static route for the same CIDR wins). A
 * static route to an attachment that is not available is a blackhole.
 * Records only: nothing is routed.
 */
import type {
  CreateTransitGatewayRouteRequest,
  CreateTransitGatewayRouteResult,
  DeleteTransitGatewayRouteRequest,
  DeleteTransitGatewayRouteResult,
  Filter,
  ReplaceTransitGatewayRouteRequest,
  ReplaceTransitGatewayRouteResult,
  SearchTransitGatewayRoutesRequest,
  SearchTransitGatewayRoutesResult,
  TransitGatewayRoute,
  TransitGatewayRouteAttachment,
} from '@aws-sdk/client-ec2';
import { formatIpv6, isCanonical, networkAddress, parseCidr4, parseCidr6, parseIpv4, parseIpv6 } from '../../domain/cidr.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { quotable } from '../../domain/text.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { TransitGatewayAttachmentRecord, TransitGatewayRouteTableRecord } from '../../resources/ec2/records.js';
import { tgwAttachments, tgwRouteTables } from '../../resources/ec2/transit-gateways.js';
import { readableRouteTable, requireAttachmentOf, requireRouteTable } from './transit-gateway-route-tables.js';

// ---------------------------------------------------------------- CIDRs

/** An IPv4 or IPv6 network as numbers. */
interface Net {
  bits: 32 | 128;
  base: bigint;
  prefix: number;
}

/** A CIDR (or a single address, as /32 or /128), or undefined. */
function netOf(s: string): Net | undefined {
  const v4 = parseCidr4(s);
  if (v4) return { bits: 32, base: BigInt(networkAddress(v4) >>> 0), prefix: v4.prefix };
  const ip4 = parseIpv4(s);
  if (ip4 !== undefined) return { bits: 32, base: BigInt(ip4 >>> 0), prefix: 32 };
  const v6 = parseCidr6(s);
  if (v6) return { bits: 128, base: v6.address & ~((1n << BigInt(128 - v6.prefix)) - 1n), prefix: v6.prefix };
  const ip6 = parseIpv6(s);
  if (ip6 !== undefined) return { bits: 128, base: ip6, prefix: 128 };
  return undefined;
}

/** Whether `outer` holds all of `inner`. */
function holds(outer: Net, inner: Net): boolean {
  if (outer.bits !== inner.bits || outer.prefix > inner.prefix) return false;
  const shift = BigInt(outer.bits - outer.prefix);
  return outer.base >> shift === inner.base >> shift;
}

/** A route's destination in canonical text (IPv4 or IPv6 CIDR). */
function destination(s: string | undefined): string {
  if (s === undefined || s === '') throw missingParameter('DestinationCidrBlock');
  const v4 = parseCidr4(s);
  if (v4) {
    if (!isCanonical(v4)) throw new Ec2Error('InvalidParameterValue', `Value (${quotable(s)}) for parameter DestinationCidrBlock is invalid. This is not a valid CIDR block.`);
    return s;
  }
  const v6 = parseCidr6(s);
  if (!v6 || (v6.address & ((1n << BigInt(128 - v6.prefix)) - 1n)) !== 0n) {
    throw new Ec2Error('InvalidParameterValue', `Value (${quotable(s)}) for parameter DestinationCidrBlock is invalid. This is not a valid CIDR block.`);
  }
  return `${formatIpv6(v6.address)}/${v6.prefix}`;
}

// ---------------------------------------------------------------- the routes of a table

function routeAttachment(a: TransitGatewayAttachmentRecord): TransitGatewayRouteAttachment {
  return { ResourceId: a.ResourceId, TransitGatewayAttachmentId: a.TransitGatewayAttachmentId, ResourceType: a.ResourceType };
}

const carries = (a: TransitGatewayAttachmentRecord | undefined): a is TransitGatewayAttachmentRecord => a !== undefined && (a.State === 'available' || a.State === 'modifying');

function staticRoute(ctx: RequestContext, r: TransitGatewayRouteTableRecord['routes'][number]): TransitGatewayRoute {
  const a = r.attachmentId === undefined ? undefined : tgwAttachments(ctx).get(ctx.region, r.attachmentId);
  return {
    DestinationCidrBlock: r.DestinationCidrBlock,
    TransitGatewayAttachments: a ? [routeAttachment(a)] : undefined,
    Type: 'static',
    State: !r.blackhole && carries(a) ? 'active' : 'blackhole',
  };
}

/** Every route of the table: static ones, then the propagated ones no static route overrides. */
export function routesOf(ctx: RequestContext, table: TransitGatewayRouteTableRecord): TransitGatewayRoute[] {
  const out = table.routes.map((r) => staticRoute(ctx, r));
  const seen = new Set(out.map((r) => r.DestinationCidrBlock));
  for (const p of table.propagations) {
    if (p.State !== 'enabled') continue;
    const a = tgwAttachments(ctx).get(ctx.region, p.attachmentId);
    if (!carries(a) || a.ResourceType !== 'vpc') continue;
    const vpc = ctx.store.collection(KINDS.vpc).get(ctx.region, a.ResourceId);
    for (const assoc of vpc?.CidrBlockAssociationSet ?? []) {
      const cidr = assoc.CidrBlock;
      if (cidr === undefined || seen.has(cidr) || assoc.CidrBlockState?.State !== 'associated') continue;
      seen.add(cidr);
      out.push({ DestinationCidrBlock: cidr, TransitGatewayAttachments: [routeAttachment(a)], Type: 'propagated', State: 'active' });
    }
  }
  return out;
}

// ---------------------------------------------------------------- static routes

/** The route's target: an attachment of the table's gateway, or blackhole (exactly one). */
function target(ctx: RequestContext, table: TransitGatewayRouteTableRecord, input: { TransitGatewayAttachmentId?: string; Blackhole?: boolean }): { attachmentId?: string; blackhole: boolean } {
  const blackhole = input.Blackhole === true;
  if (blackhole && input.TransitGatewayAttachmentId !== undefined) throw invalidParameterCombination('Blackhole and TransitGatewayAttachmentId cannot be used together.');
  if (blackhole) return { blackhole };
  if (input.TransitGatewayAttachmentId === undefined) throw missingParameter('TransitGatewayAttachmentId');
  const a = requireAttachmentOf(ctx, table, input.TransitGatewayAttachmentId);
  return { attachmentId: a.TransitGatewayAttachmentId, blackhole: false };
}

const routeNotFound = (cidr: string, table: TransitGatewayRouteTableRecord) =>
  new Ec2Error('InvalidRoute.NotFound', `No route with destination-cidr-block ${cidr} in Transit Gateway Route Table ${table.TransitGatewayRouteTableId}.`);

function saveRoutes(ctx: RequestContext, table: TransitGatewayRouteTableRecord, routes: TransitGatewayRouteTableRecord['routes']): void {
  tgwRouteTables(ctx).put(ctx.region, table.TransitGatewayRouteTableId, { ...table, routes });
}

const createTransitGatewayRoute = action((ctx, input: CreateTransitGatewayRouteRequest): CreateTransitGatewayRouteResult => {
  const cidr = destination(input.DestinationCidrBlock);
  const table = requireRouteTable(ctx, input.TransitGatewayRouteTableId);
  const t = target(ctx, table, input);
  if (table.routes.some((r) => r.DestinationCidrBlock === cidr)) {
    throw new Ec2Error('RouteAlreadyExists', `Route ${cidr} already exists in Transit Gateway Route Table ${table.TransitGatewayRouteTableId}.`);
  }
  const route = { DestinationCidrBlock: cidr, ...t };
  saveRoutes(ctx, table, [...table.routes, route]);
  return { Route: staticRoute(ctx, route) };
});

const replaceTransitGatewayRoute = action((ctx, input: ReplaceTransitGatewayRouteRequest): ReplaceTransitGatewayRouteResult => {
  const cidr = destination(input.DestinationCidrBlock);
  const table = requireRouteTable(ctx, input.TransitGatewayRouteTableId);
  const index = table.routes.findIndex((r) => r.DestinationCidrBlock === cidr);
  if (index < 0) throw routeNotFound(cidr, table);
  const route = { DestinationCidrBlock: cidr, ...target(ctx, table, input) };
  saveRoutes(ctx, table, table.routes.map((r, i) => (i === index ? route : r)));
  return { Route: staticRoute(ctx, route) };
});

const deleteTransitGatewayRoute = action((ctx, input: DeleteTransitGatewayRouteRequest): DeleteTransitGatewayRouteResult => {
  const cidr = destination(input.DestinationCidrBlock);
  const table = requireRouteTable(ctx, input.TransitGatewayRouteTableId);
  const route = table.routes.find((r) => r.DestinationCidrBlock === cidr);
  if (!route) throw routeNotFound(cidr, table);
  saveRoutes(ctx, table, table.routes.filter((r) => r !== route));
  return { Route: { ...staticRoute(ctx, route), State: 'deleted' } };
});

// ---------------------------------------------------------------- search

const ROUTE_FILTERS = filterTable<TransitGatewayRoute>('SearchTransitGatewayRoutes', {
  'attachment.transit-gateway-attachment-id': 'TransitGatewayAttachments.TransitGatewayAttachmentId',
  'attachment.resource-id': 'TransitGatewayAttachments.ResourceId',
  'attachment.resource-type': 'TransitGatewayAttachments.ResourceType',
  'prefix-list-id': 'PrefixListId',
  'route-search.exact-match': 'DestinationCidrBlock',
  // the three below compare networks (searchByNetwork); their entries name them
  'route-search.longest-prefix-match': 'DestinationCidrBlock',
  'route-search.subnet-of-match': 'DestinationCidrBlock',
  'route-search.supernet-of-match': 'DestinationCidrBlock',
  state: 'State',
  type: 'Type',
});

const NETWORK_SEARCHES = new Set(['route-search.longest-prefix-match', 'route-search.subnet-of-match', 'route-search.supernet-of-match']);

/** The routes that pass one network search filter (its values ORed). */
function searchByNetwork(routes: TransitGatewayRoute[], f: Filter): TransitGatewayRoute[] {
  const values = f.Values ?? [];
  if (values.length === 0) throw new Ec2Error('InvalidParameterValue', `The filter '${f.Name}' requires at least one value.`);
  const nets = values.map((v) => {
    const n = netOf(v);
    if (!n) throw new Ec2Error('InvalidParameterValue', `Value (${quotable(v)}) for filter ${f.Name} is invalid: it is a CIDR block or an IP address.`);
    return n;
  });
  const withNet = routes.map((r) => ({ r, n: netOf(r.DestinationCidrBlock ?? '') }));
  const keep = new Set<TransitGatewayRoute>();
  for (const q of nets) {
    const matching = withNet.filter(({ n }) => {
      if (!n) return false;
      return f.Name === 'route-search.subnet-of-match' ? holds(q, n) : holds(n, q);
    });
    if (f.Name === 'route-search.longest-prefix-match') {
      const longest = Math.max(-1, ...matching.map(({ n }) => n!.prefix));
      for (const m of matching) if (m.n!.prefix === longest) keep.add(m.r);
    } else {
      for (const m of matching) keep.add(m.r);
    }
  }
  return routes.filter((r) => keep.has(r));
}

const searchTransitGatewayRoutes = action((ctx, input: SearchTransitGatewayRoutesRequest): SearchTransitGatewayRoutesResult => {
  const filters = input.Filters ?? [];
  if (filters.length === 0) throw missingParameter('Filters');
  const max = input.MaxResults ?? 1000;
  if (!Number.isInteger(max) || max < 5 || max > 1000) {
    throw new Ec2Error('InvalidParameterValue', `Value ( ${max} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`);
  }
  const table = readableRouteTable(ctx, input.TransitGatewayRouteTableId);
  // every filter's name and values are checked (limits included), whatever the routes
  applyFilters([], filters, ROUTE_FILTERS);
  let routes = routesOf(ctx, table);
  routes = applyFilters(routes, filters.filter((f) => !NETWORK_SEARCHES.has(f.Name ?? '')), ROUTE_FILTERS);
  for (const f of filters) if (NETWORK_SEARCHES.has(f.Name ?? '')) routes = searchByNetwork(routes, f);
  return { Routes: routes.slice(0, max), AdditionalRoutesAvailable: routes.length > max };
});

export const transitGatewayRoutesModule: ApiModule = {
  actions: {
    CreateTransitGatewayRoute: createTransitGatewayRoute,
    ReplaceTransitGatewayRoute: replaceTransitGatewayRoute,
    DeleteTransitGatewayRoute: deleteTransitGatewayRoute,
    SearchTransitGatewayRoutes: searchTransitGatewayRoutes,
  },
};
