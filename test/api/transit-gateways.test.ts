import * as EC2 from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { availableAttachment, availableTgw, describeTgw, settle, vpcWithSubnets } from '../helpers/transit-gateways.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import { DELETED_VISIBLE_MS } from '../../src/resources/ec2/transit-gateways.js';
import { TransitGatewayReconciler } from '../../src/reconcile/transit-gateways.js';

describe('transit gateways', () => {
  let t: TestServer;
  let c: EC2.EC2Client;

  before(async () => {
    t = await startTestServer();
    c = t.client();
  });
  after(() => t.close());

  it('CreateTransitGateway: pending with the default options and a default route table, then available', async () => {
    const created = (await c.send(new EC2.CreateTransitGatewayCommand({ Description: 'core' }))).TransitGateway!;
    assert.match(created.TransitGatewayId!, /^tgw-[0-9a-f]{17}$/);
    assert.equal(created.State, 'pending');
    assert.equal(created.Description, 'core');
    assert.equal(created.OwnerId, '123456789012');
    assert.equal(created.TransitGatewayArn, `arn:aws:ec2:us-east-1:123456789012:transit-gateway/${created.TransitGatewayId}`);
    assert.ok(created.CreationTime instanceof Date);
    const o = created.Options!;
    assert.equal(o.AmazonSideAsn, 64512);
    assert.equal(o.AutoAcceptSharedAttachments, 'disable');
    assert.equal(o.DefaultRouteTableAssociation, 'enable');
    assert.equal(o.DefaultRouteTablePropagation, 'enable');
    assert.equal(o.DnsSupport, 'enable');
    assert.equal(o.VpnEcmpSupport, 'enable');
    assert.equal(o.MulticastSupport, 'disable');
    assert.match(o.AssociationDefaultRouteTableId!, /^tgw-rtb-[0-9a-f]{17}$/);
    assert.equal(o.PropagationDefaultRouteTableId, o.AssociationDefaultRouteTableId);

    const available = await settle('available', () => describeTgw(c, created.TransitGatewayId!), (g) => g.State === 'available');
    assert.deepEqual(available.Options, o);
    const tables = await settle(
      'its route table',
      async () => (await c.send(new EC2.DescribeTransitGatewayRouteTablesCommand({ TransitGatewayRouteTableIds: [o.AssociationDefaultRouteTableId!] }))).TransitGatewayRouteTables!,
      (ts) => ts[0]?.State === 'available',
    );
    assert.equal(tables[0]!.TransitGatewayId, created.TransitGatewayId);
    assert.equal(tables[0]!.DefaultAssociationRouteTable, true);
    assert.equal(tables[0]!.DefaultPropagationRouteTable, true);
  });

  it('CreateTransitGateway: options given are kept; no default route table when neither default asks for one', async () => {
    const g = (
      await c.send(
        new EC2.CreateTransitGatewayCommand({
          Options: {
            AmazonSideAsn: 4200000001,
            AutoAcceptSharedAttachments: 'enable',
            DefaultRouteTableAssociation: 'disable',
            DefaultRouteTablePropagation: 'disable',
            DnsSupport: 'disable',
            VpnEcmpSupport: 'disable',
            MulticastSupport: 'enable',
            TransitGatewayCidrBlocks: ['192.0.2.0/24', '2001:db8::/64'],
          },
          TagSpecifications: [{ ResourceType: 'transit-gateway', Tags: [{ Key: 'Name', Value: 'edge' }] }],
        }),
      )
    ).TransitGateway!;
    assert.equal(g.Options!.AmazonSideAsn, 4200000001);
    assert.equal(g.Options!.AutoAcceptSharedAttachments, 'enable');
    assert.equal(g.Options!.MulticastSupport, 'enable');
    assert.deepEqual(g.Options!.TransitGatewayCidrBlocks, ['192.0.2.0/24', '2001:db8::/64']);
    assert.equal(g.Options!.AssociationDefaultRouteTableId, undefined);
    assert.equal(g.Options!.PropagationDefaultRouteTableId, undefined);
    assert.deepEqual(g.Tags, [{ Key: 'Name', Value: 'edge' }]);
    const tables = await c.send(new EC2.DescribeTransitGatewayRouteTablesCommand({ Filters: [{ Name: 'transit-gateway-id', Values: [g.TransitGatewayId!] }] }));
    assert.deepEqual(tables.TransitGatewayRouteTables, []);
    // only propagation: one default table, for propagation only
    const p = (await c.send(new EC2.CreateTransitGatewayCommand({ Options: { DefaultRouteTableAssociation: 'disable' } }))).TransitGateway!;
    assert.equal(p.Options!.AssociationDefaultRouteTableId, undefined);
    const [pt] = (await c.send(new EC2.DescribeTransitGatewayRouteTablesCommand({ TransitGatewayRouteTableIds: [p.Options!.PropagationDefaultRouteTableId!] }))).TransitGatewayRouteTables!;
    assert.equal(pt!.DefaultAssociationRouteTable, false);
    assert.equal(pt!.DefaultPropagationRouteTable, true);
  });

  it('CreateTransitGateway: bad options are refused and nothing is made', async () => {
    const before = (await c.send(new EC2.DescribeTransitGatewaysCommand({}))).TransitGateways!.length;
    const bad: [EC2.CreateTransitGatewayRequest, string][] = [
      [{ Options: { AmazonSideAsn: 65535 } }, 'InvalidParameterValue'],
      [{ Options: { AmazonSideAsn: 100 } }, 'InvalidParameterValue'],
      [{ Options: { DnsSupport: 'maybe' as EC2.DnsSupportValue } }, 'InvalidParameterValue'],
      [{ Options: { TransitGatewayCidrBlocks: ['10.0.0.0/25'] } }, 'InvalidParameterValue'],
      [{ Options: { TransitGatewayCidrBlocks: ['10.0.0.1/24'] } }, 'InvalidParameterValue'],
      [{ Options: { TransitGatewayCidrBlocks: ['10.0.0.0/16', '10.0.1.0/24'] } }, 'InvalidParameterValue'],
      [{ Options: { TransitGatewayCidrBlocks: ['169.254.0.0/24'] } }, 'InvalidParameterValue'],
      [{ Options: { TransitGatewayCidrBlocks: ['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/24', '10.4.0.0/24', '10.5.0.0/24', '10.6.0.0/24'] } }, 'TransitGatewayCidrBlockLimitExceeded'],
      [{ Description: 'x'.repeat(256) }, 'InvalidParameterValue'],
      [{ Description: 'bell\u0007' }, 'InvalidParameterValue'],
      [{ TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'a', Value: 'b' }] }] }, 'InvalidParameterValue'],
      [{ TagSpecifications: [{ ResourceType: 'transit-gateway', Tags: [{ Key: 'aws:x', Value: 'b' }] }] }, 'InvalidParameterValue'],
    ];
    for (const [input, code] of bad) assert.equal((await ec2Error(c.send(new EC2.CreateTransitGatewayCommand(input)))).code, code, JSON.stringify(input));
    assert.equal((await c.send(new EC2.DescribeTransitGatewaysCommand({}))).TransitGateways!.length, before);
    assert.deepEqual((await c.send(new EC2.DescribeTransitGatewayRouteTablesCommand({}))).TransitGatewayRouteTables!.filter((r) => !r.TransitGatewayId), []);
  });

  it('DryRun: Create, Modify and Delete answer DryRunOperation and change nothing', async () => {
    const before = (await c.send(new EC2.DescribeTransitGatewaysCommand({}))).TransitGateways!.length;
    const dry = await ec2Error(c.send(new EC2.CreateTransitGatewayCommand({ DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.equal(dry.status, 412);
    assert.equal((await c.send(new EC2.DescribeTransitGatewaysCommand({}))).TransitGateways!.length, before);
    const g = await availableTgw(c);
    assert.equal((await ec2Error(c.send(new EC2.ModifyTransitGatewayCommand({ TransitGatewayId: g.TransitGatewayId, Description: 'x', DryRun: true })))).code, 'DryRunOperation');
    assert.equal((await ec2Error(c.send(new EC2.DeleteTransitGatewayCommand({ TransitGatewayId: g.TransitGatewayId, DryRun: true })))).code, 'DryRunOperation');
    const now = await describeTgw(c, g.TransitGatewayId!);
    assert.equal(now.State, 'available');
    assert.equal(now.Description, undefined);
  });

  it('DescribeTransitGateways: ids, filters, tags and pagination', async () => {
    const a = await availableTgw(c, { Options: { AmazonSideAsn: 64600, DnsSupport: 'disable' } });
    await c.send(new EC2.CreateTagsCommand({ Resources: [a.TransitGatewayId!], Tags: [{ Key: 'team', Value: 'net' }] }));
    const byAsn = await c.send(new EC2.DescribeTransitGatewaysCommand({ Filters: [{ Name: 'options.amazon-side-asn', Values: ['64600'] }] }));
    assert.deepEqual(byAsn.TransitGateways!.map((g) => g.TransitGatewayId), [a.TransitGatewayId]);
    const byTag = await c.send(new EC2.DescribeTransitGatewaysCommand({ Filters: [{ Name: 'tag:team', Values: ['net'] }, { Name: 'options.dns-support', Values: ['disable'] }] }));
    assert.deepEqual(byTag.TransitGateways!.map((g) => g.TransitGatewayId), [a.TransitGatewayId]);
    assert.deepEqual(byTag.TransitGateways![0]!.Tags, [{ Key: 'team', Value: 'net' }]);
    const none = await c.send(new EC2.DescribeTransitGatewaysCommand({ Filters: [{ Name: 'state', Values: ['deleting'] }] }));
    assert.deepEqual(none.TransitGateways, []);
    assert.equal((await ec2Error(c.send(new EC2.DescribeTransitGatewaysCommand({ Filters: [{ Name: 'vpc-id', Values: ['x'] }] })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new EC2.DescribeTransitGatewaysCommand({ TransitGatewayIds: ['tgw-0123456789abcdef0'] })))).code, 'InvalidTransitGatewayID.NotFound');
    assert.equal((await ec2Error(c.send(new EC2.DescribeTransitGatewaysCommand({ TransitGatewayIds: ['tgw-nope'] })))).code, 'InvalidTransitGatewayID.Malformed');
    assert.equal((await ec2Error(c.send(new EC2.DescribeTransitGatewaysCommand({ MaxResults: 4 })))).code, 'InvalidParameterValue');

    const all = (await c.send(new EC2.DescribeTransitGatewaysCommand({}))).TransitGateways!.map((g) => g.TransitGatewayId);
    assert.ok(all.length >= 5, `${all.length} gateways`);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await c.send(new EC2.DescribeTransitGatewaysCommand({ MaxResults: 5, NextToken: token }));
      assert.ok(page.TransitGateways!.length <= 5);
      seen.push(...page.TransitGateways!.map((g) => g.TransitGatewayId!));
      token = page.NextToken;
    } while (token);
    assert.deepEqual(seen, all);
  });

  it('ModifyTransitGateway: options, description, CIDR blocks and the default route tables', async () => {
    const g = await availableTgw(c);
    const id = g.TransitGatewayId!;
    const defaultTable = g.Options!.AssociationDefaultRouteTableId!;
    const modified = (
      await c.send(
        new EC2.ModifyTransitGatewayCommand({
          TransitGatewayId: id,
          Description: 'changed',
          Options: { DnsSupport: 'disable', AutoAcceptSharedAttachments: 'enable', AddTransitGatewayCidrBlocks: ['198.51.100.0/24'], AmazonSideAsn: 65000 },
        }),
      )
    ).TransitGateway!;
    assert.equal(modified.State, 'modifying');
    assert.equal(modified.Description, 'changed');
    const after = await settle('available again', () => describeTgw(c, id), (x) => x.State === 'available');
    assert.equal(after.Options!.DnsSupport, 'disable');
    assert.equal(after.Options!.AutoAcceptSharedAttachments, 'enable');
    assert.equal(after.Options!.AmazonSideAsn, 65000);
    assert.deepEqual(after.Options!.TransitGatewayCidrBlocks, ['198.51.100.0/24']);

    // the flag and its table move together
    assert.equal(
      (await ec2Error(c.send(new EC2.ModifyTransitGatewayCommand({ TransitGatewayId: id, Options: { DefaultRouteTableAssociation: 'disable', AssociationDefaultRouteTableId: defaultTable } })))).code,
      'InvalidParameterCombination',
    );
    assert.equal(
      (await ec2Error(c.send(new EC2.ModifyTransitGatewayCommand({ TransitGatewayId: id, Options: { AssociationDefaultRouteTableId: 'tgw-rtb-0123456789abcdef0' } })))).code,
      'InvalidRouteTableID.NotFound',
    );
    await c.send(new EC2.ModifyTransitGatewayCommand({ TransitGatewayId: id, Options: { DefaultRouteTableAssociation: 'disable', RemoveTransitGatewayCidrBlocks: ['198.51.100.0/24'] } }));
    const off = await settle('available again', () => describeTgw(c, id), (x) => x.State === 'available');
    assert.equal(off.Options!.DefaultRouteTableAssociation, 'disable');
    assert.equal(off.Options!.AssociationDefaultRouteTableId, undefined);
    assert.equal(off.Options!.PropagationDefaultRouteTableId, defaultTable);
    assert.equal(off.Options!.TransitGatewayCidrBlocks, undefined);
    const [table] = (await c.send(new EC2.DescribeTransitGatewayRouteTablesCommand({ TransitGatewayRouteTableIds: [defaultTable] }))).TransitGatewayRouteTables!;
    assert.equal(table!.DefaultAssociationRouteTable, false);
    assert.equal(table!.DefaultPropagationRouteTable, true);
    assert.equal(
      (await ec2Error(c.send(new EC2.ModifyTransitGatewayCommand({ TransitGatewayId: id, Options: { DefaultRouteTableAssociation: 'enable' } })))).code,
      'InvalidParameterCombination',
    );
    await c.send(new EC2.ModifyTransitGatewayCommand({ TransitGatewayId: id, Options: { DefaultRouteTableAssociation: 'enable', AssociationDefaultRouteTableId: defaultTable } }));
    const on = await settle('available again', () => describeTgw(c, id), (x) => x.State === 'available');
    assert.equal(on.Options!.AssociationDefaultRouteTableId, defaultTable);

    // an unknown gateway, a CIDR block it does not have, a refused value: nothing changes
    assert.equal((await ec2Error(c.send(new EC2.ModifyTransitGatewayCommand({ TransitGatewayId: 'tgw-0123456789abcdef0' })))).code, 'InvalidTransitGatewayID.NotFound');
    assert.equal((await ec2Error(c.send(new EC2.ModifyTransitGatewayCommand({ TransitGatewayId: id, Options: { RemoveTransitGatewayCidrBlocks: ['10.0.0.0/24'] } })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new EC2.ModifyTransitGatewayCommand({ TransitGatewayId: id, Description: 'lost', Options: { VpnEcmpSupport: 'on' as EC2.VpnEcmpSupportValue } })))).code, 'InvalidParameterValue');
    const unchanged = await describeTgw(c, id);
    assert.equal(unchanged.Description, 'changed');
    assert.equal(unchanged.Options!.VpnEcmpSupport, 'enable');
  });

  it('DeleteTransitGateway: refused while attachments exist; deleting → deleted, its route table with it; still described', async () => {
    const g = await availableTgw(c);
    const id = g.TransitGatewayId!;
    const { vpcId, subnetIds } = await vpcWithSubnets(c, 41, ['us-east-1a']);
    const a = await availableAttachment(c, id, vpcId, subnetIds);
    const refused = await ec2Error(c.send(new EC2.DeleteTransitGatewayCommand({ TransitGatewayId: id })));
    assert.equal(refused.code, 'IncorrectState');
    assert.match(refused.message, new RegExp(`${id} has non-deleted Transit Gateway Attachments: ${a.TransitGatewayAttachmentId}`));
    const table = (await c.send(new EC2.CreateTransitGatewayRouteTableCommand({ TransitGatewayId: id }))).TransitGatewayRouteTable!;
    await c.send(new EC2.DeleteTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: a.TransitGatewayAttachmentId }));
    await settle('the attachment deleted', async () => (await c.send(new EC2.DescribeTransitGatewayAttachmentsCommand({ TransitGatewayAttachmentIds: [a.TransitGatewayAttachmentId!] }))).TransitGatewayAttachments![0]!.State, (s) => s === 'deleted');
    // a route table of its own besides the default one
    assert.equal((await ec2Error(c.send(new EC2.DeleteTransitGatewayCommand({ TransitGatewayId: id })))).code, 'IncorrectState');
    await settle('the table available', async () => (await c.send(new EC2.DescribeTransitGatewayRouteTablesCommand({ TransitGatewayRouteTableIds: [table.TransitGatewayRouteTableId!] }))).TransitGatewayRouteTables![0]!.State, (s) => s === 'available');
    await c.send(new EC2.DeleteTransitGatewayRouteTableCommand({ TransitGatewayRouteTableId: table.TransitGatewayRouteTableId }));

    const deleting = (await c.send(new EC2.DeleteTransitGatewayCommand({ TransitGatewayId: id }))).TransitGateway!;
    assert.equal(deleting.State, 'deleting');
    const gone = await settle('deleted', () => describeTgw(c, id), (x) => x.State === 'deleted');
    assert.equal(gone.TransitGatewayId, id);
    const listed = await c.send(new EC2.DescribeTransitGatewaysCommand({ Filters: [{ Name: 'state', Values: ['deleted'] }] }));
    assert.ok(listed.TransitGateways!.some((x) => x.TransitGatewayId === id));
    const [defaultTable] = (await c.send(new EC2.DescribeTransitGatewayRouteTablesCommand({ TransitGatewayRouteTableIds: [g.Options!.AssociationDefaultRouteTableId!] }))).TransitGatewayRouteTables!;
    assert.equal(defaultTable!.State, 'deleted');
    // a deleted gateway is not found by anything but Describe
    assert.equal((await ec2Error(c.send(new EC2.DeleteTransitGatewayCommand({ TransitGatewayId: id })))).code, 'InvalidTransitGatewayID.NotFound');
    assert.equal((await ec2Error(c.send(new EC2.ModifyTransitGatewayCommand({ TransitGatewayId: id })))).code, 'InvalidTransitGatewayID.NotFound');
    assert.equal((await ec2Error(c.send(new EC2.CreateTransitGatewayRouteTableCommand({ TransitGatewayId: id })))).code, 'InvalidTransitGatewayID.NotFound');
    assert.equal((await ec2Error(c.send(new EC2.DeleteTransitGatewayCommand({} as EC2.DeleteTransitGatewayRequest)))).code, 'MissingParameter');
  });

  it('a deleted gateway is listed for DELETED_VISIBLE_MS, then hidden and purged by the reconcile loop', async () => {
    const g = await availableTgw(c, { TagSpecifications: [{ ResourceType: 'transit-gateway', Tags: [{ Key: 'k', Value: 'v' }] }] });
    const id = g.TransitGatewayId!;
    await c.send(new EC2.DeleteTransitGatewayCommand({ TransitGatewayId: id }));
    await settle('deleted', () => describeTgw(c, id), (x) => x.State === 'deleted');
    const store = t.server.store;
    const col = store.collection(KINDS.transitGateway);
    const record = col.get('us-east-1', id)!;
    assert.ok(record.deletedAt !== undefined);
    // its time runs out
    store.transaction(() => col.put('us-east-1', id, { ...record, deletedAt: Date.now() - DELETED_VISIBLE_MS - 1 }));
    const listed = (await c.send(new EC2.DescribeTransitGatewaysCommand({}))).TransitGateways!.map((x) => x.TransitGatewayId);
    assert.ok(!listed.includes(id));
    assert.equal((await ec2Error(c.send(new EC2.DescribeTransitGatewaysCommand({ TransitGatewayIds: [id] })))).code, 'InvalidTransitGatewayID.NotFound');
    const loop = new TransitGatewayReconciler({ store, config: t.server.config, resyncMs: 0 });
    await loop.start();
    await loop.idle();
    await loop.stop();
    assert.equal(col.get('us-east-1', id), undefined);
    assert.deepEqual(store.tags.forResource('us-east-1', id), []);
  });

  it('the states survive a restart: a pending gateway settles after it', async () => {
    const g = (await c.send(new EC2.CreateTransitGatewayCommand({}))).TransitGateway!;
    await t.restart();
    c = t.client();
    const after = await settle('available after the restart', () => describeTgw(c, g.TransitGatewayId!), (x) => x.State === 'available');
    assert.equal(after.TransitGatewayId, g.TransitGatewayId);
  });
});
