/** Hypervisor drivers by name (config.driver). New drivers register here. */
import type { Config } from '../../config.js';
import { DriverMap } from '../driver.js';
import type { Hypervisor } from '../hypervisor.js';
import { join } from 'node:path';
import { ContainerHypervisor } from './container/container.js';
import { MockHypervisor } from './mock.js';

export const HYPERVISORS = new DriverMap<Hypervisor>('hypervisor', [
  ['mock', (config) => new MockHypervisor({ delayMs: config.mockDelayMs })],
  ['container', (config) => new ContainerHypervisor({ dir: join(config.dataDir, 'machines') })],
]);

export function driverNames(): string[] {
  return HYPERVISORS.names();
}

/** The driver config.driver names; an unknown name is a configuration error. */
export function createHypervisor(config: Config, name: string = config.driver): Hypervisor {
  return HYPERVISORS.create(name, config);
}
