/** Internet gateways: their records and the rules other families use (a VPC's gateway, attaching one). */
import type { InternetGatewayAttachment } from '@aws-sdk/client-ec2';
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import { KINDS } from './kinds.js';
import type { InternetGatewayRecord } from './records.js';

/** The region's internet gateways. */
export function gateways(ctx: ResourceContext) {
  return ctx.store.collection(KINDS.internetGateway);
}

/** Stores a new, detached gateway. */
export function insertInternetGateway(ctx: ResourceContext): InternetGatewayRecord {
  const record: InternetGatewayRecord = {
    InternetGatewayId: newId('igw'),
    OwnerId: ctx.accountId,
    Attachments: [],
  };
  gateways(ctx).put(ctx.region, record.InternetGatewayId, record);
  return record;
}

/** Records the attachment (no checks: callers validate). */
export function attachGatewayRecord(ctx: ResourceContext, igw: InternetGatewayRecord, vpcId: string): void {
  // EC2 reports an attached internet gateway as 'available', a value outside the SDK's AttachmentStatus enum.
  igw.Attachments = [{ VpcId: vpcId, State: 'available' as InternetGatewayAttachment['State'] }];
  gateways(ctx).put(ctx.region, igw.InternetGatewayId, igw);
  // the fabric's IPv6 routing follows the attachment (reconcile/ipv6-routing.ts)
  ctx.notify(KINDS.internetGateway.name, igw.InternetGatewayId);
}

/** The gateway attached to a VPC, if any. */
export function attachedGatewayOf(ctx: ResourceContext, vpcId: string): InternetGatewayRecord | undefined {
  return gateways(ctx)
    .list(ctx.region)
    .find((g) => g.Attachments.some((a) => a.VpcId === vpcId));
}
