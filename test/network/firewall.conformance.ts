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
import { FirewallError, type Firewall, type FirewallRule, type InterfaceRuleSet } from '../../src/network/firewall.js';

export type FirewallCase = 'probe' | 'apply' | 'apply-idempotent' | 'replace' | 'remove' | 'invalid-rules' | 'atomic' | 'address-sets' | 'host-interface';

export interface FirewallConformanceOptions {
  timeoutMs?: number;
  skip?: Partial<Record<FirewallCase, string>>;
}

async function rejectsWith(p: Promise<unknown>, code: FirewallError['code']): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FirewallError, `expected a FirewallError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

/** A rule set like the default security group's after resolution, plus SSH from anywhere. */
export function testRuleSet(interfaceId: string, hostIfname: string, rules?: FirewallRule[]): InterfaceRuleSet {
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

export function runFirewallConformance(name: string, factory: () => Firewall | Promise<Firewall>, opts: FirewallConformanceOptions = {}): void {
  const skip = opts.skip ?? {};
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
  });
}
