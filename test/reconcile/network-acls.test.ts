import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig, type Config } from '../../src/config.js';
import { checkSubnetAcl } from '../../src/network/firewall-checks.js';
import { aclOfSubnet, resolveSubnetAcl } from '../../src/reconcile/network-acls.js';
import { internalContext } from '../../src/resources/context.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import type { NetworkAclRecord } from '../../src/resources/ec2/records.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const acl = (entries: NetworkAclRecord['Entries'], extra: Partial<NetworkAclRecord> = {}): NetworkAclRecord => ({
  NetworkAclId: 'acl-00000000000000001',
  VpcId: 'vpc-00000000000000001',
  IsDefault: false,
  Entries: entries,
  Associations: [],
  ...extra,
});

const CATCH_ALL: NetworkAclRecord['Entries'] = [
  { RuleNumber: 32767, Egress: true, Protocol: '-1', RuleAction: 'deny', CidrBlock: '0.0.0.0/0' },
  { RuleNumber: 32768, Egress: true, Protocol: '-1', RuleAction: 'deny', Ipv6CidrBlock: '::/0' },
  { RuleNumber: 32767, Egress: false, Protocol: '-1', RuleAction: 'deny', CidrBlock: '0.0.0.0/0' },
  { RuleNumber: 32768, Egress: false, Protocol: '-1', RuleAction: 'deny', Ipv6CidrBlock: '::/0' },
];

