/**
 * The instance reconciler: the API records what an instance should be
 * (`desired`) and the transitional state (pending, stopping, shutting-down);
 * this loop drives the Hypervisor there and writes what it observed
 * (running, stopped, terminated) in its own transaction, using the lifecycle
 * event table.
 *
 * Work is serialized per instance id: one chain per id runs steps until
 * nothing new arrived. A step reads the record, compares it with the
 * driver's view, does at most one driver operation and commits the result
 * only if the record is still in the state the step started from (otherwise
 * the API moved it on meanwhile and the chain runs again).
 *
 * On start-up the same steps finish or undo half-done work: every instance in
 * the store is looked at once, machines the store does not know (or knows as
 * terminated) are terminated.
 */
import { internalContext, type ChangeEvent, type ResourceContext } from '../resources/context.js';
import {
  assignPublicIpOnStart,
  instanceCollection,
  interfacesOf,
  releaseAutoPublicIps,
  releaseInterfacesOnTerminate,
  type StoredInstance,
} from '../resources/ec2/instances.js';
import { privateDnsName } from '../resources/ec2/public-ips.js';
import type { SubnetRecord } from '../resources/ec2/records.js';
import type { Hypervisor, InstanceSpec, NetworkSpec } from '../compute/hypervisor.js';
import { formatIpv4, parseCidr4 } from '../domain/cidr.js';
import { findInstanceType } from '../domain/instance-types.js';
import {
  applyEvent,
  instanceState,
  isStillVisible,
  nextStateReason,
  stateReason,
  type InstanceStateName,
  type RuntimeEvent,
} from '../domain/lifecycle.js';
import type { Reconciler, ReconcilerDeps } from './reconciler.js';
import { KINDS } from '../resources/ec2/kinds.js';

export interface InstanceReconcilerDeps extends ReconcilerDeps {
  driver: Hypervisor;
  /** where failures are reported (default: stderr) */
  log?: (line: string) => void;
  /** how often terminated instances older than an hour are purged (default 5 min) */
  purgeIntervalMs?: number;
  /** ms since epoch (tests move it) */
  clock?: () => number;
  /** first retry delay after a failed driver operation; doubles up to 30 s (default 500 ms) */
  retryBaseMs?: number;
}

interface Write {
  region: string;
  id: string;
  expected: InstanceStateName;
  fn: (ctx: ResourceContext, rec: StoredInstance) => void;
  resolve: (ok: boolean) => void;
  reject: (err: unknown) => void;
}

interface Chain {
  region: string | undefined;
  again: boolean;
  done: Promise<void>;
}

const MAX_RETRY_MS = 30_000;

/** Whether a starting instance should get a public IP it does not hold yet (checked before writing). */
function needsPublicIp(ctx: ResourceContext, rec: StoredInstance): boolean {
  if (!rec.publicIpOnStart) return false;
  const primary = interfacesOf(ctx, rec).find((e) => e.attachment?.DeviceIndex === 0);
  return primary !== undefined && primary.association === undefined;
}

export class InstanceReconciler implements Reconciler {
  readonly driver: Hypervisor;
  private readonly chains = new Map<string, Chain>();
  private readonly writes: Write[] = [];
  private readonly retries = new Map<string, { timer: NodeJS.Timeout; attempts: number }>();
  private readonly attempts = new Map<string, number>();
  private purgeTimer: NodeJS.Timeout | undefined;
  /** ids looked at by start(): a stopped machine of a running instance is restarted, not taken as a guest shutdown */
  private readonly recovering = new Set<string>();
  private stopped = false;
  private readonly log: (line: string) => void;
  private readonly now: () => number;

  constructor(private readonly deps: InstanceReconcilerDeps) {
    this.driver = deps.driver;
    this.log = deps.log ?? ((line) => process.stderr.write(`reconcile/instances: ${line}\n`));
    this.now = deps.clock ?? Date.now;
  }

  handle(e: ChangeEvent): void {
    if (e.kind !== 'instance' || this.stopped) return;
    this.schedule(e.region, e.id);
  }

