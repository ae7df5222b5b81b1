/**
 * Flow logs: their records, which interfaces each one covers (what the writer
 * captures), and where a `file` flow log's records go.
 */
import { join } from 'node:path';
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import { KINDS } from './kinds.js';
import type { FlowLogRecord, FlowLogResourceType, FlowLogTrafficType, NetworkInterfaceRecord } from './records.js';

/** The change kind CreateFlowLogs and DeleteFlowLogs notify (ctx.notify) and the writer listens for. */
export const FLOW_LOG_CHANGE = 'flow-log';

/** The directory under the data directory that `file` flow logs are written in. */
export const FLOW_LOG_DIR = 'flow-logs';

/** The file a `file` flow log writes to (its LogDestination was checked at create: it stays under the directory). */
export function flowLogFile(dataDir: string, logDestination: string): string {
  return join(dataDir, FLOW_LOG_DIR, logDestination);
}

type Reader = Pick<ResourceContext, 'store' | 'region'>;

/** The region's flow logs. */
export function flowLogs(ctx: Reader) {
  return ctx.store.collection(KINDS.flowLog);
}

export interface NewFlowLog {
  resourceType: FlowLogResourceType;
  resourceId: string;
  trafficType: FlowLogTrafficType;
  logDestination: string;
  logFormat: string;
  maxAggregationInterval: 60 | 600;
}

/** Stores a new, active flow log. */
export function insertFlowLog(ctx: ResourceContext, n: NewFlowLog): FlowLogRecord {
  const record: FlowLogRecord = {
    FlowLogId: newId(KINDS.flowLog.prefix),
    CreationTime: ctx.now.toISOString(),
    DeliverLogsStatus: 'SUCCESS',
    FlowLogStatus: 'ACTIVE',
    ResourceId: n.resourceId,
    TrafficType: n.trafficType,
    LogDestinationType: 'file',
    LogDestination: n.logDestination,
    LogFormat: n.logFormat,
    MaxAggregationInterval: n.maxAggregationInterval,
    resourceType: n.resourceType,
  };
  flowLogs(ctx).put(ctx.region, record.FlowLogId, record);
  return record;
}

/** A flow log of the resource with the same traffic type and destination (EC2 refuses a second one). */
export function sameFlowLog(ctx: Reader, resourceId: string, trafficType: FlowLogTrafficType, logDestination: string): FlowLogRecord | undefined {
  return flowLogs(ctx)
    .list(ctx.region)
    .find((f) => f.ResourceId === resourceId && f.TrafficType === trafficType && f.LogDestination === logDestination);
}

/** Whether the flow log records traffic its firewall gave this verdict. */
export function admitsAction(f: Pick<FlowLogRecord, 'TrafficType'>, action: 'ACCEPT' | 'REJECT'): boolean {
  return f.TrafficType === 'ALL' || f.TrafficType === action;
}

/**
 * Which of the interfaces a flow log covers: a VPC's every interface, a
 * subnet's, or the one interface.
 */
export function covers(f: Pick<FlowLogRecord, 'resourceType' | 'ResourceId'>, eni: Pick<NetworkInterfaceRecord, 'NetworkInterfaceId' | 'SubnetId' | 'VpcId'>): boolean {
  switch (f.resourceType) {
    case 'VPC':
      return eni.VpcId === f.ResourceId;
    case 'Subnet':
      return eni.SubnetId === f.ResourceId;
    case 'NetworkInterface':
      return eni.NetworkInterfaceId === f.ResourceId;
  }
}

/** Every flow log of the region with the ids of the interfaces it covers now. */
export function flowLogCoverage(ctx: Reader): { flowLog: FlowLogRecord; interfaceIds: string[] }[] {
  const logs = flowLogs(ctx).list(ctx.region);
  if (logs.length === 0) return [];
  const enis = ctx.store.collection(KINDS.networkInterface).list(ctx.region);
  return logs.map((flowLog) => ({ flowLog, interfaceIds: enis.filter((e) => covers(flowLog, e)).map((e) => e.NetworkInterfaceId) }));
}
