/** Every STS operation family Overcast implements. */
import type { ApiModule } from '../context.js';
import { callerIdentityModule } from './caller-identity.js';

export const stsModules: readonly ApiModule[] = [callerIdentityModule];
