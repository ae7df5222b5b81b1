import {
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfaceAttributeCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ResetNetworkInterfaceAttributeCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Dispatcher } from '../../src/api/dispatcher.js';
import { ec2Modules } from '../../src/api/ec2/index.js';
import type { ChangeEvent } from '../../src/api/context.js';
import { loadConfig, type Config } from '../../src/config.js';
import { KINDS, MEMBER_INDEX } from '../../src/resources/ec2/kinds.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

const NO_SUCH_ENI = 'eni-0123456789abcdef0';

describe('network interface attributes', () => {
  let t: TestServer;
  let c: EC2Client;
  let ami: string;
  let seq = 0;
  const uniq = (p: string) => `${p}-${++seq}`;

  before(async () => {
    t = await startTestServer({ mockDelayMs: 10 });
    c = t.client();
    const images = await c.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    ami = images.Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(() => t.close());

  async function group(vpcId?: string): Promise<string> {
    const name = uniq('eni-attr');
    return (await c.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name, VpcId: vpcId }))).GroupId!;
  }
  async function launch(groupIds?: string[]): Promise<{ instance: Instance; eniId: string }> {
    const out = await c.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, SecurityGroupIds: groupIds }));
    const instance = out.Instances![0]!;
    return { instance, eniId: instance.NetworkInterfaces![0]!.NetworkInterfaceId! };
  }
  async function eni(id: string): Promise<NetworkInterface> {
    return (await c.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }))).NetworkInterfaces![0]!;
  }
  async function instance(id: string): Promise<Instance> {
    return (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
  }
  const modify = (input: Omit<ConstructorParameters<typeof ModifyNetworkInterfaceAttributeCommand>[0], 'NetworkInterfaceId'>, id: string) =>
    c.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: id, ...input }));
  const byGroup = async (groupId: string) =>
    (await c.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }))).NetworkInterfaces!.map((n) => n.NetworkInterfaceId);
  const members = (groupId: string) => t.server.store.collection(KINDS.networkInterface).indexValues('us-east-1', MEMBER_INDEX, `${groupId}/`);

  it('Groups replaces the interface groups; the instance, the filters, the membership index and DeleteSecurityGroup follow', async () => {
    const old = await group();
    const a = await group();
    const b = await group();
    const { instance: i, eniId } = await launch([old]);
    const ip = i.PrivateIpAddress!;
    assert.deepEqual(members(old), [`${old}/${ip}`]);

    await modify({ Groups: [a, b] }, eniId);

    const attr = await c.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Attribute: 'groupSet' }));
    assert.equal(attr.NetworkInterfaceId, eniId);
    assert.deepEqual(attr.Groups!.map((g) => g.GroupId), [a, b]);
    assert.equal(attr.Description, undefined);
    assert.deepEqual((await eni(eniId)).Groups!.map((g) => g.GroupId), [a, b]);
    const names = (await c.send(new DescribeSecurityGroupsCommand({ GroupIds: [a, b] }))).SecurityGroups!.map((g) => [g.GroupId, g.GroupName]);
    assert.deepEqual(
      attr.Groups!.map((g) => [g.GroupId, g.GroupName]),
      [a, b].map((id) => names.find((n) => n[0] === id)),
      'groups carry their names',
    );

    const after = await instance(i.InstanceId!);
    assert.deepEqual(after.SecurityGroups!.map((g) => g.GroupId), [a, b]);
    assert.deepEqual(after.NetworkInterfaces![0]!.Groups!.map((g) => g.GroupId), [a, b]);
    const instAttr = await c.send(new DescribeInstanceAttributeCommand({ InstanceId: i.InstanceId, Attribute: 'groupSet' }));
    assert.deepEqual(instAttr.Groups!.map((g) => g.GroupId), [a, b]);
    const byInstanceGroup = await c.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance.group-id', Values: [a] }] }));
    assert.deepEqual(byInstanceGroup.Reservations!.flatMap((r) => r.Instances!.map((x) => x.InstanceId)), [i.InstanceId]);

    assert.deepEqual(await byGroup(a), [eniId]);
    assert.deepEqual(await byGroup(b), [eniId]);
    assert.deepEqual(await byGroup(old), []);
    assert.deepEqual(members(a), [`${a}/${ip}`]);
    assert.deepEqual(members(b), [`${b}/${ip}`]);
    assert.deepEqual(members(old), []);

    // the old group is no longer in use; the new ones are
    assert.equal((await ec2Error(c.send(new DeleteSecurityGroupCommand({ GroupId: a })))).code, 'DependencyViolation');
    await c.send(new DeleteSecurityGroupCommand({ GroupId: old }));
    const gone = await ec2Error(c.send(new DescribeSecurityGroupsCommand({ GroupIds: [old] })));
    assert.equal(gone.code, 'InvalidGroup.NotFound');

    // a repeated id counts once
    await modify({ Groups: [b, b] }, eniId);
    assert.deepEqual((await eni(eniId)).Groups!.map((g) => g.GroupId), [b]);
    await c.send(new DeleteSecurityGroupCommand({ GroupId: a }));
  });

  it('Groups: unknown, malformed, another VPC, more than five; a failed call changes nothing', async () => {
    const { instance: i, eniId } = await launch();
    const before = await eni(eniId);
    const mine = await group();
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }))).Vpc!.VpcId!;
    const foreign = await group(vpc);

    const unknown = await ec2Error(modify({ Groups: [mine, 'sg-0123456789abcdef0'] }, eniId));
    assert.equal(unknown.code, 'InvalidGroup.NotFound');
    assert.equal(unknown.status, 400);
    const malformed = await ec2Error(modify({ Groups: ['sg-?'] }, eniId));
    assert.equal(malformed.code, 'InvalidGroupId.Malformed');
    const other = await ec2Error(modify({ Groups: [mine, foreign] }, eniId));
    assert.equal(other.code, 'InvalidParameter');
    assert.match(other.message, /belong to different networks/);
    const six = await Promise.all([1, 2, 3, 4, 5, 6].map(() => group()));
    const many = await ec2Error(modify({ Groups: six }, eniId));
    assert.equal(many.code, 'SecurityGroupsPerInterfaceLimitExceeded');

    assert.deepEqual(await eni(eniId), before);
    assert.deepEqual((await instance(i.InstanceId!)).SecurityGroups, i.SecurityGroups);
    assert.deepEqual(await byGroup(mine), []);
    assert.deepEqual(members(mine), []);

    // five is the limit, not past it
    await modify({ Groups: six.slice(0, 5) }, eniId);
    assert.deepEqual((await eni(eniId)).Groups!.map((g) => g.GroupId), six.slice(0, 5));
  });

  it('Description: modified and described; control characters refused', async () => {
    const { eniId } = await launch();
    const empty = await c.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Attribute: 'description' }));
    assert.deepEqual(empty.Description, { Value: '' });
    await modify({ Description: { Value: 'web tier' } }, eniId);
    const d = await c.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Attribute: 'description' }));
    assert.deepEqual(d.Description, { Value: 'web tier' });
    assert.equal(d.Groups, undefined);
    assert.equal((await eni(eniId)).Description, 'web tier');
    const filtered = await c.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'description', Values: ['web tier'] }] }));
    assert.deepEqual(filtered.NetworkInterfaces!.map((n) => n.NetworkInterfaceId), [eniId]);

    const bad = await ec2Error(modify({ Description: { Value: 'a\u0001b' } }, eniId));
    assert.equal(bad.code, 'InvalidParameterValue');
    const long = await ec2Error(modify({ Description: { Value: 'x'.repeat(256) } }, eniId));
    assert.equal(long.code, 'InvalidParameterValue');
    assert.equal((await eni(eniId)).Description, 'web tier');
  });

  it('SourceDestCheck: modified, described, reset; the instance shows its primary interface', async () => {
    const { instance: i, eniId } = await launch();
    const sdc = async () => (await c.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Attribute: 'sourceDestCheck' }))).SourceDestCheck;
    assert.deepEqual(await sdc(), { Value: true });
    await modify({ SourceDestCheck: { Value: false } }, eniId);
    assert.deepEqual(await sdc(), { Value: false });
    assert.equal((await eni(eniId)).SourceDestCheck, false);
    const inst = await instance(i.InstanceId!);
    assert.equal(inst.SourceDestCheck, false);
    assert.equal(inst.NetworkInterfaces![0]!.SourceDestCheck, false);
    const off = await c.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'source-dest-check', Values: ['false'] }] }));
    assert.ok(off.NetworkInterfaces!.some((n) => n.NetworkInterfaceId === eniId));

    await c.send(new ResetNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, SourceDestCheck: 'true' }));
    assert.deepEqual(await sdc(), { Value: true });
    assert.equal((await instance(i.InstanceId!)).SourceDestCheck, true);

    const noAttr = await ec2Error(c.send(new ResetNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId })));
    assert.equal(noAttr.code, 'MissingParameter');
    const missing = await ec2Error(c.send(new ResetNetworkInterfaceAttributeCommand({ NetworkInterfaceId: NO_SUCH_ENI, SourceDestCheck: 'true' })));
    assert.equal(missing.code, 'InvalidNetworkInterfaceID.NotFound');
  });

  it('Attachment: DeleteOnTermination by attachment id; a wrong id is InvalidAttachmentID.NotFound; terminate keeps the interface', async () => {
    const { instance: i, eniId } = await launch();
    const at = async () => (await c.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Attribute: 'attachment' }))).Attachment!;
    const first = await at();
    assert.equal(first.InstanceId, i.InstanceId);
    assert.equal(first.DeviceIndex, 0);
    assert.equal(first.Status, 'attached');
    assert.equal(first.DeleteOnTermination, true);
    assert.match(first.AttachmentId!, /^eni-attach-[0-9a-f]{17}$/);
    assert.ok(first.AttachTime instanceof Date);

    const wrong = await ec2Error(modify({ Attachment: { AttachmentId: 'eni-attach-0123456789abcdef0', DeleteOnTermination: false } }, eniId));
    assert.equal(wrong.code, 'InvalidAttachmentID.NotFound');
    const noId = await ec2Error(modify({ Attachment: { DeleteOnTermination: false } }, eniId));
    assert.equal(noId.code, 'MissingParameter');
    assert.equal((await at()).DeleteOnTermination, true);

    await modify({ Attachment: { AttachmentId: first.AttachmentId, DeleteOnTermination: false } }, eniId);
    assert.equal((await at()).DeleteOnTermination, false);
    assert.equal((await eni(eniId)).Attachment!.DeleteOnTermination, false);
    assert.equal((await instance(i.InstanceId!)).NetworkInterfaces![0]!.Attachment!.DeleteOnTermination, false);

    // the interface outlives its instance, detached
    await c.send(new TerminateInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    let left: NetworkInterface | undefined;
    for (let n = 0; n < 100; n++) {
      left = await eni(eniId);
      if (left.Status === 'available') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(left!.Status, 'available');
    assert.equal(left!.Attachment, undefined);
    const detached = await c.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Attribute: 'attachment' }));
    assert.equal(detached.Attachment, undefined);
    const none = await ec2Error(modify({ Attachment: { AttachmentId: first.AttachmentId, DeleteOnTermination: true } }, eniId));
    assert.equal(none.code, 'InvalidAttachmentID.NotFound');
    // the detached interface's groups can still be changed
    const g = await group();
    await modify({ Groups: [g] }, eniId);
    assert.deepEqual(await byGroup(g), [eniId]);
  });

  it('none or several attributes, bad ids, unknown attribute names, DryRun', async () => {
    const { eniId } = await launch();
    const before = await eni(eniId);
    const none = await ec2Error(modify({}, eniId));
    assert.equal(none.code, 'InvalidParameterCombination');
    const several = await ec2Error(modify({ Description: { Value: 'x' }, SourceDestCheck: { Value: false } }, eniId));
    assert.equal(several.code, 'InvalidParameterCombination');
    assert.match(several.message, /multiple attribute types/);
    const noValue = await ec2Error(modify({ Description: {} }, eniId));
    assert.ok(['MissingParameter', 'InvalidParameterCombination'].includes(noValue.code), noValue.code);
    const noEni = await ec2Error(c.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: undefined as never, Description: { Value: 'x' } })));
    assert.equal(noEni.code, 'MissingParameter');
    const missing = await ec2Error(modify({ Description: { Value: 'x' } }, NO_SUCH_ENI));
    assert.equal(missing.code, 'InvalidNetworkInterfaceID.NotFound');
    const malformed = await ec2Error(modify({ Description: { Value: 'x' } }, 'eni-?'));
    assert.equal(malformed.code, 'InvalidNetworkInterfaceID.Malformed');

    const dry = await ec2Error(modify({ Description: { Value: 'dry' }, DryRun: true }, eniId));
    assert.equal(dry.code, 'DryRunOperation');
    const dryGroups = await ec2Error(modify({ Groups: [await group()], DryRun: true }, eniId));
    assert.equal(dryGroups.code, 'DryRunOperation');
    const dryReset = await ec2Error(c.send(new ResetNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, SourceDestCheck: 'true', DryRun: true })));
    assert.equal(dryReset.code, 'DryRunOperation');
    const dryBad = await ec2Error(modify({ Groups: ['sg-0123456789abcdef0'], DryRun: true }, eniId));
    assert.equal(dryBad.code, 'InvalidGroup.NotFound');
    assert.deepEqual(await eni(eniId), before);

    const unknown = await ec2Error(c.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId, Attribute: 'colour' as never })));
    assert.equal(unknown.code, 'InvalidParameterValue');
    const noAttr = await ec2Error(c.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eniId })));
    assert.equal(noAttr.code, 'MissingParameter');
    const describeMissing = await ec2Error(c.send(new DescribeNetworkInterfaceAttributeCommand({ NetworkInterfaceId: NO_SUCH_ENI, Attribute: 'description' })));
    assert.equal(describeMissing.code, 'InvalidNetworkInterfaceID.NotFound');
  });
});

