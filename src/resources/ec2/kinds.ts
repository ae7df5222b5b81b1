/**
 * Every kind of EC2 resource Overcast stores, in one table: the store's kind
 * name (= the tag ResourceType), the id prefix, the record type, EC2's errors
 * for a malformed or unknown id, and what the schema keeps unique. Everything
 * that asks "which collection holds this id?" or "does it exist?" asks here.
 */
import { parseCidr4 } from '../../domain/cidr.js';
import { Ec2Error } from '../../domain/errors.js';
import { kind, type KindSpec } from '../../store/kind.js';
import type {
  AddressRecord,
  CapacityReservationRecord,
  DhcpOptionsRecord,
  EgressOnlyInternetGatewayRecord,
  FlowLogRecord,
  HostRecord,
  ImageRecord,
  InternetGatewayRecord,
  KeyPairRecord,
  LaunchTemplateRecord,
  NatGatewayRecord,
  NetworkAclRecord,
  NetworkInterfaceRecord,
  NetworkInterfacePermissionRecord,
  PlacementGroupRecord,
  PrefixListRecord,
  RouteTableRecord,
  SecurityGroupRecord,
  SecurityGroupRuleRecord,
  SnapshotRecord,
  StoredInstance,
  SubnetRecord,
  SubnetCidrReservationRecord,
  VolumeRecord,
  VpcPeeringConnectionRecord,
  VpcRecord,
  TransitGatewayAttachmentRecord,
  TransitGatewayRecord,
  TransitGatewayRouteTableRecord,
} from './records.js';
import type { CarrierGatewayRecord, CustomerGatewayRecord, VpnConnectionRecord, VpnGatewayRecord, VpcEndpointRecord, VpcEndpointServiceRecord } from './records.js';

export interface Ec2Kind<T> extends KindSpec<T> {
  /** the id prefix (`i`, `vpc`, `eipalloc`…) */
  readonly prefix: string;
  readonly notFound: (id: string) => Ec2Error;
  readonly malformed: (id: string) => Ec2Error;
}

const nf = (code: string, what: string) => (id: string) => new Ec2Error(code, `The ${what} '${id}' does not exist`);
const mal = (code: string, what: string) => (id: string) => new Ec2Error(code, `Invalid id: "${id}" (expecting "${what}")`);

/** [NotFound code, what the message calls it, Malformed code] */
type Codes = readonly [string, string, string];

function ec2Kind<T>(name: string, prefix: string, codes: Codes, extra: Omit<KindSpec<T>, 'name' | '__record'> = {}): Ec2Kind<T> {
  return { ...kind<T>({ name, ...extra }), prefix, notFound: nf(codes[0], codes[1]), malformed: mal(codes[2], `${prefix}-...`) };
}

/** Public IPv4s compete across kinds and regions: one address pool per host. */
const PUBLIC_IP = 'public-ip';

/**
 * The unique spaces the allocators ask the store about (Store.isHeld, heldValues):
 * `public-ip` is global, values are addresses; `private-ip` and `ipv6` are per
 * region, values are `subnetId/address` (IPv6 in canonical text).
 */
export const SPACES = { publicIp: PUBLIC_IP, privateIp: 'private-ip', ipv6: 'ipv6' } as const;

/** The instance index of instances that count against the account limit (every state but terminated). */
export const LIVE_INDEX = 'live';
/** instances not terminated, by placement group name */
export const PLACEMENT_GROUP_INDEX = 'placement-group';
/** instances not terminated, by dedicated host id */
export const HOST_INDEX = 'host';
/** pending and running instances, by the capacity reservation they draw from */
export const CAPACITY_RESERVATION_INDEX = 'capacity-reservation';

/**
 * The instance index of terminated instances by when they terminated: values
 * `<terminatedAt, 16 digits>/<instanceId>`, in time order, so the instances due
 * for purging are found without reading any instance.
 */
export const TERMINATED_INDEX = 'terminated-at';

/** The volume index of the instances a volume is attached to. */
export const ATTACHED_INDEX = 'attached-to';

/**
 * The interface index of `groupId/address` pairs: a group's member addresses
 * (private IPv4 and IPv6), without reading any interface. Named apart from the
 * IPv4-only index it replaced, so a store kept from before rebuilds it.
 */
export const MEMBER_INDEX = 'group-member-address';

const present = (...values: (string | undefined)[]): string[] => values.filter((v): v is string => v !== undefined && v !== '');

