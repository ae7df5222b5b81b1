import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import {
  allocateAddress,
  broadcastAddress,
  canonical,
  cidrToString,
  contains,
  defaultSubnetCidr,
  formatIpv4,
  formatIpv6,
  ipInCidr,
  isCanonical,
  isReservedInSubnet,
  networkAddress,
  overlaps,
  parseCidr4,
  parseCidr6,
  parseIpv4,
  parseIpv6,
  prefixMask,
  size,
  usableAddressCount,
  validateSubnetCidr,
  validateVpcCidr,
  type Cidr4,
} from '../../src/domain/cidr.js';

const ip = (s: string): number => {
  const n = parseIpv4(s);
  assert.notEqual(n, undefined, `bad test ip ${s}`);
  return n!;
};
const cidr = (s: string): Cidr4 => {
  const c = parseCidr4(s);
  assert.ok(c, `bad test cidr ${s}`);
  return c;
};

describe('parseIpv4 / formatIpv4', () => {
  it('parses dotted quads to uint32', () => {
    assert.equal(parseIpv4('0.0.0.0'), 0);
    assert.equal(parseIpv4('255.255.255.255'), 0xffffffff);
    assert.equal(parseIpv4('10.0.0.1'), 0x0a000001);
    assert.equal(parseIpv4('172.31.16.5'), 0xac1f1005);
    assert.equal(parseIpv4('192.168.1.254'), 0xc0a801fe);
    assert.equal(parseIpv4('128.0.0.0'), 0x80000000); // high bit set stays positive
  });

  for (const bad of [
    '',
    '1',
    '1.2.3',
    '1.2.3.4.5',
    '1.2.3.',
    '.1.2.3',
    '1..2.3',
    '256.0.0.0',
    '1.2.3.256',
    '1.2.3.1000',
    '01.2.3.4',
    '1.2.3.04',
    '1.2.3.00',
    '0x1.2.3.4',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '+1.2.3.4',
    '-1.2.3.4',
    '1.2.3.4/32',
    '1.2.3.a',
    '1e1.2.3.4',
    '١.2.3.4', // non-ASCII digit
  ]) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseIpv4(bad), undefined));
  }

  it('agrees with the definition on arbitrary text (property)', () => {
    // the definition: four parts split on '.', each 0 or 1-9 then up to two digits, at most 255
    const reference = (t: string): number | undefined => {
      const parts = t.split('.');
      if (parts.length !== 4) return undefined;
      let n = 0;
      for (const p of parts) {
        if (!/^(?:0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
        n = n * 256 + Number(p);
      }
      return n;
    };
    const octetish = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.stringMatching(/^[0-9]{0,4}$/), fc.constantFrom('', 'a', ' ', '+1', '٣'));
    const quadish = fc.array(octetish, { minLength: 1, maxLength: 6 }).map((xs) => xs.join('.'));
    fc.assert(fc.property(fc.oneof(quadish, fc.string()), (t) => assert.equal(parseIpv4(t), reference(t))), { numRuns: 5000 });
  });

  it('formats and round-trips', () => {
    for (const s of ['0.0.0.0', '255.255.255.255', '10.0.0.1', '172.31.255.255', '128.0.0.1', '1.2.3.4']) {
      assert.equal(formatIpv4(ip(s)), s);
    }
    assert.equal(formatIpv4(-1), '255.255.255.255'); // signed int32 input is normalised
    assert.equal(formatIpv4(0x80000000 | 0), '128.0.0.0');
  });
});

