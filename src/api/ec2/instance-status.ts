/**
 * DescribeInstanceStatus: running instances report their system and instance
 * status checks as the reconciler observed them (system: the machine runs;
 * instance: the guest answers on its SSH port — initializing while it boots);
 * with IncludeAllInstances the others are listed too, with checks not-applicable.
 */
import type {
  DescribeInstanceStatusRequest,
  DescribeInstanceStatusResult,
  InstanceStatus,
  InstanceStatusSummary,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { invalidParameterCombination } from '../../domain/errors.js';
import { action } from '../context.js';
import type { StoredInstance } from '../../resources/ec2/instances.js';
import { requireInstances, visibleInstances } from './instance-view.js';

const CHECK: Record<'ok' | 'initializing', InstanceStatusSummary> = {
  ok: { Status: 'ok', Details: [{ Name: 'reachability', Status: 'passed' }] },
  initializing: { Status: 'initializing', Details: [{ Name: 'reachability', Status: 'initializing' }] },
};

/** One check of a running instance as the reconciler observed it (system: the machine runs; instance: the guest answers). */
function summary(rec: StoredInstance, check: 'system' | 'instance'): InstanceStatusSummary {
  switch (rec.State.Name) {
    case 'running': {
      const observed = rec.statusChecks;
      if (observed?.[check] === 'impaired') return { Status: 'impaired', Details: [{ Name: 'reachability', Status: 'failed', ImpairedSince: new Date(observed.since) }] };
      return CHECK[observed?.[check] ?? 'ok'];
    }
    case 'pending':
      return { Status: 'initializing', Details: [{ Name: 'reachability', Status: 'initializing' }] };
    default:
      return { Status: 'not-applicable' };
  }
}

function statusOf(rec: StoredInstance): InstanceStatus {
  const system = summary(rec, 'system');
  return {
    InstanceId: rec.InstanceId,
    AvailabilityZone: rec.Placement?.AvailabilityZone,
    InstanceState: rec.State,
    InstanceStatus: summary(rec, 'instance'),
    SystemStatus: system,
    AttachedEbsStatus: system.Status === 'ok' ? { Status: 'ok', Details: [{ Name: 'reachability', Status: 'passed' }] } : { Status: system.Status },
  };
}

const INSTANCE_STATUS_FILTERS = filterTable<InstanceStatus>('DescribeInstanceStatus', {
  'availability-zone': 'AvailabilityZone',
  'instance-state-name': 'InstanceState.Name',
  'instance-state-code': 'InstanceState.Code',
  'system-status.status': 'SystemStatus.Status',
  // the reachability detail, which comes first
  'system-status.reachability': (s) => s.SystemStatus?.Details?.[0]?.Status,
  'instance-status.status': 'InstanceStatus.Status',
  'instance-status.reachability': (s) => s.InstanceStatus?.Details?.[0]?.Status,
  'attached-ebs-status.status': 'AttachedEbsStatus.Status',
  'event.code': 'Events.Code',
  'event.description': 'Events.Description',
  'event.instance-event-id': 'Events.InstanceEventId',
  'event.not-after': 'Events.NotAfter',
  'event.not-before': 'Events.NotBefore',
  'event.not-before-deadline': 'Events.NotBeforeDeadline',
});

export const describeInstanceStatus = action((ctx, input: DescribeInstanceStatusRequest): DescribeInstanceStatusResult => {
  const ids = input.InstanceIds ?? [];
  if (ids.length > 0 && input.MaxResults !== undefined) {
    throw invalidParameterCombination('The parameter instancesSet cannot be used with the parameter maxResults');
  }
  let records = ids.length > 0 ? requireInstances(ctx, ids) : visibleInstances(ctx);
  if (input.IncludeAllInstances !== true) records = records.filter((r) => r.State.Name === 'running');
  const statuses = applyFilters(records.map(statusOf), input.Filters, INSTANCE_STATUS_FILTERS);
  const page = paginate(statuses, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { InstanceStatuses: page.items, NextToken: page.nextToken };
});
