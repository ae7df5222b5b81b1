/**
 * The records that move through states by themselves (VPC CIDR associations,
 * NAT gateways, peering connections, and the records-only families through
 * record-lifecycles.ts): what the reconciler
 * (reconcile/record-states.ts) asks of each kind. A kind says when a record next
 * needs a step and takes it one step on; the reconciler runs the steps in its
 * loop's transactions, for the keys the API notified and those its resyncs find.
 */
import type { ResourceContext } from '../context.js';
import type { Ec2Kind } from './kinds.js';

/** How long a record in a final state (deleted, disassociated, rejected…) stays visible, as EC2 shows them. */
export const KEEP_FINAL_MS = 60 * 60 * 1000;

export interface StateMachine<T> {
  readonly kind: Ec2Kind<T>;
  /** the record's id */
  id(record: T): string;
  /** the change kind the API notifies for it (default: the kind's name) */
  readonly change?: string;
  /** ms since epoch when the record next needs a step (at or before now: at once); undefined when it never will */
  due(record: T): number | undefined;
  /** takes the record one step on, inside a transaction (it may delete it); false when there was nothing to do */
  advance(ctx: ResourceContext, record: T): boolean;
}

/** A machine of any record type, as the reconciler holds them. */
export type AnyStateMachine = StateMachine<never> & { readonly kind: Ec2Kind<unknown> };

export function machine<T>(m: StateMachine<T>): AnyStateMachine {
  return m as unknown as AnyStateMachine;
}

/** How a list of CIDR block associations (a VPC's or a subnet's) reads and writes an association's state. */
export interface AssociationStates<A> {
  id(a: A): string;
  get(a: A): string | undefined;
  set(a: A, state: 'associated' | 'disassociated'): void;
}

/** When a list of associations next needs a step: associating / disassociating now, disassociated once shown KEEP_FINAL_MS. */
export function associationsDue<A>(list: readonly A[], s: AssociationStates<A>, since: Readonly<Record<string, number>> | undefined): number | undefined {
  let due: number | undefined;
  for (const a of list) {
    const state = s.get(a);
    const at = state === 'associating' || state === 'disassociating' ? 0 : state === 'disassociated' ? (since?.[s.id(a)] ?? 0) + KEEP_FINAL_MS : undefined;
    if (at !== undefined) due = due === undefined ? at : Math.min(due, at);
  }
  return due;
}

/**
 * One step for a list of associations: associating → associated, disassociating →
 * disassociated (noted in `since`), disassociated for KEEP_FINAL_MS → dropped.
 */
export function stepAssociations<A>(
  list: readonly A[],
  s: AssociationStates<A>,
  since: Readonly<Record<string, number>> | undefined,
  now: number,
): { list: A[]; since: Record<string, number> | undefined; changed: boolean } {
  const times: Record<string, number> = { ...since };
  let changed = false;
  const kept: A[] = [];
  for (const a of list) {
    const state = s.get(a);
    if (state === 'associating') {
      s.set(a, 'associated');
      changed = true;
    } else if (state === 'disassociating') {
      s.set(a, 'disassociated');
      times[s.id(a)] = now;
      changed = true;
    } else if (state === 'disassociated' && (times[s.id(a)] ?? 0) + KEEP_FINAL_MS <= now) {
      delete times[s.id(a)];
      changed = true;
      continue;
    }
    kept.push(a);
  }
  return { list: kept, since: Object.keys(times).length > 0 ? times : undefined, changed };
}
