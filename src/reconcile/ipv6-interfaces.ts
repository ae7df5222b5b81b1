/**
 * The IPv6 side of the PlugRequests the instances' reconciler builds: an
 * interface's IPv6 addresses (AssignIpv6Addresses, Ipv6AddressCount at launch)
 * in its subnet's associated /64.
 */
import type { Ipv6Addressing, PluggedInterface } from '../network/fabric.js';
import { ipv6AddressesOf } from '../resources/ec2/network-interfaces.js';
import { subnetIpv6Cidr } from '../resources/ec2/subnet-cidrs.js';
import type { NetworkInterfaceRecord, SubnetRecord } from '../resources/ec2/records.js';

/** What the fabric is to plug of the interface's IPv6 side (undefined: IPv4 only). */
export function ipv6Of(eni: NetworkInterfaceRecord, subnet: SubnetRecord | undefined): Ipv6Addressing | undefined {
  const subnetCidr = subnetIpv6Cidr(subnet);
  const addresses = ipv6AddressesOf(eni);
  return subnetCidr === undefined || addresses.length === 0 ? undefined : { subnetCidr, addresses };
}

/**
 * The IPv6 side to readdress a plugged interface to: the wanted one, or — when the
 * interface no longer has IPv6 addresses — none in the /64 it has now.
 */
export function ipv6Readdress(plugged: PluggedInterface, wanted: Ipv6Addressing | undefined): Ipv6Addressing | undefined {
  if (wanted) return wanted;
  return plugged.ipv6 ? { subnetCidr: plugged.ipv6.subnetCidr, addresses: [] } : undefined;
}
