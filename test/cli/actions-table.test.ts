/** The README's table of EC2 actions is what `npm run gen:actions` makes from the dispatcher today. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { BEGIN, END, README, families, renderActionsTable, withTable } from '../../scripts/actions-table.js';
import { ec2Modules } from '../../src/api/ec2/index.js';

describe('README actions table', () => {
  it('is up to date (run `npm run gen:actions` after adding actions)', async () => {
    const readme = readFileSync(README, 'utf8');
    const table = await renderActionsTable();
    assert.equal(withTable(readme, table), readme, 'README.md is stale: run `npm run gen:actions`');
  });

  it('lists every action of every module once, under the file that declares it', async () => {
    const fams = await families();
    assert.equal(fams.length, ec2Modules.length);
    const listed = fams.flatMap((f) => f.actions).sort();
    const served = ec2Modules.flatMap((m) => Object.keys(m.actions)).sort();
    assert.deepEqual(listed, served);
    assert.ok(fams.find((f) => f.file === 'vpcs')?.actions.includes('CreateVpc'));
    assert.ok(fams.find((f) => f.file === 'classic-link')?.actions.includes('DescribeVpcClassicLink'));
  });

  it('replaces only what is between the markers, and refuses a README without them', () => {
    const text = `intro\n${BEGIN}\nold\n${END}\noutro\n`;
    assert.equal(withTable(text, `${BEGIN}\nnew\n${END}`), `intro\n${BEGIN}\nnew\n${END}\noutro\n`);
    assert.throws(() => withTable('no markers', 'x'), /no .* section/);
  });
});
