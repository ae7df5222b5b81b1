/**
 * VPC peering: CreateVpcPeeringConnection (PeerVpcId, PeerOwnerId, PeerRegion:
 * another region of this server), AcceptVpcPeeringConnection,
 * RejectVpcPeeringConnection, DeleteVpcPeeringConnection,
 * DescribeVpcPeeringConnections, ModifyVpcPeeringConnectionOptions. The
 * reconciler takes a request initiating-request → pending-acceptance (failed
 * when the peer VPC is missing or their IPv4 blocks overlap), an accepted one
 * provisioning → active, a deleted one deleting → deleted
 * (resources/ec2/vpc-peering.ts). CreateRoute takes VpcPeeringConnectionId
 * (route-targets.ts). An active connection carries what both sides' route
 * tables route to it (reconcile/peering-links.ts: a link on the fabric).
 */
import type {
  AcceptVpcPeeringConnectionRequest,
  AcceptVpcPeeringConnectionResult,
  CreateVpcPeeringConnectionRequest,
  CreateVpcPeeringConnectionResult,
  DeleteVpcPeeringConnectionRequest,
  DeleteVpcPeeringConnectionResult,
  DescribeVpcPeeringConnectionsRequest,
  DescribeVpcPeeringConnectionsResult,
  ModifyVpcPeeringConnectionOptionsRequest,
  ModifyVpcPeeringConnectionOptionsResult,
  PeeringConnectionOptions,
  PeeringConnectionOptionsRequest,
  RejectVpcPeeringConnectionRequest,
  RejectVpcPeeringConnectionResult,
  VpcPeeringConnection,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { newId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { VpcPeeringConnectionRecord } from '../../resources/ec2/records.js';
import { requireResource, requireResources, requireWellFormed } from '../../resources/ec2/registry.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { PEERING_REQUEST_TTL_MS, peerings, savePeering, setStatus, vpcInfoBlocks } from '../../resources/ec2/vpc-peering.js';
import { tagSpecificationTags, tagsField } from './tags.js';

function toOutput(r: VpcPeeringConnectionRecord, tags: Tag[] | undefined): VpcPeeringConnection {
  const { finalAt: _f, ExpirationTime, ...rest } = r;
  return {
    ...rest,
    ...(ExpirationTime !== undefined ? { ExpirationTime: ExpirationTime as unknown as Date } : {}),
    Tags: tagsField(tags),
  } as VpcPeeringConnection;
}

function requirePeering(ctx: RequestContext, id: string | undefined): VpcPeeringConnectionRecord {
  if (id === undefined || id === '') throw missingParameter('VpcPeeringConnectionId');
  return requireResource(ctx, KINDS.vpcPeeringConnection, id);
}

const badTransition = (p: VpcPeeringConnectionRecord, to: string) =>
  new Ec2Error('InvalidStateTransition', `Invalid state transition for pcx ${p.VpcPeeringConnectionId}, attempted to transition from ${p.Status.Code} to ${to}`);

/** Accepting and rejecting happen on the accepter's side (its region). */
function requireAccepterSide(ctx: RequestContext, p: VpcPeeringConnectionRecord, what: string): void {
  if (p.AccepterVpcInfo.Region !== ctx.region) {
    throw new Ec2Error('OperationNotPermitted', `The VPC peering connection ${p.VpcPeeringConnectionId} can only be ${what} in the accepter's region ${p.AccepterVpcInfo.Region}.`);
  }
}

function changed(ctx: RequestContext, p: VpcPeeringConnectionRecord): void {
  savePeering(ctx, p);
  ctx.notify(KINDS.vpcPeeringConnection.name, p.VpcPeeringConnectionId);
}

const createVpcPeeringConnection = action((ctx, input: CreateVpcPeeringConnectionRequest): CreateVpcPeeringConnectionResult => {
  if (input.VpcId === undefined || input.VpcId === '') throw missingParameter('VpcId');
  if (input.PeerVpcId === undefined || input.PeerVpcId === '') throw missingParameter('PeerVpcId');
  const peerRegion = input.PeerRegion ?? ctx.region;
  if (!ctx.config.regions.includes(peerRegion)) {
    throw new Ec2Error('InvalidParameterValue', `Value (${peerRegion}) for parameter peerRegion is invalid: the region is not served here.`);
  }
  const peerOwner = input.PeerOwnerId ?? ctx.accountId;
  if (!/^[0-9]{12}$/.test(peerOwner)) throw new Ec2Error('InvalidParameterValue', `Value (${peerOwner}) for parameter peerOwnerId is invalid.`);
  const vpc = requireResource(ctx, KINDS.vpc, input.VpcId);
  requireWellFormed(KINDS.vpc, input.PeerVpcId);
  // the peer VPC of the same account and region is checked at once; another region's or account's by the reconciler
  if (peerRegion === ctx.region && peerOwner === ctx.accountId) {
    requireResource(ctx, KINDS.vpc, input.PeerVpcId);
    if (input.PeerVpcId === vpc.VpcId) throw new Ec2Error('InvalidParameterValue', 'A VPC cannot be peered with itself.');
  }
  const name = KINDS.vpcPeeringConnection.name;
  const tags = tagSpecificationTags(input.TagSpecifications, [name]).get(name) ?? [];
  const record: VpcPeeringConnectionRecord = {
    VpcPeeringConnectionId: newId(KINDS.vpcPeeringConnection.prefix),
    RequesterVpcInfo: { ...vpcInfoBlocks(vpc), OwnerId: ctx.accountId, VpcId: vpc.VpcId, Region: ctx.region },
    AccepterVpcInfo: { OwnerId: peerOwner, VpcId: input.PeerVpcId, Region: peerRegion },
    Status: { Code: 'initiating-request', Message: `Initiating Request to ${peerOwner}` },
    ExpirationTime: new Date(ctx.now.getTime() + PEERING_REQUEST_TTL_MS).toISOString(),
  };
  changed(ctx, record);
  putTags(ctx, record.VpcPeeringConnectionId, name, tags);
  return { VpcPeeringConnection: toOutput(record, tags) };
});

const acceptVpcPeeringConnection = action((ctx, input: AcceptVpcPeeringConnectionRequest): AcceptVpcPeeringConnectionResult => {
  const p = requirePeering(ctx, input.VpcPeeringConnectionId);
  requireAccepterSide(ctx, p, 'accepted');
  if (p.Status.Code !== 'pending-acceptance') throw badTransition(p, 'provisioning');
  setStatus(p, 'provisioning', 'Provisioning', ctx.now.getTime());
  delete p.ExpirationTime;
  p.RequesterVpcInfo.PeeringOptions = NO_OPTIONS;
  p.AccepterVpcInfo.PeeringOptions = NO_OPTIONS;
  changed(ctx, p);
  return { VpcPeeringConnection: toOutput(p, ctx.store.tags.forResource(ctx.region, p.VpcPeeringConnectionId)) };
});

const rejectVpcPeeringConnection = action((ctx, input: RejectVpcPeeringConnectionRequest): RejectVpcPeeringConnectionResult => {
  const p = requirePeering(ctx, input.VpcPeeringConnectionId);
  requireAccepterSide(ctx, p, 'rejected');
  if (p.Status.Code !== 'pending-acceptance') throw badTransition(p, 'rejected');
  setStatus(p, 'rejected', `Rejected by ${ctx.accountId}`, ctx.now.getTime());
  changed(ctx, p);
  return { Return: true };
});

const deleteVpcPeeringConnection = action((ctx, input: DeleteVpcPeeringConnectionRequest): DeleteVpcPeeringConnectionResult => {
  const p = requirePeering(ctx, input.VpcPeeringConnectionId);
  const code = p.Status.Code;
  if (code !== 'active' && code !== 'pending-acceptance' && code !== 'provisioning' && code !== 'initiating-request') throw badTransition(p, 'deleting');
  setStatus(p, 'deleting', `Deleting by ${ctx.accountId}`, ctx.now.getTime());
  changed(ctx, p);
  return { Return: true };
});

const NO_OPTIONS: PeeringConnectionOptions = {
  AllowDnsResolutionFromRemoteVpc: false,
  AllowEgressFromLocalClassicLinkToRemoteVpc: false,
  AllowEgressFromLocalVpcToRemoteClassicLink: false,
};

function mergeOptions(current: PeeringConnectionOptions | undefined, req: PeeringConnectionOptionsRequest): PeeringConnectionOptions {
  if (req.AllowEgressFromLocalClassicLinkToRemoteVpc === true || req.AllowEgressFromLocalVpcToRemoteClassicLink === true) {
    throw new Ec2Error('UnsupportedOperation', 'EC2-Classic and ClassicLink are retired: the ClassicLink peering options cannot be enabled.');
  }
  return { ...NO_OPTIONS, ...current, ...(req.AllowDnsResolutionFromRemoteVpc !== undefined ? { AllowDnsResolutionFromRemoteVpc: req.AllowDnsResolutionFromRemoteVpc } : {}) };
}

const modifyVpcPeeringConnectionOptions = action(
  (ctx, input: ModifyVpcPeeringConnectionOptionsRequest): ModifyVpcPeeringConnectionOptionsResult => {
    const p = requirePeering(ctx, input.VpcPeeringConnectionId);
    const req = input.RequesterPeeringConnectionOptions;
    const acc = input.AccepterPeeringConnectionOptions;
    if (req === undefined && acc === undefined) throw missingParameter('RequesterPeeringConnectionOptions or AccepterPeeringConnectionOptions');
    if (p.Status.Code !== 'active') {
      throw new Ec2Error('OperationNotPermitted', `Peering connection ${p.VpcPeeringConnectionId} is not active (it is ${p.Status.Code}).`);
    }
    const sideRegion = (side: 'requester' | 'accepter') => (side === 'requester' ? p.RequesterVpcInfo.Region : p.AccepterVpcInfo.Region);
    for (const [side, given] of [['requester', req], ['accepter', acc]] as const) {
      if (given !== undefined && sideRegion(side) !== ctx.region) {
        throw new Ec2Error('OperationNotPermitted', `The ${side} options of ${p.VpcPeeringConnectionId} can only be modified in the ${side}'s region ${sideRegion(side)}.`);
      }
    }
    const out: ModifyVpcPeeringConnectionOptionsResult = {};
    if (req !== undefined) out.RequesterPeeringConnectionOptions = p.RequesterVpcInfo.PeeringOptions = mergeOptions(p.RequesterVpcInfo.PeeringOptions, req);
    if (acc !== undefined) out.AccepterPeeringConnectionOptions = p.AccepterVpcInfo.PeeringOptions = mergeOptions(p.AccepterVpcInfo.PeeringOptions, acc);
    savePeering(ctx, p);
    return out;
  },
);

const PEERING_FILTERS = filterTable<VpcPeeringConnectionRecord>('DescribeVpcPeeringConnections', {
  'accepter-vpc-info.cidr-block': 'AccepterVpcInfo.CidrBlock',
  'accepter-vpc-info.owner-id': 'AccepterVpcInfo.OwnerId',
  'accepter-vpc-info.vpc-id': 'AccepterVpcInfo.VpcId',
  'expiration-time': 'ExpirationTime',
  'requester-vpc-info.cidr-block': 'RequesterVpcInfo.CidrBlock',
  'requester-vpc-info.owner-id': 'RequesterVpcInfo.OwnerId',
  'requester-vpc-info.vpc-id': 'RequesterVpcInfo.VpcId',
  'status-code': 'Status.Code',
  'status-message': 'Status.Message',
  'vpc-peering-connection-id': 'VpcPeeringConnectionId',
});

const describeVpcPeeringConnections = action(
  (ctx, input: DescribeVpcPeeringConnectionsRequest): DescribeVpcPeeringConnectionsResult => {
    const ids = input.VpcPeeringConnectionIds ?? [];
    const records = ids.length > 0 ? requireResources(ctx, KINDS.vpcPeeringConnection, ids) : peerings(ctx).list(ctx.region);
    const tags = tagsByResource(ctx, KINDS.vpcPeeringConnection.name);
    const filtered = applyFilters(records, input.Filters, PEERING_FILTERS, (p) => tags.get(p.VpcPeeringConnectionId));
    const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return { VpcPeeringConnections: page.items.map((p) => toOutput(p, tags.get(p.VpcPeeringConnectionId))), NextToken: page.nextToken };
  },
);

export const vpcPeeringConnectionsModule: ApiModule = {
  actions: {
    CreateVpcPeeringConnection: createVpcPeeringConnection,
    AcceptVpcPeeringConnection: acceptVpcPeeringConnection,
    RejectVpcPeeringConnection: rejectVpcPeeringConnection,
    DeleteVpcPeeringConnection: deleteVpcPeeringConnection,
    DescribeVpcPeeringConnections: describeVpcPeeringConnections,
    ModifyVpcPeeringConnectionOptions: modifyVpcPeeringConnectionOptions,
  },
};
