import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { admitModification, MODIFICATION_WINDOW_MS } from '../../src/domain/volume-modifications.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'accepted';
};

describe('ModifyVolume rate rule (pure)', () => {
  const now = new Date('2030-01-02T00:00:00.000Z');
  it('refuses while the last modification is modifying or optimizing; completed or failed admit', () => {
    assert.equal(code(() => admitModification('vol-1', { ModificationState: 'modifying' }, [], now)), 'IncorrectModificationState');
    assert.equal(code(() => admitModification('vol-1', { ModificationState: 'optimizing' }, [], now)), 'IncorrectModificationState');
    assert.equal(code(() => admitModification('vol-1', { ModificationState: 'completed' }, [], now)), 'accepted');
    assert.equal(code(() => admitModification('vol-1', { ModificationState: 'failed' }, [], now)), 'accepted');
  });
  it('counts only the starts of the last 24 hours, and keeps only those', () => {
    const at = (msAgo: number) => new Date(now.getTime() - msAgo).toISOString();
    const old = [at(MODIFICATION_WINDOW_MS + 1), at(MODIFICATION_WINDOW_MS + 2)];
    const three = [at(3000), at(2000), at(1000)];
    assert.deepEqual(admitModification('vol-1', undefined, [...old, ...three], now), [...three, now.toISOString()]);
    assert.equal(code(() => admitModification('vol-1', undefined, [at(MODIFICATION_WINDOW_MS), ...three], now)), 'VolumeModificationRateExceeded');
    assert.equal(code(() => admitModification('vol-1', undefined, [at(MODIFICATION_WINDOW_MS - 1), ...three], now)), 'VolumeModificationRateExceeded');
    assert.equal(code(() => admitModification('vol-1', undefined, ['garbage', ...three], now)), 'accepted');
  });
});
