import assert from 'node:assert/strict';
import { sliceUsed } from '../../src/runtime/turns.js';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Dispatcher } from '../../src/api/dispatcher.js';
import { consoleOutputCollection, eniCollection, instanceCollection, type StoredInstance } from '../../src/resources/ec2/instances.js';
import type { AddressRecord, NetworkInterfaceRecord, SubnetRecord } from '../../src/resources/ec2/records.js';
import { MockHypervisor } from '../../src/compute/drivers/mock.js';
import type { InstanceSpec } from '../../src/compute/hypervisor.js';
import { loadConfig, type Config } from '../../src/config.js';
import { instanceState, TERMINATED_VISIBLE_MS, type InstanceStateName } from '../../src/domain/lifecycle.js';
import { InstanceReconciler } from '../../src/reconcile/instances.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import { VPC_DHCP_OPTIONS_CHANGE } from '../../src/resources/ec2/dhcp-options.js';

const REGION = 'us-east-1';

interface Fixture {
  store: SqliteStore;
  config: Config;
  dispatcher: Dispatcher;
  driver: MockHypervisor;
  rec: InstanceReconciler;
  logs: string[];
  clock: { now: number };
}

function makeReconciler(f: Pick<Fixture, 'store' | 'config' | 'dispatcher'>, driver: MockHypervisor, logs: string[], clock: { now: number }) {
  return new InstanceReconciler({ ...f, driver, log: (l) => logs.push(l), clock: () => clock.now, retryBaseMs: 5 });
}

function fixture(delayMs = 0): Fixture {
  const store = new SqliteStore(':memory:');
  const config: Config = { ...loadConfig([], {}), dataDir: ':memory:' };
  const dispatcher = new Dispatcher(store, config, []);
  const driver = new MockHypervisor({ delayMs });
  const logs: string[] = [];
  const clock = { now: Date.now() };
  const rec = makeReconciler({ store, config, dispatcher }, driver, logs, clock);
  store.collection(KINDS.subnet).put(REGION, 'subnet-00000000000000001', {
    SubnetId: 'subnet-00000000000000001',
    VpcId: 'vpc-00000000000000001',
    CidrBlock: '172.31.0.0/20',
    AvailabilityZone: 'us-east-1a',
    MapPublicIpOnLaunch: true,
    DefaultForAz: true,
  });
  return { store, config, dispatcher, driver, rec, logs, clock };
}

let serial = 0;

/** What RunInstances writes: a pending instance and its primary ENI (with a public IP when `publicIp`). */
function seedInstance(f: Fixture, opts: { publicIp?: string; eip?: string; state?: InstanceStateName; userData?: string } = {}): string {
  serial++;
  const id = `i-${serial.toString(16).padStart(17, '0')}`;
  const eniId = `eni-${serial.toString(16).padStart(17, '0')}`;
  const ip = `172.31.0.${10 + serial}`;
  const state = opts.state ?? 'pending';
  const eni: NetworkInterfaceRecord = {
    NetworkInterfaceId: eniId,
    SubnetId: 'subnet-00000000000000001',
    VpcId: 'vpc-00000000000000001',
    AvailabilityZone: 'us-east-1a',
    PrivateIpAddress: ip,
    MacAddress: `02:00:00:00:00:${serial.toString(16).padStart(2, '0')}`,
    Groups: [{ GroupId: 'sg-00000000000000001', GroupName: 'default' }],
    Status: 'in-use',
    attachment: { AttachmentId: `eni-attach-${serial.toString(16).padStart(17, '0')}`, InstanceId: id, DeviceIndex: 0, AttachTime: new Date().toISOString(), DeleteOnTermination: true },
  };
  if (opts.eip) eni.association = { PublicIp: opts.eip, allocationId: 'eipalloc-00000000000000001', associationId: 'eipassoc-00000000000000001' };
  else if (opts.publicIp) eni.association = { PublicIp: opts.publicIp };
  eniCollection(f).put(REGION, eniId, eni);
  const rec: StoredInstance = {
    InstanceId: id,
    ImageId: 'ami-00000000000000001',
    InstanceType: 't3.small',
    SubnetId: 'subnet-00000000000000001',
    VpcId: 'vpc-00000000000000001',
    PrivateIpAddress: ip,
    State: instanceState(state),
    LaunchTime: new Date().toISOString(),
    usageOperationUpdateTime: new Date().toISOString(),
    SecurityGroups: [{ GroupId: 'sg-00000000000000001', GroupName: 'default' }],
    networkInterfaceIds: [eniId],
    reservationId: 'r-00000000000000001',
    ownerId: '123456789012',
    desired: state === 'stopped' || state === 'stopping' ? 'stopped' : state === 'terminated' || state === 'shutting-down' ? 'terminated' : 'running',
    rebootGeneration: 0,
    hibernate: false,
    userData: opts.userData,
    disableApiTermination: false,
    disableApiStop: false,
    instanceInitiatedShutdownBehavior: 'stop',
    consoleOutput: '',
    Placement: { AvailabilityZone: 'us-east-1a' },
    RootDeviceName: '/dev/xvda',
    publicIpOnStart: opts.publicIp !== undefined,
  };
  instanceCollection(f).put(REGION, id, rec);
  return id;
}

