/**
 * Transit gateways: CreateTransitGateway, DescribeTransitGateways,
 * ModifyTransitGateway, DeleteTransitGateway.
 *
 * Records only: the fabric sends nothing through a transit gateway. A new
 * gateway is `pending` and its default route table (made when the options ask
 * for default association or propagation) too; reconcile/transit-gateways.ts
 * makes them `available`, and `deleting` → `deleted` (its route tables with
 * it). A gateway with attachments that are not deleted, or route tables of its
 * own besides the default one, is not deleted (IncorrectState).
 */
import type {
  CreateTransitGatewayRequest,
  CreateTransitGatewayResult,
  DeleteTransitGatewayRequest,
  DeleteTransitGatewayResult,
  DescribeTransitGatewaysRequest,
  DescribeTransitGatewaysResult,
  ModifyTransitGatewayRequest,
  ModifyTransitGatewayResult,
  TransitGatewayOptions,
} from '@aws-sdk/client-ec2';
import { isCanonical, overlaps, parseCidr4, parseCidr6, type Cidr4 } from '../../domain/cidr.js';
import { Ec2Error, invalidParameterCombination } from '../../domain/errors.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { checkText, quotable } from '../../domain/text.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { TransitGatewayRecord } from '../../resources/ec2/records.js';
import { tagsByResource } from '../../resources/ec2/tags.js';
import { incorrectState, insertTransitGateway, liveAttachmentsOf, liveRouteTablesOf, requireLive, requireState, tgwRouteTables, transitGateways } from '../../resources/ec2/transit-gateways.js';
import { createTagged, enableDisable, requiredId, tgwOutput, visibleRecords } from './transit-gateway-view.js';

const MAX_DESCRIPTION = 255;
const MAX_CIDR_BLOCKS = 5;
const DEFAULT_ASN = 64512;

function description(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  checkText('Description', v);
  if (v.length > MAX_DESCRIPTION) throw new Ec2Error('InvalidParameterValue', `The description exceeds the maximum length of ${MAX_DESCRIPTION} characters.`);
  return v;
}

/** A private ASN: 64512–65534 (16-bit) or 4200000000–4294967294 (32-bit). */
function amazonSideAsn(v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ok = Number.isInteger(v) && ((v >= 64512 && v <= 65534) || (v >= 4200000000 && v <= 4294967294));
  if (!ok) {
    throw new Ec2Error('InvalidParameterValue', `Value (${v}) for parameter AmazonSideAsn is invalid. Expecting a private ASN in the range 64512-65534 or 4200000000-4294967294.`);
  }
  return v;
}

/** One transit gateway CIDR block: IPv4 /24 or larger, or IPv6 /64 or larger, canonical; its IPv4 form for overlap checks. */
function cidrBlock(s: string): Cidr4 | undefined {
  const bad = () => new Ec2Error('InvalidParameterValue', `The transit gateway CIDR block ${quotable(s)} is invalid: it must be an IPv4 CIDR of /24 or larger or an IPv6 CIDR of /64 or larger.`);
  const v4 = parseCidr4(s);
  if (v4) {
    if (!isCanonical(v4) || v4.prefix > 24) throw bad();
    if (overlaps(v4, parseCidr4('169.254.0.0/16')!)) throw new Ec2Error('InvalidParameterValue', `The transit gateway CIDR block ${s} is in a reserved range (169.254.0.0/16).`);
    return v4;
  }
  const v6 = parseCidr6(s);
  if (!v6 || v6.prefix > 64 || (v6.address & ((1n << BigInt(128 - v6.prefix)) - 1n)) !== 0n) throw bad();
  return undefined;
}

/** The gateway's CIDR blocks: at most five, none overlapping another. */
function cidrBlocks(blocks: readonly string[]): string[] | undefined {
  if (blocks.length === 0) return undefined;
  if (blocks.length > MAX_CIDR_BLOCKS) throw new Ec2Error('TransitGatewayCidrBlockLimitExceeded', `A transit gateway has at most ${MAX_CIDR_BLOCKS} CIDR blocks.`);
  const seen: Cidr4[] = [];
  for (const b of blocks) {
    const c = cidrBlock(b);
    if (blocks.indexOf(b) !== blocks.lastIndexOf(b) || (c && seen.some((o) => overlaps(o, c)))) {
      throw new Ec2Error('InvalidParameterValue', `The transit gateway CIDR block ${b} overlaps another of its CIDR blocks.`);
    }
    if (c) seen.push(c);
  }
  return [...blocks];
}

