import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { BlockStoreError, type VolumeEvent } from '../../src/storage/block-store.js';
import { BLOCK_STORES } from '../../src/storage/drivers/index.js';
import { MockBlockStore } from '../../src/storage/drivers/mock.js';
import { runBlockStoreConformance } from './block-store.conformance.js';

runBlockStoreConformance('mock', () => new MockBlockStore());
runBlockStoreConformance('mock with a known image list', () => new MockBlockStore({ images: ['ami-0123456789abcdef0'] }));

describe('mock block store specifics', () => {
  it('is registered as "mock"', () => {
    assert.ok(BLOCK_STORES.create('mock', loadConfig([], {})) instanceof MockBlockStore);
  });

  it('refuses an image the pool does not hold, and a full pool', async () => {
    const bs = new MockBlockStore({ images: ['ami-1'], capacityGiB: 10 });
    await assert.rejects(bs.createVolume({ volumeId: 'vol-1', sizeGiB: 8, source: { kind: 'image', imageId: 'ami-2', deviceName: '/dev/xvda' } }), (e: unknown) => e instanceof BlockStoreError && e.code === 'not-found');
    await bs.createVolume({ volumeId: 'vol-1', sizeGiB: 8, source: { kind: 'image', imageId: 'ami-1', deviceName: '/dev/xvda' } });
    await assert.rejects(bs.createVolume({ volumeId: 'vol-2', sizeGiB: 8, source: { kind: 'empty' } }), (e: unknown) => e instanceof BlockStoreError && e.code === 'no-space');
  });

  it('a lost device is reported through events() and the volume is detached', async () => {
    const bs = new MockBlockStore();
    await bs.createVolume({ volumeId: 'vol-1', sizeGiB: 1, source: { kind: 'empty' } });
    await bs.attach('vol-1', 'i-1');
    const seen: VolumeEvent[] = [];
    bs.events((e) => seen.push(e));
    bs.loseDevice('vol-1');
    assert.deepEqual(seen, [{ volumeId: 'vol-1', instanceId: 'i-1', kind: 'lost' }]);
    assert.equal((await bs.listVolumes())[0]!.attachment, undefined);
  });
});
