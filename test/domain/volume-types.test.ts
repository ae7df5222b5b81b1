/** The EBS volume type rules: sizes, IOPS, throughput, defaults and limits. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ec2Error } from '../../src/domain/errors.js';
import { checkDeviceName, checkVolumeShape, devicePath, gp2Iops, shareOfLimits, volumeLimits } from '../../src/domain/volume-types.js';

const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof Ec2Error) return e.code;
    throw e;
  }
  return 'ok';
};

describe('volume types', () => {
  it('fills in what EC2 reports: gp2 baseline IOPS, gp3 3000/125', () => {
    assert.deepEqual(checkVolumeShape({ type: 'gp2', sizeGiB: 10 }), { type: 'gp2', sizeGiB: 10, iops: 100 });
    assert.deepEqual(checkVolumeShape({ type: 'gp2', sizeGiB: 1000 }), { type: 'gp2', sizeGiB: 1000, iops: 3000 });
    assert.deepEqual(checkVolumeShape({ type: 'gp3', sizeGiB: 1 }), { type: 'gp3', sizeGiB: 1, iops: 3000, throughput: 125 });
    assert.equal(gp2Iops(10000), 16000);
  });

  it('refuses sizes, IOPS and throughput out of each type’s range, with EC2’s codes', () => {
    const cases: [Parameters<typeof checkVolumeShape>[0], string][] = [
      [{ type: 'gp2', sizeGiB: 0 }, 'InvalidParameterValue'],
      [{ type: 'gp2', sizeGiB: 16385 }, 'InvalidParameterValue'],
      [{ type: 'standard', sizeGiB: 1025 }, 'InvalidParameterValue'],
      [{ type: 'st1', sizeGiB: 124 }, 'InvalidParameterValue'],
      [{ type: 'io1', sizeGiB: 3, iops: 100 }, 'InvalidParameterValue'],
      [{ type: 'io1', sizeGiB: 10 }, 'MissingParameter'],
      [{ type: 'io1', sizeGiB: 10, iops: 501 }, 'InvalidParameterValue'],
      [{ type: 'io1', sizeGiB: 10, iops: 500 }, 'ok'],
      [{ type: 'io2', sizeGiB: 10, iops: 10000 }, 'ok'],
      [{ type: 'gp3', sizeGiB: 8, iops: 4001 }, 'InvalidParameterValue'],
      [{ type: 'gp3', sizeGiB: 8, iops: 4000 }, 'ok'],
      [{ type: 'gp3', sizeGiB: 8, throughput: 751 }, 'InvalidParameterValue'],
      [{ type: 'gp3', sizeGiB: 8, throughput: 750 }, 'ok'],
      [{ type: 'gp2', sizeGiB: 8, iops: 300 }, 'InvalidParameterCombination'],
      [{ type: 'io1', sizeGiB: 8, iops: 300, throughput: 200 }, 'InvalidParameterCombination'],
      [{ type: 'sc1', sizeGiB: 500, iops: 300 }, 'InvalidParameterCombination'],
      [{ type: 'gp2', sizeGiB: undefined }, 'MissingParameter'],
      [{ type: 'gp2', sizeGiB: 1.5 }, 'InvalidParameterValue'],
    ];
    for (const [input, want] of cases) assert.equal(code(() => checkVolumeShape(input)), want, JSON.stringify(input));
  });

  it('gives each type I/O limits that grow with what is provisioned', () => {
    assert.deepEqual(volumeLimits({ type: 'gp3', sizeGiB: 8, iops: 5000, throughput: 250 }), { iops: 5000, writeIops: 5000 * 64, bytesPerSecond: 250 * 1024 * 1024 });
    assert.ok(volumeLimits({ type: 'gp2', sizeGiB: 1000 }).iops > volumeLimits({ type: 'gp2', sizeGiB: 10 }).iops);
    assert.ok(volumeLimits({ type: 'st1', sizeGiB: 8192 }).bytesPerSecond > volumeLimits({ type: 'st1', sizeGiB: 500 }).bytesPerSecond);
  });

  it('device names: /dev/sdf, xvdf and nvme names; anything else refused', () => {
    assert.equal(checkDeviceName('/dev/sdf'), '/dev/sdf');
    assert.equal(devicePath('xvdf'), '/dev/xvdf');
    assert.equal(code(() => checkDeviceName('/dev/hda')), 'InvalidParameterValue');
    assert.equal(code(() => checkDeviceName('/etc/passwd')), 'InvalidParameterValue');
    assert.equal(code(() => checkDeviceName(undefined)), 'MissingParameter');
  });
});

describe('shareOfLimits (a Multi-Attach volume split among its instances)', () => {
  it('even parts rounded down, together within the whole; one holder has it all', () => {
    const whole = { iops: 1000, writeIops: 64000, bytesPerSecond: 16_384_000 };
    assert.deepEqual(shareOfLimits(whole, 1), whole);
    assert.deepEqual(shareOfLimits(whole, 0), whole);
    const third = shareOfLimits(whole, 3);
    assert.deepEqual(third, { iops: 333, writeIops: 21333, bytesPerSecond: 5_461_333 });
    assert.ok(third.iops * 3 <= whole.iops && third.bytesPerSecond * 3 <= whole.bytesPerSecond);
    assert.equal(shareOfLimits({ iops: 10, writeIops: 10, bytesPerSecond: 10 }, 16).iops, 1, 'at least 1');
  });
});
