import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { thrownEc2Error } from '../helpers/ec2-error.js';
import {
  applyEntryChanges,
  checkAddressFamily,
  checkMaxEntries,
  checkPrefixListName,
  normalizeEntries,
} from '../../src/domain/prefix-list-entries.js';

const code = (fn: () => unknown): string => thrownEc2Error(fn).code;

describe('prefix list entries', () => {
  it('checks family, size and name', () => {
    assert.equal(checkAddressFamily('IPv6'), 'IPv6');
    assert.equal(code(() => checkAddressFamily('ipv4')), 'InvalidParameterValue');
    assert.equal(code(() => checkAddressFamily(undefined)), 'MissingParameter');
    assert.equal(checkMaxEntries(1), 1);
    assert.equal(checkMaxEntries(1000), 1000);
    assert.equal(checkMaxEntries(undefined, false), undefined);
    for (const n of [0, 1001, 2.5]) assert.equal(code(() => checkMaxEntries(n)), 'InvalidParameterValue');
    assert.equal(code(() => checkMaxEntries(undefined)), 'MissingParameter');
    assert.equal(checkPrefixListName('office'), 'office');
    assert.equal(code(() => checkPrefixListName('com.amazonaws.x')), 'InvalidParameterValue');
    assert.equal(code(() => checkPrefixListName('x'.repeat(256))), 'InvalidParameterValue');
  });

  it('normalizes entries: canonical CIDRs of the family, no duplicates, at most MaxEntries', () => {
    assert.deepEqual(normalizeEntries([{ Cidr: '10.1.2.3/16', Description: 'a' }, { Cidr: '10.2.0.0/16', Description: '' }], 'IPv4', 2), [
      { Cidr: '10.1.0.0/16', Description: 'a' },
      { Cidr: '10.2.0.0/16' },
    ]);
    assert.deepEqual(normalizeEntries([{ Cidr: '2001:DB8::1/32' }], 'IPv6', 1), [{ Cidr: '2001:db8::/32' }]);
    assert.equal(code(() => normalizeEntries([{ Cidr: '10.0.0.0/8' }], 'IPv6', 5)), 'InvalidParameterValue');
    assert.equal(code(() => normalizeEntries([{ Cidr: '10.0.0.0/8' }, { Cidr: '10.9.0.0/8' }], 'IPv4', 5)), 'InvalidParameterValue');
    assert.equal(code(() => normalizeEntries([{ Cidr: '10.0.0.0/8' }, { Cidr: '11.0.0.0/8' }], 'IPv4', 1)), 'InvalidParameterValue');
    assert.equal(code(() => normalizeEntries([{}], 'IPv4', 1)), 'MissingParameter');
  });

  it('applies removals, then additions', () => {
    const current = [{ Cidr: '10.0.0.0/16' }, { Cidr: '10.1.0.0/16' }];
    assert.deepEqual(applyEntryChanges(current, [{ Cidr: '10.2.0.0/16' }], [{ Cidr: '10.0.0.0/16' }], 'IPv4', 2), [
      { Cidr: '10.1.0.0/16' },
      { Cidr: '10.2.0.0/16' },
    ]);
    assert.equal(code(() => applyEntryChanges(current, [], [{ Cidr: '10.9.0.0/16' }], 'IPv4', 5)), 'InvalidPrefixListModification');
    assert.equal(code(() => applyEntryChanges(current, [{ Cidr: '10.1.0.0/16' }], [], 'IPv4', 5)), 'InvalidPrefixListModification');
    assert.equal(code(() => applyEntryChanges(current, [{ Cidr: '10.2.0.0/16' }], [], 'IPv4', 2)), 'PrefixListMaxEntriesExceeded');
    assert.equal(code(() => applyEntryChanges(current, [{ Cidr: '10.0.0.0/16' }], [{ Cidr: '10.0.0.0/16' }], 'IPv4', 5)), 'InvalidParameterValue');
    assert.deepEqual(current, [{ Cidr: '10.0.0.0/16' }, { Cidr: '10.1.0.0/16' }], 'the current entries are not changed');
  });
});
