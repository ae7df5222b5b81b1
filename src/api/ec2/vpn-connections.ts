/**
 * Site-to-Site VPN connections: CreateVpnConnection, DescribeVpnConnections,
 * DeleteVpnConnection, CreateVpnConnectionRoute, DeleteVpnConnectionRoute,
 * ModifyVpnConnection.
 *
 * A connection joins a customer gateway to a virtual private gateway or a
 * transit gateway, with two tunnels (outside addresses, inside /30s,
 * pre-shared keys) written out in CustomerGatewayConfiguration and reported
 * DOWN in VgwTelemetry: records only, no IPsec runs. A transit gateway is
 * looked up through the kinds registry (prefix `tgw`): while no kind holds
 * transit gateways, no transit gateway id exists. States go pending →
 * available and deleting → deleted, static routes pending → available,
 * through reconcile/record-states.ts; a route table propagating the virtual
 * private gateway shows the available static routes.
 */
import type {
  CreateVpnConnectionRequest,
  CreateVpnConnectionResult,
  CreateVpnConnectionRouteRequest,
  DeleteVpnConnectionRequest,
  DeleteVpnConnectionRouteRequest,
  DescribeVpnConnectionsRequest,
  DescribeVpnConnectionsResult,
  ModifyVpnConnectionRequest,
  ModifyVpnConnectionResult,
  TunnelOption,
  VpnConnection,
  VpnTunnelOptionsSpecification,
} from '@aws-sdk/client-ec2';
import { cidrToString, isCanonical, parseCidr4 } from '../../domain/cidr.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { filterTable } from '../../domain/filters.js';
import { newId } from '../../domain/ids.js';
import { quotable } from '../../domain/text.js';
import {
  amazonOutsideAddresses,
  checkChoice,
  checkInsideCidr,
  checkPreSharedKey,
  checkRange,
  customerGatewayConfiguration,
  newPreSharedKey,
  pickInsideCidr,
  TUNNELS_PER_CONNECTION,
} from '../../domain/vpn-tunnels.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { kindOfPrefix, KINDS, type Ec2Kind } from '../../resources/ec2/kinds.js';
import { isGone } from '../../resources/ec2/record-lifecycles.js';
import type { CustomerGatewayRecord, VpnConnectionRecord } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { describeStored, insertStored, saveStored } from './stored-records.js';
import { tagSpecificationTags, tagsField } from './tags.js';

/** Tunnel options Overcast records; the others (algorithms, IKE versions, logs…) are refused. */
const TUNNEL_KEYS = new Set(['TunnelInsideCidr', 'PreSharedKey', 'Phase1LifetimeSeconds', 'Phase2LifetimeSeconds', 'DPDTimeoutSeconds', 'DPDTimeoutAction', 'StartupAction']);

function toOutput(c: VpnConnectionRecord, tags: Tag[] | undefined): VpnConnection {
  const { deletedAt: _d, VgwTelemetry, ...rest } = c;
  return {
    ...rest,
    VgwTelemetry: VgwTelemetry.map((v) => ({ ...v, LastStatusChange: v.LastStatusChange as unknown as Date })),
    Tags: tagsField(tags),
  };
}

function requireLive<T extends { deletedAt?: number; State: string }>(ctx: RequestContext, kind: Ec2Kind<T>, id: string | undefined, parameter: string): T {
  if (id === undefined || id === '') throw missingParameter(parameter);
  const r = requireResource(ctx, kind, id);
  if (isGone(r) || r.State === 'deleting') throw kind.notFound(id);
  return r;
}

/** A transit gateway through the kinds registry (`tgw-…`): none exists while no kind holds them. */
function requireTransitGateway(ctx: RequestContext, id: string): string {
  if (!/^tgw-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(id)) throw new Ec2Error('InvalidTransitGatewayID.Malformed', `Invalid id: "${quotable(id)}" (expecting "tgw-...")`);
  const kind = kindOfPrefix('tgw');
  if (kind === undefined || ctx.store.collection(kind as Ec2Kind<unknown>).get(ctx.region, id) === undefined) {
    throw new Ec2Error('InvalidTransitGatewayID.NotFound', `Transit Gateway ${id} was deleted or does not exist.`);
  }
  return id;
}

