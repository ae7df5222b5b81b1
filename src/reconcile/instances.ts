/**
 * The instance reconciler: the API records what an instance should be
 * (`desired`: running, stopped or terminated) and the transitional state
 * (pending, stopping, shutting-down); this reconciler drives the runtime
 * there and writes what it observed (running, stopped, terminated) through
 * the lifecycle event table.
 *
 * It runs on the generic ReconcileLoop (loop.ts): one chain per instance id,
 * retries with backoff, batched commits, start-up adoption, a periodic
 * resync, and the drivers' event streams (a guest that powers off, a machine
 * or device the host lost) scheduling the instance without any API call.
 *
 * A step reads the record, compares it with the drivers' view, does what
 * `desired` asks and commits the result only if the record is still in the
 * state the step started from (otherwise the API moved it on meanwhile and
 * the chain runs again). Before Hypervisor.launch/start it prepares the host
 * resources the Hypervisor gets — a BlockStore volume per mapping (the root
 * from the image), a Fabric plug and a Firewall rule set per interface, the
 * public IP mappings — and it releases them on stop (the public IPs that go
 * back to the pool) and terminate (unplug, volumes, firewall). Every driver
 * operation is idempotent, so a crash half-way is repaired by the next step.
 */
import { internalContext, type ChangeEvent, type ResourceContext } from '../resources/context.js';
import {
  assignPublicIpOnStart,
  consoleOutputCollection,
  consoleTail,
  instanceCollection,
  interfacesOf,
  releaseAutoPublicIps,
  releaseInterfacesOnTerminate,
  type StoredInstance,
} from '../resources/ec2/instances.js';
import { privateDnsName } from '../resources/ec2/public-ips.js';
import type { DesiredInstanceState, NetworkInterfaceRecord, VolumeOrigin, VolumeRecord } from '../resources/ec2/records.js';
import {
  attachedToInstance,
  attachmentsOf,
  attachmentTo,
  deletedWithInstance,
  deviceLimitsOf,
  finishAttach,
  finishDetach,
  releaseVolumesOnTerminate,
} from '../resources/ec2/volumes.js';
import { finishInterfaceAttach, finishInterfaceDetach } from '../resources/ec2/interface-attachments.js';
import { devicePath } from '../domain/volume-types.js';
import { HypervisorError, type DiskLimits, type DiskSpec, type Hypervisor, type InstanceSpec, type NicSpec, type RuntimeState } from '../compute/hypervisor.js';
import type { ProbeResult } from '../compute/driver.js';
import { FabricError, type Fabric, type Ipv6Addressing, type NetworkInfo, type PluggedInterface, type PlugRequest, type PublicIpMapping } from '../network/fabric.js';
import { ipv6Of, ipv6Readdress } from './ipv6-interfaces.js';
import { FirewallError, type Firewall } from '../network/firewall.js';
import { BlockStoreError, type BlockStore, type VolumeSource } from '../storage/block-store.js';
import { MockFabric } from '../network/drivers/mock-fabric.js';
import { guestResolver, resolvConf, VPC_DHCP_OPTIONS_CHANGE } from '../resources/ec2/dhcp-options.js';
import { MockFirewall } from '../network/drivers/mock-firewall.js';
import { aclOfSubnet, resolveSubnetAcl } from './network-acls.js';
import { MockBlockStore } from '../storage/drivers/mock.js';
import { findInstanceType } from '../domain/instance-types.js';
import {
  applyEvent,
  instanceState,
  isStillVisible,
  nextStateReason,
  type InstanceStateName,
  type RuntimeEvent,
} from '../domain/lifecycle.js';
import { LoopReconciler } from './loop-reconciler.js';
import { GroupMembers, groupSetName, privateIpsOf, resolveRuleSet } from './security-rules.js';
import type { ReconcilerDeps } from './reconciler.js';
import { KINDS, LIVE_INDEX, TERMINATED_INDEX } from '../resources/ec2/kinds.js';
import { instanceSettingsUnsettled, settleInstanceSettings } from '../resources/ec2/instance-settling.js';
import { instanceStoreRootGiB } from '../resources/ec2/image-bundles.js';
import { pointsTaken } from '../resources/ec2/snapshot-points.js';
import { takeSnapshotPoints, type SnapshotPoint } from './snapshot-points.js';

export interface InstanceReconcilerDeps extends ReconcilerDeps {
  driver: Hypervisor;
  /** VPC networks and interfaces (default: a fresh MockFabric) */
  fabric?: Fabric;
  /** security groups (default: a fresh MockFirewall) */
  firewall?: Firewall;
  /** volumes (default: a fresh MockBlockStore) */
  blockStore?: BlockStore;
  /** where failures are reported (default: stderr) */
  log?: (line: string) => void;
  /** how often terminated instances older than an hour are purged (default 5 min) */
  purgeIntervalMs?: number;
  /** ms since epoch (tests move it) */
  clock?: () => number;
  /** first retry delay after a failed driver operation; doubles up to 30 s (default 500 ms) */
  retryBaseMs?: number;
  /** every instance is looked at again this often (default 60 s; 0 = never) */
  resyncMs?: number;
  /**
   * the host file holding an image's disk for a device, built or fetched on first use
   * (undefined: the block store needs none, as the mock)
   */
  imageFile?: (region: string, imageId: string, deviceName: string) => Promise<string | undefined>;
  /** told each VPC network the fabric made (the metadata service and resolver listen at its service address) */
  onNetwork?: (info: NetworkInfo, region: string) => Promise<void>;
  /** a snapshot whose point in time this reconciler took: the volume reconciler stores it now */
  onSnapshot?: (region: string, snapshotId: string) => void;
}

/** A volume the instance has, as the BlockStore is asked for it. */
interface InstanceVolume {
  volumeId: string;
  deviceName: string;
  sizeGiB: number;
  source: VolumeSource;
  root: boolean;
  /** terminating the instance deletes it (for a Multi-Attach volume: only as its last attachment) */
  deleteOnTermination: boolean;
  /** a Multi-Attach volume: other instances may hold the same device */
  shared?: boolean;
  /** an instance store volume: on the host only, new (empty) at every start, gone at stop */
  ephemeral?: boolean;
  /** the volume type's I/O limits */
  limits?: DiskLimits;
}

