/**
 * Elastic IP addresses: AllocateAddress, AssociateAddress, DisassociateAddress,
 * ReleaseAddress, DescribeAddresses, and the reverse-DNS attribute calls
 * (DescribeAddressesAttribute, ModifyAddressAttribute, ResetAddressAttribute).
 *
 * An Elastic IP is an `AddressRecord` (collection 'elastic-ip'). Its association
 * lives on the network interface it is mapped to (`NetworkInterfaceRecord.association`
 * with allocationId and associationId); the address record mirrors it. The ENI is
 * the source of truth: an address whose interface no longer carries it is shown
 * (and treated) as unassociated.
 *
 * EC2-Classic is retired, so every address is a VPC address: as in EC2, the
 * deprecated PublicIp parameter cannot stand in for AllocationId / AssociationId
 * on Associate, Disassociate and Release.
 */
import type {
  Address,
  AddressAttribute,
  AllocateAddressRequest,
  AllocateAddressResult,
  AssociateAddressRequest,
  AssociateAddressResult,
  DescribeAddressesAttributeRequest,
  DescribeAddressesAttributeResult,
  DescribeAddressesRequest,
  DescribeAddressesResult,
  DisassociateAddressRequest,
  ModifyAddressAttributeRequest,
  ModifyAddressAttributeResult,
  ReleaseAddressRequest,
  ResetAddressAttributeRequest,
  ResetAddressAttributeResult,
} from '@aws-sdk/client-ec2';
import { formatIpv4, ipInCidr, parseCidr4, parseIpv4, size } from '../../domain/cidr.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { isWellFormedId, newId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { eniCollection, instanceCollection, interfacesOf } from '../../resources/ec2/instances.js';
import { allocatePublicIp, isPublicIpInUse, publicDnsName } from '../../resources/ec2/public-ips.js';
import type { AddressRecord, NetworkInterfaceRecord } from '../../resources/ec2/records.js';
import { requireResource, requireResources, requireWellFormed } from '../../resources/ec2/registry.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { attachedGatewayOf } from '../../resources/ec2/internet-gateways.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { ACCOUNT_LIMITS } from '../../domain/account-limits.js';
import { elasticIpOn, removeElasticIp, secondaryElasticIps } from '../../resources/ec2/interface-addresses.js';

const POOL = 'amazon';


const addresses = (ctx: RequestContext) => ctx.store.collection(KINDS.elasticIp);

// ------------------------------------------------------------ helpers

function requireAllocationId(id: string | undefined): string {
  if (id === undefined || id === '') throw missingParameter('AllocationId');
  return id;
}

function requireIpv4(value: string, parameter: string): number {
  const n = parseIpv4(value);
  if (n === undefined) throw new Ec2Error('InvalidParameterValue', `Value (${value}) for parameter ${parameter} is invalid. Not a valid IPv4 address.`);
  return n;
}

const addressNotFound = (ip: string) => new Ec2Error('InvalidAddress.NotFound', `Address '${ip}' not found.`);

function findByPublicIp(ctx: RequestContext, ip: string): AddressRecord | undefined {
  return addresses(ctx)
    .list(ctx.region)
    .find((a) => a.PublicIp === ip);
}

/**
 * For the deprecated PublicIp parameter of Associate / Disassociate / Release:
 * both it and the id → InvalidParameterCombination; only it → EC2's VPC answer
 * (`vpcMessage`) when the address is ours, InvalidAddress.NotFound otherwise.
 */
function rejectPublicIpOnly(
  ctx: RequestContext,
  publicIp: string | undefined,
  id: string | undefined,
  idName: string,
  vpcMessage: string,
): void {
  if (publicIp === undefined || publicIp === '') return;
  if (id !== undefined && id !== '') {
    throw invalidParameterCombination(`You may specify public IP or ${idName}, but not both in the same call`);
  }
  requireIpv4(publicIp, 'PublicIp');
  if (!findByPublicIp(ctx, publicIp)) throw addressNotFound(publicIp);
  throw new Ec2Error('InvalidParameterValue', vpcMessage);
}

