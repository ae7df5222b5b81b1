/**
 * What the instance reconciler settles on an instance besides its state:
 * detailed monitoring (pending / disabling) and its instance profile
 * association (associating / disassociating).
 */
import type { ResourceContext } from '../context.js';
import { associationUnsettled, settleAssociation } from './instance-profiles.js';
import { monitoringUnsettled, settleMonitoring } from './monitoring.js';
import type { StoredInstance } from './records.js';

export function instanceSettingsUnsettled(ctx: Pick<ResourceContext, 'store' | 'region'>, rec: StoredInstance): boolean {
  return monitoringUnsettled(rec) || associationUnsettled(ctx, rec);
}

/** Settles what is in flight; the caller writes the instance record. */
export function settleInstanceSettings(ctx: ResourceContext, rec: StoredInstance): void {
  settleMonitoring(rec);
  settleAssociation(ctx, rec);
}