/** The block store's source for a volume's origin. */
function blockSource(o: VolumeOrigin): VolumeSource {
  if (o.kind === 'image') return { kind: 'image', imageId: o.imageId, deviceName: o.deviceName };
  if (o.kind === 'snapshot') return { kind: 'snapshot', snapshotId: o.snapshotId };
  return { kind: 'empty' };
}

/**
 * The instance store volumes of an instance type, as ephemeral block devices:
 * ephemeral0 on the first free /dev/xvd? name after the EBS devices, and so on.
 */
export function instanceStoreOf(instanceId: string, instanceType: string, taken: readonly string[]): InstanceVolume[] {
  const disks = findInstanceType(instanceType)?.InstanceStorageInfo?.Disks ?? [];
  const out: InstanceVolume[] = [];
  const used = new Set(taken.map((d) => d.replace(/^\/dev\/(sd|xvd)/, '')));
  let letter = 'b'.charCodeAt(0);
  for (const d of disks) {
    for (let i = 0; i < (d.Count ?? 1); i++) {
      while (used.has(String.fromCharCode(letter))) letter++;
      const name = String.fromCharCode(letter++);
      out.push({
        volumeId: `${instanceId}-ephemeral${out.length}`,
        deviceName: `/dev/xvd${name}`,
        sizeGiB: d.SizeInGB ?? 1,
        source: { kind: 'empty' },
        root: false,
        deleteOnTermination: true,
        ephemeral: true,
      });
    }
  }
  return out;
}

/** Whether a starting instance should get a public IP it does not hold yet (checked before writing). */
function needsPublicIp(ctx: ResourceContext, rec: StoredInstance): boolean {
  if (!rec.publicIpOnStart) return false;
  const primary = interfacesOf(ctx, rec).find((e) => e.attachment?.DeviceIndex === 0);
  return primary !== undefined && primary.association === undefined;
}

/** How long a running guest may take to answer before its instance check is impaired (EC2 shows initializing for a few minutes). */
const INSTANCE_CHECK_GRACE_MS = 5 * 60_000;

/** When a launched or started instance's console is read again (ms after it runs). */
const CONSOLE_FOLLOW_MS = [1_000, 3_000, 10_000, 30_000];

/** What a state implies the instance should become. */
function desiredFor(state: InstanceStateName, current: DesiredInstanceState): DesiredInstanceState {
  if (state === 'stopping' || state === 'stopped') return 'stopped';
  if (state === 'shutting-down' || state === 'terminated') return 'terminated';
  return current;
}

const byDeviceIndex = (a: NetworkInterfaceRecord, b: NetworkInterfaceRecord) =>
  (a.attachment?.DeviceIndex ?? 0) - (b.attachment?.DeviceIndex ?? 0);

export class InstanceReconciler extends LoopReconciler {
  readonly driver: Hypervisor;
  readonly fabric: Fabric;
  readonly firewall: Firewall;
  readonly blockStore: BlockStore;
  private purgeTimer: NodeJS.Timeout | undefined;
  /** ids looked at by start(): a stopped machine of a running instance is restarted, not taken as a guest shutdown */
  private readonly recovering = new Set<string>();
  /** instance id → region, learnt from notifications and listings (driver events carry no region) */
  private readonly regions = new Map<string, string>();
  private readonly members = new GroupMembers();
  /** address sets as last put to the firewall (the member arrays GroupMembers handed out) */
  private readonly putSets = new Map<string, string[]>();
  private readonly log: (line: string) => void;
  private readonly now: () => number;

  constructor(private readonly deps: InstanceReconcilerDeps) {
    const log = deps.log ?? ((line: string) => process.stderr.write(`reconcile/instances: ${line}\n`));
    super({ store: deps.store, name: 'instances', log, retryBaseMs: deps.retryBaseMs, resyncMs: deps.resyncMs });
    this.driver = deps.driver;
    this.fabric = deps.fabric ?? new MockFabric();
    this.firewall = deps.firewall ?? new MockFirewall();
    this.blockStore = deps.blockStore ?? new MockBlockStore();
    this.log = log;
    this.now = deps.clock ?? Date.now;
  }

  /** The instances a change concerns, each scheduled as it is yielded (its region learnt first). */
  protected *keysFor(e: ChangeEvent): Iterable<string> {
    if (e.kind === 'instance') {
      this.regions.set(e.id, e.region);
      this.members.invalidate(e.region);
      yield e.id;
      return;
    }
    if (e.kind === VPC_DHCP_OPTIONS_CHANGE) {
      // the VPC's DHCP options changed: its running instances' resolv.conf is rewritten in place
      for (const rec of instanceCollection(this.deps).find(e.region, LIVE_INDEX, '1')) {
        if (rec.VpcId === e.id && (rec.State.Name === 'pending' || rec.State.Name === 'running')) {
          this.regions.set(rec.InstanceId, e.region);
          yield rec.InstanceId;
        }
      }
      return;
    }
    if (e.kind === 'security-group' || e.kind === 'network-interface' || e.kind === 'elastic-ip' || e.kind === 'network-acl' || e.kind === 'subnet' || e.kind === 'prefix-list') {
      // rule sets, memberships, subnet ACLs and public IP mappings of the region's live instances may have changed
      this.members.invalidate(e.region);
      for (const rec of instanceCollection(this.deps).find(e.region, LIVE_INDEX, '1')) {
        if (rec.State.Name === 'pending' || rec.State.Name === 'running') {
          this.regions.set(rec.InstanceId, e.region);
          yield rec.InstanceId;
        }
      }
    }
  }

  override async start(): Promise<void> {
    const probes: [string, Promise<ProbeResult>][] = [
      [`hypervisor '${this.driver.name}'`, this.driver.probe()],
      [`fabric '${this.fabric.name}'`, this.fabric.probe()],
      [`firewall '${this.firewall.name}'`, this.firewall.probe()],
      [`block store '${this.blockStore.name}'`, this.blockStore.probe()],
    ];
    for (const [what, p] of probes) {
      const r = await p;
      if (!r.ok) throw new Error(`the ${what} driver cannot run on this host: ${r.reason}`);
    }
    this.loop.watch(this.driver.events, (e) => e.instanceId);
    this.loop.watch(this.blockStore.events, (e) => e.instanceId);
    this.loop.watch(this.fabric.events, (e) => e.instanceId);
    await super.start();
    this.purge();
    const every = this.deps.purgeIntervalMs ?? 300_000;
    this.purgeTimer = setInterval(() => this.purge(), every);
    this.purgeTimer.unref();
  }