/** The interface an address is mapped to, if the interface still carries it. */
function mappedInterface(ctx: RequestContext, addr: AddressRecord): NetworkInterfaceRecord | undefined {
  if (addr.NetworkInterfaceId === undefined) return undefined;
  const eni = eniCollection(ctx).get(ctx.region, addr.NetworkInterfaceId);
  return eni && elasticIpOn(eni, addr.AllocationId) ? eni : undefined;
}

/** An interface a service manages (a NAT gateway's) keeps its Elastic IP until the service lets go of it. */
function refuseManaged(eni: NetworkInterfaceRecord): void {
  if (eni.RequesterManaged === true) {
    throw new Ec2Error('OperationNotPermitted', `The network interface ${eni.NetworkInterfaceId} is managed by AWS (${eni.Description ?? ''}): its Elastic IP address cannot be changed.`);
  }
}

function clearAssociation(addr: AddressRecord): void {
  delete addr.AssociationId;
  delete addr.InstanceId;
  delete addr.NetworkInterfaceId;
  delete addr.NetworkInterfaceOwnerId;
  delete addr.PrivateIpAddress;
}

/**
 * After an Elastic IP leaves an interface: EC2 gives eth0 a new auto-assigned
 * public IPv4 when the instance has public IPv4 addressing (default subnet,
 * MapPublicIpOnLaunch, or AssociatePublicIpAddress at launch), is running or
 * pending, and has no second interface attached. A stopped instance gets one
 * when it starts.
 */
function restoreAutoPublicIp(ctx: RequestContext, eni: NetworkInterfaceRecord): void {
  if (eni.association || eni.attachment?.DeviceIndex !== 0) return;
  const inst = instanceCollection(ctx).get(ctx.region, eni.attachment.InstanceId);
  if (!inst || inst.publicIpOnStart !== true) return;
  if (inst.State.Name !== 'running' && inst.State.Name !== 'pending') return;
  if (interfacesOf(ctx, inst).filter((e) => e.attachment?.InstanceId === inst.InstanceId).length !== 1) return;
  eni.association = { PublicIp: allocatePublicIp(ctx) };
}

function toOutput(addr: AddressRecord, eni: NetworkInterfaceRecord | undefined, tags: Tag[] | undefined): Address {
  const out: Address = {
    AllocationId: addr.AllocationId,
    PublicIp: addr.PublicIp,
    Domain: addr.Domain,
    PublicIpv4Pool: addr.PublicIpv4Pool ?? POOL,
    NetworkBorderGroup: addr.NetworkBorderGroup,
    Tags: tagsField(tags),
  };
  const on = eni ? elasticIpOn(eni, addr.AllocationId) : undefined;
  if (eni && on) {
    out.AssociationId = on.associationId ?? addr.AssociationId;
    out.NetworkInterfaceId = eni.NetworkInterfaceId;
    out.NetworkInterfaceOwnerId = addr.NetworkInterfaceOwnerId ?? eni.OwnerId;
    out.PrivateIpAddress = on.privateIp;
    const instanceId = eni.attachment?.InstanceId;
    if (instanceId !== undefined) out.InstanceId = instanceId;
  }
  return out;
}

// ------------------------------------------------------------ AllocateAddress

/** A specific address asked for: it must be a free, usable address of the pool. */
function claimSpecificAddress(ctx: RequestContext, ip: string): string {
  const n = requireIpv4(ip, 'Address');
  const pool = parseCidr4(ctx.config.publicIpPool);
  if (!pool || !ipInCidr(n, pool)) throw addressNotFound(ip);
  const count = size(pool);
  if (count > 2 && (n === pool.base >>> 0 || n === (pool.base + count - 1) >>> 0)) throw addressNotFound(ip);
  const text = formatIpv4(n);
  if (findByPublicIp(ctx, text)) {
    throw new Ec2Error('InvalidParameterValue', `The address '${text}' is already allocated to your account.`);
  }
  // the pool is one address space: held by an interface or an Elastic IP in any region means taken
  if (isPublicIpInUse(ctx, text)) throw addressNotFound(ip);
  return text;
}

