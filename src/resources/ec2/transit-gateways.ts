/**
 * Transit gateways, their attachments (VPC and peering) and route tables: the
 * records and the rules the API calls and the reconciler share (the default
 * route table, default association and propagation, which records are gone).
 *
 * Records only: Overcast's fabric carries no traffic through a transit
 * gateway. States move through the reconcile loop (reconcile/transit-gateways.ts):
 * pending → available, modifying → available, deleting → deleted; a deleted
 * record stays visible for DELETED_VISIBLE_MS, then the loop purges it.
 */
import type { TransitGatewayOptions, TransitGatewayVpcAttachmentOptions } from '@aws-sdk/client-ec2';
import { Ec2Error } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import type { ResourceContext } from '../context.js';
import { KINDS, type Ec2Kind } from './kinds.js';
import type { TransitGatewayAttachmentRecord, TransitGatewayRecord, TransitGatewayRouteTableRecord } from './records.js';
import { requireResource } from './registry.js';

type Reader = Pick<ResourceContext, 'store' | 'region'>;

/** A deleted (or rejected) transit gateway, attachment or route table stays visible this long. */
export const DELETED_VISIBLE_MS = 3600_000;

export function transitGateways(ctx: Reader) {
  return ctx.store.collection(KINDS.transitGateway);
}

export function tgwAttachments(ctx: Reader) {
  return ctx.store.collection(KINDS.transitGatewayAttachment);
}

export function tgwRouteTables(ctx: Reader) {
  return ctx.store.collection(KINDS.transitGatewayRouteTable);
}

/** Attachment states after which nothing more happens to it. */
const ENDED_ATTACHMENT = new Set(['deleted', 'rejected', 'failed']);

/** Whether the record is gone (deleted, rejected, failed): shown by Describe for a while, refused by everything else. */
export function isGone(r: { State: string }): boolean {
  return r.State === 'deleted' || ENDED_ATTACHMENT.has(r.State);
}

/** Whether a gone record's visibility has run out (it is purged). */
export function isExpired(r: { State: string; deletedAt?: number }, nowMs: number): boolean {
  return isGone(r) && r.deletedAt !== undefined && nowMs - r.deletedAt >= DELETED_VISIBLE_MS;
}

/** Loads a record that is not gone, else the kind's NotFound (a gone one does not exist for anything but Describe). */
export function requireLive<T extends { State: string }>(ctx: ResourceContext, kind: Ec2Kind<T>, id: string): T {
  const r = requireResource(ctx, kind, id);
  if (isGone(r)) throw kind.notFound(id);
  return r;
}

/** `IncorrectState` for a record that is not in a state the call accepts. */
export function incorrectState(id: string, state: string): Ec2Error {
  return new Ec2Error('IncorrectState', `${id} is in invalid state (${state}).`);
}

/** Loads a live record and requires it to be in one of `states`. */
export function requireState<T extends { State: string }>(ctx: ResourceContext, kind: Ec2Kind<T>, id: string, states: readonly string[]): T {
  const r = requireLive(ctx, kind, id);
  if (!states.includes(r.State)) throw incorrectState(id, r.State);
  return r;
}

export function arnOf(ctx: ResourceContext, resource: string, id: string): string {
  return `arn:aws:ec2:${ctx.region}:${ctx.accountId}:${resource}/${id}`;
}

/** Stores a new, pending route table of a transit gateway. */
export function insertTgwRouteTable(ctx: ResourceContext, tgwId: string, defaults: { association: boolean; propagation: boolean }): TransitGatewayRouteTableRecord {
  const record: TransitGatewayRouteTableRecord = {
    TransitGatewayRouteTableId: newId(KINDS.transitGatewayRouteTable.prefix),
    TransitGatewayId: tgwId,
    State: 'pending',
    DefaultAssociationRouteTable: defaults.association,
    DefaultPropagationRouteTable: defaults.propagation,
    CreationTime: ctx.now.toISOString(),
    routes: [],
    propagations: [],
  };
  tgwRouteTables(ctx).put(ctx.region, record.TransitGatewayRouteTableId, record);
  return record;
}

/**
 * Stores a new, pending transit gateway; when its options ask for default
 * association or propagation, its default route table too (one table for
 * both), named in the options.
 */