  override async stop(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await super.stop();
    await this.driver.close();
    await this.fabric.close();
    await this.firewall.close();
    await this.blockStore.close();
  }

  /** Looks at every instance again now (what the periodic resync does). */
  resync(): Promise<number> {
    return this.loop.resync();
  }

  /**
   * Deletes terminated instances (their tags and console output) an hour after
   * termination, found through the store's index of termination times, oldest
   * first: no instance is read that is not due.
   */
  purge(): number {
    if (this.loop.isStopped) return 0;
    const now = this.now();
    let purged = 0;
    const col = instanceCollection(this.deps);
    const consoles = consoleOutputCollection(this.deps);
    this.deps.store.transaction(() => {
      for (const region of this.watchedRegions()) {
        for (const entry of col.indexValues(region, TERMINATED_INDEX)) {
          const slash = entry.indexOf('/');
          if (isStillVisible('terminated', Number(entry.slice(0, slash)), now)) break;
          const id = entry.slice(slash + 1);
          if (this.loop.busy(id)) continue;
          col.delete(region, id);
          consoles.delete(region, id);
          this.deps.store.tags.removeAll(region, id);
          this.regions.delete(id);
          purged++;
        }
      }
    });
    return purged;
  }

  /** The regions instances may live in: the served ones and any the start-up scan found. */
  private watchedRegions(): Set<string> {
    return new Set([...this.deps.config.regions, ...this.regions.values()]);
  }

  /**
   * Start-up: every instance that is not done, and every machine the driver has
   * (one scan of every instance, once). Resync: the live instances, through the
   * store's index, and every machine the driver has — a machine whose instance
   * is terminated, purged or unknown is looked at, and its step ends it.
   */
  protected async keys(why: 'start' | 'resync'): Promise<string[]> {
    const present = new Set(await this.driver.list());
    const out: string[] = [];
    const col = instanceCollection(this.deps);
    if (why === 'start') {
      for (const { region, value } of col.listAllRegions()) {
        const known = present.delete(value.InstanceId);
        this.regions.set(value.InstanceId, region);
        // a terminated instance needs nothing unless the driver still has it
        if (value.State.Name !== 'terminated' || known) {
          this.recovering.add(value.InstanceId);
          out.push(value.InstanceId);
        }
      }
      for (const orphan of present) {
        this.regions.delete(orphan);
        out.push(orphan);
      }
      return out;
    }
    for (const region of this.watchedRegions()) {
      for (const value of col.find(region, LIVE_INDEX, '1')) {
        present.delete(value.InstanceId);
        this.regions.set(value.InstanceId, region);
        out.push(value.InstanceId);
      }
    }
    out.push(...present);
    return out;
  }

  /** The instance's region, from what was learnt, else by looking in every served region. */
  private regionOf(id: string): string | undefined {
    const known = this.regions.get(id);
    if (known !== undefined) return known;
    const col = instanceCollection(this.deps);
    for (const region of this.deps.config.regions) {
      if (col.get(region, id)) {
        this.regions.set(id, region);
        return region;
      }
    }
    return undefined;
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
   * API moved it on meanwhile (the chain then looks again). Batched by the loop.
   */
  private commit(region: string, id: string, expected: InstanceStateName, fn: (ctx: ResourceContext, rec: StoredInstance) => void): Promise<boolean> {
    return this.loop.commit(() => {
      const ctx = this.context(region);
      const col = instanceCollection(ctx);
      const rec = col.get(region, id);
      if (!rec || rec.State.Name !== expected) return false;
      fn(ctx, rec);
      col.put(region, id, rec);
      return true;
    });
  }

  /** Applies a runtime event to the record (state, reason, desired, termination time, store-side releases). */
  private event(ctx: ResourceContext, rec: StoredInstance, ev: RuntimeEvent): void {
    const next = applyEvent(rec.State.Name, ev, { shutdownBehavior: rec.instanceInitiatedShutdownBehavior });
    rec.State = instanceState(next);
    rec.desired = desiredFor(next, rec.desired);
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
      releaseVolumesOnTerminate(ctx, rec);
    }
  }

  /** The console's tail, when the driver has the machine and it differs from what is stored. */
  private async consoleUpdate(region: string, id: string): Promise<string | undefined> {
    let text: string;
    try {
      text = consoleTail(await this.driver.consoleOutput(id));
    } catch {
      return undefined;
    }
    const stored = consoleOutputCollection(this.deps).get(region, id)?.output;
    return text === stored ? undefined : text;
  }

  private writeConsole(ctx: ResourceContext, id: string, text: string | undefined): void {
    if (text === undefined) return;
    consoleOutputCollection(ctx).put(ctx.region, id, { InstanceId: id, output: text, updatedAt: ctx.now.getTime() });
  }

  /** One look at one instance; true when it needs nothing more right now. */
  protected async step(id: string): Promise<boolean> {
    const region = this.regionOf(id);
    const rec = region === undefined ? undefined : this.read(region, id);
    const actual = await this.driver.describe(id);
    if (!rec || region === undefined) {
      // unknown to the store (or purged): nothing should run, nothing stay plugged or attached
      await this.removeOrphan(id, actual);
      this.regions.delete(id);
      return true;
    }
    const recovering = this.recovering.delete(id);
    if (instanceSettingsUnsettled({ store: this.deps.store, region }, rec)) await this.commit(region, id, rec.State.Name, (ctx, r) => settleInstanceSettings(ctx, r));
    if ((rec.pendingPoints ?? []).length > 0 && rec.State.Name !== 'pending') {
      // snapshots of its volumes at one point in time (CreateSnapshots, CreateImage): taken before anything else
      await this.takePoints(region, rec, actual);
      return false;
    }
    switch (rec.desired) {
      case 'running':
        return this.keepRunning(region, rec, actual, recovering);
      case 'stopped':
        return this.keepStopped(region, rec, actual);
      case 'terminated':
        return this.keepTerminated(region, rec, actual);
    }
  }