const allocateAddress = action((ctx, input: AllocateAddressRequest): AllocateAddressResult => {
  const domain = input.Domain ?? 'vpc';
  if (domain === 'standard') {
    throw new Ec2Error(
      'InvalidParameterValue',
      "EC2-Classic has been retired: Elastic IP addresses can only be allocated for use in a VPC (Domain 'vpc').",
    );
  }
  if (domain !== 'vpc') throw new Ec2Error('InvalidParameterValue', `Value (${String(domain)}) for parameter domain is invalid.`);
  if (input.PublicIpv4Pool !== undefined && input.PublicIpv4Pool !== POOL) {
    throw new Ec2Error('InvalidPublicIpv4PoolID.NotFound', `The pool ID '${input.PublicIpv4Pool}' does not exist`);
  }
  if (input.CustomerOwnedIpv4Pool !== undefined) {
    throw new Ec2Error('InvalidParameterValue', 'Customer-owned IPv4 pools are not supported in this region.');
  }
  if (input.IpamPoolId !== undefined) {
    throw new Ec2Error('InvalidParameterValue', `The IPAM pool '${input.IpamPoolId}' does not exist.`);
  }
  if (input.NetworkBorderGroup !== undefined && input.NetworkBorderGroup !== ctx.region) {
    throw new Ec2Error('InvalidParameterValue', `The network border group '${input.NetworkBorderGroup}' is invalid.`);
  }
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.elasticIp.name]).get(KINDS.elasticIp.name) ?? [];
  if (addresses(ctx).list(ctx.region).length >= ACCOUNT_LIMITS.maxElasticIps) {
    throw new Ec2Error('AddressLimitExceeded', 'The maximum number of addresses has been reached.');
  }
  const publicIp = input.Address !== undefined && input.Address !== '' ? claimSpecificAddress(ctx, input.Address) : allocatePublicIp(ctx);
  const record: AddressRecord = {
    AllocationId: newId('eipalloc'),
    PublicIp: publicIp,
    Domain: 'vpc',
    PublicIpv4Pool: POOL,
    NetworkBorderGroup: ctx.region,
  };
  addresses(ctx).put(ctx.region, record.AllocationId, record);
  putTags(ctx, record.AllocationId, KINDS.elasticIp.name, tags);
  return {
    PublicIp: record.PublicIp,
    AllocationId: record.AllocationId,
    PublicIpv4Pool: POOL,
    NetworkBorderGroup: record.NetworkBorderGroup,
    Domain: 'vpc',
  };
});

// ------------------------------------------------------------ AssociateAddress

/** The interface an AssociateAddress call targets (all checks, no writes). */
function targetInterface(ctx: RequestContext, input: AssociateAddressRequest): NetworkInterfaceRecord {
  const instanceId = input.InstanceId !== '' ? input.InstanceId : undefined;
  const eniId = input.NetworkInterfaceId !== '' ? input.NetworkInterfaceId : undefined;
  if (instanceId !== undefined && eniId !== undefined) {
    throw invalidParameterCombination('You may specify an instance ID or a network interface ID, but not both in the same call');
  }
  if (instanceId === undefined && eniId === undefined) {
    throw new Ec2Error('MissingParameter', 'Either an instance ID or a network interface ID must be specified');
  }
  if (instanceId !== undefined) {
    const inst = requireResource(ctx, KINDS.instance, instanceId);
    const state = inst.State.Name;
    if (state === 'shutting-down' || state === 'terminated') {
      throw new Ec2Error('IncorrectInstanceState', `The instance '${instanceId}' is not in a valid state for this operation.`);
    }
    const attached = interfacesOf(ctx, inst).filter((e) => e.attachment?.InstanceId === instanceId);
    if (attached.length > 1) {
      throw new Ec2Error(
        'InvalidInstanceID',
        `There are multiple interfaces attached to instance '${instanceId}'. Please specify an interface ID for the operation instead.`,
      );
    }
    const eni = attached[0];
    if (!eni) throw new Ec2Error('IncorrectInstanceState', `The instance '${instanceId}' is not in a valid state for this operation.`);
    return eni;
  }
  const eni = requireResource(ctx, KINDS.networkInterface, eniId!);
  if (eni.attachment) {
    const inst = instanceCollection(ctx).get(ctx.region, eni.attachment.InstanceId);
    if (inst && (inst.State.Name === 'shutting-down' || inst.State.Name === 'terminated')) {
      throw new Ec2Error('IncorrectInstanceState', `The instance '${inst.InstanceId}' is not in a valid state for this operation.`);
    }
  }
  return eni;
}