  async start(): Promise<void> {
    const present = new Set(await this.driver.list());
    for (const { region, value } of instanceCollection(this.deps).listAllRegions()) {
      const known = present.delete(value.InstanceId);
      // a terminated instance needs nothing unless the driver still has it
      if (value.State.Name !== 'terminated' || known) {
        this.recovering.add(value.InstanceId);
        this.schedule(region, value.InstanceId);
      }
    }
    for (const orphan of present) this.schedule(undefined, orphan);
    this.purge();
    const every = this.deps.purgeIntervalMs ?? 300_000;
    this.purgeTimer = setInterval(() => this.purge(), every);
    this.purgeTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    for (const r of this.retries.values()) clearTimeout(r.timer);
    this.retries.clear();
    await this.idle();
    await this.driver.close();
  }

  /** Resolves when no work is in flight (retries waiting on a timer do not count). */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()].map((c) => c.done));
  }

  /** Deletes terminated instances (and their tags) an hour after termination. */
  purge(): number {
    if (this.stopped) return 0;
    const now = this.now();
    let purged = 0;
    const col = instanceCollection(this.deps);
    this.deps.store.transaction(() => {
      for (const { region, value } of col.listAllRegions()) {
        if (isStillVisible(value.State.Name, value.terminatedAt, now)) continue;
        if (this.chains.has(value.InstanceId)) continue;
        col.delete(region, value.InstanceId);
        this.deps.store.tags.removeAll(region, value.InstanceId);
        purged++;
      }
    });
    return purged;
  }

  private schedule(region: string | undefined, id: string): void {
    const running = this.chains.get(id);
    if (running) {
      running.again = true;
      return;
    }
    const pendingRetry = this.retries.get(id);
    if (pendingRetry) {
      clearTimeout(pendingRetry.timer);
      this.retries.delete(id);
    }
    const chain: Chain = { region, again: true, done: Promise.resolve() };
    this.chains.set(id, chain);
    chain.done = (async () => {
      try {
        while (chain.again && !this.stopped) {
          chain.again = false;
          try {
            const settled = await this.step(region, id);
            if (!settled) chain.again = true;
            this.attempts.delete(id);
          } catch (err) {
            this.retryLater(region, id, err);
            break;
          }
        }
      } finally {
        this.chains.delete(id);
      }
    })();
  }

  private retryLater(region: string | undefined, id: string, err: unknown): void {
    const n = (this.attempts.get(id) ?? 0) + 1;
    this.attempts.set(id, n);
    const delay = Math.min((this.deps.retryBaseMs ?? 500) * 2 ** (n - 1), MAX_RETRY_MS);
    this.log(`${id}: ${err instanceof Error ? err.message : String(err)} (attempt ${n}, retrying in ${delay} ms)`);
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.retries.delete(id);
      if (!this.stopped) this.schedule(region, id);
    }, delay);
    timer.unref();
    this.retries.set(id, { timer, attempts: n });
  }

  /** A context for writes outside API calls; notifications are dropped (this loop is their consumer). */
  private context(region: string): ResourceContext {
    return internalContext(this.deps.store, this.deps.config, region, { afterCommit: () => {} });
  }

  private read(region: string, id: string): StoredInstance | undefined {
    return instanceCollection(this.deps).get(region, id);
  }

  /**
   * Writes observed state if the record is still in `expected`; false when the
   * API moved it on meanwhile (the chain then looks again). Writes queued in
   * the same turn of the event loop share one transaction (one fsync for a
   * thousand launches), each in its own savepoint so one failure spoils no other.
   */
  private commit(region: string, id: string, expected: InstanceStateName, fn: (ctx: ResourceContext, rec: StoredInstance) => void): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.writes.push({ region, id, expected, fn, resolve, reject });
      if (this.writes.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch = this.writes.splice(0);
    const settle: (() => void)[] = [];
    try {
      this.deps.store.transaction(() => {
        for (const w of batch) {
          try {
            const ok = this.deps.store.transaction(() => {
              const ctx = this.context(w.region);
              const col = instanceCollection(ctx);
              const rec = col.get(w.region, w.id);
              if (!rec || rec.State.Name !== w.expected) return false;
              w.fn(ctx, rec);
              col.put(w.region, w.id, rec);
              return true;
            });
            settle.push(() => w.resolve(ok));
          } catch (err) {
            settle.push(() => w.reject(err));
          }
        }
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    for (const s of settle) s();
  }

  /** Applies a runtime event to the record (state, reason, termination time). */
  private event(ctx: ResourceContext, rec: StoredInstance, ev: RuntimeEvent): void {
    const next = applyEvent(rec.State.Name, ev);
    rec.State = instanceState(next);
    const reason = nextStateReason(rec.StateReason as { Code: string; Message: string } | undefined, ev);
    if (reason) rec.StateReason = reason;
    else delete rec.StateReason;
    if (next === 'running') rec.StateTransitionReason = '';
    if (next === 'stopped') {
      releaseAutoPublicIps(ctx, rec);
      delete rec.forceStop;
      rec.hibernate = false;
    }
    if (next === 'terminated') {
      rec.terminatedAt = ctx.now.getTime();
      releaseInterfacesOnTerminate(ctx, rec);
      // TODO(volumes): delete EBS volumes whose mapping says DeleteOnTermination, detach the others.
    }
  }

  private async consoleText(id: string): Promise<string | undefined> {
    try {
      return await this.driver.consoleOutput(id);
    } catch {
      return undefined;
    }
  }

  /** One look at one instance; true when it needs nothing more right now. */
  private async step(region: string | undefined, id: string): Promise<boolean> {
    const rec = region === undefined ? undefined : this.read(region, id);
    const actual = await this.driver.describe(id);
    if (!rec || region === undefined) {
      // unknown to the store (or purged): nothing should run
      if (actual !== undefined) await this.driver.terminate(id);
      return true;
    }
    switch (rec.State.Name) {
      case 'pending':
        return this.stepPending(region, rec, actual);
      case 'stopping': {
        if (actual === 'running') await this.driver.stop(id, { force: rec.forceStop === true, hibernate: rec.hibernate });
        const out = actual === undefined ? undefined : await this.consoleText(id);
        return await this.commit(region, id, 'stopping', (ctx, r) => {
          this.event(ctx, r, 'stopped');
          if (out !== undefined) r.consoleOutput = out;
        });
      }
      case 'shutting-down': {
        await this.driver.terminate(id);
        return await this.commit(region, id, 'shutting-down', (ctx, r) => this.event(ctx, r, 'terminated'));
      }
      case 'running': {
        const recovering = this.recovering.delete(id);
        if (actual === 'stopped' && !recovering) {
          // the guest shut itself down: EC2 stops the instance, or terminates it if its
          // InstanceInitiatedShutdownBehavior says so (the next step then terminates the machine)
          const out = await this.consoleText(id);
          await this.commit(region, id, 'running', (ctx, r) => {
            if (out !== undefined) r.consoleOutput = out;
            if (r.instanceInitiatedShutdownBehavior === 'terminate') {
              r.State = instanceState('shutting-down');
              r.desired = 'terminated';
              r.StateReason = stateReason('crashed');
            } else {
              this.event(ctx, r, 'crashed');
              r.desired = 'stopped';
            }
          });
          return false;
        }
        let acted = false;
        if (actual !== 'running') {
          // the store says running but the machine is gone (crash, host restart) or, on start-up, down: bring it back
          const spec = this.spec(region, rec);
          if (actual === undefined) await this.driver.launch(spec);
          else await this.driver.start(spec);
          acted = true;
        }
        const wanted = rec.rebootGeneration;
        if ((rec.rebootedGeneration ?? 0) < wanted) {
          if (actual === 'running') await this.driver.reboot(id);
          acted = true;
        }
        const out = await this.consoleText(id);
        if (!acted && out === rec.consoleOutput) return true;
        return await this.commit(region, id, 'running', (_ctx, r) => {
          r.rebootedGeneration = Math.max(r.rebootedGeneration ?? 0, wanted);
          if (out !== undefined) r.consoleOutput = out;
        });
      }
      case 'stopped':
        if (actual === 'running') await this.driver.stop(id, { force: true });
        return true;
      case 'terminated':
        if (actual !== undefined) await this.driver.terminate(id);
        return true;
    }
  }

  private async stepPending(region: string, rec: StoredInstance, actual: string | undefined): Promise<boolean> {
    const id = rec.InstanceId;
    // a (new) public IP first, so the runtime can set up NAT for it as the machine comes up
    if (needsPublicIp(this.context(region), rec)) {
      const prepared = await this.commit(region, id, 'pending', (ctx, r) => assignPublicIpOnStart(ctx, r));
      if (!prepared) return false;
    }
    const spec = this.spec(region, this.read(region, id) ?? rec);
    try {
      if (actual === undefined) await this.driver.launch(spec);
      else if (actual === 'stopped') await this.driver.start(spec);
    } catch (err) {
      const ev: RuntimeEvent = rec.everRan ? 'crashed' : 'launch-failed';
      this.log(`${id}: ${err instanceof Error ? err.message : String(err)} (${ev})`);
      if (actual === undefined) await this.driver.terminate(id).catch(() => {});
      return await this.commit(region, id, 'pending', (ctx, r) => this.event(ctx, r, ev));
    }
    const out = await this.consoleText(id);
    return await this.commit(region, id, 'pending', (ctx, r) => {
      this.event(ctx, r, 'launched');
      r.everRan = true;
      r.rebootedGeneration = r.rebootGeneration;
      if (out !== undefined) r.consoleOutput = out;
    });
  }

  /** What the driver needs, from the instance, its interfaces, their subnets and the type catalogue. */
  private spec(region: string, rec: StoredInstance): InstanceSpec {
    const ctx = this.context(region);
    const type = findInstanceType(rec.InstanceType);
    const subnets = this.deps.store.collection(KINDS.subnet);
    const network: NetworkSpec[] = interfacesOf(ctx, rec).map((eni) => {
      const cidr = subnets.get(region, eni.SubnetId)?.CidrBlock ?? '0.0.0.0/0';
      const parsed = parseCidr4(cidr);
      return {
        networkInterfaceId: eni.NetworkInterfaceId,
        deviceIndex: eni.attachment?.DeviceIndex ?? 0,
        privateIp: eni.PrivateIpAddress,
        mac: eni.MacAddress,
        subnetCidr: cidr,
        gateway: parsed ? formatIpv4((parsed.base + 1) >>> 0) : '0.0.0.0',
        publicIp: eni.association?.PublicIp,
        securityGroupIds: eni.Groups.map((g) => g.GroupId!).filter(Boolean),
      };
    });
    network.sort((a, b) => a.deviceIndex - b.deviceIndex);
    return {
      instanceId: rec.InstanceId,
      region,
      availabilityZone: rec.Placement?.AvailabilityZone ?? '',
      imageId: rec.ImageId,
      instanceType: rec.InstanceType,
      vcpus: type?.VCpuInfo?.DefaultVCpus ?? 1,
      memoryMiB: type?.MemoryInfo?.SizeInMiB ?? 1024,
      architecture: rec.Architecture ?? 'x86_64',
      network,
      userData: rec.userData ? Buffer.from(rec.userData, 'base64') : undefined,
      publicKey: rec.publicKey,
      hostname: privateDnsName(region, rec.PrivateIpAddress),
      blockDevices: (rec.BlockDeviceMappings ?? []).map((b) => ({
        deviceName: b.DeviceName ?? '',
        kind: 'ebs' as const,
        volumeId: b.Ebs?.VolumeId,
        root: b.DeviceName === rec.RootDeviceName,
      })),
    };
  }
}