  private async keepRunning(region: string, rec: StoredInstance, actual: RuntimeState | undefined, recovering: boolean): Promise<boolean> {
    const id = rec.InstanceId;
    const state = rec.State.Name;
    if (state !== 'pending' && state !== 'running') return true;
    if (state === 'running' && actual === 'stopped' && !recovering) {
      // the guest shut itself down: EC2 stops the instance, or terminates it if its
      // InstanceInitiatedShutdownBehavior says so; the next step carries that out
      const out = await this.consoleUpdate(region, id);
      await this.commit(region, id, 'running', (ctx, r) => {
        this.event(ctx, r, 'guest-shutdown');
        this.writeConsole(ctx, id, out);
      });
      return false;
    }
    if (state === 'pending') return this.launch(region, rec, actual);

    // running: keep the resources in shape (rule sets, public IPs, lost devices), and the machine up
    const spec = await this.prepare(region, rec);
    let acted = false;
    let resolverApplied: string | undefined;
    if (actual !== 'running') {
      // the store says running but the machine is gone (crash, host restart) or, on start-up, down: bring it back
      if (actual === undefined) await this.driver.launch(spec);
      else await this.driver.start(spec);
      resolverApplied = spec.resolvConf;
      acted = true;
    } else if (spec.resolvConf !== undefined && spec.resolvConf !== rec.resolverApplied) {
      // the VPC's DHCP options changed since the machine got its resolv.conf: rewritten in place, as a lease renewal would
      await this.driver.setResolvConf(id, spec.resolvConf);
      resolverApplied = spec.resolvConf;
      acted = true;
    }
    const wanted = rec.rebootGeneration;
    if ((rec.rebootedGeneration ?? 0) < wanted) {
      if (actual === 'running') await this.driver.reboot(id);
      acted = true;
    }
    // volumes attached or detached since: handed over or taken away now
    if (await this.syncAttachments(region, rec, 'running')) acted = true;
    // interfaces attached since (plugged by prepare above) or detaching (unplugged now)
    if (await this.syncInterfaces(region, rec)) acted = true;
    const out = await this.consoleUpdate(region, id);
    const checks = this.statusChecks(rec, await this.driver.guestReachable(id));
    const changed = checks.system !== rec.statusChecks?.system || checks.instance !== rec.statusChecks?.instance;
    if (!acted && out === undefined && !changed) return true;
    return await this.commit(region, id, 'running', (ctx, r) => {
      r.rebootedGeneration = Math.max(r.rebootedGeneration ?? 0, wanted);
      if (resolverApplied !== undefined) r.resolverApplied = resolverApplied;
      this.writeConsole(ctx, id, out);
      if (changed) r.statusChecks = checks;
    });
  }

  /**
   * The status checks of a running instance: the system check passes while the machine
   * runs; the instance check once the guest answers on its network, initializing until
   * then — impaired when it has not for INSTANCE_CHECK_GRACE_MS since the machine ran.
   */
  private statusChecks(rec: StoredInstance, reachable: boolean): NonNullable<StoredInstance['statusChecks']> {
    const now = this.now();
    const since = rec.statusChecks?.since ?? now;
    if (reachable) return { system: 'ok', instance: 'ok', since: rec.statusChecks?.instance === 'ok' ? since : now };
    const booting = now - since < INSTANCE_CHECK_GRACE_MS;
    return { system: 'ok', instance: booting ? 'initializing' : 'impaired', since };
  }

  private async launch(region: string, rec: StoredInstance, actual: RuntimeState | undefined): Promise<boolean> {
    const id = rec.InstanceId;
    // a (new) public IP first, so the fabric maps it as the machine comes up
    if (needsPublicIp(this.context(region), rec)) {
      const prepared = await this.commit(region, id, 'pending', (ctx, r) => assignPublicIpOnStart(ctx, r));
      if (!prepared) return false;
    }
    const current = this.read(region, id) ?? rec;
    let resolverApplied: string | undefined;
    try {
      const spec = await this.prepare(region, current);
      if (actual === undefined) await this.driver.launch(spec);
      else if (actual === 'stopped') await this.driver.start(spec);
      else if (spec.resolvConf !== undefined) await this.driver.setResolvConf(id, spec.resolvConf);
      resolverApplied = spec.resolvConf;
    } catch (err) {
      const ev: RuntimeEvent = current.everRan ? 'crashed' : 'launch-failed';
      this.log(`${id}: ${err instanceof Error ? err.message : String(err)} (${ev})`);
      if (actual === undefined) await this.driver.terminate(id).catch(() => {});
      await this.commit(region, id, 'pending', (ctx, r) => this.event(ctx, r, ev));
      // the next step releases what was prepared (stopped: public IPs; terminated: everything)
      return false;
    }
    const out = await this.consoleUpdate(region, id);
    const reachable = await this.driver.guestReachable(id);
    const done = await this.commit(region, id, 'pending', (ctx, r) => {
      this.event(ctx, r, 'launched');
      r.statusChecks = { system: 'ok', instance: reachable ? 'ok' : 'initializing', since: this.now() };
      r.everRan = true;
      r.rebootedGeneration = r.rebootGeneration;
      if (resolverApplied !== undefined) r.resolverApplied = resolverApplied;
      else delete r.resolverApplied;
      this.writeConsole(ctx, id, out);
    });
    if (done) {
      // the volumes it was given are attached now
      await this.syncAttachments(region, current, 'running');
      await this.syncInterfaces(region, current);
      this.followBoot(id);
    }
    return done;
  }

  /**
   * A booting guest writes its console for a while after it runs: the instance is looked at
   * again a few times (each look stores the console's tail when it changed), as EC2's
   * console output follows a boot within seconds, then at the periodic resync.
   */
  private followBoot(id: string): void {
    for (const ms of CONSOLE_FOLLOW_MS) {
      const t = setTimeout(() => {
        if (!this.loop.isStopped) this.loop.schedule(id);
      }, ms);
      t.unref();
    }
  }

