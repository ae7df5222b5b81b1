import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeAddressesAttributeCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeTagsCommand,
  DisassociateAddressCommand,
  ModifyAddressAttributeCommand,
  ReleaseAddressCommand,
  ResetAddressAttributeCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

const MISSING_ALLOC = 'eipalloc-0123456789abcdef0';

async function releaseAll(c: EC2Client): Promise<void> {
  const out = await c.send(new DescribeAddressesCommand({}));
  for (const a of out.Addresses ?? []) {
    if (a.AssociationId) await c.send(new DisassociateAddressCommand({ AssociationId: a.AssociationId }));
    await c.send(new ReleaseAddressCommand({ AllocationId: a.AllocationId }));
  }
}

describe('elastic IP addresses: allocate, describe, release', () => {
  let t: TestServer;
  let c: EC2Client;
  before(async () => {
    t = await startTestServer({ publicIpPool: '203.0.113.0/29' });
    c = t.client();
  });
  after(() => t.close());
  beforeEach(() => releaseAll(c));

  it('AllocateAddress returns a vpc address from the configured pool', async () => {
    const out = await c.send(new AllocateAddressCommand({}));
    assert.match(out.AllocationId!, /^eipalloc-[0-9a-f]{17}$/);
    assert.equal(out.Domain, 'vpc');
    assert.equal(out.PublicIpv4Pool, 'amazon');
    assert.equal(out.NetworkBorderGroup, 'us-east-1');
    // 203.0.113.0/29: .0 is the network address, so the first free one is .1
    assert.equal(out.PublicIp, '203.0.113.1');
    const second = await c.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    assert.equal(second.PublicIp, '203.0.113.2');
    assert.notEqual(second.AllocationId, out.AllocationId);

    const d = await c.send(new DescribeAddressesCommand({ AllocationIds: [out.AllocationId!] }));
    assert.equal(d.Addresses!.length, 1);
    const a = d.Addresses![0]!;
    assert.equal(a.PublicIp, out.PublicIp);
    assert.equal(a.Domain, 'vpc');
    assert.equal(a.AssociationId, undefined);
    assert.equal(a.InstanceId, undefined);
    assert.equal(a.Tags, undefined);

    const seoul = await t.client('ap-northeast-2').send(new AllocateAddressCommand({}));
    assert.equal(seoul.NetworkBorderGroup, 'ap-northeast-2');
    assert.equal((await c.send(new DescribeAddressesCommand({}))).Addresses!.length, 2, 'addresses are per region');
    await t.client('ap-northeast-2').send(new ReleaseAddressCommand({ AllocationId: seoul.AllocationId }));
  });

  it('AllocateAddress with a specific free address, and refusals', async () => {
    const out = await c.send(new AllocateAddressCommand({ Address: '203.0.113.5' }));
    assert.equal(out.PublicIp, '203.0.113.5');
    const taken = await ec2Error(c.send(new AllocateAddressCommand({ Address: '203.0.113.5' })));
    assert.equal(taken.code, 'InvalidParameterValue');
    assert.match(taken.message, /203\.0\.113\.5/);
    assert.equal((await ec2Error(c.send(new AllocateAddressCommand({ Address: '192.0.2.9' })))).code, 'InvalidAddress.NotFound');
    assert.equal((await ec2Error(c.send(new AllocateAddressCommand({ Address: '203.0.113.0' })))).code, 'InvalidAddress.NotFound');
    assert.equal((await ec2Error(c.send(new AllocateAddressCommand({ Address: '203.0.113.07' })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new AllocateAddressCommand({ Address: 'nope' })))).code, 'InvalidParameterValue');
    const std = await ec2Error(c.send(new AllocateAddressCommand({ Domain: 'standard' })));
    assert.equal(std.code, 'InvalidParameterValue');
    assert.match(std.message, /EC2-Classic/);
    assert.equal((await ec2Error(c.send(new AllocateAddressCommand({ Domain: 'mars' as never })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new AllocateAddressCommand({ NetworkBorderGroup: 'us-west-2' })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new AllocateAddressCommand({ PublicIpv4Pool: 'ipv4pool-ec2-0123456789abcdef0' })))).code, 'InvalidPublicIpv4PoolID.NotFound');
    const wrongTagType = await ec2Error(
      c.send(new AllocateAddressCommand({ TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'a', Value: 'b' }] }] })),
    );
    assert.equal(wrongTagType.code, 'InvalidParameterValue');
    // none of the refusals allocated anything
    const all = await c.send(new DescribeAddressesCommand({}));
    assert.deepEqual(all.Addresses!.map((a) => a.PublicIp), ['203.0.113.5']);
  });

  it('AllocateAddress stops at the account limit of 5', async () => {
    for (let i = 0; i < 5; i++) await c.send(new AllocateAddressCommand({}));
    const err = await ec2Error(c.send(new AllocateAddressCommand({})));
    assert.equal(err.code, 'AddressLimitExceeded');
    assert.equal((await c.send(new DescribeAddressesCommand({}))).Addresses!.length, 5);
    // releasing one makes room again
    const first = (await c.send(new DescribeAddressesCommand({}))).Addresses![0]!;
    await c.send(new ReleaseAddressCommand({ AllocationId: first.AllocationId }));
    const again = await c.send(new AllocateAddressCommand({}));
    const held = (await c.send(new DescribeAddressesCommand({}))).Addresses!.map((a) => a.PublicIp);
    assert.equal(held.length, 5);
    assert.equal(new Set(held).size, 5, 'no address is handed out twice');
    assert.ok(held.includes(again.PublicIp));
  });

  it('the pool is shared by all regions: an address held in one cannot be claimed in another', async () => {
    const held = await c.send(new AllocateAddressCommand({}));
    const elsewhere = await ec2Error(t.client('eu-west-1').send(new AllocateAddressCommand({ Address: held.PublicIp })));
    assert.equal(elsewhere.code, 'InvalidAddress.NotFound');
    const other = await t.client('eu-west-1').send(new AllocateAddressCommand({}));
    assert.notEqual(other.PublicIp, held.PublicIp);
    await t.client('eu-west-1').send(new ReleaseAddressCommand({ AllocationId: other.AllocationId }));
  });

  it('the pool running dry is AddressLimitExceeded', async () => {
    const small = await startTestServer({ publicIpPool: '198.18.0.0/30' });
    try {
      const sc = small.client();
      const a = await sc.send(new AllocateAddressCommand({}));
      const b = await sc.send(new AllocateAddressCommand({}));
      assert.deepEqual([a.PublicIp, b.PublicIp], ['198.18.0.1', '198.18.0.2']);
      assert.equal((await ec2Error(sc.send(new AllocateAddressCommand({})))).code, 'AddressLimitExceeded');
    } finally {
      await small.close();
    }
  });

  it('TagSpecifications tag the address; tags go when it is released', async () => {
    const out = await c.send(
      new AllocateAddressCommand({ TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: [{ Key: 'Name', Value: 'web' }, { Key: 'env', Value: 'prod' }] }] }),
    );
    const d = await c.send(new DescribeAddressesCommand({ AllocationIds: [out.AllocationId!] }));
    assert.deepEqual(d.Addresses![0]!.Tags, [{ Key: 'Name', Value: 'web' }, { Key: 'env', Value: 'prod' }]);
    await c.send(new CreateTagsCommand({ Resources: [out.AllocationId!], Tags: [{ Key: 'later', Value: '1' }] }));
    const tags = await c.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [out.AllocationId!] }] }));
    assert.equal(tags.Tags!.length, 3);
    assert.ok(tags.Tags!.every((tg) => tg.ResourceType === 'elastic-ip'));
    await c.send(new ReleaseAddressCommand({ AllocationId: out.AllocationId }));
    const gone = await c.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [out.AllocationId!] }] }));
    assert.deepEqual(gone.Tags, []);
  });

  it('DescribeAddresses by PublicIps / AllocationIds and their errors', async () => {
    const a = await c.send(new AllocateAddressCommand({}));
    const b = await c.send(new AllocateAddressCommand({}));
    const third = await c.send(new AllocateAddressCommand({}));
    const byIp = await c.send(new DescribeAddressesCommand({ PublicIps: [b.PublicIp!] }));
    assert.deepEqual(byIp.Addresses!.map((x) => x.AllocationId), [b.AllocationId]);
    const byIds = await c.send(new DescribeAddressesCommand({ AllocationIds: [a.AllocationId!, b.AllocationId!] }));
    assert.deepEqual(byIds.Addresses!.map((x) => x.AllocationId).sort(), [a.AllocationId, b.AllocationId].sort());

    const notHeld = ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4', '203.0.113.5', '203.0.113.6'].find(
      (ip) => ![a.PublicIp, b.PublicIp, third.PublicIp].includes(ip),
    )!;
    const unknownIp = await ec2Error(c.send(new DescribeAddressesCommand({ PublicIps: [a.PublicIp!, notHeld] })));
    assert.equal(unknownIp.code, 'InvalidAddress.NotFound');
    assert.match(unknownIp.message, new RegExp(notHeld.replace(/\./g, '\\.')));
    assert.equal((await ec2Error(c.send(new DescribeAddressesCommand({ PublicIps: ['300.1.1.1'] })))).code, 'InvalidParameterValue');
    const unknownId = await ec2Error(c.send(new DescribeAddressesCommand({ AllocationIds: [MISSING_ALLOC] })));
    assert.equal(unknownId.code, 'InvalidAllocationID.NotFound');
    assert.match(unknownId.message, new RegExp(MISSING_ALLOC));
    assert.equal((await ec2Error(c.send(new DescribeAddressesCommand({ AllocationIds: ['eipalloc-xyz'] })))).code, 'InvalidAllocationID.Malformed');
  });

  it('DescribeAddresses filters', async () => {
    const a = await c.send(new AllocateAddressCommand({ TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: [{ Key: 'role', Value: 'web-1' }] }] }));
    const b = await c.send(new AllocateAddressCommand({ TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: [{ Key: 'team', Value: 'db' }] }] }));
    const ids = async (filters: { Name: string; Values: string[] }[]) =>
      ((await c.send(new DescribeAddressesCommand({ Filters: filters }))).Addresses ?? []).map((x) => x.AllocationId).sort();
    assert.deepEqual(await ids([{ Name: 'allocation-id', Values: [a.AllocationId!] }]), [a.AllocationId]);
    assert.deepEqual(await ids([{ Name: 'public-ip', Values: [b.PublicIp!] }]), [b.AllocationId]);
    assert.deepEqual(await ids([{ Name: 'public-ip', Values: ['203.0.113.*'] }]), [a.AllocationId, b.AllocationId].sort());
    assert.deepEqual(await ids([{ Name: 'domain', Values: ['vpc'] }]), [a.AllocationId, b.AllocationId].sort());
    assert.deepEqual(await ids([{ Name: 'domain', Values: ['standard'] }]), []);
    assert.deepEqual(await ids([{ Name: 'network-border-group', Values: ['us-east-1'] }]), [a.AllocationId, b.AllocationId].sort());
    assert.deepEqual(await ids([{ Name: 'tag:role', Values: ['web-*'] }]), [a.AllocationId]);
    assert.deepEqual(await ids([{ Name: 'tag-key', Values: ['team'] }]), [b.AllocationId]);
    // unassociated addresses match no association filter
    for (const name of ['association-id', 'instance-id', 'network-interface-id', 'private-ip-address', 'network-interface-owner-id']) {
      assert.deepEqual(await ids([{ Name: name, Values: ['*'] }]), [], name);
    }
    const bad = await ec2Error(c.send(new DescribeAddressesCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })));
    assert.equal(bad.code, 'InvalidParameterValue');
  });

  it('ReleaseAddress errors', async () => {
    const a = await c.send(new AllocateAddressCommand({}));
    assert.equal((await ec2Error(c.send(new ReleaseAddressCommand({ AllocationId: MISSING_ALLOC })))).code, 'InvalidAllocationID.NotFound');
    assert.equal((await ec2Error(c.send(new ReleaseAddressCommand({ AllocationId: 'eipalloc-1' })))).code, 'InvalidAllocationID.Malformed');
    assert.equal((await ec2Error(c.send(new ReleaseAddressCommand({})))).code, 'MissingParameter');
    // the deprecated PublicIp: EC2 wants the allocation id for a VPC address
    const byIp = await ec2Error(c.send(new ReleaseAddressCommand({ PublicIp: a.PublicIp })));
    assert.equal(byIp.code, 'InvalidParameterValue');
    assert.match(byIp.message, /allocation id/);
    const notHeld = a.PublicIp === '203.0.113.6' ? '203.0.113.5' : '203.0.113.6';
    assert.equal((await ec2Error(c.send(new ReleaseAddressCommand({ PublicIp: notHeld })))).code, 'InvalidAddress.NotFound');
    const both = await ec2Error(c.send(new ReleaseAddressCommand({ PublicIp: a.PublicIp, AllocationId: a.AllocationId })));
    assert.equal(both.code, 'InvalidParameterCombination');
    assert.equal((await ec2Error(c.send(new ReleaseAddressCommand({ AllocationId: a.AllocationId, NetworkBorderGroup: 'eu-west-1' })))).code, 'InvalidParameterValue');
    // still there after all the refusals
    assert.equal((await c.send(new DescribeAddressesCommand({ AllocationIds: [a.AllocationId!] }))).Addresses!.length, 1);
    await c.send(new ReleaseAddressCommand({ AllocationId: a.AllocationId }));
    const twice = await ec2Error(c.send(new ReleaseAddressCommand({ AllocationId: a.AllocationId })));
    assert.equal(twice.code, 'InvalidAllocationID.NotFound');
    assert.equal((await ec2Error(c.send(new DescribeAddressesCommand({ AllocationIds: [a.AllocationId!] })))).code, 'InvalidAllocationID.NotFound');
  });

  it('AssociateAddress / DisassociateAddress argument errors', async () => {
    const a = await c.send(new AllocateAddressCommand({}));
    const eni = 'eni-0123456789abcdef0';
    assert.equal((await ec2Error(c.send(new AssociateAddressCommand({ NetworkInterfaceId: eni })))).code, 'MissingParameter');
    assert.equal((await ec2Error(c.send(new AssociateAddressCommand({ AllocationId: MISSING_ALLOC, NetworkInterfaceId: eni })))).code, 'InvalidAllocationID.NotFound');
    assert.equal((await ec2Error(c.send(new AssociateAddressCommand({ AllocationId: a.AllocationId })))).code, 'MissingParameter');
    assert.equal(
      (await ec2Error(c.send(new AssociateAddressCommand({ AllocationId: a.AllocationId, InstanceId: 'i-0123456789abcdef0', NetworkInterfaceId: eni })))).code,
      'InvalidParameterCombination',
    );
    assert.equal((await ec2Error(c.send(new AssociateAddressCommand({ AllocationId: a.AllocationId, NetworkInterfaceId: eni })))).code, 'InvalidNetworkInterfaceID.NotFound');
    assert.equal((await ec2Error(c.send(new AssociateAddressCommand({ AllocationId: a.AllocationId, NetworkInterfaceId: 'eni-zz' })))).code, 'InvalidNetworkInterfaceID.Malformed');
    assert.equal((await ec2Error(c.send(new AssociateAddressCommand({ AllocationId: a.AllocationId, InstanceId: 'i-0123456789abcdef0' })))).code, 'InvalidInstanceID.NotFound');
    const byIp = await ec2Error(c.send(new AssociateAddressCommand({ PublicIp: a.PublicIp, InstanceId: 'i-0123456789abcdef0' })));
    assert.equal(byIp.code, 'InvalidParameterValue');
    assert.match(byIp.message, /allocation id/);

    assert.equal((await ec2Error(c.send(new DisassociateAddressCommand({})))).code, 'MissingParameter');
    const unknown = await ec2Error(c.send(new DisassociateAddressCommand({ AssociationId: 'eipassoc-0123456789abcdef0' })));
    assert.equal(unknown.code, 'InvalidAssociationID.NotFound');
    assert.match(unknown.message, /eipassoc-0123456789abcdef0/);
    assert.equal((await ec2Error(c.send(new DisassociateAddressCommand({ AssociationId: 'bogus' })))).code, 'InvalidAssociationID.NotFound');
    const disByIp = await ec2Error(c.send(new DisassociateAddressCommand({ PublicIp: a.PublicIp })));
    assert.equal(disByIp.code, 'InvalidParameterValue');
    assert.match(disByIp.message, /association id/);
  });

  it('DryRun: Allocate and Release answer DryRunOperation (412) and change nothing', async () => {
    const dry = await ec2Error(c.send(new AllocateAddressCommand({ DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.equal(dry.status, 412);
    assert.deepEqual((await c.send(new DescribeAddressesCommand({}))).Addresses, []);
    const a = await c.send(new AllocateAddressCommand({}));
    const dryRelease = await ec2Error(c.send(new ReleaseAddressCommand({ AllocationId: a.AllocationId, DryRun: true })));
    assert.equal(dryRelease.code, 'DryRunOperation');
    assert.equal(dryRelease.status, 412);
    assert.equal((await c.send(new DescribeAddressesCommand({}))).Addresses!.length, 1);
    // a DryRun of a call that would fail gives the real error, not DryRunOperation
    assert.equal((await ec2Error(c.send(new ReleaseAddressCommand({ AllocationId: MISSING_ALLOC, DryRun: true })))).code, 'InvalidAllocationID.NotFound');
    const dryDescribe = await ec2Error(c.send(new DescribeAddressesCommand({ DryRun: true })));
    assert.equal(dryDescribe.code, 'DryRunOperation');
  });

  it('addresses survive a restart', async () => {
    const a = await c.send(new AllocateAddressCommand({ TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: [{ Key: 'k', Value: 'v' }] }] }));
    await t.restart();
    const d = await t.client().send(new DescribeAddressesCommand({ AllocationIds: [a.AllocationId!] }));
    assert.equal(d.Addresses![0]!.PublicIp, a.PublicIp);
    assert.deepEqual(d.Addresses![0]!.Tags, [{ Key: 'k', Value: 'v' }]);
    c = t.client();
  });

  it('reverse DNS: DescribeAddressesAttribute / ModifyAddressAttribute / ResetAddressAttribute', async () => {
    const a = await c.send(new AllocateAddressCommand({}));
    const b = await c.send(new AllocateAddressCommand({}));
    const ptr = (ip: string) => `ec2-${ip.replace(/\./g, '-')}.compute-1.amazonaws.com.`;
    const initial = await c.send(new DescribeAddressesAttributeCommand({ AllocationIds: [a.AllocationId!], Attribute: 'domain-name' }));
    assert.deepEqual(initial.Addresses, [{ AllocationId: a.AllocationId, PublicIp: a.PublicIp, PtrRecord: ptr(a.PublicIp!) }]);

    const mod = await c.send(new ModifyAddressAttributeCommand({ AllocationId: a.AllocationId, DomainName: 'www.Example.com' }));
    assert.equal(mod.Address!.PtrRecord, 'www.example.com.');
    const page1 = await c.send(new DescribeAddressesAttributeCommand({ Attribute: 'domain-name', MaxResults: 1 }));
    assert.equal(page1.Addresses!.length, 1);
    assert.ok(page1.NextToken);
    const page2 = await c.send(new DescribeAddressesAttributeCommand({ Attribute: 'domain-name', MaxResults: 1, NextToken: page1.NextToken }));
    assert.equal(page2.NextToken, undefined);
    const byId = new Map([...page1.Addresses!, ...page2.Addresses!].map((x) => [x.AllocationId, x.PtrRecord]));
    assert.equal(byId.get(a.AllocationId), 'www.example.com.');
    assert.equal(byId.get(b.AllocationId), ptr(b.PublicIp!));

    assert.equal((await ec2Error(c.send(new ModifyAddressAttributeCommand({ AllocationId: a.AllocationId, DomainName: 'not a name' })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new ModifyAddressAttributeCommand({ AllocationId: a.AllocationId, DomainName: undefined })))).code, 'MissingParameter');
    assert.equal((await ec2Error(c.send(new ModifyAddressAttributeCommand({ AllocationId: MISSING_ALLOC, DomainName: 'x.example.com' })))).code, 'InvalidAllocationID.NotFound');
    assert.equal((await ec2Error(c.send(new DescribeAddressesAttributeCommand({ Attribute: 'colour' as never })))).code, 'InvalidParameterValue');

    const reset = await c.send(new ResetAddressAttributeCommand({ AllocationId: a.AllocationId, Attribute: 'domain-name' }));
    assert.equal(reset.Address!.PtrRecord, ptr(a.PublicIp!));
    const after = await c.send(new DescribeAddressesAttributeCommand({ AllocationIds: [a.AllocationId!] }));
    assert.equal(after.Addresses![0]!.PtrRecord, ptr(a.PublicIp!));
  });
});

