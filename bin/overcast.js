#!/usr/bin/env node
// Bundles the TypeScript sources (esbuild, well under a second) and runs the result,
// so `overcast` needs no separate build step and always runs the current sources.
import { pathToFileURL } from 'node:url';
import { buildOvercast } from '../scripts/build.mjs';

const entry = await buildOvercast();
await import(pathToFileURL(entry).href);