describe('parseCidr4 / cidrToString / isCanonical', () => {
  it('parses', () => {
    assert.deepEqual(parseCidr4('10.0.0.0/16'), { base: 0x0a000000, prefix: 16 });
    assert.deepEqual(parseCidr4('0.0.0.0/0'), { base: 0, prefix: 0 });
    assert.deepEqual(parseCidr4('1.2.3.4/32'), { base: 0x01020304, prefix: 32 });
  });

  it('keeps host bits and reports them via isCanonical', () => {
    const c = cidr('10.0.1.0/16');
    assert.equal(c.base, ip('10.0.1.0'));
    assert.equal(isCanonical(c), false);
    assert.deepEqual(canonical(c), { base: ip('10.0.0.0'), prefix: 16 });
    assert.equal(isCanonical(cidr('10.0.0.0/16')), true);
    assert.equal(isCanonical(cidr('10.0.0.1/32')), true);
    assert.equal(isCanonical(cidr('0.0.0.0/0')), true);
    assert.equal(isCanonical(cidr('1.0.0.0/0')), false);
    assert.equal(isCanonical(cidr('255.255.255.240/28')), true);
    assert.equal(isCanonical(cidr('255.255.255.248/28')), false);
  });

  for (const bad of [
    '',
    '10.0.0.0',
    '10.0.0.0/',
    '/16',
    '10.0.0.0/33',
    '10.0.0.0/016',
    '10.0.0.0/-1',
    '10.0.0.0/+16',
    '10.0.0.0/16/16',
    '10.0.0.0/1 6',
    '10.0.0.0 /16',
    '10.0.0/16',
    '10.0.0.256/16',
    '010.0.0.0/16',
    '10.0.0.0/a',
    '10.0.0.0/16.0',
  ]) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseCidr4(bad), undefined));
  }

  it('cidrToString round-trips', () => {
    for (const s of ['10.0.0.0/16', '0.0.0.0/0', '255.255.255.255/32', '10.0.1.0/16', '172.31.240.0/20']) {
      assert.equal(cidrToString(cidr(s)), s);
    }
  });
});

describe('masks, network and broadcast', () => {
  it('prefixMask', () => {
    assert.equal(prefixMask(0), 0);
    assert.equal(prefixMask(1), 0x80000000);
    assert.equal(prefixMask(8), 0xff000000);
    assert.equal(prefixMask(16), 0xffff0000);
    assert.equal(prefixMask(28), 0xfffffff0);
    assert.equal(prefixMask(31), 0xfffffffe);
    assert.equal(prefixMask(32), 0xffffffff);
    for (let p = 0; p <= 32; p++) assert.ok(prefixMask(p) >= 0, `mask /${p} is non-negative`);
  });

  it('network and broadcast', () => {
    assert.equal(formatIpv4(networkAddress(cidr('10.0.1.7/16'))), '10.0.0.0');
    assert.equal(formatIpv4(broadcastAddress(cidr('10.0.0.0/16'))), '10.0.255.255');
    assert.equal(formatIpv4(broadcastAddress(cidr('0.0.0.0/0'))), '255.255.255.255');
    assert.equal(formatIpv4(broadcastAddress(cidr('192.168.0.16/28'))), '192.168.0.31');
    assert.equal(formatIpv4(broadcastAddress(cidr('1.2.3.4/32'))), '1.2.3.4');
    assert.equal(formatIpv4(broadcastAddress(cidr('200.0.0.0/8'))), '200.255.255.255');
  });
});

