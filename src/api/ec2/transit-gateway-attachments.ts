/**
 * Transit gateway VPC attachments: Create / Describe / Modify / Delete
 * TransitGatewayVpcAttachment(s), Accept / RejectTransitGatewayVpcAttachment,
 * and DescribeTransitGatewayAttachments (every kind of attachment).
 *
 * An attachment takes one subnet per Availability Zone of one VPC, one
 * attachment per VPC and gateway. A new one is `pending` (the reconciler makes
 * it `available`), associated with the gateway's default association route
 * table and propagating into its default propagation route table when the
 * gateway's options say so. Overcast serves one account, so an attachment is
 * never a cross-account one waiting in `pendingAcceptance`: Accept and Reject
 * answer IncorrectState for every VPC attachment (as EC2 does for one that is
 * not pending acceptance).
 */
import type {
  AcceptTransitGatewayVpcAttachmentRequest,
  AcceptTransitGatewayVpcAttachmentResult,
  CreateTransitGatewayVpcAttachmentRequest,
  CreateTransitGatewayVpcAttachmentResult,
  DeleteTransitGatewayVpcAttachmentRequest,
  DeleteTransitGatewayVpcAttachmentResult,
  DescribeTransitGatewayAttachmentsRequest,
  DescribeTransitGatewayAttachmentsResult,
  DescribeTransitGatewayVpcAttachmentsRequest,
  DescribeTransitGatewayVpcAttachmentsResult,
  ModifyTransitGatewayVpcAttachmentRequest,
  ModifyTransitGatewayVpcAttachmentResult,
  RejectTransitGatewayVpcAttachmentRequest,
  RejectTransitGatewayVpcAttachmentResult,
  TransitGatewayAttachment,
  TransitGatewayVpcAttachmentOptions,
} from '@aws-sdk/client-ec2';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { SubnetRecord, TransitGatewayAttachmentRecord } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { tagsByResource } from '../../resources/ec2/tags.js';
import { incorrectState, insertVpcAttachment, requireLive, requireState, tgwAttachments, vpcAttachmentOf } from '../../resources/ec2/transit-gateways.js';
import { attachmentOutput, createTagged, enableDisable, requiredId, visibleRecords, vpcAttachmentOutput, type EnableDisable } from './transit-gateway-view.js';

/** At most this many subnets in one call (one per zone: far more than any region has). */
const MAX_SUBNETS = 100;

/** The subnets, each of the VPC, at most one per zone (with the ones kept). */
function checkSubnets(ctx: RequestContext, vpcId: string, subnetIds: readonly string[], kept: readonly string[] = []): string[] {
  if (subnetIds.length > MAX_SUBNETS) throw new Ec2Error('InvalidParameterValue', `At most ${MAX_SUBNETS} subnets may be given in one call.`);
  const zones = new Map<string, string>();
  for (const id of kept) {
    const s = ctx.store.collection(KINDS.subnet).get(ctx.region, id);
    if (s) zones.set(s.AvailabilityZone, id);
  }
  const out: string[] = [];
  for (const id of new Set(subnetIds)) {
    const s: SubnetRecord = requireResource(ctx, KINDS.subnet, id);
    if (s.VpcId !== vpcId) throw new Ec2Error('InvalidParameterValue', `The subnet ${id} does not belong to the VPC ${vpcId}.`);
    if (zones.has(s.AvailabilityZone)) throw new Ec2Error('DuplicateSubnetsInSameZone', 'Duplicate Subnets for same AZ');
    zones.set(s.AvailabilityZone, id);
    out.push(id);
  }
  return out;
}

type VpcOptionsInput = CreateTransitGatewayVpcAttachmentRequest['Options'];

/** A stored option's value, or the default where there is none. */
const kept = (v: string | undefined, dflt: EnableDisable): EnableDisable => (v === 'enable' || v === 'disable' ? v : dflt);

/** The attachment's options: those given, else those it has (`base`), else EC2's defaults. */
function vpcOptions(o: VpcOptionsInput, base: TransitGatewayVpcAttachmentOptions): TransitGatewayVpcAttachmentOptions {
  const i = o ?? {};
  return {
    DnsSupport: enableDisable('Options.DnsSupport', i.DnsSupport, kept(base.DnsSupport, 'enable')),
    SecurityGroupReferencingSupport: enableDisable('Options.SecurityGroupReferencingSupport', i.SecurityGroupReferencingSupport, kept(base.SecurityGroupReferencingSupport, 'enable')),
    Ipv6Support: enableDisable('Options.Ipv6Support', i.Ipv6Support, kept(base.Ipv6Support, 'disable')),
    ApplianceModeSupport: enableDisable('Options.ApplianceModeSupport', i.ApplianceModeSupport, kept(base.ApplianceModeSupport, 'disable')),
  };
}

