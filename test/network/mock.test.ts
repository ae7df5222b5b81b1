import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { FABRICS, FIREWALLS } from '../../src/network/drivers/index.js';
import { MockFabric } from '../../src/network/drivers/mock-fabric.js';
import { MockFirewall } from '../../src/network/drivers/mock-firewall.js';
import type { FabricEvent } from '../../src/network/fabric.js';
import { FABRIC_IPV6_POOL, runFabricConformance } from './fabric.conformance.js';
import { runFirewallConformance } from './firewall.conformance.js';

runFabricConformance('mock', () => new MockFabric({ ipv6Pool: FABRIC_IPV6_POOL }), {
  skip: {
    'link-recovery': 'the mock keeps its books in memory: a new one starts empty',
    'nat-recovery': 'the mock keeps its books in memory: a new one starts empty',
    'ipv6-recovery': 'the mock keeps its books in memory: a new one starts empty',
  },
});
runFirewallConformance('mock', () => new MockFirewall(), { skip: { restart: 'the mock keeps its books in memory: a new one starts empty' } });

describe('mock network drivers specifics', () => {
  it('are registered as "mock"; an unknown name is a configuration error', () => {
    const config = loadConfig([], {});
    assert.ok(FABRICS.create('mock', config) instanceof MockFabric);
    assert.ok(FIREWALLS.create('mock', config) instanceof MockFirewall);
    assert.throws(() => FABRICS.create('ovs', config), /unknown fabric driver 'ovs' \(known: mock, netns\)/);
  });

  it('a lost interface is reported through events() and forgotten', async () => {
    const f = new MockFabric();
    await f.ensureNetwork({ vpcId: 'vpc-1', cidrBlock: '10.0.0.0/16' });
    await f.plug({ interfaceId: 'eni-1', instanceId: 'i-1', vpcId: 'vpc-1', subnetId: 's', subnetCidr: '10.0.1.0/24', mac: '02:00:00:00:00:01', privateIps: ['10.0.1.5'], deviceIndex: 0 });
    const seen: FabricEvent[] = [];
    const off = f.events((e) => seen.push(e));
    f.lose('eni-1');
    off();
    f.lose('eni-1');
    assert.deepEqual(seen, [{ interfaceId: 'eni-1', instanceId: 'i-1', kind: 'lost' }]);
    assert.deepEqual((await f.list()).interfaces, []);
  });

  it('the mock firewall answers what a rule set admits, with EC2 allow-only semantics and address sets', async () => {
    const fw = new MockFirewall();
    await fw.putAddressSet({ name: 'web', addresses: ['10.0.1.7', '10.0.1.8'] });
    await fw.apply({
      interfaceId: 'eni-1',
      hostIfname: 'oc1',
      addresses: ['10.0.1.5/24'],
      rules: [
        { direction: 'ingress', protocol: 'tcp', cidr: '0.0.0.0/0', fromPort: 22, toPort: 22 },
        { direction: 'ingress', protocol: 'all', addressSet: 'web' },
        { direction: 'ingress', protocol: 'icmp', cidr: '10.0.0.0/16', icmpType: 8 },
        { direction: 'egress', protocol: 'all', cidr: '0.0.0.0/0' },
      ],
    });
    assert.equal(fw.admits('eni-1', { direction: 'ingress', protocol: 'tcp', peer: '203.0.113.1', port: 22 }), true);
    assert.equal(fw.admits('eni-1', { direction: 'ingress', protocol: 'tcp', peer: '203.0.113.1', port: 80 }), false);
    assert.equal(fw.admits('eni-1', { direction: 'ingress', protocol: 'udp', peer: '10.0.1.8', port: 53 }), true);
    assert.equal(fw.admits('eni-1', { direction: 'ingress', protocol: 'icmp', peer: '10.0.9.9', icmpType: 8, icmpCode: 0 }), true);
    assert.equal(fw.admits('eni-1', { direction: 'ingress', protocol: 'icmp', peer: '10.0.9.9', icmpType: 0, icmpCode: 0 }), false);
    assert.equal(fw.admits('eni-1', { direction: 'egress', protocol: 'udp', peer: '8.8.8.8', port: 53 }), true);
    await fw.putAddressSet({ name: 'web', addresses: ['10.0.1.7'] });
    assert.equal(fw.admits('eni-1', { direction: 'ingress', protocol: 'udp', peer: '10.0.1.8', port: 53 }), false, 'a set change takes effect at once');
    assert.equal(fw.admits('eni-2', { direction: 'egress', protocol: 'udp', peer: '8.8.8.8', port: 53 }), false, 'no rule set, nothing passes');
  });
});