describe('contains / overlaps / ipInCidr', () => {
  const vpc = cidr('10.0.0.0/16');

  it('contains', () => {
    assert.equal(contains(vpc, vpc), true);
    assert.equal(contains(vpc, cidr('10.0.0.0/24')), true);
    assert.equal(contains(vpc, cidr('10.0.255.240/28')), true);
    assert.equal(contains(vpc, cidr('10.1.0.0/24')), false);
    assert.equal(contains(vpc, cidr('10.0.0.0/15')), false); // wider than outer
    assert.equal(contains(cidr('10.0.0.0/24'), vpc), false);
    assert.equal(contains(cidr('0.0.0.0/0'), cidr('255.255.255.255/32')), true);
    assert.equal(contains(cidr('128.0.0.0/1'), cidr('200.1.2.0/24')), true);
    assert.equal(contains(cidr('128.0.0.0/1'), cidr('100.1.2.0/24')), false);
    // non-canonical operands are treated as their networks
    assert.equal(contains(cidr('10.0.9.9/16'), cidr('10.0.3.0/24')), true);
  });

  it('overlaps is symmetric and matches containment for CIDR blocks', () => {
    const blocks = ['10.0.0.0/16', '10.0.0.0/24', '10.0.1.0/24', '10.0.0.128/25', '10.1.0.0/16', '0.0.0.0/0', '10.0.0.0/8'].map(cidr);
    for (const a of blocks) {
      for (const b of blocks) {
        assert.equal(overlaps(a, b), overlaps(b, a));
        assert.equal(overlaps(a, b), contains(a, b) || contains(b, a));
      }
    }
    assert.equal(overlaps(cidr('10.0.0.0/24'), cidr('10.0.1.0/24')), false);
    assert.equal(overlaps(cidr('10.0.0.0/23'), cidr('10.0.1.0/24')), true);
    assert.equal(overlaps(cidr('192.168.0.0/22'), cidr('192.168.1.0/24')), true);
  });

  it('ipInCidr at the edges', () => {
    assert.equal(ipInCidr(ip('10.0.0.0'), vpc), true);
    assert.equal(ipInCidr(ip('10.0.255.255'), vpc), true);
    assert.equal(ipInCidr(ip('9.255.255.255'), vpc), false);
    assert.equal(ipInCidr(ip('10.1.0.0'), vpc), false);
    assert.equal(ipInCidr(ip('255.255.255.255'), cidr('0.0.0.0/0')), true);
    assert.equal(ipInCidr(ip('1.2.3.4'), cidr('1.2.3.4/32')), true);
    assert.equal(ipInCidr(ip('1.2.3.5'), cidr('1.2.3.4/32')), false);
  });
});

describe('size / usableAddressCount', () => {
  it('sizes', () => {
    assert.equal(size(cidr('10.0.0.0/16')), 65536);
    assert.equal(size(cidr('10.0.0.0/20')), 4096);
    assert.equal(size(cidr('10.0.0.0/24')), 256);
    assert.equal(size(cidr('10.0.0.0/28')), 16);
    assert.equal(size(cidr('1.2.3.4/32')), 1);
    assert.equal(size(cidr('0.0.0.0/0')), 4294967296);
  });

  it('usable = size - 5, never negative', () => {
    assert.equal(usableAddressCount(cidr('10.0.0.0/16')), 65531);
    assert.equal(usableAddressCount(cidr('10.0.0.0/24')), 251);
    assert.equal(usableAddressCount(cidr('10.0.0.0/28')), 11);
    assert.equal(usableAddressCount(cidr('10.0.0.0/29')), 3);
    assert.equal(usableAddressCount(cidr('10.0.0.0/30')), 0);
    assert.equal(usableAddressCount(cidr('10.0.0.0/32')), 0);
  });
});

