/** The images Overcast knows how to build. */
import type { ImageBuilder } from './builder.js';
import { debian12Builder } from './debian.js';
import { tinyBuilder } from './tiny.js';

export const DEFAULT_BUILDERS: readonly ImageBuilder[] = [tinyBuilder, debian12Builder];
