/**
 * The transit gateway reconciler: moves transit gateways, their attachments
 * and route tables through their states. Nothing on the host changes (the
 * fabric carries no traffic through a transit gateway); a step only commits
 * the next state:
 *
 *  - transit gateway pending / modifying → available; deleting → deleted
 *    (with its route tables);
 *  - attachment pending / modifying → available (its association
 *    associating → associated, disassociating → gone; its propagations
 *    enabling → enabled); deleting → deleted (its association and
 *    propagations dropped); rejecting → rejected;
 *  - a peering attachment initiatingRequest → pendingAcceptance (the
 *    requester's record); its two records (one per side, one id) go pending →
 *    available, deleting → deleted and rejecting → rejected together;
 *  - route table pending → available; deleting → deleted; propagations
 *    enabling → enabled, disabling → gone;
 *  - a deleted (rejected) record is purged once DELETED_VISIBLE_MS has passed.
 *
 * Keys are `<kind>/<region>/<id>`; start-up and each resync list every record
 * that is not settled.
 */
import { KINDS } from '../resources/ec2/kinds.js';
import type { TransitGatewayAttachmentRecord, TransitGatewayRecord, TransitGatewayRouteTableRecord } from '../resources/ec2/records.js';
import { dropPropagations, isExpired, isGone, tgwAttachments, tgwRouteTables, transitGateways } from '../resources/ec2/transit-gateways.js';
import { internalContext, type ChangeEvent, type ResourceContext } from '../resources/context.js';
import { LoopReconciler } from './loop-reconciler.js';
import type { ReconcilerDeps } from './reconciler.js';
import type { Collection } from '../store/store.js';

export interface TransitGatewayReconcilerDeps extends ReconcilerDeps {
  log?: (line: string) => void;
  resyncMs?: number;
  /** the clock (ms), for the purge of deleted records */
  nowMs?: () => number;
}

const TGW = KINDS.transitGateway.name;
const ATTACHMENT = KINDS.transitGatewayAttachment.name;
const ROUTE_TABLE = KINDS.transitGatewayRouteTable.name;
const NAMES: ReadonlySet<string> = new Set([TGW, ATTACHMENT, ROUTE_TABLE]);

const key = (kind: string, region: string, id: string) => `${kind}/${region}/${id}`;

const MOVING_TGW = new Set(['pending', 'modifying', 'deleting']);
const MOVING_ATTACHMENT = new Set(['initiatingRequest', 'pending', 'modifying', 'deleting', 'rejecting']);

function tgwSettled(t: TransitGatewayRecord, nowMs: number): boolean {
  return !MOVING_TGW.has(t.State) && !isExpired(t, nowMs);
}

function attachmentSettled(a: TransitGatewayAttachmentRecord, nowMs: number): boolean {
  if (MOVING_ATTACHMENT.has(a.State) || isExpired(a, nowMs)) return false;
  return a.association === undefined || a.association.State === 'associated' || a.State !== 'available';
}

function routeTableSettled(t: TransitGatewayRouteTableRecord, nowMs: number): boolean {
  if (t.State === 'pending' || t.State === 'deleting' || isExpired(t, nowMs)) return false;
  return t.propagations.every((p) => p.State === 'enabled');
}

export class TransitGatewayReconciler extends LoopReconciler {
  private readonly nowMs: () => number;

  constructor(private readonly deps: TransitGatewayReconcilerDeps) {
    const log = deps.log ?? ((line: string) => process.stderr.write(`reconcile/transit-gateways: ${line}\n`));
    super({ store: deps.store, name: 'transit-gateways', log, resyncMs: deps.resyncMs });
    this.nowMs = deps.nowMs ?? Date.now;
  }

  protected keysFor(e: ChangeEvent): string | undefined {
    return NAMES.has(e.kind) ? key(e.kind, e.region, e.id) : undefined;
  }

  protected async keys(): Promise<string[]> {
    const now = this.nowMs();
    const store = this.deps.store;
    const out: string[] = [];
    for (const { region, value } of store.collection(KINDS.transitGateway).listAllRegions()) {
      if (!tgwSettled(value, now)) out.push(key(TGW, region, value.TransitGatewayId));
    }
    for (const { region, value } of store.collection(KINDS.transitGatewayAttachment).listAllRegions()) {
      if (!attachmentSettled(value, now)) out.push(key(ATTACHMENT, region, value.TransitGatewayAttachmentId));
    }
    for (const { region, value } of store.collection(KINDS.transitGatewayRouteTable).listAllRegions()) {
      if (!routeTableSettled(value, now)) out.push(key(ROUTE_TABLE, region, value.TransitGatewayRouteTableId));
    }
    return out;
  }

  protected async step(k: string): Promise<boolean> {
    const [kind, region, id] = k.split('/') as [string, string, string];
    return this.loop.commit(() => {
      const ctx = internalContext(this.deps.store, this.deps.config, region, { now: new Date(this.nowMs()) });
      if (kind === TGW) this.tgwStep(ctx, id);
      else if (kind === ATTACHMENT) this.attachmentStep(ctx, id);
      else if (kind === ROUTE_TABLE) this.routeTableStep(ctx, id);
      return true;
    });
  }

