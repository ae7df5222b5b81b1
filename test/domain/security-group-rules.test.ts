import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkNoDuplicates,
  describeRule,
  normalizeCidr4,
  normalizeCidr6,
  normalizePermissions,
  normalizePorts,
  normalizeProtocol,
  protocolNumber,
  ruleAllows,
  ruleKey,
  rulesAllow,
  toIpPermissions,
  validateGroupText,
  validateRuleDescription,
  type Packet,
  type RuleBody,
} from '../../src/domain/security-group-rules.js';
import { Ec2Error } from '../../src/domain/errors.js';

/** Asserts fn throws an Ec2Error with this code (and message pattern). */
function throwsEc2(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Ec2Error, `expected Ec2Error, got ${String(e)}`);
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
}

const tcp = (from: number, to: number, src: Partial<RuleBody>, isEgress = false): RuleBody => ({
  IsEgress: isEgress,
  IpProtocol: 'tcp',
  FromPort: from,
  ToPort: to,
  ...src,
});

describe('protocols', () => {
  it('accepts names case-insensitively, all/-1, and numbers 0..255', () => {
    assert.equal(normalizeProtocol('tcp'), 'tcp');
    assert.equal(normalizeProtocol('TCP'), 'tcp');
    assert.equal(normalizeProtocol('Udp'), 'udp');
    assert.equal(normalizeProtocol('icmp'), 'icmp');
    assert.equal(normalizeProtocol('icmpv6'), 'icmpv6');
    assert.equal(normalizeProtocol('-1'), '-1');
    assert.equal(normalizeProtocol('all'), '-1');
    assert.equal(normalizeProtocol('ALL'), '-1');
    assert.equal(normalizeProtocol('47'), '47');
    assert.equal(normalizeProtocol('0'), '0');
    assert.equal(normalizeProtocol('255'), '255');
  });

  it('reports well-known protocol numbers by name, as EC2 does', () => {
    assert.equal(normalizeProtocol('6'), 'tcp');
    assert.equal(normalizeProtocol('17'), 'udp');
    assert.equal(normalizeProtocol('1'), 'icmp');
    assert.equal(normalizeProtocol('58'), 'icmpv6');
  });

  it('rejects unknown protocols and missing ones', () => {
    throwsEc2(() => normalizeProtocol('foo'), 'InvalidParameterValue', /Invalid value 'foo' for IP protocol/);
    throwsEc2(() => normalizeProtocol('256'), 'InvalidParameterValue');
    throwsEc2(() => normalizeProtocol('-2'), 'InvalidParameterValue');
    throwsEc2(() => normalizeProtocol('1.5'), 'InvalidParameterValue');
    throwsEc2(() => normalizeProtocol(undefined), 'MissingParameter');
    throwsEc2(() => normalizeProtocol(''), 'MissingParameter');
  });

  it('maps canonical protocols to IANA numbers', () => {
    assert.equal(protocolNumber('tcp'), 6);
    assert.equal(protocolNumber('udp'), 17);
    assert.equal(protocolNumber('icmp'), 1);
    assert.equal(protocolNumber('icmpv6'), 58);
    assert.equal(protocolNumber('-1'), -1);
    assert.equal(protocolNumber('47'), 47);
  });
});

describe('ports', () => {
  it('tcp/udp need both ports in 0..65535 with from <= to', () => {
    assert.deepEqual(normalizePorts('tcp', 22, 22), [22, 22]);
    assert.deepEqual(normalizePorts('udp', 0, 65535), [0, 65535]);
    throwsEc2(() => normalizePorts('tcp', undefined, undefined), 'InvalidParameterValue', /Must specify both from and to ports with TCP\/UDP/);
    throwsEc2(() => normalizePorts('tcp', undefined, 22), 'InvalidPermission.Malformed', /TCP\/UDP port \(-1\) out of range/);
    throwsEc2(() => normalizePorts('udp', 1, 65536), 'InvalidPermission.Malformed', /\(65536\)/);
    throwsEc2(() => normalizePorts('tcp', -1, -1), 'InvalidPermission.Malformed');
    throwsEc2(() => normalizePorts('tcp', 80, 22), 'InvalidParameterValue', /port range/);
  });

  it('icmp uses type/code with -1 meaning all', () => {
    assert.deepEqual(normalizePorts('icmp', -1, -1), [-1, -1]);
    assert.deepEqual(normalizePorts('icmp', 8, -1), [8, -1]);
    assert.deepEqual(normalizePorts('icmp', 3, 4), [3, 4]);
    throwsEc2(() => normalizePorts('icmp', undefined, undefined), 'InvalidParameterValue', /ICMP/);
    throwsEc2(() => normalizePorts('icmp', 256, 0), 'InvalidPermission.Malformed', /type \(256\)/);
    throwsEc2(() => normalizePorts('icmp', 8, 300), 'InvalidPermission.Malformed', /code \(300\)/);
    throwsEc2(() => normalizePorts('icmp', -1, 3), 'InvalidParameterValue');
  });

  it('icmpv6 ports are optional; all and numbered protocols ignore ports', () => {
    assert.deepEqual(normalizePorts('icmpv6', undefined, undefined), [-1, -1]);
    assert.deepEqual(normalizePorts('icmpv6', 128, 0), [128, 0]);
    assert.deepEqual(normalizePorts('-1', 0, 0), [-1, -1]);
    assert.deepEqual(normalizePorts('-1', 22, 80), [-1, -1]);
    assert.deepEqual(normalizePorts('47', 1, 2), [-1, -1]);
    assert.deepEqual(normalizePorts('47', undefined, undefined), [-1, -1]);
  });
});

