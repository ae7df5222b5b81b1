/**
 * Allocating IPv6 addresses reads no interface records: the addresses a
 * subnet's interfaces hold are found through the `ipv6` unique space
 * (kinds.ts), as private IPv4s are, not by reading every interface of the
 * region. The records JSON-parsed (SqliteStore.readStats) by one
 * AssignIpv6Addresses and one CreateNetworkInterface with an IPv6 address are
 * counted with 5 and with 150 interfaces holding IPv6 addresses in the subnet,
 * and must be the same. Never wall-clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Dispatcher } from '../../src/api/dispatcher.js';
import { ec2Modules } from '../../src/api/ec2/index.js';
import { loadConfig } from '../../src/config.js';
import { formatIpv6, parseCidr6 } from '../../src/domain/cidr.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const REGION = 'us-east-1';

interface Eni {
  NetworkInterface: { NetworkInterfaceId: string; Ipv6Addresses: { Ipv6Address: string }[] };
}

function readsWith(interfaces: number): { assign: number; create: number; addresses: string[] } {
  const store = new SqliteStore(':memory:');
  try {
    const config = loadConfig([], { OVERCAST_PUBLIC_IP_POOL: '100.64.0.0/16' });
    const d = new Dispatcher(store, config, ec2Modules);
    const call = <T>(action: string, input: Record<string, unknown>): T => d.invoke(action, REGION, 'r', input) as T;
    const vpc = call<{ Vpc: { VpcId: string } }>('CreateVpc', { CidrBlock: '10.30.0.0/16', AmazonProvidedIpv6CidrBlock: true }).Vpc;
    const described = call<{ Vpcs: { Ipv6CidrBlockAssociationSet: { Ipv6CidrBlock: string }[] }[] }>('DescribeVpcs', { VpcIds: [vpc.VpcId] });
    const v6 = parseCidr6(described.Vpcs[0]!.Ipv6CidrBlockAssociationSet[0]!.Ipv6CidrBlock)!;
    const subnet = call<{ Subnet: { SubnetId: string } }>('CreateSubnet', {
      VpcId: vpc.VpcId,
      CidrBlock: '10.30.0.0/20',
      Ipv6CidrBlock: `${formatIpv6(v6.address)}/64`,
    }).Subnet.SubnetId;
    const create = (): Eni => call<Eni>('CreateNetworkInterface', { SubnetId: subnet, Ipv6AddressCount: 1 });
    for (let i = 0; i < interfaces; i++) create();
    const target = create().NetworkInterface;
    const counted = (fn: () => unknown): number => {
      const before = store.readStats.records;
      fn();
      return store.readStats.records - before;
    };
    let assigned: string[] = [];
    const assign = counted(() => {
      assigned = call<{ AssignedIpv6Addresses: string[] }>('AssignIpv6Addresses', { NetworkInterfaceId: target.NetworkInterfaceId, Ipv6AddressCount: 1 }).AssignedIpv6Addresses;
    });
    const made = counted(create);
    return { assign, create: made, addresses: [...target.Ipv6Addresses.map((a) => a.Ipv6Address), ...assigned] };
  } finally {
    store.close();
  }
}

describe('IPv6 allocation reads the same records whatever the subnet holds', () => {
  it('AssignIpv6Addresses and CreateNetworkInterface with 5 and with 150 interfaces holding IPv6 addresses', () => {
    const small = readsWith(5);
    const large = readsWith(150);
    assert.equal(large.assign, small.assign, `AssignIpv6Addresses read ${small.assign} records with 5 interfaces, ${large.assign} with 150`);
    assert.equal(large.create, small.create, `CreateNetworkInterface read ${small.create} records with 5 interfaces, ${large.create} with 150`);
    // still the lowest free host numbers, past the ones the other interfaces hold
    const host = (a: string) => Number(BigInt(`0x${a.split(':').at(-1) || '0'}`));
    assert.deepEqual(small.addresses.map(host), [4 + 5, 4 + 6]);
    assert.deepEqual(large.addresses.map(host), [4 + 150, 4 + 151]);
  });
});
