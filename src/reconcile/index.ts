/** The reconcilers that turn desired state into reality, one per resource kind. */
import type { ChangeEvent } from '../resources/context.js';
import type { Config } from '../config.js';
import type { Store } from '../store/store.js';
import { createHypervisor } from '../compute/drivers/index.js';
import { FABRICS, FIREWALLS } from '../network/drivers/index.js';
import { BLOCK_STORES } from '../storage/drivers/index.js';
import { InstanceReconciler } from './instances.js';

export interface Reconciler {
  /** a resource changed (after commit) */
  handle(e: ChangeEvent): void;
  /** on start-up: probe the drivers, compare the store with what runs and finish or undo half-done work */
  start(): Promise<void>;
  /** stop loops; resolve when in-flight work has settled */
  stop(): Promise<void>;
}

export interface ReconcilerDeps {
  store: Store;
  config: Config;
}

/**
 * The hypervisor is the one config.driver names; the fabric, firewall and
 * block store are 'mock' until configuration names them (a later issue).
 */
export function createReconcilers(deps: ReconcilerDeps): Reconciler[] {
  return [
    new InstanceReconciler({
      ...deps,
      driver: createHypervisor(deps.config),
      fabric: FABRICS.create('mock', deps.config),
      firewall: FIREWALLS.create('mock', deps.config),
      blockStore: BLOCK_STORES.create('mock', deps.config),
    }),
  ];
}