/** The gateway on the Amazon side: exactly one of VpnGatewayId, TransitGatewayId. */
function amazonSide(ctx: RequestContext, input: Pick<CreateVpnConnectionRequest, 'VpnGatewayId' | 'TransitGatewayId' | 'VpnConcentratorId'>): { VpnGatewayId?: string; TransitGatewayId?: string; asn?: number } {
  if (input.VpnConcentratorId !== undefined) throw new Ec2Error('UnsupportedOperation', 'VPN concentrators are not supported.');
  if (input.VpnGatewayId !== undefined && input.TransitGatewayId !== undefined) throw invalidParameterCombination('Specify either VpnGatewayId or TransitGatewayId, not both.');
  if (input.TransitGatewayId !== undefined) return { TransitGatewayId: requireTransitGateway(ctx, input.TransitGatewayId) };
  if (input.VpnGatewayId === undefined) throw new Ec2Error('MissingParameter', 'The request must contain the parameter VpnGatewayId or TransitGatewayId');
  const g = requireLive(ctx, KINDS.vpnGateway, input.VpnGatewayId, 'VpnGatewayId');
  return { VpnGatewayId: g.VpnGatewayId, asn: g.AmazonSideAsn };
}

function cidrOption(name: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const c = parseCidr4(v);
  if (!c || !isCanonical(c)) throw new Ec2Error('InvalidParameterValue', `Value (${quotable(v)}) for parameter ${name} is invalid. This is not a valid CIDR block.`);
  return cidrToString(c);
}

/** The tunnels' recorded options, checked as EC2 checks them (distinct inside CIDRs and keys given or made). */
function tunnels(specs: readonly VpnTunnelOptionsSpecification[] | undefined): TunnelOption[] {
  const given = specs ?? [];
  if (given.length > TUNNELS_PER_CONNECTION) throw new Ec2Error('InvalidParameterValue', `At most ${TUNNELS_PER_CONNECTION} tunnel options may be specified.`);
  const taken = new Set<string>();
  const out: TunnelOption[] = [];
  const outside = amazonOutsideAddresses();
  for (let i = 0; i < TUNNELS_PER_CONNECTION; i++) {
    const s = given[i] ?? {};
    for (const [k, v] of Object.entries(s)) {
      if (v !== undefined && !TUNNEL_KEYS.has(k)) throw new Ec2Error('UnsupportedOperation', `The tunnel option ${k} is not supported: Overcast records inside CIDRs, pre-shared keys, lifetimes and dead peer detection only.`);
    }
    const inside = s.TunnelInsideCidr !== undefined ? checkInsideCidr(s.TunnelInsideCidr) : undefined;
    if (inside !== undefined && taken.has(inside)) throw new Ec2Error('InvalidParameterValue', `The tunnel inside CIDR ${inside} is used by both tunnels.`);
    if (inside !== undefined) taken.add(inside);
    const opt: TunnelOption = {
      OutsideIpAddress: outside[i],
      ...(inside !== undefined ? { TunnelInsideCidr: inside } : {}),
      PreSharedKey: s.PreSharedKey !== undefined ? checkPreSharedKey(s.PreSharedKey) : newPreSharedKey(),
    };
    const p1 = checkRange('Phase1LifetimeSeconds', s.Phase1LifetimeSeconds, 900, 28_800);
    const p2 = checkRange('Phase2LifetimeSeconds', s.Phase2LifetimeSeconds, 900, 3600);
    if (p1 !== undefined && p2 !== undefined && p2 >= p1) throw new Ec2Error('InvalidParameterValue', 'Phase2LifetimeSeconds must be less than Phase1LifetimeSeconds.');
    const dpd = checkRange('DPDTimeoutSeconds', s.DPDTimeoutSeconds, 30, 3600);
    const dpdAction = checkChoice('DPDTimeoutAction', s.DPDTimeoutAction, ['clear', 'none', 'restart']);
    const startup = checkChoice('StartupAction', s.StartupAction, ['add', 'start']);
    out.push({
      ...opt,
      Phase1LifetimeSeconds: p1 ?? 28_800,
      Phase2LifetimeSeconds: p2 ?? 3600,
      DpdTimeoutSeconds: dpd ?? 30,
      DpdTimeoutAction: dpdAction ?? 'clear',
      StartupAction: startup ?? 'add',
    });
  }
  for (const t of out) {
    if (t.TunnelInsideCidr === undefined) {
      t.TunnelInsideCidr = pickInsideCidr(taken);
      taken.add(t.TunnelInsideCidr);
    }
  }
  return out;
}