describe('CIDRs', () => {
  it('keeps canonical IPv4 blocks and clears host bits of others', () => {
    assert.equal(normalizeCidr4('0.0.0.0/0'), '0.0.0.0/0');
    assert.equal(normalizeCidr4('10.0.0.0/8'), '10.0.0.0/8');
    assert.equal(normalizeCidr4('10.0.0.1/8'), '10.0.0.0/8');
    assert.equal(normalizeCidr4('10.0.0.28/29'), '10.0.0.24/29');
    assert.equal(normalizeCidr4('203.0.113.7/32'), '203.0.113.7/32');
  });

  it('rejects malformed IPv4 blocks with EC2 message', () => {
    throwsEc2(() => normalizeCidr4('10.0.0.0/33'), 'InvalidParameterValue', /^CIDR block 10\.0\.0\.0\/33 is malformed$/);
    throwsEc2(() => normalizeCidr4('10.0.0.1'), 'InvalidParameterValue', /malformed/);
    throwsEc2(() => normalizeCidr4('300.0.0.0/8'), 'InvalidParameterValue');
    throwsEc2(() => normalizeCidr4('::/0'), 'InvalidParameterValue');
    throwsEc2(() => normalizeCidr4(undefined), 'InvalidParameterValue');
  });

  it('normalizes IPv6 blocks to RFC 5952 form with host bits cleared', () => {
    assert.equal(normalizeCidr6('::/0'), '::/0');
    assert.equal(normalizeCidr6('2001:DB8:0:0::/32'), '2001:db8::/32');
    assert.equal(normalizeCidr6('2001:db8::1/64'), '2001:db8::/64');
    assert.equal(normalizeCidr6('2001:db8::1/128'), '2001:db8::1/128');
    throwsEc2(() => normalizeCidr6('2001:db8::/129'), 'InvalidParameterValue', /CIDR block 2001:db8::\/129 is malformed/);
    throwsEc2(() => normalizeCidr6('10.0.0.0/8'), 'InvalidParameterValue');
  });
});

describe('descriptions and names', () => {
  it('accepts EC2 description characters up to 255 long', () => {
    assert.equal(validateRuleDescription('SSH from office (HQ) #1: a@b [x]+=&;{}!$*'), 'SSH from office (HQ) #1: a@b [x]+=&;{}!$*');
    assert.equal(validateRuleDescription(undefined), undefined);
    assert.equal(validateRuleDescription(''), undefined);
    assert.equal(validateRuleDescription('x'.repeat(255)), 'x'.repeat(255));
    throwsEc2(() => validateRuleDescription('x'.repeat(256)), 'InvalidParameterValue', /Invalid rule description/);
    throwsEc2(() => validateRuleDescription('caf\u00e9'), 'InvalidParameterValue');
    throwsEc2(() => validateRuleDescription('a"b'), 'InvalidParameterValue');
  });

  it('validates group names and descriptions', () => {
    assert.equal(validateGroupText('GroupName', 'web-tier'), 'web-tier');
    throwsEc2(() => validateGroupText('GroupName', undefined), 'MissingParameter');
    throwsEc2(() => validateGroupText('GroupName', ''), 'InvalidParameterValue');
    throwsEc2(() => validateGroupText('GroupDescription', 'y'.repeat(256)), 'InvalidParameterValue', /GroupDescription/);
    throwsEc2(() => validateGroupText('GroupDescription', 'tab\there'), 'InvalidParameterValue');
  });
});

