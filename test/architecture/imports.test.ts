/**
 * The layers' import rules (.dependency-cruiser.cjs) hold for the sources, and
 * each rule really fires: a tree with one wrong arrow per rule is refused.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const DEPCRUISE = join(ROOT, 'node_modules/.bin/depcruise');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

function cruise(cwd: string): Promise<Violation[]> {
  return new Promise((res, rej) => {
    execFile(
      DEPCRUISE,
      ['src', '--config', CONFIG, '--output-type', 'json'],
      { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (err, stdout) => {
        // exit code 1+ when violations exist: the JSON still tells which
        try {
          const out = JSON.parse(stdout) as { summary: { violations: Violation[] } };
          res(out.summary.violations);
        } catch {
          rej(err ?? new Error('depcruise printed no JSON'));
        }
      },
    );
  });
}

describe('import rules', () => {
  it('hold for src/', async () => {
    const violations = await cruise(ROOT);
    assert.deepEqual(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`), []);
  });

  it('refuse a deliberately wrong import for every rule', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overcast-imports-'));
    try {
      const file = (path: string, text: string): void => {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), text);
      };
      file('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext' }, include: ['src'] }));
      file('src/protocol/errors.ts', "import { rule } from '../api/handler.js';\nexport const wire = rule;\n");
      file('src/domain/errors.ts', 'export const ok = 1;\n');
      file('src/domain/rule.ts', "import { wire } from '../protocol/errors.js';\nexport const r = wire;\n");
      file('src/api/handler.ts', "import { loop } from '../reconcile/loop.js';\nexport const rule = loop;\n");
      file('src/resources/record.ts', "import { rule } from '../api/handler.js';\nexport const rec = rule;\n");
      file('src/reconcile/loop.ts', "import { rule } from '../api/handler.js';\nexport const loop = 1;\nexport const r = rule;\n");
      file('src/compute/driver.ts', "import { rec } from '../resources/record.js';\nexport const d = rec;\n");
      file('src/store/store.ts', "import { rec } from '../resources/record.js';\nexport const s = rec;\n");
      const fired = new Set((await cruise(dir)).map((v) => v.rule.name));
      for (const rule of [
        'domain-is-pure',
        'protocol-knows-no-ec2',
        'api-not-reconcile-or-drivers',
        'resources-below-api-and-reconcile',
        'reconcile-not-api',
        'drivers-take-prepared-resources',
        'store-knows-no-ec2',
        'no-circular',
      ]) {
        assert.ok(fired.has(rule), `rule ${rule} did not fire (fired: ${[...fired].join(', ')})`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
