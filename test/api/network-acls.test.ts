import {
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteNetworkAclCommand,
  DeleteNetworkAclEntryCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeNetworkAclsCommand,
  DescribeTagsCommand,
  ReplaceNetworkAclAssociationCommand,
  ReplaceNetworkAclEntryCommand,
  type CreateNetworkAclEntryRequest,
  type EC2Client,
  type Filter,
  type NetworkAcl,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Dispatcher } from '../../src/api/dispatcher.js';
import { ec2Modules } from '../../src/api/ec2/index.js';
import type { ChangeEvent } from '../../src/api/context.js';
import { loadConfig, type Config } from '../../src/config.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('network ACLs', () => {
  let t: TestServer;
  let c: EC2Client;
  before(async () => {
    t = await startTestServer();
    c = t.client('us-east-1');
  });
  after(() => t.close());

  let nextVpc = 0;
  const newVpc = async (ipv6 = false): Promise<string> =>
    (await c.send(new CreateVpcCommand({ CidrBlock: `10.${100 + nextVpc++}.0.0/16`, AmazonProvidedIpv6CidrBlock: ipv6 }))).Vpc!.VpcId!;
  const newSubnet = async (vpcId: string, cidr: string): Promise<string> =>
    (await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr }))).Subnet!.SubnetId!;
  const newAcl = async (vpcId: string): Promise<string> =>
    (await c.send(new CreateNetworkAclCommand({ VpcId: vpcId }))).NetworkAcl!.NetworkAclId!;
  const describe1 = async (id: string): Promise<NetworkAcl> =>
    (await c.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [id] }))).NetworkAcls![0]!;
  const find = async (...filters: Filter[]): Promise<string[]> =>
    ((await c.send(new DescribeNetworkAclsCommand({ Filters: filters }))).NetworkAcls ?? []).map((a) => a.NetworkAclId!).sort();
  const defaultAclOf = async (vpcId: string): Promise<NetworkAcl> =>
    (
      await c.send(
        new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'default', Values: ['true'] }] }),
      )
    ).NetworkAcls![0]!;
  const entryKeys = (acl: NetworkAcl): string[] => acl.Entries!.map((e) => `${e.Egress ? 'out' : 'in'}:${e.RuleNumber}`);
  const entry = (aclId: string, extra: Partial<CreateNetworkAclEntryRequest> = {}): CreateNetworkAclEntryRequest => ({
    NetworkAclId: aclId,
    RuleNumber: 100,
    Egress: false,
    Protocol: '-1',
    RuleAction: 'allow',
    CidrBlock: '0.0.0.0/0',
    ...extra,
  });

  it('CreateNetworkAcl makes a custom ACL with only the * deny entries, tagged, unassociated', async () => {
    const vpcId = await newVpc();
    const out = await c.send(
      new CreateNetworkAclCommand({ VpcId: vpcId, TagSpecifications: [{ ResourceType: 'network-acl', Tags: [{ Key: 'Name', Value: 'web' }] }] }),
    );
    const acl = out.NetworkAcl!;
    assert.match(acl.NetworkAclId!, /^acl-[0-9a-f]{17}$/);
    assert.equal(acl.VpcId, vpcId);
    assert.equal(acl.IsDefault, false);
    assert.equal(acl.OwnerId, t.server.config.accountId);
    assert.deepEqual(acl.Associations ?? [], []);
    assert.deepEqual(acl.Tags, [{ Key: 'Name', Value: 'web' }]);
    assert.deepEqual(acl.Entries, [
      { RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', Egress: true, CidrBlock: '0.0.0.0/0' },
      { RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', Egress: false, CidrBlock: '0.0.0.0/0' },
    ]);
    const described = await describe1(acl.NetworkAclId!);
    assert.deepEqual(described.Entries, acl.Entries);
    assert.deepEqual(described.Tags, [{ Key: 'Name', Value: 'web' }]);
    assert.deepEqual(await find({ Name: 'tag:Name', Values: ['web'] }), [acl.NetworkAclId]);
    assert.deepEqual(await find({ Name: 'vpc-id', Values: [vpcId] }, { Name: 'default', Values: ['false'] }), [acl.NetworkAclId]);
  });

  it('a custom ACL in a VPC with IPv6 also has the 32768 ::/0 deny entries', async () => {
    const vpcId = await newVpc(true);
    const acl = await describe1(await newAcl(vpcId));
    assert.deepEqual(entryKeys(acl), ['out:32767', 'out:32768', 'in:32767', 'in:32768']);
    assert.equal(acl.Entries!.find((e) => e.RuleNumber === 32768)!.Ipv6CidrBlock, '::/0');
  });

  it('CreateNetworkAcl: ClientToken replays, errors, DryRun', async () => {
    const vpcId = await newVpc();
    const a = await c.send(new CreateNetworkAclCommand({ VpcId: vpcId, ClientToken: 'tok-1' }));
    const b = await c.send(new CreateNetworkAclCommand({ VpcId: vpcId, ClientToken: 'tok-1' }));
    assert.equal(a.NetworkAcl!.NetworkAclId, b.NetworkAcl!.NetworkAclId);
    assert.equal(a.ClientToken, 'tok-1');
    const before = await find({ Name: 'vpc-id', Values: [vpcId] });
    assert.equal(before.length, 2);
    assert.equal((await ec2Error(c.send(new CreateNetworkAclCommand({ VpcId: 'vpc-0123456789abcdef0' })))).code, 'InvalidVpcID.NotFound');
    assert.equal((await ec2Error(c.send(new CreateNetworkAclCommand({ VpcId: 'nope' })))).code, 'InvalidVpcID.Malformed');
    assert.equal((await ec2Error(c.send(new CreateNetworkAclCommand({} as never)))).code, 'MissingParameter');
    const badTags = await ec2Error(
      c.send(new CreateNetworkAclCommand({ VpcId: vpcId, TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'a', Value: 'b' }] }] })),
    );
    assert.equal(badTags.code, 'InvalidParameterValue');
    const mismatch = await ec2Error(c.send(new CreateNetworkAclCommand({ VpcId: await newVpc(), ClientToken: 'tok-1' })));
    assert.equal(mismatch.code, 'IdempotentParameterMismatch');
    const dry = await ec2Error(c.send(new CreateNetworkAclCommand({ VpcId: vpcId, DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.deepEqual(await find({ Name: 'vpc-id', Values: [vpcId] }), before, 'failed calls made nothing');
  });

  it('CreateNetworkAclEntry stores entries as EC2 does, sorted egress first then by number', async () => {
    const vpcId = await newVpc(true);
    const id = await newAcl(vpcId);
    await c.send(new CreateNetworkAclEntryCommand(entry(id, { RuleNumber: 200, Protocol: 'tcp', PortRange: { From: 80, To: 443 }, CidrBlock: '10.0.0.18/8' })));
    await c.send(new CreateNetworkAclEntryCommand(entry(id, { RuleNumber: 100, Protocol: 'UDP', PortRange: { From: 53, To: 53 }, RuleAction: 'deny' })));
    await c.send(new CreateNetworkAclEntryCommand(entry(id, { RuleNumber: 150, Protocol: 'icmp', IcmpTypeCode: { Type: -1, Code: -1 } })));
    await c.send(
      new CreateNetworkAclEntryCommand(
        entry(id, { RuleNumber: 120, Egress: true, Protocol: 'icmpv6', CidrBlock: undefined, Ipv6CidrBlock: '2600:1f18::1/32', IcmpTypeCode: { Type: 128, Code: 0 } }),
      ),
    );
    await c.send(new CreateNetworkAclEntryCommand(entry(id, { RuleNumber: 110, Egress: true, Protocol: 'all', PortRange: { From: 1, To: 2 } })));
    await c.send(new CreateNetworkAclEntryCommand(entry(id, { RuleNumber: 130, Egress: true, Protocol: '47' })));
    // the same number in the other direction is another entry
    await c.send(new CreateNetworkAclEntryCommand(entry(id, { RuleNumber: 100, Egress: true })));
    const acl = await describe1(id);
    assert.deepEqual(entryKeys(acl), ['out:100', 'out:110', 'out:120', 'out:130', 'out:32767', 'out:32768', 'in:100', 'in:150', 'in:200', 'in:32767', 'in:32768']);
    const by = (k: string) => acl.Entries!.find((e) => `${e.Egress ? 'out' : 'in'}:${e.RuleNumber}` === k)!;
    assert.deepEqual(by('in:200'), { RuleNumber: 200, Egress: false, Protocol: '6', RuleAction: 'allow', CidrBlock: '10.0.0.0/8', PortRange: { From: 80, To: 443 } });
    assert.deepEqual(by('in:100'), { RuleNumber: 100, Egress: false, Protocol: '17', RuleAction: 'deny', CidrBlock: '0.0.0.0/0', PortRange: { From: 53, To: 53 } });
    assert.deepEqual(by('in:150'), { RuleNumber: 150, Egress: false, Protocol: '1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0', IcmpTypeCode: { Type: -1, Code: -1 } });
    assert.deepEqual(by('out:120'), {
      RuleNumber: 120,
      Egress: true,
      Protocol: '58',
      RuleAction: 'allow',
      Ipv6CidrBlock: '2600:1f18::/32',
      IcmpTypeCode: { Type: 128, Code: 0 },
    });
    assert.deepEqual(by('out:110'), { RuleNumber: 110, Egress: true, Protocol: '-1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0' }, 'ports ignored on all');
    assert.equal(by('out:130').Protocol, '47');

    // filters on entries of new ACLs
    assert.deepEqual(await find({ Name: 'network-acl-id', Values: [id] }, { Name: 'entry.rule-number', Values: ['150'] }), [id]);
    assert.deepEqual(await find({ Name: 'network-acl-id', Values: [id] }, { Name: 'entry.rule-number', Values: ['151'] }), []);
    assert.deepEqual(await find({ Name: 'vpc-id', Values: [vpcId] }, { Name: 'entry.rule-action', Values: ['allow'] }), (await find({ Name: 'vpc-id', Values: [vpcId] })));
    assert.deepEqual(await find({ Name: 'vpc-id', Values: [vpcId] }, { Name: 'entry.rule-number', Values: ['200'] }), [id]);
    assert.deepEqual(await find({ Name: 'vpc-id', Values: [vpcId] }, { Name: 'entry.protocol', Values: ['58'] }), [id]);
    assert.deepEqual(await find({ Name: 'vpc-id', Values: [vpcId] }, { Name: 'entry.cidr', Values: ['10.0.0.0/8'] }), [id]);
    assert.deepEqual(await find({ Name: 'vpc-id', Values: [vpcId] }, { Name: 'entry.ipv6-cidr', Values: ['2600:1f18::/32'] }), [id]);
  });

  it('CreateNetworkAclEntry refuses what EC2 refuses, and a refused call changes nothing', async () => {
    const vpcId = await newVpc(true);
    const id = await newAcl(vpcId);
    await c.send(new CreateNetworkAclEntryCommand(entry(id)));
    const before = await describe1(id);
    const cases: [Partial<CreateNetworkAclEntryRequest>, string][] = [
      [{}, 'NetworkAclEntryAlreadyExists'],
      [{ RuleNumber: 0 }, 'InvalidParameterValue'],
      [{ RuleNumber: 32767 }, 'InvalidParameterValue'],
      [{ RuleNumber: 32768 }, 'InvalidParameterValue'],
      [{ RuleNumber: 40000 }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, Protocol: 'gre' }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, Protocol: '256' }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, Protocol: '-2' }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, Protocol: 'tcp' }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, Protocol: 'udp', PortRange: { From: 10 } }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, Protocol: 'tcp', PortRange: { From: 100, To: 99 } }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, Protocol: 'tcp', PortRange: { From: 0, To: 65536 } }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, Protocol: 'tcp', PortRange: { From: -1, To: 10 } }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, Protocol: '1' }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, Protocol: 'icmp', IcmpTypeCode: { Type: 256, Code: 0 } }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, Protocol: 'icmpv6', CidrBlock: undefined, Ipv6CidrBlock: '::/0' }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, CidrBlock: undefined }, 'MissingParameter'],
      [{ RuleNumber: 101, Ipv6CidrBlock: '::/0' }, 'InvalidParameterCombination'],
      [{ RuleNumber: 101, CidrBlock: '10.0.0.0/33' }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, CidrBlock: 'banana' }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, CidrBlock: undefined, Ipv6CidrBlock: '2600::/129' }, 'InvalidParameterValue'],
      [{ RuleNumber: 101, RuleAction: 'maybe' as never }, 'InvalidParameterValue'],
      [{ NetworkAclId: 'acl-0123456789abcdef0' }, 'InvalidNetworkAclID.NotFound'],
      [{ NetworkAclId: 'acl-x' }, 'InvalidNetworkAclID.Malformed'],
    ];
    for (const [extra, code] of cases) {
      const err = await ec2Error(c.send(new CreateNetworkAclEntryCommand(entry(id, extra))));
      assert.equal(err.code, code, `${JSON.stringify(extra)}: ${err.message}`);
    }
    const dry = await ec2Error(c.send(new CreateNetworkAclEntryCommand(entry(id, { RuleNumber: 102, DryRun: true }))));
    assert.equal(dry.code, 'DryRunOperation');
    assert.deepEqual(await describe1(id), before);
  });

  it('at most 20 entries per direction', async () => {
    const id = await newAcl(await newVpc());
    for (let n = 1; n <= 20; n++) await c.send(new CreateNetworkAclEntryCommand(entry(id, { RuleNumber: n })));
    const full = await ec2Error(c.send(new CreateNetworkAclEntryCommand(entry(id, { RuleNumber: 21 }))));
    assert.equal(full.code, 'NetworkAclEntryLimitExceeded');
    await c.send(new CreateNetworkAclEntryCommand(entry(id, { RuleNumber: 21, Egress: true })));
    assert.equal((await describe1(id)).Entries!.length, 20 + 1 + 2);
  });

  it('ReplaceNetworkAclEntry and DeleteNetworkAclEntry change one entry; missing or * entries are refused', async () => {
    const vpcId = await newVpc();
    const id = await newAcl(vpcId);
    await c.send(new CreateNetworkAclEntryCommand(entry(id, { RuleNumber: 100 })));
    await c.send(new CreateNetworkAclEntryCommand(entry(id, { RuleNumber: 100, Egress: true })));
    await c.send(
      new ReplaceNetworkAclEntryCommand({ ...entry(id, { RuleNumber: 100, Protocol: '6', PortRange: { From: 22, To: 22 }, RuleAction: 'deny', CidrBlock: '192.168.1.0/24' }) }),
    );
    let acl = await describe1(id);
    assert.deepEqual(acl.Entries!.find((e) => !e.Egress && e.RuleNumber === 100), {
      RuleNumber: 100,
      Egress: false,
      Protocol: '6',
      RuleAction: 'deny',
      CidrBlock: '192.168.1.0/24',
      PortRange: { From: 22, To: 22 },
    });
    assert.equal(acl.Entries!.find((e) => e.Egress && e.RuleNumber === 100)!.Protocol, '-1', 'the egress entry is untouched');

    const before = await describe1(id);
    const missing = await ec2Error(c.send(new ReplaceNetworkAclEntryCommand(entry(id, { RuleNumber: 200 }))));
    assert.equal(missing.code, 'InvalidNetworkAclEntry.NotFound');
    const star = await ec2Error(c.send(new ReplaceNetworkAclEntryCommand(entry(id, { RuleNumber: 32767, RuleAction: 'allow' }))));
    assert.equal(star.code, 'InvalidParameterValue');
    const bad = await ec2Error(c.send(new ReplaceNetworkAclEntryCommand(entry(id, { Protocol: 'tcp' }))));
    assert.equal(bad.code, 'InvalidParameterValue');
    const dry = await ec2Error(c.send(new ReplaceNetworkAclEntryCommand({ ...entry(id), DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    const delMissing = await ec2Error(c.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: id, RuleNumber: 300, Egress: false })));
    assert.equal(delMissing.code, 'InvalidNetworkAclEntry.NotFound');
    const delStar = await ec2Error(c.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: id, RuleNumber: 32767, Egress: false })));
    assert.equal(delStar.code, 'InvalidParameterValue');
    const delUnknownAcl = await ec2Error(c.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: 'acl-0123456789abcdef0', RuleNumber: 100, Egress: false })));
    assert.equal(delUnknownAcl.code, 'InvalidNetworkAclID.NotFound');
    const delDry = await ec2Error(c.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: id, RuleNumber: 100, Egress: false, DryRun: true })));
    assert.equal(delDry.code, 'DryRunOperation');
    assert.deepEqual(await describe1(id), before, 'failed calls changed nothing');

    await c.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: id, RuleNumber: 100, Egress: false }));
    acl = await describe1(id);
    assert.deepEqual(entryKeys(acl), ['out:100', 'out:32767', 'in:32767']);

    // the default ACL's own entries can be edited too (only the * ones cannot)
    const dflt = await defaultAclOf(vpcId);
    await c.send(new DeleteNetworkAclEntryCommand({ NetworkAclId: dflt.NetworkAclId, RuleNumber: 100, Egress: true }));
    assert.deepEqual(entryKeys(await describe1(dflt.NetworkAclId!)), ['out:32767', 'in:100', 'in:32767']);
  });

  it('ReplaceNetworkAclAssociation moves a subnet between ACLs of its VPC', async () => {
    const vpcId = await newVpc();
    const subnetId = await newSubnet(vpcId, `10.${100 + nextVpc - 1}.1.0/24`);
    const dflt = await defaultAclOf(vpcId);
    const assoc = dflt.Associations!.find((a) => a.SubnetId === subnetId)!;
    assert.ok(assoc.NetworkAclAssociationId!.startsWith('aclassoc-'));
    const custom = await newAcl(vpcId);

    const out = await c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assoc.NetworkAclAssociationId, NetworkAclId: custom }));
    assert.match(out.NewAssociationId!, /^aclassoc-[0-9a-f]{17}$/);
    assert.notEqual(out.NewAssociationId, assoc.NetworkAclAssociationId);
    const moved = await describe1(custom);
    assert.deepEqual(moved.Associations, [{ NetworkAclAssociationId: out.NewAssociationId, NetworkAclId: custom, SubnetId: subnetId }]);
    assert.ok(!(await describe1(dflt.NetworkAclId!)).Associations!.some((a) => a.SubnetId === subnetId));
    assert.deepEqual(await find({ Name: 'association.subnet-id', Values: [subnetId] }), [custom]);
    assert.deepEqual(await find({ Name: 'association.association-id', Values: [out.NewAssociationId!] }), [custom]);
    assert.deepEqual(await find({ Name: 'default', Values: ['false'] }, { Name: 'association.subnet-id', Values: [subnetId] }), [custom]);

    // the old association id is gone
    const stale = await ec2Error(c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: assoc.NetworkAclAssociationId, NetworkAclId: custom })));
    assert.equal(stale.code, 'InvalidAssociationID.NotFound');
    const unknown = await ec2Error(c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: 'aclassoc-0123456789abcdef0', NetworkAclId: custom })));
    assert.equal(unknown.code, 'InvalidAssociationID.NotFound');
    const noAcl = await ec2Error(c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: out.NewAssociationId, NetworkAclId: 'acl-0123456789abcdef0' })));
    assert.equal(noAcl.code, 'InvalidNetworkAclID.NotFound');
    const otherVpcAcl = await newAcl(await newVpc());
    const otherNet = await ec2Error(c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: out.NewAssociationId, NetworkAclId: otherVpcAcl })));
    assert.equal(otherNet.code, 'InvalidParameterValue');
    const dry = await ec2Error(
      c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: out.NewAssociationId, NetworkAclId: dflt.NetworkAclId, DryRun: true })),
    );
    assert.equal(dry.code, 'DryRunOperation');
    assert.deepEqual(await find({ Name: 'association.subnet-id', Values: [subnetId] }), [custom], 'failed calls moved nothing');

    // a custom ACL with a subnet cannot go; moved back, it can
    const busy = await ec2Error(c.send(new DeleteNetworkAclCommand({ NetworkAclId: custom })));
    assert.equal(busy.code, 'DependencyViolation');
    const back = await c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: out.NewAssociationId, NetworkAclId: dflt.NetworkAclId }));
    assert.deepEqual(await find({ Name: 'association.subnet-id', Values: [subnetId] }), [dflt.NetworkAclId]);
    assert.deepEqual((await describe1(custom)).Associations ?? [], []);

    // the same ACL again: a new association id, still one association
    const again = await c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: back.NewAssociationId, NetworkAclId: dflt.NetworkAclId }));
    const assocs = (await describe1(dflt.NetworkAclId!)).Associations!.filter((a) => a.SubnetId === subnetId);
    assert.deepEqual(assocs.map((a) => a.NetworkAclAssociationId), [again.NewAssociationId]);

    // deleting a subnet drops its association from a custom ACL
    const moved2 = await c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: again.NewAssociationId, NetworkAclId: custom }));
    assert.ok(moved2.NewAssociationId);
    await c.send(new DeleteSubnetCommand({ SubnetId: subnetId }));
    assert.deepEqual((await describe1(custom)).Associations ?? [], []);
  });

  it('DeleteNetworkAcl: the default ACL stays, an unused custom ACL goes with its tags', async () => {
    const vpcId = await newVpc();
    const dflt = await defaultAclOf(vpcId);
    const refused = await ec2Error(c.send(new DeleteNetworkAclCommand({ NetworkAclId: dflt.NetworkAclId })));
    assert.equal(refused.code, 'InvalidParameterValue');
    assert.match(refused.message, /cannot delete default network ACL/);
    const id = (
      await c.send(new CreateNetworkAclCommand({ VpcId: vpcId, TagSpecifications: [{ ResourceType: 'network-acl', Tags: [{ Key: 'k', Value: 'v' }] }] }))
    ).NetworkAcl!.NetworkAclId!;
    // a custom ACL keeps its VPC from going
    assert.equal((await ec2Error(c.send(new DeleteVpcCommand({ VpcId: vpcId })))).code, 'DependencyViolation');
    const dry = await ec2Error(c.send(new DeleteNetworkAclCommand({ NetworkAclId: id, DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.deepEqual(await find({ Name: 'network-acl-id', Values: [id] }), [id]);
    await c.send(new DeleteNetworkAclCommand({ NetworkAclId: id }));
    assert.equal((await ec2Error(c.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [id] })))).code, 'InvalidNetworkAclID.NotFound');
    const tags = await c.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id] }] }));
    assert.deepEqual(tags.Tags ?? [], []);
    assert.equal((await ec2Error(c.send(new DeleteNetworkAclCommand({ NetworkAclId: id })))).code, 'InvalidNetworkAclID.NotFound');
    await c.send(new DeleteVpcCommand({ VpcId: vpcId }));
    assert.deepEqual(await find({ Name: 'vpc-id', Values: [vpcId] }), []);
  });
});