const associateAddress = action((ctx, input: AssociateAddressRequest): AssociateAddressResult => {
  rejectPublicIpOnly(ctx, input.PublicIp, input.AllocationId, 'allocation id', 'You must specify an allocation id when mapping an address to a VPC instance');
  const addr = requireResource(ctx, KINDS.elasticIp, requireAllocationId(input.AllocationId));
  const target = targetInterface(ctx, input);
  let privateIp = target.PrivateIpAddress;
  if (input.PrivateIpAddress !== undefined && input.PrivateIpAddress !== '') {
    requireIpv4(input.PrivateIpAddress, 'PrivateIpAddress');
    privateIp = input.PrivateIpAddress;
    if (input.PrivateIpAddress !== target.PrivateIpAddress && !(target.PrivateIpAddresses ?? []).some((p) => p.PrivateIpAddress === input.PrivateIpAddress)) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `The private IP address ${input.PrivateIpAddress} is not assigned to network interface ${target.NetworkInterfaceId}.`,
      );
    }
  }
  if (!attachedGatewayOf(ctx, target.VpcId)) {
    throw new Ec2Error('Gateway.NotAttached', `Network ${target.VpcId} is not attached to any internet gateway`);
  }
  const current = mappedInterface(ctx, addr);
  if (current) refuseManaged(current);
  refuseManaged(target);
  const currentOn = current ? elasticIpOn(current, addr.AllocationId) : undefined;
  if (current && current.NetworkInterfaceId === target.NetworkInterfaceId && currentOn?.privateIp === privateIp) {
    // already there: associating again is a no-op
    return { AssociationId: currentOn.associationId ?? addr.AssociationId };
  }
  if (current && input.AllowReassociation !== true) {
    throw new Ec2Error(
      'Resource.AlreadyAssociated',
      `resource ${addr.AllocationId} is already associated with associate-id ${currentOn?.associationId ?? addr.AssociationId}`,
    );
  }

  // --- all checks passed: write
  const enis = eniCollection(ctx);
  const col = addresses(ctx);
  // the record being changed, when the address moves within one interface
  const onTarget = current && current.NetworkInterfaceId === target.NetworkInterfaceId ? target : current;
  if (onTarget) {
    removeElasticIp(onTarget, addr.AllocationId);
    if (onTarget !== target) {
      restoreAutoPublicIp(ctx, onTarget);
      enis.put(ctx.region, onTarget.NetworkInterfaceId, onTarget);
      ctx.notify('network-interface', onTarget.NetworkInterfaceId);
    }
  }
  const associationId = newId('eipassoc');
  if (privateIp !== target.PrivateIpAddress) {
    // a secondary address: another Elastic IP there is disassociated (it stays allocated)
    for (const other of secondaryElasticIps(target, [privateIp])) {
      removeElasticIp(target, other);
      const o = col.get(ctx.region, other);
      if (o) {
        clearAssociation(o);
        col.put(ctx.region, o.AllocationId, o);
      }
    }
    target.secondaryAssociations = [...(target.secondaryAssociations ?? []), { privateIp, PublicIp: addr.PublicIp, allocationId: addr.AllocationId, associationId }];
    return finishAssociate(ctx, addr, target, privateIp, associationId);
  }
  // the target's previous public IP: an auto-assigned one returns to the pool by
  // being overwritten; another Elastic IP stays allocated but is disassociated
  const previous = target.association?.allocationId;
  if (previous !== undefined && previous !== addr.AllocationId) {
    const other = col.get(ctx.region, previous);
    if (other) {
      clearAssociation(other);
      col.put(ctx.region, other.AllocationId, other);
    }
  }
  target.association = { PublicIp: addr.PublicIp, allocationId: addr.AllocationId, associationId };
  return finishAssociate(ctx, addr, target, privateIp, associationId);
});

