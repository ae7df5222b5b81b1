/** Block store drivers by name. Until config names one, the reconcilers take 'mock'. */
import { DriverMap } from '../../compute/driver.js';
import type { BlockStore } from '../block-store.js';
import { MockBlockStore } from './mock.js';

export const BLOCK_STORES = new DriverMap<BlockStore>('block store', [['mock', () => new MockBlockStore()]]);