const get = (f: Fixture, id: string) => instanceCollection(f).get(REGION, id);
/** The console tail GetConsoleOutput serves (kept apart from the instance document). */
const consoleOf = (f: Fixture, id: string) => consoleOutputCollection(f).get(REGION, id)?.output ?? '';
const eniOf = (f: Fixture, id: string) => eniCollection(f).get(REGION, get(f, id)!.networkInterfaceIds[0]!);

/** What the API does for a user action: set state and desired, then notify. */
function userAction(f: Fixture, id: string, state: InstanceStateName, change: Partial<StoredInstance> = {}): void {
  const r = get(f, id)!;
  Object.assign(r, change, { State: instanceState(state) });
  r.desired = state === 'stopping' ? 'stopped' : state === 'shutting-down' ? 'terminated' : 'running';
  instanceCollection(f).put(REGION, id, r);
  f.rec.handle({ kind: 'instance', region: REGION, id });
}

/** Polls (bounded) until the state is reached; returns the states seen along the way. */
async function waitFor(f: Fixture, id: string, state: InstanceStateName): Promise<InstanceStateName[]> {
  const seen: InstanceStateName[] = [];
  for (let i = 0; i < 100; i++) {
    const s = get(f, id)?.State.Name;
    if (s && seen.at(-1) !== s) seen.push(s);
    if (s === state) return seen;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`instance ${id} never reached ${state}; seen ${seen.join(' → ')}`);
}

