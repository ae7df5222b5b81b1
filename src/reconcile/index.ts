/** The reconcilers that turn desired state into reality, one per resource kind. */
import { InstanceReconciler, type InstanceReconcilerDeps } from './instances.js';
import type { Reconciler, ReconcilerDeps } from './reconciler.js';
import type { Runtime } from './runtime.js';

export type { Reconciler, ReconcilerDeps } from './reconciler.js';
export { selectRuntime, RuntimeUnavailable, type Runtime } from './runtime.js';

/** What instances use besides the drivers: image files, and the services each VPC network gets. */
export type InstanceExtras = Pick<InstanceReconcilerDeps, 'imageFile' | 'onNetwork'>;

/** The reconcilers, driving the runtime selectRuntime chose. */
export function createReconcilers(deps: ReconcilerDeps, runtime: Runtime, extras: InstanceExtras = {}): Reconciler[] {
  return [
    new InstanceReconciler({
      ...deps,
      ...extras,
      driver: runtime.hypervisor,
      fabric: runtime.fabric,
      firewall: runtime.firewall,
      blockStore: runtime.blockStore,
    }),
  ];
}
