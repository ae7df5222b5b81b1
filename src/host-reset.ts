/**
 * `overcast host reset`: takes off the host everything real instances put
 * there — machines (killed), network namespaces, bridges, veths, routes, rules
 * and nft tables of the host prefix, the volume pool's loop devices and mount,
 * and (optionally) the cgroup layout change, which stays while another Overcast
 * process or a machine of any prefix still uses it — and says what, if anything, it
 * could not remove. The store is left as it is: a server started afterwards
 * sees its instances gone and launches again those that should run.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { firewallStateFile } from './network/drivers/nft-firewall.js';
import type { Config } from './config.js';
import { ContainerHypervisor } from './compute/drivers/container/container.js';
import { resetCgroups } from './host/cgroups.js';
import { fabricLeftovers, NetnsFabric } from './network/drivers/netns-fabric.js';
import { poolLeftovers } from './storage/drivers/reflink-pool.js';
import { ReflinkBlockStore } from './storage/drivers/reflink.js';
import { isRoot } from './host/exec.js';

export interface ResetOptions {
  /** also undo the cgroup layout change, if nothing else uses it (another Overcast process, a running machine of any prefix) */
  cgroups: boolean;
  log?: (line: string) => void;
}

/** What the real runtime keeps on the host for this config's data directory and host prefix. */
export async function hostLeftovers(config: Config): Promise<string[]> {
  const books = firewallStateFile(config.hostPrefix);
  return [...(await fabricLeftovers(config.hostPrefix)), ...(await poolLeftovers(poolDir(config))), ...(existsSync(books) ? [`firewall books ${books}`] : [])];
}

function poolDir(config: Config): string {
  return join(config.dataDir, 'pool');
}

/** Removes it all; resolves with what is left (empty when the host is clean). */
export async function resetHost(config: Config, opts: ResetOptions): Promise<string[]> {
  const log = opts.log ?? (() => {});
  if (!isRoot()) throw new Error('host reset needs root');
  const machines = new ContainerHypervisor({ dir: join(config.dataDir, 'machines'), stopTimeoutMs: 2000 });
  const ids = await machines.list();
  for (const id of ids) await machines.terminate(id);
  await machines.close();
  log(`machines removed: ${ids.length}`);
  const fabric = new NetnsFabric({ publicIpPool: config.publicIpPool, egress: config.egress, prefix: config.hostPrefix });
  await fabric.destroy();
  await fabric.close();
  log(`network namespaces, links, routes and nft tables of prefix '${config.hostPrefix}' removed`);
  // the firewall's tables went with the router namespaces; its books go too
  await rm(firewallStateFile(config.hostPrefix), { force: true });
  const pool = new ReflinkBlockStore({ dir: poolDir(config), sizeGiB: config.poolSizeGiB });
  await pool.destroy();
  await pool.close();
  log('volume pool detached and unmounted');
  const left = await hostLeftovers(config);
  if (opts.cgroups) {
    const r = await resetCgroups();
    left.push(...r.left);
    log(r.restored ? 'cgroup layout restored' : `cgroup layout kept: still used by ${r.usedBy.join(', ')}`);
  }
  return left;
}

export const HOST_USAGE = `  overcast host reset [--data-dir D] [--host-prefix P] [--keep-cgroups]
                              remove real instances' machines, namespaces, links, routes,
                              nft tables, loop devices and mounts from this host (and undo
                              the cgroup layout change, unless --keep-cgroups or another
                              Overcast process or a running machine still uses it)
`;

/** `overcast host reset …`: exit status 0 when the host is clean afterwards. */
export async function runHostCommand(args: readonly string[], load: (argv: readonly string[]) => Config): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'reset') {
    process.stderr.write(`overcast host: unknown subcommand '${sub ?? ''}'\n\nUsage:\n${HOST_USAGE}`);
    return 2;
  }
  const keep = rest.includes('--keep-cgroups');
  const config = load(rest.filter((a) => a !== '--keep-cgroups'));
  try {
    const left = await resetHost(config, { cgroups: !keep, log: (l) => process.stdout.write(`${l}\n`) });
    if (left.length > 0) {
      process.stderr.write(`overcast host reset: still on the host:\n${left.map((l) => `  ${l}\n`).join('')}`);
      return 1;
    }
    process.stdout.write('the host is clean\n');
    return 0;
  } catch (e) {
    process.stderr.write(`overcast host reset: ${(e as Error).message}\n`);
    return 1;
  }
}
