/** Network drivers by name; reconcile/runtime.ts says which each runtime takes. */
import { DriverMap } from '../../compute/driver.js';
import type { Fabric } from '../fabric.js';
import type { Firewall } from '../firewall.js';
import { MockFabric } from './mock-fabric.js';
import { MockFirewall } from './mock-firewall.js';
import { NetnsFabric } from './netns-fabric.js';
import { NftFirewall } from './nft-firewall.js';

export const FABRICS = new DriverMap<Fabric>('fabric', [
  ['mock', (c) => new MockFabric({ ipv6Pool: c.ipv6Pool })],
  ['netns', (c) => new NetnsFabric({ publicIpPool: c.publicIpPool, ipv6Pool: c.ipv6Pool, egress: c.egress, prefix: c.hostPrefix })],
]);
export const FIREWALLS = new DriverMap<Firewall>('firewall', [
  ['mock', () => new MockFirewall()],
  ['nft', (c) => new NftFirewall({ prefix: c.hostPrefix })],
]);
