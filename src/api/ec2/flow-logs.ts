/**
 * VPC flow logs: CreateFlowLogs, DescribeFlowLogs, DeleteFlowLogs.
 *
 * Overcast has no CloudWatch Logs, S3 or Firehose, so it serves one destination
 * of its own, LogDestinationType `file`: LogDestination is a relative file name
 * under `<dataDir>/flow-logs/`, and reconcile/flow-logs.ts appends the records
 * there in the flow log's format. The other destination types (and the default,
 * cloud-watch-logs) answer UnsupportedOperation.
 *
 * As in EC2, a resource that does not exist (or already has the same flow log)
 * does not fail the call: it is listed in `Unsuccessful` and the others are
 * created; DeleteFlowLogs does the same with unknown flow log ids.
 */
import type {
  CreateFlowLogsRequest,
  CreateFlowLogsResult,
  DeleteFlowLogsRequest,
  DeleteFlowLogsResult,
  DescribeFlowLogsRequest,
  DescribeFlowLogsResult,
  FlowLog,
  UnsuccessfulItem,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { DEFAULT_LOG_FORMAT, fileDestinationProblem, parseLogFormat } from '../../domain/flow-log-format.js';
import { isWellFormedId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { quotable } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { KINDS, type Ec2Kind } from '../../resources/ec2/kinds.js';
import type { FlowLogRecord, FlowLogResourceType, FlowLogTrafficType } from '../../resources/ec2/records.js';
import { FLOW_LOG_CHANGE, flowLogs, insertFlowLog, sameFlowLog } from '../../resources/ec2/flow-logs.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';

const RESOURCE_KINDS: Record<FlowLogResourceType, Ec2Kind<unknown>> = {
  VPC: KINDS.vpc,
  Subnet: KINDS.subnet,
  NetworkInterface: KINDS.networkInterface,
};

const TRAFFIC_TYPES: readonly FlowLogTrafficType[] = ['ACCEPT', 'REJECT', 'ALL'];

/** EC2's destination types, which need services Overcast does not have yet. */
const UNSERVED_DESTINATIONS = ['cloud-watch-logs', 's3', 'kinesis-data-firehose'];

/** At most this many resources per call. */
const MAX_RESOURCE_IDS = 1000;

function toOutput(record: FlowLogRecord, tags: Tag[] | undefined): FlowLog {
  const { resourceType: _t, CreationTime, LogDestinationType, ...rest } = record;
  return {
    ...rest,
    CreationTime: CreationTime as unknown as Date,
    // Overcast's own destination type, outside the SDK's enum
    LogDestinationType: LogDestinationType as FlowLog['LogDestinationType'],
    Tags: tagsField(tags),
  };
}

function unsuccessful(resourceId: string, error: Ec2Error): UnsuccessfulItem {
  return { ResourceId: resourceId, Error: { Code: error.code, Message: error.message } };
}

function resourceType(v: string | undefined): FlowLogResourceType {
  if (v === undefined || v === '') throw missingParameter('ResourceType');
  if (v === 'VPC' || v === 'Subnet' || v === 'NetworkInterface') return v;
  if (v === 'TransitGateway' || v === 'TransitGatewayAttachment') {
    throw new Ec2Error('UnsupportedOperation', `Flow logs for ${v} resources are not supported: transit gateways are records only, no traffic passes them.`);
  }
  throw new Ec2Error('InvalidParameterValue', `Value (${quotable(v)}) for parameter ResourceType is invalid. Valid values are: VPC, Subnet, NetworkInterface.`);
}

function trafficType(v: string | undefined): FlowLogTrafficType {
  if (v === undefined || v === '') throw missingParameter('TrafficType');
  if ((TRAFFIC_TYPES as readonly string[]).includes(v)) return v as FlowLogTrafficType;
  throw new Ec2Error('InvalidParameterValue', `Value (${quotable(v)}) for parameter TrafficType is invalid. Valid values are: ACCEPT, REJECT, ALL.`);
}

function destination(input: CreateFlowLogsRequest): string {
  // the SDK types LogDestinationType as EC2's enum; `file` is Overcast's own value
  const type = (input.LogDestinationType as string | undefined) ?? 'cloud-watch-logs';
  if (UNSERVED_DESTINATIONS.includes(type)) {
    throw new Ec2Error(
      'UnsupportedOperation',
      `LogDestinationType ${type} is not supported: Overcast has no ${type === 's3' ? 'S3' : type === 'cloud-watch-logs' ? 'CloudWatch Logs' : 'Kinesis Data Firehose'} yet. ` +
        'Only LogDestinationType=file is served (LogDestination: a file name under the data directory\'s flow-logs/).',
    );
  }
  if (type !== 'file') {
    throw new Ec2Error('InvalidParameterValue', `Value (${quotable(type)}) for parameter LogDestinationType is invalid. Valid values are: file (cloud-watch-logs, s3 and kinesis-data-firehose are not served).`);
  }
  if (input.LogGroupName !== undefined) throw invalidParameterCombination('LogGroupName is only for LogDestinationType cloud-watch-logs.');
  if (input.DeliverLogsPermissionArn !== undefined) throw invalidParameterCombination('DeliverLogsPermissionArn is not used with LogDestinationType file.');
  if (input.DeliverCrossAccountRole !== undefined) throw invalidParameterCombination('DeliverCrossAccountRole is not used with LogDestinationType file.');
  if (input.DestinationOptions !== undefined) throw invalidParameterCombination('DestinationOptions is only for LogDestinationType s3.');
  const name = input.LogDestination;
  if (name === undefined) throw missingParameter('LogDestination');
  const problem = fileDestinationProblem(name);
  if (problem !== undefined) throw new Ec2Error('InvalidParameterValue', `LogDestination (${quotable(name)}) is invalid: ${problem}`);
  return name;
}

function logFormat(v: string | undefined): string {
  if (v === undefined) return DEFAULT_LOG_FORMAT;
  const parsed = parseLogFormat(v);
  if (!parsed.ok) throw new Ec2Error('InvalidParameter', parsed.message);
  return v;
}

function aggregationInterval(v: number | undefined): 60 | 600 {
  if (v === undefined) return 600;
  if (v === 60 || v === 600) return v;
  throw new Ec2Error('InvalidParameter', `Invalid Flow Log Max Aggregation Interval (${v}): it is 60 or 600 seconds.`);
}

const createFlowLogs = action((ctx, input: CreateFlowLogsRequest): CreateFlowLogsResult => {
  const type = resourceType(input.ResourceType);
  const ids = input.ResourceIds ?? [];
  if (ids.length === 0) throw missingParameter('ResourceId');
  if (ids.length > MAX_RESOURCE_IDS) throw new Ec2Error('InvalidParameterValue', `At most ${MAX_RESOURCE_IDS} resources may be given in one call.`);
  const traffic = trafficType(input.TrafficType);
  const logDestination = destination(input);
  const format = logFormat(input.LogFormat);
  const interval = aggregationInterval(input.MaxAggregationInterval);
  if (input.TagFieldSpecifications !== undefined && input.TagFieldSpecifications.length > 0) {
    throw new Ec2Error('UnsupportedOperation', 'TagFieldSpecifications is not supported: flow log records carry no tags.');
  }
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.flowLog.name]).get(KINDS.flowLog.name) ?? [];
  const kind = RESOURCE_KINDS[type];
  const created: string[] = [];
  const failed: UnsuccessfulItem[] = [];
  for (const id of new Set(ids)) {
    const problem = resourceProblem(ctx, kind, id, traffic, logDestination);
    if (problem) {
      failed.push(unsuccessful(id, problem));
      continue;
    }
    const record = insertFlowLog(ctx, { resourceType: type, resourceId: id, trafficType: traffic, logDestination, logFormat: format, maxAggregationInterval: interval });
    putTags(ctx, record.FlowLogId, KINDS.flowLog.name, tags);
    ctx.notify(FLOW_LOG_CHANGE, record.FlowLogId);
    created.push(record.FlowLogId);
  }
  return { ClientToken: input.ClientToken, FlowLogIds: created, Unsuccessful: failed };
});

