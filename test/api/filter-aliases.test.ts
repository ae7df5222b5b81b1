/**
 * Filter names real tools send that the reference lists under another name (or
 * not at all), which EC2 takes: Ansible's ec2_vpc_net finds its VPC with
 * DescribeVpcs `cidr-block`, old scripts use the 2014 reference's
 * `association.public-ip` on DescribeInstances, the reference itself spells
 * DescribeVolumesModifications' `originalMultiAttachEnabled` in camel case. Each
 * alias finds what its reference name finds, and nothing for a value that does
 * not match; a name EC2 does not know stays InvalidParameterValue.
 */
import * as EC2 from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

type Filters = { Name: string; Values: string[] }[];

describe('filter aliases EC2 accepts', () => {
  let t: TestServer;
  let c: EC2.EC2Client;
  let vpc: string;
  let subnet: string;
  let instance: string;
  let publicIp: string;
  let allocationId: string;
  let associationId: string;
  let volume: string;
  let acl: string;

  /** The ids a Describe action answers with these filters. */
  async function ids(action: string, Filters: Filters): Promise<string[]> {
    switch (action) {
      case 'DescribeVpcs':
        return ((await c.send(new EC2.DescribeVpcsCommand({ Filters }))).Vpcs ?? []).map((v) => v.VpcId!);
      case 'DescribeSubnets':
        return ((await c.send(new EC2.DescribeSubnetsCommand({ Filters }))).Subnets ?? []).map((s) => s.SubnetId!);
      case 'DescribeInstances':
        return ((await c.send(new EC2.DescribeInstancesCommand({ Filters }))).Reservations ?? []).flatMap((r) => r.Instances!.map((i) => i.InstanceId!));
      case 'DescribeVolumesModifications':
        return ((await c.send(new EC2.DescribeVolumesModificationsCommand({ Filters }))).VolumesModifications ?? []).map((m) => m.VolumeId!);
      case 'DescribeNetworkAcls':
        return ((await c.send(new EC2.DescribeNetworkAclsCommand({ Filters }))).NetworkAcls ?? []).map((a) => a.NetworkAclId!);
      case 'DescribeAvailabilityZones':
        return ((await c.send(new EC2.DescribeAvailabilityZonesCommand({ Filters }))).AvailabilityZones ?? []).map((z) => z.ZoneName!);
      default:
        throw new Error(action);
    }
  }

  /** `alias` finds exactly what `reference` finds for `value` (and that is `expected`), and nothing for `other`. */
  async function same(action: string, alias: string, reference: string, value: string, other: string, expected: string[]) {
    const scope: Filters = action === 'DescribeSubnets' || action === 'DescribeNetworkAcls' ? [{ Name: 'vpc-id', Values: [vpc] }] : [];
    assert.deepEqual(await ids(action, [...scope, { Name: reference, Values: [value] }]), expected, `${action} ${reference}=${value}`);
    assert.deepEqual(await ids(action, [...scope, { Name: alias, Values: [value] }]), expected, `${action} ${alias}=${value}`);
    assert.deepEqual(await ids(action, [...scope, { Name: alias, Values: [other] }]), [], `${action} ${alias}=${other}`);
  }

  before(async () => {
    t = await startTestServer({ publicIpPool: '203.0.113.0/29' });
    c = t.client();
    vpc = (await c.send(new EC2.CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }))).Vpc!.VpcId!;
    subnet = (await c.send(new EC2.CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.42.1.0/24', AvailabilityZone: 'us-east-1b' }))).Subnet!.SubnetId!;
    const ami = (await c.send(new EC2.DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'architecture', Values: ['x86_64'] }] }))).Images![0]!.ImageId!;
    instance = (await c.send(new EC2.RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, SubnetId: subnet }))).Instances![0]!.InstanceId!;
    const igw = (await c.send(new EC2.CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await c.send(new EC2.AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc }));
    const eip = await c.send(new EC2.AllocateAddressCommand({ Domain: 'vpc' }));
    publicIp = eip.PublicIp!;
    allocationId = eip.AllocationId!;
    associationId = (await c.send(new EC2.AssociateAddressCommand({ AllocationId: allocationId, InstanceId: instance }))).AssociationId!;
    volume = (await c.send(new EC2.CreateVolumeCommand({ AvailabilityZone: 'us-east-1b', Size: 4 }))).VolumeId!;
    for (let i = 0; i < 200; i++) {
      const v = await c.send(new EC2.DescribeVolumesCommand({ VolumeIds: [volume] }));
      if (v.Volumes![0]!.State === 'available') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await c.send(new EC2.ModifyVolumeCommand({ VolumeId: volume, Size: 5 }));
    acl = (await c.send(new EC2.CreateNetworkAclCommand({ VpcId: vpc }))).NetworkAcl!.NetworkAclId!;
    await c.send(
      new EC2.CreateNetworkAclEntryCommand({ NetworkAclId: acl, RuleNumber: 100, Protocol: '6', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0', PortRange: { From: 80, To: 443 } }),
    );
    await c.send(
      new EC2.CreateNetworkAclEntryCommand({ NetworkAclId: acl, RuleNumber: 110, Protocol: '1', RuleAction: 'allow', Egress: false, CidrBlock: '0.0.0.0/0', IcmpTypeCode: { Type: 8, Code: 0 } }),
    );
  });
  after(() => t.close());

  it('DescribeVpcs: cidr-block (Ansible ec2_vpc_net), isDefault', async () => {
    await same('DescribeVpcs', 'cidr-block', 'cidr', '10.42.0.0/16', '10.43.0.0/16', [vpc]);
    const defaults = await ids('DescribeVpcs', [{ Name: 'is-default', Values: ['true'] }]);
    assert.equal(defaults.length, 1);
    assert.deepEqual(await ids('DescribeVpcs', [{ Name: 'isDefault', Values: ['true'] }]), defaults);
  });

  it('DescribeSubnets: cidr, cidrBlock, availabilityZone, availabilityZoneId, defaultForAz', async () => {
    await same('DescribeSubnets', 'cidr', 'cidr-block', '10.42.1.0/24', '10.42.2.0/24', [subnet]);
    await same('DescribeSubnets', 'cidrBlock', 'cidr-block', '10.42.1.0/24', '10.42.2.0/24', [subnet]);
    await same('DescribeSubnets', 'availabilityZone', 'availability-zone', 'us-east-1b', 'us-east-1c', [subnet]);
    await same('DescribeSubnets', 'defaultForAz', 'default-for-az', 'false', 'true', [subnet]);
    const zoneId = (await c.send(new EC2.DescribeSubnetsCommand({ SubnetIds: [subnet] }))).Subnets![0]!.AvailabilityZoneId!;
    await same('DescribeSubnets', 'availabilityZoneId', 'availability-zone-id', zoneId, 'use1-az9', [subnet]);
  });

  it("DescribeInstances: the 2014 reference's association.* and network-interface.source-destination-check", async () => {
    await same('DescribeInstances', 'association.public-ip', 'network-interface.association.public-ip', publicIp, '203.0.113.250', [instance]);
    await same('DescribeInstances', 'association.allocation-id', 'network-interface.association.allocation-id', allocationId, 'eipalloc-00000000000000000', [instance]);
    await same('DescribeInstances', 'association.association-id', 'network-interface.association.association-id', associationId, 'eipassoc-00000000000000000', [instance]);
    await same('DescribeInstances', 'association.ip-owner-id', 'network-interface.association.ip-owner-id', '123456789012', '999999999999', [instance]);
    await same('DescribeInstances', 'network-interface.addresses.association.public-ip', 'ip-address', publicIp, '203.0.113.250', [instance]);
    await same('DescribeInstances', 'network-interface.source-destination-check', 'network-interface.source-dest-check', 'true', 'false', [instance]);
  });

  it('DescribeInstances: documented filters on the interfaces and volumes', async () => {
    const scope = { Name: 'instance-id', Values: [instance] };
    for (const [name, value, other] of [
      ['network-interface.attachment.device-index', '0', '1'],
      ['network-interface.attachment.status', 'attached', 'detached'],
      ['network-interface.attachment.instance-id', instance, 'i-00000000000000000'],
      ['network-interface.attachment.delete-on-termination', 'true', 'false'],
      ['network-interface.status', 'in-use', 'available'],
      ['network-interface.addresses.primary', 'true', 'nope'],
      ['network-interface.requester-managed', 'false', 'true'],
      ['network-interface.availability-zone', 'us-east-1b', 'us-east-1a'],
      ['network-interface.owner-id', '123456789012', '999999999999'],
    ] as const) {
      assert.deepEqual(await ids('DescribeInstances', [scope, { Name: name, Values: [value] }]), [instance], `${name}=${value}`);
      assert.deepEqual(await ids('DescribeInstances', [scope, { Name: name, Values: [other] }]), [], `${name}=${other}`);
    }
    // what Overcast never has: accepted, and nothing matches
    for (const name of ['instance-lifecycle', 'spot-instance-request-id', 'requester-id', 'iam-instance-profile.arn', 'platform']) {
      assert.deepEqual(await ids('DescribeInstances', [{ Name: name, Values: ['*'] }]), [], name);
    }
  });

  it('DescribeVolumesModifications: originalMultiAttachEnabled and targetMultiAttachEnabled, as the reference spells them', async () => {
    await same('DescribeVolumesModifications', 'originalMultiAttachEnabled', 'original-multi-attach-enabled', 'false', 'true', [volume]);
    await same('DescribeVolumesModifications', 'targetMultiAttachEnabled', 'target-multi-attach-enabled', 'false', 'true', [volume]);
  });

  it('DescribeNetworkAcls: entry.port-range.* and entry.icmp.*', async () => {
    for (const [name, value, other] of [
      ['entry.port-range.from', '80', '81'],
      ['entry.port-range.to', '443', '444'],
      ['entry.icmp.type', '8', '3'],
      ['entry.icmp.code', '0', '4'],
    ] as const) {
      assert.deepEqual(await ids('DescribeNetworkAcls', [{ Name: 'vpc-id', Values: [vpc] }, { Name: name, Values: [value] }]), [acl], `${name}=${value}`);
      assert.deepEqual(await ids('DescribeNetworkAcls', [{ Name: 'vpc-id', Values: [vpc] }, { Name: name, Values: [other] }]), [], `${name}=${other}`);
    }
  });

  it('DescribeAvailabilityZones: parent-zone-id and the older parent-zoneID are accepted; regional zones have no parent', async () => {
    for (const name of ['parent-zone-id', 'parent-zone-name', 'parent-zoneID', 'parent-zoneName']) {
      assert.deepEqual(await ids('DescribeAvailabilityZones', [{ Name: name, Values: ['*'] }]), [], name);
    }
  });

  it('names EC2 does not take stay InvalidParameterValue', async () => {
    for (const [action, name] of [
      ['DescribeVpcs', 'cidr_block'],
      ['DescribeVpcs', 'CidrBlock'],
      ['DescribeSubnets', 'cidr-blocks'],
      ['DescribeInstances', 'association.publicIp'],
      ['DescribeVolumesModifications', 'OriginalMultiAttachEnabled'],
    ] as const) {
      const e = await ec2Error(ids(action, [{ Name: name, Values: ['x'] }]));
      assert.equal(e.code, 'InvalidParameterValue', `${action} ${name}`);
      assert.equal(e.message, `The filter '${name}' is invalid`);
    }
  });
});
