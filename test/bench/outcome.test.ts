/** `npm run bench` fails (exit 1) when a case misses its target or a request failed, and says which. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failure, verdict } from '../../bench/outcome.js';

describe('bench verdict', () => {
  it('all targets met, references whatever their ratio: exit 0', () => {
    const v = verdict(
      [
        { name: 'DescribeRegions', ratio: 0.61, target: 0.5, errors: 0 },
        { name: 'with --auth any', ratio: 0.01, target: 0, errors: 0 },
        { name: 'DescribeInstances-1000', ratio: 0.3, target: 0.3, errors: 0 },
      ],
      false,
    );
    assert.deepEqual(v, { text: 'bench: all targets met', exitCode: 0 });
  });

  it('a missed target: exit 1, naming the case, its ratio and target', () => {
    const v = verdict(
      [
        { name: 'DescribeRegions', ratio: 0.61, target: 0.5, errors: 0 },
        { name: 'DescribeInstances-1000', ratio: 0.2449, target: 0.3, errors: 0 },
      ],
      false,
    );
    assert.equal(v.exitCode, 1);
    assert.equal(v.text, 'bench: FAILED, 1 case(s) missed a target or had failed requests:\n  DescribeInstances-1000: ratio 0.24 < target 0.3');
  });

  it('failed requests fail the run even in a reference case or above target', () => {
    assert.equal(failure({ name: 'r', ratio: 2, target: 0, errors: 3 }), '3 failed requests');
    assert.equal(failure({ name: 't', ratio: 2, target: 0.5, errors: 1 }), '1 failed requests');
    assert.equal(verdict([{ name: 'r', ratio: 1, target: 0, errors: 3 }], true).exitCode, 1);
    assert.equal(verdict([{ name: 'r', ratio: 0.2, target: 0, errors: 0 }], true).exitCode, 0);
  });

  it('a ratio that is not a number (no requests answered) misses its target', () => {
    assert.match(failure({ name: 'x', ratio: NaN, target: 0.5, errors: 0 }) ?? '', /ratio NaN < target 0.5/);
  });
});
