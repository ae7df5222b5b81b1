import {
  AuthorizeSecurityGroupEgressCommand,
  CreateManagedPrefixListCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  UpdateSecurityGroupRuleDescriptionsEgressCommand,
  UpdateSecurityGroupRuleDescriptionsIngressCommand,
  type EC2Client,
  type SecurityGroup,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import { looseCollection } from '../helpers/collections.js';
import type { NetworkInterfaceRecord } from '../../src/resources/ec2/records.js';

describe('security groups', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let defaultVpcId: string;
  let otherVpcId: string;
  let seq = 0;
  const uniq = (p: string) => `${p}-${++seq}`;

  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    const vpcs = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
    assert.equal(vpcs.Vpcs?.length, 1, 'the region has a default VPC');
    defaultVpcId = vpcs.Vpcs![0]!.VpcId!;
    const other = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
    otherVpcId = other.Vpc!.VpcId!;
  });
  after(() => t.close());

  async function createGroup(vpcId?: string, name = uniq('grp')): Promise<string> {
    const out = await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: `group ${name}`, VpcId: vpcId }));
    return out.GroupId!;
  }
  /** A managed prefix list for rules to name (rules may only name lists that exist). */
  async function createPrefixList(): Promise<string> {
    const out = await ec2.send(new CreateManagedPrefixListCommand({ PrefixListName: uniq('pl'), MaxEntries: 5, AddressFamily: 'IPv4' }));
    return out.PrefixList!.PrefixListId!;
  }
  async function describeGroup(id: string): Promise<SecurityGroup> {
    const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }));
    assert.equal(out.SecurityGroups?.length, 1);
    return out.SecurityGroups![0]!;
  }
  async function rulesOf(id: string): Promise<SecurityGroupRule[]> {
    const out = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [id] }] }));
    return out.SecurityGroupRules ?? [];
  }
  async function defaultGroupOf(vpcId: string): Promise<SecurityGroup> {
    const out = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'vpc-id', Values: [vpcId] },
          { Name: 'group-name', Values: ['default'] },
        ],
      }),
    );
    assert.equal(out.SecurityGroups?.length, 1);
    return out.SecurityGroups![0]!;
  }

  describe('default groups', () => {
    it('every VPC has a default group whose rules are real rule records', async () => {
      for (const vpcId of [defaultVpcId, otherVpcId]) {
        const g = await defaultGroupOf(vpcId);
        assert.match(g.GroupId!, /^sg-[0-9a-f]{17}$/);
        assert.equal(g.Description, 'default VPC security group');
        assert.equal(g.OwnerId, '123456789012');
        assert.equal(g.IpPermissions?.length, 1);
        assert.equal(g.IpPermissions![0]!.IpProtocol, '-1');
        assert.deepEqual(
          g.IpPermissions![0]!.UserIdGroupPairs?.map((p) => p.GroupId),
          [g.GroupId],
        );
        assert.deepEqual(g.IpPermissionsEgress?.map((p) => [p.IpProtocol, p.IpRanges?.map((r) => r.CidrIp)]), [['-1', ['0.0.0.0/0']]]);
        const rules = await rulesOf(g.GroupId!);
        assert.equal(rules.length, 2);
        const ingress = rules.find((r) => !r.IsEgress)!;
        const egress = rules.find((r) => r.IsEgress)!;
        assert.match(ingress.SecurityGroupRuleId!, /^sgr-[0-9a-f]{17}$/);
        assert.equal(ingress.ReferencedGroupInfo?.GroupId, g.GroupId);
        assert.equal(ingress.IpProtocol, '-1');
        assert.equal(ingress.FromPort, -1);
        assert.equal(egress.CidrIpv4, '0.0.0.0/0');
        assert.equal(egress.GroupId, g.GroupId);
      }
    });

    it('GroupNames looks in the default VPC only', async () => {
      const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] }));
      assert.equal(out.SecurityGroups?.length, 1);
      assert.equal(out.SecurityGroups![0]!.VpcId, defaultVpcId);
      const name = uniq('only-in-other');
      await createGroup(otherVpcId, name);
      const err = await ec2Error(ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: [name] })));
      assert.equal(err.code, 'InvalidGroup.NotFound');
      assert.match(err.message, new RegExp(name));
    });

    it('the default group cannot be deleted', async () => {
      const g = await defaultGroupOf(otherVpcId);
      const err = await ec2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: g.GroupId })));
      assert.equal(err.code, 'CannotDelete');
      await describeGroup(g.GroupId!);
    });
  });

  describe('CreateSecurityGroup', () => {
    it('creates in the default VPC with tags, an ARN and the default egress rule', async () => {
      const name = uniq('web');
      const out = await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: name,
          Description: 'web servers',
          TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'team', Value: 'blue' }] }],
        }),
      );
      assert.match(out.GroupId!, /^sg-/);
      assert.deepEqual(out.Tags, [{ Key: 'team', Value: 'blue' }]);
      const g = await describeGroup(out.GroupId!);
      assert.equal(g.GroupName, name);
      assert.equal(g.Description, 'web servers');
      assert.equal(g.VpcId, defaultVpcId);
      assert.deepEqual(g.Tags, [{ Key: 'team', Value: 'blue' }]);
      assert.deepEqual(g.IpPermissions, []);
      assert.equal(g.IpPermissionsEgress?.length, 1);
      assert.equal(g.IpPermissionsEgress![0]!.IpProtocol, '-1');
      assert.deepEqual(g.IpPermissionsEgress![0]!.IpRanges, [{ CidrIp: '0.0.0.0/0' }]);
      const rules = await rulesOf(out.GroupId!);
      assert.equal(rules.length, 1);
      assert.equal(rules[0]!.IsEgress, true);
    });

    it('ARNs of groups and rules reach the SDK (members newer than the aws-sdk v2 model)', async () => {
      const out = await ec2.send(new CreateSecurityGroupCommand({ GroupName: uniq('arn'), Description: 'x' }));
      assert.equal(out.SecurityGroupArn, `arn:aws:ec2:us-east-1:123456789012:security-group/${out.GroupId}`);
      const d = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [out.GroupId!] }));
      assert.equal(d.SecurityGroups![0]!.SecurityGroupArn, out.SecurityGroupArn);
      const r = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [out.GroupId!] }] }));
      const rule = r.SecurityGroupRules![0]!;
      assert.equal(rule.SecurityGroupRuleArn, `arn:aws:ec2:us-east-1:123456789012:security-group-rule/${rule.SecurityGroupRuleId}`);
      assert.equal(rule.GroupOwnerId, '123456789012');
    });

    it('names are unique per VPC', async () => {
      const name = uniq('dup');
      await createGroup(undefined, name);
      const err = await ec2Error(ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: 'x' })));
      assert.equal(err.code, 'InvalidGroup.Duplicate');
      assert.equal(err.message, `The security group '${name}' already exists for VPC '${defaultVpcId}'`);
      // same name in another VPC is fine
      await createGroup(otherVpcId, name);
    });

    it('validates name, description and VPC', async () => {
      const cases: [Record<string, string>, string][] = [
        [{ GroupName: 'default', Description: 'x' }, 'InvalidParameterValue'],
        [{ GroupName: 'sg-foo', Description: 'x' }, 'InvalidParameterValue'],
        [{ GroupName: 'x'.repeat(256), Description: 'x' }, 'InvalidParameterValue'],
        [{ GroupName: uniq('ok'), Description: 'd'.repeat(256) }, 'InvalidParameterValue'],
        [{ GroupName: uniq('ok'), Description: 'caf\u00e9' }, 'InvalidParameterValue'],
        [{ GroupName: uniq('ok'), Description: 'x', VpcId: 'vpc-00000000000000000' }, 'InvalidVpcID.NotFound'],
        [{ GroupName: uniq('ok'), Description: 'x', VpcId: 'vpc-nothex' }, 'InvalidVpcID.Malformed'],
      ];
      for (const [input, code] of cases) {
        const err = await ec2Error(ec2.send(new CreateSecurityGroupCommand(input as never)));
        assert.equal(err.code, code, JSON.stringify(input));
      }
      const missing = await ec2Error(ec2.send(new CreateSecurityGroupCommand({ GroupName: uniq('nodesc') } as never)));
      assert.equal(missing.code, 'MissingParameter');
      const badTagType = await ec2Error(
        ec2.send(
          new CreateSecurityGroupCommand({
            GroupName: uniq('tagtype'),
            Description: 'x',
            TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'a', Value: 'b' }] }],
          }),
        ),
      );
      assert.equal(badTagType.code, 'InvalidParameterValue');
    });

    it('DryRun answers DryRunOperation (412) and creates nothing', async () => {
      const name = uniq('dry');
      const err = await ec2Error(ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: 'x', DryRun: true })));
      assert.equal(err.code, 'DryRunOperation');
      assert.equal(err.status, 412);
      const out = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [name] }] }));
      assert.deepEqual(out.SecurityGroups, []);
    });

    it('without VpcId and without a default VPC is VPCIdNotSpecified', async () => {
      const region = 'eu-west-3';
      const c = t.client(region);
      await c.send(new DescribeSecurityGroupsCommand({}));
      // make this region lose its default VPC
      const vpcs = looseCollection<{ VpcId: string; IsDefault: boolean }>(t.server.store, KINDS.vpc);
      for (const v of vpcs.list(region)) if (v.IsDefault) vpcs.delete(region, v.VpcId);
      const err = await ec2Error(c.send(new CreateSecurityGroupCommand({ GroupName: 'x', Description: 'x' })));
      assert.equal(err.code, 'VPCIdNotSpecified');
      const byName = await ec2Error(c.send(new DescribeSecurityGroupsCommand({ GroupNames: ['default'] })));
      assert.equal(byName.code, 'InvalidGroup.NotFound');
    });
  });

  describe('Authorize', () => {
    it('adds one rule per source, grouped back into IpPermissions, tagged', async () => {
      const gid = await createGroup();
      const peer = await createGroup();
      const pl443 = await createPrefixList();
      const out = await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: gid,
          IpPermissions: [
            {
              IpProtocol: 'tcp',
              FromPort: 22,
              ToPort: 22,
              IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'office' }, { CidrIp: '192.168.1.77/24' }],
              Ipv6Ranges: [{ CidrIpv6: '2001:DB8::/32' }],
              UserIdGroupPairs: [{ GroupId: peer }],
            },
            { IpProtocol: 'icmp', FromPort: 8, ToPort: -1, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
            { IpProtocol: '6', FromPort: 443, ToPort: 443, PrefixListIds: [{ PrefixListId: pl443 }] },
          ],
          TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'purpose', Value: 'admin' }] }],
        }),
      );
      assert.equal(out.Return, true);
      const added = out.SecurityGroupRules!;
      assert.equal(added.length, 6);
      assert.ok(added.every((r) => /^sgr-/.test(r.SecurityGroupRuleId!) && r.GroupId === gid && r.IsEgress === false));
      assert.ok(added.every((r) => r.Tags?.some((x) => x.Key === 'purpose' && x.Value === 'admin')));
      assert.equal(added[1]!.CidrIpv4, '192.168.1.0/24', 'host bits are cleared');
      assert.equal(added[2]!.CidrIpv6, '2001:db8::/32');
      assert.equal(added[3]!.ReferencedGroupInfo?.GroupId, peer);
      assert.equal(added[5]!.IpProtocol, 'tcp');

      const g = await describeGroup(gid);
      const ssh = g.IpPermissions!.find((p) => p.IpProtocol === 'tcp' && p.FromPort === 22)!;
      assert.deepEqual(ssh.IpRanges, [{ CidrIp: '10.0.0.0/8', Description: 'office' }, { CidrIp: '192.168.1.0/24' }]);
      assert.deepEqual(ssh.Ipv6Ranges, [{ CidrIpv6: '2001:db8::/32' }]);
      assert.deepEqual(ssh.UserIdGroupPairs?.map((p) => [p.GroupId, p.UserId]), [[peer, '123456789012']]);
      const icmp = g.IpPermissions!.find((p) => p.IpProtocol === 'icmp')!;
      assert.equal(icmp.FromPort, 8);
      assert.equal(icmp.ToPort, -1);
      const https = g.IpPermissions!.find((p) => p.FromPort === 443)!;
      assert.deepEqual(https.PrefixListIds, [{ PrefixListId: pl443 }]);
      assert.equal(g.IpPermissions!.length, 3);

      // rule ids are taggable resources
      const ruleId = added[0]!.SecurityGroupRuleId!;
      await ec2.send(new CreateTagsCommand({ Resources: [ruleId], Tags: [{ Key: 'extra', Value: '1' }] }));
      const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [ruleId] }] }));
      assert.deepEqual(tags.Tags!.map((x) => [x.Key, x.ResourceType]).sort(), [['extra', 'security-group-rule'], ['purpose', 'security-group-rule']]);
    });

    it('rejects duplicates, within the request and against existing rules', async () => {
      const gid = await createGroup();
      const ssh = { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] };
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: gid, IpPermissions: [ssh] }));
      const dup = await ec2Error(
        ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: gid, IpPermissions: [{ ...ssh, IpRanges: [{ CidrIp: '0.0.0.0/0', Description: 'x' }] }] })),
      );
      assert.equal(dup.code, 'InvalidPermission.Duplicate');
      assert.equal(dup.message, 'the specified rule "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW" already exists');
      const twice = await ec2Error(
        ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: gid,
            IpPermissions: [{ IpProtocol: 'udp', FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: '10.0.0.0/8' }, { CidrIp: '10.0.0.0/8' }] }],
          }),
        ),
      );
      assert.equal(twice.code, 'InvalidParameterValue');
      // the default egress rule exists already
      const egressDup = await ec2Error(
        ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: gid, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] })),
      );
      assert.equal(egressDup.code, 'InvalidPermission.Duplicate');
      assert.match(egressDup.message, /ALL, ALLOW/);
      assert.equal((await rulesOf(gid)).length, 2);
    });

    it('validates protocol, ports, CIDRs and sources, and adds nothing when any permission is bad', async () => {
      const gid = await createGroup();
      const good = { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] };
      const bad: [object, string, RegExp?][] = [
        [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/33' }] }, 'InvalidParameterValue', /^CIDR block 10\.0\.0\.0\/33 is malformed$/],
        [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: 'fe80::/200' }] }, 'InvalidParameterValue', /malformed/],
        [{ IpProtocol: 'tcp', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }, 'InvalidParameterValue', /Must specify both from and to ports/],
        [{ IpProtocol: 'tcp', FromPort: 0, ToPort: 70000, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }, 'InvalidPermission.Malformed'],
        [{ IpProtocol: 'tcp', FromPort: 90, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }, 'InvalidParameterValue'],
        [{ IpProtocol: 'icmp', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }, 'InvalidParameterValue'],
        [{ IpProtocol: 'gre', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }, 'InvalidParameterValue', /Unknown protocol/],
        [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 2 }, 'MissingParameter'],
        [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 2, UserIdGroupPairs: [{ GroupId: 'sg-00000000000000000' }] }, 'InvalidGroup.NotFound'],
        [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 2, UserIdGroupPairs: [{ GroupId: 'sg-zz' }] }, 'InvalidGroupId.Malformed'],
        [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 2, UserIdGroupPairs: [{ GroupName: 'no-such-group' }] }, 'InvalidGroup.NotFound'],
        [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 2, IpRanges: [{ CidrIp: '1.2.3.0/24', Description: 'caf\u00e9' }] }, 'InvalidParameterValue'],
      ];
      for (const [perm, code, msg] of bad) {
        const err = await ec2Error(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: gid, IpPermissions: [good, perm as never] })));
        assert.equal(err.code, code, JSON.stringify(perm));
        if (msg) assert.match(err.message, msg);
      }
      assert.deepEqual((await describeGroup(gid)).IpPermissions, []);
      const none = await ec2Error(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: gid })));
      assert.equal(none.code, 'MissingParameter');
      const unknownGroup = await ec2Error(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-00000000000000000', IpPermissions: [good] })));
      assert.equal(unknownGroup.code, 'InvalidGroup.NotFound');
    });

    it('a referenced group must be in the same VPC', async () => {
      const gid = await createGroup();
      const elsewhere = await createGroup(otherVpcId);
      const err = await ec2Error(
        ec2.send(
          new AuthorizeSecurityGroupIngressCommand({ GroupId: gid, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: elsewhere }] }] }),
        ),
      );
      assert.equal(err.code, 'InvalidGroup.NotFound');
      // by name: resolved in the group's own VPC
      const peerName = uniq('peer');
      const peer = await createGroup(undefined, peerName);
      const ok = await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: gid, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupName: peerName }] }] }),
      );
      assert.equal(ok.SecurityGroupRules![0]!.ReferencedGroupInfo?.GroupId, peer);
    });

    it('accepts the legacy flat parameters and GroupName', async () => {
      const name = uniq('legacy');
      const gid = await createGroup(undefined, name);
      const flat = await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupName: name, IpProtocol: 'tcp', FromPort: 8080, ToPort: 8081, CidrIp: '172.16.0.0/12' }),
      );
      assert.equal(flat.SecurityGroupRules?.length, 1);
      assert.equal(flat.SecurityGroupRules![0]!.CidrIpv4, '172.16.0.0/12');
      const srcName = uniq('src');
      const src = await createGroup(undefined, srcName);
      const bySource = await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: gid, SourceSecurityGroupName: srcName }));
      assert.deepEqual(
        bySource.SecurityGroupRules!.map((r) => [r.IpProtocol, r.FromPort, r.ToPort, r.ReferencedGroupInfo?.GroupId]),
        [
          ['icmp', -1, -1, src],
          ['tcp', 0, 65535, src],
          ['udp', 0, 65535, src],
        ],
      );
      const mixed = await ec2Error(
        ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: gid,
            CidrIp: '1.1.1.1/32',
            IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '2.2.2.2/32' }] }],
          }),
        ),
      );
      assert.equal(mixed.code, 'InvalidParameterCombination');
      const byNameElsewhere = await ec2Error(
        ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: 'no-such-group', IpProtocol: '-1', CidrIp: '1.1.1.1/32' })),
      );
      assert.equal(byNameElsewhere.code, 'InvalidGroup.NotFound');
    });

    it('limits each direction to 60 rules', async () => {
      const gid = await createGroup();
      const ranges = (n: number, third: number) => Array.from({ length: n }, (_, i) => ({ CidrIp: `10.${third}.${i}.0/24` }));
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: gid, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpRanges: ranges(60, 1) }] }));
      const err = await ec2Error(
        ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: gid, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 2, ToPort: 2, IpRanges: ranges(1, 2) }] })),
      );
      assert.equal(err.code, 'RulesPerSecurityGroupLimitExceeded');
      // egress has its own budget: 1 existing + 59 more is fine, then full
      await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: gid, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpRanges: ranges(59, 3) }] }));
      const egressErr = await ec2Error(
        ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: gid, IpPermissions: [{ IpProtocol: 'udp', FromPort: 1, ToPort: 1, IpRanges: ranges(1, 4) }] })),
      );
      assert.equal(egressErr.code, 'RulesPerSecurityGroupLimitExceeded');
      assert.equal((await rulesOf(gid)).length, 120);
    });

    it('a raised quota (--rules-per-security-group 1000) holds 1,000 rules per direction, and no more', async () => {
      const big = await startTestServer({ rulesPerSecurityGroup: 1000 });
      try {
        const c = big.client();
        const vpc = (await c.send(new DescribeVpcsCommand({}))).Vpcs![0]!.VpcId;
        const gid = (await c.send(new CreateSecurityGroupCommand({ GroupName: 'big', Description: 'big', VpcId: vpc }))).GroupId!;
        const ranges = Array.from({ length: 1000 }, (_, i) => ({ CidrIp: `10.${i >> 8}.${i & 255}.0/24` }));
        await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: gid, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpRanges: ranges }] }));
        const err = await ec2Error(c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: gid, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 2, ToPort: 2, IpRanges: [{ CidrIp: '1.2.3.4/32' }] }] })));
        assert.equal(err.code, 'RulesPerSecurityGroupLimitExceeded');
      } finally {
        await big.close();
      }
    });

    it('DryRun validates and changes nothing', async () => {
      const gid = await createGroup();
      const err = await ec2Error(
        ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: gid,
            DryRun: true,
            IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpRanges: [{ CidrIp: '1.0.0.0/8' }] }],
          }),
        ),
      );
      assert.equal(err.code, 'DryRunOperation');
      assert.equal(err.status, 412);
      assert.deepEqual((await describeGroup(gid)).IpPermissions, []);
      const bad = await ec2Error(
        ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: gid, DryRun: true, IpPermissions: [{ IpProtocol: 'tcp', IpRanges: [{ CidrIp: '1.0.0.0/8' }] }] })),
      );
      assert.equal(bad.code, 'InvalidParameterValue');
    });
  });

  describe('Revoke', () => {
    it('revokes by rule id and by permission, removing the rules and their tags', async () => {
      const gid = await createGroup();
      const out = await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: gid,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }, { CidrIp: '10.1.0.0/16' }] }],
          TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'k', Value: 'v' }] }],
        }),
      );
      const [a, b] = out.SecurityGroupRules!;
      const byId = await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: gid, SecurityGroupRuleIds: [a!.SecurityGroupRuleId!] }));
      assert.equal(byId.Return, true);
      assert.deepEqual(byId.RevokedSecurityGroupRules?.map((r) => [r.SecurityGroupRuleId, r.CidrIpv4]), [[a!.SecurityGroupRuleId, '10.0.0.0/8']]);
      const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [a!.SecurityGroupRuleId!] }] }));
      assert.deepEqual(tags.Tags, []);
      assert.deepEqual((await describeGroup(gid)).IpPermissions![0]!.IpRanges, [{ CidrIp: '10.1.0.0/16' }]);
      // by permission; a non-canonical CIDR names the same rule
      const byPerm = await ec2.send(new RevokeSecurityGroupIngressCommand({
        GroupId: gid,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.1.2.3/16' }] }],
      }));
      assert.equal(byPerm.Return, true);
      assert.equal(byPerm.UnknownIpPermissions, undefined);
      assert.deepEqual(byPerm.RevokedSecurityGroupRules?.map((r) => r.SecurityGroupRuleId), [b!.SecurityGroupRuleId]);
      assert.deepEqual((await describeGroup(gid)).IpPermissions, []);
      assert.equal((await rulesOf(gid)).filter((r) => !r.IsEgress).length, 0);
    });

    it('revokes egress, including the default egress rule', async () => {
      const gid = await createGroup();
      const out = await ec2.send(new RevokeSecurityGroupEgressCommand({
        GroupId: gid,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }));
      assert.equal(out.RevokedSecurityGroupRules?.length, 1);
      assert.equal(out.RevokedSecurityGroupRules![0]!.IsEgress, true);
      assert.deepEqual((await describeGroup(gid)).IpPermissionsEgress, []);
    });

    it('unknown rule ids are InvalidSecurityGroupRuleId.NotFound; ingress ids do not revoke egress', async () => {
      const gid = await createGroup();
      const [egressRule] = await rulesOf(gid);
      const unknown = await ec2Error(ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: gid, SecurityGroupRuleIds: ['sgr-00000000000000000'] })));
      assert.equal(unknown.code, 'InvalidSecurityGroupRuleId.NotFound');
      const wrongDirection = await ec2Error(
        ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: gid, SecurityGroupRuleIds: [egressRule!.SecurityGroupRuleId!] })),
      );
      assert.equal(wrongDirection.code, 'InvalidSecurityGroupRuleId.NotFound');
      const malformed = await ec2Error(ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: gid, SecurityGroupRuleIds: ['sgr-xyz'] })));
      assert.equal(malformed.code, 'InvalidSecurityGroupRuleId.Malformed');
      const nothing = await ec2Error(ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: gid })));
      assert.equal(nothing.code, 'MissingParameter');
      assert.equal((await rulesOf(gid)).length, 1);
    });

    it('a permission that matches nothing: reported in the default VPC, an error elsewhere', async () => {
      const inDefault = await createGroup();
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: inDefault, IpPermissions: [{ IpProtocol: 'udp', FromPort: 5, ToPort: 5, IpRanges: [{ CidrIp: '5.0.0.0/8' }] }] }));
      const out = await ec2.send(
        new RevokeSecurityGroupIngressCommand({
          GroupId: inDefault,
          IpPermissions: [
            { IpProtocol: 'udp', FromPort: 5, ToPort: 5, IpRanges: [{ CidrIp: '5.0.0.0/8' }] },
            { IpProtocol: 'tcp', FromPort: 9, ToPort: 9, IpRanges: [{ CidrIp: '9.0.0.0/8' }] },
          ],
        }),
      );
      assert.equal(out.Return, true);
      assert.deepEqual(await rulesOf(inDefault).then((rs) => rs.filter((r) => !r.IsEgress)), []);
      assert.deepEqual(
        out.UnknownIpPermissions?.map((p) => [p.IpProtocol, p.FromPort, p.IpRanges?.map((r) => r.CidrIp)]),
        [['tcp', 9, ['9.0.0.0/8']]],
      );

      const elsewhere = await createGroup(otherVpcId);
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: elsewhere, IpPermissions: [{ IpProtocol: 'udp', FromPort: 5, ToPort: 5, IpRanges: [{ CidrIp: '5.0.0.0/8' }] }] }));
      const err = await ec2Error(
        ec2.send(
          new RevokeSecurityGroupIngressCommand({
            GroupId: elsewhere,
            IpPermissions: [
              { IpProtocol: 'udp', FromPort: 5, ToPort: 5, IpRanges: [{ CidrIp: '5.0.0.0/8' }] },
              { IpProtocol: 'tcp', FromPort: 9, ToPort: 9, IpRanges: [{ CidrIp: '9.0.0.0/8' }] },
            ],
          }),
        ),
      );
      assert.equal(err.code, 'InvalidPermission.NotFound');
      assert.equal((await describeGroup(elsewhere)).IpPermissions?.length, 1, 'nothing revoked');
    });
  });

  describe('DescribeSecurityGroups', () => {
    let web: string;
    let db: string;
    let tagged: string;
    let pl5432: string;
    const prefix = `filt${Date.now() % 100000}`;
    before(async () => {
      pl5432 = await createPrefixList();
      web = await createGroup(undefined, `${prefix}-web`);
      db = await createGroup(otherVpcId, `${prefix}-db`);
      tagged = await createGroup(undefined, `${prefix}-tagged`);
      await ec2.send(new CreateTagsCommand({ Resources: [tagged], Tags: [{ Key: 'env', Value: 'prod' }] }));
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: web,
          IpPermissions: [
            { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] },
            { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: tagged }] },
            { IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, PrefixListIds: [{ PrefixListId: pl5432 }] },
          ],
        }),
      );
      await ec2.send(
        new AuthorizeSecurityGroupEgressCommand({ GroupId: db, IpPermissions: [{ IpProtocol: 'udp', FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: '10.20.0.2/32' }] }] }),
      );
    });
    const ids = async (filters: { Name: string; Values: string[] }[]) => {
      const out = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [`${prefix}-*`] }, ...filters] }));
      return out.SecurityGroups!.map((g) => g.GroupId).sort();
    };

    it('filters on group attributes', async () => {
      assert.deepEqual(await ids([]), [web, db, tagged].sort());
      assert.deepEqual(await ids([{ Name: 'vpc-id', Values: [otherVpcId] }]), [db]);
      assert.deepEqual(await ids([{ Name: 'description', Values: [`group ${prefix}-w*`] }]), [web]);
      assert.deepEqual(await ids([{ Name: 'group-id', Values: [db, tagged] }]), [db, tagged].sort());
      assert.deepEqual(await ids([{ Name: 'owner-id', Values: ['123456789012'] }]), [web, db, tagged].sort());
      assert.deepEqual(await ids([{ Name: 'tag:env', Values: ['prod'] }]), [tagged]);
      assert.deepEqual(await ids([{ Name: 'tag-key', Values: ['env'] }]), [tagged]);
      assert.deepEqual(await ids([{ Name: 'tag:env', Values: ['dev'] }]), []);
    });

    it('filters on ingress and egress permissions', async () => {
      assert.deepEqual(await ids([{ Name: 'ip-permission.from-port', Values: ['443'] }]), [web]);
      assert.deepEqual(await ids([{ Name: 'ip-permission.to-port', Values: ['22'] }]), [web]);
      assert.deepEqual(await ids([{ Name: 'ip-permission.protocol', Values: ['tcp'] }]), [web]);
      assert.deepEqual(await ids([{ Name: 'ip-permission.cidr', Values: ['0.0.0.0/0'] }]), [web]);
      assert.deepEqual(await ids([{ Name: 'ip-permission.ipv6-cidr', Values: ['::/0'] }]), [web]);
      assert.deepEqual(await ids([{ Name: 'ip-permission.group-id', Values: [tagged] }]), [web]);
      assert.deepEqual(await ids([{ Name: 'ip-permission.group-name', Values: [`${prefix}-tagged`] }]), [web]);
      assert.deepEqual(await ids([{ Name: 'ip-permission.prefix-list-id', Values: [pl5432] }]), [web]);
      assert.deepEqual(await ids([{ Name: 'egress.ip-permission.cidr', Values: ['10.20.0.2/32'] }]), [db]);
      assert.deepEqual(await ids([{ Name: 'egress.ip-permission.protocol', Values: ['udp'] }]), [db]);
      assert.deepEqual(await ids([{ Name: 'egress.ip-permission.cidr', Values: ['0.0.0.0/0'] }]), [web, db, tagged].sort());
      assert.deepEqual(await ids([{ Name: 'egress.ip-permission.from-port', Values: ['53'] }]), [db]);
      const bad = await ec2Error(ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })));
      assert.equal(bad.code, 'InvalidParameterValue');
    });

    it('GroupIds must exist and be well formed', async () => {
      const out = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [web, db] }));
      assert.deepEqual(out.SecurityGroups!.map((g) => g.GroupId).sort(), [web, db].sort());
      const nf = await ec2Error(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [web, 'sg-00000000000000000'] })));
      assert.equal(nf.code, 'InvalidGroup.NotFound');
      assert.match(nf.message, /sg-00000000000000000/);
      const mal = await ec2Error(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['nope'] })));
      assert.equal(mal.code, 'InvalidGroupId.Malformed');
    });

    it('paginates with MaxResults and NextToken', async () => {
      const all = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((g) => g.GroupId);
      assert.ok(all.length > 5);
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 5, NextToken: token }));
        assert.ok(page.SecurityGroups!.length <= 5);
        seen.push(...page.SecurityGroups!.map((g) => g.GroupId!));
        token = page.NextToken;
      } while (token);
      assert.deepEqual(seen, all);
      const err = await ec2Error(ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 4 })));
      assert.equal(err.code, 'InvalidParameterValue');
    });
  });

  describe('DescribeSecurityGroupRules', () => {
    it('by id, by filter, with tags, paginated', async () => {
      const gid = await createGroup();
      const out = await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: gid,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 1, ToPort: 1, IpRanges: Array.from({ length: 7 }, (_, i) => ({ CidrIp: `10.9.${i}.0/24` })) }],
        }),
      );
      const ruleIds = out.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId!);
      await ec2.send(new CreateTagsCommand({ Resources: [ruleIds[3]!], Tags: [{ Key: 'pick', Value: 'me' }] }));
      const byId = await ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [ruleIds[0]!, ruleIds[3]!] }));
      assert.deepEqual(byId.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId), [ruleIds[0], ruleIds[3]]);
      assert.deepEqual(byId.SecurityGroupRules![1]!.Tags, [{ Key: 'pick', Value: 'me' }]);
      const byTag = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'tag:pick', Values: ['me'] }] }));
      assert.deepEqual(byTag.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId), [ruleIds[3]]);
      const byTagKey = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'tag-key', Values: ['pick'] }] }));
      assert.equal(byTagKey.SecurityGroupRules!.length, 1);
      const byRuleFilter = await ec2.send(
        new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'security-group-rule-id', Values: [ruleIds[5]!] }] }),
      );
      assert.equal(byRuleFilter.SecurityGroupRules![0]!.CidrIpv4, '10.9.5.0/24');
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await ec2.send(
          new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [gid] }], MaxResults: 5, NextToken: token }),
        );
        seen.push(...page.SecurityGroupRules!.map((r) => r.SecurityGroupRuleId!));
        token = page.NextToken;
      } while (token);
      assert.equal(seen.length, 8); // 7 ingress + default egress
      assert.ok(ruleIds.every((id) => seen.includes(id)));
      const nf = await ec2Error(ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: ['sgr-00000000000000000'] })));
      assert.equal(nf.code, 'InvalidSecurityGroupRuleId.NotFound');
      const big = await ec2Error(ec2.send(new DescribeSecurityGroupRulesCommand({ MaxResults: 1001 })));
      assert.equal(big.code, 'InvalidParameterValue');
    });
  });

  describe('ModifySecurityGroupRules and descriptions', () => {
    it('replaces a rule in place, keeping its id, and keeps IpPermissions in step', async () => {
      const gid = await createGroup();
      const out = await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: gid,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '10.0.0.0/8' }, { CidrIp: '11.0.0.0/8' }] }],
        }),
      );
      const [r1, r2] = out.SecurityGroupRules!;
      const mod = await ec2.send(
        new ModifySecurityGroupRulesCommand({
          GroupId: gid,
          SecurityGroupRules: [
            { SecurityGroupRuleId: r1!.SecurityGroupRuleId, SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, CidrIpv4: '10.0.0.0/8', Description: 'moved' } },
          ],
        }),
      );
      assert.equal(mod.Return, true);
      const [after] = (await ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [r1!.SecurityGroupRuleId!] }))).SecurityGroupRules!;
      assert.equal(after!.FromPort, 8080);
      assert.equal(after!.Description, 'moved');
      assert.equal(after!.IsEgress, false);
      const g = await describeGroup(gid);
      assert.deepEqual(
        g.IpPermissions!.map((p) => [p.FromPort, p.IpRanges!.map((r) => r.CidrIp)]),
        [
          [8080, ['10.0.0.0/8']],
          [80, ['11.0.0.0/8']],
        ],
      );
      // would duplicate r2
      const dup = await ec2Error(
        ec2.send(
          new ModifySecurityGroupRulesCommand({
            GroupId: gid,
            SecurityGroupRules: [{ SecurityGroupRuleId: r1!.SecurityGroupRuleId, SecurityGroupRule: { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, CidrIpv4: '11.0.0.0/8' } }],
          }),
        ),
      );
      assert.equal(dup.code, 'InvalidPermission.Duplicate');
      const other = await createGroup();
      const [otherRule] = await rulesOf(other);
      const foreign = await ec2Error(
        ec2.send(
          new ModifySecurityGroupRulesCommand({
            GroupId: gid,
            SecurityGroupRules: [{ SecurityGroupRuleId: otherRule!.SecurityGroupRuleId, SecurityGroupRule: { IpProtocol: '-1', CidrIpv4: '1.0.0.0/8' } }],
          }),
        ),
      );
      assert.equal(foreign.code, 'InvalidSecurityGroupRuleId.NotFound');
      const twoPeers = await ec2Error(
        ec2.send(
          new ModifySecurityGroupRulesCommand({
            GroupId: gid,
            SecurityGroupRules: [{ SecurityGroupRuleId: r2!.SecurityGroupRuleId, SecurityGroupRule: { IpProtocol: '-1', CidrIpv4: '1.0.0.0/8', CidrIpv6: '::/0' } }],
          }),
        ),
      );
      assert.equal(twoPeers.code, 'InvalidParameterCombination');
      const badCidr = await ec2Error(
        ec2.send(
          new ModifySecurityGroupRulesCommand({
            GroupId: gid,
            SecurityGroupRules: [{ SecurityGroupRuleId: r2!.SecurityGroupRuleId, SecurityGroupRule: { IpProtocol: '-1', CidrIpv4: '1.0.0.0/40' } }],
          }),
        ),
      );
      assert.equal(badCidr.code, 'InvalidParameterValue');
      const [r2After] = (await ec2.send(new DescribeSecurityGroupRulesCommand({ SecurityGroupRuleIds: [r2!.SecurityGroupRuleId!] }))).SecurityGroupRules!;
      assert.equal(r2After!.CidrIpv4, '11.0.0.0/8');
    });

    it('UpdateSecurityGroupRuleDescriptions by permission and by rule id', async () => {
      const gid = await createGroup();
      await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: gid, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 3, ToPort: 3, IpRanges: [{ CidrIp: '3.0.0.0/8' }] }] }),
      );
      await ec2.send(
        new UpdateSecurityGroupRuleDescriptionsIngressCommand({
          GroupId: gid,
          IpPermissions: [{ IpProtocol: 'tcp', FromPort: 3, ToPort: 3, IpRanges: [{ CidrIp: '3.0.0.0/8', Description: 'three' }] }],
        }),
      );
      assert.deepEqual((await describeGroup(gid)).IpPermissions![0]!.IpRanges, [{ CidrIp: '3.0.0.0/8', Description: 'three' }]);
      const egress = (await rulesOf(gid)).find((r) => r.IsEgress)!;
      await ec2.send(
        new UpdateSecurityGroupRuleDescriptionsEgressCommand({
          GroupId: gid,
          SecurityGroupRuleDescriptions: [{ SecurityGroupRuleId: egress.SecurityGroupRuleId, Description: 'out' }],
        }),
      );
      assert.deepEqual((await describeGroup(gid)).IpPermissionsEgress![0]!.IpRanges, [{ CidrIp: '0.0.0.0/0', Description: 'out' }]);
      const missing = await ec2Error(
        ec2.send(
          new UpdateSecurityGroupRuleDescriptionsIngressCommand({
            GroupId: gid,
            IpPermissions: [{ IpProtocol: 'tcp', FromPort: 4, ToPort: 4, IpRanges: [{ CidrIp: '3.0.0.0/8', Description: 'x' }] }],
          }),
        ),
      );
      assert.equal(missing.code, 'InvalidPermission.NotFound');
    });
  });

  describe('DeleteSecurityGroup', () => {
    it('deletes the group, its rules and tags', async () => {
      const gid = await createGroup();
      const out = await ec2.send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId: gid,
          IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '7.0.0.0/8' }] }],
          TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: [{ Key: 'x', Value: 'y' }] }],
        }),
      );
      const ruleId = out.SecurityGroupRules![0]!.SecurityGroupRuleId!;
      await ec2.send(new CreateTagsCommand({ Resources: [gid], Tags: [{ Key: 'a', Value: 'b' }] }));
      const del = await ec2.send(new DeleteSecurityGroupCommand({ GroupId: gid }));
      assert.equal(del.Return, true);
      assert.equal(del.GroupId, gid);
      assert.equal((await ec2Error(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [gid] })))).code, 'InvalidGroup.NotFound');
      assert.deepEqual(await rulesOf(gid), []);
      const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [gid, ruleId] }] }));
      assert.deepEqual(tags.Tags, []);
      const again = await ec2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: gid })));
      assert.equal(again.code, 'InvalidGroup.NotFound');
    });

    it('deletes by GroupName in the default VPC', async () => {
      const name = uniq('byname');
      const gid = await createGroup(undefined, name);
      const del = await ec2.send(new DeleteSecurityGroupCommand({ GroupName: name }));
      assert.equal(del.GroupId, gid);
      const err = await ec2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupName: name })));
      assert.equal(err.code, 'InvalidGroup.NotFound');
    });

    it('refuses while another group references it', async () => {
      const target = await createGroup();
      const user = await createGroup();
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: user, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: target }] }] }));
      const err = await ec2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: target })));
      assert.equal(err.code, 'DependencyViolation');
      assert.equal(err.message, `resource ${target} has a dependent object`);
      await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupId: user, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: target }] }] }));
      await ec2.send(new DeleteSecurityGroupCommand({ GroupId: target }));
    });

    it('a self-reference does not block deletion', async () => {
      const gid = await createGroup();
      await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: gid, IpPermissions: [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: gid }] }] }));
      await ec2.send(new DeleteSecurityGroupCommand({ GroupId: gid }));
    });

    it('refuses while a network interface uses it', async () => {
      const gid = await createGroup();
      const enis = looseCollection<Partial<NetworkInterfaceRecord>>(t.server.store, KINDS.networkInterface);
      enis.put('us-east-1', 'eni-0123456789abcdef0', { NetworkInterfaceId: 'eni-0123456789abcdef0', VpcId: defaultVpcId, Groups: [{ GroupId: gid, GroupName: 'x' }] });
      try {
        const err = await ec2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: gid })));
        assert.equal(err.code, 'DependencyViolation');
      } finally {
        enis.delete('us-east-1', 'eni-0123456789abcdef0');
      }
      const dry = await ec2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: gid, DryRun: true })));
      assert.equal(dry.code, 'DryRunOperation');
      await describeGroup(gid);
      await ec2.send(new DeleteSecurityGroupCommand({ GroupId: gid }));
    });

    it('needs a group id or name', async () => {
      const err = await ec2Error(ec2.send(new DeleteSecurityGroupCommand({})));
      assert.equal(err.code, 'MissingParameter');
      const mal = await ec2Error(ec2.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-bad' })));
      assert.equal(mal.code, 'InvalidGroupId.Malformed');
    });
  });
});
