/** End to end (npm run test:slow): the bench's exit code follows its targets. A short run of one case. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = fileURLToPath(new URL('../..', import.meta.url));

function bench(env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts'],
      { cwd: root, env: { ...process.env, BENCH_ONLY: 'regions', BENCH_SECONDS: '1', BENCH_ROUNDS: '1', BENCH_CONNECTIONS: '4', ...env }, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, out: stdout + stderr }),
    );
  });
}

describe('npm run bench exit code', () => {
  it('targets met: exit 0', async () => {
    const r = await bench({ BENCH_TARGET_SCALE: '0.01' });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /bench: all targets met/);
    assert.match(r.out, /DescribeRegions: ratio [\d.]+ \(overcast \/ anchor\) \(target ≥ 0.005\) OK/);
    assert.match(r.out, /overcast: \d+ req\/s/);
  });

  it('a target missed: exit 1, naming it', async () => {
    const r = await bench({ BENCH_TARGET_SCALE: '1000' });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /DescribeRegions: ratio [\d.]+ \(overcast \/ anchor\) \(target ≥ 500\) BELOW TARGET/);
    assert.match(r.out, /bench: FAILED, 1 case\(s\) missed a target or had failed requests:\n {2}DescribeRegions: ratio [\d.]+ < target 500/);
  });
});
