/** `overcast image list|build` (src/images-command.ts): its output, with builders that cost nothing. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { progressPrinter, runImageCommand } from '../../src/images-command.js';

function sink(isTTY: boolean): { write(s: string): boolean; isTTY: boolean; columns: number; text: string } {
  return {
    isTTY,
    columns: 100,
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

describe('overcast image', () => {
  it('a terminal gets one updating line with a percentage; a pipe gets a line per step', () => {
    const tty = sink(true);
    const bar = progressPrinter(tty, 'debian-12');
    bar.update({ step: 'retrieving packages (1)', done: 1, total: 4 });
    bar.update({ step: 'retrieving packages (2)', done: 2, total: 4 });
    bar.end();
    assert.doesNotMatch(tty.text, /\n/);
    assert.match(tty.text, /\rdebian-12 \[#{6}\.{18}\]  25% retrieving packages \(1\)\x1b\[K/);
    assert.match(tty.text, / 50% retrieving packages \(2\)/);
    assert.ok(tty.text.endsWith('\r\x1b[K'));

    const pipe = sink(false);
    const plain = progressPrinter(pipe, 'debian-12');
    plain.update({ step: 'retrieving packages (1)', done: 1, total: 4 });
    plain.update({ step: 'retrieving packages (2)', done: 2, total: 4 });
    plain.update({ step: 'done', done: 4, total: 4 });
    plain.end();
    assert.equal(pipe.text, 'debian-12:  25% retrieving packages\ndebian-12:  50% retrieving packages\ndebian-12: 100% done\n');
    // Steps that alternate print once each, then once per 10%.
    const turns = sink(false);
    const t = progressPrinter(turns, 'd');
    for (let i = 0; i < 100; i++) t.update({ step: i % 2 ? 'unpacking packages' : 'configuring packages', done: i, total: 100 });
    assert.equal(turns.text.split('\n').length - 1, 11);
  });

  it('list names every buildable image, built or not; build refuses unknown names; bad usage is status 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overcast-image-cmd-'));
    try {
      const out = sink(false);
      const err = sink(false);
      assert.equal(await runImageCommand(['list', '--image-dir', dir], out, err), 0);
      assert.match(out.text, /^NAME\s+STATE/);
      assert.match(out.text, /^tiny\s+not built/m);
      assert.match(out.text, /^debian-12\s+not built/m);
      assert.match(out.text, new RegExp(`\\(cache: ${dir}\\)`));
      assert.equal(await runImageCommand(['build', 'windows', '--image-dir', dir], out, err), 2);
      assert.match(err.text, /no image 'windows' \(buildable: tiny, debian-12\)/);
      assert.equal(await runImageCommand(['build'], out, err), 2);
      assert.equal(await runImageCommand(['frobnicate'], out, err), 2);
      assert.equal(await runImageCommand(['list', '--no-such-flag', 'x'], out, err), 2);
      assert.match(err.text, /unknown option --no-such-flag/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