const createTransitGateway = action((ctx, input: CreateTransitGatewayRequest): CreateTransitGatewayResult => {
  const desc = description(input.Description);
  const o = input.Options ?? {};
  const options: TransitGatewayOptions = {
    AmazonSideAsn: amazonSideAsn(o.AmazonSideAsn) ?? DEFAULT_ASN,
    AutoAcceptSharedAttachments: enableDisable('Options.AutoAcceptSharedAttachments', o.AutoAcceptSharedAttachments, 'disable'),
    DefaultRouteTableAssociation: enableDisable('Options.DefaultRouteTableAssociation', o.DefaultRouteTableAssociation, 'enable'),
    DefaultRouteTablePropagation: enableDisable('Options.DefaultRouteTablePropagation', o.DefaultRouteTablePropagation, 'enable'),
    VpnEcmpSupport: enableDisable('Options.VpnEcmpSupport', o.VpnEcmpSupport, 'enable'),
    DnsSupport: enableDisable('Options.DnsSupport', o.DnsSupport, 'enable'),
    SecurityGroupReferencingSupport: enableDisable('Options.SecurityGroupReferencingSupport', o.SecurityGroupReferencingSupport, 'disable'),
    MulticastSupport: enableDisable('Options.MulticastSupport', o.MulticastSupport, 'disable'),
  };
  const blocks = cidrBlocks(o.TransitGatewayCidrBlocks ?? []);
  if (blocks) options.TransitGatewayCidrBlocks = blocks;
  const { record, tags } = createTagged(ctx, KINDS.transitGateway, input.TagSpecifications, () => insertTransitGateway(ctx, desc, options), (g) => g.TransitGatewayId);
  const defaultTable = record.Options.AssociationDefaultRouteTableId ?? record.Options.PropagationDefaultRouteTableId;
  if (defaultTable !== undefined) ctx.notify(KINDS.transitGatewayRouteTable.name, defaultTable);
  return { TransitGateway: tgwOutput(record, tags) };
});

const TRANSIT_GATEWAY_FILTERS = filterTable<TransitGatewayRecord>('DescribeTransitGateways', {
  'options.propagation-default-route-table-id': 'Options.PropagationDefaultRouteTableId',
  'options.amazon-side-asn': 'Options.AmazonSideAsn',
  'options.association-default-route-table-id': 'Options.AssociationDefaultRouteTableId',
  'options.auto-accept-shared-attachments': 'Options.AutoAcceptSharedAttachments',
  'options.default-route-table-association': 'Options.DefaultRouteTableAssociation',
  'options.default-route-table-propagation': 'Options.DefaultRouteTablePropagation',
  'options.dns-support': 'Options.DnsSupport',
  'options.vpn-ecmp-support': 'Options.VpnEcmpSupport',
  'owner-id': 'OwnerId',
  state: 'State',
  'transit-gateway-id': 'TransitGatewayId',
});

const describeTransitGateways = action((ctx, input: DescribeTransitGatewaysRequest): DescribeTransitGatewaysResult => {
  const records = visibleRecords(ctx, KINDS.transitGateway, input.TransitGatewayIds, (r) => r.TransitGatewayId);
  const tags = tagsByResource(ctx, KINDS.transitGateway.name);
  const filtered = applyFilters(records, input.Filters, TRANSIT_GATEWAY_FILTERS, (r) => tags.get(r.TransitGatewayId));
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { TransitGateways: page.items.map((r) => tgwOutput(r, tags.get(r.TransitGatewayId))), NextToken: page.nextToken };
});

/**
 * One default route table setting after a modify: the flag and its table move
 * together (enable needs a table, given or kept; disable takes none), and a
 * table named must be a live route table of this gateway.
 */
function defaultTable(
  ctx: RequestContext,
  tgw: TransitGatewayRecord,
  what: 'Association' | 'Propagation',
  flag: 'enable' | 'disable' | undefined,
  tableId: string | undefined,
): { flag: 'enable' | 'disable'; tableId: string | undefined } {
  const current = tgw.Options[`DefaultRouteTable${what}`] === 'enable' ? 'enable' : 'disable';
  const currentId = tgw.Options[`${what}DefaultRouteTableId`];
  const next = flag ?? current;
  if (next === 'disable') {
    if (tableId !== undefined) throw invalidParameterCombination(`disable DefaultRouteTable${what} conflicts with ${what}DefaultRouteTableId ${quotable(tableId)}`);
    return { flag: next, tableId: undefined };
  }
  const id = tableId ?? currentId;
  if (id === undefined) throw invalidParameterCombination(`enable DefaultRouteTable${what} conflicts with ${what}DefaultRouteTableId null`);
  if (tableId !== undefined) {
    const table = requireLive(ctx, KINDS.transitGatewayRouteTable, tableId);
    if (table.TransitGatewayId !== tgw.TransitGatewayId) throw KINDS.transitGatewayRouteTable.notFound(tableId);
  }
  return { flag: next, tableId: id };
}

