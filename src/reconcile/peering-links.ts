/**
 * VPC peering on the fabric: every active peering connection whose route
 * tables send something over it (resources/ec2/peering-routes.ts) is a link
 * between the two VPCs' networks (Fabric.connect, the networks ensured
 * first), with exactly those routes; a connection that is no longer active
 * (deleted, rejected, expired), or whose routes are all gone, is
 * disconnected, as is a link the store no longer knows (found on the fabric
 * after a restart). Both regions of a connection between regions are read:
 * the fabric is one for the whole server, so the link is made as for two
 * VPCs of one region.
 *
 * One key ('peering-links') for all connections: any change to a connection, a
 * route table, a subnet or a VPC schedules it, and a step compares every
 * desired link with the fabric's inventory (peerings are few). A link the
 * fabric refuses does not hold the others back; the step then fails and is
 * retried.
 */
import type { NetworkLink } from '../network/fabric.js';
import { KINDS } from '../resources/ec2/kinds.js';
import { allPeerings, peeringPaths } from '../resources/ec2/peering-routes.js';
import { FabricPassReconciler, type FabricPassDeps } from './loop-reconciler.js';

/** The kinds whose changes can change what a peering connection carries. */
const WATCHED: ReadonlySet<string> = new Set([KINDS.vpcPeeringConnection.name, KINDS.routeTable.name, KINDS.subnet.name, KINDS.vpc.name, KINDS.prefixList.name]);


export type PeeringLinkReconcilerDeps = FabricPassDeps;

export class PeeringLinkReconciler extends FabricPassReconciler {
  constructor(deps: PeeringLinkReconcilerDeps) {
    super(deps, 'peering-links', WATCHED);
  }

  /** The links the store asks for, keyed by connection id. */
  private desired(): Map<string, { link: NetworkLink; cidrs: [string, string] }> {
    const out = new Map<string, { link: NetworkLink; cidrs: [string, string] }>();
    for (const p of allPeerings(this.deps.store)) {
      const paths = peeringPaths(this.deps.store, p);
      if (paths.routes.length === 0 || !paths.requester || !paths.accepter) continue;
      out.set(p.VpcPeeringConnectionId, {
        link: { linkId: p.VpcPeeringConnectionId, networks: [paths.requester.VpcId, paths.accepter.VpcId], routes: paths.routes.map((r) => ({ ...r })) },
        cidrs: [paths.requester.CidrBlock, paths.accepter.CidrBlock],
      });
    }
    return out;
  }

  protected async step(): Promise<boolean> {
    const want = this.desired();
    const errors: string[] = [];
    for (const { link, cidrs } of want.values()) {
      try {
        // the networks exist whether or not an instance of either VPC has run here yet
        for (let i = 0; i < 2; i++) await this.deps.fabric.ensureNetwork({ vpcId: link.networks[i]!, cidrBlock: cidrs[i]! });
        await this.deps.fabric.connect(link);
      } catch (e) {
        errors.push(`${link.linkId}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    for (const l of (await this.deps.fabric.list()).links) {
      if (want.has(l.linkId)) continue;
      try {
        await this.deps.fabric.disconnect(l.linkId);
      } catch (e) {
        errors.push(`${l.linkId}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (errors.length > 0) throw new Error(errors.join('; '));
    return true;
  }
}
