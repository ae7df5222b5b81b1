import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Dispatcher } from '../../src/api/dispatcher.js';
import { ec2Modules } from '../../src/api/ec2/index.js';
import { loadConfig, type Config } from '../../src/config.js';
import { MockFirewall } from '../../src/network/drivers/mock-firewall.js';
import { FirewallError, type FlowRecord, type RuleCounter } from '../../src/network/firewall.js';
import { FlowLogWriter } from '../../src/reconcile/flow-logs.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import type { NetworkInterfaceRecord } from '../../src/resources/ec2/records.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const REGION = 'us-east-1';
const ACCOUNT = '123456789012';

/** A mock firewall whose counters a test sets. */
class CountingFirewall extends MockFirewall {
  counts: RuleCounter[] = [];
  override async counters(): Promise<RuleCounter[]> {
    return this.counts.map((c) => ({ ...c }));
  }
}

interface World {
  dataDir: string;
  store: SqliteStore;
  dispatcher: Dispatcher;
  firewall: CountingFirewall;
  writer: FlowLogWriter;
  logs: string[];
  vpcA: string;
  vpcB: string;
  subnetA1: string;
  subnetA2: string;
  subnetB: string;
  /** eni in subnet A1, A2, B */
  e1: string;
  e2: string;
  e3: string;
}

let serial = 0;

