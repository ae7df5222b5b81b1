/**
 * Which drivers run instances: the real stack (crun containers, network
 * namespaces, a reflink volume pool) or the mocks. `--driver container` asks
 * for the real one and fails plainly where the host cannot run it; `auto`
 * (the default) takes it where every part's probe passes and otherwise falls
 * back to the mocks with a one-line warning naming what the host lacks.
 */
import type { Config } from '../config.js';
import type { ProbeResult } from '../compute/driver.js';
import { HYPERVISORS } from '../compute/drivers/index.js';
import type { Hypervisor } from '../compute/hypervisor.js';
import { FABRICS, FIREWALLS } from '../network/drivers/index.js';
import type { Fabric } from '../network/fabric.js';
import type { Firewall } from '../network/firewall.js';
import { BLOCK_STORES } from '../storage/drivers/index.js';
import type { BlockStore } from '../storage/block-store.js';

export interface Runtime {
  /** 'container' or 'mock' */
  name: string;
  hypervisor: Hypervisor;
  fabric: Fabric;
  firewall: Firewall;
  blockStore: BlockStore;
}

/** The drivers of each runtime: hypervisor, fabric, firewall, block store. */
export const RUNTIMES: Record<string, { hypervisor: string; fabric: string; firewall: string; blockStore: string }> = {
  container: { hypervisor: 'container', fabric: 'netns', firewall: 'nft', blockStore: 'reflink' },
  mock: { hypervisor: 'mock', fabric: 'mock', firewall: 'mock', blockStore: 'mock' },
};

export class RuntimeUnavailable extends Error {}

function build(name: string, config: Config): Runtime {
  const r = RUNTIMES[name]!;
  return {
    name,
    hypervisor: HYPERVISORS.create(r.hypervisor, config),
    fabric: FABRICS.create(r.fabric, config),
    firewall: FIREWALLS.create(r.firewall, config),
    blockStore: BLOCK_STORES.create(r.blockStore, config),
  };
}

/** Why the runtime cannot run on this host (every failing part), or undefined. */
async function problems(rt: Runtime): Promise<string | undefined> {
  const parts: [string, Promise<ProbeResult>][] = [
    ['hypervisor', rt.hypervisor.probe()],
    ['fabric', rt.fabric.probe()],
    ['firewall', rt.firewall.probe()],
    ['block store', rt.blockStore.probe()],
  ];
  const why: string[] = [];
  for (const [what, p] of parts) {
    const r = await p;
    if (!r.ok) why.push(`${what}: ${r.reason}`);
  }
  return why.length > 0 ? why.join('; ') : undefined;
}

export async function selectRuntime(config: Config, warn: (line: string) => void): Promise<Runtime> {
  if (config.driver === 'mock') return build('mock', config);
  let real: Runtime;
  try {
    real = build('container', config);
  } catch (e) {
    if (config.driver === 'container') throw new RuntimeUnavailable(`the container runtime is not available: ${(e as Error).message}`);
    warn(`warning: real instances are not available (${(e as Error).message}); using the mock drivers (records only)`);
    return build('mock', config);
  }
  const why = await problems(real);
  if (!why) return real;
  if (config.driver === 'container') throw new RuntimeUnavailable(`this host cannot run real instances: ${why}`);
  warn(`warning: this host cannot run real instances (${why}); using the mock drivers (records only)`);
  return build('mock', config);
}
