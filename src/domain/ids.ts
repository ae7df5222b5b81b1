/** EC2 resource ids: `<prefix>-<17 hex digits>`; old-style 8-digit ids are accepted as well-formed. */
import { randomBytes } from 'node:crypto';

/** id prefix -> the ResourceType name tags and DescribeTags use */
export const RESOURCE_TYPES: Readonly<Record<string, string>> = {
  i: 'instance',
  r: 'reservation',
  ami: 'image',
  vol: 'volume',
  snap: 'snapshot',
  vpc: 'vpc',
  subnet: 'subnet',
  sg: 'security-group',
  sgr: 'security-group-rule',
  igw: 'internet-gateway',
  rtb: 'route-table',
  rtbassoc: 'route-table-association',
  eipalloc: 'elastic-ip',
  eipassoc: 'elastic-ip-association',
  eni: 'network-interface',
  'eni-attach': 'network-interface-attachment',
  key: 'key-pair',
  acl: 'network-acl',
  dopt: 'dhcp-options',
};

/** A fresh id such as `i-0a1b2c3d4e5f67890`. */
export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

const wellFormed = new Map<string, RegExp>();

/** Whether `id` looks like an id of this prefix (not whether it exists). */
export function isWellFormedId(prefix: string, id: string): boolean {
  let re = wellFormed.get(prefix);
  if (!re) wellFormed.set(prefix, (re = new RegExp(`^${prefix}-(?:[0-9a-f]{8}|[0-9a-f]{17})$`)));
  return re.test(id);
}

/** The prefix of an id (`i`, `vpc`, `eni-attach`…), or undefined. */
export function idPrefix(id: string): string | undefined {
  const m = /^([a-z]+(?:-attach)?)-[0-9a-f]+$/.exec(id);
  return m ? m[1] : undefined;
}

/** The tag ResourceType of an id, or undefined when the id is not a taggable EC2 id. */
export function resourceTypeOf(id: string): string | undefined {
  const p = idPrefix(id);
  return p === undefined ? undefined : RESOURCE_TYPES[p];
}
