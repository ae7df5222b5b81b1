/**
 * MonitorInstances / UnmonitorInstances: detailed monitoring goes pending ->
 * enabled and disabling -> disabled (settled by the instance reconciler);
 * DescribeInstances shows Monitoring.State. Recorded only (no CloudWatch).
 */
import type { InstanceMonitoring, MonitorInstancesRequest, MonitorInstancesResult, UnmonitorInstancesRequest, UnmonitorInstancesResult } from '@aws-sdk/client-ec2';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { instanceCollection } from '../../resources/ec2/instances.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { requireInstances } from './instance-view.js';

function setMonitoring(ctx: RequestContext, ids: readonly string[] | undefined, on: boolean): InstanceMonitoring[] {
  if (!ids || ids.length === 0) throw missingParameter('InstanceId');
  const recs = requireInstances(ctx, ids);
  for (const rec of recs) {
    if (rec.State.Name === 'terminated' || rec.State.Name === 'shutting-down') {
      throw new Ec2Error('IncorrectInstanceState', `The instance '${rec.InstanceId}' is not in a state from which it can be monitored.`);
    }
  }
  const col = instanceCollection(ctx);
  return recs.map((rec) => {
    const state = rec.Monitoring?.State ?? 'disabled';
    const next = on ? (state === 'enabled' ? 'enabled' : 'pending') : state === 'disabled' ? 'disabled' : 'disabling';
    if (next !== state) {
      rec.Monitoring = { State: next };
      col.put(ctx.region, rec.InstanceId, rec);
      ctx.notify(KINDS.instance.name, rec.InstanceId);
    }
    return { InstanceId: rec.InstanceId, Monitoring: { State: next } };
  });
}

const monitorInstances = action((ctx, input: MonitorInstancesRequest): MonitorInstancesResult => ({
  InstanceMonitorings: setMonitoring(ctx, input.InstanceIds, true),
}));

const unmonitorInstances = action((ctx, input: UnmonitorInstancesRequest): UnmonitorInstancesResult => ({
  InstanceMonitorings: setMonitoring(ctx, input.InstanceIds, false),
}));

export const monitoringModule: ApiModule = {
  actions: { MonitorInstances: monitorInstances, UnmonitorInstances: unmonitorInstances },
};