  private async keepStopped(region: string, rec: StoredInstance, actual: RuntimeState | undefined): Promise<boolean> {
    const id = rec.InstanceId;
    if (rec.State.Name === 'stopping') {
      if (actual === 'running') await this.driver.stop(id, { force: rec.forceStop === true, hibernate: rec.hibernate });
      // the instance store goes with the host (also when hibernating: its RAM is kept, its disks are not)
      if (!rec.hibernate) await this.discardInstanceStore(region, rec);
      // the public IPs the stop releases stop being routed before the store gives them back
      await this.syncPublicIps(region, rec, undefined, (eni) => eni.association?.allocationId !== undefined);
      const out = actual === undefined ? undefined : await this.consoleUpdate(region, id);
      const stopped = await this.commit(region, id, 'stopping', (ctx, r) => {
        this.event(ctx, r, 'stopped');
        this.writeConsole(ctx, id, out);
      });
      // interfaces attached or detached while it stopped
      if (stopped) await this.syncInterfaces(region, rec);
      return stopped;
    }
    if (rec.State.Name === 'stopped') {
      if (actual === 'running') await this.driver.stop(id, { force: true });
      await this.syncPublicIps(region, rec);
      // a volume attached to a stopped instance is given to it at its next start
      await this.syncAttachments(region, rec, actual === 'running' ? 'stopped' : actual);
      // an interface attached to a stopped instance is plugged at its next start
      await this.syncInterfaces(region, rec);
    }
    return true;
  }

  private async keepTerminated(region: string, rec: StoredInstance, actual: RuntimeState | undefined): Promise<boolean> {
    const id = rec.InstanceId;
    if (rec.State.Name !== 'shutting-down' && rec.State.Name !== 'terminated') return true;
    if (actual !== undefined) await this.driver.terminate(id);
    const groups = new Set(interfacesOf(this.context(region), rec).flatMap((e) => e.Groups.map((g) => g.GroupId ?? '')));
    const shared = attachedToInstance({ store: this.deps.store, region }, id).filter(({ volume: v }) => attachmentsOf(v).length > 1).map(({ volume: v }) => v.VolumeId);
    await this.release(region, rec);
    if (rec.State.Name === 'terminated') return true;
    const done = await this.commit(region, id, 'shutting-down', (ctx, r) => this.event(ctx, r, 'terminated'));
    if (done) {
      // the Multi-Attach volumes it let go of: the instances still holding them share their limits among fewer
      for (const volumeId of shared) await this.applyVolumeLimits(region, volumeId);
      // its interfaces (deleted or detached) are no group's members any more: the sets other members use shrink now
      this.members.invalidate(region);
      const ctx = this.context(region);
      for (const groupId of groups) {
        const name = groupSetName(groupId);
        if (!this.putSets.has(name)) continue;
        const addresses = this.members.of(ctx, groupId);
        this.putSets.set(name, addresses);
        await this.firewall.putAddressSet({ name, addresses });
      }
    }
    return done;
  }

  /**
   * The volumes the machine gets: its EBS volumes that are attached or attaching
   * (not detaching), its instance store, and (none recorded: old records) a root
   * from the image.
   */
  private volumesOf(region: string, rec: StoredInstance): InstanceVolume[] {
    const rootName = rec.RootDeviceName ?? '/dev/xvda';
    const out: InstanceVolume[] = [];
    for (const { volume: v, attachment: a } of attachedToInstance({ store: this.deps.store, region }, rec.InstanceId)) {
      if (a.State === 'detaching') continue;
      out.push({
        volumeId: v.VolumeId,
        deviceName: devicePath(a.Device),
        sizeGiB: v.Size,
        source: blockSource(v.origin),
        root: a.Device === rootName,
        deleteOnTermination: deletedWithInstance(v, rec.InstanceId),
        ...(v.MultiAttachEnabled || attachmentsOf(v).length > 1 ? { shared: true } : {}),
        limits: deviceLimitsOf(v),
      });
    }
    out.push(...instanceStoreOf(rec.InstanceId, rec.InstanceType, out.map((v) => v.deviceName)));
    if (!out.some((v) => v.root)) {
      // an instance store root (an instance-store-backed AMI): a copy of the bundle's disk, kept over reboots, gone at termination
      const instanceStore = rec.RootDeviceType === 'instance-store';
      const image = instanceStore ? this.deps.store.collection(KINDS.image).get(region, rec.ImageId) : undefined;
      out.unshift({
        volumeId: `${rec.InstanceId}-root`,
        deviceName: rootName,
        sizeGiB: instanceStore ? instanceStoreRootGiB(image?.importedBytes) : 8,
        source: { kind: 'image', imageId: rec.ImageId, deviceName: rootName },
        root: true,
        deleteOnTermination: true,
      });
    }
    return out;
  }

  /** Prepares every host resource the machine needs, idempotently, and returns what the Hypervisor gets. */
  private async prepare(region: string, rec: StoredInstance): Promise<InstanceSpec> {
    const id = rec.InstanceId;
    const ctx = this.context(region);
    // volumes and interfaces are independent: prepared side by side (each is a few host commands)
    const [volumes, nics] = await Promise.allSettled([this.prepareVolumes(region, rec), this.prepareNetwork(region, rec, ctx)]);
    if (volumes.status === 'rejected') throw volumes.reason;
    if (nics.status === 'rejected') throw nics.reason;
    const blockDevices = volumes.value;
    const network = nics.value;
    const type = findInstanceType(rec.InstanceType);
    return {
      instanceId: id,
      vcpus: type?.VCpuInfo?.DefaultVCpus ?? 1,
      memoryMiB: type?.MemoryInfo?.SizeInMiB ?? 1024,
      architecture: rec.Architecture ?? 'x86_64',
      network,
      blockDevices,
      userData: rec.userData ? Buffer.from(rec.userData, 'base64') : undefined,
      publicKey: rec.publicKey,
      hostname: privateDnsName(region, rec.PrivateIpAddress),
      resolvConf: resolverOf(ctx, rec),
    };
  }

