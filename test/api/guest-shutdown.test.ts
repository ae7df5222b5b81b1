/**
 * A guest that powers itself off, seen through the SDK: the driver reports it on
 * its event stream and the instance reaches stopped or terminated (per its
 * InstanceInitiatedShutdownBehavior) with no further API call than describes.
 * The mock hypervisor's guest powers off once booted when its user data ends in `poweroff`.
 */
import { DescribeImagesCommand, DescribeInstancesCommand, RunInstancesCommand, type EC2Client, type InstanceStateName } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('guest-initiated shutdown', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let imageId: string;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    const images = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'architecture', Values: ['x86_64'] }] }));
    imageId = images.Images![0]!.ImageId!;
  });
  after(() => t.close());

  /** Polls DescribeInstances (bounded: 200 looks, 25 ms apart) until the state is one of `wanted`. */
  async function waitFor(id: string, wanted: InstanceStateName[]): Promise<{ state: string; reason?: string }> {
    let last = '';
    for (let i = 0; i < 200; i++) {
      const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
      const inst = r.Reservations?.[0]?.Instances?.[0];
      last = inst?.State?.Name ?? '';
      if (wanted.includes(last as InstanceStateName)) return { state: last, reason: inst?.StateReason?.Code };
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`instance ${id} stayed ${last}, wanted ${wanted.join(' or ')}`);
  }

  const launch = async (behavior: 'stop' | 'terminate'): Promise<string> => {
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId: imageId,
        InstanceType: 't3.micro',
        MinCount: 1,
        MaxCount: 1,
        InstanceInitiatedShutdownBehavior: behavior,
        UserData: Buffer.from('#!/bin/sh\necho bye\npoweroff\n').toString('base64'),
      }),
    );
    return out.Instances![0]!.InstanceId!;
  };

  it('InstanceInitiatedShutdownBehavior=stop: the instance ends stopped, with the reason EC2 gives', async () => {
    const id = await launch('stop');
    const end = await waitFor(id, ['stopped', 'terminated']);
    assert.equal(end.state, 'stopped');
    assert.equal(end.reason, 'Client.InstanceInitiatedShutdown');
  });

  it('InstanceInitiatedShutdownBehavior=terminate: the instance ends terminated', async () => {
    const id = await launch('terminate');
    const end = await waitFor(id, ['stopped', 'terminated']);
    assert.equal(end.state, 'terminated');
    assert.equal(end.reason, 'Client.InstanceInitiatedShutdown');
  });
});