describe('reserved addresses and allocation', () => {
  const subnet = cidr('10.0.1.0/24');

  it('isReservedInSubnet: first four and the last', () => {
    for (const s of ['10.0.1.0', '10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.255']) {
      assert.equal(isReservedInSubnet(ip(s), subnet), true, s);
    }
    for (const s of ['10.0.1.4', '10.0.1.100', '10.0.1.254']) {
      assert.equal(isReservedInSubnet(ip(s), subnet), false, s);
    }
    // outside the subnet: not "reserved in" it
    assert.equal(isReservedInSubnet(ip('10.0.0.255'), subnet), false);
    assert.equal(isReservedInSubnet(ip('10.0.2.0'), subnet), false);
  });

  it('reserved count matches size - usable for every EC2 prefix', () => {
    for (let p = 16; p <= 28; p++) {
      const c = { base: ip('10.0.0.0'), prefix: p };
      let reserved = 0;
      const net = networkAddress(c);
      // only check edges; the middle is never reserved
      for (const off of [0, 1, 2, 3, 4, size(c) - 2, size(c) - 1]) if (isReservedInSubnet(net + off, c)) reserved++;
      assert.equal(reserved, 5, `/${p}`);
      assert.equal(size(c) - usableAddressCount(c), 5);
    }
  });

  it('allocates the lowest free host address, skipping reserved ones', () => {
    assert.equal(formatIpv4(allocateAddress(subnet, new Set())!), '10.0.1.4');
    assert.equal(formatIpv4(allocateAddress(subnet, new Set([ip('10.0.1.4')]))!), '10.0.1.5');
    assert.equal(formatIpv4(allocateAddress(subnet, new Set([ip('10.0.1.4'), ip('10.0.1.6')]))!), '10.0.1.5');
    // reserved addresses in `used` change nothing
    assert.equal(formatIpv4(allocateAddress(subnet, new Set([ip('10.0.1.0'), ip('10.0.1.3')]))!), '10.0.1.4');
  });

  it('fills a /28 with exactly 11 addresses and never hands out the broadcast', () => {
    const c = cidr('192.168.0.16/28');
    const used = new Set<number>();
    const got: string[] = [];
    for (;;) {
      const a = allocateAddress(c, used);
      if (a === undefined) break;
      assert.equal(isReservedInSubnet(a, c), false);
      assert.equal(ipInCidr(a, c), true);
      used.add(a);
      got.push(formatIpv4(a));
    }
    assert.equal(got.length, usableAddressCount(c));
    assert.equal(got[0], '192.168.0.20');
    assert.equal(got.at(-1), '192.168.0.30');
  });

  it('returns undefined when no host address exists', () => {
    assert.equal(allocateAddress(cidr('10.0.0.0/30'), new Set()), undefined);
    assert.equal(allocateAddress(cidr('10.0.0.0/32'), new Set()), undefined);
    assert.equal(formatIpv4(allocateAddress(cidr('10.0.0.0/29'), new Set())!), '10.0.0.4');
  });

  it('works at the top of the address space', () => {
    const c = cidr('255.255.255.240/28');
    assert.equal(formatIpv4(allocateAddress(c, new Set())!), '255.255.255.244');
    assert.equal(isReservedInSubnet(ip('255.255.255.255'), c), true);
  });

  it('is uint32-consistent with addresses above 2^31', () => {
    const c = cidr('200.0.0.0/24');
    const a = allocateAddress(c, new Set())!;
    assert.equal(a, ip('200.0.0.4'));
    assert.ok(a > 0);
  });
});

describe('validateVpcCidr', () => {
  it('accepts /16../28 in RFC 1918 and public space', () => {
    for (const s of ['10.0.0.0/16', '172.16.0.0/16', '192.168.0.0/16', '10.0.0.0/28', '100.64.0.0/16', '8.8.8.0/24', '172.31.0.0/16']) {
      const r = validateVpcCidr(s);
      assert.equal(r.ok, true, s);
      if (r.ok) assert.equal(cidrToString(r.cidr), s);
    }
  });

  it('malformed → InvalidParameterValue with the EC2 text', () => {
    for (const s of ['abc', '10.0.0.0', '10.0.0.256/16', '1000.1.0.0/20', '10.0.0.0/33', '']) {
      assert.deepEqual(validateVpcCidr(s), {
        ok: false,
        code: 'InvalidParameterValue',
        message: `Value (${s}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`,
      });
    }
  });

  it('host bits set → InvalidParameterValue', () => {
    assert.deepEqual(validateVpcCidr('10.0.1.0/16'), {
      ok: false,
      code: 'InvalidParameterValue',
      message: 'Value (10.0.1.0/16) for parameter cidrBlock is invalid. This is not a valid CIDR block.',
    });
  });

  it('prefix outside /16../28 → InvalidVpc.Range', () => {
    for (const s of ['10.0.0.0/8', '10.0.0.0/15', '10.1.0.0/29', '10.0.0.0/32', '0.0.0.0/0']) {
      assert.deepEqual(validateVpcCidr(s), { ok: false, code: 'InvalidVpc.Range', message: `The CIDR '${s}' is invalid.` });
    }
  });

  it('unusable ranges → InvalidVpc.Range', () => {
    for (const s of ['0.0.0.0/16', '127.0.0.0/16', '169.254.0.0/16', '224.0.0.0/16', '240.0.0.0/24', '255.255.255.0/28']) {
      assert.deepEqual(validateVpcCidr(s), { ok: false, code: 'InvalidVpc.Range', message: `The CIDR '${s}' is invalid.` });
    }
    // neighbours of those ranges are fine
    for (const s of ['1.0.0.0/16', '126.255.0.0/16', '128.0.0.0/16', '169.253.0.0/16', '169.255.0.0/16', '223.255.255.0/24']) {
      assert.equal(validateVpcCidr(s).ok, true, s);
    }
  });
});

