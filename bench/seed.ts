/**
 * Seeds a store with many instances without going through HTTP: the records are
 * written by the real RunInstances and TerminateInstances handlers (a Dispatcher
 * over the store, no reconciler), and the termination is finished with the same
 * steps the instance reconciler takes (lifecycle event table, interfaces released
 * through resources/ec2/instances.ts). What lands in the store is what a server
 * would have written: instances, their interfaces, private and public IP keys.
 */
import { Dispatcher } from '../src/api/dispatcher.js';
import { ec2Modules } from '../src/api/ec2/index.js';
import type { Config } from '../src/config.js';
import { applyEvent, instanceState, nextStateReason } from '../src/domain/lifecycle.js';
import { internalContext } from '../src/resources/context.js';
import { instanceCollection, releaseInterfacesOnTerminate } from '../src/resources/ec2/instances.js';
import type { Store } from '../src/store/store.js';

export interface SeedOptions {
  region: string;
  /** instances left pending (with their interfaces and addresses) */
  live: number;
  /** instances launched, then terminated (their interfaces deleted, as on EC2) */
  terminated: number;
  imageId?: string;
}

/** The first x86_64 image of the region's catalogue. */
export function firstImageId(d: Dispatcher, region: string): string {
  const out = d.invoke('DescribeImages', region, 'seed', { Filters: [{ Name: 'architecture', Values: ['x86_64'] }] }) as {
    Images?: { ImageId?: string }[];
  };
  const id = out.Images?.[0]?.ImageId;
  if (!id) throw new Error(`seed: no x86_64 image in ${region}`);
  return id;
}

const BATCH = 500;

/** Seeds `opts.terminated` terminated and `opts.live` pending instances in one region; returns the image used. */
export function seedInstances(store: Store, config: Config, opts: SeedOptions): string {
  const d = new Dispatcher(store, config, ec2Modules);
  const image = opts.imageId ?? firstImageId(d, opts.region);
  const launch = (n: number): string[] => {
    const out = d.invoke('RunInstances', opts.region, 'seed', { ImageId: image, InstanceType: 't3.micro', MinCount: n, MaxCount: n }) as {
      Instances?: { InstanceId?: string }[];
    };
    return (out.Instances ?? []).map((i) => i.InstanceId!);
  };
  for (let left = opts.terminated; left > 0; left -= BATCH) {
    const ids = launch(Math.min(BATCH, left));
    d.invoke('TerminateInstances', opts.region, 'seed', { InstanceIds: ids });
    // what the reconciler commits once the machine is gone: the 'terminated' event
    store.transaction(() => {
      const ctx = internalContext(store, config, opts.region);
      const col = instanceCollection(ctx);
      for (const id of ids) {
        const rec = col.get(opts.region, id)!;
        rec.State = instanceState(applyEvent(rec.State.Name, 'terminated', { shutdownBehavior: rec.instanceInitiatedShutdownBehavior }));
        rec.desired = 'terminated';
        const reason = nextStateReason(rec.StateReason as { Code: string; Message: string } | undefined, 'terminated');
        if (reason) rec.StateReason = reason;
        else delete rec.StateReason;
        rec.terminatedAt = ctx.now.getTime();
        releaseInterfacesOnTerminate(ctx, rec);
        col.put(opts.region, id, rec);
      }
    });
  }
  for (let left = opts.live; left > 0; left -= BATCH) launch(Math.min(BATCH, left));
  return image;
}
