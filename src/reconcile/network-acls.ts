/**
 * A subnet's network ACL, resolved into the Firewall's terms (network/firewall.ts
 * `SubnetAcl`): the `*` entries (32767, 32768) are dropped — the firewall's
 * implicit final deny is them — protocols become names where the firewall has
 * one, port ranges and ICMP type/code become fromPort/toPort and
 * icmpType/icmpCode (-1, "any", becomes undefined).
 *
 * `resolveSubnetAcl` is pure; `aclOfSubnet` (which ACL a subnet is associated
 * with) reads the store through the resources layer.
 */
import type { NetworkAclEntry } from '@aws-sdk/client-ec2';
import { isCatchAll } from '../domain/network-acl-entries.js';
import type { NetworkAclRecord } from '../resources/ec2/records.js';
import type { AclEntry, FirewallProtocol, SubnetAcl } from '../network/firewall.js';

export { aclOfSubnet } from '../resources/ec2/network-acls.js';

const BY_NUMBER: Readonly<Record<string, FirewallProtocol>> = { '-1': 'all', '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6' };

/**
 * The firewall protocol of an entry's stored protocol. ICMP on an IPv6 CIDR and
 * ICMPv6 on an IPv4 CIDR stay numbers (1, 58): EC2 accepts them, they match
 * that protocol number only, and the firewall has no ICMP type/code for them.
 */
function protocolOf(protocol: string, v6: boolean): FirewallProtocol {
  const named = BY_NUMBER[protocol];
  if (named === 'icmp' && v6) return 1;
  if (named === 'icmpv6' && !v6) return 58;
  if (named !== undefined) return named;
  const n = Number(protocol);
  if (protocol.trim() === '' || !Number.isInteger(n)) throw new Error(`network ACL entry with protocol '${protocol}'`);
  return n;
}

function entryOf(e: NetworkAclEntry): AclEntry {
  const cidr = e.CidrBlock ?? e.Ipv6CidrBlock;
  if (cidr === undefined) throw new Error(`network ACL entry ${e.RuleNumber} without a CIDR`);
  const protocol = protocolOf(e.Protocol ?? '-1', e.CidrBlock === undefined);
  const out: AclEntry = {
    ruleNumber: e.RuleNumber!,
    egress: e.Egress === true,
    action: e.RuleAction === 'allow' ? 'allow' : 'deny',
    protocol,
    cidr,
  };
  if ((protocol === 'tcp' || protocol === 'udp') && e.PortRange?.From !== undefined && e.PortRange.To !== undefined) {
    out.fromPort = e.PortRange.From;
    out.toPort = e.PortRange.To;
  }
  if ((protocol === 'icmp' || protocol === 'icmpv6') && e.IcmpTypeCode !== undefined) {
    const { Type, Code } = e.IcmpTypeCode;
    // a code means nothing without a type: type -1 (any) matches every code
    if (Type !== undefined && Type !== -1) {
      out.icmpType = Type;
      if (Code !== undefined && Code !== -1) out.icmpCode = Code;
    }
  }
  return out;
}

/** The ACL `acl` as the firewall installs it for one subnet (its CIDRs, its router namespace). */
export function resolveSubnetAcl(acl: NetworkAclRecord, subnetId: string, subnetCidrs: string[], netns: string | undefined): SubnetAcl {
  const out: SubnetAcl = {
    subnetId,
    aclId: acl.NetworkAclId,
    cidrs: [...subnetCidrs],
    entries: acl.Entries.filter((e) => !isCatchAll(e)).map(entryOf),
  };
  if (netns !== undefined) out.netns = netns;
  return out;
}
