/** The reconcilers that turn desired state into reality, one per resource kind. */
import { InstanceReconciler } from './instances.js';
import type { Reconciler, ReconcilerDeps } from './reconciler.js';
import type { Runtime } from './runtime.js';

export type { Reconciler, ReconcilerDeps } from './reconciler.js';
export { selectRuntime, RuntimeUnavailable, type Runtime } from './runtime.js';

/** The reconcilers, driving the runtime selectRuntime chose. */
export function createReconcilers(deps: ReconcilerDeps, runtime: Runtime): Reconciler[] {
  return [
    new InstanceReconciler({
      ...deps,
      driver: runtime.hypervisor,
      fabric: runtime.fabric,
      firewall: runtime.firewall,
      blockStore: runtime.blockStore,
    }),
  ];
}
