import * as EC2 from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { availableAttachment, availableTgw, describeAttachment, settle, vpcWithSubnets } from '../helpers/transit-gateways.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';

describe('transit gateway VPC attachments', () => {
  let t: TestServer;
  let c: EC2.EC2Client;
  let tgw: EC2.TransitGateway;
  let second = 60;

  before(async () => {
    t = await startTestServer();
    c = t.client();
    tgw = await availableTgw(c);
  });
  after(() => t.close());

  const vpc = (zones: string[] = ['us-east-1a', 'us-east-1b']) => vpcWithSubnets(c, ++second, zones);

  async function describeVpcAttachment(id: string): Promise<EC2.TransitGatewayVpcAttachment> {
    const out = await c.send(new EC2.DescribeTransitGatewayVpcAttachmentsCommand({ TransitGatewayAttachmentIds: [id] }));
    return out.TransitGatewayVpcAttachments![0]!;
  }

  it('CreateTransitGatewayVpcAttachment: pending, then available, associated with and propagating into the default route table', async () => {
    const { vpcId, subnetIds } = await vpc();
    const created = (
      await c.send(
        new EC2.CreateTransitGatewayVpcAttachmentCommand({
          TransitGatewayId: tgw.TransitGatewayId,
          VpcId: vpcId,
          SubnetIds: subnetIds,
          Options: { ApplianceModeSupport: 'enable' },
          TagSpecifications: [{ ResourceType: 'transit-gateway-attachment', Tags: [{ Key: 'Name', Value: 'spoke' }] }],
        }),
      )
    ).TransitGatewayVpcAttachment!;
    assert.match(created.TransitGatewayAttachmentId!, /^tgw-attach-[0-9a-f]{17}$/);
    assert.equal(created.State, 'pending');
    assert.equal(created.VpcId, vpcId);
    assert.equal(created.VpcOwnerId, '123456789012');
    assert.deepEqual(created.SubnetIds, subnetIds);
    assert.deepEqual(created.Options, { DnsSupport: 'enable', SecurityGroupReferencingSupport: 'enable', Ipv6Support: 'disable', ApplianceModeSupport: 'enable' });
    assert.deepEqual(created.Tags, [{ Key: 'Name', Value: 'spoke' }]);
    const id = created.TransitGatewayAttachmentId!;
    const a = await settle('available', () => describeAttachment(c, id), (x) => x.State === 'available' && x.Association?.State === 'associated');
    const table = tgw.Options!.AssociationDefaultRouteTableId!;
    assert.deepEqual(a.Association, { TransitGatewayRouteTableId: table, State: 'associated' });
    assert.equal(a.ResourceType, 'vpc');
    assert.equal(a.ResourceId, vpcId);
    assert.equal(a.TransitGatewayOwnerId, '123456789012');
    const props = await settle(
      'the propagation enabled',
      async () => (await c.send(new EC2.GetTransitGatewayRouteTablePropagationsCommand({ TransitGatewayRouteTableId: table }))).TransitGatewayRouteTablePropagations!,
      (ps) => ps.some((p) => p.TransitGatewayAttachmentId === id && p.State === 'enabled'),
    );
    assert.deepEqual(props.find((p) => p.TransitGatewayAttachmentId === id), { TransitGatewayAttachmentId: id, ResourceId: vpcId, ResourceType: 'vpc', State: 'enabled' });
    const assocs = (await c.send(new EC2.GetTransitGatewayRouteTableAssociationsCommand({ TransitGatewayRouteTableId: table, Filters: [{ Name: 'resource-id', Values: [vpcId] }] }))).Associations!;
    assert.deepEqual(assocs, [{ TransitGatewayAttachmentId: id, ResourceId: vpcId, ResourceType: 'vpc', State: 'associated' }]);
  });

  it('no default association or propagation when the gateway says disable', async () => {
    const g = await availableTgw(c, { Options: { DefaultRouteTableAssociation: 'disable', DefaultRouteTablePropagation: 'disable' } });
    const { vpcId, subnetIds } = await vpc(['us-east-1a']);
    const a = await availableAttachment(c, g.TransitGatewayId!, vpcId, subnetIds);
    assert.equal(a.Association, undefined);
  });

  it('CreateTransitGatewayVpcAttachment: one subnet per zone, of the VPC, one attachment per VPC; errors change nothing', async () => {
    const { vpcId, subnetIds } = await vpc(['us-east-1a', 'us-east-1a']);
    const other = await vpc(['us-east-1c']);
    const create = (input: Partial<EC2.CreateTransitGatewayVpcAttachmentRequest>) =>
      ec2Error(c.send(new EC2.CreateTransitGatewayVpcAttachmentCommand({ TransitGatewayId: tgw.TransitGatewayId, VpcId: vpcId, SubnetIds: [subnetIds[0]!], ...input })));
    const before = (await c.send(new EC2.DescribeTransitGatewayAttachmentsCommand({}))).TransitGatewayAttachments!.length;
    const dup = await create({ SubnetIds: subnetIds });
    assert.equal(dup.code, 'DuplicateSubnetsInSameZone');
    assert.equal((await create({ SubnetIds: other.subnetIds })).code, 'InvalidParameterValue');
    assert.equal((await create({ SubnetIds: ['subnet-0123456789abcdef0'] })).code, 'InvalidSubnetID.NotFound');
    assert.equal((await create({ SubnetIds: [] })).code, 'MissingParameter');
    assert.equal((await create({ VpcId: 'vpc-0123456789abcdef0' })).code, 'InvalidVpcID.NotFound');
    assert.equal((await create({ TransitGatewayId: 'tgw-0123456789abcdef0' })).code, 'InvalidTransitGatewayID.NotFound');
    assert.equal((await create({ TransitGatewayId: 'igw-0123456789abcdef0' })).code, 'InvalidTransitGatewayID.Malformed');
    assert.equal((await create({ Options: { DnsSupport: 'yes' as EC2.DnsSupportValue } })).code, 'InvalidParameterValue');
    assert.equal((await create({ TagSpecifications: [{ ResourceType: 'transit-gateway', Tags: [{ Key: 'a', Value: 'b' }] }] })).code, 'InvalidParameterValue');
    assert.equal((await create({ DryRun: true })).code, 'DryRunOperation');
    assert.equal((await c.send(new EC2.DescribeTransitGatewayAttachmentsCommand({}))).TransitGatewayAttachments!.length, before);
    await availableAttachment(c, tgw.TransitGatewayId!, vpcId, [subnetIds[0]!]);
    const again = await create({});
    assert.equal(again.code, 'DuplicateTransitGatewayAttachment');
    assert.match(again.message, /has non-deleted Transit Gateway Attachments with same VPC ID/);
  });

  it('an attachment to a gateway that is not available is refused (IncorrectState); so is modifying one that is not available', async () => {
    const g = await availableTgw(c);
    const id = g.TransitGatewayId!;
    // held in a state the reconcile loop is not told about (it would settle it at the next resync)
    const col = t.server.store.collection(KINDS.transitGateway);
    const record = col.get('us-east-1', id)!;
    t.server.store.transaction(() => col.put('us-east-1', id, { ...record, State: 'deleting' }));
    const { vpcId, subnetIds } = await vpc(['us-east-1a']);
    const refused = await ec2Error(c.send(new EC2.CreateTransitGatewayVpcAttachmentCommand({ TransitGatewayId: id, VpcId: vpcId, SubnetIds: subnetIds })));
    assert.equal(refused.code, 'IncorrectState');
    assert.equal((await ec2Error(c.send(new EC2.ModifyTransitGatewayCommand({ TransitGatewayId: id, Description: 'x' })))).code, 'IncorrectState');
    assert.equal((await ec2Error(c.send(new EC2.DeleteTransitGatewayCommand({ TransitGatewayId: id })))).code, 'IncorrectState');
    assert.equal((await ec2Error(c.send(new EC2.CreateTransitGatewayRouteTableCommand({ TransitGatewayId: id })))).code, 'IncorrectState');
    t.server.store.transaction(() => col.put('us-east-1', id, record));

    const a = await availableAttachment(c, id, vpcId, subnetIds);
    const attachments = t.server.store.collection(KINDS.transitGatewayAttachment);
    const held = attachments.get('us-east-1', a.TransitGatewayAttachmentId!)!;
    t.server.store.transaction(() => attachments.put('us-east-1', held.TransitGatewayAttachmentId, { ...held, State: 'modifying' }));
    assert.equal((await ec2Error(c.send(new EC2.ModifyTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: held.TransitGatewayAttachmentId, Options: { DnsSupport: 'disable' } })))).code, 'IncorrectState');
  });

  it('ModifyTransitGatewayVpcAttachment: add and remove subnets, change options; modifying → available', async () => {
    const { vpcId, subnetIds } = await vpc(['us-east-1a', 'us-east-1b', 'us-east-1b']);
    const a = await availableAttachment(c, tgw.TransitGatewayId!, vpcId, [subnetIds[0]!]);
    const id = a.TransitGatewayAttachmentId!;
    const modified = (await c.send(new EC2.ModifyTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: id, AddSubnetIds: [subnetIds[1]!], Options: { DnsSupport: 'disable' } })))
      .TransitGatewayVpcAttachment!;
    assert.equal(modified.State, 'modifying');
    assert.deepEqual(modified.SubnetIds, [subnetIds[0], subnetIds[1]]);
    const settled = await settle('available', () => describeVpcAttachment(id), (x) => x.State === 'available');
    assert.equal(settled.Options!.DnsSupport, 'disable');
    assert.equal(settled.Options!.ApplianceModeSupport, 'disable');
    // a second subnet of zone b; removing every subnet; a subnet it does not have
    assert.equal((await ec2Error(c.send(new EC2.ModifyTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: id, AddSubnetIds: [subnetIds[2]!] })))).code, 'DuplicateSubnetsInSameZone');
    assert.equal((await ec2Error(c.send(new EC2.ModifyTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: id, RemoveSubnetIds: [subnetIds[0]!, subnetIds[1]!] })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new EC2.ModifyTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: id, RemoveSubnetIds: [subnetIds[2]!] })))).code, 'InvalidParameterValue');
    // replacing zone b's subnet in one call
    await c.send(new EC2.ModifyTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: id, RemoveSubnetIds: [subnetIds[1]!], AddSubnetIds: [subnetIds[2]!] }));
    const replaced = await settle('available', () => describeVpcAttachment(id), (x) => x.State === 'available');
    assert.deepEqual(replaced.SubnetIds, [subnetIds[0], subnetIds[2]]);
    assert.equal((await ec2Error(c.send(new EC2.ModifyTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: 'tgw-attach-0123456789abcdef0' })))).code, 'InvalidTransitGatewayAttachmentID.NotFound');
  });

  it('Accept and Reject: a one-account attachment is never pending acceptance (IncorrectState)', async () => {
    const { vpcId, subnetIds } = await vpc(['us-east-1a']);
    const a = await availableAttachment(c, tgw.TransitGatewayId!, vpcId, subnetIds);
    const accept = await ec2Error(c.send(new EC2.AcceptTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: a.TransitGatewayAttachmentId })));
    assert.equal(accept.code, 'IncorrectState');
    assert.equal((await ec2Error(c.send(new EC2.RejectTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: a.TransitGatewayAttachmentId })))).code, 'IncorrectState');
    assert.equal((await ec2Error(c.send(new EC2.AcceptTransitGatewayVpcAttachmentCommand({} as EC2.AcceptTransitGatewayVpcAttachmentRequest)))).code, 'MissingParameter');
    assert.equal((await describeAttachment(c, a.TransitGatewayAttachmentId!)).State, 'available');
  });

  it('DeleteTransitGatewayVpcAttachment: deleting → deleted; association and propagation go; still described, then not found for other calls', async () => {
    const { vpcId, subnetIds } = await vpc(['us-east-1a']);
    const a = await availableAttachment(c, tgw.TransitGatewayId!, vpcId, subnetIds);
    const id = a.TransitGatewayAttachmentId!;
    const table = tgw.Options!.AssociationDefaultRouteTableId!;
    // its subnet (and so its VPC) is not deleted while it is attached
    assert.equal((await ec2Error(c.send(new EC2.DeleteSubnetCommand({ SubnetId: subnetIds[0] })))).code, 'DependencyViolation');
    assert.equal((await ec2Error(c.send(new EC2.DeleteVpcCommand({ VpcId: vpcId })))).code, 'DependencyViolation');
    const deleting = (await c.send(new EC2.DeleteTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: id }))).TransitGatewayVpcAttachment!;
    assert.equal(deleting.State, 'deleting');
    const gone = await settle('deleted', () => describeAttachment(c, id), (x) => x.State === 'deleted');
    assert.equal(gone.Association, undefined);
    const props = (await c.send(new EC2.GetTransitGatewayRouteTablePropagationsCommand({ TransitGatewayRouteTableId: table }))).TransitGatewayRouteTablePropagations!;
    assert.ok(!props.some((p) => p.TransitGatewayAttachmentId === id));
    const assocs = (await c.send(new EC2.GetTransitGatewayRouteTableAssociationsCommand({ TransitGatewayRouteTableId: table }))).Associations!;
    assert.ok(!assocs.some((x) => x.TransitGatewayAttachmentId === id));
    assert.equal((await describeVpcAttachment(id)).State, 'deleted');
    assert.equal((await ec2Error(c.send(new EC2.DeleteTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: id })))).code, 'InvalidTransitGatewayAttachmentID.NotFound');
    // a new attachment of the same VPC is allowed once the old one is deleted
    const again = await availableAttachment(c, tgw.TransitGatewayId!, vpcId, subnetIds);
    await c.send(new EC2.DeleteTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: again.TransitGatewayAttachmentId }));
    await settle('deleted', () => describeAttachment(c, again.TransitGatewayAttachmentId!), (x) => x.State === 'deleted');
    await c.send(new EC2.DeleteSubnetCommand({ SubnetId: subnetIds[0] }));
  });

  it('DescribeTransitGatewayAttachments and DescribeTransitGatewayVpcAttachments: filters, tags, pagination, errors', async () => {
    const { vpcId, subnetIds } = await vpc(['us-east-1a']);
    const a = await availableAttachment(c, tgw.TransitGatewayId!, vpcId, subnetIds);
    const id = a.TransitGatewayAttachmentId!;
    await c.send(new EC2.CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'env', Value: 'prod' }] }));
    const f = (Name: string, ...Values: string[]) => ({ Name, Values });
    const ids = async (Filters: EC2.Filter[]) => (await c.send(new EC2.DescribeTransitGatewayAttachmentsCommand({ Filters }))).TransitGatewayAttachments!.map((x) => x.TransitGatewayAttachmentId);
    assert.deepEqual(await ids([f('resource-id', vpcId)]), [id]);
    assert.deepEqual(await ids([f('tag:env', 'prod')]), [id]);
    assert.deepEqual(await ids([f('resource-id', vpcId), f('association.state', 'associated'), f('resource-type', 'vpc'), f('transit-gateway-id', tgw.TransitGatewayId!)]), [id]);
    assert.deepEqual(await ids([f('resource-id', vpcId), f('state', 'pending')]), []);
    const vpcIds = (await c.send(new EC2.DescribeTransitGatewayVpcAttachmentsCommand({ Filters: [f('vpc-id', vpcId)] }))).TransitGatewayVpcAttachments!;
    assert.deepEqual(vpcIds.map((x) => x.TransitGatewayAttachmentId), [id]);
    assert.deepEqual(vpcIds[0]!.Tags, [{ Key: 'env', Value: 'prod' }]);
    assert.equal((await ec2Error(c.send(new EC2.DescribeTransitGatewayAttachmentsCommand({ Filters: [f('vpc-id', vpcId)] })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new EC2.DescribeTransitGatewayVpcAttachmentsCommand({ Filters: [f('resource-id', vpcId)] })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new EC2.DescribeTransitGatewayAttachmentsCommand({ TransitGatewayAttachmentIds: ['tgw-attach-0123456789abcdef0'] })))).code, 'InvalidTransitGatewayAttachmentID.NotFound');
    assert.equal((await ec2Error(c.send(new EC2.DescribeTransitGatewayAttachmentsCommand({ TransitGatewayAttachmentIds: ['tgw-0123456789abcdef0'] })))).code, 'InvalidTransitGatewayAttachmentID.Malformed');
    assert.equal((await ec2Error(c.send(new EC2.DescribeTransitGatewayVpcAttachmentsCommand({ MaxResults: 1001 })))).code, 'InvalidParameterValue');
    const all = (await c.send(new EC2.DescribeTransitGatewayAttachmentsCommand({}))).TransitGatewayAttachments!.map((x) => x.TransitGatewayAttachmentId);
    assert.ok(all.length > 5);
    const first = await c.send(new EC2.DescribeTransitGatewayAttachmentsCommand({ MaxResults: 5 }));
    assert.equal(first.TransitGatewayAttachments!.length, 5);
    const rest = await c.send(new EC2.DescribeTransitGatewayAttachmentsCommand({ NextToken: first.NextToken }));
    assert.deepEqual([...first.TransitGatewayAttachments!, ...rest.TransitGatewayAttachments!].map((x) => x.TransitGatewayAttachmentId), all);
    // tags on attachments and route tables through CreateTags / DescribeTags
    const tags = await c.send(new EC2.DescribeTagsCommand({ Filters: [f('resource-id', id)] }));
    assert.deepEqual(tags.Tags!.map((x) => [x.ResourceType, x.Key]), [['transit-gateway-attachment', 'env']]);
    await c.send(new EC2.CreateTagsCommand({ Resources: [tgw.Options!.AssociationDefaultRouteTableId!], Tags: [{ Key: 'k', Value: 'v' }] }));
    const rt = await c.send(new EC2.DescribeTransitGatewayRouteTablesCommand({ Filters: [f('tag:k', 'v')] }));
    assert.deepEqual(rt.TransitGatewayRouteTables!.map((x) => x.TransitGatewayRouteTableId), [tgw.Options!.AssociationDefaultRouteTableId]);
  });
});