describe('normalizePermissions', () => {
  it('splits one permission into one rule per source, keeping descriptions', () => {
    const rules = normalizePermissions(
      [
        {
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          IpRanges: [{ CidrIp: '10.0.0.0/16', Description: 'vpc' }, { CidrIp: '192.168.1.7/24' }],
          Ipv6Ranges: [{ CidrIpv6: '2001:db8::/32' }],
          PrefixListIds: [{ PrefixListId: 'pl-12345678', Description: 'pl' }],
          UserIdGroupPairs: [{ GroupId: 'sg-0123456789abcdef0', UserId: '123456789012' }],
        },
      ],
      false,
    );
    assert.equal(rules.length, 5);
    assert.ok(rules.every((r) => r.IpProtocol === 'tcp' && r.FromPort === 443 && r.ToPort === 443 && r.IsEgress === false));
    assert.deepEqual(rules[0], { IsEgress: false, IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIpv4: '10.0.0.0/16', Description: 'vpc' });
    assert.equal(rules[1]!.CidrIpv4, '192.168.1.0/24');
    assert.equal(rules[1]!.Description, undefined);
    assert.equal(rules[2]!.CidrIpv6, '2001:db8::/32');
    assert.equal(rules[3]!.PrefixListId, 'pl-12345678');
    assert.deepEqual(rules[4]!.ReferencedGroupInfo, { GroupId: 'sg-0123456789abcdef0', UserId: '123456789012' });
  });

  it('uses the resolver for group pairs and propagates its errors', () => {
    const seen: unknown[] = [];
    const rules = normalizePermissions(
      [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupName: 'web' }] }],
      true,
      (pair) => {
        seen.push(pair);
        return { GroupId: 'sg-11111111', UserId: '000000000000' };
      },
    );
    assert.deepEqual(seen, [{ GroupName: 'web' }]);
    assert.deepEqual(rules, [
      { IsEgress: true, IpProtocol: '-1', FromPort: -1, ToPort: -1, ReferencedGroupInfo: { GroupId: 'sg-11111111', UserId: '000000000000' } },
    ]);
    throwsEc2(
      () =>
        normalizePermissions([{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupName: 'x' }] }], false, () => {
          throw new Ec2Error('InvalidGroup.NotFound', 'nope');
        }),
      'InvalidGroup.NotFound',
    );
    // the default resolver needs a GroupId
    throwsEc2(() => normalizePermissions([{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupName: 'x' }] }], false), 'MissingParameter');
  });

  it('rejects a permission without a source, bad CIDRs, prefix list ids and descriptions', () => {
    throwsEc2(() => normalizePermissions([{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22 }], false), 'MissingParameter', /source/);
    throwsEc2(
      () => normalizePermissions([{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/33' }] }], false),
      'InvalidParameterValue',
      /CIDR block 10\.0\.0\.0\/33 is malformed/,
    );
    throwsEc2(
      () => normalizePermissions([{ IpProtocol: '-1', PrefixListIds: [{ PrefixListId: 'pl-xyz' }] }], false),
      'InvalidPrefixListId.Malformed',
    );
    throwsEc2(
      () => normalizePermissions([{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0', Description: '\u00e9' }] }], false),
      'InvalidParameterValue',
      /description/,
    );
    throwsEc2(() => normalizePermissions([{ IpProtocol: 'bogus', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }], false), 'InvalidParameterValue');
  });

  it('normalizes ports per protocol', () => {
    const [all] = normalizePermissions([{ IpProtocol: 'all', FromPort: 0, ToPort: 0, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }], true);
    assert.deepEqual(all, { IsEgress: true, IpProtocol: '-1', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0' });
    const [six] = normalizePermissions([{ IpProtocol: '6', FromPort: 80, ToPort: 81, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }], false);
    assert.equal(six!.IpProtocol, 'tcp');
    assert.equal(six!.FromPort, 80);
  });
});

describe('duplicates', () => {
  const ssh = tcp(22, 22, { CidrIpv4: '0.0.0.0/0' });

  it('rule identity ignores description but not direction, ports or source', () => {
    assert.equal(ruleKey(ssh), ruleKey({ ...ssh, Description: 'x' }));
    assert.notEqual(ruleKey(ssh), ruleKey({ ...ssh, IsEgress: true }));
    assert.notEqual(ruleKey(ssh), ruleKey(tcp(22, 23, { CidrIpv4: '0.0.0.0/0' })));
    assert.notEqual(ruleKey(ssh), ruleKey(tcp(22, 22, { CidrIpv4: '10.0.0.0/8' })));
    assert.notEqual(ruleKey(ssh), ruleKey({ ...ssh, IpProtocol: 'udp' }));
    assert.notEqual(ruleKey(tcp(1, 1, { PrefixListId: 'pl-11111111' })), ruleKey(tcp(1, 1, { ReferencedGroupInfo: { GroupId: 'pl-11111111' } })));
  });

  it('reports an existing rule as InvalidPermission.Duplicate with EC2 wording', () => {
    throwsEc2(
      () => checkNoDuplicates([ssh], [{ ...ssh, Description: 'again' }]),
      'InvalidPermission.Duplicate',
      /^the specified rule "peer: 0\.0\.0\.0\/0, TCP, from port: 22, to port: 22, ALLOW" already exists$/,
    );
    checkNoDuplicates([ssh], [{ ...ssh, IsEgress: true }, tcp(22, 22, { CidrIpv4: '10.0.0.0/8' })]);
  });

  it('reports a rule repeated within one request as InvalidParameterValue', () => {
    throwsEc2(() => checkNoDuplicates([], [ssh, { ...ssh }]), 'InvalidParameterValue', /same permission/);
  });

  it('spells other protocols and peers as EC2 does', () => {
    assert.equal(
      describeRule({ IsEgress: false, IpProtocol: '-1', FromPort: -1, ToPort: -1, ReferencedGroupInfo: { GroupId: 'sg-1234abcd' } }),
      'peer: sg-1234abcd, ALL, ALLOW',
    );
    assert.equal(
      describeRule({ IsEgress: false, IpProtocol: 'udp', FromPort: 53, ToPort: 53, CidrIpv6: '::/0' }),
      'peer: ::/0, UDP, from port: 53, to port: 53, ALLOW',
    );
    assert.equal(
      describeRule({ IsEgress: false, IpProtocol: 'icmp', FromPort: 8, ToPort: -1, PrefixListId: 'pl-11111111' }),
      'peer: pl-11111111, ICMP, type: 8, code: -1, ALLOW',
    );
  });
});

describe('toIpPermissions', () => {
  it('merges rules with the same protocol and ports, sources in order', () => {
    const perms = toIpPermissions([
      tcp(22, 22, { CidrIpv4: '10.0.0.0/8', Description: 'a' }),
      { IsEgress: false, IpProtocol: '-1', FromPort: -1, ToPort: -1, ReferencedGroupInfo: { GroupId: 'sg-11111111', UserId: '123456789012' } },
      tcp(22, 22, { CidrIpv6: '::/0' }),
      tcp(22, 22, { CidrIpv4: '192.168.0.0/16' }),
      tcp(22, 22, { PrefixListId: 'pl-22222222' }),
      tcp(80, 80, { CidrIpv4: '0.0.0.0/0' }),
      { IsEgress: false, IpProtocol: 'icmp', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0' },
    ]);
    assert.deepEqual(perms, [
      {
        IpProtocol: 'tcp',
        FromPort: 22,
        ToPort: 22,
        IpRanges: [{ CidrIp: '10.0.0.0/8', Description: 'a' }, { CidrIp: '192.168.0.0/16' }],
        Ipv6Ranges: [{ CidrIpv6: '::/0' }],
        PrefixListIds: [{ PrefixListId: 'pl-22222222' }],
        UserIdGroupPairs: [],
      },
      {
        IpProtocol: '-1',
        IpRanges: [],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [{ GroupId: 'sg-11111111', UserId: '123456789012' }],
      },
      { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] },
      { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] },
    ]);
  });

  it('round-trips through normalizePermissions', () => {
    const input = [
      { IpProtocol: 'udp', FromPort: 1000, ToPort: 2000, IpRanges: [{ CidrIp: '10.1.0.0/16' }, { CidrIp: '10.2.0.0/16' }] },
      { IpProtocol: '47', IpRanges: [{ CidrIp: '10.3.0.0/16' }] },
    ];
    const perms = toIpPermissions(normalizePermissions(input, false));
    assert.equal(perms.length, 2);
    assert.deepEqual(perms[0]!.IpRanges.map((r) => r.CidrIp), ['10.1.0.0/16', '10.2.0.0/16']);
    assert.equal(perms[1]!.IpProtocol, '47');
    assert.equal(perms[1]!.FromPort, undefined);
    assert.deepEqual(normalizePermissions(perms, false), normalizePermissions(input, false));
    assert.deepEqual(toIpPermissions([]), []);
  });
});

describe('ruleAllows', () => {
  const pkt = (p: Partial<Packet>): Packet => ({ protocol: 6, port: 22, peerIp: '10.0.0.5', peerGroups: [], ...p });

  it('matches TCP/UDP by port range and IPv4 CIDR', () => {
    const r = tcp(20, 25, { CidrIpv4: '10.0.0.0/24' });
    assert.equal(ruleAllows(r, pkt({})), true);
    assert.equal(ruleAllows(r, pkt({ port: 20 })), true);
    assert.equal(ruleAllows(r, pkt({ port: 25 })), true);
    assert.equal(ruleAllows(r, pkt({ port: 26 })), false);
    assert.equal(ruleAllows(r, pkt({ port: undefined })), false);
    assert.equal(ruleAllows(r, pkt({ peerIp: '10.0.1.5' })), false);
    assert.equal(ruleAllows(r, pkt({ protocol: 17 })), false);
    assert.equal(ruleAllows(r, pkt({ peerIp: '2001:db8::1' })), false);
  });

  it('all-protocol rules match any protocol and port', () => {
    const r: RuleBody = { IsEgress: true, IpProtocol: '-1', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0' };
    assert.equal(ruleAllows(r, pkt({ protocol: 17, port: 53 })), true);
    assert.equal(ruleAllows(r, pkt({ protocol: 1, port: undefined, icmpType: 8 })), true);
    assert.equal(ruleAllows(r, pkt({ protocol: 47, port: undefined })), true);
    assert.equal(ruleAllows(r, pkt({ peerIp: '::1' })), false);
  });

  it('numbered protocols match only that protocol', () => {
    const r: RuleBody = { IsEgress: false, IpProtocol: '47', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0' };
    assert.equal(ruleAllows(r, pkt({ protocol: 47, port: undefined })), true);
    assert.equal(ruleAllows(r, pkt({ protocol: 6 })), false);
  });

  it('matches ICMP type and code, -1 meaning any', () => {
    const echo: RuleBody = { IsEgress: false, IpProtocol: 'icmp', FromPort: 8, ToPort: -1, CidrIpv4: '0.0.0.0/0' };
    assert.equal(ruleAllows(echo, pkt({ protocol: 1, port: undefined, icmpType: 8, icmpCode: 0 })), true);
    assert.equal(ruleAllows(echo, pkt({ protocol: 1, port: undefined, icmpType: 0 })), false);
    const unreachable4: RuleBody = { ...echo, FromPort: 3, ToPort: 4 };
    assert.equal(ruleAllows(unreachable4, pkt({ protocol: 1, icmpType: 3, icmpCode: 4 })), true);
    assert.equal(ruleAllows(unreachable4, pkt({ protocol: 1, icmpType: 3, icmpCode: 1 })), false);
    const any: RuleBody = { ...echo, FromPort: -1, ToPort: -1 };
    assert.equal(ruleAllows(any, pkt({ protocol: 1, icmpType: 13 })), true);
    assert.equal(ruleAllows(any, pkt({ protocol: 58, icmpType: 128 })), false);
  });

  it('matches IPv6 CIDRs, referenced groups and known prefix lists', () => {
    const v6 = tcp(443, 443, { CidrIpv6: '2001:db8::/32' });
    assert.equal(ruleAllows(v6, pkt({ port: 443, peerIp: '2001:db8:1::7' })), true);
    assert.equal(ruleAllows(v6, pkt({ port: 443, peerIp: '2001:db9::7' })), false);
    assert.equal(ruleAllows(v6, pkt({ port: 443, peerIp: '10.0.0.1' })), false);
    const grp = tcp(0, 65535, { ReferencedGroupInfo: { GroupId: 'sg-aaaaaaaa' } });
    assert.equal(ruleAllows(grp, pkt({ peerGroups: ['sg-bbbbbbbb', 'sg-aaaaaaaa'] })), true);
    assert.equal(ruleAllows(grp, pkt({ peerGroups: ['sg-bbbbbbbb'] })), false);
    const pl = tcp(22, 22, { PrefixListId: 'pl-12345678' });
    assert.equal(ruleAllows(pl, pkt({})), false);
    assert.equal(ruleAllows(pl, pkt({ prefixLists: { 'pl-12345678': ['10.0.0.0/8'] } })), true);
    assert.equal(ruleAllows(pl, pkt({ prefixLists: { 'pl-12345678': ['192.168.0.0/16'] } })), false);
    assert.equal(rulesAllow([v6, grp], pkt({ peerGroups: ['sg-aaaaaaaa'] })), true);
    assert.equal(rulesAllow([v6, pl], pkt({})), false);
    assert.equal(rulesAllow([], pkt({})), false);
  });
});
