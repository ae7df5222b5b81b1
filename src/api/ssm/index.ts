/** Every SSM resource family Overcast implements. */
import type { ApiModule } from '../context.js';
import { parametersModule } from './parameters.js';

export const ssmModules: readonly ApiModule[] = [parametersModule];
