/**
 * Transit gateway route tables: Create / Describe / DeleteTransitGatewayRouteTable,
 * Associate / DisassociateTransitGatewayRouteTable, Enable /
 * DisableTransitGatewayRouteTablePropagation, GetTransitGatewayRouteTableAssociations
 * and GetTransitGatewayRouteTablePropagations.
 *
 * An attachment is associated with at most one route table (the association
 * lives on the attachment record) and may propagate into several (the
 * propagations live on the route table). Associations go associating →
 * associated and disassociating → gone, propagations enabling → enabled and
 * disabling → gone, through the reconcile loop. A default route table, or one
 * with associations or propagations, is not deleted (IncorrectState).
 */
import type {
  AssociateTransitGatewayRouteTableRequest,
  AssociateTransitGatewayRouteTableResult,
  CreateTransitGatewayRouteTableRequest,
  CreateTransitGatewayRouteTableResult,
  DeleteTransitGatewayRouteTableRequest,
  DeleteTransitGatewayRouteTableResult,
  DescribeTransitGatewayRouteTablesRequest,
  DescribeTransitGatewayRouteTablesResult,
  DisableTransitGatewayRouteTablePropagationRequest,
  DisableTransitGatewayRouteTablePropagationResult,
  DisassociateTransitGatewayRouteTableRequest,
  DisassociateTransitGatewayRouteTableResult,
  EnableTransitGatewayRouteTablePropagationRequest,
  EnableTransitGatewayRouteTablePropagationResult,
  GetTransitGatewayRouteTableAssociationsRequest,
  GetTransitGatewayRouteTableAssociationsResult,
  GetTransitGatewayRouteTablePropagationsRequest,
  GetTransitGatewayRouteTablePropagationsResult,
  TransitGatewayRouteTable,
  TransitGatewayRouteTableAssociation,
  TransitGatewayRouteTablePropagation,
} from '@aws-sdk/client-ec2';
import { Ec2Error } from '../../domain/errors.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { TransitGatewayAttachmentRecord, TransitGatewayRouteTableRecord } from '../../resources/ec2/records.js';
import { tagsByResource } from '../../resources/ec2/tags.js';
import { incorrectState, insertTgwRouteTable, isExpired, requireLive, requireState, tgwAttachments, tgwRouteTables } from '../../resources/ec2/transit-gateways.js';
import { createTagged, requiredId, routeTableOutput, visibleRecords } from './transit-gateway-view.js';

/** A live route table in one of the states, by its (required) id. */
export function requireRouteTable(ctx: RequestContext, id: string | undefined, states: readonly string[] = ['available']): TransitGatewayRouteTableRecord {
  return requireState(ctx, KINDS.transitGatewayRouteTable, requiredId('TransitGatewayRouteTableId', id), states);
}

/** A route table Get / Search calls may read: one that exists and is still visible. */
export function readableRouteTable(ctx: RequestContext, id: string | undefined): TransitGatewayRouteTableRecord {
  const [table] = visibleRecords(ctx, KINDS.transitGatewayRouteTable, [requiredId('TransitGatewayRouteTableId', id)], (t) => t.TransitGatewayRouteTableId);
  return table!;
}

/** A live attachment of the route table's gateway, by its (required) id. */
export function requireAttachmentOf(ctx: RequestContext, table: TransitGatewayRouteTableRecord, id: string | undefined): TransitGatewayAttachmentRecord {
  const a = requireLive(ctx, KINDS.transitGatewayAttachment, requiredId('TransitGatewayAttachmentId', id));
  if (a.TransitGatewayId !== table.TransitGatewayId) {
    throw new Ec2Error('InvalidParameterValue', `Transit Gateway Attachment ${a.TransitGatewayAttachmentId} and Transit Gateway Route Table ${table.TransitGatewayRouteTableId} belong to different transit gateways.`);
  }
  return a;
}

