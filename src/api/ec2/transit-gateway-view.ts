/**
 * What the transit gateway calls share: their output shapes, the
 * `enable | disable` option values, Describe's view of records that are gone
 * (shown until their visibility runs out), and the id parameters.
 */
import type {
  TagSpecification,
  TransitGateway,
  TransitGatewayAttachment,
  TransitGatewayRouteTable,
  TransitGatewayVpcAttachment,
} from '@aws-sdk/client-ec2';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { quotable } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import type { RequestContext } from '../context.js';
import type { Ec2Kind } from '../../resources/ec2/kinds.js';
import type { TransitGatewayAttachmentRecord, TransitGatewayRecord, TransitGatewayRouteTableRecord } from '../../resources/ec2/records.js';
import { requireResources } from '../../resources/ec2/registry.js';
import { putTags } from '../../resources/ec2/tags.js';
import { isExpired } from '../../resources/ec2/transit-gateways.js';
import { tagSpecificationTags, tagsField } from './tags.js';

/** A stored ISO-8601 time where the SDK types a Date (the serializer writes the text). */
export const asDate = (iso: string): Date => iso as unknown as Date;

export function tgwOutput(r: TransitGatewayRecord, tags: Tag[] | undefined): TransitGateway {
  const { deletedAt: _d, CreationTime, ...rest } = r;
  return { ...rest, CreationTime: asDate(CreationTime), Tags: tagsField(tags) };
}

export function attachmentOutput(a: TransitGatewayAttachmentRecord, tags: Tag[] | undefined): TransitGatewayAttachment {
  return {
    TransitGatewayAttachmentId: a.TransitGatewayAttachmentId,
    TransitGatewayId: a.TransitGatewayId,
    TransitGatewayOwnerId: a.TransitGatewayOwnerId,
    ResourceOwnerId: a.ResourceOwnerId,
    ResourceType: a.ResourceType,
    ResourceId: a.ResourceId,
    State: a.State,
    Association: a.association ? { TransitGatewayRouteTableId: a.association.TransitGatewayRouteTableId, State: a.association.State } : undefined,
    CreationTime: asDate(a.CreationTime),
    Tags: tagsField(tags),
  };
}

export function vpcAttachmentOutput(a: TransitGatewayAttachmentRecord, tags: Tag[] | undefined): TransitGatewayVpcAttachment {
  return {
    TransitGatewayAttachmentId: a.TransitGatewayAttachmentId,
    TransitGatewayId: a.TransitGatewayId,
    VpcId: a.ResourceId,
    VpcOwnerId: a.ResourceOwnerId,
    State: a.State,
    SubnetIds: a.vpc?.SubnetIds ?? [],
    CreationTime: asDate(a.CreationTime),
    Options: a.vpc?.Options,
    Tags: tagsField(tags),
  };
}

export function routeTableOutput(t: TransitGatewayRouteTableRecord, tags: Tag[] | undefined): TransitGatewayRouteTable {
  return {
    TransitGatewayRouteTableId: t.TransitGatewayRouteTableId,
    TransitGatewayId: t.TransitGatewayId,
    State: t.State,
    DefaultAssociationRouteTable: t.DefaultAssociationRouteTable,
    DefaultPropagationRouteTable: t.DefaultPropagationRouteTable,
    CreationTime: asDate(t.CreationTime),
    Tags: tagsField(tags),
  };
}

export type EnableDisable = 'enable' | 'disable';

/** An `enable | disable` option: the default when absent, InvalidParameterValue for anything else. */
export function enableDisable(parameter: string, v: string | undefined, dflt: EnableDisable): EnableDisable;
export function enableDisable(parameter: string, v: string | undefined): EnableDisable | undefined;
export function enableDisable(parameter: string, v: string | undefined, dflt?: EnableDisable): EnableDisable | undefined {
  if (v === undefined) return dflt;
  if (v === 'enable' || v === 'disable') return v;
  throw new Ec2Error('InvalidParameterValue', `Value (${quotable(v)}) for parameter ${parameter} is invalid. Valid values are: enable, disable.`);
}

/** A required id parameter. */
export function requiredId(parameter: string, v: string | undefined): string {
  if (v === undefined || v === '') throw missingParameter(parameter);
  return v;
}

/**
 * The records a Describe call lists: those named (each must exist and still be
 * visible), else every visible one of the region.
 */
export function visibleRecords<T extends { State: string; deletedAt?: number }>(ctx: RequestContext, kind: Ec2Kind<T>, ids: readonly string[] | undefined, idOf: (r: T) => string): T[] {
  const now = ctx.now.getTime();
  if (ids && ids.length > 0) {
    const found = requireResources(ctx, kind, ids);
    const expired = found.find((r) => isExpired(r, now));
    if (expired) throw kind.notFound(idOf(expired));
    return found;
  }
  return ctx.store
    .collection(kind)
    .list(ctx.region)
    .filter((r) => !isExpired(r, now));
}

/**
 * A create call's record of one kind: its TagSpecifications checked, the
 * record made, tagged, and the reconciler told.
 */
export function createTagged<T>(ctx: RequestContext, kind: Ec2Kind<T>, specs: readonly TagSpecification[] | undefined, make: () => T, idOf: (r: T) => string): { record: T; tags: Tag[] } {
  const tags = tagSpecificationTags(specs, [kind.name]).get(kind.name) ?? [];
  const record = make();
  const id = idOf(record);
  putTags(ctx, id, kind.name, tags);
  ctx.notify(kind.name, id);
  return { record, tags };
}
