/**
 * The nftables rule sets of the netns fabric, as text for one `nft -f -`
 * transaction each. Pure: no I/O.
 *
 * routerRuleset: the `table ip overcast` of a VPC's router namespace —
 *  - 1:1 NAT (what an internet gateway does): prerouting dnat public → private
 *    for what comes from the host or from an address that has a public IP
 *    itself, postrouting snat private → public for traffic leaving via the
 *    uplink or hairpinning back into the VPC (an instance, or a public NAT
 *    gateway, reaching another's public address); an address without a public IP
 *    sends nothing to the pool (EC2's internet gateway drops it), unless a route
 *    takes it to a NAT gateway first;
 *  - metadata (169.254.169.254 tcp 80) and DNS (169.254.169.253 and VPC base + 2,
 *    udp and tcp 53) rewritten to the service address, source unchanged, their
 *    connections marked SERVICE_CT_MARK (the firewall does not filter them);
 *  - forward filter: without egress, only traffic to the VPC's networks, the
 *    public pool and the rewritten services passes, and what the link routes
 *    send out of a link's veth (VPC peering); nothing for a linked network's
 *    blocks goes up the uplink (a reply whose mirror route is missing is
 *    dropped here, not sent to the host); what is routed to a NAT gateway
 *    (its address the next hop) passes.
 *
 * natGatewayRuleset: the `table ip overcast` of a NAT gateway's namespace — what
 * it forwards leaves with its private address as source; nothing from outside
 * reaches the gateway itself.
 * The script replaces the whole table atomically (create-if-missing, delete,
 * create), so each change is one transaction.
 *
 * hostGuardRuleset: egress off — a host forward filter dropping whatever comes
 * from a transit veth and would leave by another interface, so nothing of an
 * instance leaves the machine even on a host that forwards IPv4 (ip_forward=1).
 *
 * hostEgressRuleset: only with egress on — masquerade of the transit traffic
 * leaving the host, and a forward filter admitting it. Never applied in tests.
 */
import { contains, parseCidr4 } from '../../domain/cidr.js';
import { NAT_TABLE, UPLINK } from './fabric-names.js';

/**
 * The conntrack mark on connections to a VPC's own services (metadata, DNS): the firewall
 * lets them pass without security groups or network ACLs, as EC2 does.
 */
export const SERVICE_CT_MARK = 0x4f56;

export interface RouterRules {
  /** the VPC CIDR and any subnet CIDRs outside it */
  networks: string[];
  /** the public IP pool (CIDR) */
  publicPool: string;
  /** host side of the transit veth */
  serviceAddress: string;
  metadataPort: number;
  dnsPort: number;
  /** VPC base + 2 (the Amazon-provided DNS address) */
  vpcDns: string;
  /** public → private, 1:1 */
  mappings: { publicIp: string; privateIp: string }[];
  egress: boolean;
  /** the links (VPC peering) of this router: their veth and the other network's blocks */
  links?: { ifname: string; blocks: string[] }[];
  /** the private addresses of this network's NAT gateways (next hops of their routes) */
  natGateways?: string[];
}

/** The blocks with those inside another one left out (an anonymous nft set refuses overlapping intervals). */
function outermost(blocks: readonly string[]): string[] {
  const parsed = [...new Set(blocks)].map((b) => [b, parseCidr4(b)] as const).filter((x): x is readonly [string, NonNullable<ReturnType<typeof parseCidr4>>] => x[1] !== undefined);
  return parsed.filter(([b, c]) => !parsed.some(([o, d]) => o !== b && contains(d, c) && !(contains(c, d) && o > b))).map(([b]) => b).sort();
}

export const METADATA_ADDRESS = '169.254.169.254';
export const DNS_ADDRESS = '169.254.169.253';

const elements = (xs: readonly string[]): string => (xs.length === 0 ? '' : ` elements = { ${xs.join(', ')} };`);