const createTransitGatewayRouteTable = action((ctx, input: CreateTransitGatewayRouteTableRequest): CreateTransitGatewayRouteTableResult => {
  const tgw = requireState(ctx, KINDS.transitGateway, requiredId('TransitGatewayId', input.TransitGatewayId), ['available', 'modifying']);
  const { record, tags } = createTagged(
    ctx,
    KINDS.transitGatewayRouteTable,
    input.TagSpecifications,
    () => insertTgwRouteTable(ctx, tgw.TransitGatewayId, { association: false, propagation: false }),
    (t) => t.TransitGatewayRouteTableId,
  );
  return { TransitGatewayRouteTable: routeTableOutput(record, tags) };
});

const ROUTE_TABLE_FILTERS = filterTable<TransitGatewayRouteTable>('DescribeTransitGatewayRouteTables', {
  'default-association-route-table': 'DefaultAssociationRouteTable',
  'default-propagation-route-table': 'DefaultPropagationRouteTable',
  state: 'State',
  'transit-gateway-id': 'TransitGatewayId',
  'transit-gateway-route-table-id': 'TransitGatewayRouteTableId',
});

const describeTransitGatewayRouteTables = action((ctx, input: DescribeTransitGatewayRouteTablesRequest): DescribeTransitGatewayRouteTablesResult => {
  const records = visibleRecords(ctx, KINDS.transitGatewayRouteTable, input.TransitGatewayRouteTableIds, (t) => t.TransitGatewayRouteTableId);
  const tags = tagsByResource(ctx, KINDS.transitGatewayRouteTable.name);
  const described = records.map((t) => routeTableOutput(t, tags.get(t.TransitGatewayRouteTableId)));
  const filtered = applyFilters(described, input.Filters, ROUTE_TABLE_FILTERS, (t) => t.Tags);
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { TransitGatewayRouteTables: page.items, NextToken: page.nextToken };
});

/** The live attachments associated (or being associated) with a route table. */
function associatedWith(ctx: RequestContext, tableId: string): TransitGatewayAttachmentRecord[] {
  const now = ctx.now.getTime();
  return tgwAttachments(ctx)
    .list(ctx.region)
    .filter((a) => a.association?.TransitGatewayRouteTableId === tableId && !isExpired(a, now));
}

const deleteTransitGatewayRouteTable = action((ctx, input: DeleteTransitGatewayRouteTableRequest): DeleteTransitGatewayRouteTableResult => {
  const table = requireRouteTable(ctx, input.TransitGatewayRouteTableId, ['available', 'pending']);
  const id = table.TransitGatewayRouteTableId;
  if (table.DefaultAssociationRouteTable || table.DefaultPropagationRouteTable) {
    throw new Ec2Error('IncorrectState', `${id} is a default route table of ${table.TransitGatewayId}: it is deleted with the transit gateway, or after ModifyTransitGateway names another.`);
  }
  const associated = associatedWith(ctx, id);
  if (associated.length > 0) {
    throw new Ec2Error('IncorrectState', `${id} has non-deleted associations: ${associated.map((a) => a.TransitGatewayAttachmentId).join(', ')}.`);
  }
  if (table.propagations.length > 0) {
    throw new Ec2Error('IncorrectState', `${id} has non-deleted propagations: ${table.propagations.map((p) => p.attachmentId).join(', ')}.`);
  }
  const next: TransitGatewayRouteTableRecord = { ...table, State: 'deleting' };
  tgwRouteTables(ctx).put(ctx.region, id, next);
  ctx.notify(KINDS.transitGatewayRouteTable.name, id);
  return { TransitGatewayRouteTable: routeTableOutput(next, ctx.store.tags.forResource(ctx.region, id)) };
});

/** Stores the attachment with its association changed; the call's answer. */
function setAssociation(ctx: RequestContext, table: TransitGatewayRouteTableRecord, a: TransitGatewayAttachmentRecord) {
  tgwAttachments(ctx).put(ctx.region, a.TransitGatewayAttachmentId, a);
  ctx.notify(KINDS.transitGatewayAttachment.name, a.TransitGatewayAttachmentId);
  return {
    Association: {
      TransitGatewayRouteTableId: table.TransitGatewayRouteTableId,
      TransitGatewayAttachmentId: a.TransitGatewayAttachmentId,
      ResourceId: a.ResourceId,
      ResourceType: a.ResourceType,
      State: a.association!.State,
    },
  };
}

