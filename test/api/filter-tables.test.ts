/**
 * Every filter of every table finds something: with a world that has one of
 * each resource, a filter whose value is `*` (anything, but something) must
 * pass some item, so each path resolves to a defined value on real items.
 * Filters for what Overcast never sets are listed with the reason.
 */
import * as EC2 from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { filterTables } from '../../src/domain/filters.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** action -> filters that no item in Overcast has a value for, and why */
const NEVER_SET: Record<string, Record<string, string>> = {
  DescribeInstances: {
    'state-reason-code': 'a running instance has no state reason',
    'state-reason-message': 'a running instance has no state reason',
    'instance-lifecycle': 'no Spot or Scheduled Instances',
    'kernel-id': 'HVM instances have no kernel',
    'ramdisk-id': 'HVM instances have no ramdisk',
    'network-interface.ipv6-addresses.ipv6-address': 'no IPv6 subnet here',
    'network-interface.requester-id': 'no interfaces a service made',
    'requester-id': 'no instances a service launched',
    'outpost-arn': 'no Outposts',
    platform: 'no Windows instances',
    'product-code': 'no marketplace images',
    'product-code.type': 'no marketplace images',
    'spot-instance-request-id': 'no Spot Instances',
    'tpm-support': 'no NitroTPM images',
  },
  DescribeNetworkAcls: {
    'entry.icmp.code': 'the default entries are all protocols',
    'entry.icmp.type': 'the default entries are all protocols',
    'entry.port-range.from': 'the default entries are all protocols',
    'entry.port-range.to': 'the default entries are all protocols',
  },
  DescribeInstanceStatus: {
    'event.code': 'no scheduled events',
    'event.description': 'no scheduled events',
    'event.instance-event-id': 'no scheduled events',
    'event.not-after': 'no scheduled events',
    'event.not-before': 'no scheduled events',
    'event.not-before-deadline': 'no scheduled events',
  },
  DescribeSnapshots: { 'owner-alias': 'snapshots of an account have no owner alias' },
  DescribeVolumeStatus: {
    'action.code': 'no scheduled actions',
    'action.event-id': 'no scheduled actions',
    'action.description': 'no scheduled actions',
    'event.description': 'no scheduled events',
    'event.event-id': 'no scheduled events',
    'event.event-type': 'no scheduled events',
    'event.not-after': 'no scheduled events',
    'event.not-before': 'no scheduled events',
  },
  DescribeImages: {
    'kernel-id': 'HVM images have no kernel',
    'ramdisk-id': 'HVM images have no ramdisk',
    'product-code': 'no marketplace images',
    'product-code.type': 'no marketplace images',
    'source-image-id': 'no copied images',
    'source-image-region': 'no copied images',
    'source-instance-id': 'no images made from instances',
    'state-reason-code': 'available images have no state reason',
    'state-reason-message': 'available images have no state reason',
    'tpm-support': 'no NitroTPM images',
    platform: 'no Windows images',
  },
  DescribeInstanceTypes: {
    'processor-info.supported-features': 'not in the catalogue',
  },
  DescribeAvailabilityZones: {
    message: 'zones have no messages',
    'parent-zone-id': 'no Local or Wavelength Zones',
    'parent-zone-name': 'no Local or Wavelength Zones',
    'parent-zoneID': 'no Local or Wavelength Zones',
    'parent-zoneName': 'no Local or Wavelength Zones',
  },
  DescribeRouteTables: {
    'route.instance-id': 'no routes to instances',
    'route.network-interface-id': 'no routes to interfaces',
    'association.gateway-id': 'no gateway associations',
  },
  DescribeSecurityGroups: {
    'ip-permission.ipv6-cidr': 'no IPv6 rules',
    'egress.ip-permission.ipv6-cidr': 'no IPv6 rules',
    'egress.ip-permission.prefix-list-id': 'the prefix list rule here is inbound',
    'egress.ip-permission.group-id': 'no group references here',
    'egress.ip-permission.group-name': 'no group references here',
    'egress.ip-permission.user-id': 'no group references here',
    'egress.ip-permission.from-port': 'the default egress rule is all protocols',
    'egress.ip-permission.to-port': 'the default egress rule is all protocols',
  },
  DescribeLaunchTemplateVersions: {
    'host-resource-group-arn': 'no host resource groups',
    'kernel-id': 'HVM images have no kernel',
    'ram-disk-id': 'HVM images have no ramdisk',
    'license-configuration-arn': 'no License Manager',
  },
  DescribeFlowLogs: { 'log-group-name': 'only file destinations: no CloudWatch Logs' },
  SearchTransitGatewayRoutes: { 'prefix-list-id': 'no prefix list routes' },
  DescribeVpnConnections: { 'transit-gateway-id': 'the VPN connection here is to a virtual private gateway' },
  DescribeNetworkInterfaces: {
    'ipv6-addresses.ipv6-address': 'no IPv6 subnet here',
    'operator.principal': 'no interfaces managed by a service',
  },
  DescribeNetworkInterfacePermissions: { 'network-interface-permission.aws-service': 'grants to AWS services are not supported' },
  DescribeHosts: { 'host-reservation-id': 'no host reservations' },
  DescribeCapacityReservations: { 'outpost-arn': 'no Outposts' },
  DescribeSubnets: {
    'ipv6-cidr-block-association.ipv6-cidr-block': 'no IPv6 subnet here',
    'ipv6-cidr-block-association.association-id': 'no IPv6 subnet here',
    'ipv6-cidr-block-association.state': 'no IPv6 subnet here',
    'customer-owned-ipv4-pool': 'no Outposts subnets',
    'enable-lni-at-device-index': 'no Outposts subnets',
    'outpost-arn': 'no Outposts subnets',
  },
};