export function insertTransitGateway(ctx: ResourceContext, description: string | undefined, options: TransitGatewayOptions): TransitGatewayRecord {
  const id = newId(KINDS.transitGateway.prefix);
  const opts: TransitGatewayOptions = { ...options };
  const association = opts.DefaultRouteTableAssociation === 'enable';
  const propagation = opts.DefaultRouteTablePropagation === 'enable';
  if (association || propagation) {
    const table = insertTgwRouteTable(ctx, id, { association, propagation });
    if (association) opts.AssociationDefaultRouteTableId = table.TransitGatewayRouteTableId;
    if (propagation) opts.PropagationDefaultRouteTableId = table.TransitGatewayRouteTableId;
  }
  const record: TransitGatewayRecord = {
    TransitGatewayId: id,
    TransitGatewayArn: arnOf(ctx, 'transit-gateway', id),
    State: 'pending',
    OwnerId: ctx.accountId,
    CreationTime: ctx.now.toISOString(),
    Options: opts,
  };
  if (description !== undefined) record.Description = description;
  transitGateways(ctx).put(ctx.region, id, record);
  return record;
}

/** The attachments of a transit gateway that are not gone. */
export function liveAttachmentsOf(ctx: Reader, tgwId: string): TransitGatewayAttachmentRecord[] {
  return tgwAttachments(ctx)
    .list(ctx.region)
    .filter((a) => a.TransitGatewayId === tgwId && !isGone(a));
}

/** The route tables of a transit gateway that are not gone. */
export function liveRouteTablesOf(ctx: Reader, tgwId: string): TransitGatewayRouteTableRecord[] {
  return tgwRouteTables(ctx)
    .list(ctx.region)
    .filter((t) => t.TransitGatewayId === tgwId && !isGone(t));
}

/**
 * Applies the gateway's default association and propagation to a new
 * attachment (the attachment record is changed; the route table is stored).
 */
export function applyDefaultRouting(ctx: ResourceContext, tgw: TransitGatewayRecord, attachment: TransitGatewayAttachmentRecord): void {
  const o = tgw.Options;
  if (o.DefaultRouteTableAssociation === 'enable' && o.AssociationDefaultRouteTableId !== undefined) {
    const table = tgwRouteTables(ctx).get(ctx.region, o.AssociationDefaultRouteTableId);
    if (table && !isGone(table)) attachment.association = { TransitGatewayRouteTableId: table.TransitGatewayRouteTableId, State: 'associating' };
  }
  if (o.DefaultRouteTablePropagation === 'enable' && o.PropagationDefaultRouteTableId !== undefined) {
    const table = tgwRouteTables(ctx).get(ctx.region, o.PropagationDefaultRouteTableId);
    if (table && !isGone(table)) {
      table.propagations.push({ attachmentId: attachment.TransitGatewayAttachmentId, State: 'enabling' });
      tgwRouteTables(ctx).put(ctx.region, table.TransitGatewayRouteTableId, table);
    }
  }
}

/** Stores a new, pending VPC attachment with the gateway's default routing. */
export function insertVpcAttachment(
  ctx: ResourceContext,
  tgw: TransitGatewayRecord,
  vpcId: string,
  subnetIds: string[],
  options: TransitGatewayVpcAttachmentOptions,
): TransitGatewayAttachmentRecord {
  const record: TransitGatewayAttachmentRecord = {
    TransitGatewayAttachmentId: newId(KINDS.transitGatewayAttachment.prefix),
    TransitGatewayId: tgw.TransitGatewayId,
    TransitGatewayOwnerId: tgw.OwnerId,
    ResourceType: 'vpc',
    ResourceId: vpcId,
    ResourceOwnerId: ctx.accountId,
    State: 'pending',
    CreationTime: ctx.now.toISOString(),
    vpc: { SubnetIds: subnetIds, Options: options },
  };
  applyDefaultRouting(ctx, tgw, record);
  tgwAttachments(ctx).put(ctx.region, record.TransitGatewayAttachmentId, record);
  return record;
}

/** The live attachment from a VPC to a transit gateway, if any. */
export function vpcAttachmentOf(ctx: Reader, tgwId: string, vpcId: string): TransitGatewayAttachmentRecord | undefined {
  return tgwAttachments(ctx)
    .list(ctx.region)
    .find((a) => a.ResourceType === 'vpc' && a.TransitGatewayId === tgwId && a.ResourceId === vpcId && !isGone(a));
}

