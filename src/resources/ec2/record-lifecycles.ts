/**
 * The state machines of records that change nothing on the host (VPC
 * endpoints and endpoint services, carrier, customer and virtual private
 * gateways, VPN connections): an API call records `pending` or `deleting`,
 * and the reconcile loop (reconcile/record-states.ts) moves each record on —
 * pending → available, deleting → deleted, and the family's own sub-states
 * (attachments, static routes) — one step per look. A deleted record stays
 * visible, as EC2 shows it, for KEEP_DELETED_MS, then it and its tags go.
 */
import type { Store } from '../../store/store.js';
import type { ResourceContext } from '../context.js';
import type { Ec2Kind } from './kinds.js';
import type { Deletable } from './records.js';

/** How long a deleted record stays visible. */
export const KEEP_DELETED_MS = 60 * 60 * 1000;

/** One kind's state machine, type-erased for the reconciler. */
export interface RecordLifecycle {
  /** the kind's store name: the change kind its calls notify */
  readonly kindName: string;
  /** the region and id of every record with a step to take, or deleted long enough to go */
  due(store: Store, now: number): { region: string; id: string }[];
  /** one step for one record (inside a transaction): true when it changed or went */
  step(ctx: ResourceContext, id: string): boolean;
}

export interface LifecycleSpec<T extends Deletable> {
  kind: Ec2Kind<T>;
  idOf: (r: T) => string;
  /** the record's state field (`State`, `ServiceState`) */
  stateKey: { [K in keyof T]: T[K] extends string ? K : never }[keyof T];
  /** the state a state moves to (`pending: 'available'`…) */
  moves: Readonly<Record<string, string>>;
  /** the state that counts as gone */
  deleted: string;
  /** the family's own sub-states: moves them on in place, true when something moved */
  advanceParts?: (r: T, ctx: ResourceContext) => boolean;
  /** whether advanceParts has something to do */
  partsUnsettled?: (r: T) => boolean;
  /** what else goes when the record is purged (beyond the record and its tags) */
  onPurge?: (r: T, ctx: ResourceContext) => void;
}

/** A kind's state machine from its moves. */
export function recordLifecycle<T extends Deletable>(spec: LifecycleSpec<T>): RecordLifecycle {
  const { kind, moves, deleted, stateKey } = spec;
  const state = (r: T): string => r[stateKey] as string;
  const expired = (r: T, now: number) => state(r) === deleted && r.deletedAt !== undefined && now - r.deletedAt >= KEEP_DELETED_MS;
  const unsettled = (r: T) => Object.hasOwn(moves, state(r)) || (spec.partsUnsettled?.(r) ?? false);
  return {
    kindName: kind.name,
    due(store, now) {
      const out: { region: string; id: string }[] = [];
      for (const { region, value } of store.collection(kind).listAllRegions()) {
        if (unsettled(value) || expired(value, now)) out.push({ region, id: spec.idOf(value) });
      }
      return out;
    },
    step(ctx, id) {
      const col = ctx.store.collection(kind);
      const r = col.get(ctx.region, id);
      if (!r) return false;
      if (expired(r, ctx.now.getTime())) {
        spec.onPurge?.(r, ctx);
        col.delete(ctx.region, id);
        ctx.store.tags.removeAll(ctx.region, id);
        return true;
      }
      const next = structuredClone(r);
      let changed = spec.advanceParts?.(next, ctx) ?? false;
      const to = Object.hasOwn(moves, state(next)) ? moves[state(next)] : undefined;
      if (to !== undefined) {
        (next as Record<typeof stateKey, unknown>)[stateKey] = to;
        if (to === deleted) next.deletedAt = ctx.now.getTime();
        changed = true;
      }
      if (changed) col.put(ctx.region, id, next);
      return changed;
    },
  };
}

/** Whether a record is in its deleted state (calls treat it as gone, Describe still shows it). */
export function isGone(r: Deletable): boolean {
  return r.deletedAt !== undefined;
}
