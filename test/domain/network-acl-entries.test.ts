import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { thrownEc2Error } from '../helpers/ec2-error.js';
import { compareAclEntries, isCatchAll, normalizeAclEntry, normalizeAclProtocol } from '../../src/domain/network-acl-entries.js';

const code = (fn: () => unknown): string => thrownEc2Error(fn).code;

describe('domain/network-acl-entries', () => {
  it('protocols are stored as numbers in text', () => {
    for (const [given, stored] of [['-1', '-1'], ['all', '-1'], ['ALL', '-1'], ['tcp', '6'], ['Udp', '17'], ['icmp', '1'], ['icmpv6', '58'], ['6', '6'], ['006', '6'], ['0', '0'], ['255', '255']]) {
      assert.equal(normalizeAclProtocol(given), stored, given);
    }
    for (const bad of ['256', '-2', 'gre', '1.5']) assert.equal(code(() => normalizeAclProtocol(bad)), 'InvalidParameterValue', bad);
    assert.equal(code(() => normalizeAclProtocol(undefined)), 'MissingParameter');
  });

  it('an entry keeps only what its protocol uses, with its CIDR in canonical form', () => {
    const base = { RuleNumber: 5, Egress: true, RuleAction: 'ALLOW' };
    assert.deepEqual(normalizeAclEntry({ ...base, Protocol: '-1', CidrBlock: '10.1.2.3/16', PortRange: { From: 1, To: 2 }, IcmpTypeCode: { Type: 1, Code: 1 } }), {
      RuleNumber: 5,
      Egress: true,
      Protocol: '-1',
      RuleAction: 'allow',
      CidrBlock: '10.1.0.0/16',
    });
    assert.deepEqual(normalizeAclEntry({ ...base, Protocol: 'udp', Ipv6CidrBlock: '2600:1f18:abcd::1/48', PortRange: { From: 0, To: 65535 }, IcmpTypeCode: { Type: 1, Code: 1 } }), {
      RuleNumber: 5,
      Egress: true,
      Protocol: '17',
      RuleAction: 'allow',
      Ipv6CidrBlock: '2600:1f18:abcd::/48',
      PortRange: { From: 0, To: 65535 },
    });
    // ICMPv6 on IPv4: all types and codes, whatever is given
    assert.equal(normalizeAclEntry({ ...base, Protocol: '58', CidrBlock: '0.0.0.0/0', IcmpTypeCode: { Type: 1, Code: 1 } }).IcmpTypeCode, undefined);
    assert.deepEqual(normalizeAclEntry({ ...base, Protocol: '1', CidrBlock: '0.0.0.0/0', IcmpTypeCode: { Type: 3, Code: -1 } }).IcmpTypeCode, { Type: 3, Code: -1 });
    assert.equal(code(() => normalizeAclEntry({ ...base, Protocol: '1', CidrBlock: '0.0.0.0/0', IcmpTypeCode: { Type: 3 } })), 'InvalidParameterValue');
    assert.equal(code(() => normalizeAclEntry({ ...base, Egress: undefined, Protocol: '-1', CidrBlock: '0.0.0.0/0' })), 'MissingParameter');
    assert.equal(code(() => normalizeAclEntry({ ...base, RuleNumber: 1.5, Protocol: '-1', CidrBlock: '0.0.0.0/0' })), 'InvalidParameterValue');
  });

  it('EC2 order: egress first, then by number; 32767 and 32768 are the * entries', () => {
    const entries = [
      { Egress: false, RuleNumber: 32767 },
      { Egress: true, RuleNumber: 200 },
      { Egress: false, RuleNumber: 1 },
      { Egress: true, RuleNumber: 32768 },
      { Egress: true, RuleNumber: 100 },
    ].sort(compareAclEntries);
    assert.deepEqual(entries.map((e) => `${e.Egress}:${e.RuleNumber}`), ['true:100', 'true:200', 'true:32768', 'false:1', 'false:32767']);
    assert.deepEqual([1, 32766, 32767, 32768].map((n) => isCatchAll({ RuleNumber: n })), [false, false, true, true]);
  });
});
