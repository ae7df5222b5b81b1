import {
  AcceptVpcPeeringConnectionCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeRouteTablesCommand,
  DescribeVpcPeeringConnectionsCommand,
  ModifyVpcPeeringConnectionOptionsCommand,
  RejectVpcPeeringConnectionCommand,
  type EC2Client,
  type VpcPeeringConnection,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { internalContext } from '../../src/resources/context.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import { KEEP_FINAL_MS } from '../../src/resources/ec2/state-machines.js';
import { PEERING_REQUEST_TTL_MS, peeringMachine } from '../../src/resources/ec2/vpc-peering.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('VPC peering connections', () => {
  let t: TestServer;
  let east: EC2Client;
  let west: EC2Client;
  before(async () => {
    t = await startTestServer();
    east = t.client('us-east-1');
    west = t.client('us-west-2');
  });
  after(() => t.close());

  const vpc = async (c: EC2Client, CidrBlock: string) => (await c.send(new CreateVpcCommand({ CidrBlock }))).Vpc!.VpcId!;
  const code = async (p: Promise<unknown>) => (await ec2Error(p)).code;
  const describe1 = async (c: EC2Client, id: string): Promise<VpcPeeringConnection> =>
    (await c.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] }))).VpcPeeringConnections![0]!;
  const until = (c: EC2Client, id: string, state: string): Promise<VpcPeeringConnection> =>
    eventually(`${id} ${state}`, () => describe1(c, id), (p) => p.Status?.Code === state);

  it('a request in one region goes initiating-request -> pending-acceptance -> provisioning -> active, and routes may use it', async () => {
    const a = await vpc(east, '10.100.0.0/16');
    const b = await vpc(east, '10.101.0.0/16');
    const out = await east.send(
      new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: b, TagSpecifications: [{ ResourceType: 'vpc-peering-connection', Tags: [{ Key: 'Name', Value: 'ab' }] }] }),
    );
    const p = out.VpcPeeringConnection!;
    assert.match(p.VpcPeeringConnectionId!, /^pcx-[0-9a-f]{17}$/);
    assert.equal(p.Status!.Code, 'initiating-request');
    assert.equal(p.RequesterVpcInfo!.CidrBlock, '10.100.0.0/16');
    assert.equal(p.RequesterVpcInfo!.Region, 'us-east-1');
    assert.equal(p.AccepterVpcInfo!.VpcId, b);
    assert.deepEqual(p.Tags, [{ Key: 'Name', Value: 'ab' }]);
    const id = p.VpcPeeringConnectionId!;
    // a route may name it at once, while it is still being requested (a client cannot wait for that state's end)
    const early = (await east.send(new CreateRouteTableCommand({ VpcId: a }))).RouteTable!.RouteTableId!;
    await east.send(new CreateRouteCommand({ RouteTableId: early, DestinationCidrBlock: '10.101.0.0/16', VpcPeeringConnectionId: id }));
    const pending = await until(east, id, 'pending-acceptance');
    assert.equal(pending.AccepterVpcInfo!.CidrBlock, '10.101.0.0/16');
    assert.ok(pending.ExpirationTime instanceof Date && pending.ExpirationTime.getTime() > Date.now());
    const rtb = (await east.send(new CreateRouteTableCommand({ VpcId: a }))).RouteTable!.RouteTableId!;
    await east.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '10.101.0.0/16', VpcPeeringConnectionId: id }));
    const route = async () => (await east.send(new DescribeRouteTablesCommand({ RouteTableIds: [rtb] }))).RouteTables![0]!.Routes!.find((r) => r.VpcPeeringConnectionId)!;
    assert.equal((await route()).State, 'blackhole', 'not active yet');
    assert.equal(await code(east.send(new ModifyVpcPeeringConnectionOptionsCommand({ VpcPeeringConnectionId: id, RequesterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: true } }))), 'OperationNotPermitted');

    const accepted = await east.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    assert.equal(accepted.VpcPeeringConnection!.Status!.Code, 'provisioning');
    const active = await until(east, id, 'active');
    assert.equal(active.ExpirationTime, undefined);
    assert.equal((await route()).State, 'active');
    assert.equal(await code(east.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }))), 'InvalidStateTransition');

    const mod = await east.send(new ModifyVpcPeeringConnectionOptionsCommand({ VpcPeeringConnectionId: id, AccepterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: true } }));
    assert.equal(mod.AccepterPeeringConnectionOptions!.AllowDnsResolutionFromRemoteVpc, true);
    assert.equal((await describe1(east, id)).AccepterVpcInfo!.PeeringOptions!.AllowDnsResolutionFromRemoteVpc, true);
    assert.equal((await describe1(east, id)).RequesterVpcInfo!.PeeringOptions!.AllowDnsResolutionFromRemoteVpc, false);
    assert.equal(await code(east.send(new ModifyVpcPeeringConnectionOptionsCommand({ VpcPeeringConnectionId: id, RequesterPeeringConnectionOptions: { AllowEgressFromLocalClassicLinkToRemoteVpc: true } }))), 'UnsupportedOperation');

    for (const [Name, value] of [
      ['status-code', 'active'],
      ['requester-vpc-info.vpc-id', a],
      ['accepter-vpc-info.cidr-block', '10.101.0.0/16'],
      ['tag:Name', 'ab'],
    ] as const) {
      const found = await east.send(new DescribeVpcPeeringConnectionsCommand({ Filters: [{ Name, Values: [value] }] }));
      assert.deepEqual(found.VpcPeeringConnections!.map((x) => x.VpcPeeringConnectionId), [id], Name);
    }
    const del = await east.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    assert.equal(del.Return, true);
    await until(east, id, 'deleted');
    assert.equal((await route()).State, 'blackhole');
    assert.equal(await code(east.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }))), 'InvalidStateTransition');
  });

  it('between regions: both regions show it, the accepter accepts in its own region', async () => {
    const a = await vpc(east, '10.102.0.0/16');
    const b = await vpc(west, '10.103.0.0/16');
    const id = (await east.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: b, PeerRegion: 'us-west-2' }))).VpcPeeringConnection!.VpcPeeringConnectionId!;
    await until(west, id, 'pending-acceptance');
    assert.equal(await code(east.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }))), 'OperationNotPermitted');
    await west.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    const active = await until(east, id, 'active');
    assert.equal(active.AccepterVpcInfo!.Region, 'us-west-2');
    assert.equal(await code(east.send(new ModifyVpcPeeringConnectionOptionsCommand({ VpcPeeringConnectionId: id, AccepterPeeringConnectionOptions: { AllowDnsResolutionFromRemoteVpc: true } }))), 'OperationNotPermitted');
    await west.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    await until(east, id, 'deleted');

    // a peer VPC missing from the other region: failed
    const missing = (await east.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: 'vpc-0123456789abcdef0', PeerRegion: 'us-west-2' }))).VpcPeeringConnection!;
    const failed = await until(east, missing.VpcPeeringConnectionId!, 'failed');
    assert.match(failed.Status!.Message!, /does not exist/);
  });

  it('a request nobody accepts expires after 7 days, and a final state is dropped from both regions an hour later', async () => {
    const a = await vpc(east, '10.106.0.0/16');
    const b = await vpc(west, '10.107.0.0/16');
    const id = (await east.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: b, PeerRegion: 'us-west-2' }))).VpcPeeringConnection!.VpcPeeringConnectionId!;
    await until(east, id, 'pending-acceptance');
    const store = t.server.store;
    const step = (at: number) => {
      const ctx = internalContext(store, t.server.config, 'us-east-1', { now: new Date(at) });
      const record = store.collection(KINDS.vpcPeeringConnection).get('us-east-1', id)!;
      assert.ok(peeringMachine.due(record as never)! <= at);
      return store.transaction(() => peeringMachine.advance(ctx, structuredClone(record) as never));
    };
    const expiry = Date.now() + PEERING_REQUEST_TTL_MS + 1000;
    assert.equal(step(expiry), true);
    assert.equal((await describe1(west, id)).Status!.Code, 'expired');
    assert.equal(step(expiry + KEEP_FINAL_MS + 1000), true);
    assert.equal(await code(east.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] }))), 'InvalidVpcPeeringConnectionID.NotFound');
    assert.equal(await code(west.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] }))), 'InvalidVpcPeeringConnectionID.NotFound');
  });

  it('overlapping blocks fail; a rejected request is shown as rejected; bad input changes nothing', async () => {
    const a = await vpc(east, '10.104.0.0/16');
    const b = await vpc(east, '10.104.0.0/20');
    const c = await vpc(east, '10.105.0.0/16');
    const overlap = (await east.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: b }))).VpcPeeringConnection!;
    const failed = await until(east, overlap.VpcPeeringConnectionId!, 'failed');
    assert.match(failed.Status!.Message!, /overlapping CIDRs/);
    assert.equal(await code(east.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: overlap.VpcPeeringConnectionId }))), 'InvalidStateTransition');

    const r = (await east.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: c }))).VpcPeeringConnection!.VpcPeeringConnectionId!;
    await until(east, r, 'pending-acceptance');
    assert.equal((await east.send(new RejectVpcPeeringConnectionCommand({ VpcPeeringConnectionId: r }))).Return, true);
    assert.equal((await describe1(east, r)).Status!.Code, 'rejected');
    assert.equal(await code(east.send(new RejectVpcPeeringConnectionCommand({ VpcPeeringConnectionId: r }))), 'InvalidStateTransition');

    const before = (await east.send(new DescribeVpcPeeringConnectionsCommand({}))).VpcPeeringConnections!.length;
    assert.equal(await code(east.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: 'vpc-0123456789abcdef0' }))), 'InvalidVpcID.NotFound');
    assert.equal(await code(east.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: a }))), 'InvalidParameterValue');
    assert.equal(await code(east.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: c, PeerRegion: 'xx-nowhere-1' }))), 'InvalidParameterValue');
    assert.equal(await code(east.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: 'nope' }))), 'InvalidVpcID.Malformed');
    assert.equal(await code(east.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: c, DryRun: true }))), 'DryRunOperation');
    assert.equal((await east.send(new DescribeVpcPeeringConnectionsCommand({}))).VpcPeeringConnections!.length, before);
    assert.equal(await code(east.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: ['pcx-0123456789abcdef0'] }))), 'InvalidVpcPeeringConnectionID.NotFound');
    assert.equal(await code(east.send(new DescribeVpcPeeringConnectionsCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] }))), 'InvalidParameterValue');
    assert.equal(await code(east.send(new DescribeVpcPeeringConnectionsCommand({ MaxResults: 4 }))), 'InvalidParameterValue');
    const page = await east.send(new DescribeVpcPeeringConnectionsCommand({ MaxResults: 5 }));
    assert.ok(page.VpcPeeringConnections!.length <= 5);
  });

  it('a rule may name a group of a VPC peered in the same region once the connection is active; before, or another region’s, it is refused and nothing changes', async () => {
    const a = await vpc(east, '10.120.0.0/16');
    const b = await vpc(east, '10.121.0.0/16');
    const ga = (await east.send(new CreateSecurityGroupCommand({ GroupName: 'a', Description: 'a', VpcId: a }))).GroupId!;
    const gb = (await east.send(new CreateSecurityGroupCommand({ GroupName: 'b', Description: 'b', VpcId: b }))).GroupId!;
    const allowFrom = (GroupId: string, c = east, to = gb) =>
      c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: to, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId }] }] }));
    const rules = async () => (await east.send(new DescribeSecurityGroupsCommand({ GroupIds: [gb] }))).SecurityGroups![0]!.IpPermissions ?? [];
    const id = (await east.send(new CreateVpcPeeringConnectionCommand({ VpcId: a, PeerVpcId: b }))).VpcPeeringConnection!.VpcPeeringConnectionId!;
    await until(east, id, 'pending-acceptance');
    assert.equal(await code(allowFrom(ga)), 'InvalidGroup.NotFound', 'not active yet: another network');
    assert.deepEqual(await rules(), []);
    await east.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    await until(east, id, 'active');
    await allowFrom(ga);
    assert.deepEqual((await rules()).map((p) => p.UserIdGroupPairs?.map((g) => g.GroupId)), [[ga]]);
    // a group of another region is not found there, peered or not
    const w = await vpc(west, '10.122.0.0/16');
    const gw = (await west.send(new CreateSecurityGroupCommand({ GroupName: 'w', Description: 'w', VpcId: w }))).GroupId!;
    assert.equal(await code(allowFrom(gw)), 'InvalidGroup.NotFound');
    await east.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    await until(east, id, 'deleted');
    assert.equal(await code(allowFrom(ga, east, (await east.send(new CreateSecurityGroupCommand({ GroupName: 'b2', Description: 'b2', VpcId: b }))).GroupId!)), 'InvalidGroup.NotFound', 'deleted: another network again');
  });
});
