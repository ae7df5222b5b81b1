/** `overcast server --help` prints the usage, with every option, its variable and default, and exits 0. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CONFIG_OPTIONS } from '../../src/config.js';
import { overcast } from './run.js';

function assertUsage(out: string): void {
  assert.match(out, /^overcast — /);
  assert.match(out, /overcast server \[options\]/);
  for (const o of CONFIG_OPTIONS) {
    const line = out.split('\n').find((l) => l.trimStart().startsWith(`${o.flag} `));
    assert.ok(line, `usage lists ${o.flag}`);
    assert.ok(line.includes(o.env), `${o.flag}'s line names ${o.env}`);
    assert.ok(line.includes(`default: ${o.default}`), `${o.flag}'s line gives its default`);
    assert.ok(out.includes(o.description), `usage describes ${o.flag}`);
  }
}

describe('overcast … --help', () => {
  for (const args of [['server', '--help'], ['server', '-h'], ['up', '--help'], ['server', '--port', '5000', '--help'], ['server', '--port=5000', '-h']]) {
    it(`overcast ${args.join(' ')} prints the usage and exits 0`, async () => {
      const r = await overcast(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assertUsage(r.stdout);
      assert.doesNotMatch(r.stdout, /listening on/);
    });
  }

  it('overcast help and overcast --help still print it', async () => {
    for (const args of [['help'], ['--help'], ['-h']]) {
      const r = await overcast(args);
      assert.equal(r.code, 0);
      assertUsage(r.stdout);
    }
  });

  it('an unknown option is still an error', async () => {
    const r = await overcast(['server', '--bogus', '1']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'overcast: unknown option --bogus\n');
  });
});