export function routerRuleset(r: RouterRules): string {
  const sa = r.serviceAddress;
  const sorted = [...r.mappings].sort((a, b) => a.publicIp.localeCompare(b.publicIp));
  const pub2priv = sorted.map((m) => `${m.publicIp} : ${m.privateIp}`);
  const priv2pub = sorted.map((m) => `${m.privateIp} : ${m.publicIp}`);
  const links = [...(r.links ?? [])].sort((a, b) => a.ifname.localeCompare(b.ifname));
  const linked = outermost(links.flatMap((l) => l.blocks));
  const mapped = [...new Set(sorted.map((m) => m.privateIp))];
  const hops = [...new Set(r.natGateways ?? [])].sort();
  const lines = [
    `table ip ${NAT_TABLE} { }`,
    `delete table ip ${NAT_TABLE}`,
    `table ip ${NAT_TABLE} {`,
    `  set nets { type ipv4_addr; flags interval;${elements(r.networks)} }`,
    `  map pub2priv { type ipv4_addr : ipv4_addr;${elements(pub2priv)} }`,
    `  map priv2pub { type ipv4_addr : ipv4_addr;${elements(priv2pub)} }`,
    `  set mapped { type ipv4_addr;${elements(mapped)} }`,
    `  chain prerouting {`,
    `    type nat hook prerouting priority dstnat; policy accept;`,
    `    iifname != "${UPLINK}" ip daddr ${METADATA_ADDRESS} tcp dport 80 ct mark set ${SERVICE_CT_MARK} dnat to ${sa}:${r.metadataPort}`,
    `    iifname != "${UPLINK}" ip daddr { ${DNS_ADDRESS}, ${r.vpcDns} } meta l4proto { tcp, udp } th dport 53 ct mark set ${SERVICE_CT_MARK} dnat to ${sa}:${r.dnsPort}`,
    `    iifname "${UPLINK}" dnat to ip daddr map @pub2priv`,
    `    ip saddr @mapped dnat to ip daddr map @pub2priv`,
    `  }`,
    `  chain postrouting {`,
    `    type nat hook postrouting priority srcnat; policy accept;`,
    `    ip daddr ${sa} accept`,
    `    oifname "${UPLINK}" snat to ip saddr map @priv2pub`,
    `    ct status dnat ip saddr @nets ip daddr @nets snat to ip saddr map @priv2pub`,
    `    ct status dnat ip saddr @nets ip daddr @nets masquerade`,
    ...(r.egress ? [`    oifname "${UPLINK}" ip saddr @nets masquerade`] : []),
    `  }`,
    `  chain forward {`,
    `    type filter hook forward priority filter; policy drop;`,
    ...(linked.length > 0 ? [`    oifname "${UPLINK}" ip daddr { ${linked.join(', ')} } drop`] : []),
    `    ct state established,related accept`,
    `    ct state invalid drop`,
    ...(r.egress ? [] : [`    oifname "${UPLINK}" ip daddr ${r.publicPool} ip saddr != @mapped drop`]),
    ...(hops.length > 0 ? [`    rt ip nexthop { ${hops.join(', ')} } accept`] : []),
    `    ip daddr @nets accept`,
    ...(links.length > 0 ? [`    oifname { ${links.map((l) => `"${l.ifname}"`).join(', ')} } accept`] : []),
    `    ip daddr ${r.publicPool} accept`,
    `    ct status dnat ip daddr ${sa} accept`,
    ...(r.egress ? [`    oifname "${UPLINK}" ip daddr != ${sa} accept`] : []),
    `  }`,
    `}`,
  ];
  return lines.join('\n') + '\n';
}

/** A NAT gateway's own rule set: source NAT to its private address on the way out, nothing in. */
export function natGatewayRuleset(privateIp: string): string {
  return (
    [
      `table ip ${NAT_TABLE} { }`,
      `delete table ip ${NAT_TABLE}`,
      `table ip ${NAT_TABLE} {`,
      `  chain input {`,
      `    type filter hook input priority filter; policy drop;`,
      `    ct state established,related accept`,
      `  }`,
      `  chain forward {`,
      `    type filter hook forward priority filter; policy drop;`,
      `    ct state established,related accept`,
      `    ct state invalid drop`,
      `    iifname "eth0" oifname "eth0" accept`,
      `  }`,
      `  chain postrouting {`,
      `    type nat hook postrouting priority srcnat; policy accept;`,
      `    oifname "eth0" snat to ${privateIp}`,
      `  }`,
      `}`,
    ].join('\n') + '\n'
  );
}

/** The host table that keeps instance traffic on the machine: `<prefix>-guard`. */
export const hostGuardTable = (prefix: string): string => `${prefix}-guard`;

/**
 * The host's own traffic to the public pool goes into the fabric or nowhere: an address of
 * the pool that no instance holds (never mapped, unmapped, moved) is refused at once on the
 * host instead of following the default route off the machine.
 */
function poolStaysHere(prefix: string, publicPool: string): string[] {
  return [
    `  chain output {`,
    `    type filter hook output priority filter; policy accept;`,
    `    ip daddr ${publicPool} oifname != "${prefix}t*" reject`,
    `  }`,
  ];
}

export function hostGuardRuleset(prefix: string, publicPool: string): string {
  const t = hostGuardTable(prefix);
  return (
    [
      `table ip ${t} { }`,
      `delete table ip ${t}`,
      `table ip ${t} {`,
      `  chain forward {`,
      `    type filter hook forward priority filter; policy accept;`,
      `    iifname "${prefix}t*" oifname != "${prefix}t*" drop`,
      `  }`,
      ...poolStaysHere(prefix, publicPool),
      `}`,
    ].join('\n') + '\n'
  );
}

/** The host table for egress: `<prefix>-egress`. */
export const hostEgressTable = (prefix: string): string => `${prefix}-egress`;

/**
 * Egress on: traffic from the transit veths (`<prefix>t*`) to anything but the
 * transit links and the pool is masqueraded as it leaves the host, and
 * forwarded (with its replies). The host must forward IPv4 for it to flow
 * (ip_forward, or forwarding on the transit and outbound interfaces): the
 * operator's choice, not the fabric's.
 */
export function hostEgressRuleset(prefix: string, publicPool: string): string {
  const t = hostEgressTable(prefix);
  return (
    [
      `table ip ${t} { }`,
      `delete table ip ${t}`,
      `table ip ${t} {`,
      `  chain forward {`,
      `    type filter hook forward priority filter; policy accept;`,
      `    iifname "${prefix}t*" oifname "${prefix}t*" drop`,
      `    iifname "${prefix}t*" ip daddr ${publicPool} drop`,
      `    iifname "${prefix}t*" accept`,
      `    oifname "${prefix}t*" ct state established,related accept`,
      `    oifname "${prefix}t*" drop`,
      `  }`,
      ...poolStaysHere(prefix, publicPool),
      `  chain postrouting {`,
      `    type nat hook postrouting priority srcnat; policy accept;`,
      `    iifname "${prefix}t*" oifname != "${prefix}t*" masquerade`,
      `  }`,
      `}`,
    ].join('\n') + '\n'
  );
}

export function deleteTableScript(table: string, family: 'ip' | 'ip6' = 'ip'): string {
  return `table ${family} ${table} { }\ndelete table ${family} ${table}\n`;
}
