/**
 * The one suite every Firewall driver must pass, run by
 * test/network/<driver>.test.ts as runFirewallConformance(name, factory, { skip }).
 * Contract only: atomic replace, idempotent repeats, address sets, and the
 * refusals with their codes. Packet-level checks belong to the driver's own
 * (root-only) tests. A case a driver cannot pass is named in `skip` with the reason.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { FirewallError, ruleKey, type AclEntry, type Firewall, type FirewallRule, type InterfaceRuleSet, type SubnetAcl } from '../../src/network/firewall.js';

export type FirewallCase =
  | 'probe'
  | 'apply'
  | 'apply-idempotent'
  | 'replace'
  | 'remove'
  | 'invalid-rules'
  | 'atomic'
  | 'address-sets'
  | 'host-interface'
  | 'acls'
  | 'invalid-acls'
  | 'counters'
  | 'flows'
  | 'restart';

export interface FirewallConformanceOptions {
  timeoutMs?: number;
  skip?: Partial<Record<FirewallCase, string>>;
  /** the namespace every rule set and ACL names (a driver that filters inside namespaces needs one that exists) */
  netns?: string;
  /** a second driver over the same books, as a restarted server makes it (for 'restart') */
  reopen?: () => Firewall | Promise<Firewall>;
}

async function rejectsWith(p: Promise<unknown>, code: FirewallError['code']): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FirewallError, `expected a FirewallError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** A rule set like the default security group's after resolution, plus SSH from anywhere. */
export function baseRuleSet(interfaceId: string, hostIfname: string, rules?: FirewallRule[]): InterfaceRuleSet {
  return {
    interfaceId,
    hostIfname,
    addresses: ['172.31.0.10/20'],
    rules: rules ?? [
      { direction: 'ingress', protocol: 'tcp', cidr: '0.0.0.0/0', fromPort: 22, toPort: 22 },
      { direction: 'ingress', protocol: 'icmp', cidr: '172.31.0.0/16', icmpType: 8, icmpCode: 0 },
      { direction: 'ingress', protocol: 'icmpv6', cidr: '::/0' },
      { direction: 'ingress', protocol: 47, cidr: '10.0.0.0/8' },
      { direction: 'egress', protocol: 'all', cidr: '0.0.0.0/0' },
      { direction: 'egress', protocol: 'all', cidr: '::/0' },
    ],
  };
}

/** An ACL: SSH in from one network, then deny the rest of it, ephemeral ports out. */
export function testAcl(subnetId: string, netns?: string, entries?: AclEntry[]): SubnetAcl {
  const acl: SubnetAcl = {
    subnetId,
    aclId: `acl-${subnetId.slice(7)}`,
    cidrs: ['172.31.0.0/20'],
    entries: entries ?? [
      { ruleNumber: 100, egress: false, action: 'allow', protocol: 'tcp', cidr: '10.0.0.0/8', fromPort: 22, toPort: 22 },
      { ruleNumber: 200, egress: false, action: 'deny', protocol: 'all', cidr: '10.0.0.0/8' },
      { ruleNumber: 300, egress: false, action: 'allow', protocol: 'icmp', cidr: '0.0.0.0/0', icmpType: 8 },
      { ruleNumber: 100, egress: true, action: 'allow', protocol: 'tcp', cidr: '0.0.0.0/0', fromPort: 1024, toPort: 65535 },
      { ruleNumber: 110, egress: true, action: 'allow', protocol: 'udp', cidr: '::/0', fromPort: 53, toPort: 53 },
    ],
  };
  if (netns !== undefined) acl.netns = netns;
  return acl;
}

export function runFirewallConformance(name: string, factory: () => Firewall | Promise<Firewall>, opts: FirewallConformanceOptions = {}): void {
  const skip = opts.skip ?? {};
  const inNs = <T extends { netns?: string }>(x: T): T => (opts.netns === undefined ? x : { ...x, netns: opts.netns });
  const testRuleSet = (interfaceId: string, hostIfname: string, rules?: FirewallRule[]) => inNs(baseRuleSet(interfaceId, hostIfname, rules));
  const test = (key: FirewallCase, title: string, fn: () => Promise<void>) =>
    it(title, skip[key] !== undefined ? { skip: `${name}: ${skip[key]}` } : {}, fn);

  describe(`Firewall conformance: ${name}`, { timeout: opts.timeoutMs ?? 10_000 }, () => {
    let fw: Firewall;
    const fresh = () => {
      const h = randomBytes(5).toString('hex');
      return { id: `eni-${h}`, host: `oc${h}` };
    };
    before(async () => {
      fw = await factory();
    });
    after(async () => {
      await fw.close();
    });

    test('probe', 'probe says whether this host can run it, with a reason when not', async () => {
      const r = await fw.probe();
      if (!r.ok) assert.ok(r.reason.length > 0);
      else assert.deepEqual(r, { ok: true });
    });

    test('apply', 'apply installs the rule set; get answers it (rules in canonical order); list names it', async () => {
      const { id, host } = fresh();
      const set = testRuleSet(id, host);
      await fw.apply(set);
      const got = await fw.get(id);
      assert.ok(got);
      assert.equal(got.hostIfname, host);
      assert.equal(got.rules.length, set.rules.length);
      for (const r of set.rules) assert.ok(got.rules.some((g) => JSON.stringify(g) === JSON.stringify(r)), JSON.stringify(r));
      assert.ok((await fw.list()).includes(id));
      await fw.remove(id);
    });

    test('apply-idempotent', 'the same set again (in any order, with a duplicate) installs the same', async () => {
      const { id, host } = fresh();
      const set = testRuleSet(id, host);
      await fw.apply(set);
      const first = await fw.get(id);
      await fw.apply({ ...set, rules: [...set.rules].reverse().concat(set.rules[0]!) });
      assert.deepEqual(await fw.get(id), first);
      await fw.remove(id);
    });

    test('replace', 'apply replaces the whole previous set (a rule left out is gone)', async () => {
      const { id, host } = fresh();
      await fw.apply(testRuleSet(id, host));
      const only: FirewallRule[] = [{ direction: 'egress', protocol: 'udp', cidr: '169.254.169.253/32', fromPort: 53, toPort: 53 }];
      await fw.apply(testRuleSet(id, host, only));
      assert.deepEqual((await fw.get(id))!.rules, only);
      await fw.apply(testRuleSet(id, host, []));
      assert.deepEqual((await fw.get(id))!.rules, [], 'an empty set: nothing in, nothing out');
      await fw.remove(id);
    });

    test('remove', 'remove drops it; again, or unknown, is a no-op', async () => {
      const { id, host } = fresh();
      await fw.apply(testRuleSet(id, host));
      await fw.remove(id);
      assert.equal(await fw.get(id), undefined);
      assert.ok(!(await fw.list()).includes(id));
      await fw.remove(id);
      await fw.remove('eni-never');
    });

    test('invalid-rules', 'malformed rules are refused with invalid', async () => {
      const { id, host } = fresh();
      const bad: FirewallRule[] = [
        { direction: 'ingress', protocol: 'tcp', cidr: '10.0.0.0/33' },
        { direction: 'ingress', protocol: 'tcp', cidr: '10.0.0.0/8', fromPort: 80, toPort: 22 },
        { direction: 'ingress', protocol: 'tcp', cidr: '10.0.0.0/8', fromPort: 0, toPort: 70000 },
        { direction: 'ingress', protocol: 'all', cidr: '10.0.0.0/8', fromPort: 1, toPort: 2 },
        { direction: 'ingress', protocol: 'icmp', cidr: '10.0.0.0/8', icmpType: 300 },
        { direction: 'ingress', protocol: 'icmp', cidr: '10.0.0.0/8', fromPort: 1, toPort: 2 },
        { direction: 'ingress', protocol: 'icmpv6', cidr: '10.0.0.0/8' },
        { direction: 'ingress', protocol: 256, cidr: '10.0.0.0/8' },
        { direction: 'ingress', protocol: 'tcp' },
        { direction: 'ingress', protocol: 'tcp', cidr: '10.0.0.0/8', addressSet: 'x' },
      ];
      for (const r of bad) await rejectsWith(fw.apply(testRuleSet(id, host, [r])), 'invalid');
      assert.equal(await fw.get(id), undefined, 'nothing installed');
    });

    test('atomic', 'a refused apply leaves the previous set in place', async () => {
      const { id, host } = fresh();
      await fw.apply(testRuleSet(id, host));
      const before = await fw.get(id);
      await rejectsWith(fw.apply(testRuleSet(id, host, [{ direction: 'ingress', protocol: 'tcp', cidr: '10.0.0.0/8' }, { direction: 'ingress', protocol: 'tcp', cidr: 'x' }])), 'invalid');
      assert.deepEqual(await fw.get(id), before);
      await fw.remove(id);
    });

    test('address-sets', 'rules on address sets: unknown set not-found; a set in use cannot be deleted; put is idempotent', async () => {
      const { id, host } = fresh();
      const name = `members-of-sg-${randomBytes(4).toString('hex')}`;
      const rules: FirewallRule[] = [{ direction: 'ingress', protocol: 'all', addressSet: name }];
      await rejectsWith(fw.apply(testRuleSet(id, host, rules)), 'not-found');
      await fw.putAddressSet({ name, addresses: ['172.31.0.10', '172.31.0.11'] });
      await fw.putAddressSet({ name, addresses: ['172.31.0.10', '172.31.0.11'] });
      await rejectsWith(fw.putAddressSet({ name, addresses: ['not an address'] }), 'invalid');
      await fw.apply(testRuleSet(id, host, rules));
      assert.ok((await fw.addressSets()).includes(name));
      await rejectsWith(fw.deleteAddressSet(name), 'in-use');
      await fw.putAddressSet({ name, addresses: [] });
      await fw.remove(id);
      await fw.deleteAddressSet(name);
      await fw.deleteAddressSet(name);
      assert.ok(!(await fw.addressSets()).includes(name));
    });

    test('host-interface', 'one host interface filters for one interface id only', async () => {
      const a = fresh();
      const b = fresh();
      await fw.apply(testRuleSet(a.id, a.host));
      await rejectsWith(fw.apply(testRuleSet(b.id, a.host)), 'conflict');
      await fw.remove(a.id);
      await fw.apply(testRuleSet(b.id, a.host));
      await fw.remove(b.id);
    });
    test('acls', 'applySubnetAcl installs an ACL (entries by direction, then number); again is a no-op; replace; remove', async () => {
      const subnet = `subnet-${randomBytes(5).toString('hex')}`;
      const acl = testAcl(subnet, opts.netns);
      await fw.applySubnetAcl(acl);
      const got = await fw.getSubnetAcl(subnet);
      assert.ok(got);
      assert.deepEqual(
        got.entries.map((e) => `${e.egress}:${e.ruleNumber}`),
        ['false:100', 'false:200', 'false:300', 'true:100', 'true:110'],
      );
      assert.equal(got.aclId, acl.aclId);
      assert.ok((await fw.subnetAcls()).includes(subnet));
      await fw.applySubnetAcl({ ...acl, entries: [...acl.entries].reverse() });
      assert.deepEqual(await fw.getSubnetAcl(subnet), got);
      const one: AclEntry[] = [{ ruleNumber: 5, egress: true, action: 'deny', protocol: 'all', cidr: '0.0.0.0/0' }];
      await fw.applySubnetAcl(testAcl(subnet, opts.netns, one));
      assert.deepEqual((await fw.getSubnetAcl(subnet))!.entries, one);
      await fw.applySubnetAcl(testAcl(subnet, opts.netns, []));
      assert.deepEqual((await fw.getSubnetAcl(subnet))!.entries, [], 'no entries: the implicit deny only');
      await fw.removeSubnetAcl(subnet);
      assert.equal(await fw.getSubnetAcl(subnet), undefined);
      assert.ok(!(await fw.subnetAcls()).includes(subnet));
      await fw.removeSubnetAcl(subnet);
    });

    test('invalid-acls', 'malformed ACL entries are refused with invalid and change nothing', async () => {
      const subnet = `subnet-${randomBytes(5).toString('hex')}`;
      await fw.applySubnetAcl(testAcl(subnet, opts.netns));
      const before = await fw.getSubnetAcl(subnet);
      const ok: AclEntry = { ruleNumber: 10, egress: false, action: 'allow', protocol: 'tcp', cidr: '10.0.0.0/8', fromPort: 22, toPort: 22 };
      const bad: AclEntry[][] = [
        [{ ...ok, ruleNumber: 0 }],
        [{ ...ok, ruleNumber: 32767 }],
        [ok, { ...ok, action: 'deny' }],
        [{ ...ok, cidr: '10.0.0.0/40' }],
        [{ ...ok, fromPort: 30, toPort: 20 }],
        [{ ...ok, action: 'maybe' as 'allow' }],
        [{ ...ok, protocol: 'icmp', fromPort: undefined, toPort: undefined, icmpType: 256 }],
      ];
      for (const entries of bad) await rejectsWith(fw.applySubnetAcl(testAcl(subnet, opts.netns, entries)), 'invalid');
      assert.deepEqual(await fw.getSubnetAcl(subnet), before);
      await fw.removeSubnetAcl(subnet);
    });

    test('counters', 'counters list every installed rule and ACL entry with packet and byte counts', async () => {
      const { id, host } = fresh();
      const set = testRuleSet(id, host);
      await fw.apply(set);
      const subnet = `subnet-${randomBytes(5).toString('hex')}`;
      await fw.applySubnetAcl(testAcl(subnet, opts.netns));
      const counters = await fw.counters();
      for (const r of set.rules) {
        const c = counters.find((x) => x.owner === id && x.rule === ruleKey(r));
        assert.ok(c, `a counter for ${ruleKey(r)}`);
        assert.ok(Number.isInteger(c.packets) && c.packets >= 0 && Number.isInteger(c.bytes) && c.bytes >= 0);
      }
      await fw.remove(id);
      await fw.removeSubnetAcl(subnet);
      assert.ok(!(await fw.counters()).some((c) => c.owner === id), 'a removed interface has no counters');
    });

    test('flows', 'flows are drained once; capture can be changed and stopped', async () => {
      const { id, host } = fresh();
      await fw.apply(testRuleSet(id, host));
      await fw.captureFlows([id]);
      const first = await fw.drainFlows();
      for (const f of first) assert.equal(f.interfaceId, id);
      await fw.captureFlows([]);
      await fw.drainFlows();
      assert.deepEqual(await fw.drainFlows(), [], 'nothing captured: nothing recorded');
      await fw.remove(id);
    });

    test('restart', 'a new driver over the same host knows what the old one installed', async () => {
      assert.ok(opts.reopen, 'reopen is given');
      const { id, host } = fresh();
      const set = testRuleSet(id, host);
      await fw.apply(set);
      const subnet = `subnet-${randomBytes(5).toString('hex')}`;
      await fw.applySubnetAcl(testAcl(subnet, opts.netns));
      const other = await opts.reopen();
      try {
        assert.deepEqual(await other.get(id), await fw.get(id));
        assert.deepEqual(await other.getSubnetAcl(subnet), await fw.getSubnetAcl(subnet));
        await other.remove(id);
        await other.removeSubnetAcl(subnet);
      } finally {
        await other.close();
      }
      await fw.remove(id);
      await fw.removeSubnetAcl(subnet);
    });
  });
}