/** What routes of a VPC route table to a transit gateway see: whether the VPC's attachment to it carries traffic. */
export function vpcReachesTgw(ctx: Reader, tgwId: string, vpcId: string): boolean {
  const a = vpcAttachmentOf(ctx, tgwId, vpcId);
  return a !== undefined && (a.State === 'available' || a.State === 'modifying');
}

/** Removes an attachment's propagations from every route table of its gateway. */
export function dropPropagations(ctx: ResourceContext, attachment: TransitGatewayAttachmentRecord): void {
  for (const t of tgwRouteTables(ctx).list(ctx.region)) {
    if (t.TransitGatewayId !== attachment.TransitGatewayId) continue;
    const kept = t.propagations.filter((p) => p.attachmentId !== attachment.TransitGatewayAttachmentId);
    if (kept.length === t.propagations.length) continue;
    t.propagations = kept;
    tgwRouteTables(ctx).put(ctx.region, t.TransitGatewayRouteTableId, t);
  }
}

/** The other side's record of a peering attachment (same id, in the peer's region), if it is still there. */
export function peerRecord(ctx: Reader, a: TransitGatewayAttachmentRecord): TransitGatewayAttachmentRecord | undefined {
  if (!a.peering) return undefined;
  return tgwAttachments(ctx).get(a.peering.peerRegion, a.TransitGatewayAttachmentId);
}

/**
 * Stores a new peering attachment on both sides under one id: the requester's
 * record (`initiatingRequest`, then `pendingAcceptance`) in this region and the
 * accepter's (`pendingAcceptance`) in the peer's region.
 */
export function insertPeeringAttachment(ctx: ResourceContext, requester: TransitGatewayRecord, accepter: TransitGatewayRecord, accepterRegion: string): TransitGatewayAttachmentRecord {
  const id = newId(KINDS.transitGatewayAttachment.prefix);
  const requesterInfo = { TransitGatewayId: requester.TransitGatewayId, OwnerId: requester.OwnerId, Region: ctx.region };
  const accepterInfo = { TransitGatewayId: accepter.TransitGatewayId, OwnerId: accepter.OwnerId, Region: accepterRegion };
  const common = {
    TransitGatewayAttachmentId: id,
    ResourceType: 'peering' as const,
    CreationTime: ctx.now.toISOString(),
  };
  const mine: TransitGatewayAttachmentRecord = {
    ...common,
    TransitGatewayId: requester.TransitGatewayId,
    TransitGatewayOwnerId: requester.OwnerId,
    ResourceId: accepter.TransitGatewayId,
    ResourceOwnerId: accepter.OwnerId,
    State: 'initiatingRequest',
    peering: { side: 'requester', requester: requesterInfo, accepter: accepterInfo, peerRegion: accepterRegion },
  };
  const theirs: TransitGatewayAttachmentRecord = {
    ...common,
    TransitGatewayId: accepter.TransitGatewayId,
    TransitGatewayOwnerId: accepter.OwnerId,
    ResourceId: requester.TransitGatewayId,
    ResourceOwnerId: requester.OwnerId,
    State: 'pendingAcceptance',
    peering: { side: 'accepter', requester: requesterInfo, accepter: accepterInfo, peerRegion: ctx.region },
  };
  tgwAttachments(ctx).put(ctx.region, id, mine);
  tgwAttachments(ctx).put(accepterRegion, id, theirs);
  return mine;
}

/** The live peering attachment between two gateways (either way round), if any. */
export function peeringBetween(ctx: Reader, tgwId: string, peerTgwId: string): TransitGatewayAttachmentRecord | undefined {
  return tgwAttachments(ctx)
    .list(ctx.region)
    .find((a) => a.ResourceType === 'peering' && a.TransitGatewayId === tgwId && a.ResourceId === peerTgwId && !isGone(a));
}

/** Whether a live VPC attachment has a subnet (its interface there keeps the subnet from being deleted). */
export function subnetInAttachment(ctx: Reader, subnetId: string): boolean {
  return tgwAttachments(ctx)
    .list(ctx.region)
    .some((a) => !isGone(a) && (a.vpc?.SubnetIds ?? []).includes(subnetId));
}
