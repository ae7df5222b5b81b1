/**
 * The two IPsec tunnels of a Site-to-Site VPN connection as EC2 describes
 * them: inside CIDRs (a /30 of 169.254.0.0/16 that is not reserved),
 * pre-shared keys (8–64 of letters, digits, `.` and `_`, not starting with
 * 0), the optional timers EC2 checks, and the CustomerGatewayConfiguration
 * document EC2 hands out (an XML string inside the response). Pure.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { cidrToString, formatIpv4, isCanonical, parseCidr4 } from './cidr.js';
import { Ec2Error } from './errors.js';
import { quotable } from './text.js';

export const TUNNELS_PER_CONNECTION = 2;

/** The /30s of 169.254.0.0/16 EC2 keeps for itself. */
const RESERVED_INSIDE = ['169.254.0.0/30', '169.254.1.0/30', '169.254.2.0/30', '169.254.3.0/30', '169.254.4.0/30', '169.254.5.0/30', '169.254.169.252/30'];

const LINK_LOCAL = parseCidr4('169.254.0.0/16')!;

/** Refuses an inside CIDR EC2 would refuse; its canonical text. */
export function checkInsideCidr(v: string): string {
  const c = parseCidr4(v);
  if (!c || !isCanonical(c) || c.prefix !== 30 || (c.base & 0xffff0000) >>> 0 !== LINK_LOCAL.base) {
    throw new Ec2Error('InvalidParameterValue', `The tunnel inside CIDR ${quotable(v)} is invalid: it must be a /30 CIDR block from the 169.254.0.0/16 range.`);
  }
  const text = cidrToString(c);
  if (RESERVED_INSIDE.includes(text)) throw new Ec2Error('InvalidParameterValue', `The tunnel inside CIDR ${text} is reserved and cannot be used.`);
  return text;
}

/** A free inside CIDR, not among `taken`. */
export function pickInsideCidr(taken: ReadonlySet<string>): string {
  for (;;) {
    const third = randomInt(0, 256);
    const fourth = randomInt(0, 64) * 4;
    const text = `169.254.${third}.${fourth}/30`;
    if (!taken.has(text) && !RESERVED_INSIDE.includes(text)) return text;
  }
}

const PSK = /^[A-Za-z1-9._][A-Za-z0-9._]{7,63}$/;

/** Refuses a pre-shared key EC2 would refuse. */
export function checkPreSharedKey(v: string): string {
  if (!PSK.test(v)) {
    throw new Ec2Error('InvalidParameterValue', 'The pre-shared key is invalid: it must be 8 to 64 letters, digits, periods and underscores, and cannot start with zero.');
  }
  return v;
}

const PSK_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._';

/** A fresh 32-character pre-shared key. */
export function newPreSharedKey(): string {
  const bytes = randomBytes(32);
  let key = '';
  for (const b of bytes) key += PSK_CHARS[b % PSK_CHARS.length];
  return key.startsWith('0') ? `A${key.slice(1)}` : key;
}

/** An integer tunnel option in EC2's range, or undefined when not given. */
export function checkRange(name: string, v: number | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < min || v > max) throw new Ec2Error('InvalidParameterValue', `The value for ${name} must be an integer between ${min} and ${max}.`);
  return v;
}

/** A tunnel option with a closed set of values, or undefined when not given. */
export function checkChoice(name: string, v: string | undefined, values: readonly string[]): string | undefined {
  if (v === undefined) return undefined;
  if (!values.includes(v)) throw new Ec2Error('InvalidParameterValue', `Value (${quotable(v)}) for parameter ${name} is invalid. Valid values are: ${values.join(', ')}.`);
  return v;
}

/** Two outside addresses of the Amazon side, from the benchmarking range 198.18.0.0/15 (nothing routes there). */
export function amazonOutsideAddresses(): string[] {
  const base = parseCidr4('198.18.0.0/15')!.base;
  const first = base + randomInt(1, 2 ** 17 - 2);
  return [formatIpv4(first), formatIpv4(first + 1)];
}

