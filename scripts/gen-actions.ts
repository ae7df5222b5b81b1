/** `npm run gen:actions`: rewrites the README's table of implemented EC2 actions (scripts/actions-table.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import { README, renderActionsTable, withTable } from './actions-table.js';

const before = readFileSync(README, 'utf8');
const after = withTable(before, await renderActionsTable());
if (after === before) {
  process.stdout.write('README.md: the actions table is up to date\n');
} else {
  writeFileSync(README, after);
  process.stdout.write('README.md: the actions table was rewritten\n');
}