  /** The record, or undefined when there is none or its visibility ran out (it is purged, with its tags). */
  private live<T extends { State: string; deletedAt?: number }>(ctx: ResourceContext, col: Collection<T>, id: string): T | undefined {
    const r = col.get(ctx.region, id);
    if (!r || !isExpired(r, ctx.now.getTime())) return r;
    col.delete(ctx.region, id);
    ctx.store.tags.removeAll(ctx.region, id);
    return undefined;
  }

  private tgwStep(ctx: ResourceContext, id: string): void {
    const col = transitGateways(ctx);
    const t = this.live(ctx, col, id);
    if (!t) return;
    const now = ctx.now.getTime();
    if (t.State === 'pending' || t.State === 'modifying') {
      col.put(ctx.region, id, { ...t, State: 'available' });
    } else if (t.State === 'deleting') {
      col.put(ctx.region, id, { ...t, State: 'deleted', deletedAt: now });
      for (const table of tgwRouteTables(ctx).list(ctx.region)) {
        if (table.TransitGatewayId !== id || isGone(table)) continue;
        tgwRouteTables(ctx).put(ctx.region, table.TransitGatewayRouteTableId, { ...table, State: 'deleted', deletedAt: now, propagations: [] });
      }
    }
  }

  private attachmentStep(ctx: ResourceContext, id: string): void {
    const a = this.live(ctx, tgwAttachments(ctx), id);
    if (!a) return;
    const shared = a.State === 'pending' || a.State === 'deleting' || a.State === 'rejecting';
    this.advance(ctx, a);
    if (!a.peering || !shared) return;
    // a peering attachment's two records move together: the other side follows
    const peerCtx = internalContext(this.deps.store, this.deps.config, a.peering.peerRegion, { now: ctx.now });
    const peer = tgwAttachments(peerCtx).get(peerCtx.region, id);
    if (peer && peer.State === a.State) this.advance(peerCtx, peer);
  }

  /** One attachment record to its next state. */
  private advance(ctx: ResourceContext, a: TransitGatewayAttachmentRecord): void {
    const col = tgwAttachments(ctx);
    const id = a.TransitGatewayAttachmentId;
    const now = ctx.now.getTime();
    if (a.State === 'initiatingRequest') {
      col.put(ctx.region, id, { ...a, State: 'pendingAcceptance' });
      return;
    }
    if (a.State === 'deleting' || a.State === 'rejecting') {
      const next: TransitGatewayAttachmentRecord = { ...a, State: a.State === 'deleting' ? 'deleted' : 'rejected', deletedAt: now };
      delete next.association;
      col.put(ctx.region, id, next);
      dropPropagations(ctx, a);
      return;
    }
    const next: TransitGatewayAttachmentRecord = { ...a };
    if (a.State === 'pending' || a.State === 'modifying') next.State = 'available';
    if (next.State === 'available' && next.association) {
      if (next.association.State === 'associating') next.association = { ...next.association, State: 'associated' };
      else if (next.association.State === 'disassociating') delete next.association;
    }
    col.put(ctx.region, id, next);
    if (next.State === 'available') this.enablePropagations(ctx, id);
  }

  /** The attachment's propagations that wait for it become enabled. */
  private enablePropagations(ctx: ResourceContext, attachmentId: string): void {
    for (const t of tgwRouteTables(ctx).list(ctx.region)) {
      if (t.State !== 'available' || !t.propagations.some((p) => p.attachmentId === attachmentId && p.State === 'enabling')) continue;
      t.propagations = t.propagations.map((p) => (p.attachmentId === attachmentId && p.State === 'enabling' ? { ...p, State: 'enabled' } : p));
      tgwRouteTables(ctx).put(ctx.region, t.TransitGatewayRouteTableId, t);
    }
  }

  private routeTableStep(ctx: ResourceContext, id: string): void {
    const col = tgwRouteTables(ctx);
    const t = this.live(ctx, col, id);
    if (!t) return;
    const now = ctx.now.getTime();
    if (t.State === 'deleting') {
      col.put(ctx.region, id, { ...t, State: 'deleted', deletedAt: now, propagations: [] });
      return;
    }
    const next: TransitGatewayRouteTableRecord = { ...t, State: t.State === 'pending' ? 'available' : t.State };
    if (next.State === 'available') {
      const attachments = tgwAttachments(ctx);
      next.propagations = next.propagations.flatMap((p) => {
        if (p.State === 'disabling') return [];
        if (p.State !== 'enabling') return [p];
        // enabled once its attachment carries traffic (the attachment's step enables it otherwise)
        const state = attachments.get(ctx.region, p.attachmentId)?.State;
        return [state === 'available' || state === 'modifying' ? { ...p, State: 'enabled' as const } : p];
      });
    }
    col.put(ctx.region, id, next);
  }
}
