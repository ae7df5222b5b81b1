/** `overcast --version` prints the package's version and how many EC2 actions the dispatcher serves. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ec2Modules } from '../../src/api/ec2/index.js';
import { overcast, root } from './run.js';

const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const actions = new Set(ec2Modules.flatMap((m) => Object.keys(m.actions)));

describe('overcast --version', () => {
  for (const args of [['--version'], ['version']]) {
    it(`overcast ${args.join(' ')} prints the version and the EC2 action count, exit 0`, async () => {
      const r = await overcast(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.equal(r.stdout, `overcast ${version} (EC2: ${actions.size} actions)\n`);
    });
  }

  it('counts each action once: no two families declare the same action', () => {
    const all = ec2Modules.flatMap((m) => Object.keys(m.actions));
    assert.equal(all.length, actions.size);
    assert.ok(actions.has('RunInstances') && actions.has('DescribeVpcClassicLink'));
  });

  it('the usage names --version', async () => {
    const r = await overcast(['help']);
    assert.match(r.stdout, /overcast --version +the version and the number of EC2 actions/);
  });
});