function configuration(c: Pick<VpnConnectionRecord, 'VpnConnectionId' | 'CustomerGatewayId' | 'VpnGatewayId' | 'TransitGatewayId' | 'Options'>, cgw: CustomerGatewayRecord, amazonAsn: number | undefined): string {
  return customerGatewayConfiguration({
    vpnConnectionId: c.VpnConnectionId,
    customerGatewayId: c.CustomerGatewayId,
    gatewayId: (c.VpnGatewayId ?? c.TransitGatewayId)!,
    customerGatewayAddress: cgw.IpAddress ?? '',
    customerAsn: cgw.BgpAsn ?? '65000',
    amazonAsn,
    staticRoutesOnly: c.Options?.StaticRoutesOnly === true,
    tunnels: (c.Options?.TunnelOptions ?? []).map((t) => ({ outsideAddress: t.OutsideIpAddress!, insideCidr: t.TunnelInsideCidr!, preSharedKey: t.PreSharedKey! })),
  });
}

const createVpnConnection = action((ctx, input: CreateVpnConnectionRequest): CreateVpnConnectionResult => {
  if (input.Type === undefined) throw missingParameter('Type');
  if (input.Type !== 'ipsec.1') throw new Ec2Error('InvalidParameterValue', `Value (${quotable(input.Type)}) for parameter type is invalid. Valid values are: ipsec.1.`);
  const cgw = requireLive(ctx, KINDS.customerGateway, input.CustomerGatewayId, 'CustomerGatewayId');
  const side = amazonSide(ctx, input);
  const o = input.Options ?? {};
  if (input.PreSharedKeyStorage !== undefined && input.PreSharedKeyStorage !== 'Standard') {
    throw new Ec2Error('UnsupportedOperation', 'PreSharedKeyStorage SecretsManager is not supported: Overcast has no Secrets Manager.');
  }
  if (o.EnableAcceleration === true && side.TransitGatewayId === undefined) throw invalidParameterCombination('Acceleration is only supported for VPN connections to a transit gateway.');
  if (o.TunnelInsideIpVersion !== undefined && o.TunnelInsideIpVersion !== 'ipv4') throw new Ec2Error('UnsupportedOperation', 'IPv6 inside tunnels are not supported.');
  if (o.LocalIpv6NetworkCidr !== undefined || o.RemoteIpv6NetworkCidr !== undefined) throw new Ec2Error('UnsupportedOperation', 'IPv6 traffic selectors are not supported.');
  if (o.OutsideIpAddressType !== undefined && o.OutsideIpAddressType !== 'PublicIpv4') throw new Ec2Error('UnsupportedOperation', `OutsideIpAddressType ${quotable(o.OutsideIpAddressType)} is not supported: only PublicIpv4.`);
  if (o.TransportTransitGatewayAttachmentId !== undefined) throw new Ec2Error('UnsupportedOperation', 'Private IP VPNs over Direct Connect are not supported.');
  if (o.TunnelBandwidth !== undefined && o.TunnelBandwidth !== 'standard') throw new Ec2Error('UnsupportedOperation', `TunnelBandwidth ${quotable(String(o.TunnelBandwidth))} is not supported: only standard.`);
  const local = cidrOption('LocalIpv4NetworkCidr', o.LocalIpv4NetworkCidr) ?? '0.0.0.0/0';
  const remote = cidrOption('RemoteIpv4NetworkCidr', o.RemoteIpv4NetworkCidr) ?? '0.0.0.0/0';
  const tunnelOptions = tunnels(o.TunnelOptions);
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.vpnConnection.name]).get(KINDS.vpnConnection.name) ?? [];
  const id = newId(KINDS.vpnConnection.prefix);
  const now = ctx.now.toISOString();
  const record: VpnConnectionRecord = {
    VpnConnectionId: id,
    CustomerGatewayId: cgw.CustomerGatewayId,
    ...(side.VpnGatewayId !== undefined ? { VpnGatewayId: side.VpnGatewayId } : { TransitGatewayId: side.TransitGatewayId }),
    Type: 'ipsec.1',
    Category: 'VPN',
    State: 'pending',
    GatewayAssociationState: 'associated',
    Options: {
      EnableAcceleration: o.EnableAcceleration ?? false,
      StaticRoutesOnly: o.StaticRoutesOnly ?? false,
      LocalIpv4NetworkCidr: local,
      RemoteIpv4NetworkCidr: remote,
      OutsideIpAddressType: 'PublicIpv4',
      TunnelInsideIpVersion: 'ipv4',
      TunnelOptions: tunnelOptions,
    },
    Routes: [],
    VgwTelemetry: tunnelOptions.map((t) => ({ OutsideIpAddress: t.OutsideIpAddress, Status: 'DOWN', StatusMessage: '', LastStatusChange: now, AcceptedRouteCount: 0 })),
  };
  record.CustomerGatewayConfiguration = configuration(record, cgw, side.asn);
  insertStored(ctx, KINDS.vpnConnection, id, record, tags);
  return { VpnConnection: toOutput(record, tags) };
});