const createTransitGatewayVpcAttachment = action((ctx, input: CreateTransitGatewayVpcAttachmentRequest): CreateTransitGatewayVpcAttachmentResult => {
  const tgwId = requiredId('TransitGatewayId', input.TransitGatewayId);
  const vpcId = requiredId('VpcId', input.VpcId);
  const subnetIds = input.SubnetIds ?? [];
  if (subnetIds.length === 0) throw missingParameter('SubnetIds');
  const tgw = requireState(ctx, KINDS.transitGateway, tgwId, ['available', 'modifying']);
  requireResource(ctx, KINDS.vpc, vpcId);
  const subnets = checkSubnets(ctx, vpcId, subnetIds);
  const options = vpcOptions(input.Options, {});
  if (vpcAttachmentOf(ctx, tgwId, vpcId)) throw new Ec2Error('DuplicateTransitGatewayAttachment', `${tgwId} has non-deleted Transit Gateway Attachments with same VPC ID.`);
  const { record, tags } = createTagged(ctx, KINDS.transitGatewayAttachment, input.TagSpecifications, () => insertVpcAttachment(ctx, tgw, vpcId, subnets, options), (a) => a.TransitGatewayAttachmentId);
  return { TransitGatewayVpcAttachment: vpcAttachmentOutput(record, tags) };
});

const VPC_ATTACHMENT_FILTERS = filterTable<TransitGatewayAttachmentRecord>('DescribeTransitGatewayVpcAttachments', {
  state: 'State',
  'transit-gateway-attachment-id': 'TransitGatewayAttachmentId',
  'transit-gateway-id': 'TransitGatewayId',
  'vpc-id': 'ResourceId',
});

/** The VPC attachments named (any other kind of attachment is not found), or all of the region. */
function vpcAttachments(ctx: RequestContext, ids: readonly string[] | undefined): TransitGatewayAttachmentRecord[] {
  const records = visibleRecords(ctx, KINDS.transitGatewayAttachment, ids, (a) => a.TransitGatewayAttachmentId);
  const other = records.find((a) => a.ResourceType !== 'vpc');
  if (other && ids && ids.length > 0) throw KINDS.transitGatewayAttachment.notFound(other.TransitGatewayAttachmentId);
  return records.filter((a) => a.ResourceType === 'vpc');
}

const describeTransitGatewayVpcAttachments = action((ctx, input: DescribeTransitGatewayVpcAttachmentsRequest): DescribeTransitGatewayVpcAttachmentsResult => {
  const records = vpcAttachments(ctx, input.TransitGatewayAttachmentIds);
  const tags = tagsByResource(ctx, KINDS.transitGatewayAttachment.name);
  const filtered = applyFilters(records, input.Filters, VPC_ATTACHMENT_FILTERS, (a) => tags.get(a.TransitGatewayAttachmentId));
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { TransitGatewayVpcAttachments: page.items.map((a) => vpcAttachmentOutput(a, tags.get(a.TransitGatewayAttachmentId))), NextToken: page.nextToken };
});

/** A live VPC attachment by id (another kind of attachment is not found). */
function requireVpcAttachment(ctx: RequestContext, id: string | undefined): TransitGatewayAttachmentRecord {
  const a = requireLive(ctx, KINDS.transitGatewayAttachment, requiredId('TransitGatewayAttachmentId', id));
  if (a.ResourceType !== 'vpc') throw KINDS.transitGatewayAttachment.notFound(a.TransitGatewayAttachmentId);
  return a;
}

const modifyTransitGatewayVpcAttachment = action((ctx, input: ModifyTransitGatewayVpcAttachmentRequest): ModifyTransitGatewayVpcAttachmentResult => {
  const a = requireVpcAttachment(ctx, input.TransitGatewayAttachmentId);
  if (a.State !== 'available') throw incorrectState(a.TransitGatewayAttachmentId, a.State);
  const current = a.vpc?.SubnetIds ?? [];
  const remove = new Set(input.RemoveSubnetIds ?? []);
  for (const id of remove) {
    if (!current.includes(id)) throw new Ec2Error('InvalidParameterValue', `The subnet ${id} is not a subnet of ${a.TransitGatewayAttachmentId}.`);
  }
  const kept = current.filter((s) => !remove.has(s));
  const added = checkSubnets(ctx, a.ResourceId, (input.AddSubnetIds ?? []).filter((s) => !kept.includes(s)), kept);
  const subnets = [...kept, ...added];
  if (subnets.length === 0) throw new Ec2Error('InvalidParameterValue', `${a.TransitGatewayAttachmentId} must keep at least one subnet.`);
  const options = vpcOptions(input.Options, a.vpc?.Options ?? {});
  const next: TransitGatewayAttachmentRecord = { ...a, State: 'modifying', vpc: { SubnetIds: subnets, Options: options } };
  tgwAttachments(ctx).put(ctx.region, a.TransitGatewayAttachmentId, next);
  ctx.notify(KINDS.transitGatewayAttachment.name, a.TransitGatewayAttachmentId);
  return { TransitGatewayVpcAttachment: vpcAttachmentOutput(next, ctx.store.tags.forResource(ctx.region, a.TransitGatewayAttachmentId)) };
});

