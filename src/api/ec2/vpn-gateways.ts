/**
 * Virtual private gateways: CreateVpnGateway, DescribeVpnGateways,
 * DeleteVpnGateway, AttachVpnGateway, DetachVpnGateway,
 * EnableVgwRoutePropagation, DisableVgwRoutePropagation.
 *
 * A gateway is attached to at most one VPC and a VPC has at most one gateway;
 * an attachment goes attaching → attached and detaching → detached, the
 * gateway pending → available and deleting → deleted, through
 * reconcile/record-states.ts. Routes may go through an attached gateway
 * (CreateRoute GatewayId vgw-…) and a route table may propagate its VPN
 * connections' static routes (PropagatingVgws). Records only: no tunnel is
 * brought up.
 */
import type {
  AttachVpnGatewayRequest,
  AttachVpnGatewayResult,
  CreateVpnGatewayRequest,
  CreateVpnGatewayResult,
  DeleteVpnGatewayRequest,
  DescribeVpnGatewaysRequest,
  DescribeVpnGatewaysResult,
  DetachVpnGatewayRequest,
  DisableVgwRoutePropagationRequest,
  EnableVgwRoutePropagationRequest,
  VpnGateway,
} from '@aws-sdk/client-ec2';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { filterTable } from '../../domain/filters.js';
import { newId } from '../../domain/ids.js';
import { findZone } from '../../domain/regions.js';
import { quotable } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { isGone } from '../../resources/ec2/record-lifecycles.js';
import type { VpnGatewayRecord } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { save as saveRouteTable } from '../../resources/ec2/route-tables.js';
import { describeStored, insertStored, saveStored } from './stored-records.js';
import { liveAttachment, stopPropagation, vpnGatewayOfVpc } from '../../resources/ec2/vpn-gateways.js';
import { connectionsUsing } from '../../resources/ec2/vpn-connections.js';
import { tagSpecificationTags, tagsField } from './tags.js';

/** The Amazon side ASN a gateway gets when none is given. */
const DEFAULT_AMAZON_ASN = 64512;

function toOutput(g: VpnGatewayRecord, tags: Tag[] | undefined): VpnGateway {
  const { deletedAt: _d, ...rest } = g;
  return { ...rest, Tags: tagsField(tags) };
}

/** A private ASN: 64512–65534, or 4200000000–4294967294. */
function amazonSideAsn(v: number | undefined): number {
  if (v === undefined) return DEFAULT_AMAZON_ASN;
  if (Number.isInteger(v) && ((v >= 64512 && v <= 65534) || (v >= 4_200_000_000 && v <= 4_294_967_294))) return v;
  throw new Ec2Error('InvalidParameterValue', `Value (${v}) for parameter amazonSideAsn is invalid. The ASN must be in the private range 64512-65534 or 4200000000-4294967294.`);
}

function requireGateway(ctx: RequestContext, id: string | undefined, parameter = 'VpnGatewayId'): VpnGatewayRecord {
  if (id === undefined || id === '') throw missingParameter(parameter);
  const g = requireResource(ctx, KINDS.vpnGateway, id);
  if (isGone(g)) throw KINDS.vpnGateway.notFound(id);
  return g;
}

function requireVpcId(id: string | undefined): string {
  if (id === undefined || id === '') throw missingParameter('VpcId');
  return id;
}

function save(ctx: RequestContext, g: VpnGatewayRecord): void {
  saveStored(ctx, KINDS.vpnGateway, g.VpnGatewayId, g);
}

const createVpnGateway = action((ctx, input: CreateVpnGatewayRequest): CreateVpnGatewayResult => {
  if (input.Type === undefined) throw missingParameter('Type');
  if (input.Type !== 'ipsec.1') throw new Ec2Error('InvalidParameterValue', `Value (${quotable(input.Type)}) for parameter type is invalid. Valid values are: ipsec.1.`);
  const asn = amazonSideAsn(input.AmazonSideAsn);
  const zone = input.AvailabilityZone;
  if (zone !== undefined && findZone(zone)?.RegionName !== ctx.region) {
    throw new Ec2Error('InvalidParameterValue', `Invalid availability zone: [${quotable(zone)}]`);
  }
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.vpnGateway.name]).get(KINDS.vpnGateway.name) ?? [];
  const record: VpnGatewayRecord = {
    VpnGatewayId: newId(KINDS.vpnGateway.prefix),
    State: 'pending',
    Type: 'ipsec.1',
    AmazonSideAsn: asn,
    VpcAttachments: [],
    ...(zone !== undefined ? { AvailabilityZone: zone } : {}),
  };
  insertStored(ctx, KINDS.vpnGateway, record.VpnGatewayId, record, tags);
  return { VpnGateway: toOutput(record, tags) };
});

const VPN_GATEWAY_FILTERS = filterTable<VpnGatewayRecord>('DescribeVpnGateways', {
  'amazon-side-asn': 'AmazonSideAsn',
  'attachment.state': 'VpcAttachments.State',
  'attachment.vpc-id': 'VpcAttachments.VpcId',
  'availability-zone': 'AvailabilityZone',
  state: 'State',
  type: 'Type',
  'vpn-gateway-id': 'VpnGatewayId',
});

