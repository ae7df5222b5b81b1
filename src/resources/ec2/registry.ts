/**
 * Which store collection holds each id prefix, and the error EC2 gives when an id
 * of that prefix is malformed or does not exist. Shared by tags and every
 * resource family, so "does this id exist?" is answered in one place.
 */
import { Ec2Error } from '../../domain/errors.js';
import { idPrefix, isWellFormedId } from '../../domain/ids.js';
import type { ResourceContext } from '../context.js';

interface ResourceKind {
  /** store collection name (= the tag ResourceType) */
  collection: string;
  notFound: (id: string) => Ec2Error;
  malformed: (id: string) => Ec2Error;
}

const nf = (code: string, what: string) => (id: string) => new Ec2Error(code, `The ${what} '${id}' does not exist`);
const mal = (code: string, what: string) => (id: string) => new Ec2Error(code, `Invalid id: "${id}" (expecting "${what}")`);

export const RESOURCE_KINDS: Readonly<Record<string, ResourceKind>> = {
  i: { collection: 'instance', notFound: nf('InvalidInstanceID.NotFound', 'instance ID'), malformed: mal('InvalidInstanceID.Malformed', 'i-...') },
  ami: { collection: 'image', notFound: nf('InvalidAMIID.NotFound', 'image id'), malformed: mal('InvalidAMIID.Malformed', 'ami-...') },
  vol: { collection: 'volume', notFound: nf('InvalidVolume.NotFound', 'volume'), malformed: mal('InvalidVolumeID.Malformed', 'vol-...') },
  snap: { collection: 'snapshot', notFound: nf('InvalidSnapshot.NotFound', 'snapshot'), malformed: mal('InvalidSnapshotID.Malformed', 'snap-...') },
  vpc: { collection: 'vpc', notFound: nf('InvalidVpcID.NotFound', 'vpc ID'), malformed: mal('InvalidVpcID.Malformed', 'vpc-...') },
  subnet: { collection: 'subnet', notFound: nf('InvalidSubnetID.NotFound', 'subnet ID'), malformed: mal('InvalidSubnetID.Malformed', 'subnet-...') },
  sg: { collection: 'security-group', notFound: nf('InvalidGroup.NotFound', 'security group'), malformed: mal('InvalidGroupId.Malformed', 'sg-...') },
  sgr: { collection: 'security-group-rule', notFound: nf('InvalidSecurityGroupRuleId.NotFound', 'security group rule'), malformed: mal('InvalidSecurityGroupRuleId.Malformed', 'sgr-...') },
  igw: { collection: 'internet-gateway', notFound: nf('InvalidInternetGatewayID.NotFound', 'internetGateway ID'), malformed: mal('InvalidInternetGatewayID.Malformed', 'igw-...') },
  rtb: { collection: 'route-table', notFound: nf('InvalidRouteTableID.NotFound', 'routeTable ID'), malformed: mal('InvalidRouteTableID.Malformed', 'rtb-...') },
  eipalloc: { collection: 'elastic-ip', notFound: nf('InvalidAllocationID.NotFound', 'allocation ID'), malformed: mal('InvalidAllocationID.Malformed', 'eipalloc-...') },
  eni: { collection: 'network-interface', notFound: nf('InvalidNetworkInterfaceID.NotFound', 'networkInterface ID'), malformed: mal('InvalidNetworkInterfaceID.Malformed', 'eni-...') },
  key: { collection: 'key-pair', notFound: nf('InvalidKeyPair.NotFound', 'key pair ID'), malformed: mal('InvalidKeyPair.Malformed', 'key-...') },
  acl: { collection: 'network-acl', notFound: nf('InvalidNetworkAclID.NotFound', 'network acl ID'), malformed: mal('InvalidNetworkAclID.Malformed', 'acl-...') },
  dopt: { collection: 'dhcp-options', notFound: nf('InvalidDhcpOptionID.NotFound', 'dhcp option ID'), malformed: mal('InvalidDhcpOptionsID.Malformed', 'dopt-...') },
};

/** Throws the prefix's Malformed error unless `id` is a well-formed id of that prefix. */
export function requireWellFormed(prefix: string, id: string): void {
  const kind = RESOURCE_KINDS[prefix];
  if (!kind) throw new Error(`unknown id prefix ${prefix}`);
  if (!isWellFormedId(prefix, id)) throw kind.malformed(id);
}

/** Loads a resource by id, throwing EC2's Malformed / NotFound errors. */
export function requireResource<T>(ctx: ResourceContext, prefix: string, id: string): T {
  requireWellFormed(prefix, id);
  const kind = RESOURCE_KINDS[prefix]!;
  const found = ctx.store.collection<T>(kind.collection).get(ctx.region, id);
  if (found === undefined) throw kind.notFound(id);
  return found;
}

/**
 * Loads the resources named in an id filter list (e.g. InstanceIds): every id must be
 * well formed and exist; EC2 reports all missing ids of a call in one message.
 */
export function requireResources<T>(ctx: ResourceContext, prefix: string, ids: readonly string[]): T[] {
  const kind = RESOURCE_KINDS[prefix]!;
  for (const id of ids) requireWellFormed(prefix, id);
  const col = ctx.store.collection<T>(kind.collection);
  const out: T[] = [];
  const missing: string[] = [];
  for (const id of new Set(ids)) {
    const v = col.get(ctx.region, id);
    if (v === undefined) missing.push(id);
    else out.push(v);
  }
  if (missing.length === 1) throw kind.notFound(missing[0]!);
  if (missing.length > 1) {
    const err = kind.notFound(missing.join(', '));
    throw new Ec2Error(err.code, err.message.replace(/^The (.*?) '(.*)' does not exist$/, "The $1s '$2' do not exist"));
  }
  return out;
}

/** The kind of an arbitrary id, for calls like CreateTags that take any resource. */
export function kindOfId(id: string): (ResourceKind & { prefix: string }) | undefined {
  const p = idPrefix(id);
  const k = p === undefined ? undefined : RESOURCE_KINDS[p];
  return k && p !== undefined && isWellFormedId(p, id) ? { ...k, prefix: p } : undefined;
}