  /** The instance's volumes, created and attached. */
  private async prepareVolumes(region: string, rec: StoredInstance): Promise<DiskSpec[]> {
    const id = rec.InstanceId;
    const blockDevices: DiskSpec[] = [];
    for (const v of this.volumesOf(region, rec)) blockDevices.push(await this.diskFor(region, id, v, v.root));
    return blockDevices;
  }

  /** A volume made ready for the instance (created if need be, attached on the host) as the device its machine gets. */
  private async diskFor(region: string, id: string, v: InstanceVolume, root: boolean): Promise<DiskSpec> {
    await this.ensureVolume(region, v);
    const path = await this.blockStore.attach(v.volumeId, id, { shared: v.shared === true });
    const disk: DiskSpec = { deviceName: v.deviceName, path, root };
    if (v.limits) disk.limits = v.limits;
    return disk;
  }

  /** The volume's bytes on the host: made now if missing (one made before, maybe grown since, is taken as it is). */
  private async ensureVolume(region: string, v: InstanceVolume): Promise<void> {
    let source = v.source;
    if (source.kind === 'image' && this.deps.imageFile) {
      let file: string | undefined;
      try {
        file = await this.deps.imageFile(region, source.imageId, source.deviceName);
      } catch (err) {
        // the image is gone (deregistered after the launch): a volume made from it before stays as it is
        if ((await this.blockStore.listVolumes()).some((x) => x.volumeId === v.volumeId)) return;
        throw err;
      }
      if (file !== undefined) source = { ...source, file };
    }
    try {
      await this.blockStore.createVolume({ volumeId: v.volumeId, sizeGiB: v.sizeGiB, source });
    } catch (err) {
      // it exists with another size: a ModifyVolume grew it (or is growing it): the volume is there
      if (!(err instanceof BlockStoreError) || err.code !== 'conflict') throw err;
    }
  }

  /**
   * Attachments that changed since the machine was prepared: an attaching volume is
   * handed to the machine (a stopped one gets it at its next start), a detaching one
   * taken away and detached on the host; each then committed.
   */
  private async syncAttachments(region: string, rec: StoredInstance, machine: RuntimeState | undefined): Promise<boolean> {
    const id = rec.InstanceId;
    let changed = false;
    let prepared: InstanceVolume[] | undefined;
    for (const { volume: v, attachment: a } of attachedToInstance({ store: this.deps.store, region }, id)) {
      if (a.State === 'attaching') {
        // the instances already holding a Multi-Attach volume give up part of its limits first: the sum stays within them
        if (attachmentsOf(v).length > 1) await this.applyVolumeLimits(region, v.VolumeId);
        if (machine === 'running') {
          prepared ??= this.volumesOf(region, rec);
          const vol = prepared.find((x) => x.volumeId === v.VolumeId);
          if (!vol) continue;
          await this.driver.attachDisk(id, await this.diskFor(region, id, vol, false));
        }
        changed = (await this.commitVolume(region, v.VolumeId, id, 'attaching', (ctx, r) => finishAttach(ctx, r, id))) || changed;
      } else if (a.State === 'detaching') {
        if (machine !== undefined) await this.driver.detachDisk(id, devicePath(a.Device));
        // this instance lets go; a Multi-Attach volume's device stays while another instance holds it
        await this.blockStore.detach(v.VolumeId, id);
        const detached = await this.commitVolume(region, v.VolumeId, id, 'detaching', (ctx, r) => finishDetach(ctx, r, id));
        // the instances still holding it share its limits among fewer
        if (detached && attachmentsOf(v).length > 1) await this.applyVolumeLimits(region, v.VolumeId);
        changed = detached || changed;
      }
    }
    return changed;
  }

  /**
   * A volume's I/O limits (deviceLimitsOf: a Multi-Attach volume's split among the
   * instances holding it) on the running machines it is attached to, at once: after a
   * ModifyVolume (the volume reconciler awaits this before it reports optimizing) and
   * when an instance comes to or leaves a Multi-Attach volume. An
   * attaching volume is handed over with them anyway, a stopped machine gets them
   * at its next start (both read deviceLimitsOf).
   */
  async applyVolumeLimits(region: string, volumeId: string): Promise<void> {
    const v = this.deps.store.collection(KINDS.volume).get(region, volumeId);
    if (!v) return;
    for (const a of attachmentsOf(v)) {
      if (a.State !== 'attached') continue;
      if ((await this.driver.describe(a.InstanceId)) !== 'running') continue;
      try {
        await this.driver.setDiskLimits(a.InstanceId, devicePath(a.Device), deviceLimitsOf(v));
      } catch (err) {
        // the machine went away meanwhile: its next start reads the new limits
        if (!(err instanceof HypervisorError) || err.code !== 'not-found') throw err;
      }
    }
  }

  /** Writes a volume's attachment change if its attachment to the instance is still in `expected`. */
  private commitVolume(region: string, volumeId: string, instanceId: string, expected: 'attaching' | 'detaching', fn: (ctx: ResourceContext, v: VolumeRecord) => void): Promise<boolean> {
    return this.loop.commit(() => {
      const ctx = this.context(region);
      const v = ctx.store.collection(KINDS.volume).get(region, volumeId);
      if (!v || attachmentTo(v, instanceId)?.State !== expected) return false;
      fn(ctx, v);
      return true;
    });
  }

  /**
   * Interface attachments that changed since the machine was prepared: an
   * attaching interface (plugged by prepare, or left for the next start of a
   * stopped instance) is committed attached; a detaching one is unplugged,
   * its rule set removed, and committed detached.
   */
  private async syncInterfaces(region: string, rec: StoredInstance): Promise<boolean> {
    const id = rec.InstanceId;
    let changed = false;
    for (const eni of interfacesOf(this.context(region), rec)) {
      const a = eni.attachment;
      if (a?.InstanceId !== id) continue;
      if (a.Status === 'attaching') {
        changed = (await this.commitInterface(region, eni.NetworkInterfaceId, (ctx, e) => finishInterfaceAttach(ctx, e))) || changed;
      } else if (a.Status === 'detaching') {
        await this.fabric.unplug(eni.NetworkInterfaceId);
        await this.firewall.remove(eni.NetworkInterfaceId);
        changed = (await this.commitInterface(region, eni.NetworkInterfaceId, (ctx, e) => finishInterfaceDetach(ctx, e))) || changed;
      }
    }
    return changed;
  }

