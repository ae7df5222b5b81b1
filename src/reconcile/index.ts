/** The reconcilers that turn desired state into reality, one per resource kind. */
import { createHypervisor } from '../compute/drivers/index.js';
import { FABRICS, FIREWALLS } from '../network/drivers/index.js';
import { BLOCK_STORES } from '../storage/drivers/index.js';
import { InstanceReconciler } from './instances.js';
import type { Reconciler, ReconcilerDeps } from './reconciler.js';

export type { Reconciler, ReconcilerDeps } from './reconciler.js';

/**
 * The hypervisor is the one config.driver names; the fabric, firewall and
 * block store are 'mock' until configuration names them (a later issue).
 */
export function createReconcilers(deps: ReconcilerDeps): Reconciler[] {
  return [
    new InstanceReconciler({
      ...deps,
      driver: createHypervisor(deps.config, deps.config.driver === 'auto' ? 'mock' : deps.config.driver),
      fabric: FABRICS.create('mock', deps.config),
      firewall: FIREWALLS.create('mock', deps.config),
      blockStore: BLOCK_STORES.create('mock', deps.config),
    }),
  ];
}