/** Why no flow log is made for this resource (it is listed in Unsuccessful), or undefined. */
function resourceProblem(ctx: RequestContext, kind: Ec2Kind<unknown>, id: string, traffic: FlowLogTrafficType, logDestination: string): Ec2Error | undefined {
  if (!isWellFormedId(kind.prefix, id)) return kind.malformed(id);
  if (ctx.store.collection(kind).get(ctx.region, id) === undefined) return kind.notFound(id);
  if (sameFlowLog(ctx, id, traffic, logDestination)) {
    return new Ec2Error('FlowLogAlreadyExists', 'Error. There is an existing Flow Log with the same configuration and log destination.');
  }
  return undefined;
}

const FLOW_LOG_FILTERS = filterTable<FlowLogRecord>('DescribeFlowLogs', {
  'deliver-log-status': 'DeliverLogsStatus',
  'log-destination-type': 'LogDestinationType',
  'flow-log-id': 'FlowLogId',
  'log-group-name': 'LogGroupName',
  'resource-id': 'ResourceId',
  'traffic-type': 'TrafficType',
});

const describeFlowLogs = action((ctx, input: DescribeFlowLogsRequest): DescribeFlowLogsResult => {
  const ids = new Set(input.FlowLogIds ?? []);
  // EC2 answers unknown ids with nothing rather than an error
  let records = flowLogs(ctx).list(ctx.region);
  if (ids.size > 0) records = records.filter((f) => ids.has(f.FlowLogId));
  const tags = tagsByResource(ctx, KINDS.flowLog.name);
  const filtered = applyFilters(records, input.Filter, FLOW_LOG_FILTERS, (f) => tags.get(f.FlowLogId));
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 1, max: 1000 });
  return { FlowLogs: page.items.map((f) => toOutput(f, tags.get(f.FlowLogId))), NextToken: page.nextToken };
});

const deleteFlowLogs = action((ctx, input: DeleteFlowLogsRequest): DeleteFlowLogsResult => {
  const ids = input.FlowLogIds ?? [];
  if (ids.length === 0) throw missingParameter('FlowLogId');
  const col = flowLogs(ctx);
  const failed: UnsuccessfulItem[] = [];
  for (const id of new Set(ids)) {
    if (!isWellFormedId(KINDS.flowLog.prefix, id)) {
      failed.push(unsuccessful(id, KINDS.flowLog.malformed(id)));
      continue;
    }
    if (col.get(ctx.region, id) === undefined) {
      failed.push(unsuccessful(id, KINDS.flowLog.notFound(id)));
      continue;
    }
    col.delete(ctx.region, id);
    ctx.store.tags.removeAll(ctx.region, id);
    ctx.notify(FLOW_LOG_CHANGE, id);
  }
  return { Unsuccessful: failed };
});

export const flowLogsModule: ApiModule = {
  actions: {
    CreateFlowLogs: createFlowLogs,
    DescribeFlowLogs: describeFlowLogs,
    DeleteFlowLogs: deleteFlowLogs,
  },
};