/** action -> input a call needs besides Filters (ids made in the world below) */
const EXTRA_INPUT: Record<string, Record<string, unknown>> = {};

/** filter -> the value used instead of `*` (filters that take a CIDR, not a pattern) */
const VALUE_OF: Record<string, string> = {
  'route-search.longest-prefix-match': '10.9.1.1',
  'route-search.subnet-of-match': '10.0.0.0/8',
  'route-search.supernet-of-match': '10.9.1.0/28',
};

describe('filter tables against a world with one of everything', () => {
  let t: TestServer;
  let c: EC2.EC2Client;
  /** an endpoint service of the account (DescribeVpcEndpointServicePermissions asks about one) */
  let serviceId = '';

  before(async () => {
    t = await startTestServer({ publicIpPool: '203.0.113.0/29' });
    c = t.client();
    const vpc = (await c.send(new EC2.CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await c.send(new EC2.CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.9.1.0/24' }))).Subnet!.SubnetId!;
    const igw = (await c.send(new EC2.CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await c.send(new EC2.AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc }));
    const rtb = (await c.send(new EC2.CreateRouteTableCommand({ VpcId: vpc }))).RouteTable!.RouteTableId!;
    await c.send(new EC2.CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    await c.send(new EC2.AssociateRouteTableCommand({ RouteTableId: rtb, SubnetId: subnet }));
    const sg = (await c.send(new EC2.CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web', VpcId: vpc }))).GroupId!;
    const pl = (
      await c.send(new EC2.CreateManagedPrefixListCommand({ PrefixListName: 'office', MaxEntries: 2, AddressFamily: 'IPv4', Entries: [{ Cidr: '198.18.0.0/15' }] }))
    ).PrefixList!.PrefixListId!;
    await c.send(
      new EC2.AuthorizeSecurityGroupIngressCommand({
        GroupId: sg,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '192.0.2.0/24' }] },
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: pl }] },
        ],
      }),
    );
    await c.send(new EC2.CreateKeyPairCommand({ KeyName: 'k' }));
    const eip = (await c.send(new EC2.AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
    await c.send(new EC2.CreateVpcCommand({ CidrBlock: '10.8.0.0/16', AmazonProvidedIpv6CidrBlock: true }));
    const ami = (await c.send(new EC2.DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
    const inst = (
      await c.send(
        new EC2.RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, SubnetId: subnet, SecurityGroupIds: [sg], KeyName: 'k' }),
      )
    ).Instances![0]!.InstanceId!;
    for (let i = 0; i < 200; i++) {
      const s = await c.send(new EC2.DescribeInstancesCommand({ InstanceIds: [inst] }));
      if (s.Reservations![0]!.Instances![0]!.State?.Name === 'running') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await c.send(new EC2.AssociateAddressCommand({ AllocationId: eip, InstanceId: inst }));
    const eni = (await c.send(new EC2.DescribeInstancesCommand({ InstanceIds: [inst] }))).Reservations![0]!.Instances![0]!.NetworkInterfaces![0]!.NetworkInterfaceId!;
    await c.send(new EC2.CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni, AwsAccountId: '210987654321', Permission: 'INSTANCE-ATTACH' }));
    const flowLog = (
      await c.send(
        new EC2.CreateFlowLogsCommand({ ResourceType: 'VPC', ResourceIds: [vpc], TrafficType: 'ALL', LogDestinationType: 'file' as EC2.LogDestinationType, LogDestination: 'all.log' }),
      )
    ).FlowLogIds![0]!;
    const vol = (await c.send(new EC2.CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'io1', Iops: 100 }))).VolumeId!;
    for (let i = 0; i < 200; i++) {
      const v = await c.send(new EC2.DescribeVolumesCommand({ VolumeIds: [vol] }));
      if (v.Volumes![0]!.State === 'available') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await c.send(new EC2.ModifyVolumeCommand({ VolumeId: vol, Size: 5 }));
    const snap = (await c.send(new EC2.CreateSnapshotCommand({ VolumeId: vol, Description: 'one' }))).SnapshotId!;
    const lt = (
      await c.send(
        new EC2.CreateLaunchTemplateCommand({
          LaunchTemplateName: 'web',
          LaunchTemplateData: {
            ImageId: ami,
            InstanceType: 't3.micro',
            EbsOptimized: true,
            IamInstanceProfile: { Arn: 'arn:aws:iam::123456789012:instance-profile/web' },
            MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
            NetworkInterfaces: [{ DeviceIndex: 0, NetworkCardIndex: 0, SubnetId: subnet, Groups: [sg] }],
          },
        }),
      )
    ).LaunchTemplate!.LaunchTemplateId!;
    const tgw = (await c.send(new EC2.CreateTransitGatewayCommand({ Options: { TransitGatewayCidrBlocks: ['192.0.2.0/24'] } }))).TransitGateway!;
    const tgwRtb = tgw.Options!.AssociationDefaultRouteTableId!;
    for (let i = 0; i < 200; i++) {
      const g = await c.send(new EC2.DescribeTransitGatewaysCommand({ TransitGatewayIds: [tgw.TransitGatewayId!] }));
      if (g.TransitGateways![0]!.State === 'available') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const tgwAttach = (await c.send(new EC2.CreateTransitGatewayVpcAttachmentCommand({ TransitGatewayId: tgw.TransitGatewayId, VpcId: vpc, SubnetIds: [subnet] })))
      .TransitGatewayVpcAttachment!.TransitGatewayAttachmentId!;
    for (let i = 0; i < 200; i++) {
      const a = await c.send(new EC2.DescribeTransitGatewayAttachmentsCommand({ TransitGatewayAttachmentIds: [tgwAttach] }));
      const p = await c.send(new EC2.GetTransitGatewayRouteTablePropagationsCommand({ TransitGatewayRouteTableId: tgwRtb }));
      if (a.TransitGatewayAttachments![0]!.Association?.State === 'associated' && p.TransitGatewayRouteTablePropagations![0]?.State === 'enabled') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await c.send(new EC2.CreateTransitGatewayRouteCommand({ TransitGatewayRouteTableId: tgwRtb, DestinationCidrBlock: '10.0.0.0/8', TransitGatewayAttachmentId: tgwAttach }));
    await c.send(new EC2.CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '172.16.0.0/12', TransitGatewayId: tgw.TransitGatewayId }));
    const west = t.client('us-west-2');
    const peerTgw = (await west.send(new EC2.CreateTransitGatewayCommand({}))).TransitGateway!.TransitGatewayId!;
    for (let i = 0; i < 200; i++) {
      const made = await c
        .send(new EC2.CreateTransitGatewayPeeringAttachmentCommand({ TransitGatewayId: tgw.TransitGatewayId, PeerTransitGatewayId: peerTgw, PeerAccountId: '123456789012', PeerRegion: 'us-west-2' }))
        .catch(() => undefined);
      if (made) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const action of ['GetTransitGatewayRouteTableAssociations', 'GetTransitGatewayRouteTablePropagations', 'SearchTransitGatewayRoutes']) {
      EXTRA_INPUT[action] = { TransitGatewayRouteTableId: tgwRtb };
    }
    await c.send(new EC2.CreateVpcEndpointCommand({ VpcId: vpc, ServiceName: 'com.amazonaws.us-east-1.s3', RouteTableIds: [rtb] }));
    serviceId = (
      await c.send(new EC2.CreateVpcEndpointServiceConfigurationCommand({ NetworkLoadBalancerArns: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/web/0123456789abcdef'] }))
    ).ServiceConfiguration!.ServiceId!;
    await c.send(new EC2.ModifyVpcEndpointServicePermissionsCommand({ ServiceId: serviceId, AddAllowedPrincipals: ['arn:aws:iam::123456789012:root'] }));
    for (let i = 0; i < 200; i++) {
      const s = await c.send(new EC2.DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [serviceId] }));
      if (s.ServiceConfigurations![0]!.ServiceState === 'Available') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await c.send(new EC2.CreateVpcEndpointCommand({ VpcId: vpc, VpcEndpointType: 'Interface', ServiceName: `com.amazonaws.vpce.us-east-1.${serviceId}`, SubnetIds: [subnet] }));
    await c.send(new EC2.CreateCarrierGatewayCommand({ VpcId: vpc }));
    const cgw = (await c.send(new EC2.CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '198.51.100.1' }))).CustomerGateway!.CustomerGatewayId!;
    const vgw = (await c.send(new EC2.CreateVpnGatewayCommand({ Type: 'ipsec.1', AvailabilityZone: 'us-east-1a' }))).VpnGateway!.VpnGatewayId!;
    await c.send(new EC2.AttachVpnGatewayCommand({ VpnGatewayId: vgw, VpcId: vpc }));
    const vpn = (await c.send(new EC2.CreateVpnConnectionCommand({ Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, Options: { StaticRoutesOnly: true } }))).VpnConnection!.VpnConnectionId!;
    await c.send(new EC2.CreateVpnConnectionRouteCommand({ VpnConnectionId: vpn, DestinationCidrBlock: '192.168.0.0/16' }));
    const pg = (await c.send(new EC2.CreatePlacementGroupCommand({ GroupName: 'spread', Strategy: 'spread' }))).PlacementGroup!;
    await c.send(new EC2.AllocateHostsCommand({ AvailabilityZone: 'us-east-1a', InstanceType: 'm5.large', AutoPlacement: 'on', ClientToken: 'one-host' }));
    await c.send(
      new EC2.CreateCapacityReservationCommand({
        InstanceType: 'm5.large',
        InstancePlatform: 'Linux/UNIX',
        AvailabilityZone: 'us-east-1a',
        InstanceCount: 1,
        EndDateType: 'limited',
        EndDate: new Date(Date.now() + 86_400_000),
        PlacementGroupArn: pg.GroupArn,
      }),
    );
    await c.send(new EC2.AssociateIamInstanceProfileCommand({ InstanceId: inst, IamInstanceProfile: { Name: 'web' } }));
    // one instance on the host, one in a partition group drawing from the open reservation
    await c.send(new EC2.RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, InstanceType: 'm5.large', Placement: { Tenancy: 'host', AvailabilityZone: 'us-east-1a' } }));
    await c.send(new EC2.CreatePlacementGroupCommand({ GroupName: 'parts', Strategy: 'partition', PartitionCount: 2 }));
    await c.send(new EC2.RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, InstanceType: 'm5.large', Placement: { GroupName: 'parts', AvailabilityZone: 'us-east-1a' } }));
    await c.send(new EC2.CreateSubnetCidrReservationCommand({ SubnetId: subnet, Cidr: '10.9.1.240/28', ReservationType: 'explicit' }));
    const eigw = (await c.send(new EC2.CreateEgressOnlyInternetGatewayCommand({ VpcId: vpc }))).EgressOnlyInternetGateway!.EgressOnlyInternetGatewayId!;
    await c.send(new EC2.CreateRouteCommand({ RouteTableId: rtb, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: eigw }));
    const natEip = (await c.send(new EC2.AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
    const nat = (await c.send(new EC2.CreateNatGatewayCommand({ SubnetId: subnet, AllocationId: natEip }))).NatGateway!.NatGatewayId!;
    await c.send(new EC2.CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '198.51.100.0/24', NatGatewayId: nat }));
    const peer = (await c.send(new EC2.CreateVpcCommand({ CidrBlock: '10.7.0.0/16' }))).Vpc!.VpcId!;
    const pcx = (await c.send(new EC2.CreateVpcPeeringConnectionCommand({ VpcId: vpc, PeerVpcId: peer }))).VpcPeeringConnection!.VpcPeeringConnectionId!;
    await c.send(new EC2.CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '10.7.0.0/16', VpcPeeringConnectionId: pcx }));
    const all = [vpc, subnet, igw, rtb, sg, inst, flowLog, pl, lt, vol, snap, tgw.TransitGatewayId!, tgwAttach, tgwRtb, eigw, nat, pcx];
    await c.send(new EC2.CreateTagsCommand({ Resources: all, Tags: [{ Key: 'Name', Value: 'everything' }] }));
  });

  after(async () => {
    await t.close();
  });

  /** How many items a Describe action answers with these filters (every page's first). */
  async function count(action: string, Filters: { Name: string; Values: string[] }[]): Promise<number> {
    const Command = (EC2 as unknown as Record<string, new (input: object) => EC2.DescribeVpcsCommand>)[`${action}Command`];
    assert.ok(Command, action);
    // DescribeFlowLogs and DescribeHosts name their list `Filter`
    const input: Record<string, unknown> = { ...EXTRA_INPUT[action], ...(action === 'DescribeFlowLogs' || action === 'DescribeHosts' ? { Filter: Filters } : { Filters }) };
    if (action === 'DescribeInstanceStatus') input.IncludeAllInstances = true;
    if (action === 'DescribeVpcEndpointServicePermissions') input.ServiceId = serviceId;
    if (action === 'GetSubnetCidrReservations') {
      const subnets = await c.send(new EC2.DescribeSubnetsCommand({ Filters: [{ Name: 'cidr-block', Values: ['10.9.1.0/24'] }] }));
      input.SubnetId = subnets.Subnets![0]!.SubnetId;
    }
    // DescribeNatGateways names its list `Filter` too
    if (action === 'DescribeNatGateways') input.Filter = input.Filters;
    const out = (await c.send(new Command(input))) as unknown as Record<string, unknown>;
    const lists = Object.entries(out).filter(([k, v]) => k !== '$metadata' && Array.isArray(v));
    return lists.reduce((n, [, v]) => n + (v as unknown[]).length, 0);
  }

  it('a `*` on every filter of every table passes some item', async () => {
    const missing: string[] = [];
    const unexpectedlySet: string[] = [];
    let checked = 0;
    for (const [action, table] of filterTables) {
      if (action.startsWith('Test')) continue;
      const never = NEVER_SET[action] ?? {};
      for (const name of Object.keys(never)) assert.ok(table.names.includes(name), `${action}: ${name} is not a filter`);
      for (const name of table.names) {
        const n = await count(action, [{ Name: name, Values: [VALUE_OF[name] ?? '*'] }]);
        checked++;
        if (n === 0 && !(name in never)) missing.push(`${action} ${name}`);
        if (n > 0 && name in never) unexpectedlySet.push(`${action} ${name}`);
      }
    }
    assert.deepEqual(missing, [], 'filters that found nothing');
    assert.deepEqual(unexpectedlySet, [], 'filters listed as never set that found something (update the list)');
    assert.ok(checked >= 280, `${checked} filters checked`);
  });
});