/** The bgp-asn filter reads the customer gateway's ASN. */
interface FilterWorld {
  asnOf: ReadonlyMap<string, string>;
}

const VPN_CONNECTION_FILTERS = filterTable<VpnConnectionRecord, FilterWorld>('DescribeVpnConnections', {
  'customer-gateway-configuration': 'CustomerGatewayConfiguration',
  'customer-gateway-id': 'CustomerGatewayId',
  state: 'State',
  'option.static-routes-only': 'Options.StaticRoutesOnly',
  'route.destination-cidr-block': 'Routes.DestinationCidrBlock',
  'bgp-asn': (c, w) => w.asnOf.get(c.CustomerGatewayId) ?? [],
  type: 'Type',
  'vpn-connection-id': 'VpnConnectionId',
  'vpn-gateway-id': 'VpnGatewayId',
  'transit-gateway-id': 'TransitGatewayId',
});

const describeVpnConnections = action((ctx, input: DescribeVpnConnectionsRequest): DescribeVpnConnectionsResult => {
  const world: FilterWorld = { asnOf: new Map(ctx.store.collection(KINDS.customerGateway).list(ctx.region).map((g) => [g.CustomerGatewayId, g.BgpAsn ?? ''])) };
  const { records, tags } = describeStored(ctx, KINDS.vpnConnection, (c) => c.VpnConnectionId, input.VpnConnectionIds, input.Filters, VPN_CONNECTION_FILTERS, world);
  return { VpnConnections: records.map((c) => toOutput(c, tags.get(c.VpnConnectionId))) };
});

function save(ctx: RequestContext, c: VpnConnectionRecord): void {
  saveStored(ctx, KINDS.vpnConnection, c.VpnConnectionId, c);
}

const deleteVpnConnection = action((ctx, input: DeleteVpnConnectionRequest) => {
  if (input.VpnConnectionId === undefined || input.VpnConnectionId === '') throw missingParameter('VpnConnectionId');
  const c = requireResource(ctx, KINDS.vpnConnection, input.VpnConnectionId);
  if (isGone(c)) throw KINDS.vpnConnection.notFound(c.VpnConnectionId);
  if (c.State !== 'deleting') save(ctx, { ...c, State: 'deleting' });
  return {};
});

/** A connection whose static routes may change: live, to a virtual private gateway, static. */
function staticConnection(ctx: RequestContext, id: string | undefined, cidr: string | undefined): { c: VpnConnectionRecord; cidr: string } {
  const c = requireLive(ctx, KINDS.vpnConnection, id, 'VpnConnectionId');
  if (cidr === undefined || cidr === '') throw missingParameter('DestinationCidrBlock');
  const parsed = cidrOption('DestinationCidrBlock', cidr)!;
  if (c.TransitGatewayId !== undefined) throw new Ec2Error('InvalidParameterValue', `The VPN connection ${c.VpnConnectionId} is attached to a transit gateway: its routes are in the transit gateway's route tables.`);
  if (c.Options?.StaticRoutesOnly !== true) throw new Ec2Error('InvalidParameterValue', `The VPN connection ${c.VpnConnectionId} uses BGP: static routes need StaticRoutesOnly.`);
  return { c, cidr: parsed };
}