/** Deletes an attachment that is not being deleted already; returns the record as it is now. */
function startDeletingAttachment(ctx: RequestContext, a: TransitGatewayAttachmentRecord): TransitGatewayAttachmentRecord {
  if (a.State === 'deleting' || a.State === 'rejecting') throw incorrectState(a.TransitGatewayAttachmentId, a.State);
  const next: TransitGatewayAttachmentRecord = { ...a, State: 'deleting' };
  tgwAttachments(ctx).put(ctx.region, a.TransitGatewayAttachmentId, next);
  ctx.notify(KINDS.transitGatewayAttachment.name, a.TransitGatewayAttachmentId);
  return next;
}

const deleteTransitGatewayVpcAttachment = action((ctx, input: DeleteTransitGatewayVpcAttachmentRequest): DeleteTransitGatewayVpcAttachmentResult => {
  const a = requireVpcAttachment(ctx, input.TransitGatewayAttachmentId);
  const next = startDeletingAttachment(ctx, a);
  return { TransitGatewayVpcAttachment: vpcAttachmentOutput(next, ctx.store.tags.forResource(ctx.region, a.TransitGatewayAttachmentId)) };
});

/** Accept and Reject: only an attachment pending acceptance, which a one-account VPC attachment never is. */
function requirePendingAcceptance(ctx: RequestContext, id: string | undefined): TransitGatewayAttachmentRecord {
  const a = requireVpcAttachment(ctx, id);
  if (a.State !== 'pendingAcceptance') throw incorrectState(a.TransitGatewayAttachmentId, a.State);
  return a;
}

/** An attachment pending acceptance moved on (pending when accepted, rejecting when rejected); the call's answer. */
function answerAcceptance(ctx: RequestContext, id: string | undefined, state: 'pending' | 'rejecting') {
  const a = requirePendingAcceptance(ctx, id);
  const next: TransitGatewayAttachmentRecord = { ...a, State: state };
  tgwAttachments(ctx).put(ctx.region, a.TransitGatewayAttachmentId, next);
  ctx.notify(KINDS.transitGatewayAttachment.name, a.TransitGatewayAttachmentId);
  return { TransitGatewayVpcAttachment: vpcAttachmentOutput(next, ctx.store.tags.forResource(ctx.region, a.TransitGatewayAttachmentId)) };
}

const acceptTransitGatewayVpcAttachment = action(
  (ctx, input: AcceptTransitGatewayVpcAttachmentRequest): AcceptTransitGatewayVpcAttachmentResult => answerAcceptance(ctx, input.TransitGatewayAttachmentId, 'pending'),
);

const rejectTransitGatewayVpcAttachment = action(
  (ctx, input: RejectTransitGatewayVpcAttachmentRequest): RejectTransitGatewayVpcAttachmentResult => answerAcceptance(ctx, input.TransitGatewayAttachmentId, 'rejecting'),
);

const ATTACHMENT_FILTERS = filterTable<TransitGatewayAttachment>('DescribeTransitGatewayAttachments', {
  'association.transit-gateway-route-table-id': 'Association.TransitGatewayRouteTableId',
  'association.state': 'Association.State',
  'resource-id': 'ResourceId',
  'resource-owner-id': 'ResourceOwnerId',
  'resource-type': 'ResourceType',
  state: 'State',
  'transit-gateway-attachment-id': 'TransitGatewayAttachmentId',
  'transit-gateway-id': 'TransitGatewayId',
  'transit-gateway-owner-id': 'TransitGatewayOwnerId',
});

const describeTransitGatewayAttachments = action((ctx, input: DescribeTransitGatewayAttachmentsRequest): DescribeTransitGatewayAttachmentsResult => {
  const records = visibleRecords(ctx, KINDS.transitGatewayAttachment, input.TransitGatewayAttachmentIds, (a) => a.TransitGatewayAttachmentId);
  const tags = tagsByResource(ctx, KINDS.transitGatewayAttachment.name);
  const described = records.map((a) => attachmentOutput(a, tags.get(a.TransitGatewayAttachmentId)));
  const filtered = applyFilters(described, input.Filters, ATTACHMENT_FILTERS, (a) => a.Tags);
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { TransitGatewayAttachments: page.items, NextToken: page.nextToken };
});

export const transitGatewayAttachmentsModule: ApiModule = {
  actions: {
    CreateTransitGatewayVpcAttachment: createTransitGatewayVpcAttachment,
    DescribeTransitGatewayVpcAttachments: describeTransitGatewayVpcAttachments,
    ModifyTransitGatewayVpcAttachment: modifyTransitGatewayVpcAttachment,
    DeleteTransitGatewayVpcAttachment: deleteTransitGatewayVpcAttachment,
    AcceptTransitGatewayVpcAttachment: acceptTransitGatewayVpcAttachment,
    RejectTransitGatewayVpcAttachment: rejectTransitGatewayVpcAttachment,
    DescribeTransitGatewayAttachments: describeTransitGatewayAttachments,
  },
};
