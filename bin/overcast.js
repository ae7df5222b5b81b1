#!/usr/bin/env node
// Bundles the TypeScript sources (esbuild, well under a second) and runs the result,
// so `overcast` needs no separate build step and always runs the current sources.
// Where dist/ cannot be written (a read-only install), it runs the sources through tsx.
import { pathToFileURL } from 'node:url';
import { buildOvercast } from '../scripts/build.mjs';

let entry;
try {
  entry = await buildOvercast();
} catch (e) {
  if (!['EACCES', 'EPERM', 'EROFS'].includes(e?.code)) throw e;
  process.stderr.write(`overcast: cannot write dist/ (${e.code}); running the sources through tsx\n`);
  (await import('tsx/esm/api')).register();
  entry = new URL('../src/main.ts', import.meta.url);
}
await import(entry instanceof URL ? entry.href : pathToFileURL(entry).href);
