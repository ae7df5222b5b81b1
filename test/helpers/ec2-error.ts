/** The Ec2Error a synchronous call throws (code and message); fails the test when it throws none or another error. */
import assert from 'node:assert/strict';
import { Ec2Error } from '../../src/domain/errors.js';

export function thrownEc2Error(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof Ec2Error, `not an Ec2Error: ${String(e)}`);
    return { code: e.code, message: e.message };
  }
  assert.fail('expected an Ec2Error');
}