const createVpnConnectionRoute = action((ctx, input: CreateVpnConnectionRouteRequest) => {
  const { c, cidr } = staticConnection(ctx, input.VpnConnectionId, input.DestinationCidrBlock);
  const existing = c.Routes.find((r) => r.DestinationCidrBlock === cidr);
  if (existing && existing.State !== 'deleting') throw new Ec2Error('RouteAlreadyExists', `The route identified by ${cidr} already exists.`);
  const routes = c.Routes.filter((r) => r.DestinationCidrBlock !== cidr);
  save(ctx, { ...c, Routes: [...routes, { DestinationCidrBlock: cidr, Source: 'Static', State: 'pending' }] });
  return {};
});

const deleteVpnConnectionRoute = action((ctx, input: DeleteVpnConnectionRouteRequest) => {
  const { c, cidr } = staticConnection(ctx, input.VpnConnectionId, input.DestinationCidrBlock);
  const existing = c.Routes.find((r) => r.DestinationCidrBlock === cidr);
  if (!existing || existing.State === 'deleting') throw new Ec2Error('InvalidRoute.NotFound', `no route with destination-cidr-block ${cidr} in VPN connection ${c.VpnConnectionId}`);
  save(ctx, { ...c, Routes: c.Routes.map((r) => (r.DestinationCidrBlock === cidr ? { ...r, State: 'deleting' as const } : r)) });
  return {};
});

const modifyVpnConnection = action((ctx, input: ModifyVpnConnectionRequest): ModifyVpnConnectionResult => {
  const c = requireLive(ctx, KINDS.vpnConnection, input.VpnConnectionId, 'VpnConnectionId');
  const given = [input.CustomerGatewayId, input.VpnGatewayId, input.TransitGatewayId].filter((v) => v !== undefined);
  if (given.length === 0) throw new Ec2Error('MissingParameter', 'The request must contain one of CustomerGatewayId, VpnGatewayId or TransitGatewayId');
  if (given.length > 1) throw invalidParameterCombination('Only one of CustomerGatewayId, VpnGatewayId and TransitGatewayId may be changed at a time.');
  if (c.GatewayAssociationState === 'associating') throw new Ec2Error('IncorrectState', `The VPN connection ${c.VpnConnectionId} is being modified.`);
  const next: VpnConnectionRecord = structuredClone(c);
  let cgw = requireResource(ctx, KINDS.customerGateway, c.CustomerGatewayId);
  let asn: number | undefined = c.VpnGatewayId !== undefined ? ctx.store.collection(KINDS.vpnGateway).get(ctx.region, c.VpnGatewayId)?.AmazonSideAsn : undefined;
  if (input.CustomerGatewayId !== undefined) {
    cgw = requireLive(ctx, KINDS.customerGateway, input.CustomerGatewayId, 'CustomerGatewayId');
    next.CustomerGatewayId = cgw.CustomerGatewayId;
  } else {
    const side = amazonSide(ctx, input);
    if (side.TransitGatewayId === undefined && c.Options?.EnableAcceleration === true) throw invalidParameterCombination('An accelerated VPN connection stays on a transit gateway.');
    delete next.VpnGatewayId;
    delete next.TransitGatewayId;
    if (side.VpnGatewayId !== undefined) next.VpnGatewayId = side.VpnGatewayId;
    else next.TransitGatewayId = side.TransitGatewayId;
    // static routes belong to the virtual private gateway they were made for
    if (side.TransitGatewayId !== undefined) next.Routes = [];
    asn = side.asn;
  }
  next.GatewayAssociationState = 'associating';
  next.CustomerGatewayConfiguration = configuration(next, cgw, asn);
  save(ctx, next);
  return { VpnConnection: toOutput(next, ctx.store.tags.forResource(ctx.region, c.VpnConnectionId)) };
});

export const vpnConnectionsModule: ApiModule = {
  actions: {
    CreateVpnConnection: createVpnConnection,
    DescribeVpnConnections: describeVpnConnections,
    DeleteVpnConnection: deleteVpnConnection,
    CreateVpnConnectionRoute: createVpnConnectionRoute,
    DeleteVpnConnectionRoute: deleteVpnConnectionRoute,
    ModifyVpnConnection: modifyVpnConnection,
  },
};
