/**
 * Transit gateway peering attachments: Create / Accept / Reject / Delete
 * TransitGatewayPeeringAttachment and DescribeTransitGatewayPeeringAttachments.
 *
 * The peer is a transit gateway of this account in another region Overcast
 * serves (intra-region peering is not served: InvalidParameterValue). One id names the attachment on both sides:
 * the requester's record goes initiatingRequest → pendingAcceptance, the
 * accepter's is pendingAcceptance; AcceptTransitGatewayPeeringAttachment (on
 * the accepter's side) makes both pending → available and associates each
 * with its gateway's default association route table; Reject makes both
 * rejecting → rejected; Delete (either side) deleting → deleted. Records only.
 */
import type {
  AcceptTransitGatewayPeeringAttachmentRequest,
  AcceptTransitGatewayPeeringAttachmentResult,
  CreateTransitGatewayPeeringAttachmentRequest,
  CreateTransitGatewayPeeringAttachmentResult,
  DeleteTransitGatewayPeeringAttachmentRequest,
  DeleteTransitGatewayPeeringAttachmentResult,
  DescribeTransitGatewayPeeringAttachmentsRequest,
  DescribeTransitGatewayPeeringAttachmentsResult,
  RejectTransitGatewayPeeringAttachmentRequest,
  RejectTransitGatewayPeeringAttachmentResult,
  TransitGatewayPeeringAttachment,
} from '@aws-sdk/client-ec2';
import { Ec2Error } from '../../domain/errors.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { quotable } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { TransitGatewayAttachmentRecord } from '../../resources/ec2/records.js';
import { requireWellFormed } from '../../resources/ec2/registry.js';
import { tagsByResource } from '../../resources/ec2/tags.js';
import { incorrectState, insertPeeringAttachment, isGone, peerRecord, peeringBetween, requireLive, requireState, tgwAttachments, tgwRouteTables, transitGateways } from '../../resources/ec2/transit-gateways.js';
import { tagsField } from './tags.js';
import { asDate, createTagged, enableDisable, requiredId, visibleRecords } from './transit-gateway-view.js';

/** What the peering states show as the attachment's Status. */
const STATUS_MESSAGES: Record<string, string> = {
  initiatingRequest: 'Initiating request',
  pendingAcceptance: 'Pending acceptance',
  pending: 'Pending',
  available: 'Available',
  rejecting: 'Rejecting',
  rejected: 'Rejected',
  deleting: 'Deleting',
  deleted: 'Deleted',
  failed: 'Failed',
};

function peeringOutput(a: TransitGatewayAttachmentRecord, tags: Tag[] | undefined): TransitGatewayPeeringAttachment {
  const p = a.peering!;
  return {
    TransitGatewayAttachmentId: a.TransitGatewayAttachmentId,
    RequesterTgwInfo: p.requester,
    AccepterTgwInfo: p.accepter,
    Options: { DynamicRouting: 'disable' },
    Status: { Code: a.State, Message: STATUS_MESSAGES[a.State] ?? a.State },
    State: a.State,
    CreationTime: asDate(a.CreationTime),
    Tags: tagsField(tags),
  };
}

