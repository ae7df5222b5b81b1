#!/usr/bin/env node
// Runs the bundle of the TypeScript sources in dist/, bundling them first (esbuild, well
// under a second) when they changed since the last build, so `overcast` needs no separate
// build step and always runs the current sources.
// Where dist/ is stale and cannot be written (a read-only install), it runs the sources through tsx.
import { pathToFileURL } from 'node:url';
import { ensureBuilt } from '../scripts/build.mjs';

let entry;
try {
  entry = (await ensureBuilt()).entry;
} catch (e) {
  if (!['EACCES', 'EPERM', 'EROFS'].includes(e?.code)) throw e;
  process.stderr.write(`overcast: cannot write dist/ (${e.code}); running the sources through tsx\n`);
  (await import('tsx/esm/api')).register();
  entry = new URL('../src/main.ts', import.meta.url);
}
await import(entry instanceof URL ? entry.href : pathToFileURL(entry).href);
