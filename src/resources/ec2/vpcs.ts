/** VPCs: their records and the default VPC of a region. */
import type { ResourceContext } from '../context.js';
import { KINDS } from './kinds.js';
import type { VpcRecord } from './records.js';

/** The default VPC of the caller's region, if it has one (every family that falls back to it asks here). */
export function defaultVpcOf(ctx: ResourceContext): VpcRecord | undefined {
  return ctx.store
    .collection(KINDS.vpc)
    .list(ctx.region)
    .find((v) => v.IsDefault);
}

/** The region's VPCs. */
export function vpcs(ctx: ResourceContext) {
  return ctx.store.collection(KINDS.vpc);
}
