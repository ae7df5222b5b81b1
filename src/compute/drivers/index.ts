/** Hypervisor drivers by name (config.driver). New drivers register here. */
import type { Config } from '../../config.js';
import type { Hypervisor } from '../hypervisor.js';
import { MockHypervisor } from './mock.js';

export type DriverFactory = (config: Config) => Hypervisor;

const DRIVERS = new Map<string, DriverFactory>([['mock', (config) => new MockHypervisor({ delayMs: config.mockDelayMs })]]);

export function driverNames(): string[] {
  return [...DRIVERS.keys()].sort();
}

/** Adds (or replaces) a driver; for drivers living outside this folder and for tests. */
export function registerDriver(name: string, factory: DriverFactory): void {
  DRIVERS.set(name, factory);
}

/** The driver config.driver names; an unknown name is a configuration error. */
export function createHypervisor(config: Config): Hypervisor {
  const factory = DRIVERS.get(config.driver);
  if (!factory) throw new Error(`unknown hypervisor driver '${config.driver}' (known: ${driverNames().join(', ')})`);
  return factory(config);
}
