/** A scripted session with the real AWS CLI v2 (Debian `awscli`) against Overcast. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { awsCli, haveAwsCli } from './cli.js';

describe('AWS CLI v2 session', { skip: haveAwsCli() ? false : 'Debian awscli is not installed (.ci/run installs it)' }, () => {
  let t: TestServer;
  let aws: ReturnType<typeof awsCli>;
  const dir = mkdtempSync(join(tmpdir(), 'overcast-cli-'));
  before(async () => {
    t = await startTestServer();
    aws = awsCli(t.url, 'eu-west-1');
  });
  after(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('regions, zones, account attributes', async () => {
    const regions = await aws.text('describe-regions', '--query', 'Regions[].RegionName');
    assert.ok(regions.split(/\s+/).includes('ap-northeast-2'));
    const zones = await aws.json<{ AvailabilityZones: { ZoneName: string }[] }>('describe-availability-zones');
    assert.deepEqual(zones.AvailabilityZones.map((z) => z.ZoneName), ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
    const vpc = await aws.text('describe-account-attributes', '--attribute-names', 'default-vpc', '--query', 'AccountAttributes[0].AttributeValues[0].AttributeValue');
    assert.match(vpc, /^vpc-[0-9a-f]{17}$/);
  });

  it('key pair: created key is a usable private key', async () => {
    const material = await aws.text('create-key-pair', '--key-name', 'cli-key', '--query', 'KeyMaterial');
    const file = join(dir, 'cli-key.pem');
    writeFileSync(file, material + '\n', { mode: 0o600 });
    const pub = execFileSync('ssh-keygen', ['-y', '-f', file]).toString().trim();
    const described = await aws.json<{ KeyPairs: { KeyName: string; PublicKey: string }[] }>('describe-key-pairs', '--key-names', 'cli-key', '--include-public-key');
    assert.equal(described.KeyPairs[0]!.PublicKey.split(' ').slice(0, 2).join(' '), pub.split(' ').slice(0, 2).join(' '));
    const dup = await aws.raw(['create-key-pair', '--key-name', 'cli-key']);
    assert.equal(dup.code, 254);
    assert.match(dup.stderr, /InvalidKeyPair\.Duplicate/);
  });

  it('VPC, subnet, security group with an SSH rule', async () => {
    const vpcId = await aws.text('create-vpc', '--cidr-block', '10.20.0.0/16', '--query', 'Vpc.VpcId');
    const subnetId = await aws.text('create-subnet', '--vpc-id', vpcId, '--cidr-block', '10.20.1.0/24', '--availability-zone', 'eu-west-1b', '--query', 'Subnet.SubnetId');
    const sgId = await aws.text('create-security-group', '--group-name', 'ssh', '--description', 'ssh in', '--vpc-id', vpcId, '--query', 'GroupId');
    await aws.json('authorize-security-group-ingress', '--group-id', sgId, '--protocol', 'tcp', '--port', '22', '--cidr', '0.0.0.0/0');
    const perms = await aws.json<{ SecurityGroups: { IpPermissions: { FromPort: number; IpRanges: { CidrIp: string }[] }[] }[] }>('describe-security-groups', '--group-ids', sgId);
    assert.equal(perms.SecurityGroups[0]!.IpPermissions[0]!.FromPort, 22);
    assert.equal(perms.SecurityGroups[0]!.IpPermissions[0]!.IpRanges[0]!.CidrIp, '0.0.0.0/0');
    const bad = await aws.raw(['create-subnet', '--vpc-id', vpcId, '--cidr-block', '10.99.0.0/24']);
    assert.equal(bad.code, 254);
    assert.match(bad.stderr, /InvalidSubnet\.Range/);
    const busy = await aws.raw(['delete-vpc', '--vpc-id', vpcId]);
    assert.match(busy.stderr, /DependencyViolation/);
    await aws.json('delete-security-group', '--group-id', sgId);
    await aws.json('delete-subnet', '--subnet-id', subnetId);
    await aws.json('delete-vpc', '--vpc-id', vpcId);
  });

  it('instances: run, wait, stop/start, tags, filters, errors, terminate', async () => {
    const imageId = await aws.text('describe-images', '--owners', 'amazon', '--filters', 'Name=architecture,Values=x86_64', '--query', 'Images[0].ImageId');
    assert.match(imageId, /^ami-[0-9a-f]{17}$/);
    const run = await aws.json<{ Instances: { InstanceId: string; State: { Name: string } }[] }>(
      'run-instances', '--image-id', imageId, '--instance-type', 't3.micro', '--key-name', 'cli-key', '--count', '2',
      '--tag-specifications', 'ResourceType=instance,Tags=[{Key=Name,Value=cli-web}]',
    );
    assert.equal(run.Instances.length, 2);
    assert.ok(run.Instances.every((i) => i.State.Name === 'pending'));
    const ids = run.Instances.map((i) => i.InstanceId);
    await aws.json('wait', 'instance-running', '--instance-ids', ...ids);
    const byTag = await aws.text('describe-instances', '--filters', 'Name=tag:Name,Values=cli-*', 'Name=instance-state-name,Values=running', '--query', 'Reservations[].Instances[].InstanceId');
    assert.deepEqual(byTag.split(/\s+/).sort(), [...ids].sort());
    const ip1 = await aws.text('describe-instances', '--instance-ids', ids[0]!, '--query', 'Reservations[0].Instances[0].PublicIpAddress');
    assert.match(ip1, /^\d+\.\d+\.\d+\.\d+$/);
    await aws.json('stop-instances', '--instance-ids', ids[0]!);
    await aws.json('wait', 'instance-stopped', '--instance-ids', ids[0]!);
    const reboot = await aws.raw(['reboot-instances', '--instance-ids', ids[0]!]);
    assert.match(reboot.stderr, /IncorrectInstanceState/);
    await aws.json('modify-instance-attribute', '--instance-id', ids[0]!, '--instance-type', 'Value=t3.small');
    await aws.json('start-instances', '--instance-ids', ids[0]!);
    await aws.json('wait', 'instance-running', '--instance-ids', ids[0]!);
    const [type, ip2] = (await aws.text('describe-instances', '--instance-ids', ids[0]!, '--query', 'Reservations[0].Instances[0].[InstanceType,PublicIpAddress]')).split(/\s+/);
    assert.equal(type, 't3.small');
    assert.match(ip2!, /^\d+\.\d+\.\d+\.\d+$/);
    assert.notEqual(ip2, ip1, 'stop/start moves the instance to a new public IP');
    const missing = await aws.raw(['describe-instances', '--instance-ids', 'i-0123456789abcdef0']);
    assert.equal(missing.code, 254);
    assert.match(missing.stderr, /InvalidInstanceID\.NotFound/);
    const dry = await aws.raw(['terminate-instances', '--instance-ids', ids[1]!, '--dry-run']);
    assert.match(dry.stderr, /DryRunOperation/);
    await aws.json('terminate-instances', '--instance-ids', ...ids);
    await aws.json('wait', 'instance-terminated', '--instance-ids', ...ids);
  });

  it('network interface attributes: groups, source/dest check, description', async () => {
    const imageId = await aws.text('describe-images', '--owners', 'amazon', '--filters', 'Name=architecture,Values=x86_64', '--query', 'Images[0].ImageId');
    const [instanceId, eniId] = (await aws.text('run-instances', '--image-id', imageId, '--query', 'Instances[0].[InstanceId,NetworkInterfaces[0].NetworkInterfaceId]')).split(/\s+/);
    const a = await aws.text('create-security-group', '--group-name', 'eni-a', '--description', 'a', '--query', 'GroupId');
    const b = await aws.text('create-security-group', '--group-name', 'eni-b', '--description', 'b', '--query', 'GroupId');
    await aws.json('modify-network-interface-attribute', '--network-interface-id', eniId!, '--groups', a, b);
    const groups = await aws.text('describe-network-interface-attribute', '--network-interface-id', eniId!, '--attribute', 'groupSet', '--query', 'Groups[].GroupId');
    assert.deepEqual(groups.split(/\s+/), [a, b]);
    const onInstance = await aws.text('describe-instances', '--instance-ids', instanceId!, '--query', 'Reservations[0].Instances[0].SecurityGroups[].GroupName');
    assert.deepEqual(onInstance.split(/\s+/), ['eni-a', 'eni-b']);
    await aws.json('modify-network-interface-attribute', '--network-interface-id', eniId!, '--no-source-dest-check');
    assert.equal(await aws.text('describe-network-interface-attribute', '--network-interface-id', eniId!, '--attribute', 'sourceDestCheck', '--query', 'SourceDestCheck.Value'), 'False');
    await aws.json('reset-network-interface-attribute', '--network-interface-id', eniId!, '--source-dest-check', 'true');
    assert.equal(await aws.text('describe-network-interface-attribute', '--network-interface-id', eniId!, '--attribute', 'sourceDestCheck', '--query', 'SourceDestCheck.Value'), 'True');
    await aws.json('modify-network-interface-attribute', '--network-interface-id', eniId!, '--description', 'Value=from the cli');
    assert.equal(await aws.text('describe-network-interfaces', '--network-interface-ids', eniId!, '--query', 'NetworkInterfaces[0].Description'), 'from the cli');
    const unknown = await aws.raw(['modify-network-interface-attribute', '--network-interface-id', eniId!, '--groups', 'sg-0123456789abcdef0']);
    assert.equal(unknown.code, 254);
    assert.match(unknown.stderr, /InvalidGroup\.NotFound/);
    await aws.json('terminate-instances', '--instance-ids', instanceId!);
  });

  it('network ACL: create, entries, move a subnet, delete', async () => {
    const vpcId = await aws.text('create-vpc', '--cidr-block', '10.30.0.0/16', '--query', 'Vpc.VpcId');
    const subnetId = await aws.text('create-subnet', '--vpc-id', vpcId, '--cidr-block', '10.30.1.0/24', '--query', 'Subnet.SubnetId');
    const aclId = await aws.text('create-network-acl', '--vpc-id', vpcId, '--query', 'NetworkAcl.NetworkAclId');
    assert.match(aclId, /^acl-[0-9a-f]{17}$/);
    await aws.json('create-network-acl-entry', '--network-acl-id', aclId, '--ingress', '--rule-number', '100', '--protocol', 'tcp', '--port-range', 'From=22,To=22', '--cidr-block', '0.0.0.0/0', '--rule-action', 'allow');
    await aws.json('create-network-acl-entry', '--network-acl-id', aclId, '--egress', '--rule-number', '100', '--protocol', '-1', '--cidr-block', '0.0.0.0/0', '--rule-action', 'allow');
    await aws.json('replace-network-acl-entry', '--network-acl-id', aclId, '--ingress', '--rule-number', '100', '--protocol', 'icmp', '--icmp-type-code', 'Type=8,Code=-1', '--cidr-block', '10.0.0.0/8', '--rule-action', 'allow');
    const dup = await aws.raw(['create-network-acl-entry', '--network-acl-id', aclId, '--ingress', '--rule-number', '100', '--protocol', '-1', '--cidr-block', '0.0.0.0/0', '--rule-action', 'deny']);
    assert.equal(dup.code, 254);
    assert.match(dup.stderr, /NetworkAclEntryAlreadyExists/);
    const acl = await aws.json<{ NetworkAcls: { Entries: { RuleNumber: number; Egress: boolean; Protocol: string; IcmpTypeCode?: { Type: number } }[] }[] }>(
      'describe-network-acls', '--network-acl-ids', aclId,
    );
    const entries = acl.NetworkAcls[0]!.Entries;
    assert.deepEqual(entries.map((e) => [e.Egress, e.RuleNumber]), [[true, 100], [true, 32767], [false, 100], [false, 32767]]);
    assert.equal(entries[2]!.Protocol, '1');
    assert.equal(entries[2]!.IcmpTypeCode!.Type, 8);
    const assoc = await aws.text('describe-network-acls', '--filters', `Name=association.subnet-id,Values=${subnetId}`, '--query', 'NetworkAcls[0].Associations[?SubnetId==`' + subnetId + '`].NetworkAclAssociationId');
    const newAssoc = await aws.text('replace-network-acl-association', '--association-id', assoc, '--network-acl-id', aclId, '--query', 'NewAssociationId');
    assert.match(newAssoc, /^aclassoc-/);
    const busy = await aws.raw(['delete-network-acl', '--network-acl-id', aclId]);
    assert.match(busy.stderr, /DependencyViolation/);
    await aws.json('delete-network-acl-entry', '--network-acl-id', aclId, '--ingress', '--rule-number', '100');
    await aws.json('delete-subnet', '--subnet-id', subnetId);
    await aws.json('delete-network-acl', '--network-acl-id', aclId);
    await aws.json('delete-vpc', '--vpc-id', vpcId);
  });

  it('Elastic IPs and tags', async () => {
    const alloc = await aws.json<{ AllocationId: string; PublicIp: string }>('allocate-address', '--domain', 'vpc');
    await aws.json('create-tags', '--resources', alloc.AllocationId, '--tags', 'Key=env,Value=cli');
    const tags = await aws.json<{ Tags: { ResourceId: string }[] }>('describe-tags', '--filters', 'Name=key,Values=env');
    assert.deepEqual(tags.Tags.map((x) => x.ResourceId), [alloc.AllocationId]);
    const addrs = await aws.json<{ Addresses: { PublicIp: string }[] }>('describe-addresses', '--allocation-ids', alloc.AllocationId);
    assert.equal(addrs.Addresses[0]!.PublicIp, alloc.PublicIp);
    await aws.json('release-address', '--allocation-id', alloc.AllocationId);
    const gone = await aws.raw(['describe-addresses', '--allocation-ids', alloc.AllocationId]);
    assert.match(gone.stderr, /InvalidAllocationID\.NotFound/);
  });

  it('EBS: volumes, attach and detach, snapshots, an image from an instance (with the CLI waiters)', async () => {
    const imageId = await aws.text('describe-images', '--owners', 'amazon', '--filters', 'Name=architecture,Values=x86_64', '--query', 'Images[0].ImageId');
    const instanceId = await aws.text('run-instances', '--image-id', imageId, '--placement', 'AvailabilityZone=eu-west-1a', '--query', 'Instances[0].InstanceId');
    const wait = async (...args: string[]) => {
      const r = await aws.raw(['wait', ...args]);
      assert.equal(r.code, 0, `aws ec2 wait ${args.join(' ')}: ${r.stderr}`);
    };
    await wait('instance-running', '--instance-ids', instanceId);
    const vol = await aws.json<{ VolumeId: string; State: string }>('create-volume', '--availability-zone', 'eu-west-1a', '--size', '3', '--volume-type', 'gp3');
    assert.equal(vol.State, 'creating');
    await wait('volume-available', '--volume-ids', vol.VolumeId);
    const bad = await aws.raw(['attach-volume', '--volume-id', vol.VolumeId, '--instance-id', instanceId, '--device', '/dev/xvda']);
    assert.match(bad.stderr, /InvalidParameterValue/);
    await aws.json('attach-volume', '--volume-id', vol.VolumeId, '--instance-id', instanceId, '--device', '/dev/sdf');
    await wait('volume-in-use', '--volume-ids', vol.VolumeId);
    const devices = await aws.text('describe-instances', '--instance-ids', instanceId, '--query', 'Reservations[0].Instances[0].BlockDeviceMappings[].DeviceName');
    assert.deepEqual(devices.split(/\s+/), ['/dev/xvda', '/dev/sdf']);
    const snapId = await aws.text('create-snapshot', '--volume-id', vol.VolumeId, '--description', 'cli', '--query', 'SnapshotId');
    await wait('snapshot-completed', '--snapshot-ids', snapId);
    // plain listings: the CLI paginates them (MaxResults 1000, above DescribeVolumes' 500)
    assert.ok((await aws.text('describe-volumes', '--query', 'Volumes[].VolumeId')).split(/\s+/).includes(vol.VolumeId));
    assert.ok((await aws.text('describe-snapshots', '--owner-ids', 'self', '--query', 'Snapshots[].SnapshotId')).split(/\s+/).includes(snapId));
    await aws.json('detach-volume', '--volume-id', vol.VolumeId);
    await wait('volume-available', '--volume-ids', vol.VolumeId);
    await aws.json('modify-volume', '--volume-id', vol.VolumeId, '--size', '5');
    const amiId = await aws.text('create-image', '--instance-id', instanceId, '--name', 'cli image', '--no-reboot', '--query', 'ImageId');
    await wait('image-available', '--image-ids', amiId);
    const rootSnap = await aws.text('describe-images', '--image-ids', amiId, '--query', 'Images[0].BlockDeviceMappings[0].Ebs.SnapshotId');
    const inUse = await aws.raw(['delete-snapshot', '--snapshot-id', rootSnap]);
    assert.match(inUse.stderr, /InvalidSnapshot\.InUse/);
    await aws.json('deregister-image', '--image-id', amiId);
    await aws.json('delete-snapshot', '--snapshot-id', rootSnap);
    await aws.json('delete-snapshot', '--snapshot-id', snapId);
    await aws.json('delete-volume', '--volume-id', vol.VolumeId);
    await wait('volume-deleted', '--volume-ids', vol.VolumeId);
    await aws.json('terminate-instances', '--instance-ids', instanceId);
  });

  it('launch templates: create, versions, describe, run from one, delete', async () => {
    const imageId = await aws.text('describe-images', '--owners', 'amazon', '--filters', 'Name=architecture,Values=x86_64', '--query', 'Images[0].ImageId');
    const created = await aws.json<{ LaunchTemplate: { LaunchTemplateId: string; LatestVersionNumber: number } }>(
      'create-launch-template', '--launch-template-name', 'cli-web', '--version-description', 'v1',
      '--launch-template-data', JSON.stringify({ ImageId: imageId, InstanceType: 't3.micro', TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'cli-lt' }] }] }),
      '--tag-specifications', 'ResourceType=launch-template,Tags=[{Key=team,Value=cli}]',
    );
    const id = created.LaunchTemplate.LaunchTemplateId;
    assert.match(id, /^lt-[0-9a-f]{17}$/);
    assert.equal(created.LaunchTemplate.LatestVersionNumber, 1);
    await aws.json('create-launch-template-version', '--launch-template-id', id, '--source-version', '1', '--launch-template-data', '{"InstanceType":"t3.small"}');
    await aws.json('modify-launch-template', '--launch-template-id', id, '--default-version', '2');
    const described = await aws.text('describe-launch-templates', '--filters', 'Name=tag:team,Values=cli', '--query', 'LaunchTemplates[].[LaunchTemplateName,DefaultVersionNumber,LatestVersionNumber]');
    assert.deepEqual(described.split(/\s+/), ['cli-web', '2', '2']);
    const v2 = await aws.text('describe-launch-template-versions', '--launch-template-name', 'cli-web', '--versions', '$Default', '--query', 'LaunchTemplateVersions[0].LaunchTemplateData.[ImageId,InstanceType]');
    assert.deepEqual(v2.split(/\s+/), [imageId, 't3.small']);
    const dup = await aws.raw(['create-launch-template', '--launch-template-name', 'cli-web', '--launch-template-data', '{"InstanceType":"t3.micro"}']);
    assert.equal(dup.code, 254);
    assert.match(dup.stderr, /InvalidLaunchTemplateName\.AlreadyExistsException/);
    const [instanceId, type] = (await aws.text('run-instances', '--launch-template', 'LaunchTemplateName=cli-web', '--query', 'Instances[0].[InstanceId,InstanceType]')).split(/\s+/);
    assert.equal(type, 't3.small');
    const tags = await aws.json<{ Tags: { Key: string; Value: string }[] }>('describe-tags', '--filters', `Name=resource-id,Values=${instanceId}`);
    assert.deepEqual(Object.fromEntries(tags.Tags.map((x) => [x.Key, x.Value])), { Name: 'cli-lt', 'aws:ec2launchtemplate:id': id, 'aws:ec2launchtemplate:version': '2' });
    const data = await aws.text('get-launch-template-data', '--instance-id', instanceId!, '--query', 'LaunchTemplateData.[ImageId,InstanceType]');
    assert.deepEqual(data.split(/\s+/), [imageId, 't3.small']);
    const kept = await aws.json<{ UnsuccessfullyDeletedLaunchTemplateVersions: { ResponseError: { Code: string } }[] }>(
      'delete-launch-template-versions', '--launch-template-id', id, '--versions', '2',
    );
    assert.equal(kept.UnsuccessfullyDeletedLaunchTemplateVersions[0]!.ResponseError.Code, 'unexpectedError');
    await aws.json('terminate-instances', '--instance-ids', instanceId!);
    await aws.json('delete-launch-template', '--launch-template-id', id);
    const gone = await aws.raw(['describe-launch-templates', '--launch-template-ids', id]);
    assert.match(gone.stderr, /InvalidLaunchTemplateId\.NotFound/);
  });
});
