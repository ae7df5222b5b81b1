import {
  CreateKeyPairCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeVpcsCommand,
  ModifyInstanceMetadataOptionsCommand,
  ModifyVpcAttributeCommand,
  RunInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CERTIFICATE_FILE, metadataSources, SIGNING_KEY_FILE, type MetadataSources } from '../../src/reconcile/metadata.js';
import { MetadataService } from '../../src/network/imds/service.js';
import { resolveNode, versionDir, type MetadataDir } from '../../src/network/imds/tree.js';
import { formatIpv6, parseCidr6 } from '../../src/domain/cidr.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('reconcile/metadata: the store behind IMDS and the VPC resolver', () => {
  let t: TestServer;
  let c: EC2Client;
  let src: MetadataSources;
  let first: Instance;
  let second: Instance;
  let keyName: string;
  let publicKey: string;
  let defaultVpc: string;
  let otherVpc: string;
  let twin: Instance;
  const userData = '#!/bin/sh\necho hello from user data\n';

  before(async () => {
    t = await startTestServer();
    c = t.client('us-east-1');
    const images = await c.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    // an image whose instances default to IMDSv1-optional would do as well; take the first x86 one
    const ami = images.Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
    const key = await c.send(new CreateKeyPairCommand({ KeyName: 'meta-key', KeyType: 'ed25519' }));
    keyName = key.KeyName!;
    const run = await c.send(
      new RunInstancesCommand({
        ImageId: ami,
        MinCount: 2,
        MaxCount: 2,
        InstanceType: 't3.micro',
        KeyName: keyName,
        UserData: Buffer.from(userData).toString('base64'),
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }] }],
      }),
    );
    [first, second] = run.Instances!;
    defaultVpc = first!.VpcId!;
    src = metadataSources(t.server.store, t.server.config);
    publicKey = t.server.store.collection(KINDS.keyPair).list('us-east-1').find((k) => k.KeyName === keyName)!.publicKey;

    // another VPC with the same CIDR, and an instance there at the first one's private IP
    const vpc = await c.send(new CreateVpcCommand({ CidrBlock: '172.31.0.0/16' }));
    otherVpc = vpc.Vpc!.VpcId!;
    const subnetCidr = `${first!.PrivateIpAddress!.split('.').slice(0, 3).join('.')}.0/24`;
    const subnet = await c.send(new CreateSubnetCommand({ VpcId: otherVpc, CidrBlock: subnetCidr }));
    const twinRun = await c.send(
      new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, SubnetId: subnet.Subnet!.SubnetId!, PrivateIpAddress: first!.PrivateIpAddress! }),
    );
    twin = twinRun.Instances![0]!;
  });
  after(() => t.close());

  it('IPv6: the interface\'s addresses, the subnet\'s and VPC\'s blocks, meta-data/ipv6; none of it without IPv6', async () => {
    const ami = first.ImageId!;
    const vpcId = (await c.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16', AmazonProvidedIpv6CidrBlock: true }))).Vpc!.VpcId!;
    const vpc = (await c.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs![0]!;
    const block = vpc.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!;
    const v6 = parseCidr6(block)!;
    const subnet64 = `${formatIpv6(v6.address + (3n << 64n))}/64`;
    const v6Subnet = (await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.30.1.0/24', Ipv6CidrBlock: subnet64 }))).Subnet!.SubnetId!;
    const v4Subnet = (await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.30.2.0/24' }))).Subnet!.SubnetId!;
    const dual = (await c.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, SubnetId: v6Subnet, Ipv6AddressCount: 2 }))).Instances![0]!;
    const plain = (await c.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, SubnetId: v4Subnet }))).Instances![0]!;
    const assigned = dual.NetworkInterfaces![0]!.Ipv6Addresses!.map((a) => a.Ipv6Address!);
    assert.equal(assigned.length, 2);

    const m = src.instanceMetadata(vpcId, dual.PrivateIpAddress!);
    assert.ok(m);
    assert.equal(m.ipv6, assigned[0]);
    assert.deepEqual(m.interfaces[0]!.ipv6s, assigned);
    assert.deepEqual(m.interfaces[0]!.subnetIpv6Cidrs, [subnet64]);
    assert.deepEqual(m.interfaces[0]!.vpcIpv6Cidrs, [block]);
    const tree = versionDir(m, undefined);
    const at = (p: string) => resolveNode(tree, p.split('/'));
    const mac = m.interfaces[0]!.mac;
    assert.equal(at('meta-data/ipv6'), assigned[0]);
    assert.equal(at(`meta-data/network/interfaces/macs/${mac}/ipv6s`), assigned.join('\n'));
    assert.equal(at(`meta-data/network/interfaces/macs/${mac}/subnet-ipv6-cidr-blocks`), subnet64);
    assert.equal(at(`meta-data/network/interfaces/macs/${mac}/vpc-ipv6-cidr-blocks`), block);
    assert.ok((at('meta-data/') as MetadataDir).list().split('\n').includes('ipv6'));

    // an instance in the same VPC, in a subnet without IPv6: only the VPC's blocks
    const p = src.instanceMetadata(vpcId, plain.PrivateIpAddress!);
    assert.ok(p);
    assert.equal(p.ipv6, undefined);
    const plainTree = versionDir(p, undefined);
    const pmac = p.interfaces[0]!.mac;
    assert.equal(resolveNode(plainTree, ['meta-data', 'ipv6']), undefined);
    assert.equal(resolveNode(plainTree, ['meta-data', 'network', 'interfaces', 'macs', pmac, 'ipv6s']), undefined);
    assert.equal(resolveNode(plainTree, ['meta-data', 'network', 'interfaces', 'macs', pmac, 'subnet-ipv6-cidr-blocks']), undefined);
    assert.equal(resolveNode(plainTree, ['meta-data', 'network', 'interfaces', 'macs', pmac, 'vpc-ipv6-cidr-blocks']), block);
    // the default VPC has no IPv6 at all
    const d = versionDir(src.instanceMetadata(defaultVpc, second.PrivateIpAddress!)!, undefined);
    const dmac = second.NetworkInterfaces![0]!.MacAddress!;
    assert.equal(resolveNode(d, ['meta-data', 'network', 'interfaces', 'macs', dmac, 'vpc-ipv6-cidr-blocks']), undefined);
    assert.ok(resolveNode(d, ['meta-data', 'network', 'interfaces', 'macs', dmac, 'vpc-ipv4-cidr-blocks']) !== undefined);
  });

  it("answers the instance's own fields, user data and key", async () => {
    const m = await src.metadata.lookup(defaultVpc, first.PrivateIpAddress!);
    assert.ok(m);
    assert.equal(m.instanceId, first.InstanceId);
    assert.equal(m.instanceType, 't3.micro');
    assert.equal(m.imageId, first.ImageId);
    assert.equal(m.amiLaunchIndex, 0);
    assert.equal(m.reservationId.startsWith('r-'), true);
    assert.equal(m.accountId, t.server.config.accountId);
    assert.equal(m.region, 'us-east-1');
    assert.equal(m.availabilityZone, first.Placement!.AvailabilityZone);
    assert.match(m.availabilityZoneId, /^use1-az\d$/);
    assert.equal(m.privateIp, first.PrivateIpAddress);
    assert.equal(m.hostname, `ip-${first.PrivateIpAddress!.replace(/\./g, '-')}.ec2.internal`);
    assert.equal(m.publicIp, first.PublicIpAddress);
    assert.equal(m.userData?.toString('utf8'), userData);
    assert.deepEqual(m.publicKeys, [{ name: keyName, openssh: `${publicKey} ${keyName}` }]);
    assert.match(publicKey, /^ssh-ed25519 /);
    assert.deepEqual(m.securityGroups, first.SecurityGroups!.map((g) => g.GroupName));
    assert.equal(m.blockDevices.root, first.RootDeviceName);
    assert.equal(m.architecture, 'x86_64');
    assert.equal(m.interfaces.length, 1);
    const eni = m.interfaces[0]!;
    const described = first.NetworkInterfaces![0]!;
    assert.equal(eni.mac, described.MacAddress);
    assert.equal(eni.interfaceId, described.NetworkInterfaceId);
    assert.equal(eni.deviceNumber, 0);
    assert.deepEqual(eni.privateIps, [first.PrivateIpAddress]);
    assert.equal(eni.subnetId, first.SubnetId);
    assert.match(eni.subnetCidr, /^172\.31\.\d+\.0\/20$/);
    assert.equal(eni.vpcId, defaultVpc);
    assert.equal(eni.vpcCidr, '172.31.0.0/16');
    assert.deepEqual(eni.vpcCidrs, ['172.31.0.0/16']);
    assert.deepEqual(eni.securityGroupIds, first.SecurityGroups!.map((g) => g.GroupId));
    assert.ok(Date.parse(m.pendingTime) > 0);
    assert.equal(m.tags, undefined);
  });

  it('another instance’s IP answers about that other instance only', async () => {
    const m = await src.metadata.lookup(defaultVpc, second.PrivateIpAddress!);
    assert.equal(m?.instanceId, second.InstanceId);
    assert.equal(m?.amiLaunchIndex, 1);
    assert.equal(m?.privateIp, second.PrivateIpAddress);
    // same private IP, another VPC: the other VPC's instance
    const t2 = await src.metadata.lookup(otherVpc, first.PrivateIpAddress!);
    assert.equal(t2?.instanceId, twin.InstanceId);
    assert.equal(t2?.interfaces[0]?.vpcId, otherVpc);
    assert.equal(t2?.publicKeys.length, 0);
    assert.equal(t2?.userData, undefined);
    // nobody's address, an unknown VPC
    assert.equal(await src.metadata.lookup(defaultVpc, '172.31.255.250'), undefined);
    assert.equal(await src.metadata.lookup('vpc-0000000000000000f', first.PrivateIpAddress!), undefined);
    assert.equal(src.regionOfVpc(otherVpc), 'us-east-1');
  });

  it('ModifyInstanceMetadataOptions shows on the next lookup; tags once enabled', async () => {
    const before = await src.metadata.lookup(defaultVpc, first.PrivateIpAddress!);
    assert.equal(before?.options.httpEndpoint, 'enabled');
    await c.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: first.InstanceId, HttpTokens: 'required', HttpEndpoint: 'disabled', InstanceMetadataTags: 'enabled' }));
    const after = await src.metadata.lookup(defaultVpc, first.PrivateIpAddress!);
    assert.equal(after?.options.httpTokens, 'required');
    assert.equal(after?.options.httpEndpoint, 'disabled');
    assert.equal(after?.options.instanceMetadataTags, 'enabled');
    assert.deepEqual(after?.tags, [{ key: 'Name', value: 'web' }]);
    await c.send(new CreateTagsCommand({ Resources: [first.InstanceId!], Tags: [{ Key: 'role', Value: 'db' }] }));
    const tagged = await src.metadata.lookup(defaultVpc, first.PrivateIpAddress!);
    assert.deepEqual(new Set(tagged?.tags?.map((x) => `${x.key}=${x.value}`)), new Set(['Name=web', 'role=db']));
    await c.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: first.InstanceId, HttpEndpoint: 'enabled' }));
    assert.equal((await src.metadata.lookup(defaultVpc, first.PrivateIpAddress!))?.options.httpEndpoint, 'enabled');
  });

  it('DNS: private names of held addresses resolve, the reverse too; names elsewhere are NXDOMAIN', async () => {
    const ip = first.PrivateIpAddress!;
    const name = `ip-${ip.replace(/\./g, '-')}.ec2.internal`;
    assert.deepEqual(await src.dns.lookup(defaultVpc, name), { ipv4: [ip] });
    assert.equal(await src.dns.lookup(defaultVpc, 'ip-172-31-255-250.ec2.internal'), 'nxdomain');
    assert.equal(await src.dns.lookup(defaultVpc, 'example.com'), 'nxdomain');
    assert.equal(await src.dns.lookup(defaultVpc, `ip-${ip.replace(/\./g, '-')}.eu-west-1.compute.internal`), 'nxdomain');
    assert.deepEqual(await src.dns.reverse(defaultVpc, ip), { names: [name] });
    assert.equal(await src.dns.reverse(defaultVpc, '10.9.9.9'), 'nxdomain');
    // the other VPC: its own instance at the same address; it has no DNS hostnames (a new VPC's default)
    assert.deepEqual(await src.dns.lookup(otherVpc, name), { ipv4: [ip] });
    assert.equal(await src.dns.reverse(otherVpc, ip), 'nxdomain');
    const vpcs = await c.send(new DescribeVpcsCommand({ VpcIds: [otherVpc] }));
    assert.ok(vpcs.Vpcs?.length === 1);
    await c.send(new ModifyVpcAttributeCommand({ VpcId: otherVpc, EnableDnsSupport: { Value: false } }));
    assert.equal(await src.dns.lookup(otherVpc, name), 'refused');
    assert.equal(await src.dns.lookup('vpc-0000000000000000f', name), 'refused');
  });

  it('end to end: the MetadataService over HTTP, with this source, signs and applies options at once', async () => {
    // the request comes from 127.0.0.1: stand it in for the instance's private IP
    const svc = new MetadataService({
      source: { lookup: (vpcId) => src.metadata.lookup(vpcId, second.PrivateIpAddress!) },
      signingKey: src.signingKey,
      log: () => {},
    });
    await svc.listen(defaultVpc, '127.0.0.1', 0);
    try {
      const base = `http://127.0.0.1:${svc.addressOf(defaultVpc)!.port}`;
      // the built-in images default their instances to IMDSv2 (HttpTokens required), as current AWS AMIs do
      assert.equal((await fetch(`${base}/latest/meta-data/instance-id`)).status, 401);
      const token = await (await fetch(`${base}/latest/api/token`, { method: 'PUT', headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '60' } })).text();
      const get = (path: string) => fetch(`${base}${path}`, { headers: { 'X-aws-ec2-metadata-token': token } });
      const doc = await get('/latest/dynamic/instance-identity/document');
      assert.equal(doc.status, 200);
      const text = await doc.text();
      const parsed = JSON.parse(text) as Record<string, unknown>;
      assert.equal(parsed.instanceId, second.InstanceId);
      assert.equal(parsed.privateIp, second.PrivateIpAddress);
      assert.equal(parsed.accountId, t.server.config.accountId);
      const sig = await (await get('/latest/dynamic/instance-identity/signature')).text();
      assert.ok(verify('sha256', Buffer.from(text), createPublicKey(src.publicKeyPem), Buffer.from(sig, 'base64')));
      assert.equal(await (await get('/latest/user-data')).text(), userData);
      assert.equal(await (await get('/latest/meta-data/public-keys/0/openssh-key')).text(), `${publicKey} ${keyName}\n`);
      await c.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: second.InstanceId, HttpTokens: 'optional' }));
      assert.equal(await (await fetch(`${base}/latest/meta-data/instance-id`)).text(), second.InstanceId);
      await c.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: second.InstanceId, HttpEndpoint: 'disabled' }));
      assert.equal((await get('/latest/meta-data/instance-id')).status, 403);
    } finally {
      await svc.close();
    }
  });

  it('keeps the signing key under the data directory: the same key next time', () => {
    assert.ok(existsSync(join(t.dataDir, SIGNING_KEY_FILE)));
    assert.equal(readFileSync(join(t.dataDir, CERTIFICATE_FILE), 'utf8'), src.certificatePem);
    assert.ok(new X509Certificate(src.certificatePem).checkPrivateKey(src.signingKey));
    const again = metadataSources(t.server.store, t.server.config);
    assert.equal(again.publicKeyPem, src.publicKeyPem);
    const memory = metadataSources(t.server.store, { ...t.server.config, dataDir: ':memory:' });
    assert.notEqual(memory.publicKeyPem, src.publicKeyPem);
  });
});
