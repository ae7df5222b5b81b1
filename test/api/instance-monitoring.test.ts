import {
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  MonitorInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  UnmonitorInstancesCommand,
  type EC2Client,
  type Instance,
  type InstanceAttributeName,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('instance attributes and detailed monitoring', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let ami: string;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    ami = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(() => t.close());

  const instance = async (id: string): Promise<Instance> =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
  async function until(id: string, ok: (i: Instance) => boolean): Promise<Instance> {
    for (let n = 0; n < 300; n++) {
      const i = await instance(id);
      if (ok(i)) return i;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`instance ${id} never reached the expected state`);
  }
  const launch = async (extra: object = {}): Promise<string> =>
    (await ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, InstanceType: 't3.micro', ...extra }))).Instances![0]!.InstanceId!;

  it('DescribeInstanceAttribute answers every attribute the API lists', async () => {
    const id = await launch({ DisableApiStop: true, UserData: Buffer.from('#!/bin/sh\necho hi\n').toString('base64') });
    const ask = (Attribute: string) => ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: Attribute as InstanceAttributeName }));
    assert.equal((await ask('instanceType')).InstanceType?.Value, 't3.micro');
    assert.deepEqual((await ask('kernel')).KernelId ?? {}, {});
    assert.deepEqual((await ask('ramdisk')).RamdiskId ?? {}, {});
    assert.equal(Buffer.from((await ask('userData')).UserData!.Value!, 'base64').toString(), '#!/bin/sh\necho hi\n');
    assert.equal((await ask('disableApiTermination')).DisableApiTermination?.Value, false);
    assert.equal((await ask('disableApiStop')).DisableApiStop?.Value, true);
    assert.equal((await ask('instanceInitiatedShutdownBehavior')).InstanceInitiatedShutdownBehavior?.Value, 'stop');
    assert.equal((await ask('rootDeviceName')).RootDeviceName?.Value, '/dev/xvda');
    assert.equal((await ask('blockDeviceMapping')).BlockDeviceMappings?.[0]?.DeviceName, '/dev/xvda');
    assert.deepEqual((await ask('productCodes')).ProductCodes ?? [], []);
    assert.equal((await ask('sourceDestCheck')).SourceDestCheck?.Value, true);
    assert.match((await ask('groupSet')).Groups?.[0]?.GroupId ?? '', /^sg-/);
    assert.equal(typeof (await ask('ebsOptimized')).EbsOptimized?.Value, 'boolean');
    assert.equal((await ask('enaSupport')).EnaSupport?.Value, true);
    assert.equal((await ask('enclaveOptions')).EnclaveOptions?.Enabled, false);
    assert.ok((await ask('sriovNetSupport')).InstanceId === id);
    const bad = await ec2Error(ask('colour'));
    assert.equal(bad.code, 'InvalidParameterValue');
    const unknown = await ec2Error(ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: 'i-0123456789abcdef0', Attribute: 'kernel' })));
    assert.equal(unknown.code, 'InvalidInstanceID.NotFound');
  });

  it('MonitorInstances: pending then enabled; UnmonitorInstances: disabling then disabled', async () => {
    const id = await launch();
    assert.equal((await instance(id)).Monitoring?.State, 'disabled');
    const dry = await ec2Error(ec2.send(new MonitorInstancesCommand({ InstanceIds: [id], DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.equal((await instance(id)).Monitoring?.State, 'disabled');
    const on = await ec2.send(new MonitorInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(on.InstanceMonitorings, [{ InstanceId: id, Monitoring: { State: 'pending' } }]);
    await until(id, (i) => i.Monitoring?.State === 'enabled');
    const filtered = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'monitoring-state', Values: ['enabled'] }] }));
    assert.ok(filtered.Reservations!.flatMap((r) => r.Instances!).some((i) => i.InstanceId === id));
    // enabling again answers enabled
    assert.equal((await ec2.send(new MonitorInstancesCommand({ InstanceIds: [id] }))).InstanceMonitorings![0]!.Monitoring!.State, 'enabled');
    const off = await ec2.send(new UnmonitorInstancesCommand({ InstanceIds: [id] }));
    assert.equal(off.InstanceMonitorings![0]!.Monitoring!.State, 'disabling');
    await until(id, (i) => i.Monitoring?.State === 'disabled');
  });

  it('RunInstances Monitoring.Enabled starts pending and becomes enabled', async () => {
    const run = await ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, Monitoring: { Enabled: true } }));
    assert.equal(run.Instances![0]!.Monitoring?.State, 'pending');
    await until(run.Instances![0]!.InstanceId!, (i) => i.Monitoring?.State === 'enabled');
  });

  it('errors: no ids, malformed and unknown ids, terminated instances', async () => {
    assert.equal((await ec2Error(ec2.send(new MonitorInstancesCommand({ InstanceIds: [] })))).code, 'MissingParameter');
    assert.equal((await ec2Error(ec2.send(new MonitorInstancesCommand({ InstanceIds: ['i-nope'] })))).code, 'InvalidInstanceID.Malformed');
    assert.equal((await ec2Error(ec2.send(new UnmonitorInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })))).code, 'InvalidInstanceID.NotFound');
    const id = await launch();
    const other = await launch();
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    const err = await ec2Error(ec2.send(new MonitorInstancesCommand({ InstanceIds: [other, id] })));
    assert.equal(err.code, 'IncorrectInstanceState');
    assert.equal((await instance(other)).Monitoring?.State, 'disabled', 'a refused call changes no instance');
  });
});