const associateTransitGatewayRouteTable = action((ctx, input: AssociateTransitGatewayRouteTableRequest): AssociateTransitGatewayRouteTableResult => {
  const table = requireRouteTable(ctx, input.TransitGatewayRouteTableId);
  const a = requireAttachmentOf(ctx, table, input.TransitGatewayAttachmentId);
  if (a.State !== 'available' && a.State !== 'modifying') throw incorrectState(a.TransitGatewayAttachmentId, a.State);
  if (a.association) throw new Ec2Error('Resource.AlreadyAssociated', `Transit Gateway Attachment ${a.TransitGatewayAttachmentId} is already associated to a route table.`);
  const next: TransitGatewayAttachmentRecord = { ...a, association: { TransitGatewayRouteTableId: table.TransitGatewayRouteTableId, State: 'associating' } };
  return setAssociation(ctx, table, next);
});

const disassociateTransitGatewayRouteTable = action((ctx, input: DisassociateTransitGatewayRouteTableRequest): DisassociateTransitGatewayRouteTableResult => {
  const table = requireRouteTable(ctx, input.TransitGatewayRouteTableId);
  const a = requireAttachmentOf(ctx, table, input.TransitGatewayAttachmentId);
  if (a.association?.TransitGatewayRouteTableId !== table.TransitGatewayRouteTableId || a.association.State === 'disassociating') {
    throw new Ec2Error('InvalidAssociation.NotFound', `Association for ${a.TransitGatewayAttachmentId} in ${table.TransitGatewayRouteTableId} not found.`);
  }
  if (a.association.State === 'associating') throw incorrectState(a.TransitGatewayAttachmentId, 'associating');
  const next: TransitGatewayAttachmentRecord = { ...a, association: { ...a.association, State: 'disassociating' } };
  return setAssociation(ctx, table, next);
});

function propagationOutput(table: TransitGatewayRouteTableRecord, a: TransitGatewayAttachmentRecord, state: 'enabling' | 'disabling') {
  return {
    Propagation: {
      TransitGatewayAttachmentId: a.TransitGatewayAttachmentId,
      ResourceId: a.ResourceId,
      ResourceType: a.ResourceType,
      TransitGatewayRouteTableId: table.TransitGatewayRouteTableId,
      State: state,
    },
  };
}

const enableTransitGatewayRouteTablePropagation = action((ctx, input: EnableTransitGatewayRouteTablePropagationRequest): EnableTransitGatewayRouteTablePropagationResult => {
  if (input.TransitGatewayRouteTableAnnouncementId !== undefined) {
    throw new Ec2Error('InvalidParameterValue', 'Transit gateway route table announcements are not supported: give TransitGatewayAttachmentId.');
  }
  const table = requireRouteTable(ctx, input.TransitGatewayRouteTableId);
  const a = requireAttachmentOf(ctx, table, input.TransitGatewayAttachmentId);
  if (table.propagations.some((p) => p.attachmentId === a.TransitGatewayAttachmentId)) {
    throw new Ec2Error('TransitGatewayRouteTablePropagation.Duplicate', `Propagation for ${a.TransitGatewayAttachmentId} already exists in ${table.TransitGatewayRouteTableId}.`);
  }
  const next: TransitGatewayRouteTableRecord = { ...table, propagations: [...table.propagations, { attachmentId: a.TransitGatewayAttachmentId, State: 'enabling' }] };
  tgwRouteTables(ctx).put(ctx.region, table.TransitGatewayRouteTableId, next);
  ctx.notify(KINDS.transitGatewayRouteTable.name, table.TransitGatewayRouteTableId);
  return propagationOutput(table, a, 'enabling');
});