/** Stores the interface and the address record of a new association. */
function finishAssociate(ctx: RequestContext, addr: AddressRecord, target: NetworkInterfaceRecord, privateIp: string, associationId: string): AssociateAddressResult {
  eniCollection(ctx).put(ctx.region, target.NetworkInterfaceId, target);
  clearAssociation(addr);
  addr.AssociationId = associationId;
  addr.NetworkInterfaceId = target.NetworkInterfaceId;
  addr.NetworkInterfaceOwnerId = target.OwnerId ?? ctx.accountId;
  addr.PrivateIpAddress = privateIp;
  if (target.attachment) addr.InstanceId = target.attachment.InstanceId;
  addresses(ctx).put(ctx.region, addr.AllocationId, addr);
  ctx.notify('network-interface', target.NetworkInterfaceId);
  return { AssociationId: associationId };
}

// ------------------------------------------------------------ DisassociateAddress

const disassociateAddress = action((ctx, input: DisassociateAddressRequest) => {
  rejectPublicIpOnly(
    ctx,
    input.PublicIp,
    input.AssociationId,
    'association id',
    'You must specify an association id when unmapping an address from a VPC instance',
  );
  const associationId = input.AssociationId;
  if (associationId === undefined || associationId === '') throw missingParameter('AssociationId');
  const notFound = new Ec2Error('InvalidAssociationID.NotFound', `The association ID '${associationId}' does not exist`);
  if (!isWellFormedId('eipassoc', associationId)) throw notFound;
  const col = addresses(ctx);
  const addr = col.list(ctx.region).find((a) => a.AssociationId === associationId);
  const eni = addr ? mappedInterface(ctx, addr) : undefined;
  if (!addr || !eni || elasticIpOn(eni, addr.AllocationId)?.associationId !== associationId) throw notFound;
  refuseManaged(eni);
  removeElasticIp(eni, addr.AllocationId);
  restoreAutoPublicIp(ctx, eni);
  eniCollection(ctx).put(ctx.region, eni.NetworkInterfaceId, eni);
  clearAssociation(addr);
  col.put(ctx.region, addr.AllocationId, addr);
  ctx.notify('network-interface', eni.NetworkInterfaceId);
  return {};
});

// ------------------------------------------------------------ ReleaseAddress

const releaseAddress = action((ctx, input: ReleaseAddressRequest) => {
  rejectPublicIpOnly(ctx, input.PublicIp, input.AllocationId, 'allocation id', 'You must specify an allocation id when releasing a VPC elastic IP address');
  const addr = requireResource(ctx, KINDS.elasticIp, requireAllocationId(input.AllocationId));
  if (input.NetworkBorderGroup !== undefined && input.NetworkBorderGroup !== addr.NetworkBorderGroup) {
    throw new Ec2Error('InvalidParameterValue', `The network border group '${input.NetworkBorderGroup}' is invalid for address ${addr.PublicIp}.`);
  }
  if (mappedInterface(ctx, addr)) throw new Ec2Error('InvalidIPAddress.InUse', `Address ${addr.PublicIp} is in use.`);
  addresses(ctx).delete(ctx.region, addr.AllocationId);
  ctx.store.tags.removeAll(ctx.region, addr.AllocationId);
  return {};
});

// ------------------------------------------------------------ DescribeAddresses

const ADDRESS_FILTERS = filterTable<Address>('DescribeAddresses', {
  'allocation-id': 'AllocationId',
  'association-id': 'AssociationId',
  domain: 'Domain',
  'instance-id': 'InstanceId',
  'network-border-group': 'NetworkBorderGroup',
  'network-interface-id': 'NetworkInterfaceId',
  'network-interface-owner-id': 'NetworkInterfaceOwnerId',
  'private-ip-address': 'PrivateIpAddress',
  'public-ip': 'PublicIp',
  'public-ipv4-pool': 'PublicIpv4Pool',
});

