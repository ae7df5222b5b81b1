/**
 * RunInstances launches as many instances as fit between MinCount and MaxCount
 * (EC2: "launches the largest possible number of instances above the specified
 * minimum count"), whether public IPs, the subnet's private addresses or the
 * instance limit run short; it fails, launching none, only when fewer than
 * MinCount fit.
 */
import {
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ACCOUNT_LIMITS } from '../../src/domain/account-limits.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('RunInstances honours MinCount when capacity runs short', () => {
  let t: TestServer;
  let c: EC2Client;
  let imageId: string;
  before(async () => {
    // a /28 pool: 14 usable public addresses
    t = await startTestServer({ publicIpPool: '198.18.0.0/28' });
    c = t.client();
    imageId = (await c.send(new DescribeImagesCommand({}))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(() => t.close());

  async function liveCount(): Promise<number> {
    const out = await c.send(new DescribeInstancesCommand({}));
    return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []).filter((i) => i.State?.Name !== 'terminated').length;
  }

  it('public IPs: MinCount=1 MaxCount=20 with 14 free launches 14; more than the pool for MinCount launches none', async () => {
    const tooMany = await ec2Error(c.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 15, MaxCount: 20 })));
    assert.equal(tooMany.code, 'InsufficientAddressCapacity');
    assert.equal(tooMany.status, 400);
    assert.equal(await liveCount(), 0);

    const out = await c.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 20 }));
    assert.equal(out.Instances?.length, 14);
    const ips = new Set(out.Instances!.map((i) => i.PublicIpAddress));
    assert.equal(ips.size, 14);
    for (const ip of ips) assert.match(ip ?? '', /^198\.18\.0\.(\d+)$/);
    assert.equal(await liveCount(), 14);

    const none = await ec2Error(c.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 })));
    assert.equal(none.code, 'InsufficientAddressCapacity');
    assert.equal(await liveCount(), 14);
  });

  it('private addresses: a /28 subnet (11 usable) launches 11 of MaxCount=20, and none for MinCount=12', async () => {
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await c.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.50.1.0/28' }))).Subnet!.SubnetId!;
    const before = await liveCount();
    const tooMany = await ec2Error(c.send(new RunInstancesCommand({ ImageId: imageId, SubnetId: subnet, MinCount: 12, MaxCount: 20 })));
    assert.equal(tooMany.code, 'InsufficientFreeAddressesInSubnet');
    assert.equal(await liveCount(), before);
    const out = await c.send(new RunInstancesCommand({ ImageId: imageId, SubnetId: subnet, MinCount: 1, MaxCount: 20 }));
    assert.equal(out.Instances?.length, 11);
    assert.equal(await liveCount(), before + 11);
  });
});

describe('RunInstances honours MinCount at the instance limit', () => {
  let t: TestServer;
  let c: EC2Client;
  let imageId: string;
  before(async () => {
    // a /21 pool and the default /20 subnet: neither runs short before the 1000-instance limit
    t = await startTestServer({ publicIpPool: '198.18.8.0/21' });
    c = t.client();
    imageId = (await c.send(new DescribeImagesCommand({}))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(() => t.close());

  it(`with ${ACCOUNT_LIMITS.maxInstances - 5} live, MaxCount=10 launches 5 and MinCount=6 launches none`, async () => {
    const first = await c.send(new RunInstancesCommand({ ImageId: imageId, MinCount: ACCOUNT_LIMITS.maxInstances - 5, MaxCount: ACCOUNT_LIMITS.maxInstances - 5 }));
    assert.equal(first.Instances?.length, ACCOUNT_LIMITS.maxInstances - 5);
    const tooMany = await ec2Error(c.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 6, MaxCount: 10 })));
    assert.equal(tooMany.code, 'InstanceLimitExceeded');
    const out = await c.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 10 }));
    assert.equal(out.Instances?.length, 5);
    assert.equal((await ec2Error(c.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 })))).code, 'InstanceLimitExceeded');
  });
});

describe('RunInstances refuses a type larger than the host can hold', () => {
  let t: TestServer;
  let c: EC2Client;
  let imageId: string;
  before(async () => {
    // as the server sets it when instances really run: this "host" has 4 GiB
    t = await startTestServer({ hostCapacity: { memoryMiB: 4096, vcpus: 2 } });
    c = t.client();
    imageId = (await c.send(new DescribeImagesCommand({}))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(() => t.close());

  it('r5.large (16 GiB) gets InsufficientInstanceCapacity and nothing is launched; t3.medium (4 GiB) runs', async () => {
    const e = await ec2Error(c.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, InstanceType: 'r5.large' })));
    assert.equal(e.code, 'InsufficientInstanceCapacity');
    assert.match(e.message, /r5\.large/);
    const none = await c.send(new DescribeInstancesCommand({}));
    assert.equal((none.Reservations ?? []).length, 0);
    const ok = await c.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, InstanceType: 't3.medium' }));
    assert.equal(ok.Instances?.length, 1);
  });
});