describe('validateSubnetCidr', () => {
  const vpc = [cidr('10.0.0.0/16')];

  it('accepts a block inside the VPC with no conflicts', () => {
    const r = validateSubnetCidr('10.0.1.0/24', vpc, [cidr('10.0.0.0/24')]);
    assert.deepEqual(r, { ok: true, cidr: cidr('10.0.1.0/24') });
    assert.equal(validateSubnetCidr('10.0.0.0/16', vpc, []).ok, true); // the whole VPC
    assert.equal(validateSubnetCidr('10.0.255.240/28', vpc, []).ok, true);
  });

  it('malformed or host bits → InvalidParameterValue', () => {
    for (const s of ['nope', '10.0.1.0', '10.0.1.1/24', '10.0.1.0/24 ']) {
      assert.deepEqual(validateSubnetCidr(s, vpc, []), {
        ok: false,
        code: 'InvalidParameterValue',
        message: `Value (${s}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`,
      });
    }
  });

  it('outside the VPC or bad prefix → InvalidSubnet.Range', () => {
    for (const s of ['10.1.0.0/24', '10.0.0.0/15', '10.0.0.0/29', '10.0.0.0/8', '192.168.0.0/24', '9.255.255.240/28']) {
      assert.deepEqual(validateSubnetCidr(s, vpc, []), {
        ok: false,
        code: 'InvalidSubnet.Range',
        message: `The CIDR '${s}' is invalid.`,
      });
    }
  });

  it('may sit in a secondary VPC block, but not straddle two', () => {
    const blocks = [cidr('10.0.0.0/16'), cidr('10.1.0.0/16')];
    assert.equal(validateSubnetCidr('10.1.4.0/22', blocks, []).ok, true);
    assert.deepEqual(validateSubnetCidr('10.0.0.0/15', blocks, []), {
      ok: false,
      code: 'InvalidSubnet.Range',
      message: "The CIDR '10.0.0.0/15' is invalid.",
    });
    assert.equal(validateSubnetCidr('10.0.0.0/24', [], []).ok, false);
  });

  it('overlapping a sibling → InvalidSubnet.Conflict', () => {
    const siblings = [cidr('10.0.0.0/24'), cidr('10.0.4.0/22')];
    for (const s of ['10.0.0.0/24', '10.0.0.0/23', '10.0.0.128/25', '10.0.5.0/24', '10.0.0.0/16']) {
      assert.deepEqual(validateSubnetCidr(s, vpc, siblings), {
        ok: false,
        code: 'InvalidSubnet.Conflict',
        message: `The CIDR '${s}' conflicts with another subnet`,
      });
    }
    for (const s of ['10.0.1.0/24', '10.0.2.0/23', '10.0.8.0/22']) assert.equal(validateSubnetCidr(s, vpc, siblings).ok, true, s);
  });

  it('range is checked before conflict', () => {
    assert.equal((validateSubnetCidr('10.1.0.0/24', vpc, [cidr('10.1.0.0/24')]) as { code: string }).code, 'InvalidSubnet.Range');
  });
});