describe('flow log writer', () => {
  let w: World;

  function call(action: string, input: Record<string, unknown>): Record<string, unknown> {
    return w.dispatcher.invoke(action, REGION, `req-${++serial}`, input) as Record<string, unknown>;
  }

  function addEni(subnetId: string, vpcId: string): string {
    serial++;
    const id = `eni-${serial.toString(16).padStart(17, '0')}`;
    const eni: NetworkInterfaceRecord = {
      NetworkInterfaceId: id,
      SubnetId: subnetId,
      VpcId: vpcId,
      AvailabilityZone: 'us-east-1a',
      PrivateIpAddress: `10.0.${serial % 250}.10`,
      MacAddress: '02:00:00:00:00:01',
      Groups: [],
      Status: 'in-use',
    };
    w.store.collection(KINDS.networkInterface).put(REGION, id, eni);
    w.writer.handle({ kind: 'network-interface', region: REGION, id });
    return id;
  }

  function createFlowLog(resourceType: string, resourceId: string, extra: Record<string, unknown> = {}): string {
    const out = call('CreateFlowLogs', {
      ResourceType: resourceType,
      ResourceIds: [resourceId],
      TrafficType: 'ALL',
      LogDestinationType: 'file',
      LogDestination: `fl-${serial}.log`,
      ...extra,
    }) as { FlowLogIds: string[]; Unsuccessful: unknown[] };
    assert.deepEqual(out.Unsuccessful, []);
    return out.FlowLogIds[0]!;
  }

  function deleteFlowLog(id: string): void {
    const out = call('DeleteFlowLogs', { FlowLogIds: [id] }) as { Unsuccessful: unknown[] };
    assert.deepEqual(out.Unsuccessful, []);
  }

  function flow(interfaceId: string, over: Partial<FlowRecord> = {}): FlowRecord {
    return {
      interfaceId,
      srcAddr: '203.0.113.7',
      dstAddr: '10.0.1.10',
      srcPort: 51234,
      dstPort: 22,
      protocol: 6,
      packets: 3,
      bytes: 180,
      start: 1_700_000_000,
      end: 1_700_000_005,
      action: 'REJECT',
      ...over,
    };
  }

  const file = (name: string) => join(w.dataDir, 'flow-logs', name);
  const lines = (name: string) => (existsSync(file(name)) ? readFileSync(file(name), 'utf8').split('\n').filter((l) => l !== '') : []);

  beforeEach(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'overcast-flowlogs-'));
    const store = new SqliteStore(':memory:');
    const config: Config = { ...loadConfig([], {}), dataDir };
    const firewall = new CountingFirewall();
    const logs: string[] = [];
    const writer = new FlowLogWriter({ firewall, store, regions: config.regions, dataDir, accountId: config.accountId, intervalMs: 60_000, log: (l) => logs.push(l) });
    const dispatcher = new Dispatcher(store, config, ec2Modules, (e) => writer.handle(e));
    w = { dataDir, store, dispatcher, firewall, writer, logs } as World;
    w.vpcA = (call('CreateVpc', { CidrBlock: '10.0.0.0/16' }) as { Vpc: { VpcId: string } }).Vpc.VpcId;
    w.vpcB = (call('CreateVpc', { CidrBlock: '10.1.0.0/16' }) as { Vpc: { VpcId: string } }).Vpc.VpcId;
    const subnet = (vpc: string, cidr: string) => (call('CreateSubnet', { VpcId: vpc, CidrBlock: cidr }) as { Subnet: { SubnetId: string } }).Subnet.SubnetId;
    w.subnetA1 = subnet(w.vpcA, '10.0.1.0/24');
    w.subnetA2 = subnet(w.vpcA, '10.0.2.0/24');
    w.subnetB = subnet(w.vpcB, '10.1.1.0/24');
    await writer.start();
    w.e1 = addEni(w.subnetA1, w.vpcA);
    w.e2 = addEni(w.subnetA2, w.vpcA);
    w.e3 = addEni(w.subnetB, w.vpcB);
  });

  afterEach(async () => {
    await w.writer.close();
    w.store.close();
    rmSync(w.dataDir, { recursive: true, force: true });
  });

  it('captures the interfaces a VPC, a subnet and an interface flow log cover', async () => {
    await w.writer.flush();
    assert.deepEqual(w.firewall.capturing(), [], 'no flow log: nothing captured');
    const vpcLog = createFlowLog('VPC', w.vpcA);
    await w.writer.flush();
    assert.deepEqual(w.firewall.capturing().sort(), [w.e1, w.e2].sort());
    deleteFlowLog(vpcLog);
    const subnetLog = createFlowLog('Subnet', w.subnetA2);
    await w.writer.flush();
    assert.deepEqual(w.firewall.capturing(), [w.e2]);
    const eniLog = createFlowLog('NetworkInterface', w.e3);
    await w.writer.flush();
    assert.deepEqual(w.firewall.capturing().sort(), [w.e2, w.e3].sort());
    // a new interface in a covered subnet is captured once it exists
    const e4 = addEni(w.subnetA2, w.vpcA);
    await w.writer.flush();
    assert.deepEqual(w.firewall.capturing().sort(), [w.e2, w.e3, e4].sort());
    deleteFlowLog(subnetLog);
    deleteFlowLog(eniLog);
    await w.writer.flush();
    assert.deepEqual(w.firewall.capturing(), []);
  });

  it('change events alone (no flush) update the capture', async () => {
    const id = createFlowLog('Subnet', w.subnetA1);
    await w.writer.idle();
    assert.deepEqual(w.firewall.capturing(), [w.e1]);
    const e4 = addEni(w.subnetA1, w.vpcA);
    await w.writer.idle();
    assert.deepEqual(w.firewall.capturing().sort(), [w.e1, e4].sort());
    w.store.collection(KINDS.networkInterface).delete(REGION, e4);
    w.writer.handle({ kind: 'instance', region: REGION, id: 'i-00000000000000001' });
    await w.writer.idle();
    assert.deepEqual(w.firewall.capturing(), [w.e1]);
    deleteFlowLog(id);
    await w.writer.idle();
    assert.deepEqual(w.firewall.capturing(), []);
    // other kinds do not trigger work
    createFlowLog('Subnet', w.subnetA2);
    await w.writer.idle();
    assert.deepEqual(w.firewall.capturing(), [w.e2]);
    w.store.collection(KINDS.networkInterface).delete(REGION, w.e2);
    w.writer.handle({ kind: 'security-group', region: REGION, id: 'sg-00000000000000001' });
    await w.writer.idle();
    assert.deepEqual(w.firewall.capturing(), [w.e2]);
  });

  it('a burst of change events costs one refresh, not one per event', async () => {
    createFlowLog('VPC', w.vpcA);
    await w.writer.idle();
    // each refresh reads the region's flow logs once: count those reads
    let reads = 0;
    const real = w.store.collection.bind(w.store);
    w.store.collection = ((k: Parameters<typeof real>[0]) => {
      if (k === KINDS.flowLog) reads++;
      return real(k);
    }) as typeof w.store.collection;
    // what one refresh reads
    addEni(w.subnetA1, w.vpcA);
    await w.writer.idle();
    const perRefresh = reads;
    reads = 0;
    const ids = Array.from({ length: 50 }, () => addEni(w.subnetA1, w.vpcA));
    await w.writer.idle();
    w.store.collection = real;
    assert.ok(perRefresh >= 1, 'a refresh reads the flow logs');
    assert.ok(reads >= 1 && reads <= 2 * perRefresh, `50 events, ${reads} flow-log reads (${perRefresh} per refresh)`);
    assert.equal(w.firewall.capturing().length, 2 + 1 + ids.length, 'and the refresh saw every new interface');
    for (const id of ids) assert.ok(w.firewall.capturing().includes(id));
  });

  it('start() captures what flow logs made before it cover', async () => {
    createFlowLog('Subnet', w.subnetA1);
    const fresh = new FlowLogWriter({ firewall: new MockFirewall(), store: w.store, regions: [REGION], dataDir: w.dataDir, accountId: ACCOUNT, log: () => {} });
    await fresh.start();
    assert.deepEqual(fresh.capturing, [w.e1]);
    await fresh.close();
  });

  it('a recorded REJECT flow becomes a line in the default format after flush()', async () => {
    createFlowLog('VPC', w.vpcA, { LogDestination: 'vpc-a.log' });
    await w.writer.flush();
    w.firewall.recordFlow(flow(w.e1));
    w.firewall.recordFlow(flow(w.e3)); // not covered: not captured either
    await w.writer.flush();
    assert.deepEqual(lines('vpc-a.log'), [`2 ${ACCOUNT} ${w.e1} 203.0.113.7 10.0.1.10 51234 22 6 3 180 1700000000 1700000005 REJECT OK`]);
    // later drains append
    w.firewall.recordFlow(flow(w.e2, { action: 'ACCEPT', protocol: 17, srcPort: 53, dstPort: 40000, packets: 1, bytes: 76 }));
    w.firewall.recordFlow(flow(w.e1, { packets: 1, bytes: 60 }));
    await w.writer.flush();
    assert.deepEqual(lines('vpc-a.log').slice(1), [
      `2 ${ACCOUNT} ${w.e2} 203.0.113.7 10.0.1.10 53 40000 17 1 76 1700000000 1700000005 ACCEPT OK`,
      `2 ${ACCOUNT} ${w.e1} 203.0.113.7 10.0.1.10 51234 22 6 1 60 1700000000 1700000005 REJECT OK`,
    ]);
  });

  it('a flush with nothing drained writes no file', async () => {
    createFlowLog('VPC', w.vpcA, { LogDestination: 'quiet.log' });
    await w.writer.flush();
    await w.writer.flush();
    assert.equal(existsSync(file('quiet.log')), false);
  });

  it('TrafficType=ACCEPT leaves REJECT flows out (and REJECT the accepted ones)', async () => {
    createFlowLog('NetworkInterface', w.e1, { TrafficType: 'ACCEPT', LogDestination: 'accept.log' });
    createFlowLog('NetworkInterface', w.e1, { TrafficType: 'REJECT', LogDestination: 'reject.log' });
    await w.writer.flush();
    w.firewall.recordFlow(flow(w.e1, { action: 'REJECT' }));
    w.firewall.recordFlow(flow(w.e1, { action: 'ACCEPT', dstPort: 443 }));
    await w.writer.flush();
    assert.deepEqual(lines('accept.log').map((l) => l.split(' ').slice(6, 7).concat(l.split(' ').slice(12)).join(' ')), ['443 ACCEPT OK']);
    assert.deepEqual(lines('reject.log').map((l) => l.split(' ').slice(12).join(' ')), ['REJECT OK']);
  });

  it('a deleted flow log stops writing at once and its interfaces stop being captured', async () => {
    const id = createFlowLog('Subnet', w.subnetA1, { LogDestination: 'gone.log' });
    const other = createFlowLog('Subnet', w.subnetA2, { LogDestination: 'stays.log' });
    await w.writer.flush();
    w.firewall.recordFlow(flow(w.e1));
    await w.writer.flush();
    assert.equal(lines('gone.log').length, 1);
    // recorded before the delete, drained after: not written
    w.firewall.recordFlow(flow(w.e1));
    deleteFlowLog(id);
    await w.writer.flush();
    assert.deepEqual(w.firewall.capturing(), [w.e2]);
    w.firewall.recordFlow(flow(w.e1)); // not captured any more
    w.firewall.recordFlow(flow(w.e2));
    await w.writer.flush();
    assert.equal(lines('gone.log').length, 1);
    assert.equal(lines('stays.log').length, 1);
    deleteFlowLog(other);
  });

  it('a custom format is written in its order, into a subdirectory', async () => {
    createFlowLog('VPC', w.vpcA, { LogFormat: '${action} ${dstport} ${srcaddr} ${interface-id} ${log-status} ${version}', LogDestination: 'custom/a.log' });
    await w.writer.flush();
    w.firewall.recordFlow(flow(w.e2));
    await w.writer.flush();
    assert.deepEqual(lines('custom/a.log'), [`REJECT 22 203.0.113.7 ${w.e2} OK 2`]);
  });

  it('two flow logs into one file each write their line in one drain', async () => {
    createFlowLog('VPC', w.vpcA, { LogDestination: 'shared.log' });
    createFlowLog('Subnet', w.subnetA1, { LogDestination: 'shared.log', LogFormat: '${interface-id} ${action}' });
    await w.writer.flush();
    w.firewall.recordFlow(flow(w.e1));
    await w.writer.flush();
    assert.deepEqual(lines('shared.log').sort(), [`2 ${ACCOUNT} ${w.e1} 203.0.113.7 10.0.1.10 51234 22 6 3 180 1700000000 1700000005 REJECT OK`, `${w.e1} REJECT`].sort());
  });

  it('logs each rule counter whose packets grew (the first reading is the baseline)', async () => {
    w.firewall.counts = [
      { owner: w.e1, rule: 'ingress|tcp|0.0.0.0/0|22|22||', packets: 7, bytes: 420 },
      { owner: w.subnetA1, rule: 'drop:ingress', packets: 0, bytes: 0 },
    ];
    await w.writer.flush();
    assert.deepEqual(w.logs, [], 'first reading: baseline');
    w.firewall.counts = [
      { owner: w.e1, rule: 'ingress|tcp|0.0.0.0/0|22|22||', packets: 12, bytes: 720 },
      { owner: w.subnetA1, rule: 'drop:ingress', packets: 3, bytes: 180 },
      { owner: w.e2, rule: 'egress|all|0.0.0.0/0||||', packets: 0, bytes: 0 },
    ];
    await w.writer.flush();
    assert.deepEqual(w.logs.sort(), [
      `firewall: ${w.e1} ingress|tcp|0.0.0.0/0|22|22|| +5 packets (total 12)`,
      `firewall: ${w.subnetA1} drop:ingress +3 packets (total 3)`,
    ].sort());
    w.logs.length = 0;
    await w.writer.flush();
    assert.deepEqual(w.logs, [], 'nothing grew');
  });

  it('a firewall that cannot capture flows is said once in the log; the rest goes on', async () => {
    class Blind extends MockFirewall {
      override async captureFlows(): Promise<void> {
        throw new FirewallError('unsupported', '', 'it sees no packets');
      }
      override async drainFlows(): Promise<FlowRecord[]> {
        throw new FirewallError('unsupported', '', 'it sees no packets');
      }
    }
    const logs: string[] = [];
    const blind = new FlowLogWriter({ firewall: new Blind(), store: w.store, regions: [REGION], dataDir: w.dataDir, accountId: ACCOUNT, log: (l) => logs.push(l) });
    createFlowLog('VPC', w.vpcA);
    await blind.start();
    await blind.flush();
    await blind.flush();
    assert.equal(logs.length, 1);
    assert.match(logs[0]!, /cannot capture flows/);
    await blind.close();
    assert.equal(logs.length, 1);
  });

  it('close() writes what is left and stops capturing', async () => {
    createFlowLog('VPC', w.vpcA, { LogDestination: 'last.log' });
    await w.writer.flush();
    w.firewall.recordFlow(flow(w.e1));
    await w.writer.close();
    assert.equal(lines('last.log').length, 1);
    assert.deepEqual(w.firewall.capturing(), []);
  });
});