describe('elastic IP addresses on instances (end to end)', () => {
  let t: TestServer;
  let c: EC2Client;
  let imageId: string;
  before(async () => {
    t = await startTestServer({ publicIpPool: '203.0.113.0/28' });
    c = t.client();
    const images = await c.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    imageId = images.Images![0]!.ImageId!;
  });
  after(() => t.close());
  beforeEach(() => releaseAll(c));

  async function describeInstance(id: string): Promise<Instance> {
    const out = await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    return out.Reservations![0]!.Instances![0]!;
  }

  /** Polls until the instance reaches `state` (at most 100 polls, 20 ms apart). */
  async function waitFor(id: string, state: string): Promise<Instance> {
    let last: Instance | undefined;
    for (let i = 0; i < 100; i++) {
      last = await describeInstance(id);
      if (last.State?.Name === state) return last;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`instance ${id} did not reach ${state} (last: ${last?.State?.Name})`);
  }

  async function launch(subnetId?: string): Promise<Instance> {
    const out = await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId: subnetId }));
    return waitFor(out.Instances![0]!.InstanceId!, 'running');
  }

  async function address(allocationId: string) {
    return (await c.send(new DescribeAddressesCommand({ AllocationIds: [allocationId] }))).Addresses![0]!;
  }

  it('associating replaces the auto-assigned public IP, which returns to the pool', async () => {
    const inst = await launch();
    const autoIp = inst.PublicIpAddress;
    assert.ok(autoIp, 'an instance in the default subnet gets a public IP');
    const eip = await c.send(new AllocateAddressCommand({}));
    assert.notEqual(eip.PublicIp, autoIp);
    const assoc = await c.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: inst.InstanceId }));
    assert.match(assoc.AssociationId!, /^eipassoc-[0-9a-f]{17}$/);

    const after = await describeInstance(inst.InstanceId!);
    assert.equal(after.PublicIpAddress, eip.PublicIp);
    const eni = after.NetworkInterfaces![0]!;
    assert.equal(eni.Association?.PublicIp, eip.PublicIp);

    const a = await address(eip.AllocationId!);
    assert.equal(a.AssociationId, assoc.AssociationId);
    assert.equal(a.InstanceId, inst.InstanceId);
    assert.equal(a.NetworkInterfaceId, eni.NetworkInterfaceId);
    assert.equal(a.PrivateIpAddress, inst.PrivateIpAddress);
    assert.match(a.NetworkInterfaceOwnerId!, /^\d{12}$/);

    // association filters, on a sample
    const ids = async (name: string, value: string) =>
      ((await c.send(new DescribeAddressesCommand({ Filters: [{ Name: name, Values: [value] }] }))).Addresses ?? []).map((x) => x.AllocationId);
    assert.deepEqual(await ids('instance-id', inst.InstanceId!), [eip.AllocationId]);
    assert.deepEqual(await ids('association-id', assoc.AssociationId!), [eip.AllocationId]);
    assert.deepEqual(await ids('network-interface-id', eni.NetworkInterfaceId!), [eip.AllocationId]);
    assert.deepEqual(await ids('private-ip-address', inst.PrivateIpAddress!), [eip.AllocationId]);
    assert.deepEqual(await ids('network-interface-owner-id', a.NetworkInterfaceOwnerId!), [eip.AllocationId]);
    assert.deepEqual(await ids('instance-id', 'i-0123456789abcdef0'), []);

    // the old auto-assigned address is free: it can now be allocated as an Elastic IP
    const reused = await c.send(new AllocateAddressCommand({ Address: autoIp }));
    assert.equal(reused.PublicIp, autoIp);

    // associating again to the same place is a no-op
    const again = await c.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: inst.InstanceId }));
    assert.equal(again.AssociationId, assoc.AssociationId);

    // release while associated fails and changes nothing
    const inUse = await ec2Error(c.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId })));
    assert.equal(inUse.code, 'InvalidIPAddress.InUse');
    assert.equal((await address(eip.AllocationId!)).AssociationId, assoc.AssociationId);
    await c.send(new TerminateInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
    await waitFor(inst.InstanceId!, 'terminated');
  });

  it('the Elastic IP survives stop and start; an auto-assigned IP does not', async () => {
    const inst = await launch();
    const plain = await launch();
    const eip = await c.send(new AllocateAddressCommand({}));
    await c.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: inst.InstanceId }));

    await c.send(new StopInstancesCommand({ InstanceIds: [inst.InstanceId!, plain.InstanceId!] }));
    const stopped = await waitFor(inst.InstanceId!, 'stopped');
    const plainStopped = await waitFor(plain.InstanceId!, 'stopped');
    assert.equal(stopped.PublicIpAddress, eip.PublicIp, 'a stopped instance keeps its Elastic IP');
    assert.equal(plainStopped.PublicIpAddress, undefined, 'a stopped instance loses its auto-assigned IP');
    assert.equal((await address(eip.AllocationId!)).InstanceId, inst.InstanceId);

    await c.send(new StartInstancesCommand({ InstanceIds: [inst.InstanceId!, plain.InstanceId!] }));
    const running = await waitFor(inst.InstanceId!, 'running');
    const plainRunning = await waitFor(plain.InstanceId!, 'running');
    assert.equal(running.PublicIpAddress, eip.PublicIp);
    assert.ok(plainRunning.PublicIpAddress && plainRunning.PublicIpAddress !== eip.PublicIp, 'a fresh auto-assigned IP on start');
    assert.equal((await address(eip.AllocationId!)).AssociationId !== undefined, true);

    await c.send(new TerminateInstancesCommand({ InstanceIds: [inst.InstanceId!, plain.InstanceId!] }));
    await waitFor(inst.InstanceId!, 'terminated');
    await waitFor(plain.InstanceId!, 'terminated');
    // termination disassociates the address but keeps it allocated
    const left = await address(eip.AllocationId!);
    assert.equal(left.AssociationId, undefined);
    assert.equal(left.InstanceId, undefined);
    assert.equal((await ec2Error(c.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: inst.InstanceId })))).code, 'IncorrectInstanceState');
  });

  it('disassociating gives the address back and the instance a new auto-assigned IP', async () => {
    const inst = await launch();
    const eip = await c.send(new AllocateAddressCommand({}));
    const { AssociationId } = await c.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: inst.InstanceId }));
    await c.send(new DisassociateAddressCommand({ AssociationId }));

    const a = await address(eip.AllocationId!);
    assert.equal(a.AssociationId, undefined);
    assert.equal(a.InstanceId, undefined);
    assert.equal(a.NetworkInterfaceId, undefined);
    assert.equal(a.PrivateIpAddress, undefined);
    const after = await describeInstance(inst.InstanceId!);
    assert.ok(after.PublicIpAddress, 'the instance has a public IP again');
    assert.notEqual(after.PublicIpAddress, eip.PublicIp);
    assert.equal(after.NetworkInterfaces![0]!.Association?.IpOwnerId, 'amazon', 'an auto-assigned address is owned by amazon');

    const twice = await ec2Error(c.send(new DisassociateAddressCommand({ AssociationId })));
    assert.equal(twice.code, 'InvalidAssociationID.NotFound');
    // unassociated, it can be released
    await c.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId }));
    assert.deepEqual((await c.send(new DescribeAddressesCommand({}))).Addresses, []);
    await c.send(new TerminateInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
  });

  it('reassociation needs AllowReassociation; a second Elastic IP displaces the first', async () => {
    const one = await launch();
    const two = await launch();
    const eip = await c.send(new AllocateAddressCommand({}));
    const first = await c.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: one.InstanceId }));

    const refused = await ec2Error(c.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: two.InstanceId })));
    assert.equal(refused.code, 'Resource.AlreadyAssociated');
    assert.match(refused.message, new RegExp(first.AssociationId!));
    const refusedFalse = await ec2Error(
      c.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: two.InstanceId, AllowReassociation: false })),
    );
    assert.equal(refusedFalse.code, 'Resource.AlreadyAssociated');
    assert.equal((await describeInstance(one.InstanceId!)).PublicIpAddress, eip.PublicIp);

    const moved = await c.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: two.InstanceId, AllowReassociation: true }));
    assert.notEqual(moved.AssociationId, first.AssociationId);
    assert.equal((await describeInstance(two.InstanceId!)).PublicIpAddress, eip.PublicIp);
    const oneNow = await describeInstance(one.InstanceId!);
    assert.ok(oneNow.PublicIpAddress && oneNow.PublicIpAddress !== eip.PublicIp, 'the old instance gets an auto-assigned IP back');
    assert.equal((await address(eip.AllocationId!)).InstanceId, two.InstanceId);
    assert.equal((await ec2Error(c.send(new DisassociateAddressCommand({ AssociationId: first.AssociationId })))).code, 'InvalidAssociationID.NotFound');

    // a second Elastic IP on `two` (through its interface) displaces the first, which stays allocated
    const eni = (await describeInstance(two.InstanceId!)).NetworkInterfaces![0]!;
    const eip2 = await c.send(new AllocateAddressCommand({}));
    const wrongIp = await ec2Error(
      c.send(new AssociateAddressCommand({ AllocationId: eip2.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddress: '10.99.99.99' })),
    );
    assert.equal(wrongIp.code, 'InvalidParameterValue');
    await c.send(
      new AssociateAddressCommand({ AllocationId: eip2.AllocationId, NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIpAddress: eni.PrivateIpAddress }),
    );
    assert.equal((await describeInstance(two.InstanceId!)).PublicIpAddress, eip2.PublicIp);
    const displaced = await address(eip.AllocationId!);
    assert.equal(displaced.AssociationId, undefined);
    assert.equal(displaced.InstanceId, undefined);
    const second = await address(eip2.AllocationId!);
    assert.equal(second.InstanceId, two.InstanceId);
    assert.equal(second.NetworkInterfaceId, eni.NetworkInterfaceId);
    await c.send(new TerminateInstancesCommand({ InstanceIds: [one.InstanceId!, two.InstanceId!] }));
    await waitFor(one.InstanceId!, 'terminated');
    await waitFor(two.InstanceId!, 'terminated');
  });

  it('DryRun on Associate and Disassociate changes nothing', async () => {
    const inst = await launch();
    const eip = await c.send(new AllocateAddressCommand({}));
    const dry = await ec2Error(c.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: inst.InstanceId, DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.equal(dry.status, 412);
    assert.equal((await address(eip.AllocationId!)).AssociationId, undefined);
    assert.equal((await describeInstance(inst.InstanceId!)).PublicIpAddress, inst.PublicIpAddress);

    const { AssociationId } = await c.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: inst.InstanceId }));
    const dryDis = await ec2Error(c.send(new DisassociateAddressCommand({ AssociationId, DryRun: true })));
    assert.equal(dryDis.code, 'DryRunOperation');
    assert.equal((await address(eip.AllocationId!)).AssociationId, AssociationId);
    assert.equal((await describeInstance(inst.InstanceId!)).PublicIpAddress, eip.PublicIp);
    const dryRelease = await ec2Error(c.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId, DryRun: true })));
    assert.equal(dryRelease.code, 'InvalidIPAddress.InUse', 'a DryRun reports the error the call would give');
    await c.send(new TerminateInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
  });

  it('a VPC without an internet gateway cannot map an Elastic IP', async () => {
    const vpc = await c.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
    const subnet = await c.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: '10.20.1.0/24' }));
    const inst = await launch(subnet.Subnet!.SubnetId);
    assert.equal(inst.PublicIpAddress, undefined);
    const eip = await c.send(new AllocateAddressCommand({}));
    const err = await ec2Error(c.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: inst.InstanceId })));
    assert.equal(err.code, 'Gateway.NotAttached');
    assert.match(err.message, new RegExp(vpc.Vpc!.VpcId!));
    assert.equal((await address(eip.AllocationId!)).AssociationId, undefined);
    await c.send(new TerminateInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
  });
});
