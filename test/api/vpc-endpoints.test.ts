import {
  CreateRouteTableCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  CreateVpcEndpointServiceConfigurationCommand,
  AcceptVpcEndpointConnectionsCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeVpcEndpointConnectionsCommand,
  RejectVpcEndpointConnectionsCommand,
  DeleteVpcEndpointServiceConfigurationsCommand,
  DeleteVpcEndpointsCommand,
  DescribeManagedPrefixListsCommand,
  DescribeRouteTablesCommand,
  DescribeTagsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  DescribeVpcEndpointServicePermissionsCommand,
  DescribeVpcEndpointServicesCommand,
  DescribeVpcEndpointsCommand,
  ModifyVpcAttributeCommand,
  ModifyVpcEndpointCommand,
  ModifyVpcEndpointServicePermissionsCommand,
  type EC2Client,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pollUntil } from '../helpers/poll.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

const NLB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/web/0123456789abcdef';

describe('VPC endpoints', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let vpcId: string;
  let subnetA: string;
  let subnetA2: string;
  let subnetB: string;
  let rtb1: string;
  let rtb2: string;
  let s3List: string;

  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }))).Vpc!.VpcId!;
    subnetA = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.40.1.0/24', AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
    subnetA2 = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.40.3.0/24', AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
    subnetB = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.40.2.0/24', AvailabilityZone: 'us-east-1b' }))).Subnet!.SubnetId!;
    rtb1 = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    rtb2 = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    const lists = await ec2.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: ['com.amazonaws.us-east-1.s3'] }] }));
    s3List = lists.PrefixLists![0]!.PrefixListId!;
  });
  after(() => t.close());

  async function describeOne(id: string): Promise<VpcEndpoint> {
    const out = await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [id] }));
    assert.equal(out.VpcEndpoints?.length, 1);
    return out.VpcEndpoints![0]!;
  }

  const waitState = (id: string, state: string) => pollUntil(() => describeOne(id), (e) => (e.State as string) === state);

  async function routesOf(rtb: string) {
    return (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [rtb] }))).RouteTables![0]!.Routes!;
  }

  describe('DescribeVpcEndpointServices', () => {
    it('lists the region\'s AWS services with their types, zones and private DNS names', async () => {
      const out = await ec2.send(new DescribeVpcEndpointServicesCommand({}));
      assert.ok(out.ServiceNames!.includes('com.amazonaws.us-east-1.s3'));
      assert.equal(new Set(out.ServiceNames).size, out.ServiceNames!.length, 'names are listed once');
      const s3 = out.ServiceDetails!.filter((d) => d.ServiceName === 'com.amazonaws.us-east-1.s3');
      assert.deepEqual(s3.map((d) => d.ServiceType![0]!.ServiceType).sort(), ['Gateway', 'Interface']);
      const ec2Svc = out.ServiceDetails!.find((d) => d.ServiceName === 'com.amazonaws.us-east-1.ec2')!;
      assert.equal(ec2Svc.PrivateDnsName, 'ec2.us-east-1.amazonaws.com');
      assert.equal(ec2Svc.Owner, 'amazon');
      assert.ok(ec2Svc.AvailabilityZones!.includes('us-east-1a'));
      assert.match(ec2Svc.ServiceId!, /^vpce-svc-[0-9a-f]{17}$/);
    });

    it('filters by service-type and service-name; ServiceNames narrows; unknown names and filters are errors', async () => {
      const gw = await ec2.send(new DescribeVpcEndpointServicesCommand({ Filters: [{ Name: 'service-type', Values: ['Gateway'] }] }));
      assert.deepEqual(gw.ServiceNames!.sort(), ['com.amazonaws.us-east-1.dynamodb', 'com.amazonaws.us-east-1.s3']);
      const byName = await ec2.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: ['com.amazonaws.us-east-1.sts'] }));
      assert.deepEqual(byName.ServiceNames, ['com.amazonaws.us-east-1.sts']);
      const wild = await ec2.send(new DescribeVpcEndpointServicesCommand({ Filters: [{ Name: 'service-name', Values: ['*.ssm*'] }] }));
      assert.deepEqual(wild.ServiceNames!.sort(), ['com.amazonaws.us-east-1.ssm', 'com.amazonaws.us-east-1.ssmmessages']);
      assert.equal((await ec2Error(ec2.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: ['com.amazonaws.us-east-1.nope'] })))).code, 'InvalidServiceName');
      assert.equal((await ec2Error(ec2.send(new DescribeVpcEndpointServicesCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })))).code, 'InvalidParameterValue');
      const other = await t.client('eu-west-1').send(new DescribeVpcEndpointServicesCommand({ Filters: [{ Name: 'service-type', Values: ['Gateway'] }] }));
      assert.ok(other.ServiceNames!.every((n) => n.startsWith('com.amazonaws.eu-west-1.')));
    });

    it('pages with MaxResults / NextToken', async () => {
      const all = (await ec2.send(new DescribeVpcEndpointServicesCommand({}))).ServiceDetails!;
      const first = await ec2.send(new DescribeVpcEndpointServicesCommand({ MaxResults: 5 }));
      assert.equal(first.ServiceDetails!.length, 5);
      assert.ok(first.NextToken);
      const second = await ec2.send(new DescribeVpcEndpointServicesCommand({ MaxResults: 1000, NextToken: first.NextToken }));
      assert.equal(second.ServiceDetails!.length, all.length - 5);
      assert.equal(second.NextToken, undefined);
    });
  });

  describe('Gateway endpoints', () => {
    it('routes the service prefix list through the endpoint; pending → available; delete takes the routes away', async () => {
      const out = await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: vpcId,
          ServiceName: 'com.amazonaws.us-east-1.s3',
          RouteTableIds: [rtb1],
          TagSpecifications: [{ ResourceType: 'vpc-endpoint', Tags: [{ Key: 'Name', Value: 's3' }] }],
        }),
      );
      const e = out.VpcEndpoint!;
      assert.match(e.VpcEndpointId!, /^vpce-[0-9a-f]{17}$/);
      assert.equal(e.VpcEndpointType, 'Gateway');
      assert.equal(e.State as string, 'pending');
      assert.deepEqual(e.RouteTableIds, [rtb1]);
      assert.deepEqual(e.DnsEntries, []);
      assert.deepEqual(e.Tags, [{ Key: 'Name', Value: 's3' }]);
      assert.ok(JSON.parse(e.PolicyDocument!).Statement);
      const route = (await routesOf(rtb1)).find((r) => r.DestinationPrefixListId === s3List);
      assert.ok(route, 'the table routes the s3 prefix list');
      assert.equal(route.GatewayId, e.VpcEndpointId);
      assert.equal(route.State, 'active');
      const filtered = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.destination-prefix-list-id', Values: [s3List] }] }));
      assert.deepEqual(filtered.RouteTables!.map((r) => r.RouteTableId), [rtb1]);
      await waitState(e.VpcEndpointId!, 'available');

      const del = await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpointId!] }));
      assert.deepEqual(del.Unsuccessful ?? [], []);
      assert.equal((await routesOf(rtb1)).find((r) => r.DestinationPrefixListId === s3List), undefined);
      const gone = await waitState(e.VpcEndpointId!, 'deleted');
      assert.deepEqual(gone.RouteTableIds, [rtb1]);
    });

    it('one route per prefix list and table; tables of another VPC, unknown tables and Interface parameters are refused', async () => {
      const a = await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.dynamodb', RouteTableIds: [rtb2] }));
      const again = await ec2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.dynamodb', RouteTableIds: [rtb2] })));
      assert.equal(again.code, 'RouteAlreadyExists');
      const otherVpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.41.0.0/16' }))).Vpc!.VpcId!;
      const otherRtb = (await ec2.send(new CreateRouteTableCommand({ VpcId: otherVpc }))).RouteTable!.RouteTableId!;
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.s3', RouteTableIds: [otherRtb] })))).code, 'InvalidParameter');
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.s3', RouteTableIds: ['rtb-0123456789abcdef0'] })))).code, 'InvalidRouteTableID.NotFound');
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.s3', SubnetIds: [subnetA] })))).code, 'InvalidParameter');
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.ec2' })))).code, 'InvalidParameter', 'ec2 has no Gateway type');
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.nope' })))).code, 'InvalidServiceName');
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: 'vpc-0123456789abcdef0', ServiceName: 'com.amazonaws.us-east-1.s3' })))).code, 'InvalidVpcID.NotFound');
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.s3', PolicyDocument: '{not json' })))).code, 'MalformedPolicyDocument');
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.s3', VpcEndpointType: 'Sideways' as never })))).code, 'InvalidParameterValue');
      const tables = (await ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: [a.VpcEndpoint!.VpcEndpointId!] }))).VpcEndpoints![0]!.RouteTableIds;
      assert.deepEqual(tables, [rtb2]);
    });

    it('ModifyVpcEndpoint adds and removes route tables and resets or replaces the policy', async () => {
      const e = (await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.s3' }))).VpcEndpoint!;
      const id = e.VpcEndpointId!;
      await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddRouteTableIds: [rtb1, rtb2], PolicyDocument: '{\n  "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]\n}' }));
      let now = await describeOne(id);
      assert.deepEqual(now.RouteTableIds, [rtb1, rtb2]);
      assert.equal(JSON.parse(now.PolicyDocument!).Statement[0].Effect, 'Deny');
      assert.ok((await routesOf(rtb2)).some((r) => r.GatewayId === id && r.DestinationPrefixListId === s3List));
      await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, RemoveRouteTableIds: [rtb2], ResetPolicy: true }));
      now = await describeOne(id);
      assert.deepEqual(now.RouteTableIds, [rtb1]);
      assert.equal(JSON.parse(now.PolicyDocument!).Statement[0].Effect, 'Allow');
      assert.ok(!(await routesOf(rtb2)).some((r) => r.GatewayId === id));
      assert.equal((await ec2Error(ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, RemoveRouteTableIds: [rtb2] })))).code, 'InvalidParameter');
      assert.equal((await ec2Error(ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, ResetPolicy: true, PolicyDocument: '{}' })))).code, 'InvalidParameterCombination');
      assert.equal((await ec2Error(ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddSubnetIds: [subnetA] })))).code, 'InvalidParameter');
      assert.equal((await ec2Error(ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: 'vpce-0123456789abcdef0' })))).code, 'InvalidVpcEndpointId.NotFound');
      assert.equal((await ec2Error(ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: 'vpce-nope' })))).code, 'InvalidVpcEndpointId.Malformed');
      await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [id] }));
      assert.equal((await ec2Error(ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, ResetPolicy: true })))).code, 'IncorrectState');
    });
  });

  describe('Interface endpoints', () => {
    it('needs the VPC\'s DNS attributes for private DNS, then has regional, zonal and private DNS entries and the default group', async () => {
      const refused = await ec2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ec2', SubnetIds: [subnetA] })));
      assert.equal(refused.code, 'InvalidParameter');
      assert.match(refused.message, /enableDnsHostnames/);
      await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
      const e = (
        await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ec2', SubnetIds: [subnetA, subnetB] }))
      ).VpcEndpoint!;
      assert.equal(e.PrivateDnsEnabled, true);
      assert.deepEqual(e.SubnetIds, [subnetA, subnetB]);
      assert.equal(e.Groups!.length, 1);
      assert.equal(e.Groups![0]!.GroupName, 'default');
      const names = e.DnsEntries!.map((d) => d.DnsName!);
      const id = e.VpcEndpointId!;
      assert.match(names[0]!, new RegExp(`^${id}-[0-9a-f]{8}\\.ec2\\.us-east-1\\.vpce\\.amazonaws\\.com$`));
      assert.match(names[1]!, new RegExp(`^${id}-[0-9a-f]{8}-us-east-1a\\.ec2\\.us-east-1\\.vpce\\.amazonaws\\.com$`));
      assert.match(names[2]!, new RegExp(`^${id}-[0-9a-f]{8}-us-east-1b\\.ec2\\.us-east-1\\.vpce\\.amazonaws\\.com$`));
      assert.equal(names[3], 'ec2.us-east-1.amazonaws.com');
      assert.ok(e.DnsEntries!.every((d) => /^Z[0-9A-Z]+$/.test(d.HostedZoneId!)));

      const clash = await ec2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ec2', SubnetIds: [subnetA] })));
      assert.match(clash.message, /conflicting DNS domain/);
      const plain = await ec2.send(
        new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.ec2', SubnetIds: [subnetA], PrivateDnsEnabled: false }),
      );
      assert.equal(plain.VpcEndpoint!.DnsEntries!.length, 2);

      const sg = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'vpce', Description: 'endpoints', VpcId: vpcId }))).GroupId!;
      await ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, RemoveSubnetIds: [subnetB], AddSecurityGroupIds: [sg], PrivateDnsEnabled: false }));
      const now = await describeOne(id);
      assert.deepEqual(now.SubnetIds, [subnetA]);
      assert.deepEqual(now.Groups!.map((g) => g.GroupName).sort(), ['default', 'vpce']);
      assert.equal(now.DnsEntries!.length, 2, 'regional and one zone, no private name');
      const dup = await ec2Error(ec2.send(new ModifyVpcEndpointCommand({ VpcEndpointId: id, AddSubnetIds: [subnetA2] })));
      assert.equal(dup.code, 'DuplicateSubnetsInSameZone');
    });

    it('subnets one per zone, in the VPC; no route tables', async () => {
      const dup = await ec2Error(
        ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.sts', SubnetIds: [subnetA, subnetA2] })),
      );
      assert.equal(dup.code, 'DuplicateSubnetsInSameZone');
      const tables = await ec2Error(
        ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.sts', RouteTableIds: [rtb1] })),
      );
      assert.equal(tables.code, 'InvalidParameter');
      const missing = await ec2Error(
        ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.sts', SubnetIds: ['subnet-0123456789abcdef0'] })),
      );
      assert.equal(missing.code, 'InvalidSubnetID.NotFound');
    });
  });

  describe('describe, delete, dry runs', () => {
    it('filters, tags, pagination and unknown ids', async () => {
      const ids: string[] = [];
      for (const svc of ['sqs', 'sns', 'kms']) {
        const e = await ec2.send(
          new CreateVpcEndpointCommand({
            VpcId: vpcId,
            VpcEndpointType: 'Interface',
            ServiceName: `com.amazonaws.us-east-1.${svc}`,
            PrivateDnsEnabled: false,
            TagSpecifications: [{ ResourceType: 'vpc-endpoint', Tags: [{ Key: 'batch', Value: 'p' }] }],
          }),
        );
        ids.push(e.VpcEndpoint!.VpcEndpointId!);
      }
      const tagged = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'tag:batch', Values: ['p'] }] }));
      assert.deepEqual(tagged.VpcEndpoints!.map((e) => e.VpcEndpointId).sort(), [...ids].sort());
      const sqs = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'service-name', Values: ['com.amazonaws.us-east-1.sqs'] }, { Name: 'vpc-endpoint-type', Values: ['Interface'] }] }));
      assert.deepEqual(sqs.VpcEndpoints!.map((e) => e.VpcEndpointId), [ids[0]]);
      const page = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'tag-key', Values: ['batch'] }], MaxResults: 2 }));
      assert.equal(page.VpcEndpoints!.length, 2);
      const rest = await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'tag-key', Values: ['batch'] }], NextToken: page.NextToken }));
      assert.equal(rest.VpcEndpoints!.length, 1);
      assert.equal((await ec2Error(ec2.send(new DescribeVpcEndpointsCommand({ VpcEndpointIds: ['vpce-0123456789abcdef0'] })))).code, 'InvalidVpcEndpointId.NotFound');
      assert.equal((await ec2Error(ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'nope', Values: ['x'] }] })))).code, 'InvalidParameterValue');
      await pollUntil(
        () => ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-endpoint-state', Values: ['available'] }, { Name: 'tag:batch', Values: ['p'] }] })),
        (o) => o.VpcEndpoints!.length === 3,
      );

      const del = await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [ids[0]!, 'vpce-0123456789abcdef0', 'vpce-bad'] }));
      const codes = Object.fromEntries(del.Unsuccessful!.map((u) => [u.ResourceId, u.Error!.Code]));
      assert.deepEqual(codes, { 'vpce-0123456789abcdef0': 'InvalidVpcEndpoint.NotFound', 'vpce-bad': 'InvalidVpcEndpointId.Malformed' });
      await waitState(ids[0]!, 'deleted');
      const twice = await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [ids[0]!] }));
      assert.equal(twice.Unsuccessful![0]!.Error!.Code, 'InvalidVpcEndpoint.NotFound');
      const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-type', Values: ['vpc-endpoint'] }, { Name: 'resource-id', Values: [ids[1]!] }] }));
      assert.equal(tags.Tags!.length, 1);
    });

    it('DryRun changes nothing', async () => {
      const before = (await ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints!.length;
      const e = await ec2Error(ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, ServiceName: 'com.amazonaws.us-east-1.s3', DryRun: true })));
      assert.equal(e.code, 'DryRunOperation');
      assert.equal((await ec2.send(new DescribeVpcEndpointsCommand({}))).VpcEndpoints!.length, before);
      const live = (await ec2.send(new DescribeVpcEndpointsCommand({ Filters: [{ Name: 'vpc-endpoint-state', Values: ['available'] }] }))).VpcEndpoints![0]!;
      assert.equal((await ec2Error(ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [live.VpcEndpointId!], DryRun: true })))).code, 'DryRunOperation');
      assert.equal((await describeOne(live.VpcEndpointId!)).State as string, 'available');
    });

    it('a VPC with endpoints cannot be deleted', async () => {
      const v = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }))).Vpc!.VpcId!;
      const e = (await ec2.send(new CreateVpcEndpointCommand({ VpcId: v, ServiceName: 'com.amazonaws.us-east-1.s3' }))).VpcEndpoint!.VpcEndpointId!;
      assert.equal((await ec2Error(ec2.send(new DeleteVpcCommand({ VpcId: v })))).code, 'DependencyViolation');
      await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e] }));
      await ec2.send(new DeleteVpcCommand({ VpcId: v }));
    });
  });

  describe('endpoint services of the account', () => {
    it('Pending → Available, listed as a service, connected to, kept while connected, then deleted', async () => {
      const created = await ec2.send(
        new CreateVpcEndpointServiceConfigurationCommand({
          NetworkLoadBalancerArns: [NLB],
          TagSpecifications: [{ ResourceType: 'vpc-endpoint-service', Tags: [{ Key: 'app', Value: 'web' }] }],
        }),
      );
      const svc = created.ServiceConfiguration!;
      assert.match(svc.ServiceId!, /^vpce-svc-[0-9a-f]{17}$/);
      assert.equal(svc.ServiceName, `com.amazonaws.vpce.us-east-1.${svc.ServiceId}`);
      assert.equal(svc.ServiceState, 'Pending');
      assert.deepEqual(svc.ServiceType, [{ ServiceType: 'Interface' }]);
      assert.deepEqual(svc.NetworkLoadBalancerArns, [NLB]);
      await pollUntil(
        () => ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [svc.ServiceId!] })),
        (o) => o.ServiceConfigurations![0]!.ServiceState === 'Available',
      );
      const listed = await ec2.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: [svc.ServiceName!] }));
      assert.equal(listed.ServiceDetails![0]!.Owner, '123456789012');
      assert.deepEqual(listed.ServiceDetails![0]!.Tags, [{ Key: 'app', Value: 'web' }]);
      const byState = await ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ Filters: [{ Name: 'service-state', Values: ['Available'] }, { Name: 'tag:app', Values: ['web'] }] }));
      assert.deepEqual(byState.ServiceConfigurations!.map((s) => s.ServiceId), [svc.ServiceId]);

      const e = (await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: svc.ServiceName, SubnetIds: [subnetB] }))).VpcEndpoint!;
      assert.equal(e.PrivateDnsEnabled, false);
      assert.match(e.DnsEntries![0]!.DnsName!, new RegExp(`^${e.VpcEndpointId}-[0-9a-f]{8}\\.${svc.ServiceId}\\.us-east-1\\.vpce\\.amazonaws\\.com$`));
      const kept = await ec2.send(new DeleteVpcEndpointServiceConfigurationsCommand({ ServiceIds: [svc.ServiceId!] }));
      assert.equal(kept.Unsuccessful![0]!.Error!.Code, 'ExistingVpcEndpointConnections');
      await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpointId!] }));
      await waitState(e.VpcEndpointId!, 'deleted');
      const done = await ec2.send(new DeleteVpcEndpointServiceConfigurationsCommand({ ServiceIds: [svc.ServiceId!, 'vpce-svc-0123456789abcdef0'] }));
      assert.deepEqual(done.Unsuccessful!.map((u) => [u.ResourceId, u.Error!.Code]), [['vpce-svc-0123456789abcdef0', 'InvalidVpcEndpointServiceId.NotFound']]);
      await pollUntil(
        () => ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [svc.ServiceId!] })),
        (o) => o.ServiceConfigurations![0]!.ServiceState === 'Deleted',
      );
      assert.equal((await ec2Error(ec2.send(new DescribeVpcEndpointServicesCommand({ ServiceNames: [svc.ServiceName!] })))).code, 'InvalidServiceName');
    });

    it('AcceptanceRequired: endpoints wait in pendingAcceptance until accepted or rejected; a subnet with an endpoint stays', async () => {
      const svc = (await ec2.send(new CreateVpcEndpointServiceConfigurationCommand({ NetworkLoadBalancerArns: [NLB], AcceptanceRequired: true }))).ServiceConfiguration!;
      await pollUntil(
        () => ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [svc.ServiceId!] })),
        (o) => o.ServiceConfigurations![0]!.ServiceState === 'Available',
      );
      const a = (await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: svc.ServiceName, SubnetIds: [subnetA2] }))).VpcEndpoint!;
      const b = (await ec2.send(new CreateVpcEndpointCommand({ VpcId: vpcId, VpcEndpointType: 'Interface', ServiceName: svc.ServiceName }))).VpcEndpoint!;
      assert.equal(a.State as string, 'pendingAcceptance');
      const listed = await ec2.send(new DescribeVpcEndpointConnectionsCommand({ Filters: [{ Name: 'service-id', Values: [svc.ServiceId!] }] }));
      assert.deepEqual(listed.VpcEndpointConnections!.map((c) => [c.VpcEndpointId, c.VpcEndpointState as string]).sort(), [[a.VpcEndpointId, 'pendingAcceptance'], [b.VpcEndpointId, 'pendingAcceptance']].sort());
      const accepted = await ec2.send(new AcceptVpcEndpointConnectionsCommand({ ServiceId: svc.ServiceId, VpcEndpointIds: [a.VpcEndpointId!, 'vpce-0123456789abcdef0'] }));
      assert.deepEqual(accepted.Unsuccessful!.map((u) => u.ResourceId), ['vpce-0123456789abcdef0']);
      await waitState(a.VpcEndpointId!, 'available');
      const again = await ec2.send(new RejectVpcEndpointConnectionsCommand({ ServiceId: svc.ServiceId, VpcEndpointIds: [a.VpcEndpointId!, b.VpcEndpointId!] }));
      assert.deepEqual(again.Unsuccessful!.map((u) => [u.ResourceId, u.Error!.Code]), [[a.VpcEndpointId, 'InvalidVpcEndpointState']]);
      assert.equal((await describeOne(b.VpcEndpointId!)).State as string, 'rejected');
      const rejected = await ec2.send(new DescribeVpcEndpointConnectionsCommand({ Filters: [{ Name: 'vpc-endpoint-state', Values: ['rejected'] }] }));
      assert.deepEqual(rejected.VpcEndpointConnections!.map((c) => c.VpcEndpointId), [b.VpcEndpointId]);
      assert.equal((await ec2Error(ec2.send(new DeleteSubnetCommand({ SubnetId: subnetA2 })))).code, 'DependencyViolation');
      await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [a.VpcEndpointId!, b.VpcEndpointId!] }));
    });

    it('a Gateway Load Balancer service takes GatewayLoadBalancer endpoints: one subnet, no groups, no DNS names', async () => {
      const gwlb = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/gwy/fw/0123456789abcdef';
      const svc = (await ec2.send(new CreateVpcEndpointServiceConfigurationCommand({ GatewayLoadBalancerArns: [gwlb] }))).ServiceConfiguration!;
      assert.deepEqual(svc.ServiceType, [{ ServiceType: 'GatewayLoadBalancer' }]);
      await pollUntil(
        () => ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [svc.ServiceId!] })),
        (o) => o.ServiceConfigurations![0]!.ServiceState === 'Available',
      );
      const name = svc.ServiceName!;
      const gw = { VpcId: vpcId, VpcEndpointType: 'GatewayLoadBalancer' as const, ServiceName: name };
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointCommand({ ...gw, SubnetIds: [subnetA, subnetB] })))).code, 'InvalidParameter');
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointCommand({ ...gw, SubnetIds: [subnetB], SecurityGroupIds: ['sg-0123456789abcdef0'] })))).code, 'InvalidParameter');
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointCommand({ ...gw, VpcEndpointType: 'Interface', SubnetIds: [subnetB] })))).code, 'InvalidParameter');
      const e = (await ec2.send(new CreateVpcEndpointCommand({ ...gw, SubnetIds: [subnetB] }))).VpcEndpoint!;
      assert.equal(e.VpcEndpointType, 'GatewayLoadBalancer');
      assert.deepEqual(e.DnsEntries, []);
      assert.deepEqual(e.Groups ?? [], []);
      assert.equal(e.PolicyDocument, undefined);
      await waitState(e.VpcEndpointId!, 'available');
      await ec2.send(new DeleteVpcEndpointsCommand({ VpcEndpointIds: [e.VpcEndpointId!] }));
    });

    it('refuses bad load balancers and names', async () => {
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointServiceConfigurationCommand({})))).code, 'InvalidParameter');
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointServiceConfigurationCommand({ NetworkLoadBalancerArns: ['arn:aws:nope'] })))).code, 'InvalidParameterValue');
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointServiceConfigurationCommand({ NetworkLoadBalancerArns: [NLB], PrivateDnsName: 'not a name' })))).code, 'InvalidParameterValue');
      assert.equal((await ec2Error(ec2.send(new CreateVpcEndpointServiceConfigurationCommand({ NetworkLoadBalancerArns: [NLB], SupportedIpAddressTypes: ['ipv5'] })))).code, 'InvalidParameterValue');
      const withDns = await ec2.send(new CreateVpcEndpointServiceConfigurationCommand({ NetworkLoadBalancerArns: [NLB], PrivateDnsName: 'api.example.com' }));
      assert.equal(withDns.ServiceConfiguration!.PrivateDnsNameConfiguration!.State, 'pendingVerification');
      assert.equal(withDns.ServiceConfiguration!.PrivateDnsNameConfiguration!.Type, 'TXT');
    });

    it('permissions: add, describe with filters, remove', async () => {
      const svc = (await ec2.send(new CreateVpcEndpointServiceConfigurationCommand({ NetworkLoadBalancerArns: [NLB] }))).ServiceConfiguration!.ServiceId!;
      const added = await ec2.send(
        new ModifyVpcEndpointServicePermissionsCommand({ ServiceId: svc, AddAllowedPrincipals: ['arn:aws:iam::111122223333:root', 'arn:aws:iam::111122223333:role/app'] }),
      );
      assert.equal(added.ReturnValue, true);
      assert.deepEqual(added.AddedPrincipals!.map((p) => p.PrincipalType), ['Account', 'Role']);
      assert.ok(added.AddedPrincipals!.every((p) => /^vpce-svc-perm-[0-9a-f]{17}$/.test(p.ServicePermissionId!)));
      const roles = await ec2.send(new DescribeVpcEndpointServicePermissionsCommand({ ServiceId: svc, Filters: [{ Name: 'principal-type', Values: ['Role'] }] }));
      assert.deepEqual(roles.AllowedPrincipals!.map((p) => p.Principal), ['arn:aws:iam::111122223333:role/app']);
      await ec2.send(new ModifyVpcEndpointServicePermissionsCommand({ ServiceId: svc, RemoveAllowedPrincipals: ['arn:aws:iam::111122223333:root'] }));
      const left = await ec2.send(new DescribeVpcEndpointServicePermissionsCommand({ ServiceId: svc }));
      assert.deepEqual(left.AllowedPrincipals!.map((p) => p.Principal), ['arn:aws:iam::111122223333:role/app']);
      assert.equal((await ec2Error(ec2.send(new ModifyVpcEndpointServicePermissionsCommand({ ServiceId: svc, AddAllowedPrincipals: ['bob'] })))).code, 'InvalidPrincipal');
      assert.equal((await ec2Error(ec2.send(new DescribeVpcEndpointServicePermissionsCommand({ ServiceId: 'vpce-svc-0123456789abcdef0' })))).code, 'InvalidVpcEndpointServiceId.NotFound');
    });
  });
});