const createTransitGatewayPeeringAttachment = action((ctx, input: CreateTransitGatewayPeeringAttachmentRequest): CreateTransitGatewayPeeringAttachmentResult => {
  const tgwId = requiredId('TransitGatewayId', input.TransitGatewayId);
  const peerId = requiredId('PeerTransitGatewayId', input.PeerTransitGatewayId);
  const peerAccount = requiredId('PeerAccountId', input.PeerAccountId);
  const peerRegion = requiredId('PeerRegion', input.PeerRegion);
  if (enableDisable('Options.DynamicRouting', input.Options?.DynamicRouting) === 'enable') {
    throw new Ec2Error('InvalidParameterValue', 'DynamicRouting is not supported for transit gateway peering attachments: use static routes.');
  }
  const tgw = requireState(ctx, KINDS.transitGateway, tgwId, ['available', 'modifying']);
  requireWellFormed(KINDS.transitGateway, peerId);
  if (peerAccount !== ctx.accountId) {
    throw new Ec2Error('InvalidParameterValue', `Value (${quotable(peerAccount)}) for parameter PeerAccountId is invalid: Overcast serves one account, ${ctx.accountId}.`);
  }
  if (!ctx.config.regions.includes(peerRegion)) throw new Ec2Error('InvalidParameterValue', `Value (${quotable(peerRegion)}) for parameter PeerRegion is invalid: it is not a region served here.`);
  if (peerRegion === ctx.region) {
    throw new Ec2Error('InvalidParameterValue', `Value (${quotable(peerRegion)}) for parameter PeerRegion is invalid: Overcast peers transit gateways of different regions only.`);
  }
  const peer = transitGateways(ctx).get(peerRegion, peerId);
  if (!peer || isGone(peer)) throw KINDS.transitGateway.notFound(peerId);
  if (peer.State !== 'available' && peer.State !== 'modifying') throw incorrectState(peerId, peer.State);
  if (peeringBetween(ctx, tgwId, peerId)) throw new Ec2Error('DuplicateTransitGatewayAttachment', `${tgwId} has non-deleted Transit Gateway Peering Attachments with ${peerId}.`);
  const { record, tags } = createTagged(ctx, KINDS.transitGatewayAttachment, input.TagSpecifications, () => insertPeeringAttachment(ctx, tgw, peer, peerRegion), (a) => a.TransitGatewayAttachmentId);
  return { TransitGatewayPeeringAttachment: peeringOutput(record, tags) };
});

const PEERING_FILTERS = filterTable<TransitGatewayAttachmentRecord>('DescribeTransitGatewayPeeringAttachments', {
  'transit-gateway-attachment-id': 'TransitGatewayAttachmentId',
  'local-owner-id': 'TransitGatewayOwnerId',
  'remote-owner-id': 'ResourceOwnerId',
  state: 'State',
  'transit-gateway-id': 'TransitGatewayId',
});

const describeTransitGatewayPeeringAttachments = action((ctx, input: DescribeTransitGatewayPeeringAttachmentsRequest): DescribeTransitGatewayPeeringAttachmentsResult => {
  const ids = input.TransitGatewayAttachmentIds;
  const records = visibleRecords(ctx, KINDS.transitGatewayAttachment, ids, (a) => a.TransitGatewayAttachmentId);
  const other = records.find((a) => a.ResourceType !== 'peering');
  if (other && ids && ids.length > 0) throw KINDS.transitGatewayAttachment.notFound(other.TransitGatewayAttachmentId);
  const tags = tagsByResource(ctx, KINDS.transitGatewayAttachment.name);
  const peerings = records.filter((a) => a.ResourceType === 'peering');
  const filtered = applyFilters(peerings, input.Filters, PEERING_FILTERS, (a) => tags.get(a.TransitGatewayAttachmentId));
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { TransitGatewayPeeringAttachments: page.items.map((a) => peeringOutput(a, tags.get(a.TransitGatewayAttachmentId))), NextToken: page.nextToken };
});

/** A live peering attachment of this region by its (required) id. */
function requirePeering(ctx: RequestContext, id: string | undefined): TransitGatewayAttachmentRecord {
  const a = requireLive(ctx, KINDS.transitGatewayAttachment, requiredId('TransitGatewayAttachmentId', id));
  if (a.ResourceType !== 'peering' || !a.peering) throw KINDS.transitGatewayAttachment.notFound(a.TransitGatewayAttachmentId);
  return a;
}

/** The accepter's record, pending acceptance: what Accept and Reject take. */
function requireAcceptable(ctx: RequestContext, id: string | undefined): TransitGatewayAttachmentRecord {
  const a = requirePeering(ctx, id);
  if (a.State !== 'pendingAcceptance') throw incorrectState(a.TransitGatewayAttachmentId, a.State);
  if (a.peering!.side !== 'accepter') {
    throw new Ec2Error('IncorrectState', `${a.TransitGatewayAttachmentId} is accepted or rejected by the accepter's side (${a.peering!.accepter.Region}), not by its requester.`);
  }
  return a;
}