const describeVpnGateways = action((ctx, input: DescribeVpnGatewaysRequest): DescribeVpnGatewaysResult => {
  const { records, tags } = describeStored(ctx, KINDS.vpnGateway, (g) => g.VpnGatewayId, input.VpnGatewayIds, input.Filters, VPN_GATEWAY_FILTERS);
  return { VpnGateways: records.map((g) => toOutput(g, tags.get(g.VpnGatewayId))) };
});

const attachVpnGateway = action((ctx, input: AttachVpnGatewayRequest): AttachVpnGatewayResult => {
  const g = requireGateway(ctx, input.VpnGatewayId);
  const vpc = requireResource(ctx, KINDS.vpc, requireVpcId(input.VpcId));
  if (g.State === 'deleting') throw new Ec2Error('IncorrectState', `The vpnGateway '${g.VpnGatewayId}' is being deleted.`);
  const current = liveAttachment(g);
  if (current) {
    throw new Ec2Error('VpnGatewayAttachmentLimitExceeded', `The VPN gateway ${g.VpnGatewayId} is already attached to ${current.VpcId}: a VPN gateway is attached to one VPC at a time.`);
  }
  const other = vpnGatewayOfVpc(ctx, vpc.VpcId);
  // EC2's InvalidVpcState: "The specified VPC already has a virtual private gateway attached to it."
  if (other) throw new Ec2Error('InvalidVpcState', `The VPC ${vpc.VpcId} already has a virtual private gateway attached to it (${other.VpnGatewayId}).`);
  const attachment = { VpcId: vpc.VpcId, State: 'attaching' as const };
  save(ctx, { ...g, VpcAttachments: [attachment] });
  return { VpcAttachment: attachment };
});

const detachVpnGateway = action((ctx, input: DetachVpnGatewayRequest) => {
  const g = requireGateway(ctx, input.VpnGatewayId);
  const vpcId = requireVpcId(input.VpcId);
  requireResource(ctx, KINDS.vpc, vpcId);
  const current = liveAttachment(g);
  if (!current || current.VpcId !== vpcId || current.State === 'detaching') {
    throw new Ec2Error('InvalidVpnGatewayAttachment.NotFound', `The attachment with vpn gateway ID '${g.VpnGatewayId}' and vpc ID '${vpcId}' does not exist`);
  }
  stopPropagation(ctx, g.VpnGatewayId, vpcId);
  save(ctx, { ...g, VpcAttachments: [{ VpcId: vpcId, State: 'detaching' }] });
  return {};
});

const deleteVpnGateway = action((ctx, input: DeleteVpnGatewayRequest) => {
  const g = requireGateway(ctx, input.VpnGatewayId);
  const attached = liveAttachment(g);
  if (attached) throw new Ec2Error('IncorrectState', `The vpnGateway '${g.VpnGatewayId}' is attached to ${attached.VpcId} and cannot be deleted.`);
  const vpn = connectionsUsing(ctx, g.VpnGatewayId)[0];
  if (vpn) throw new Ec2Error('IncorrectState', `The vpnGateway '${g.VpnGatewayId}' is in use by the VPN connection ${vpn.VpnConnectionId}.`);
  if (g.State !== 'deleting') save(ctx, { ...g, State: 'deleting' });
  return {};
});

/** The table and the gateway of a propagation call; the gateway must be attached to the table's VPC. */
function propagation(ctx: RequestContext, input: EnableVgwRoutePropagationRequest) {
  if (input.RouteTableId === undefined || input.RouteTableId === '') throw missingParameter('RouteTableId');
  const table = requireResource(ctx, KINDS.routeTable, input.RouteTableId);
  const g = requireGateway(ctx, input.GatewayId, 'GatewayId');
  return { table, g };
}

const enableVgwRoutePropagation = action((ctx, input: EnableVgwRoutePropagationRequest) => {
  const { table, g } = propagation(ctx, input);
  const a = liveAttachment(g);
  if (!a || a.VpcId !== table.VpcId || a.State === 'detaching') throw new Ec2Error('Gateway.NotAttached', `resource ${g.VpnGatewayId} is not attached to network ${table.VpcId}`);
  const vgws = table.PropagatingVgws ?? [];
  if (!vgws.some((p) => p.GatewayId === g.VpnGatewayId)) saveRouteTable(ctx, { ...table, PropagatingVgws: [...vgws, { GatewayId: g.VpnGatewayId }] });
  return {};
});

const disableVgwRoutePropagation = action((ctx, input: DisableVgwRoutePropagationRequest) => {
  const { table, g } = propagation(ctx, input);
  const vgws = table.PropagatingVgws ?? [];
  if (!vgws.some((p) => p.GatewayId === g.VpnGatewayId)) {
    throw new Ec2Error('InvalidParameterValue', `The route table ${table.RouteTableId} does not propagate routes from ${g.VpnGatewayId}.`);
  }
  saveRouteTable(ctx, { ...table, PropagatingVgws: vgws.filter((p) => p.GatewayId !== g.VpnGatewayId) });
  return {};
});

export const vpnGatewaysModule: ApiModule = {
  actions: {
    CreateVpnGateway: createVpnGateway,
    DescribeVpnGateways: describeVpnGateways,
    DeleteVpnGateway: deleteVpnGateway,
    AttachVpnGateway: attachVpnGateway,
    DetachVpnGateway: detachVpnGateway,
    EnableVgwRoutePropagation: enableVgwRoutePropagation,
    DisableVgwRoutePropagation: disableVgwRoutePropagation,
  },
};
