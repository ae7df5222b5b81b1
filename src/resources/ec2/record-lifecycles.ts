/**
 * The state machines of records that change nothing on the host (VPC
 * endpoints and endpoint services, carrier, customer and virtual private
 * gateways, VPN connections): an API call records `pending` or `deleting`,
 * and the reconcile loop (reconcile/record-states.ts, beside the other state
 * machines) moves each record on —
 * pending → available, deleting → deleted, and the family's own sub-states
 * (attachments, static routes) — one step per look. A deleted record stays
 * visible, as EC2 shows it, for KEEP_DELETED_MS, then it and its tags go.
 */
import type { ResourceContext } from '../context.js';
import type { Ec2Kind } from './kinds.js';
import { KEEP_FINAL_MS, machine, type AnyStateMachine } from './state-machines.js';
import type { Deletable } from './records.js';

/** How long a deleted record stays visible (as long as any final state: state-machines.ts). */
export const KEEP_DELETED_MS = KEEP_FINAL_MS;

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

/** A kind's state machine (state-machines.ts) from its moves: due at once while a move or a part is pending, and when its deleted state has been shown long enough. */
export function recordLifecycle<T extends Deletable>(spec: LifecycleSpec<T>): AnyStateMachine {
  const { kind, moves, deleted, stateKey } = spec;
  const state = (r: T): string => r[stateKey] as string;
  const unsettled = (r: T) => Object.hasOwn(moves, state(r)) || (spec.partsUnsettled?.(r) ?? false);
  return machine<T>({
    kind,
    id: spec.idOf,
    due(r) {
      if (unsettled(r)) return 0;
      return state(r) === deleted && r.deletedAt !== undefined ? r.deletedAt + KEEP_DELETED_MS : undefined;
    },
    advance(ctx, r) {
      const col = ctx.store.collection(kind);
      const id = spec.idOf(r);
      if (!unsettled(r) && state(r) === deleted && r.deletedAt !== undefined) {
        // shown long enough (the reconciler steps a record only once it is due)
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
  });
}

/** Whether a record is in its deleted state (calls treat it as gone, Describe still shows it). */
export function isGone(r: Deletable): boolean {
  return r.deletedAt !== undefined;
}
