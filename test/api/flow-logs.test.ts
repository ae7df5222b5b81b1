import {
  CreateFlowLogsCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteFlowLogsCommand,
  DescribeFlowLogsCommand,
  DescribeImagesCommand,
  DescribeTagsCommand,
  RunInstancesCommand,
  type CreateFlowLogsCommandInput,
  type EC2Client,
  type LogDestinationType,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_LOG_FORMAT } from '../../src/domain/flow-log-format.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

const FILE = 'file' as LogDestinationType;

describe('flow logs', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let vpcId: string;
  let subnetId: string;
  let eniId: string;
  let seq = 0;
  const dest = () => `test-${++seq}.log`;

  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }))).Vpc!.VpcId!;
    subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.30.1.0/24' }))).Subnet!.SubnetId!;
    const ami = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
    const inst = (await ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, SubnetId: subnetId }))).Instances![0]!;
    eniId = inst.NetworkInterfaces![0]!.NetworkInterfaceId!;
  });
  after(() => t.close());

  function create(input: Partial<CreateFlowLogsCommandInput>) {
    return ec2.send(
      new CreateFlowLogsCommand({
        ResourceType: 'VPC',
        ResourceIds: [vpcId],
        TrafficType: 'ALL',
        LogDestinationType: FILE,
        LogDestination: dest(),
        ...input,
      }),
    );
  }

  async function describeOne(id: string) {
    const out = await ec2.send(new DescribeFlowLogsCommand({ FlowLogIds: [id] }));
    assert.equal(out.FlowLogs?.length, 1);
    return out.FlowLogs![0]!;
  }

  describe('create, describe, delete', () => {
    it('a VPC flow log to a file, with the default format and interval', async () => {
      const name = dest();
      const out = await create({ LogDestination: name, TrafficType: 'REJECT' });
      assert.deepEqual(out.Unsuccessful ?? [], []);
      assert.equal(out.FlowLogIds?.length, 1);
      const id = out.FlowLogIds![0]!;
      assert.match(id, /^fl-[0-9a-f]{17}$/);
      const f = await describeOne(id);
      assert.equal(f.ResourceId, vpcId);
      assert.equal(f.TrafficType, 'REJECT');
      assert.equal(f.LogDestinationType, 'file');
      assert.equal(f.LogDestination, name);
      assert.equal(f.LogFormat, DEFAULT_LOG_FORMAT);
      assert.equal(f.MaxAggregationInterval, 600);
      assert.equal(f.FlowLogStatus, 'ACTIVE');
      assert.equal(f.DeliverLogsStatus, 'SUCCESS');
      assert.ok(f.CreationTime instanceof Date && Math.abs(f.CreationTime.getTime() - Date.now()) < 60_000);
      assert.equal(f.LogGroupName, undefined);
      assert.equal(f.Tags, undefined);
    });

    it('subnet and interface flow logs, a custom format, a 60 s interval, a name in a subdirectory', async () => {
      const format = '${srcaddr} ${dstaddr} ${action} ${interface-id}';
      const out = await create({ ResourceType: 'Subnet', ResourceIds: [subnetId], LogFormat: format, MaxAggregationInterval: 60, LogDestination: 'sub/dir/a.log' });
      const f = await describeOne(out.FlowLogIds![0]!);
      assert.equal(f.ResourceId, subnetId);
      assert.equal(f.LogFormat, format);
      assert.equal(f.MaxAggregationInterval, 60);
      assert.equal(f.LogDestination, 'sub/dir/a.log');
      const eni = await create({ ResourceType: 'NetworkInterface', ResourceIds: [eniId], TrafficType: 'ACCEPT' });
      assert.equal((await describeOne(eni.FlowLogIds![0]!)).ResourceId, eniId);
    });

    it('DeleteFlowLogs removes the flow log and its tags', async () => {
      const out = await create({ TagSpecifications: [{ ResourceType: 'vpc-flow-log', Tags: [{ Key: 'team', Value: 'net' }] }] });
      const id = out.FlowLogIds![0]!;
      const del = await ec2.send(new DeleteFlowLogsCommand({ FlowLogIds: [id] }));
      assert.deepEqual(del.Unsuccessful ?? [], []);
      const after = await ec2.send(new DescribeFlowLogsCommand({ FlowLogIds: [id] }));
      assert.deepEqual(after.FlowLogs ?? [], []);
      const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id] }] }));
      assert.deepEqual(tags.Tags ?? [], []);
    });

    it('DryRun creates nothing', async () => {
      const name = dest();
      const e = await ec2Error(create({ LogDestination: name, DryRun: true }));
      assert.equal(e.code, 'DryRunOperation');
      const all = await ec2.send(new DescribeFlowLogsCommand({}));
      assert.ok(!all.FlowLogs!.some((f) => f.LogDestination === name));
    });

    it('ClientToken: the same call answers the same flow log ids', async () => {
      const input = { LogDestination: dest(), ClientToken: `tok-${seq}` };
      const a = await create(input);
      const b = await create(input);
      assert.equal(a.ClientToken, input.ClientToken);
      assert.deepEqual(b.FlowLogIds, a.FlowLogIds);
      const same = await ec2.send(new DescribeFlowLogsCommand({ Filter: [{ Name: 'resource-id', Values: [vpcId] }] }));
      assert.equal(same.FlowLogs!.filter((f) => f.LogDestination === input.LogDestination).length, 1);
    });
  });

  describe('errors', () => {
    it('no LogDestinationType (cloud-watch-logs) is UnsupportedOperation, naming the file destination', async () => {
      const e = await ec2Error(ec2.send(new CreateFlowLogsCommand({ ResourceType: 'VPC', ResourceIds: [vpcId], TrafficType: 'ALL', LogGroupName: 'g' })));
      assert.equal(e.code, 'UnsupportedOperation');
      assert.match(e.message, /cloud-watch-logs/);
      assert.match(e.message, /LogDestinationType=file/);
      const cw = await ec2Error(create({ LogDestinationType: 'cloud-watch-logs', LogGroupName: 'g', LogDestination: undefined }));
      assert.equal(cw.code, 'UnsupportedOperation');
    });

    it('s3 and kinesis-data-firehose are UnsupportedOperation', async () => {
      for (const type of ['s3', 'kinesis-data-firehose'] as const) {
        const e = await ec2Error(create({ LogDestinationType: type, LogDestination: 'arn:aws:s3:::bucket' }));
        assert.equal(e.code, 'UnsupportedOperation', type);
        assert.match(e.message, /only LogDestinationType=file is served/i);
      }
    });

    it('an unknown destination type is InvalidParameterValue', async () => {
      const e = await ec2Error(create({ LogDestinationType: 'ftp' as LogDestinationType }));
      assert.equal(e.code, 'InvalidParameterValue');
    });

    it('unknown and malformed resource ids go into Unsuccessful; the others are made', async () => {
      const out = await create({ ResourceIds: [vpcId, 'vpc-0123456789abcdef0', 'subnet-0123456789abcdef0', 'nonsense'] });
      assert.equal(out.FlowLogIds?.length, 1);
      const byId = new Map(out.Unsuccessful!.map((u) => [u.ResourceId, u.Error]));
      assert.equal(byId.size, 3);
      assert.equal(byId.get('vpc-0123456789abcdef0')?.Code, 'InvalidVpcID.NotFound');
      assert.match(byId.get('vpc-0123456789abcdef0')!.Message!, /vpc-0123456789abcdef0/);
      assert.equal(byId.get('subnet-0123456789abcdef0')?.Code, 'InvalidVpcID.Malformed');
      assert.equal(byId.get('nonsense')?.Code, 'InvalidVpcID.Malformed');
      const subnets = await create({ ResourceType: 'Subnet', ResourceIds: ['subnet-0123456789abcdef0'] });
      assert.deepEqual(subnets.FlowLogIds ?? [], []);
      assert.equal(subnets.Unsuccessful![0]!.Error!.Code, 'InvalidSubnetID.NotFound');
      const enis = await create({ ResourceType: 'NetworkInterface', ResourceIds: ['eni-0123456789abcdef0'] });
      assert.equal(enis.Unsuccessful![0]!.Error!.Code, 'InvalidNetworkInterfaceID.NotFound');
    });

    it('the same flow log twice: FlowLogAlreadyExists in Unsuccessful', async () => {
      const name = dest();
      await create({ LogDestination: name });
      const again = await create({ LogDestination: name });
      assert.deepEqual(again.FlowLogIds ?? [], []);
      assert.equal(again.Unsuccessful![0]!.ResourceId, vpcId);
      assert.equal(again.Unsuccessful![0]!.Error!.Code, 'FlowLogAlreadyExists');
    });

    it('a LogDestination that is absolute, climbs out, or is missing is refused', async () => {
      for (const bad of ['/etc/passwd', '../escape.log', 'a/../../b.log', 'a//b', './a', 'with space.log', 'back\\slash', '']) {
        const e = await ec2Error(create({ LogDestination: bad }));
        assert.equal(e.code, 'InvalidParameterValue', bad);
      }
      const missing = await ec2Error(create({ LogDestination: undefined }));
      assert.equal(missing.code, 'MissingParameter');
    });

    it('a format with an unknown field, or not made of ${fields}, is InvalidParameter', async () => {
      const unknown = await ec2Error(create({ LogFormat: '${srcaddr} ${vpc-id-typo} ${action}' }));
      assert.equal(unknown.code, 'InvalidParameter');
      assert.match(unknown.message, /vpc-id-typo/);
      for (const bad of ['srcaddr dstaddr', '${srcaddr},${dstaddr}', '   ', '${}']) {
        const e = await ec2Error(create({ LogFormat: bad }));
        assert.equal(e.code, 'InvalidParameter', bad);
      }
    });

    it('other bad parameters', async () => {
      assert.equal((await ec2Error(create({ ResourceType: 'Vpc' as 'VPC' }))).code, 'InvalidParameterValue');
      assert.equal((await ec2Error(create({ ResourceType: 'TransitGateway' }))).code, 'UnsupportedOperation');
      assert.equal((await ec2Error(create({ TrafficType: 'SOME' as 'ALL' }))).code, 'InvalidParameterValue');
      assert.equal((await ec2Error(create({ TrafficType: undefined }))).code, 'MissingParameter');
      assert.equal((await ec2Error(create({ MaxAggregationInterval: 120 }))).code, 'InvalidParameter');
      assert.equal((await ec2Error(create({ LogGroupName: 'g' }))).code, 'InvalidParameterCombination');
      assert.equal((await ec2Error(create({ ResourceIds: [] }))).code, 'MissingParameter');
      assert.equal((await ec2Error(create({ TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'a', Value: 'b' }] }] }))).code, 'InvalidParameterValue');
    });

    it('DeleteFlowLogs: unknown and malformed ids go into Unsuccessful, the others are deleted', async () => {
      const id = (await create({})).FlowLogIds![0]!;
      const out = await ec2.send(new DeleteFlowLogsCommand({ FlowLogIds: [id, 'fl-0123456789abcdef0', 'bogus'] }));
      const byId = new Map(out.Unsuccessful!.map((u) => [u.ResourceId, u.Error?.Code]));
      assert.deepEqual(Object.fromEntries(byId), { 'fl-0123456789abcdef0': 'InvalidFlowLogId.NotFound', bogus: 'InvalidFlowLogId.Malformed' });
      assert.deepEqual((await ec2.send(new DescribeFlowLogsCommand({ FlowLogIds: [id] }))).FlowLogs ?? [], []);
    });
  });

  describe('filters, tags, pages', () => {
    let accept: string;
    let reject: string;
    before(async () => {
      accept = (await create({ ResourceType: 'Subnet', ResourceIds: [subnetId], TrafficType: 'ACCEPT', TagSpecifications: [{ ResourceType: 'vpc-flow-log', Tags: [{ Key: 'env', Value: 'prod' }] }] }))
        .FlowLogIds![0]!;
      reject = (await create({ ResourceType: 'Subnet', ResourceIds: [subnetId], TrafficType: 'REJECT' })).FlowLogIds![0]!;
      await ec2.send(new CreateTagsCommand({ Resources: [reject], Tags: [{ Key: 'env', Value: 'dev' }] }));
    });

    async function ids(Filter: { Name: string; Values: string[] }[]): Promise<string[]> {
      const out = await ec2.send(new DescribeFlowLogsCommand({ Filter }));
      return (out.FlowLogs ?? []).map((f) => f.FlowLogId!).filter((i) => i === accept || i === reject).sort();
    }

    it('traffic-type, resource-id, flow-log-id, log-destination-type, deliver-log-status, log-group-name', async () => {
      assert.deepEqual(await ids([{ Name: 'traffic-type', Values: ['ACCEPT'] }]), [accept]);
      assert.deepEqual(await ids([{ Name: 'resource-id', Values: [subnetId] }, { Name: 'traffic-type', Values: ['REJECT'] }]), [reject]);
      assert.deepEqual(await ids([{ Name: 'flow-log-id', Values: [reject] }]), [reject]);
      assert.deepEqual(await ids([{ Name: 'log-destination-type', Values: ['file'] }]), [accept, reject].sort());
      assert.deepEqual(await ids([{ Name: 'deliver-log-status', Values: ['SUCCESS'] }]), [accept, reject].sort());
      assert.deepEqual(await ids([{ Name: 'deliver-log-status', Values: ['FAILED'] }]), []);
      assert.deepEqual(await ids([{ Name: 'log-group-name', Values: ['*'] }]), []);
    });

    it('tag:, tag-key, and tags in the output (TagSpecifications and CreateTags)', async () => {
      assert.deepEqual(await ids([{ Name: 'tag:env', Values: ['prod'] }]), [accept]);
      assert.deepEqual(await ids([{ Name: 'tag:env', Values: ['dev', 'prod'] }]), [accept, reject].sort());
      assert.deepEqual(await ids([{ Name: 'tag-key', Values: ['env'] }]), [accept, reject].sort());
      assert.deepEqual((await describeOne(accept)).Tags, [{ Key: 'env', Value: 'prod' }]);
      const tags = await ec2.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [reject] }] }));
      assert.equal(tags.Tags![0]!.ResourceType, 'vpc-flow-log');
    });

    it('an unknown filter is InvalidParameterValue', async () => {
      assert.equal((await ec2Error(ec2.send(new DescribeFlowLogsCommand({ Filter: [{ Name: 'vpc-id', Values: ['x'] }] })))).code, 'InvalidParameterValue');
    });

    it('pages with MaxResults and NextToken', async () => {
      const all = (await ec2.send(new DescribeFlowLogsCommand({}))).FlowLogs!.map((f) => f.FlowLogId!);
      assert.ok(all.length >= 4);
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await ec2.send(new DescribeFlowLogsCommand({ MaxResults: 3, NextToken: token }));
        assert.ok(page.FlowLogs!.length <= 3);
        seen.push(...page.FlowLogs!.map((f) => f.FlowLogId!));
        token = page.NextToken;
      } while (token);
      assert.deepEqual(seen, all);
    });

    it('unknown FlowLogIds answer nothing', async () => {
      const out = await ec2.send(new DescribeFlowLogsCommand({ FlowLogIds: ['fl-0123456789abcdef0'] }));
      assert.deepEqual(out.FlowLogs ?? [], []);
    });
  });
});