const disableTransitGatewayRouteTablePropagation = action((ctx, input: DisableTransitGatewayRouteTablePropagationRequest): DisableTransitGatewayRouteTablePropagationResult => {
  if (input.TransitGatewayRouteTableAnnouncementId !== undefined) {
    throw new Ec2Error('InvalidParameterValue', 'Transit gateway route table announcements are not supported: give TransitGatewayAttachmentId.');
  }
  const table = requireRouteTable(ctx, input.TransitGatewayRouteTableId);
  const a = requireAttachmentOf(ctx, table, input.TransitGatewayAttachmentId);
  const p = table.propagations.find((x) => x.attachmentId === a.TransitGatewayAttachmentId);
  if (!p || p.State === 'disabling') {
    throw new Ec2Error('TransitGatewayRouteTablePropagation.NotFound', `Propagation for ${a.TransitGatewayAttachmentId} in ${table.TransitGatewayRouteTableId} not found.`);
  }
  const next: TransitGatewayRouteTableRecord = {
    ...table,
    propagations: table.propagations.map((x) => (x.attachmentId === a.TransitGatewayAttachmentId ? { ...x, State: 'disabling' as const } : x)),
  };
  tgwRouteTables(ctx).put(ctx.region, table.TransitGatewayRouteTableId, next);
  ctx.notify(KINDS.transitGatewayRouteTable.name, table.TransitGatewayRouteTableId);
  return propagationOutput(table, a, 'disabling');
});

/** The filters of both Get calls: their items name an attachment and its resource. */
const ATTACHMENT_ITEM_FIELDS = {
  'resource-id': 'ResourceId',
  'resource-type': 'ResourceType',
  'transit-gateway-attachment-id': 'TransitGatewayAttachmentId',
} as const;

const ASSOCIATION_FILTERS = filterTable<TransitGatewayRouteTableAssociation>('GetTransitGatewayRouteTableAssociations', ATTACHMENT_ITEM_FIELDS);

const getTransitGatewayRouteTableAssociations = action((ctx, input: GetTransitGatewayRouteTableAssociationsRequest): GetTransitGatewayRouteTableAssociationsResult => {
  const table = readableRouteTable(ctx, input.TransitGatewayRouteTableId);
  const items: TransitGatewayRouteTableAssociation[] = associatedWith(ctx, table.TransitGatewayRouteTableId).map((a) => ({
    TransitGatewayAttachmentId: a.TransitGatewayAttachmentId,
    ResourceId: a.ResourceId,
    ResourceType: a.ResourceType,
    State: a.association!.State,
  }));
  const filtered = applyFilters(items, input.Filters, ASSOCIATION_FILTERS);
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { Associations: page.items, NextToken: page.nextToken };
});

const PROPAGATION_FILTERS = filterTable<TransitGatewayRouteTablePropagation>('GetTransitGatewayRouteTablePropagations', ATTACHMENT_ITEM_FIELDS);

const getTransitGatewayRouteTablePropagations = action((ctx, input: GetTransitGatewayRouteTablePropagationsRequest): GetTransitGatewayRouteTablePropagationsResult => {
  const table = readableRouteTable(ctx, input.TransitGatewayRouteTableId);
  const attachments = tgwAttachments(ctx);
  const items: TransitGatewayRouteTablePropagation[] = table.propagations.map((p) => {
    const a = attachments.get(ctx.region, p.attachmentId);
    return { TransitGatewayAttachmentId: p.attachmentId, ResourceId: a?.ResourceId, ResourceType: a?.ResourceType, State: p.State };
  });
  const filtered = applyFilters(items, input.Filters, PROPAGATION_FILTERS);
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { TransitGatewayRouteTablePropagations: page.items, NextToken: page.nextToken };
});

export const transitGatewayRouteTablesModule: ApiModule = {
  actions: {
    CreateTransitGatewayRouteTable: createTransitGatewayRouteTable,
    DescribeTransitGatewayRouteTables: describeTransitGatewayRouteTables,
    DeleteTransitGatewayRouteTable: deleteTransitGatewayRouteTable,
    AssociateTransitGatewayRouteTable: associateTransitGatewayRouteTable,
    DisassociateTransitGatewayRouteTable: disassociateTransitGatewayRouteTable,
    EnableTransitGatewayRouteTablePropagation: enableTransitGatewayRouteTablePropagation,
    DisableTransitGatewayRouteTablePropagation: disableTransitGatewayRouteTablePropagation,
    GetTransitGatewayRouteTableAssociations: getTransitGatewayRouteTableAssociations,
    GetTransitGatewayRouteTablePropagations: getTransitGatewayRouteTablePropagations,
  },
};