const describeAddresses = action((ctx, input: DescribeAddressesRequest): DescribeAddressesResult => {
  const all = addresses(ctx).list(ctx.region);
  const publicIps = input.PublicIps ?? [];
  const allocationIds = input.AllocationIds ?? [];
  for (const ip of publicIps) {
    requireIpv4(ip, 'PublicIp');
    if (!all.some((a) => a.PublicIp === ip)) throw addressNotFound(ip);
  }
  let records = all;
  if (allocationIds.length > 0) requireResources(ctx, KINDS.elasticIp, allocationIds);
  if (publicIps.length > 0 || allocationIds.length > 0) {
    records = all.filter((a) => publicIps.includes(a.PublicIp) || allocationIds.includes(a.AllocationId));
  }
  const enis = new Map(eniCollection(ctx).list(ctx.region).map((e) => [e.NetworkInterfaceId, e]));
  const tags = tagsByResource(ctx, KINDS.elasticIp.name);
  const outputs = records.map((a) => {
    const eni = a.NetworkInterfaceId !== undefined ? enis.get(a.NetworkInterfaceId) : undefined;
    return toOutput(a, eni && elasticIpOn(eni, a.AllocationId) ? eni : undefined, tags.get(a.AllocationId));
  });
  const filtered = applyFilters(
    outputs,
    input.Filters,
    ADDRESS_FILTERS,
    (a) => a.Tags,
  );
  return { Addresses: filtered };
});

// ------------------------------------------------------------ address attributes (reverse DNS)

const DOMAIN_NAME = 'domain-name';

function requireDomainNameAttribute(attribute: string | undefined, required: boolean): void {
  if (attribute === undefined || attribute === '') {
    if (required) throw missingParameter('Attribute');
    return;
  }
  if (attribute !== DOMAIN_NAME) {
    throw new Ec2Error('InvalidParameterValue', `Value (${attribute}) for parameter attribute is invalid. Expecting '${DOMAIN_NAME}'.`);
  }
}

function withDot(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

function attributeOf(ctx: RequestContext, addr: AddressRecord): AddressAttribute {
  return {
    PublicIp: addr.PublicIp,
    AllocationId: addr.AllocationId,
    PtrRecord: addr.ptrRecord ?? withDot(publicDnsName(ctx.region, addr.PublicIp)),
  };
}

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

function validDomainName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) return false;
  const labels = bare.split('.');
  return labels.length >= 2 && labels.every((l) => HOST_LABEL.test(l));
}

const describeAddressesAttribute = action(
  (ctx, input: DescribeAddressesAttributeRequest): DescribeAddressesAttributeResult => {
    requireDomainNameAttribute(input.Attribute, false);
    const ids = input.AllocationIds ?? [];
    const records = ids.length > 0 ? requireResources(ctx, KINDS.elasticIp, ids) : addresses(ctx).list(ctx.region);
    const page = paginate(records, input.MaxResults, input.NextToken, { min: 1, max: 1000 });
    return { Addresses: page.items.map((a) => attributeOf(ctx, a)), NextToken: page.nextToken };
  },
);

const modifyAddressAttribute = action((ctx, input: ModifyAddressAttributeRequest): ModifyAddressAttributeResult => {
  const addr = requireResource(ctx, KINDS.elasticIp, requireAllocationId(input.AllocationId));
  const name = input.DomainName;
  if (name === undefined || name === '') throw missingParameter('DomainName');
  if (!validDomainName(name)) throw new Ec2Error('InvalidParameterValue', `The domain name '${name}' is not valid.`);
  addr.ptrRecord = withDot(name.toLowerCase());
  addresses(ctx).put(ctx.region, addr.AllocationId, addr);
  return { Address: attributeOf(ctx, addr) };
});

const resetAddressAttribute = action((ctx, input: ResetAddressAttributeRequest): ResetAddressAttributeResult => {
  requireWellFormed(KINDS.elasticIp, requireAllocationId(input.AllocationId));
  requireDomainNameAttribute(input.Attribute, true);
  const addr = requireResource(ctx, KINDS.elasticIp, input.AllocationId!);
  delete addr.ptrRecord;
  addresses(ctx).put(ctx.region, addr.AllocationId, addr);
  return { Address: attributeOf(ctx, addr) };
});

export const addressesModule: ApiModule = {
  actions: {
    AllocateAddress: allocateAddress,
    AssociateAddress: associateAddress,
    DisassociateAddress: disassociateAddress,
    ReleaseAddress: releaseAddress,
    DescribeAddresses: describeAddresses,
    DescribeAddressesAttribute: describeAddressesAttribute,
    ModifyAddressAttribute: modifyAddressAttribute,
    ResetAddressAttribute: resetAddressAttribute,
  },
};
