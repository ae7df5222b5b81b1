/**
 * Detailed monitoring of an instance (MonitorInstances / UnmonitorInstances):
 * the API records pending or disabling, the instance reconciler settles it to
 * enabled or disabled. Recorded only: Overcast has no CloudWatch metrics.
 */
import type { StoredInstance } from './records.js';

/** pending -> enabled, disabling -> disabled; false when there was nothing to settle. */
export function settleMonitoring(rec: StoredInstance): boolean {
  const state = rec.Monitoring?.State;
  if (state === 'pending') rec.Monitoring = { State: 'enabled' };
  else if (state === 'disabling') rec.Monitoring = { State: 'disabled' };
  else return false;
  return true;
}

/** Whether the reconciler has monitoring to settle on this instance. */
export function monitoringUnsettled(rec: StoredInstance): boolean {
  const state = rec.Monitoring?.State;
  return state === 'pending' || state === 'disabling';
}