describe('network interface attributes: change events', () => {
  it('notifies the interface, each old and new group and the owning instance after commit; DryRun and failures do not', () => {
    const store = new SqliteStore(':memory:');
    const config: Config = { ...loadConfig([], {}), dataDir: ':memory:' };
    const events: ChangeEvent[] = [];
    const d = new Dispatcher(store, config, ec2Modules, (e) => events.push(e));
    const call = <T = object>(action: string, input: Record<string, unknown>): T => d.invoke(action, 'us-east-1', 'req', input) as T;
    const ami = call<{ Images: { ImageId: string; Architecture: string }[] }>('DescribeImages', { Owners: ['amazon'] }).Images.find((i) => i.Architecture === 'x86_64')!.ImageId;
    const sg = (name: string) => call<{ GroupId: string }>('CreateSecurityGroup', { GroupName: name, Description: name }).GroupId;
    const old = sg('old');
    const a = sg('a');
    const b = sg('b');
    const inst = call<{ Instances: { InstanceId: string; NetworkInterfaces: { NetworkInterfaceId: string }[] }[] }>('RunInstances', {
      ImageId: ami,
      MinCount: 1,
      MaxCount: 1,
      SecurityGroupIds: [old],
    }).Instances[0]!;
    const eniId = inst.NetworkInterfaces[0]!.NetworkInterfaceId;
    const taken = () =>
      events
        .splice(0)
        .filter((e) => e.kind === 'network-interface' || e.kind === 'security-group' || e.kind === 'instance')
        .map((e) => `${e.kind}:${e.id}`);
    taken();

    call('ModifyNetworkInterfaceAttribute', { NetworkInterfaceId: eniId, Groups: [a, b] });
    assert.deepEqual(taken().sort(), [`instance:${inst.InstanceId}`, `network-interface:${eniId}`, `security-group:${a}`, `security-group:${b}`, `security-group:${old}`].sort());
    call('ModifyNetworkInterfaceAttribute', { NetworkInterfaceId: eniId, Description: { Value: 'x' } });
    assert.deepEqual(taken(), [`network-interface:${eniId}`]);
    call('ModifyNetworkInterfaceAttribute', { NetworkInterfaceId: eniId, SourceDestCheck: { Value: false } });
    assert.deepEqual(taken().sort(), [`instance:${inst.InstanceId}`, `network-interface:${eniId}`].sort());
    call('ResetNetworkInterfaceAttribute', { NetworkInterfaceId: eniId, SourceDestCheck: 'true' });
    assert.deepEqual(taken().sort(), [`instance:${inst.InstanceId}`, `network-interface:${eniId}`].sort());

    assert.throws(() => call('ModifyNetworkInterfaceAttribute', { NetworkInterfaceId: eniId, Groups: [old], DryRun: true }));
    assert.throws(() => call('ModifyNetworkInterfaceAttribute', { NetworkInterfaceId: eniId, Groups: ['sg-0123456789abcdef0'] }));
    assert.throws(() => call('ModifyNetworkInterfaceAttribute', { NetworkInterfaceId: eniId }));
    assert.deepEqual(taken(), []);
    store.close();
  });
});