export interface TunnelDocument {
  outsideAddress: string;
  insideCidr: string;
  preSharedKey: string;
}

export interface ConnectionDocument {
  vpnConnectionId: string;
  customerGatewayId: string;
  /** vgw-… or tgw-… */
  gatewayId: string;
  customerGatewayAddress: string;
  customerAsn: string;
  amazonAsn: number | undefined;
  staticRoutesOnly: boolean;
  tunnels: readonly TunnelDocument[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The addresses of a /30's two hosts: the Amazon side's first, the customer's second. */
function insideHosts(cidr: string): [string, string] {
  const c = parseCidr4(cidr)!;
  return [formatIpv4(c.base + 1), formatIpv4(c.base + 2)];
}

/**
 * The CustomerGatewayConfiguration document: one `ipsec_tunnel` per tunnel
 * with both sides' outside and inside addresses, IKE and IPsec settings, and
 * BGP neighbours unless the connection is static.
 */
export function customerGatewayConfiguration(d: ConnectionDocument): string {
  const tunnels = d.tunnels.map((t) => {
    const [amazonInside, customerInside] = insideHosts(t.insideCidr);
    const bgp = d.staticRoutesOnly
      ? ''
      : `<bgp><asn>${esc(d.customerAsn)}</asn><hold_time>30</hold_time></bgp>`;
    const amazonBgp = d.staticRoutesOnly || d.amazonAsn === undefined ? '' : `<bgp><asn>${d.amazonAsn}</asn><hold_time>30</hold_time></bgp>`;
    return (
      '<ipsec_tunnel>' +
      `<customer_gateway><tunnel_outside_address><ip_address>${esc(d.customerGatewayAddress)}</ip_address></tunnel_outside_address>` +
      `<tunnel_inside_address><ip_address>${customerInside}</ip_address><network_mask>255.255.255.252</network_mask><network_cidr>30</network_cidr></tunnel_inside_address>${bgp}</customer_gateway>` +
      `<vpn_gateway><tunnel_outside_address><ip_address>${t.outsideAddress}</ip_address></tunnel_outside_address>` +
      `<tunnel_inside_address><ip_address>${amazonInside}</ip_address><network_mask>255.255.255.252</network_mask><network_cidr>30</network_cidr></tunnel_inside_address>${amazonBgp}</vpn_gateway>` +
      `<ike><authentication_protocol>sha1</authentication_protocol><encryption_protocol>aes-128-cbc</encryption_protocol><lifetime>28800</lifetime><perfect_forward_secrecy>group2</perfect_forward_secrecy><mode>main</mode><pre_shared_key>${esc(t.preSharedKey)}</pre_shared_key></ike>` +
      '<ipsec><protocol>esp</protocol><authentication_protocol>hmac-sha1-96</authentication_protocol><encryption_protocol>aes-128-cbc</encryption_protocol><lifetime>3600</lifetime><perfect_forward_secrecy>group2</perfect_forward_secrecy><mode>tunnel</mode><clear_df_bit>true</clear_df_bit><fragmentation_before_encryption>true</fragmentation_before_encryption><tcp_mss_adjustment>1379</tcp_mss_adjustment><dead_peer_detection><delay>10</delay><retry>3</retry></dead_peer_detection></ipsec>' +
      '</ipsec_tunnel>'
    );
  });
  return (
    `<?xml version="1.0" encoding="UTF-8"?><vpn_connection id="${esc(d.vpnConnectionId)}">` +
    `<customer_gateway_id>${esc(d.customerGatewayId)}</customer_gateway_id>` +
    `<${d.gatewayId.startsWith('tgw-') ? 'transit_gateway_id' : 'vpn_gateway_id'}>${esc(d.gatewayId)}</${d.gatewayId.startsWith('tgw-') ? 'transit_gateway_id' : 'vpn_gateway_id'}>` +
    `<vpn_connection_type>ipsec.1</vpn_connection_type>${tunnels.join('')}</vpn_connection>`
  );
}