const modifyTransitGateway = action((ctx, input: ModifyTransitGatewayRequest): ModifyTransitGatewayResult => {
  const id = requiredId('TransitGatewayId', input.TransitGatewayId);
  const tgw = requireState(ctx, KINDS.transitGateway, id, ['available']);
  const desc = description(input.Description);
  const o = input.Options ?? {};
  const options: TransitGatewayOptions = { ...tgw.Options };
  const set = <K extends 'AutoAcceptSharedAttachments' | 'VpnEcmpSupport' | 'DnsSupport' | 'SecurityGroupReferencingSupport'>(k: K) => {
    const v = enableDisable(`Options.${k}`, o[k]);
    if (v !== undefined) options[k] = v;
  };
  set('AutoAcceptSharedAttachments');
  set('VpnEcmpSupport');
  set('DnsSupport');
  set('SecurityGroupReferencingSupport');
  const asn = amazonSideAsn(o.AmazonSideAsn);
  if (asn !== undefined && asn !== options.AmazonSideAsn) {
    const attached = liveAttachmentsOf(ctx, id);
    if (attached.length > 0) throw new Ec2Error('IncorrectState', `The AmazonSideAsn of ${id} cannot be changed while it has attachments: ${attached.map((a) => a.TransitGatewayAttachmentId).join(', ')}.`);
    options.AmazonSideAsn = asn;
  }
  const assoc = defaultTable(ctx, tgw, 'Association', enableDisable('Options.DefaultRouteTableAssociation', o.DefaultRouteTableAssociation), o.AssociationDefaultRouteTableId);
  const prop = defaultTable(ctx, tgw, 'Propagation', enableDisable('Options.DefaultRouteTablePropagation', o.DefaultRouteTablePropagation), o.PropagationDefaultRouteTableId);
  options.DefaultRouteTableAssociation = assoc.flag;
  options.DefaultRouteTablePropagation = prop.flag;
  if (assoc.tableId !== undefined) options.AssociationDefaultRouteTableId = assoc.tableId;
  else delete options.AssociationDefaultRouteTableId;
  if (prop.tableId !== undefined) options.PropagationDefaultRouteTableId = prop.tableId;
  else delete options.PropagationDefaultRouteTableId;
  const removed = new Set(o.RemoveTransitGatewayCidrBlocks ?? []);
  for (const r of removed) {
    if (!(options.TransitGatewayCidrBlocks ?? []).includes(r)) throw new Ec2Error('InvalidParameterValue', `The transit gateway CIDR block ${quotable(r)} is not a CIDR block of ${id}.`);
  }
  const blocks = cidrBlocks([...(options.TransitGatewayCidrBlocks ?? []).filter((b) => !removed.has(b)), ...(o.AddTransitGatewayCidrBlocks ?? [])]);
  if (blocks) options.TransitGatewayCidrBlocks = blocks;
  else delete options.TransitGatewayCidrBlocks;
  for (const table of liveRouteTablesOf(ctx, id)) {
    const isAssoc = table.TransitGatewayRouteTableId === assoc.tableId;
    const isProp = table.TransitGatewayRouteTableId === prop.tableId;
    if (table.DefaultAssociationRouteTable === isAssoc && table.DefaultPropagationRouteTable === isProp) continue;
    tgwRouteTables(ctx).put(ctx.region, table.TransitGatewayRouteTableId, { ...table, DefaultAssociationRouteTable: isAssoc, DefaultPropagationRouteTable: isProp });
  }
  const next: TransitGatewayRecord = { ...tgw, Options: options, State: 'modifying' };
  if (desc !== undefined) next.Description = desc;
  transitGateways(ctx).put(ctx.region, id, next);
  ctx.notify(KINDS.transitGateway.name, id);
  return { TransitGateway: tgwOutput(next, ctx.store.tags.forResource(ctx.region, id)) };
});

const deleteTransitGateway = action((ctx, input: DeleteTransitGatewayRequest): DeleteTransitGatewayResult => {
  const id = requiredId('TransitGatewayId', input.TransitGatewayId);
  const tgw = requireLive(ctx, KINDS.transitGateway, id);
  if (tgw.State === 'deleting') throw incorrectState(id, tgw.State);
  const attachments = liveAttachmentsOf(ctx, id);
  const peering = attachments.filter((a) => a.ResourceType === 'peering');
  if (peering.length > 0) {
    throw new Ec2Error('IncorrectState', `${id} has non-deleted Transit Gateway Cross Region Peering Attachments: ${peering.map((a) => a.TransitGatewayAttachmentId).join(', ')}.`);
  }
  if (attachments.length > 0) {
    throw new Ec2Error('IncorrectState', `${id} has non-deleted Transit Gateway Attachments: ${attachments.map((a) => a.TransitGatewayAttachmentId).join(', ')}.`);
  }
  const defaults = new Set([tgw.Options.AssociationDefaultRouteTableId, tgw.Options.PropagationDefaultRouteTableId]);
  const others = liveRouteTablesOf(ctx, id).filter((t) => !defaults.has(t.TransitGatewayRouteTableId));
  if (others.length > 0) {
    throw new Ec2Error('IncorrectState', `${id} has non-deleted Transit Gateway Route Tables: ${others.map((t) => t.TransitGatewayRouteTableId).join(', ')}.`);
  }
  const next: TransitGatewayRecord = { ...tgw, State: 'deleting' };
  transitGateways(ctx).put(ctx.region, id, next);
  ctx.notify(KINDS.transitGateway.name, id);
  return { TransitGateway: tgwOutput(next, ctx.store.tags.forResource(ctx.region, id)) };
});

export const transitGatewaysModule: ApiModule = {
  actions: {
    CreateTransitGateway: createTransitGateway,
    DescribeTransitGateways: describeTransitGateways,
    ModifyTransitGateway: modifyTransitGateway,
    DeleteTransitGateway: deleteTransitGateway,
  },
};