describe('defaultSubnetCidr', () => {
  it('lays out /20s across 172.31.0.0/16', () => {
    assert.equal(defaultSubnetCidr(0), '172.31.0.0/20');
    assert.equal(defaultSubnetCidr(1), '172.31.16.0/20');
    assert.equal(defaultSubnetCidr(2), '172.31.32.0/20');
    assert.equal(defaultSubnetCidr(5), '172.31.80.0/20');
    assert.equal(defaultSubnetCidr(15), '172.31.240.0/20');
  });

  it('all 16 are valid, disjoint subnets of the default VPC', () => {
    const vpc = validateVpcCidr('172.31.0.0/16');
    assert.ok(vpc.ok);
    const taken: Cidr4[] = [];
    for (let i = 0; i < 16; i++) {
      const r = validateSubnetCidr(defaultSubnetCidr(i), [vpc.cidr], taken);
      assert.ok(r.ok, defaultSubnetCidr(i));
      taken.push(r.cidr);
    }
    assert.equal(taken.reduce((n, c) => n + size(c), 0), size(vpc.cidr));
  });

  it('throws outside 0..15', () => {
    for (const i of [-1, 16, 1.5, Number.NaN]) assert.throws(() => defaultSubnetCidr(i), RangeError);
  });
});

describe('IPv6', () => {
  it('parseIpv6', () => {
    assert.equal(parseIpv6('::'), 0n);
    assert.equal(parseIpv6('::1'), 1n);
    assert.equal(parseIpv6('1::'), 1n << 112n);
    assert.equal(parseIpv6('2001:db8::1'), 0x20010db8_00000000_00000000_00000001n);
    assert.equal(parseIpv6('2001:DB8:0:0:0:0:0:1'), 0x20010db8_00000000_00000000_00000001n);
    assert.equal(parseIpv6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'), (1n << 128n) - 1n);
    assert.equal(parseIpv6('::ffff:192.0.2.1'), 0xffff_c0000201n);
    assert.equal(parseIpv6('0:0:0:0:0:ffff:192.0.2.1'), 0xffff_c0000201n);
    assert.equal(parseIpv6('1:2:3:4:5:6:7::'), 0x0001_0002_0003_0004_0005_0006_0007_0000n);
    assert.equal(parseIpv6('::2:3:4:5:6:7:8'), 0x0000_0002_0003_0004_0005_0006_0007_0008n);
  });

  for (const bad of [
    '',
    ':',
    ':::',
    '1::2::3',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    ':1::',
    '1::2:',
    '12345::',
    'g::',
    '::1.2.3',
    '::256.0.0.0',
    '1.2.3.4::',
    '::1.2.3.4:5',
    'fe80::1%eth0',
    '[::1]',
    '1.2.3.4',
  ]) {
    it(`parseIpv6 rejects ${JSON.stringify(bad)}`, () => assert.equal(parseIpv6(bad), undefined));
  }

  it('formatIpv6 (RFC 5952)', () => {
    assert.equal(formatIpv6(0n), '::');
    assert.equal(formatIpv6(1n), '::1');
    assert.equal(formatIpv6(parseIpv6('2001:0db8:0000:0000:0000:0000:0000:0001')!), '2001:db8::1');
    assert.equal(formatIpv6(parseIpv6('2001:db8:0:1:0:0:0:1')!), '2001:db8:0:1::1');
    assert.equal(formatIpv6(parseIpv6('2001:db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1'); // first of equal runs
    assert.equal(formatIpv6(parseIpv6('2001:db8:0:1:1:1:1:1')!), '2001:db8:0:1:1:1:1:1'); // single 0 not compressed
    assert.equal(formatIpv6(parseIpv6('1::')!), '1::');
    assert.equal(formatIpv6((1n << 128n) - 1n), 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  });

  it('parseCidr6', () => {
    assert.deepEqual(parseCidr6('2600:1f18:abcd:1200::/56'), { address: 0x2600_1f18_abcd_1200n << 64n, prefix: 56 });
    assert.deepEqual(parseCidr6('::/0'), { address: 0n, prefix: 0 });
    assert.deepEqual(parseCidr6('::1/128'), { address: 1n, prefix: 128 });
    for (const bad of ['::', '::/129', '::/056', '::/-1', '::/', '/64', 'x::/64', '::/64/64', '10.0.0.0/16']) {
      assert.equal(parseCidr6(bad), undefined, bad);
    }
  });
});
