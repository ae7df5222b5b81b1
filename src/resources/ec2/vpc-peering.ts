/**
 * VPC peering connections: their records (kept in the requester's region and,
 * for a connection between regions, mirrored in the accepter's: every write
 * goes to both), what a side of a connection shows of its VPC, and the states:
 * initiating-request → pending-acceptance (failed: the peer VPC is missing or
 * their IPv4 blocks overlap), provisioning → active, deleting → deleted;
 * pending-acceptance → expired after 7 days; final states are shown for a
 * while, then the record goes (from both regions). Either region's copy may be
 * stepped: a step re-reads the record and writes both.
 */
import type { VpcPeeringConnectionVpcInfo } from '@aws-sdk/client-ec2';
import type { ResourceContext } from '../context.js';
import { overlaps, parseCidr4 } from '../../domain/cidr.js';
import { KINDS } from './kinds.js';
import type { VpcPeeringConnectionRecord, VpcRecord } from './records.js';
import { KEEP_FINAL_MS, machine } from './state-machines.js';
import { liveIpv4Blocks, liveIpv6Blocks } from './vpcs.js';

/** How long a request waits for acceptance. */
export const PEERING_REQUEST_TTL_MS = 7 * 24 * 60 * 60 * 1000;

type Code = VpcPeeringConnectionRecord['Status']['Code'];

/** The states a connection does not leave (but by being dropped). */
export const FINAL_PEERING_STATES: ReadonlySet<Code> = new Set(['deleted', 'rejected', 'failed', 'expired']);

export function peerings(ctx: Pick<ResourceContext, 'store'>) {
  return ctx.store.collection(KINDS.vpcPeeringConnection);
}

/** Writes the connection to its regions (one, or both sides'). */
export function savePeering(ctx: Pick<ResourceContext, 'store'>, p: VpcPeeringConnectionRecord): void {
  for (const region of new Set([p.RequesterVpcInfo.Region, p.AccepterVpcInfo.Region])) peerings(ctx).put(region, p.VpcPeeringConnectionId, p);
}

/** What a side of a connection shows of its VPC's blocks. */
export function vpcInfoBlocks(vpc: VpcRecord): Pick<VpcPeeringConnectionVpcInfo, 'CidrBlock' | 'CidrBlockSet' | 'Ipv6CidrBlockSet'> {
  const v6 = liveIpv6Blocks(vpc);
  return {
    CidrBlock: vpc.CidrBlock,
    CidrBlockSet: liveIpv4Blocks(vpc).map((CidrBlock) => ({ CidrBlock })),
    ...(v6.length > 0 ? { Ipv6CidrBlockSet: v6.map((Ipv6CidrBlock) => ({ Ipv6CidrBlock })) } : {}),
  };
}

export function setStatus(p: VpcPeeringConnectionRecord, code: Code, message: string, now: number): void {
  p.Status = { Code: code, Message: message };
  if (FINAL_PEERING_STATES.has(code)) {
    p.finalAt = now;
    delete p.ExpirationTime;
  }
}

/** Why the peer side cannot be peered with (failed), or undefined. */
function peerProblem(ctx: ResourceContext, p: VpcPeeringConnectionRecord): string | undefined {
  const accepter = p.AccepterVpcInfo;
  if (accepter.OwnerId !== ctx.accountId) return `The peer account ${accepter.OwnerId} does not exist on this server.`;
  const peer = ctx.store.collection(KINDS.vpc).get(accepter.Region, accepter.VpcId);
  if (!peer) return `The peer VPC ${accepter.VpcId} does not exist in ${accepter.Region}.`;
  const mine = ctx.store.collection(KINDS.vpc).get(p.RequesterVpcInfo.Region, p.RequesterVpcInfo.VpcId);
  if (!mine) return `The requester VPC ${p.RequesterVpcInfo.VpcId} does not exist.`;
  const a = liveIpv4Blocks(mine).map((c) => parseCidr4(c)).filter((c) => c !== undefined);
  const b = liveIpv4Blocks(peer).map((c) => parseCidr4(c)).filter((c) => c !== undefined);
  if (a.some((x) => b.some((y) => overlaps(x, y)))) return 'overlapping CIDRs';
  Object.assign(accepter, vpcInfoBlocks(peer));
  return undefined;
}

export const peeringMachine = machine<VpcPeeringConnectionRecord>({
  kind: KINDS.vpcPeeringConnection,
  id: (p) => p.VpcPeeringConnectionId,
  due(p) {
    const code = p.Status.Code;
    if (code === 'initiating-request' || code === 'provisioning' || code === 'deleting') return 0;
    if (code === 'pending-acceptance') return p.ExpirationTime === undefined ? undefined : Date.parse(p.ExpirationTime);
    if (FINAL_PEERING_STATES.has(code)) return (p.finalAt ?? 0) + KEEP_FINAL_MS;
    return undefined;
  },
  advance(ctx, p) {
    const now = ctx.now.getTime();
    const owner = p.AccepterVpcInfo.OwnerId;
    switch (p.Status.Code) {
      case 'initiating-request': {
        const problem = peerProblem(ctx, p);
        if (problem) setStatus(p, 'failed', `Failed due to ${problem}`, now);
        else setStatus(p, 'pending-acceptance', `Pending Acceptance by ${owner}`, now);
        break;
      }
      case 'provisioning':
        setStatus(p, 'active', 'Active', now);
        break;
      case 'deleting':
        setStatus(p, 'deleted', `Deleted by ${ctx.accountId}`, now);
        break;
      case 'pending-acceptance':
        if (p.ExpirationTime === undefined || Date.parse(p.ExpirationTime) > now) return false;
        setStatus(p, 'expired', 'Expired', now);
        break;
      default:
        if (!FINAL_PEERING_STATES.has(p.Status.Code) || (p.finalAt ?? 0) + KEEP_FINAL_MS > now) return false;
        for (const region of new Set([p.RequesterVpcInfo.Region, p.AccepterVpcInfo.Region])) {
          peerings(ctx).delete(region, p.VpcPeeringConnectionId);
          ctx.store.tags.removeAll(region, p.VpcPeeringConnectionId);
        }
        return true;
    }
    savePeering(ctx, p);
    return true;
  },
});