describe('reconcile/network-acls: resolveSubnetAcl', () => {
  it('drops the * entries and keeps the subnet, ACL, CIDRs; netns only when given', () => {
    const out = resolveSubnetAcl(acl(CATCH_ALL), 'subnet-1', ['10.0.1.0/24', '2600:1f18:0:1::/64'], undefined);
    assert.deepEqual(out, { subnetId: 'subnet-1', aclId: 'acl-00000000000000001', cidrs: ['10.0.1.0/24', '2600:1f18:0:1::/64'], entries: [] });
    assert.ok(!('netns' in out));
    assert.equal(resolveSubnetAcl(acl(CATCH_ALL), 'subnet-1', [], 'ovc-r-abc').netns, 'ovc-r-abc');
  });

  it('maps protocols, ports and ICMP type/code into the firewall terms', () => {
    const out = resolveSubnetAcl(
      acl([
        { RuleNumber: 100, Egress: false, Protocol: '-1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0' },
        { RuleNumber: 110, Egress: false, Protocol: '6', RuleAction: 'allow', CidrBlock: '10.0.0.0/8', PortRange: { From: 22, To: 22 } },
        { RuleNumber: 120, Egress: false, Protocol: '17', RuleAction: 'deny', CidrBlock: '10.1.0.0/16', PortRange: { From: 53, To: 60 } },
        { RuleNumber: 130, Egress: false, Protocol: '1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0', IcmpTypeCode: { Type: -1, Code: -1 } },
        { RuleNumber: 140, Egress: false, Protocol: '1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0', IcmpTypeCode: { Type: 8, Code: -1 } },
        { RuleNumber: 150, Egress: false, Protocol: '1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0', IcmpTypeCode: { Type: 3, Code: 4 } },
        { RuleNumber: 160, Egress: true, Protocol: '58', RuleAction: 'allow', Ipv6CidrBlock: '::/0', IcmpTypeCode: { Type: 128, Code: 0 } },
        { RuleNumber: 170, Egress: true, Protocol: '47', RuleAction: 'deny', CidrBlock: '192.168.0.0/16' },
        { RuleNumber: 180, Egress: true, Protocol: '6', RuleAction: 'allow', Ipv6CidrBlock: '2600::/16', PortRange: { From: 0, To: 65535 } },
        // type -1 with a code: the code means nothing
        { RuleNumber: 190, Egress: true, Protocol: '1', RuleAction: 'allow', CidrBlock: '0.0.0.0/0', IcmpTypeCode: { Type: -1, Code: 3 } },
        ...CATCH_ALL,
      ]),
      'subnet-1',
      ['10.0.1.0/24'],
      'ns',
    );
    assert.deepEqual(out.entries, [
      { ruleNumber: 100, egress: false, action: 'allow', protocol: 'all', cidr: '0.0.0.0/0' },
      { ruleNumber: 110, egress: false, action: 'allow', protocol: 'tcp', cidr: '10.0.0.0/8', fromPort: 22, toPort: 22 },
      { ruleNumber: 120, egress: false, action: 'deny', protocol: 'udp', cidr: '10.1.0.0/16', fromPort: 53, toPort: 60 },
      { ruleNumber: 130, egress: false, action: 'allow', protocol: 'icmp', cidr: '0.0.0.0/0' },
      { ruleNumber: 140, egress: false, action: 'allow', protocol: 'icmp', cidr: '0.0.0.0/0', icmpType: 8 },
      { ruleNumber: 150, egress: false, action: 'allow', protocol: 'icmp', cidr: '0.0.0.0/0', icmpType: 3, icmpCode: 4 },
      { ruleNumber: 160, egress: true, action: 'allow', protocol: 'icmpv6', cidr: '::/0', icmpType: 128, icmpCode: 0 },
      { ruleNumber: 170, egress: true, action: 'deny', protocol: 47, cidr: '192.168.0.0/16' },
      { ruleNumber: 180, egress: true, action: 'allow', protocol: 'tcp', cidr: '2600::/16', fromPort: 0, toPort: 65535 },
      { ruleNumber: 190, egress: true, action: 'allow', protocol: 'icmp', cidr: '0.0.0.0/0' },
    ]);
    for (const e of out.entries) for (const k of Object.keys(e)) assert.notEqual((e as unknown as Record<string, unknown>)[k], undefined, k);
    checkSubnetAcl(out); // what every firewall driver accepts
  });

  it('ICMP on the other address family stays a protocol number the firewall accepts', () => {
    const out = resolveSubnetAcl(
      acl([
        { RuleNumber: 10, Egress: false, Protocol: '58', RuleAction: 'allow', CidrBlock: '0.0.0.0/0' },
        { RuleNumber: 20, Egress: false, Protocol: '1', RuleAction: 'allow', Ipv6CidrBlock: '::/0', IcmpTypeCode: { Type: 8, Code: 0 } },
      ]),
      'subnet-1',
      ['10.0.1.0/24'],
      undefined,
    );
    assert.deepEqual(
      out.entries.map((e) => [e.protocol, e.icmpType]),
      [
        [58, undefined],
        [1, undefined],
      ],
    );
    checkSubnetAcl(out);
  });

  it('aclOfSubnet finds the ACL a subnet is associated with', () => {
    const store = new SqliteStore(':memory:');
    const config: Config = { ...loadConfig([], {}), dataDir: ':memory:' };
    const ctx = internalContext(store, config, 'us-east-1');
    const a = acl(CATCH_ALL, {
      Associations: [{ NetworkAclAssociationId: 'aclassoc-1', NetworkAclId: 'acl-00000000000000001', SubnetId: 'subnet-a' }],
    });
    const b = acl(CATCH_ALL, {
      NetworkAclId: 'acl-00000000000000002',
      IsDefault: true,
      Associations: [{ NetworkAclAssociationId: 'aclassoc-2', NetworkAclId: 'acl-00000000000000002', SubnetId: 'subnet-b' }],
    });
    store.transaction(() => {
      store.collection(KINDS.networkAcl).put('us-east-1', a.NetworkAclId, a);
      store.collection(KINDS.networkAcl).put('us-east-1', b.NetworkAclId, b);
    });
    assert.equal(aclOfSubnet(ctx, 'subnet-a')?.NetworkAclId, a.NetworkAclId);
    assert.equal(aclOfSubnet(ctx, 'subnet-b')?.NetworkAclId, b.NetworkAclId);
    assert.equal(aclOfSubnet(ctx, 'subnet-c'), undefined);
    assert.equal(aclOfSubnet(internalContext(store, config, 'eu-west-1'), 'subnet-a'), undefined);
    store.close();
  });
});
