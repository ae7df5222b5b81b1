/**
 * The Store contract (src/store/store.ts), run against every implementation:
 * SQLite on disk and in memory now, PostgreSQL later. An implementation that
 * cannot honour a case says why in `skip`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { kind, StoreConflict } from '../../src/store/kind.js';
import type { Store } from '../../src/store/store.js';

export interface StoreUnderTest {
  store: Store;
  /** closes and opens the same store again (durable implementations only) */
  reopen?: () => Store;
  cleanup(): void;
}

export type StoreCase = 'durable across reopen';

interface Doc {
  id: string;
  n: number;
  tags?: string[];
}
interface Holder {
  id: string;
  ips: string[];
  scope?: string;
}
interface Net {
  id: string;
  vpc: string;
  low: number;
  high: number;
}

const DOC = kind<Doc>({ name: 'conformance-doc' });
const HOLDER = kind<Holder>({
  name: 'conformance-holder',
  unique: [
    { space: 'conformance-ip', scope: 'global', values: (h) => h.ips },
    { space: 'conformance-scoped', scope: 'region', values: (h) => (h.scope ? [h.scope] : []) },
  ],
});
/** a second kind sharing the global space with HOLDER */
const OTHER_HOLDER = kind<Holder>({ name: 'conformance-other', unique: [{ space: 'conformance-ip', scope: 'global', values: (h) => h.ips }] });
interface Machine {
  id: string;
  state: string;
  groups: string[];
}
/** a kind with secondary indexes: live machines, and machines by group */
const MACHINE = kind<Machine>({
  name: 'conformance-machine',
  indexes: [
    { name: 'live', values: (m) => (m.state === 'gone' ? [] : ['1']) },
    { name: 'group', values: (m) => m.groups },
  ],
});
const NET = kind<Net>({ name: 'conformance-net', ranges: (n) => [{ scope: n.vpc, low: n.low, high: n.high }] });

