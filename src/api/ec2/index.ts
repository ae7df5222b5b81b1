/** Every EC2 resource family Overcast implements. */
import type { ApiModule } from '../context.js';
import { regionsModule } from './regions.js';
import { tagsModule } from './tags.js';

export const ec2Modules: readonly ApiModule[] = [regionsModule, tagsModule];
