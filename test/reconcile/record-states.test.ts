import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { RecordStateReconciler } from '../../src/reconcile/record-states.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import { KEEP_DELETED_MS } from '../../src/resources/ec2/record-lifecycles.js';
import type { CustomerGatewayRecord, VpnGatewayRecord } from '../../src/resources/ec2/records.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const REGION = 'us-east-1';

function setup() {
  const store = new SqliteStore(':memory:');
  let now = new Date('2026-01-01T00:00:00Z');
  const r = new RecordStateReconciler({ store, config: { ...loadConfig([], {}), dataDir: ':memory:' }, resyncMs: 0, log: () => {}, now: () => now });
  return { store, r, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

const cgw = (id: string, State: CustomerGatewayRecord['State']): CustomerGatewayRecord => ({ CustomerGatewayId: id, Type: 'ipsec.1', State, IpAddress: '198.51.100.1', BgpAsn: '65000' });

describe('reconcile/record-states', () => {
  it('start-up finishes what was recorded: pending → available, deleting → deleted, attachments move on', async () => {
    const { store, r } = setup();
    store.transaction(() => {
      store.collection(KINDS.customerGateway).put(REGION, 'cgw-00000000000000001', cgw('cgw-00000000000000001', 'pending'));
      store.collection(KINDS.customerGateway).put(REGION, 'cgw-00000000000000002', cgw('cgw-00000000000000002', 'deleting'));
      const vgw: VpnGatewayRecord = { VpnGatewayId: 'vgw-00000000000000001', Type: 'ipsec.1', State: 'available', AmazonSideAsn: 64512, VpcAttachments: [{ VpcId: 'vpc-00000000000000001', State: 'attaching' }] };
      store.collection(KINDS.vpnGateway).put(REGION, vgw.VpnGatewayId, vgw);
    });
    await r.start();
    await r.idle();
    const col = store.collection(KINDS.customerGateway);
    assert.equal(col.get(REGION, 'cgw-00000000000000001')?.State, 'available');
    const deleted = col.get(REGION, 'cgw-00000000000000002');
    assert.equal(deleted?.State, 'deleted');
    assert.equal(deleted?.deletedAt, new Date('2026-01-01T00:00:00Z').getTime());
    assert.deepEqual(store.collection(KINDS.vpnGateway).get(REGION, 'vgw-00000000000000001')?.VpcAttachments, [{ VpcId: 'vpc-00000000000000001', State: 'attached' }]);
    await r.stop();
  });

  it('a deleted record and its tags stay visible, then go at a resync after KEEP_DELETED_MS', async () => {
    const { store, r, advance } = setup();
    const id = 'cgw-00000000000000003';
    store.transaction(() => {
      store.collection(KINDS.customerGateway).put(REGION, id, cgw(id, 'deleting'));
      store.tags.set(REGION, id, KINDS.customerGateway.name, [{ Key: 'k', Value: 'v' }]);
    });
    await r.start();
    await r.idle();
    assert.equal(store.collection(KINDS.customerGateway).get(REGION, id)?.State, 'deleted');
    advance(KEEP_DELETED_MS - 1000);
    await r.loop.resync();
    await r.idle();
    assert.ok(store.collection(KINDS.customerGateway).get(REGION, id), 'still shown before the time is up');
    advance(1000);
    assert.equal(await r.loop.resync(), 1);
    await r.idle();
    assert.equal(store.collection(KINDS.customerGateway).get(REGION, id), undefined);
    assert.deepEqual(store.tags.forResource(REGION, id), []);
    await r.stop();
  });

  it('a change event for a kind it does not run is ignored', async () => {
    const { r } = setup();
    await r.start();
    r.handle({ kind: KINDS.instance.name, region: REGION, id: 'i-00000000000000001' });
    assert.equal(r.loop.busy(`${KINDS.instance.name}/${REGION}/i-00000000000000001`), false);
    await r.stop();
  });
});