export function runStoreConformance(name: string, open: () => StoreUnderTest, skip: Partial<Record<StoreCase, string>> = {}): void {
  describe(`Store conformance: ${name}`, () => {
    let t: StoreUnderTest;
    let s: Store;
    before(() => {
      t = open();
      s = t.store;
    });
    after(() => t.cleanup());

    it('puts, gets, lists in insertion order and deletes, per region', () => {
      const c = s.collection(DOC);
      c.put('r1', 'b', { id: 'b', n: 2 });
      c.put('r1', 'a', { id: 'a', n: 1 });
      c.put('r2', 'a', { id: 'a', n: 10 });
      assert.deepEqual(c.get('r1', 'a'), { id: 'a', n: 1 });
      assert.deepEqual(c.get('r2', 'a'), { id: 'a', n: 10 });
      assert.equal(c.get('r3', 'a'), undefined);
      assert.deepEqual(c.list('r1').map((d) => d.id), ['b', 'a']);
      c.put('r1', 'b', { id: 'b', n: 3 });
      assert.deepEqual(c.list('r1').map((d) => d.n), [3, 1], 'a replaced record keeps its place');
      assert.deepEqual(
        c.listAllRegions().map((r) => `${r.region}/${r.value.id}`).sort(),
        ['r1/a', 'r1/b', 'r2/a'],
      );
      assert.equal(c.delete('r1', 'b'), true);
      assert.equal(c.delete('r1', 'b'), false);
      assert.deepEqual(c.list('r1').map((d) => d.id), ['a']);
      assert.equal(s.collection(DOC), c, 'one collection per kind');
    });

    it('refuses a second declaration of a kind under the same name', () => {
      assert.throws(() => s.collection(kind<Doc>({ name: 'conformance-doc' })), /declared twice/);
    });

    it('commits a transaction whole and rolls back a failed one whole', () => {
      const c = s.collection(DOC);
      s.transaction(() => {
        c.put('tx', 'one', { id: 'one', n: 1 });
        c.put('tx', 'two', { id: 'two', n: 2 });
      });
      assert.equal(c.list('tx').length, 2);
      assert.throws(() =>
        s.transaction(() => {
          c.put('tx', 'three', { id: 'three', n: 3 });
          c.delete('tx', 'one');
          s.tags.set('tx', 'one', 'conformance-doc', [{ Key: 'k', Value: 'v' }]);
          s.setMeta('conformance-meta', 'x');
          throw new Error('boom');
        }),
      );
      assert.deepEqual(c.list('tx').map((d) => d.id), ['one', 'two']);
      assert.deepEqual(s.tags.forResource('tx', 'one'), []);
      assert.equal(s.getMeta('conformance-meta'), undefined);
    });

    it('rolls back only the inner part of a nested transaction that failed', () => {
      const c = s.collection(DOC);
      s.transaction(() => {
        c.put('nest', 'outer', { id: 'outer', n: 1 });
        try {
          s.transaction(() => {
            c.put('nest', 'inner', { id: 'inner', n: 2 });
            throw new Error('inner fails');
          });
        } catch {
          // the outer part goes on
        }
      });
      assert.deepEqual(c.list('nest').map((d) => d.id), ['outer']);
    });

    it('hands out records inside a transaction that the caller may change without writing them', () => {
      const c = s.collection(DOC);
      c.put('mut', 'x', { id: 'x', n: 1, tags: ['a'] });
      s.transaction(() => {
        const d = c.get('mut', 'x')!;
        d.n = 99;
        d.tags!.push('b');
      });
      assert.deepEqual(c.get('mut', 'x'), { id: 'x', n: 1, tags: ['a'] });
    });

    it('keeps unique values unique across regions and kinds sharing a space, and frees them on delete', () => {
      const h = s.collection(HOLDER);
      const o = s.collection(OTHER_HOLDER);
      h.put('r1', 'h1', { id: 'h1', ips: ['10.0.0.1', '10.0.0.2'] });
      h.put('r1', 'h1', { id: 'h1', ips: ['10.0.0.1', '10.0.0.3'] }); // a record may rewrite its own values
      assert.throws(() => h.put('r2', 'h2', { id: 'h2', ips: ['10.0.0.3'] }), StoreConflict, 'global: another region');
      assert.throws(() => o.put('r1', 'o1', { id: 'o1', ips: ['10.0.0.1'] }), StoreConflict, 'another kind, same space');
      assert.equal(h.get('r2', 'h2'), undefined, 'a refused write leaves nothing behind');
      assert.equal(o.get('r1', 'o1'), undefined);
      o.put('r1', 'o1', { id: 'o1', ips: ['10.0.0.2'] }); // released by the rewrite above
      h.delete('r1', 'h1');
      h.put('r2', 'h2', { id: 'h2', ips: ['10.0.0.1', '10.0.0.3'] }); // released by the delete
      assert.deepEqual(h.get('r2', 'h2')?.ips, ['10.0.0.1', '10.0.0.3']);
    });

    it('keeps region-scoped unique values unique within a region only', () => {
      const h = s.collection(HOLDER);
      h.put('r1', 's1', { id: 's1', ips: [], scope: 'subnet-a/10.1.0.5' });
      h.put('r2', 's2', { id: 's2', ips: [], scope: 'subnet-a/10.1.0.5' });
      assert.throws(() => h.put('r1', 's3', { id: 's3', ips: [], scope: 'subnet-a/10.1.0.5' }), StoreConflict);
    });

    it('refuses a conflicting write inside a transaction without spoiling the rest when caught', () => {
      const h = s.collection(HOLDER);
      h.put('r9', 'k1', { id: 'k1', ips: ['10.9.0.1'] });
      s.transaction(() => {
        h.put('r9', 'k2', { id: 'k2', ips: ['10.9.0.2'] });
        assert.throws(() => h.put('r9', 'k3', { id: 'k3', ips: ['10.9.0.1'] }), StoreConflict);
      });
      assert.ok(h.get('r9', 'k2'));
      assert.equal(h.get('r9', 'k3'), undefined);
    });

    it('refuses overlapping ranges within a scope, and allows them across scopes', () => {
      const n = s.collection(NET);
      n.put('r1', 'n1', { id: 'n1', vpc: 'vpc-a', low: 100, high: 199 });
      n.put('r1', 'n2', { id: 'n2', vpc: 'vpc-a', low: 200, high: 299 }); // adjacent
      n.put('r1', 'n3', { id: 'n3', vpc: 'vpc-b', low: 150, high: 160 }); // another VPC
      n.put('r2', 'n4', { id: 'n4', vpc: 'vpc-a', low: 150, high: 160 }); // another region
      assert.throws(() => n.put('r1', 'n5', { id: 'n5', vpc: 'vpc-a', low: 199, high: 199 }), StoreConflict);
      assert.throws(() => n.put('r1', 'n5', { id: 'n5', vpc: 'vpc-a', low: 0, high: 1000 }), StoreConflict);
      n.put('r1', 'n1', { id: 'n1', vpc: 'vpc-a', low: 100, high: 150 }); // a record's own range does not conflict
      n.delete('r1', 'n2');
      n.put('r1', 'n5', { id: 'n5', vpc: 'vpc-a', low: 151, high: 400 });
      assert.deepEqual(n.list('r1').map((x) => x.id).sort(), ['n1', 'n3', 'n5']);
    });

    it('tells whether a unique value is held, per space and scope, and lists held values by prefix in order', () => {
      const h = s.collection(HOLDER);
      const o = s.collection(OTHER_HOLDER);
      h.put('hv1', 'a', { id: 'a', ips: ['10.50.0.2', '10.50.0.10'], scope: 'subnet-x/10.0.0.9' });
      o.put('hv2', 'b', { id: 'b', ips: ['10.50.0.3'] });
      h.put('hv2', 'c', { id: 'c', ips: [], scope: 'subnet-x/10.0.0.5' });
      h.put('hv2', 'd', { id: 'd', ips: [], scope: 'subnet-y/10.0.0.4' });
      assert.equal(s.isHeld('conformance-ip', null, '10.50.0.3'), true, 'global: held by another kind in another region');
      assert.equal(s.isHeld('conformance-ip', null, '10.50.0.4'), false);
      assert.equal(s.isHeld('conformance-ip', 'hv1', '10.50.0.3'), false, 'a global space has no region scope');
      assert.equal(s.isHeld('conformance-scoped', 'hv1', 'subnet-x/10.0.0.9'), true);
      assert.equal(s.isHeld('conformance-scoped', 'hv2', 'subnet-x/10.0.0.9'), false, 'region scope');
      assert.deepEqual(s.heldValues('conformance-ip', null, '10.50.'), ['10.50.0.10', '10.50.0.2', '10.50.0.3']);
      assert.deepEqual(s.heldValues('conformance-scoped', 'hv2', 'subnet-x/'), ['subnet-x/10.0.0.5']);
      assert.deepEqual(s.heldValues('conformance-scoped', 'hv2'), ['subnet-x/10.0.0.5', 'subnet-y/10.0.0.4']);
      assert.deepEqual(s.heldValues('conformance-scoped', 'hv9', 'subnet-x/'), []);
      h.put('hv1', 'a', { id: 'a', ips: ['10.50.0.2'] });
      assert.equal(s.isHeld('conformance-ip', null, '10.50.0.10'), false, 'released by a rewrite');
      assert.equal(s.isHeld('conformance-scoped', 'hv1', 'subnet-x/10.0.0.9'), false);
      o.delete('hv2', 'b');
      assert.deepEqual(s.heldValues('conformance-ip', null, '10.50.'), ['10.50.0.2'], 'released by a delete');
      s.transaction(() => {
        h.put('hv1', 'e', { id: 'e', ips: ['10.50.0.7'] });
        assert.equal(s.isHeld('conformance-ip', null, '10.50.0.7'), true, 'visible inside the writing transaction');
      });
      assert.throws(() =>
        s.transaction(() => {
          h.put('hv1', 'f', { id: 'f', ips: ['10.50.0.8'] });
          throw new Error('boom');
        }),
      );
      assert.equal(s.isHeld('conformance-ip', null, '10.50.0.8'), false, 'a rolled-back write holds nothing');
    });

    it('counts and finds records through a secondary index, following rewrites, deletes and rollbacks', () => {
      const m = s.collection(MACHINE);
      m.put('ix', 'm1', { id: 'm1', state: 'up', groups: ['g1', 'g2'] });
      m.put('ix', 'm2', { id: 'm2', state: 'up', groups: ['g2'] });
      m.put('ix', 'm3', { id: 'm3', state: 'gone', groups: [] });
      m.put('ix-other', 'm4', { id: 'm4', state: 'up', groups: ['g2'] });
      assert.equal(m.count('ix', 'live', '1'), 2);
      assert.equal(m.count('ix-other', 'live', '1'), 1, 'per region');
      assert.equal(m.count('ix', 'live', '0'), 0);
      assert.equal(m.count('ix', 'no-such-index', '1'), 0);
      assert.deepEqual(m.find('ix', 'group', 'g2').map((x) => x.id), ['m1', 'm2'], 'oldest first');
      assert.deepEqual(m.find('ix', 'group', 'g1'), [{ id: 'm1', state: 'up', groups: ['g1', 'g2'] }]);
      assert.deepEqual(m.indexValues('ix', 'group'), ['g1', 'g2', 'g2'], 'once per record, in order');
      assert.deepEqual(m.indexValues('ix', 'group', 'g2'), ['g2', 'g2']);
      assert.deepEqual(m.indexValues('ix', 'group', 'g3'), []);
      m.put('ix', 'm1', { id: 'm1', state: 'gone', groups: ['g1'] });
      assert.equal(m.count('ix', 'live', '1'), 1, 'a rewrite moves the record in the index');
      assert.deepEqual(m.find('ix', 'group', 'g2').map((x) => x.id), ['m2']);
      m.delete('ix', 'm2');
      assert.equal(m.count('ix', 'live', '1'), 0);
      assert.deepEqual(m.find('ix', 'group', 'g2'), []);
      s.transaction(() => {
        m.put('ix', 'm5', { id: 'm5', state: 'up', groups: [] });
        assert.equal(m.count('ix', 'live', '1'), 1, 'visible inside the writing transaction');
      });
      assert.throws(() =>
        s.transaction(() => {
          m.put('ix', 'm6', { id: 'm6', state: 'up', groups: [] });
          throw new Error('boom');
        }),
      );
      assert.equal(m.count('ix', 'live', '1'), 1, 'a rolled-back write is not counted');
      assert.equal(m.find('ix', 'live', '1')[0]?.id, 'm5');
    });

    it('tags: set, replace, remove by key or by key and value, per type and per region', () => {
      const tags = s.tags;
      tags.set('tg', 'vpc-1', 'vpc', [{ Key: 'Name', Value: 'a' }, { Key: 'env', Value: 'dev' }]);
      tags.set('tg', 'vpc-1', 'vpc', [{ Key: 'Name', Value: 'b' }]);
      tags.set('tg', 'sg-1', 'security-group', [{ Key: 'Name', Value: 'g' }]);
      assert.deepEqual(tags.forResource('tg', 'vpc-1'), [{ Key: 'Name', Value: 'b' }, { Key: 'env', Value: 'dev' }]);
      assert.deepEqual([...tags.forType('tg', 'vpc').keys()], ['vpc-1']);
      tags.remove('tg', 'vpc-1', 'env', 'prod');
      assert.equal(tags.forResource('tg', 'vpc-1').length, 2, 'a value that does not match removes nothing');
      tags.remove('tg', 'vpc-1', 'env');
      assert.deepEqual(tags.forResource('tg', 'vpc-1'), [{ Key: 'Name', Value: 'b' }]);
      assert.equal(tags.all('tg').length, 2);
      assert.equal(tags.all('other-region').length, 0);
      tags.removeAll('tg', 'vpc-1');
      assert.deepEqual(tags.forResource('tg', 'vpc-1'), []);
    });

    it('remembers idempotency tokens per region and action, and meta values', () => {
      s.rememberIdempotent('r1', 'RunInstances', 'tok', '{"a":1}', '{"ok":true}', 1);
      assert.deepEqual({ ...s.idempotent('r1', 'RunInstances', 'tok')! }, { request: '{"a":1}', response: '{"ok":true}' });
      assert.equal(s.idempotent('r2', 'RunInstances', 'tok'), undefined);
      assert.equal(s.idempotent('r1', 'CreateVpc', 'tok'), undefined);
      s.setMeta('conformance-k', '1');
      s.setMeta('conformance-k', '2');
      assert.equal(s.getMeta('conformance-k'), '2');
    });

    it('keeps committed records, keys and tags across a reopen', { skip: skip['durable across reopen'] }, () => {
      s.collection(DOC).put('dur', 'd', { id: 'd', n: 7 });
      s.collection(HOLDER).put('dur', 'hd', { id: 'hd', ips: ['10.77.0.1'] });
      s.tags.set('dur', 'd', 'conformance-doc', [{ Key: 'k', Value: 'v' }]);
      s = t.reopen!();
      assert.deepEqual(s.collection(DOC).get('dur', 'd'), { id: 'd', n: 7 });
      assert.deepEqual(s.tags.forResource('dur', 'd'), [{ Key: 'k', Value: 'v' }]);
      assert.throws(() => s.collection(HOLDER).put('dur', 'other', { id: 'other', ips: ['10.77.0.1'] }), StoreConflict);
      assert.equal(s.isHeld('conformance-ip', null, '10.77.0.1'), true);
      s.collection(MACHINE).put('dur', 'md', { id: 'md', state: 'up', groups: [] });
      s = t.reopen!();
      assert.equal(s.collection(MACHINE).count('dur', 'live', '1'), 1);
    });
  });
}