  /** Writes an interface's attachment change if fn finds it still in the state it expects. */
  private commitInterface(region: string, eniId: string, fn: (ctx: ResourceContext, e: NetworkInterfaceRecord) => boolean): Promise<boolean> {
    return this.loop.commit(() => {
      const ctx = this.context(region);
      const e = ctx.store.collection(KINDS.networkInterface).get(region, eniId);
      return e ? fn(ctx, e) : false;
    });
  }

  /** The instance's interfaces, plugged, with their security groups and subnet ACLs applied and their public IPs mapped. */
  private async prepareNetwork(region: string, rec: StoredInstance, ctx: ResourceContext): Promise<NicSpec[]> {
    const id = rec.InstanceId;
    // subnets and VPCs change rarely: their cached region lists serve every step
    const subnets = this.deps.store.collection(KINDS.subnet).list(region);
    const vpcs = this.deps.store.collection(KINDS.vpc).list(region);
    const network: NicSpec[] = [];
    const guards: (() => Promise<void>)[] = [];
    const enis = interfacesOf(ctx, rec)
      .filter((e) => e.attachment?.InstanceId === id && e.attachment.Status !== 'detaching')
      .sort(byDeviceIndex);
    for (const eni of enis) {
      const subnet = subnets.find((s) => s.SubnetId === eni.SubnetId);
      const subnetCidr = subnet?.CidrBlock ?? '0.0.0.0/0';
      const vpcCidr = vpcs.find((v) => v.VpcId === eni.VpcId)?.CidrBlock ?? '0.0.0.0/0';
      const net = await this.fabric.ensureNetwork({ vpcId: eni.VpcId, cidrBlock: vpcCidr });
      if (net.serviceAddress !== undefined && this.deps.onNetwork) await this.deps.onNetwork(net, region);
      const plugged = await this.plug(region, id, eni, subnetCidr, ipv6Of(eni, subnet));
      // its security groups and subnet ACL: applied below, beside the public IP mappings
      guards.push(async () => {
        const { ruleSet, sets } = resolveRuleSet(ctx, eni, plugged, this.members);
        for (const [name, addresses] of sets) {
          // one put per set and membership change, not per member
          // (marked before the call: a thousand launches in flight share one put)
          const have = this.putSets.get(name);
          // group members: the same array until the membership changes; a prefix list's entries: compared
          if (have === addresses || (have && have.length === addresses.length && have.every((a, i) => a === addresses[i]))) continue;
          this.putSets.set(name, addresses);
          try {
            await this.firewall.putAddressSet({ name, addresses });
          } catch (err) {
            if (this.putSets.get(name) === addresses) this.putSets.delete(name);
            throw err;
          }
        }
        try {
          await this.firewall.apply(ruleSet);
        } catch (err) {
          // sets lost behind our back (a firewall restart): put them again on the retry
          if (err instanceof FirewallError && err.code === 'not-found') this.putSets.clear();
          throw err;
        }
        // the subnet's network ACL (the same again is a no-op in the firewall)
        const acl = aclOfSubnet(ctx, eni.SubnetId);
        if (acl) await this.firewall.applySubnetAcl(resolveSubnetAcl(acl, eni.SubnetId, [subnetCidr], plugged.hostNetns));
      });
      network.push({
        deviceIndex: eni.attachment?.DeviceIndex ?? 0,
        netns: plugged.netns,
        ifname: plugged.ifname,
        mac: plugged.mac,
        privateIp: eni.PrivateIpAddress,
        addresses: plugged.addresses,
        gateway: plugged.gateway,
        mtu: plugged.mtu,
        publicIp: eni.association?.PublicIp,
      });
    }
    // the firewall and the fabric's public IP mappings are independent: both are in place before the machine starts
    const done = await Promise.allSettled([this.syncPublicIps(region, rec, enis), ...guards.map((g) => g())]);
    for (const d of done) if (d.status === 'rejected') throw d.reason;
    return network;
  }

  /**
   * Plugs an interface; one still plugged for an instance that no longer has it is unplugged first;
   * one of this instance whose secondary addresses changed is readdressed in place.
   */
  private async plug(region: string, id: string, eni: NetworkInterfaceRecord, subnetCidr: string, ipv6: Ipv6Addressing | undefined): Promise<PluggedInterface> {
    const req: PlugRequest = {
      interfaceId: eni.NetworkInterfaceId,
      instanceId: id,
      vpcId: eni.VpcId,
      subnetId: eni.SubnetId,
      subnetCidr,
      mac: eni.MacAddress,
      privateIps: privateIpsOf(eni),
      deviceIndex: eni.attachment?.DeviceIndex ?? 0,
    };
    if (ipv6) req.ipv6 = ipv6;
    try {
      return await this.fabric.plug(req);
    } catch (err) {
      if (!(err instanceof FabricError) || err.code !== 'conflict') throw err;
      const stale = (await this.fabric.list()).interfaces.find((i) => i.interfaceId === eni.NetworkInterfaceId);
      if (
        stale &&
        stale.instanceId === id &&
        stale.subnetId === req.subnetId &&
        stale.deviceIndex === req.deviceIndex &&
        stale.mac.toLowerCase() === req.mac.toLowerCase() &&
        stale.addresses[0]?.split('/')[0] === req.privateIps[0]
      ) {
        // only its secondary or IPv6 addresses changed (Assign/Unassign…Addresses): changed in place, the device stays
        return await this.fabric.readdress(eni.NetworkInterfaceId, req.privateIps, ipv6Readdress(stale, ipv6));
      }
      const owner = stale && stale.instanceId !== id ? this.read(region, stale.instanceId) : undefined;
      const ownerHasIt = owner !== undefined && owner.State.Name !== 'terminated' && owner.networkInterfaceIds.includes(eni.NetworkInterfaceId);
      // plugged for this instance with other addresses (changed meanwhile), or for one that let it go: plug afresh
      if (!stale || ownerHasIt) throw err;
      await this.fabric.unplug(eni.NetworkInterfaceId);
      return await this.fabric.plug(req);
    }
  }

