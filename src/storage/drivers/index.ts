/** Block store drivers by name. Until config names one, the reconcilers take 'mock'. */
import { join, resolve } from 'node:path';
import { DriverMap } from '../../compute/driver.js';
import type { BlockStore } from '../block-store.js';
import { MockBlockStore } from './mock.js';
import { ReflinkBlockStore } from './reflink.js';

export const BLOCK_STORES = new DriverMap<BlockStore>('block store', [
  ['mock', () => new MockBlockStore()],
  ['reflink', (config) => new ReflinkBlockStore({ dir: join(config.dataDir === ':memory:' ? resolve('.overcast') : config.dataDir, 'pool'), sizeGiB: config.poolSizeGiB })],
]);