/** The launch template index by name (names are unique per region: the 'launch-template-name' space). */
export const LAUNCH_TEMPLATE_NAME_INDEX = 'name';

/** The index of the subnet a record belongs to (subnet CIDR reservations). */
export const SUBNET_INDEX = 'subnet';

export const KINDS = {
  instance: ec2Kind<StoredInstance>('instance', 'i', ['InvalidInstanceID.NotFound', 'instance ID', 'InvalidInstanceID.Malformed'], {
    // counted for the account's instance limit without reading every instance
    indexes: [
      { name: LIVE_INDEX, values: (i) => (i.State?.Name === 'terminated' ? [] : ['1']) },
      // a launch into a placement group, onto a host or from a capacity reservation counts its members
      // without reading every instance of the region
      { name: PLACEMENT_GROUP_INDEX, values: (i) => (i.State?.Name === 'terminated' || i.Placement?.GroupName === undefined ? [] : [i.Placement.GroupName]) },
      { name: HOST_INDEX, values: (i) => (i.State?.Name === 'terminated' || i.Placement?.HostId === undefined ? [] : [i.Placement.HostId]) },
      {
        name: CAPACITY_RESERVATION_INDEX,
        values: (i) => (i.CapacityReservationId !== undefined && (i.State?.Name === 'pending' || i.State?.Name === 'running') ? [i.CapacityReservationId] : []),
      },
      {
        name: TERMINATED_INDEX,
        values: (i) => (i.State?.Name === 'terminated' && i.terminatedAt !== undefined ? [`${String(i.terminatedAt).padStart(16, '0')}/${i.InstanceId}`] : []),
      },
    ],
  }),
  image: ec2Kind<ImageRecord>('image', 'ami', ['InvalidAMIID.NotFound', 'image id', 'InvalidAMIID.Malformed']),
  volume: ec2Kind<VolumeRecord>('volume', 'vol', ['InvalidVolume.NotFound', 'volume', 'InvalidVolumeID.Malformed'], {
    // an instance's volumes without reading every volume; and the device names it uses, kept unique
    indexes: [{ name: ATTACHED_INDEX, values: (v) => (v.attachments ?? []).map((a) => a.InstanceId) }],
    unique: [{ space: 'volume-device', scope: 'region', values: (v) => (v.attachments ?? []).map((a) => `${a.InstanceId}/${a.Device}`) }],
  }),
  snapshot: ec2Kind<SnapshotRecord>('snapshot', 'snap', ['InvalidSnapshot.NotFound', 'snapshot', 'InvalidSnapshotID.Malformed']),
  vpc: ec2Kind<VpcRecord>('vpc', 'vpc', ['InvalidVpcID.NotFound', 'vpc ID', 'InvalidVpcID.Malformed']),
  subnet: ec2Kind<SubnetRecord>('subnet', 'subnet', ['InvalidSubnetID.NotFound', 'subnet ID', 'InvalidSubnetID.Malformed'], {
    // subnets of one VPC never overlap
    ranges: (s) => {
      const c = parseCidr4(s.CidrBlock);
      return c ? [{ scope: s.VpcId, low: c.base, high: c.base + 2 ** (32 - c.prefix) - 1 }] : [];
    },
  }),
  securityGroup: ec2Kind<SecurityGroupRecord>('security-group', 'sg', ['InvalidGroup.NotFound', 'security group', 'InvalidGroupId.Malformed']),
  securityGroupRule: ec2Kind<SecurityGroupRuleRecord>('security-group-rule', 'sgr', [
    'InvalidSecurityGroupRuleId.NotFound',
    'security group rule',
    'InvalidSecurityGroupRuleId.Malformed'
  ]),
  internetGateway: ec2Kind<InternetGatewayRecord>('internet-gateway', 'igw', ['InvalidInternetGatewayID.NotFound', 'internetGateway ID', 'InvalidInternetGatewayID.Malformed']),
  routeTable: ec2Kind<RouteTableRecord>('route-table', 'rtb', ['InvalidRouteTableID.NotFound', 'routeTable ID', 'InvalidRouteTableID.Malformed']),
  elasticIp: ec2Kind<AddressRecord>('elastic-ip', 'eipalloc', ['InvalidAllocationID.NotFound', 'allocation ID', 'InvalidAllocationID.Malformed'], {
    unique: [
      { space: PUBLIC_IP, scope: 'global', values: (a) => present(a.PublicIp) },
      // one Elastic IP per private address of an interface
      { space: 'eip-association', scope: 'region', values: (a) => (a.NetworkInterfaceId ? [`${a.NetworkInterfaceId}/${a.PrivateIpAddress ?? ''}`] : []) },
    ],
  }),
  networkInterface: ec2Kind<NetworkInterfaceRecord>('network-interface', 'eni', ['InvalidNetworkInterfaceID.NotFound', 'networkInterface ID', 'InvalidNetworkInterfaceID.Malformed'], {
    indexes: [
      {
        name: MEMBER_INDEX,
        values: (e) => {
          const groups = new Set(present(...(e.Groups ?? []).map((g) => g.GroupId)));
          const ips = new Set(
            present(e.PrivateIpAddress, ...(e.PrivateIpAddresses ?? []).map((p) => p.PrivateIpAddress), ...(e.Ipv6Addresses ?? []).map((a) => a.Ipv6Address)),
          );
          return [...groups].flatMap((g) => [...ips].map((ip) => `${g}/${ip}`));
        },
      },
    ],
    unique: [
      // an auto-assigned public IP (an Elastic IP's address is held by the Elastic IP record)
      { space: PUBLIC_IP, scope: 'global', values: (e) => (e.association && e.association.allocationId === undefined ? [e.association.PublicIp] : []) },
      // private addresses are unique within their subnet
      {
        space: SPACES.privateIp,
        scope: 'region',
        values: (e) => [...new Set(present(e.PrivateIpAddress, ...(e.PrivateIpAddresses ?? []).map((p) => p.PrivateIpAddress)))].map((ip) => `${e.SubnetId}/${ip}`),
      },
      // and so are IPv6 addresses: the ones a subnet's interfaces hold are found without reading any interface
      { space: SPACES.ipv6, scope: 'region', values: (e) => [...new Set(present(...(e.Ipv6Addresses ?? []).map((a) => a.Ipv6Address)))].map((ip) => `${e.SubnetId}/${ip}`) },
    ],
  }),
  keyPair: ec2Kind<KeyPairRecord>('key-pair', 'key', ['InvalidKeyPair.NotFound', 'key pair ID', 'InvalidKeyPair.Malformed']),
  networkAcl: ec2Kind<NetworkAclRecord>('network-acl', 'acl', ['InvalidNetworkAclID.NotFound', 'network acl ID', 'InvalidNetworkAclID.Malformed']),
  dhcpOptions: ec2Kind<DhcpOptionsRecord>('dhcp-options', 'dopt', ['InvalidDhcpOptionID.NotFound', 'dhcp option ID', 'InvalidDhcpOptionsID.Malformed']),
  /** named as EC2's tag ResourceType for flow logs */
  flowLog: ec2Kind<FlowLogRecord>('vpc-flow-log', 'fl', ['InvalidFlowLogId.NotFound', 'flow log', 'InvalidFlowLogId.Malformed']),
  /** customer-managed prefix lists (EC2's tag ResourceType `prefix-list`); the AWS-managed ones are not stored */
  prefixList: ec2Kind<PrefixListRecord>('prefix-list', 'pl', ['InvalidPrefixListID.NotFound', 'prefix list ID', 'InvalidPrefixListId.Malformed']),
  launchTemplate: ec2Kind<LaunchTemplateRecord>('launch-template', 'lt', ['InvalidLaunchTemplateId.NotFound', 'launch template ID', 'InvalidLaunchTemplateId.Malformed'], {
    unique: [{ space: 'launch-template-name', scope: 'region', values: (t) => [t.LaunchTemplateName] }],
    indexes: [{ name: LAUNCH_TEMPLATE_NAME_INDEX, values: (t) => [t.LaunchTemplateName] }],
  }),
  transitGateway: ec2Kind<TransitGatewayRecord>('transit-gateway', 'tgw', ['InvalidTransitGatewayID.NotFound', 'transitGateway ID', 'InvalidTransitGatewayID.Malformed']),
  transitGatewayAttachment: ec2Kind<TransitGatewayAttachmentRecord>('transit-gateway-attachment', 'tgw-attach', [
    'InvalidTransitGatewayAttachmentID.NotFound',
    'transitGatewayAttachment ID',
    'InvalidTransitGatewayAttachmentID.Malformed',
  ]),
  transitGatewayRouteTable: ec2Kind<TransitGatewayRouteTableRecord>('transit-gateway-route-table', 'tgw-rtb', [
    'InvalidRouteTableID.NotFound',
    'transitGatewayRouteTable ID',
    'InvalidRouteTableId.Malformed',
  ]),
  vpcEndpoint: ec2Kind<VpcEndpointRecord>('vpc-endpoint', 'vpce', ['InvalidVpcEndpointId.NotFound', 'Vpc Endpoint Id', 'InvalidVpcEndpointId.Malformed']),
  vpcEndpointService: ec2Kind<VpcEndpointServiceRecord>('vpc-endpoint-service', 'vpce-svc', ['InvalidVpcEndpointServiceId.NotFound', 'Vpc Endpoint Service Id', 'InvalidVpcEndpointServiceId.Malformed']),
  carrierGateway: ec2Kind<CarrierGatewayRecord>('carrier-gateway', 'cagw', ['InvalidCarrierGatewayID.NotFound', 'CarrierGateway ID', 'InvalidCarrierGatewayID.Malformed']),
  customerGateway: ec2Kind<CustomerGatewayRecord>('customer-gateway', 'cgw', ['InvalidCustomerGatewayID.NotFound', 'customerGateway ID', 'InvalidCustomerGatewayID.Malformed']),
  vpnGateway: ec2Kind<VpnGatewayRecord>('vpn-gateway', 'vgw', ['InvalidVpnGatewayID.NotFound', 'vpnGateway ID', 'InvalidVpnGatewayID.Malformed']),
  vpnConnection: ec2Kind<VpnConnectionRecord>('vpn-connection', 'vpn', ['InvalidVpnConnectionID.NotFound', 'vpnConnection ID', 'InvalidVpnConnectionID.Malformed']),
  networkInterfacePermission: ec2Kind<NetworkInterfacePermissionRecord>('network-interface-permission', 'eni-perm', [
    'InvalidNetworkInterfacePermissionID.NotFound',
    'network interface permission ID',
    'InvalidNetworkInterfacePermissionID.Malformed',
  ]),
  placementGroup: ec2Kind<PlacementGroupRecord>('placement-group', 'pg', ['InvalidPlacementGroupId.NotFound', 'placement group ID', 'InvalidPlacementGroupId.Malformed'], {
    unique: [{ space: 'placement-group-name', scope: 'region', values: (g) => [g.GroupName] }],
  }),
  dedicatedHost: ec2Kind<HostRecord>('dedicated-host', 'h', ['InvalidHostID.NotFound', 'host ID', 'InvalidHostID.Malformed']),
  capacityReservation: ec2Kind<CapacityReservationRecord>('capacity-reservation', 'cr', [
    'InvalidCapacityReservationId.NotFound',
    'capacity reservation ID',
    'InvalidCapacityReservationId.Malformed',
  ]),
  subnetCidrReservation: ec2Kind<SubnetCidrReservationRecord>('subnet-cidr-reservation', 'scr', [
    'InvalidSubnetCidrReservationID.NotFound',
    'subnet CIDR reservation ID',
    'InvalidSubnetCidrReservationID.Malformed',
  ], { indexes: [{ name: SUBNET_INDEX, values: (r) => [r.SubnetId] }] }),
  egressOnlyInternetGateway: ec2Kind<EgressOnlyInternetGatewayRecord>('egress-only-internet-gateway', 'eigw', [
    'InvalidGatewayID.NotFound',
    'eigw ID',
    'InvalidEgressOnlyInternetGatewayId.Malformed',
  ]),
  /** named as EC2's tag ResourceType for NAT gateways */
  natGateway: ec2Kind<NatGatewayRecord>('natgateway', 'nat', ['NatGatewayNotFound', 'NAT gateway', 'NatGatewayMalformed']),
  vpcPeeringConnection: ec2Kind<VpcPeeringConnectionRecord>('vpc-peering-connection', 'pcx', [
    'InvalidVpcPeeringConnectionID.NotFound',
    'vpcPeeringConnection ID',
    'InvalidVpcPeeringConnectionId.Malformed',
  ]),
} as const;

export type AnyEc2Kind = (typeof KINDS)[keyof typeof KINDS];

const BY_PREFIX: ReadonlyMap<string, AnyEc2Kind> = new Map(Object.values(KINDS).map((k) => [k.prefix, k]));

/** The kind whose ids start with `prefix-`. */
export function kindOfPrefix(prefix: string): AnyEc2Kind | undefined {
  return BY_PREFIX.get(prefix);
}

const BY_NAME: ReadonlyMap<string, AnyEc2Kind> = new Map(Object.values(KINDS).map((k) => [k.name, k]));

/** The kind stored under `name` (= a tag ResourceType). */
export function kindNamed(name: string): AnyEc2Kind | undefined {
  return BY_NAME.get(name);
}