describe('network ACLs: change events', () => {
  it('every change notifies network-acl after commit (and subnet when one moves); DryRun and failures do not', () => {
    const store = new SqliteStore(':memory:');
    const config: Config = { ...loadConfig([], {}), dataDir: ':memory:' };
    const events: ChangeEvent[] = [];
    const d = new Dispatcher(store, config, ec2Modules, (e) => events.push(e));
    const call = <T = object>(action: string, input: Record<string, unknown>): T => d.invoke(action, 'us-east-1', 'req', input) as T;
    const vpc = call<{ Vpc: { VpcId: string } }>('CreateVpc', { CidrBlock: '10.9.0.0/16' }).Vpc.VpcId;
    const subnet = call<{ Subnet: { SubnetId: string } }>('CreateSubnet', { VpcId: vpc, CidrBlock: '10.9.1.0/24' }).Subnet.SubnetId;
    const dflt = call<{ NetworkAcls: NetworkAcl[] }>('DescribeNetworkAcls', { Filters: [{ Name: 'vpc-id', Values: [vpc] }] }).NetworkAcls[0]!;
    const taken = () => events.splice(0).filter((e) => e.kind === 'network-acl' || e.kind === 'subnet').map((e) => `${e.kind}:${e.id}`);
    taken();

    const acl = call<{ NetworkAcl: { NetworkAclId: string } }>('CreateNetworkAcl', { VpcId: vpc }).NetworkAcl.NetworkAclId;
    assert.deepEqual(taken(), [`network-acl:${acl}`]);
    const e = { NetworkAclId: acl, RuleNumber: 10, Egress: false, Protocol: '-1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0' };
    call('CreateNetworkAclEntry', e);
    assert.deepEqual(taken(), [`network-acl:${acl}`]);
    call('ReplaceNetworkAclEntry', { ...e, RuleAction: 'deny' });
    assert.deepEqual(taken(), [`network-acl:${acl}`]);
    assert.throws(() => call('CreateNetworkAclEntry', e));
    assert.throws(() => call('CreateNetworkAclEntry', { ...e, RuleNumber: 11, DryRun: true }));
    assert.deepEqual(taken(), []);
    call('DeleteNetworkAclEntry', { NetworkAclId: acl, RuleNumber: 10, Egress: false });
    assert.deepEqual(taken(), [`network-acl:${acl}`]);
    const assoc = dflt.Associations!.find((a) => a.SubnetId === subnet)!.NetworkAclAssociationId;
    const moved = call<{ NewAssociationId: string }>('ReplaceNetworkAclAssociation', { AssociationId: assoc, NetworkAclId: acl });
    assert.deepEqual(taken(), [`network-acl:${acl}`, `subnet:${subnet}`]);
    call('ReplaceNetworkAclAssociation', { AssociationId: moved.NewAssociationId, NetworkAclId: dflt.NetworkAclId });
    assert.deepEqual(taken(), [`network-acl:${dflt.NetworkAclId}`, `subnet:${subnet}`]);
    call('DeleteNetworkAcl', { NetworkAclId: acl });
    assert.deepEqual(taken(), [`network-acl:${acl}`]);
    store.close();
  });
});