  /**
   * Makes the fabric's public IP mappings for the instance's interfaces what
   * the store says (optionally only the associations `keep` accepts): stale
   * ones unmapped, missing ones mapped (taken over from wherever they were).
   */
  private async syncPublicIps(
    region: string,
    rec: StoredInstance,
    enis: NetworkInterfaceRecord[] = interfacesOf(this.context(region), rec),
    keep: (eni: NetworkInterfaceRecord) => boolean = () => true,
  ): Promise<void> {
    const wanted = new Map<string, PublicIpMapping>();
    for (const eni of enis) {
      if (eni.association && keep(eni)) {
        wanted.set(eni.association.PublicIp, {
          publicIp: eni.association.PublicIp,
          privateIp: eni.PrivateIpAddress,
          interfaceId: eni.NetworkInterfaceId,
          vpcId: eni.VpcId,
        });
      }
      // Elastic IPs on secondary private addresses (what a stop keeps)
      for (const s of eni.secondaryAssociations ?? []) {
        wanted.set(s.PublicIp, { publicIp: s.PublicIp, privateIp: s.privateIp, interfaceId: eni.NetworkInterfaceId, vpcId: eni.VpcId });
      }
    }
    const inventory = await this.fabric.list({ instanceId: rec.InstanceId });
    const plugged = new Set(inventory.interfaces.map((i) => i.interfaceId));
    for (const m of inventory.publicIps) {
      const w = wanted.get(m.publicIp);
      if (w && w.privateIp === m.privateIp && w.interfaceId === m.interfaceId) wanted.delete(m.publicIp);
      else await this.fabric.unmapPublicIp(m.publicIp);
    }
    for (const m of wanted.values()) {
      if (!plugged.has(m.interfaceId)) continue; // mapped when the interface is plugged (start)
      try {
        await this.fabric.mapPublicIp(m);
      } catch (err) {
        if (!(err instanceof FabricError) || err.code !== 'conflict') throw err;
        // the store moved the address here (an Elastic IP re-associated): it follows
        await this.fabric.unmapPublicIp(m.publicIp);
        await this.fabric.mapPublicIp(m);
      }
    }
  }

  /**
   * The points in time of the snapshots waiting for this instance (snapshot-points.ts): frozen
   * while running, or shut down and started again (CreateImage without NoReboot); then the
   * snapshots go to the volume reconciler. A terminated instance's are let go as they are.
   */
  private async takePoints(region: string, rec: StoredInstance, actual: RuntimeState | undefined): Promise<void> {
    const id = rec.InstanceId;
    const ids = rec.pendingPoints ?? [];
    const gone = rec.State.Name === 'shutting-down' || rec.State.Name === 'terminated';
    if (!gone) {
      const snaps = this.deps.store.collection(KINDS.snapshot);
      const points: SnapshotPoint[] = [];
      for (const sid of ids) {
        const s = snaps.get(region, sid);
        if (s?.awaitingPoint && s.source.kind === 'volume') points.push({ snapshotId: sid, volumeId: s.source.volumeId });
      }
      await takeSnapshotPoints({ driver: this.driver, blockStore: this.blockStore, log: this.log }, id, points, {
        running: actual === 'running',
        reboot: rec.pointsReboot === true,
        restart: async () => this.driver.start(await this.prepare(region, rec)),
      });
    }
    const done = await this.loop.commit(() => {
      pointsTaken(this.context(region), id, ids);
      return true;
    });
    if (done) for (const sid of ids) this.deps.onSnapshot?.(region, sid);
  }

  /** Stop: the instance store volumes detached and deleted (a start makes new, empty ones). */
  private async discardInstanceStore(region: string, rec: StoredInstance): Promise<void> {
    for (const v of this.volumesOf(region, rec)) {
      if (!v.ephemeral) continue;
      await this.blockStore.detach(v.volumeId);
      await this.blockStore.deleteVolume(v.volumeId);
    }
  }

  /** Terminate: the instance's interfaces unplugged (their public IPs unmapped), volumes detached and the DeleteOnTermination ones deleted, rule sets removed. */
  private async release(region: string, rec: StoredInstance): Promise<void> {
    const id = rec.InstanceId;
    const inventory = await this.fabric.list({ instanceId: id });
    for (const m of inventory.publicIps) await this.fabric.unmapPublicIp(m.publicIp);
    for (const i of inventory.interfaces) await this.fabric.unplug(i.interfaceId);
    const volumes = [...this.volumesOf(region, rec)];
    // detaching ones too: a terminate finishes their detach
    for (const { volume: v, attachment: a } of attachedToInstance({ store: this.deps.store, region }, id)) {
      if (a.State === 'detaching') volumes.push({ volumeId: v.VolumeId, deviceName: a.Device, sizeGiB: v.Size, source: { kind: 'empty' }, root: false, deleteOnTermination: deletedWithInstance(v, id) });
    }
    for (const v of volumes) {
      await this.blockStore.detach(v.volumeId, id);
      if (v.deleteOnTermination) await this.blockStore.deleteVolume(v.volumeId);
    }
    const interfaces = new Set([...rec.networkInterfaceIds, ...inventory.interfaces.map((i) => i.interfaceId)]);
    for (const eni of interfaces) await this.firewall.remove(eni);
  }

  /** A machine, interfaces or volumes of an instance the store does not know. */
  private async removeOrphan(id: string, actual: RuntimeState | undefined): Promise<void> {
    if (actual !== undefined) await this.driver.terminate(id);
    const inventory = await this.fabric.list({ instanceId: id });
    for (const i of inventory.interfaces) {
      await this.fabric.unplug(i.interfaceId);
      await this.firewall.remove(i.interfaceId);
    }
    for (const v of await this.blockStore.listVolumes()) {
      if (v.attachment?.instanceId === id || v.attachment?.sharedWith?.includes(id)) await this.blockStore.detach(v.volumeId, id);
    }
  }
}

/** The guest's resolv.conf from its VPC's DHCP options set (undefined: the image's own). */
function resolverOf(ctx: ResourceContext, rec: StoredInstance): string | undefined {
  const r = rec.VpcId === undefined ? undefined : guestResolver(ctx, rec.VpcId);
  return r && resolvConf(r);
}