/** The default association of a peering attachment's side, if its gateway asks for one. */
function defaultAssociation(ctx: RequestContext, region: string, a: TransitGatewayAttachmentRecord): TransitGatewayAttachmentRecord['association'] {
  const tgw = transitGateways(ctx).get(region, a.TransitGatewayId);
  const tableId = tgw?.Options.DefaultRouteTableAssociation === 'enable' ? tgw.Options.AssociationDefaultRouteTableId : undefined;
  if (tableId === undefined) return a.association;
  const table = tgwRouteTables(ctx).get(region, tableId);
  return table && !isGone(table) ? { TransitGatewayRouteTableId: tableId, State: 'associating' } : a.association;
}

/** Both sides' records to one state (the peer's, in its region, when it is still there); the local one as now. */
function moveBoth(ctx: RequestContext, a: TransitGatewayAttachmentRecord, state: TransitGatewayAttachmentRecord['State'], associate = false): TransitGatewayAttachmentRecord {
  const col = tgwAttachments(ctx);
  const mine: TransitGatewayAttachmentRecord = { ...a, State: state };
  if (associate) mine.association = defaultAssociation(ctx, ctx.region, a);
  col.put(ctx.region, a.TransitGatewayAttachmentId, mine);
  const peer = peerRecord(ctx, a);
  if (peer && !isGone(peer)) {
    const theirs: TransitGatewayAttachmentRecord = { ...peer, State: state };
    if (associate) theirs.association = defaultAssociation(ctx, a.peering!.peerRegion, peer);
    col.put(a.peering!.peerRegion, a.TransitGatewayAttachmentId, theirs);
  }
  ctx.notify(KINDS.transitGatewayAttachment.name, a.TransitGatewayAttachmentId);
  return mine;
}

const acceptTransitGatewayPeeringAttachment = action((ctx, input: AcceptTransitGatewayPeeringAttachmentRequest): AcceptTransitGatewayPeeringAttachmentResult => {
  const a = requireAcceptable(ctx, input.TransitGatewayAttachmentId);
  const next = moveBoth(ctx, a, 'pending', true);
  return { TransitGatewayPeeringAttachment: peeringOutput(next, ctx.store.tags.forResource(ctx.region, a.TransitGatewayAttachmentId)) };
});

const rejectTransitGatewayPeeringAttachment = action((ctx, input: RejectTransitGatewayPeeringAttachmentRequest): RejectTransitGatewayPeeringAttachmentResult => {
  const a = requireAcceptable(ctx, input.TransitGatewayAttachmentId);
  const next = moveBoth(ctx, a, 'rejecting');
  return { TransitGatewayPeeringAttachment: peeringOutput(next, ctx.store.tags.forResource(ctx.region, a.TransitGatewayAttachmentId)) };
});

const deleteTransitGatewayPeeringAttachment = action((ctx, input: DeleteTransitGatewayPeeringAttachmentRequest): DeleteTransitGatewayPeeringAttachmentResult => {
  const a = requirePeering(ctx, input.TransitGatewayAttachmentId);
  if (a.State === 'deleting' || a.State === 'rejecting' || a.State === 'initiatingRequest') throw incorrectState(a.TransitGatewayAttachmentId, a.State);
  const next = moveBoth(ctx, a, 'deleting');
  return { TransitGatewayPeeringAttachment: peeringOutput(next, ctx.store.tags.forResource(ctx.region, a.TransitGatewayAttachmentId)) };
});

export const transitGatewayPeeringModule: ApiModule = {
  actions: {
    CreateTransitGatewayPeeringAttachment: createTransitGatewayPeeringAttachment,
    DescribeTransitGatewayPeeringAttachments: describeTransitGatewayPeeringAttachments,
    AcceptTransitGatewayPeeringAttachment: acceptTransitGatewayPeeringAttachment,
    RejectTransitGatewayPeeringAttachment: rejectTransitGatewayPeeringAttachment,
    DeleteTransitGatewayPeeringAttachment: deleteTransitGatewayPeeringAttachment,
  },
};