describe('instance reconciler', () => {
  let f: Fixture;
  beforeEach(() => {
    f = fixture(30);
  });
  afterEach(async () => {
    await f.rec.stop();
    f.store.close();
  });

  it('drives pending → running → stopping → stopped → pending → running → shutting-down → terminated', async () => {
    await f.rec.start();
    const id = seedInstance(f, { publicIp: '198.51.100.7', userData: Buffer.from('#!/bin/sh\necho hi').toString('base64') });
    f.rec.handle({ kind: 'instance', region: REGION, id });
    assert.equal(get(f, id)!.State.Name, 'pending', 'the driver takes its time');
    assert.deepEqual(await waitFor(f, id, 'running'), ['pending', 'running']);
    assert.equal(await f.driver.describe(id), 'running');
    const running = get(f, id)!;
    assert.equal(running.State.Code, 16);
    assert.equal(running.StateReason, undefined);
    assert.match(consoleOf(f, id), /running user data \(17 bytes\)/);
    const spec = f.driver.specOf(id)!;
    assert.equal(spec.vcpus, 2, 't3.small has 2 vCPUs');
    assert.equal(spec.memoryMiB, 2048);
    assert.equal(spec.network[0]!.gateway, '172.31.0.1');
    assert.equal(spec.network[0]!.publicIp, '198.51.100.7');
    assert.equal(spec.hostname, `ip-${running.PrivateIpAddress.replace(/\./g, '-')}.ec2.internal`);

    userAction(f, id, 'stopping', { StateReason: { Code: 'Client.UserInitiatedShutdown', Message: 'Client.UserInitiatedShutdown: User initiated shutdown' } });
    assert.deepEqual(await waitFor(f, id, 'stopped'), ['stopping', 'stopped']);
    assert.equal(await f.driver.describe(id), 'stopped');
    assert.equal(get(f, id)!.StateReason?.Code, 'Client.UserInitiatedShutdown', 'the reason of the stop stays');
    assert.equal(eniOf(f, id)!.association, undefined, 'the auto-assigned public IP is released on stop');
    assert.equal(eniOf(f, id)!.PrivateIpAddress, running.PrivateIpAddress);

    userAction(f, id, 'pending');
    await waitFor(f, id, 'running');
    const after = eniOf(f, id)!;
    assert.ok(after.association?.PublicIp, 'a new public IP on start');
    assert.equal(after.association.allocationId, undefined);
    assert.equal(f.driver.specOf(id)!.network[0]!.publicIp, after.association.PublicIp);

    userAction(f, id, 'shutting-down');
    assert.deepEqual(await waitFor(f, id, 'terminated'), ['shutting-down', 'terminated']);
    assert.equal(await f.driver.describe(id), undefined);
    const gone = get(f, id)!;
    assert.equal(gone.State.Code, 48);
    assert.ok(gone.terminatedAt! >= f.clock.now - 1000);
    assert.equal(eniOf(f, id), undefined, 'the DeleteOnTermination interface is deleted');
  });

  it('keeps an Elastic IP across stop/start and disassociates it (keeping the allocation) on terminate', async () => {
    await f.rec.start();
    f.store.collection(KINDS.elasticIp).put(REGION, 'eipalloc-00000000000000001', {
      AllocationId: 'eipalloc-00000000000000001',
      PublicIp: '198.51.100.50',
      Domain: 'vpc',
      AssociationId: 'eipassoc-00000000000000001',
      InstanceId: 'x',
      NetworkInterfaceId: 'y',
    });
    const id = seedInstance(f, { eip: '198.51.100.50' });
    f.rec.handle({ kind: 'instance', region: REGION, id });
    await waitFor(f, id, 'running');
    userAction(f, id, 'stopping');
    await waitFor(f, id, 'stopped');
    assert.equal(eniOf(f, id)!.association?.PublicIp, '198.51.100.50');
    userAction(f, id, 'shutting-down');
    await waitFor(f, id, 'terminated');
    const addr = f.store.collection(KINDS.elasticIp).get(REGION, 'eipalloc-00000000000000001')!;
    assert.equal(addr.PublicIp, '198.51.100.50');
    assert.equal(addr.AssociationId, undefined);
    assert.equal(addr.InstanceId, undefined);
  });

  it('a stop arriving while the launch is in flight wins once the launch is done', async () => {
    await f.rec.start();
    const id = seedInstance(f);
    f.rec.handle({ kind: 'instance', region: REGION, id });
    await new Promise((r) => setTimeout(r, 5));
    userAction(f, id, 'stopping');
    const seen = await waitFor(f, id, 'stopped');
    assert.ok(!seen.includes('running'), `never observed running: ${seen.join(' → ')}`);
    assert.equal(await f.driver.describe(id), 'stopped');
    await f.rec.idle();
    assert.equal(get(f, id)!.State.Name, 'stopped');
  });

  it("a VPC's new DHCP options reach its running instance in place: resolv.conf rewritten, no restart", async () => {
    const vpcId = 'vpc-00000000000000001';
    const dopt = (id: string, domain: string) =>
      f.store.collection(KINDS.dhcpOptions).put(REGION, id, {
        DhcpOptionsId: id,
        OwnerId: '123456789012',
        DhcpConfigurations: [
          { Key: 'domain-name', Values: [{ Value: domain }] },
          { Key: 'domain-name-servers', Values: [{ Value: 'AmazonProvidedDNS' }] },
        ],
      });
    dopt('dopt-00000000000000001', 'ec2.internal');
    dopt('dopt-00000000000000002', 'corp.example');
    const vpc = (dhcp: string) =>
      f.store.collection(KINDS.vpc).put(REGION, vpcId, { VpcId: vpcId, CidrBlock: '172.31.0.0/16', IsDefault: true, EnableDnsSupport: true, EnableDnsHostnames: true, DhcpOptionsId: dhcp, State: 'available' });
    vpc('dopt-00000000000000001');
    await f.rec.start();
    const id = seedInstance(f);
    f.rec.handle({ kind: 'instance', region: REGION, id });
    await waitFor(f, id, 'running');
    await f.rec.idle();
    assert.match(f.driver.specOf(id)!.resolvConf!, /^search ec2\.internal$/m);
    const launched = f.driver.calls.length;
    // AssociateDhcpOptions: the VPC record changes and the change is notified with the VPC's id
    vpc('dopt-00000000000000002');
    f.rec.handle({ kind: VPC_DHCP_OPTIONS_CHANGE, region: REGION, id: vpcId });
    for (let i = 0; i < 100 && !/corp\.example/.test(f.driver.specOf(id)!.resolvConf!); i++) await new Promise((r) => setTimeout(r, 10));
    await f.rec.idle();
    assert.match(f.driver.specOf(id)!.resolvConf!, /^search corp\.example$/m);
    assert.deepEqual(f.driver.calls.slice(launched), [`setResolvConf ${id}`], 'rewritten in place: no stop, start or reboot');
    assert.equal(get(f, id)!.resolverApplied, f.driver.specOf(id)!.resolvConf);
    assert.equal(get(f, id)!.State.Name, 'running');
    // another step with nothing changed writes nothing again
    f.rec.handle({ kind: VPC_DHCP_OPTIONS_CHANGE, region: REGION, id: vpcId });
    await f.rec.idle();
    assert.deepEqual(f.driver.calls.slice(launched), [`setResolvConf ${id}`]);
    // `default`: no options, no name server
    vpc('default');
    f.rec.handle({ kind: VPC_DHCP_OPTIONS_CHANGE, region: REGION, id: vpcId });
    for (let i = 0; i < 100 && /nameserver/.test(f.driver.specOf(id)!.resolvConf!); i++) await new Promise((r) => setTimeout(r, 10));
    assert.doesNotMatch(f.driver.specOf(id)!.resolvConf!, /nameserver|search/);
  });

  it('reboots once per RebootInstances and stays running', async () => {
    await f.rec.start();
    const id = seedInstance(f);
    f.rec.handle({ kind: 'instance', region: REGION, id });
    await waitFor(f, id, 'running');
    userAction(f, id, 'running', { rebootGeneration: 1 });
    await f.rec.idle();
    assert.equal(f.driver.calls.filter((c) => c === `reboot ${id}`).length, 1);
    assert.equal(get(f, id)!.rebootedGeneration, 1);
    assert.match(consoleOf(f, id), /Restarting system/);
    f.rec.handle({ kind: 'instance', region: REGION, id });
    await f.rec.idle();
    assert.equal(f.driver.calls.filter((c) => c === `reboot ${id}`).length, 1, 'no second reboot without a new request');
  });

  it('a failed first launch terminates the instance with Server.InternalError', async () => {
    await f.rec.start();
    const id = seedInstance(f);
    f.driver.failNext('launch', id);
    f.rec.handle({ kind: 'instance', region: REGION, id });
    await waitFor(f, id, 'terminated');
    assert.equal(get(f, id)!.StateReason?.Code, 'Server.InternalError');
    assert.ok(f.logs.some((l) => l.includes(id)));
  });

  it('a failed restart of a stopped instance leaves it stopped (not terminated)', async () => {
    await f.rec.start();
    const id = seedInstance(f);
    f.rec.handle({ kind: 'instance', region: REGION, id });
    await waitFor(f, id, 'running');
    userAction(f, id, 'stopping');
    await waitFor(f, id, 'stopped');
    f.driver.failNext('start', id);
    userAction(f, id, 'pending');
    await f.rec.idle();
    assert.equal(get(f, id)!.State.Name, 'stopped');
    assert.equal(get(f, id)!.StateReason?.Code, 'Client.InstanceInitiatedShutdown');
  });

  it('a guest shutdown stops the instance, or terminates it when its shutdown behaviour says so', async () => {
    await f.rec.start();
    const stops = seedInstance(f, { publicIp: '198.51.100.20' });
    const terminates = seedInstance(f);
    const r = get(f, terminates)!;
    instanceCollection(f).put(REGION, terminates, { ...r, instanceInitiatedShutdownBehavior: 'terminate' });
    for (const id of [stops, terminates]) f.rec.handle({ kind: 'instance', region: REGION, id });
    await waitFor(f, stops, 'running');
    await waitFor(f, terminates, 'running');
    // `shutdown -h now` inside both guests
    await f.driver.stop(stops);
    await f.driver.stop(terminates);
    for (const id of [stops, terminates]) f.rec.handle({ kind: 'instance', region: REGION, id });
    await f.rec.idle();
    assert.equal(get(f, stops)!.State.Name, 'stopped');
    assert.equal(get(f, stops)!.StateReason?.Code, 'Client.InstanceInitiatedShutdown');
    assert.equal(eniOf(f, stops)!.association, undefined, 'the public IP goes with the stop');
    assert.equal(get(f, terminates)!.State.Name, 'terminated');
    assert.equal(get(f, terminates)!.StateReason?.Code, 'Client.InstanceInitiatedShutdown');
    assert.equal(await f.driver.describe(terminates), undefined);
  });

  it('retries a failed stop until it works', async () => {
    await f.rec.start();
    const id = seedInstance(f);
    f.rec.handle({ kind: 'instance', region: REGION, id });
    await waitFor(f, id, 'running');
    f.driver.failNext('stop', id);
    userAction(f, id, 'stopping');
    await waitFor(f, id, 'stopped');
    assert.ok(f.logs.some((l) => /injected stop failure.*retrying/.test(l)), f.logs.join('\n'));
  });

  it('finishes half-done work after a restart: pending, stopping, shutting-down, lost machines and orphans', async () => {
    // the first "server" never got to the work: records left in transitional states
    const pending = seedInstance(f, { publicIp: '198.51.100.9' });
    const runningLost = seedInstance(f, { state: 'running' });
    const runningDown = seedInstance(f, { state: 'running' });
    const stopping = seedInstance(f, { state: 'stopping' });
    const shuttingDown = seedInstance(f, { state: 'shutting-down' });
    const stoppedButRunning = seedInstance(f, { state: 'stopped' });
    const terminatedButRunning = seedInstance(f, { state: 'terminated' });
    for (const id of [stopping, shuttingDown, stoppedButRunning, terminatedButRunning]) {
      await f.driver.launch(minimalSpec(id));
    }
    await f.driver.launch(minimalSpec(runningDown));
    await f.driver.stop(runningDown);
    await f.driver.launch(minimalSpec('i-0000000000000dead'));
    await f.rec.start();
    await f.rec.idle();
    assert.equal(get(f, pending)!.State.Name, 'running');
    assert.equal(await f.driver.describe(pending), 'running');
    assert.equal(eniOf(f, pending)!.association?.PublicIp, '198.51.100.9', 'the public IP from RunInstances is kept');
    assert.equal(await f.driver.describe(runningLost), 'running', 'running in the store, absent in the driver: started again');
    assert.equal(get(f, runningLost)!.State.Name, 'running');
    assert.equal(await f.driver.describe(runningDown), 'running', 'running in the store, stopped in the driver (host restart): started');
    assert.equal(get(f, runningDown)!.State.Name, 'running');
    assert.equal(get(f, stopping)!.State.Name, 'stopped');
    assert.equal(await f.driver.describe(stopping), 'stopped');
    assert.equal(get(f, shuttingDown)!.State.Name, 'terminated');
    assert.equal(await f.driver.describe(shuttingDown), undefined);
    assert.equal(await f.driver.describe(stoppedButRunning), 'stopped');
    assert.equal(await f.driver.describe(terminatedButRunning), undefined);
    assert.equal(await f.driver.describe('i-0000000000000dead'), undefined, 'a machine the store does not know is terminated');
  });

  it('a restart in the middle of a launch: the new reconciler finishes it', async () => {
    await f.rec.start();
    const id = seedInstance(f);
    // the server dies before its reconciler hears of the instance; a new process starts with a fresh driver
    await f.rec.stop();
    assert.equal(get(f, id)!.State.Name, 'pending');
    const driver2 = new MockHypervisor({ delayMs: 30 });
    f.rec = makeReconciler(f, driver2, f.logs, f.clock);
    await f.rec.start();
    assert.deepEqual(await waitFor(f, id, 'running'), ['pending', 'running']);
    assert.equal(await driver2.describe(id), 'running');
  });

  it('stop() waits for the transition in flight', async () => {
    await f.rec.start();
    const id = seedInstance(f);
    f.rec.handle({ kind: 'instance', region: REGION, id });
    await f.rec.stop();
    assert.equal(get(f, id)!.State.Name, 'running', 'the launch in flight was finished and recorded');
  });

  it('stop() waits for a step scheduled before it that still waits for its slice of the event loop', async () => {
    await f.rec.start();
    const id = seedInstance(f);
    // this turn's slice is spent: the step waits for the next turn's
    sliceUsed();
    for (const end = performance.now() + 2; performance.now() < end; );
    f.rec.handle({ kind: 'instance', region: REGION, id });
    await f.rec.stop();
    assert.equal(get(f, id)!.State.Name, 'running', 'the launch scheduled before stop() was finished and recorded');
  });

  it('purges terminated instances and their tags an hour after termination', async () => {
    await f.rec.start();
    const id = seedInstance(f);
    const young = seedInstance(f, { state: 'terminated' });
    const r = get(f, id)!;
    r.State = instanceState('terminated');
    r.terminatedAt = f.clock.now - TERMINATED_VISIBLE_MS - 1;
    instanceCollection(f).put(REGION, id, r);
    const y = get(f, young)!;
    y.terminatedAt = f.clock.now - 1000;
    instanceCollection(f).put(REGION, young, y);
    f.store.tags.set(REGION, id, 'instance', [{ Key: 'Name', Value: 'old' }]);
    assert.equal(f.rec.purge(), 1);
    assert.equal(get(f, id), undefined);
    assert.deepEqual(f.store.tags.forResource(REGION, id), []);
    assert.ok(get(f, young), 'terminated less than an hour ago: still there');
    f.clock.now += TERMINATED_VISIBLE_MS;
    assert.equal(f.rec.purge(), 1);
    assert.equal(get(f, young), undefined);
  });

  it('purge and resync read no terminated instance that is not due, however many are stored', async () => {
    await f.rec.start();
    await f.rec.idle();
    const live = seedInstance(f);
    for (let n = 0; n < 300; n++) {
      const id = seedInstance(f, { state: 'terminated' });
      const r = get(f, id)!;
      r.terminatedAt = f.clock.now - 1000;
      instanceCollection(f).put(REGION, id, r);
    }
    const reads = (fn: () => unknown): number => {
      const before = f.store.readStats.records;
      fn();
      return f.store.readStats.records - before;
    };
    assert.equal(reads(() => f.rec.purge()), 0, 'purge read instances that were not due');
    const scheduled = await f.rec.loop.resync();
    assert.ok(scheduled >= 1, 'resync looks at the live instance');
    assert.ok(get(f, live), 'the live instance is still there');
    const before = f.store.readStats.records;
    await f.rec.loop.resync();
    await f.rec.idle();
    assert.ok(f.store.readStats.records - before < 50, `a resync read ${f.store.readStats.records - before} records for one live instance among 300 terminated`);
  });

});

/** A machine as some earlier server left it (prepared resources, as the reconciler would hand them over). */
function minimalSpec(id: string): InstanceSpec {
  return {
    instanceId: id,
    vcpus: 2,
    memoryMiB: 2048,
    architecture: 'x86_64',
    network: [],
    hostname: 'h',
    blockDevices: [{ deviceName: '/dev/xvda', path: '/dev/loop9', root: true }],
  };
}
