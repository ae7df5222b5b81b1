/** The reconcilers that turn desired state into reality, one per resource kind. */
import { createHypervisor } from '../compute/drivers/index.js';
import { InstanceReconciler } from './instances.js';
import type { Reconciler, ReconcilerDeps } from './reconciler.js';

export type { Reconciler, ReconcilerDeps } from './reconciler.js';

export function createReconcilers(deps: ReconcilerDeps): Reconciler[] {
  return [new InstanceReconciler({ ...deps, driver: createHypervisor(deps.config) })];
}
