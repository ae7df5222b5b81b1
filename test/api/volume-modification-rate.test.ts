/**
 * ModifyVolume's rate rules through the SDK, on a server whose clock the test
 * moves (no sleeping): one modification at a time (the previous one must be
 * completed), at most four starting in a rolling 24 hours. Refused calls,
 * dry runs and bad input change nothing and use up nothing.
 */
import {
  CreateVolumeCommand,
  DescribeVolumesCommand,
  DescribeVolumesModificationsCommand,
  ModifyVolumeCommand,
  type EC2Client,
  type VolumeModification,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import type { MockBlockStore } from '../../src/storage/drivers/mock.js';

const HOUR = 3600_000;

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 300; i++) {
    last = await f();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${what}: never reached (last: ${JSON.stringify(last)})`);
}

describe('ModifyVolume rate rules (a clock the test moves)', () => {
  let t: TestServer;
  let c: EC2Client;
  // whole seconds, so StartTime (which EC2 gives to the second) is the clock's time
  const T0 = Math.floor(Date.now() / 1000) * 1000;
  const clock = { now: T0 };

  before(async () => {
    t = await startTestServer({}, undefined, { clock: () => new Date(clock.now) });
    c = t.client();
  });
  after(async () => {
    await t.close();
  });

  const modification = async (id: string): Promise<VolumeModification> =>
    (await c.send(new DescribeVolumesModificationsCommand({ VolumeIds: [id] }))).VolumesModifications![0]!;
  const completed = (id: string) => until(`${id} modification completed`, () => modification(id), (m) => m.ModificationState === 'completed');
  const size = async (id: string) => (await c.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!.Size;
  const grow = async (id: string, to: number) => {
    const m = await c.send(new ModifyVolumeCommand({ VolumeId: id, Size: to }));
    assert.equal(m.VolumeModification!.ModificationState, 'modifying');
    await completed(id);
    assert.equal(await size(id), to);
  };
  const newVolume = async () => {
    const id = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 10, VolumeType: 'gp3' }))).VolumeId!;
    await until(`${id} available`, () => c.send(new DescribeVolumesCommand({ VolumeIds: [id] })), (r) => r.Volumes![0]!.State === 'available');
    return id;
  };

  it('a modification still in progress refuses the next with IncorrectModificationState, and the refusal changes nothing', async () => {
    const vol = await newVolume();
    // hold the resize: the modification stays modifying until released
    const bs = t.server.drivers.blockStore as MockBlockStore;
    const resize = bs.resizeVolume.bind(bs);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    bs.resizeVolume = async (id, gib) => {
      await held;
      return resize(id, gib);
    };
    try {
      await c.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 11 }));
      const e = await ec2Error(c.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 20, VolumeType: 'io2', Iops: 1000 })));
      assert.equal(e.code, 'IncorrectModificationState');
      assert.equal(e.message, `Volume ${vol} cannot be modified in modification state MODIFYING`);
      assert.equal(e.status, 400);
      const m = await modification(vol);
      assert.deepEqual([m.ModificationState, m.TargetSize, m.TargetVolumeType], ['modifying', 11, 'gp3'], 'the refused call left the modification as it was');
    } finally {
      release();
      bs.resizeVolume = resize;
    }
    await completed(vol);
    assert.equal(await size(vol), 11);
    // completed: the next one is accepted at once (no six-hour cooldown)
    await grow(vol, 12);
  });

  it('four modifications in a rolling 24 hours; the fifth is VolumeModificationRateExceeded until the first leaves the window; refusals, dry runs and bad input count for nothing', async () => {
    clock.now = T0;
    const vol = await newVolume();
    await grow(vol, 11); // T0
    clock.now = T0 + 1 * HOUR;
    await grow(vol, 12);
    clock.now = T0 + 2 * HOUR;
    await grow(vol, 13);
    clock.now = T0 + 3 * HOUR;
    // neither a dry run nor bad input uses up the fourth
    assert.equal((await ec2Error(c.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 20, DryRun: true })))).code, 'DryRunOperation');
    assert.equal((await ec2Error(c.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 5 })))).code, 'InvalidParameterValue');
    await grow(vol, 14);


    const refused = async () => {
      const e = await ec2Error(c.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 30 })));
      assert.equal(e.code, 'VolumeModificationRateExceeded', `at T0+${(clock.now - T0) / HOUR}h: ${e.message}`);
      assert.equal(e.status, 400);
      return e.message;
    };
    clock.now = T0 + 4 * HOUR;
    const message = await refused();
    const next = new Date(T0 + 24 * HOUR).toISOString();
    assert.equal(
      message,
      `You've reached the maximum modification rate per volume limit: 4 modifications in 24 hours. You can modify volume ${vol} again after ${next}.`,
    );
    // a dry run is refused the same way
    assert.equal((await ec2Error(c.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 30, DryRun: true })))).code, 'VolumeModificationRateExceeded');
    clock.now = T0 + 24 * HOUR; // the first is still in the window at exactly 24 hours
    await refused();
    const m = await modification(vol);
    assert.deepEqual([m.ModificationState, m.TargetSize, await size(vol)], ['completed', 14, 14], 'the refusals changed nothing');

    clock.now = T0 + 24 * HOUR + 1000; // the first left: one more, however many were refused
    await grow(vol, 15);
    // and the window is full again until the second (T0+1h) leaves it
    const again = await refused();
    assert.match(again, new RegExp(`again after ${new Date(T0 + 25 * HOUR).toISOString().replace(/\./g, '\\.')}\\.$`));
    // the rule is per volume: another volume is not limited
    const other = await newVolume();
    await grow(other, 11);
  });
});
