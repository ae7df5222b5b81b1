/**
 * bin/overcast.js bundles the sources once and again only when they changed. Run on a copy
 * of the project in a temporary directory (node_modules linked), so the real src/ is untouched.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { overcast, root } from './run.js';

describe('bin/overcast.js builds dist/ only when the sources changed', () => {
  const copy = mkdtempSync(join(tmpdir(), 'overcast-build-'));
  const bundle = join(copy, 'dist/overcast.mjs');
  before(() => {
    for (const p of ['bin', 'scripts', 'src', 'package.json', 'package-lock.json']) cpSync(join(root, p), join(copy, p), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  const mtime = (): bigint => statSync(bundle, { bigint: true }).mtimeNs;
  async function start(): Promise<void> {
    const r = await overcast(['help'], { cwd: copy });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^overcast — /);
  }
  /** Runs overcast and says whether it rebuilt the bundle. */
  async function rebuilt(): Promise<boolean> {
    const before = mtime();
    await start();
    return mtime() !== before;
  }
  /** Moves a file's modification time by `s` seconds (as an edit would, without waiting). */
  function touch(file: string, s = 5): void {
    const t = statSync(file).mtimeMs / 1000 + s;
    utimesSync(file, t, t);
  }

  it('the first start builds, the second does not', async () => {
    await start();
    assert.ok(statSync(bundle).isFile());
    assert.equal(await rebuilt(), false);
    assert.equal(await rebuilt(), false);
  });

  it('touching a source file rebuilds, once', async () => {
    touch(join(copy, 'src/main.ts'));
    assert.equal(await rebuilt(), true);
    assert.equal(await rebuilt(), false);
  });

  it('an edited source is what runs after the rebuild', async () => {
    appendFileSync(join(copy, 'src/main.ts'), "\nprocess.stderr.write('edited\\n');\n");
    const r = await overcast(['help'], { cwd: copy });
    assert.equal(r.stderr, 'edited\n');
  });

  it('an added and a removed source file rebuild', async () => {
    const extra = join(copy, 'src/domain/extra.ts');
    writeFileSync(extra, 'export const extra = 1;\n');
    assert.equal(await rebuilt(), true);
    assert.equal(await rebuilt(), false);
    unlinkSync(extra);
    assert.equal(await rebuilt(), true);
    assert.equal(await rebuilt(), false);
  });

  it('a changed package-lock.json or build script rebuilds', async () => {
    touch(join(copy, 'package-lock.json'));
    assert.equal(await rebuilt(), true);
    touch(join(copy, 'scripts/build.mjs'));
    assert.equal(await rebuilt(), true);
    assert.equal(await rebuilt(), false);
  });

  it('a missing bundle is rebuilt even when the stamp matches', async () => {
    unlinkSync(bundle);
    await start();
    assert.ok(statSync(bundle).isFile());
  });
});
