import * as EC2 from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { availableTgw, settle } from '../helpers/transit-gateways.js';

const ACCOUNT = '123456789012';

describe('transit gateway peering attachments', () => {
  let t: TestServer;
  let east: EC2.EC2Client;
  let west: EC2.EC2Client;

  before(async () => {
    t = await startTestServer();
    east = t.client('us-east-1');
    west = t.client('us-west-2');
  });
  after(() => t.close());

  async function peering(c: EC2.EC2Client, id: string): Promise<EC2.TransitGatewayPeeringAttachment> {
    return (await c.send(new EC2.DescribeTransitGatewayPeeringAttachmentsCommand({ TransitGatewayAttachmentIds: [id] }))).TransitGatewayPeeringAttachments![0]!;
  }

  async function request(from: EC2.TransitGateway, to: EC2.TransitGateway): Promise<string> {
    const out = await east.send(
      new EC2.CreateTransitGatewayPeeringAttachmentCommand({ TransitGatewayId: from.TransitGatewayId, PeerTransitGatewayId: to.TransitGatewayId, PeerAccountId: ACCOUNT, PeerRegion: 'us-west-2' }),
    );
    return out.TransitGatewayPeeringAttachment!.TransitGatewayAttachmentId!;
  }

  it('requester → accepter across regions: initiatingRequest → pendingAcceptance; accepted: pending → available on both sides', async () => {
    const a = await availableTgw(east);
    const b = await availableTgw(west);
    const created = (
      await east.send(
        new EC2.CreateTransitGatewayPeeringAttachmentCommand({
          TransitGatewayId: a.TransitGatewayId,
          PeerTransitGatewayId: b.TransitGatewayId,
          PeerAccountId: ACCOUNT,
          PeerRegion: 'us-west-2',
          TagSpecifications: [{ ResourceType: 'transit-gateway-attachment', Tags: [{ Key: 'Name', Value: 'east-west' }] }],
        }),
      )
    ).TransitGatewayPeeringAttachment!;
    const id = created.TransitGatewayAttachmentId!;
    assert.equal(created.State, 'initiatingRequest');
    assert.deepEqual(created.RequesterTgwInfo, { TransitGatewayId: a.TransitGatewayId, OwnerId: ACCOUNT, Region: 'us-east-1' });
    assert.deepEqual(created.AccepterTgwInfo, { TransitGatewayId: b.TransitGatewayId, OwnerId: ACCOUNT, Region: 'us-west-2' });
    assert.deepEqual(created.Tags, [{ Key: 'Name', Value: 'east-west' }]);
    await settle('pending acceptance', () => peering(east, id), (p) => p.State === 'pendingAcceptance');
    const theirs = await peering(west, id);
    assert.equal(theirs.State, 'pendingAcceptance');
    const all = (await west.send(new EC2.DescribeTransitGatewayAttachmentsCommand({ TransitGatewayAttachmentIds: [id] }))).TransitGatewayAttachments![0]!;
    assert.equal(all.ResourceType, 'peering');
    assert.equal(all.TransitGatewayId, b.TransitGatewayId);
    assert.equal(all.ResourceId, a.TransitGatewayId);

    // only the accepter accepts
    assert.equal((await ec2Error(east.send(new EC2.AcceptTransitGatewayPeeringAttachmentCommand({ TransitGatewayAttachmentId: id })))).code, 'IncorrectState');
    assert.equal((await ec2Error(west.send(new EC2.AcceptTransitGatewayPeeringAttachmentCommand({ TransitGatewayAttachmentId: id, DryRun: true })))).code, 'DryRunOperation');
    const accepted = (await west.send(new EC2.AcceptTransitGatewayPeeringAttachmentCommand({ TransitGatewayAttachmentId: id }))).TransitGatewayPeeringAttachment!;
    assert.equal(accepted.State, 'pending');
    await settle('available in the west', () => peering(west, id), (p) => p.State === 'available');
    await settle('available in the east', () => peering(east, id), (p) => p.State === 'available');
    // each side associated with its gateway's default association route table
    const eastSide = await settle(
      'associated',
      async () => (await east.send(new EC2.DescribeTransitGatewayAttachmentsCommand({ TransitGatewayAttachmentIds: [id] }))).TransitGatewayAttachments![0]!,
      (x) => x.Association?.State === 'associated',
    );
    assert.equal(eastSide.Association!.TransitGatewayRouteTableId, a.Options!.AssociationDefaultRouteTableId);
    // a static route to the peering attachment is active
    const route = (
      await east.send(new EC2.CreateTransitGatewayRouteCommand({ TransitGatewayRouteTableId: a.Options!.AssociationDefaultRouteTableId, DestinationCidrBlock: '10.200.0.0/16', TransitGatewayAttachmentId: id }))
    ).Route!;
    assert.deepEqual(route.TransitGatewayAttachments, [{ ResourceId: b.TransitGatewayId, TransitGatewayAttachmentId: id, ResourceType: 'peering' }]);
    assert.equal(route.State, 'active');

    // a gateway with a peering attachment is not deleted
    const refused = await ec2Error(west.send(new EC2.DeleteTransitGatewayCommand({ TransitGatewayId: b.TransitGatewayId })));
    assert.equal(refused.code, 'IncorrectState');
    assert.match(refused.message, /Peering Attachments/);
    // deleted from either side: both go
    const deleting = (await west.send(new EC2.DeleteTransitGatewayPeeringAttachmentCommand({ TransitGatewayAttachmentId: id }))).TransitGatewayPeeringAttachment!;
    assert.equal(deleting.State, 'deleting');
    await settle('deleted in the east', () => peering(east, id), (p) => p.State === 'deleted');
    await settle('deleted in the west', () => peering(west, id), (p) => p.State === 'deleted');
    assert.equal((await ec2Error(east.send(new EC2.DeleteTransitGatewayPeeringAttachmentCommand({ TransitGatewayAttachmentId: id })))).code, 'InvalidTransitGatewayAttachmentID.NotFound');
  });

  it('rejected by the accepter: rejecting → rejected on both sides', async () => {
    const a = await availableTgw(east);
    const b = await availableTgw(west);
    const id = await request(a, b);
    await settle('pending acceptance', () => peering(east, id), (p) => p.State === 'pendingAcceptance');
    const rejected = (await west.send(new EC2.RejectTransitGatewayPeeringAttachmentCommand({ TransitGatewayAttachmentId: id }))).TransitGatewayPeeringAttachment!;
    assert.equal(rejected.State, 'rejecting');
    await settle('rejected in the east', () => peering(east, id), (p) => p.State === 'rejected');
    assert.equal((await peering(west, id)).State, 'rejected');
    assert.equal((await ec2Error(west.send(new EC2.AcceptTransitGatewayPeeringAttachmentCommand({ TransitGatewayAttachmentId: id })))).code, 'InvalidTransitGatewayAttachmentID.NotFound');
    // a new request is allowed once the old one is rejected; the gateways can go once nothing is attached
    await request(a, b);
  });

  it('errors: the peer must exist in another served region, in this account; one peering per pair; filters', async () => {
    const a = await availableTgw(east);
    const b = await availableTgw(west);
    const local = await availableTgw(east);
    const create = (input: Partial<EC2.CreateTransitGatewayPeeringAttachmentRequest>) =>
      ec2Error(
        east.send(
          new EC2.CreateTransitGatewayPeeringAttachmentCommand({ TransitGatewayId: a.TransitGatewayId, PeerTransitGatewayId: b.TransitGatewayId, PeerAccountId: ACCOUNT, PeerRegion: 'us-west-2', ...input }),
        ),
      );
    const before = (await east.send(new EC2.DescribeTransitGatewayPeeringAttachmentsCommand({}))).TransitGatewayPeeringAttachments!.length;
    assert.equal((await create({ PeerTransitGatewayId: local.TransitGatewayId })).code, 'InvalidTransitGatewayID.NotFound');
    assert.equal((await create({ PeerTransitGatewayId: local.TransitGatewayId, PeerRegion: 'us-east-1' })).code, 'InvalidParameterValue');
    assert.equal((await create({ PeerRegion: 'mars-north-1' })).code, 'InvalidParameterValue');
    assert.equal((await create({ PeerAccountId: '210987654321' })).code, 'InvalidParameterValue');
    assert.equal((await create({ PeerTransitGatewayId: 'tgw-zz' })).code, 'InvalidTransitGatewayID.Malformed');
    assert.equal((await create({ PeerRegion: undefined })).code, 'MissingParameter');
    assert.equal((await create({ Options: { DynamicRouting: 'enable' } })).code, 'InvalidParameterValue');
    assert.equal((await create({ DryRun: true })).code, 'DryRunOperation');
    assert.equal((await east.send(new EC2.DescribeTransitGatewayPeeringAttachmentsCommand({}))).TransitGatewayPeeringAttachments!.length, before);
    const id = await request(a, b);
    assert.equal((await create({})).code, 'DuplicateTransitGatewayAttachment');
    const f = (Name: string, ...Values: string[]) => ({ Name, Values });
    const found = async (Filters: EC2.Filter[]) => (await east.send(new EC2.DescribeTransitGatewayPeeringAttachmentsCommand({ Filters }))).TransitGatewayPeeringAttachments!.map((p) => p.TransitGatewayAttachmentId);
    assert.deepEqual(await found([f('transit-gateway-id', a.TransitGatewayId!)]), [id]);
    assert.deepEqual(await found([f('transit-gateway-id', a.TransitGatewayId!), f('local-owner-id', ACCOUNT), f('remote-owner-id', ACCOUNT)]), [id]);
    assert.deepEqual(await found([f('transit-gateway-id', a.TransitGatewayId!), f('state', 'available')]), []);
    assert.equal((await ec2Error(east.send(new EC2.DescribeTransitGatewayPeeringAttachmentsCommand({ Filters: [f('vpc-id', 'x')] })))).code, 'InvalidParameterValue');
    // a VPC attachment's id is not a peering attachment, and the other way round
    assert.equal((await ec2Error(east.send(new EC2.DescribeTransitGatewayVpcAttachmentsCommand({ TransitGatewayAttachmentIds: [id] })))).code, 'InvalidTransitGatewayAttachmentID.NotFound');
    assert.equal((await ec2Error(east.send(new EC2.DeleteTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: id })))).code, 'InvalidTransitGatewayAttachmentID.NotFound');
  });
});
