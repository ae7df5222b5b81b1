import {
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  type DescribeInstanceTypeOfferingsCommandInput,
  type DescribeInstanceTypesCommandInput,
  type InstanceTypeInfo,
  type InstanceTypeOffering,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { INSTANCE_TYPES, isOfferedIn, requireInstanceType } from '../../src/domain/instance-types.js';
import { findRegion } from '../../src/domain/regions.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('instance types', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  const ec2 = (region?: string) => t.client(region);

  async function allTypes(input: DescribeInstanceTypesCommandInput = {}, region?: string): Promise<InstanceTypeInfo[]> {
    const out: InstanceTypeInfo[] = [];
    let token: string | undefined;
    do {
      const page = await ec2(region).send(new DescribeInstanceTypesCommand({ ...input, MaxResults: 100, NextToken: token }));
      out.push(...page.InstanceTypes!);
      token = page.NextToken;
    } while (token);
    return out;
  }
  const filtered = async (Name: string, Values: string[]): Promise<string[]> =>
    (await allTypes({ Filters: [{ Name, Values }] })).map((i) => i.InstanceType!).sort();
  const expected = (pred: (i: InstanceTypeInfo) => boolean, region = 'us-east-1'): string[] => {
    const zones = findRegion(region)!.zones;
    return INSTANCE_TYPES.filter((i) => zones.some((z) => isOfferedIn(i.InstanceType!, region, z.ZoneName)))
      .filter(pred)
      .map((i) => i.InstanceType!)
      .sort();
  };

  it('DescribeInstanceTypes by name returns the catalogue entries', async () => {
    const out = await ec2().send(new DescribeInstanceTypesCommand({ InstanceTypes: ['t3.micro', 'm5.large'] }));
    const byName = new Map(out.InstanceTypes!.map((i) => [i.InstanceType, i]));
    assert.equal(byName.size, 2);
    const micro = byName.get('t3.micro')!;
    assert.equal(micro.VCpuInfo!.DefaultVCpus, 2);
    assert.equal(micro.MemoryInfo!.SizeInMiB, 1024);
    assert.equal(micro.FreeTierEligible, true);
    assert.equal(micro.BurstablePerformanceSupported, true);
    assert.deepEqual(micro.ProcessorInfo!.SupportedArchitectures, ['x86_64']);
    assert.deepEqual(byName.get('m5.large'), structuredClone(INSTANCE_TYPES.find((i) => i.InstanceType === 'm5.large')));
  });

  it('DescribeInstanceTypes rejects unknown types', async () => {
    const err = await ec2Error(ec2().send(new DescribeInstanceTypesCommand({ InstanceTypes: ['t3.micro', 'x9.huge' as never] })));
    assert.equal(err.code, 'InvalidInstanceType');
    assert.equal(err.message, 'The following supplied instance types do not exist: [x9.huge]');
  });

  it('paginates: pages together equal the unfiltered list without duplicates; MaxResults 5..100', async () => {
    const unpaged = (await ec2().send(new DescribeInstanceTypesCommand({}))).InstanceTypes!;
    assert.equal(unpaged.length, expected(() => true).length);
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await ec2().send(new DescribeInstanceTypesCommand({ MaxResults: 7, NextToken: token }));
      assert.ok(page.InstanceTypes!.length <= 7);
      names.push(...page.InstanceTypes!.map((i) => i.InstanceType!));
      token = page.NextToken;
      pages++;
    } while (token);
    assert.ok(pages > 2);
    assert.equal(new Set(names).size, names.length);
    assert.deepEqual([...names].sort(), unpaged.map((i) => i.InstanceType!).sort());
    for (const bad of [4, 101]) {
      const err = await ec2Error(ec2().send(new DescribeInstanceTypesCommand({ MaxResults: bad })));
      assert.equal(err.code, 'InvalidParameterValue');
    }
  });

  it('only types offered in the region are described in the caller region', async () => {
    // trn1 is only offered in us-east-1, us-east-2 and us-west-2
    const paris = (await allTypes({}, 'eu-west-3')).map((i) => i.InstanceType!);
    assert.ok(!paris.some((n) => n.startsWith('trn1.')));
    assert.ok(paris.includes('t3.micro'));
    assert.ok((await allTypes({}, 'us-east-1')).some((i) => i.InstanceType!.startsWith('trn1.')));
    const err = await ec2Error(ec2('eu-west-3').send(new DescribeInstanceTypesCommand({ InstanceTypes: ['trn1.2xlarge'] })));
    assert.equal(err.code, 'InvalidInstanceType');
  });

  it('filters on many attributes agree with the catalogue', async () => {
    const cases: [string, string[], (i: InstanceTypeInfo) => boolean][] = [
      ['instance-type', ['t3.*'], (i) => i.InstanceType!.startsWith('t3.')],
      ['current-generation', ['true'], (i) => i.CurrentGeneration === true],
      ['free-tier-eligible', ['true'], (i) => i.FreeTierEligible === true],
      ['hibernation-supported', ['false'], (i) => i.HibernationSupported === false],
      ['hypervisor', ['xen'], (i) => i.Hypervisor === 'xen'],
      ['bare-metal', ['false'], (i) => i.BareMetal === false],
      ['burstable-performance-supported', ['true'], (i) => i.BurstablePerformanceSupported === true],
      ['instance-storage-supported', ['true'], (i) => i.InstanceStorageSupported === true],
      ['instance-storage-info.disk.type', ['hdd'], (i) => (i.InstanceStorageInfo?.Disks ?? []).some((d) => d.Type === 'hdd')],
      ['memory-info.size-in-mib', ['8192'], (i) => i.MemoryInfo?.SizeInMiB === 8192],
      ['processor-info.supported-architecture', ['arm64'], (i) => i.ProcessorInfo!.SupportedArchitectures!.includes('arm64')],
      ['supported-root-device-type', ['instance-store'], (i) => i.SupportedRootDeviceTypes!.includes('instance-store')],
      ['supported-usage-class', ['spot'], (i) => i.SupportedUsageClasses!.includes('spot')],
      ['supported-virtualization-type', ['hvm'], (i) => i.SupportedVirtualizationTypes!.includes('hvm')],
      ['vcpu-info.default-vcpus', ['2', '4'], (i) => [2, 4].includes(i.VCpuInfo!.DefaultVCpus!)],
      ['vcpu-info.default-cores', ['1'], (i) => i.VCpuInfo!.DefaultCores === 1],
      ['network-info.ena-support', ['required'], (i) => i.NetworkInfo!.EnaSupport === 'required'],
      ['network-info.ipv6-supported', ['true'], (i) => i.NetworkInfo!.Ipv6Supported === true],
      ['network-info.maximum-network-interfaces', ['3'], (i) => i.NetworkInfo!.MaximumNetworkInterfaces === 3],
      ['network-info.network-performance', ['Up to *'], (i) => i.NetworkInfo!.NetworkPerformance!.startsWith('Up to ')],
      ['ebs-info.ebs-optimized-support', ['default'], (i) => i.EbsInfo!.EbsOptimizedSupport === 'default'],
      ['gpu-info.gpus.manufacturer', ['NVIDIA'], (i) => (i.GpuInfo?.Gpus ?? []).some((g) => g.Manufacturer === 'NVIDIA')],
    ];
    for (const [name, values, pred] of cases) {
      const want = expected(pred);
      assert.deepEqual(await filtered(name, values), want, `filter ${name}=${values.join(',')}`);
    }
    // several of them select something and exclude something
    for (const name of ['instance-type', 'processor-info.supported-architecture', 'burstable-performance-supported', 'hypervisor']) {
      const [, values, pred] = cases.find((c) => c[0] === name)!;
      const got = await filtered(name, values);
      assert.ok(got.length > 0 && got.length < expected(() => true).length, `${name} selects a proper subset`);
      assert.ok(expected((i) => !pred(i)).length > 0);
    }
    const clock = await allTypes({ Filters: [{ Name: 'processor-info.sustained-clock-speed-in-ghz', Values: ['3.1'] }] });
    assert.ok(clock.every((i) => i.ProcessorInfo!.SustainedClockSpeedInGhz === 3.1));
    // AND across filters
    const combo = await allTypes({
      Filters: [
        { Name: 'processor-info.supported-architecture', Values: ['arm64'] },
        { Name: 'burstable-performance-supported', Values: ['true'] },
      ],
    });
    assert.deepEqual(
      combo.map((i) => i.InstanceType!).sort(),
      expected((i) => i.ProcessorInfo!.SupportedArchitectures!.includes('arm64') && i.BurstablePerformanceSupported === true),
    );
    assert.ok(combo.length > 0 && combo.every((i) => i.InstanceType!.startsWith('t4g.')));
    const bad = await ec2Error(ec2().send(new DescribeInstanceTypesCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })));
    assert.equal(bad.code, 'InvalidParameterValue');
  });

  async function allOfferings(input: DescribeInstanceTypeOfferingsCommandInput, region?: string): Promise<InstanceTypeOffering[]> {
    const out: InstanceTypeOffering[] = [];
    let token: string | undefined;
    do {
      const page = await ec2(region).send(new DescribeInstanceTypeOfferingsCommand({ ...input, MaxResults: 1000, NextToken: token }));
      out.push(...page.InstanceTypeOfferings!);
      token = page.NextToken;
    } while (token);
    return out;
  }

  it('DescribeInstanceTypeOfferings by region, zone and zone id follows isOfferedIn', async () => {
    const region = 'ap-northeast-2';
    const zones = findRegion(region)!.zones;
    const byRegion = await allOfferings({}, region);
    assert.ok(byRegion.every((o) => o.LocationType === 'region' && o.Location === region));
    assert.deepEqual(
      byRegion.map((o) => o.InstanceType!).sort(),
      INSTANCE_TYPES.filter((i) => zones.some((z) => isOfferedIn(i.InstanceType!, region, z.ZoneName))).map((i) => i.InstanceType!).sort(),
    );

    const byZone = await allOfferings({ LocationType: 'availability-zone' }, region);
    const want = zones.flatMap((z) =>
      INSTANCE_TYPES.filter((i) => isOfferedIn(i.InstanceType!, region, z.ZoneName)).map((i) => `${i.InstanceType}@${z.ZoneName}`),
    );
    assert.deepEqual(byZone.map((o) => `${o.InstanceType}@${o.Location}`).sort(), want.sort());
    // some type is in some zones of this region but not all
    const g5 = byZone.filter((o) => o.InstanceType === 'g5.xlarge').map((o) => o.Location);
    assert.deepEqual(g5.sort(), zones.filter((z) => isOfferedIn('g5.xlarge', region, z.ZoneName)).map((z) => z.ZoneName).sort());
    assert.ok(g5.length > 0 && g5.length < zones.length);

    const byZoneId = await allOfferings({ LocationType: 'availability-zone-id', Filters: [{ Name: 'instance-type', Values: ['t3.micro'] }] }, region);
    assert.deepEqual(byZoneId.map((o) => o.Location).sort(), zones.map((z) => z.ZoneId).sort());
    assert.ok(byZoneId.every((o) => o.LocationType === 'availability-zone-id'));
  });

  it('DescribeInstanceTypeOfferings filters by location and instance type, and paginates', async () => {
    const one = await allOfferings({
      LocationType: 'availability-zone',
      Filters: [
        { Name: 'location', Values: ['us-east-1f'] },
        { Name: 'instance-type', Values: ['p3.*', 'm5.large'] },
      ],
    });
    // p3 is only in the first three zones of a region
    assert.deepEqual(one.map((o) => o.InstanceType), ['m5.large']);
    const trn = await allOfferings({ Filters: [{ Name: 'instance-type', Values: ['trn1.*'] }] }, 'eu-west-1');
    assert.equal(trn.length, 0);

    const all = (await ec2().send(new DescribeInstanceTypeOfferingsCommand({ LocationType: 'availability-zone' }))).InstanceTypeOfferings!;
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await ec2().send(new DescribeInstanceTypeOfferingsCommand({ LocationType: 'availability-zone', MaxResults: 50, NextToken: token }));
      assert.ok(page.InstanceTypeOfferings!.length <= 50);
      keys.push(...page.InstanceTypeOfferings!.map((o) => `${o.InstanceType}@${o.Location}`));
      token = page.NextToken;
    } while (token);
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(keys.length, all.length);
    assert.deepEqual([...keys].sort(), all.map((o) => `${o.InstanceType}@${o.Location}`).sort());

    const badType = await ec2Error(ec2().send(new DescribeInstanceTypeOfferingsCommand({ LocationType: 'planet' as never })));
    assert.equal(badType.code, 'InvalidParameterValue');
    const badMax = await ec2Error(ec2().send(new DescribeInstanceTypeOfferingsCommand({ MaxResults: 1001 })));
    assert.equal(badMax.code, 'InvalidParameterValue');
    const badFilter = await ec2Error(ec2().send(new DescribeInstanceTypeOfferingsCommand({ Filters: [{ Name: 'zone', Values: ['x'] }] })));
    assert.equal(badFilter.code, 'InvalidParameterValue');
  });

  it('requireInstanceType', () => {
    assert.equal(requireInstanceType('c5.xlarge').VCpuInfo!.DefaultVCpus, 4);
    assert.throws(
      () => requireInstanceType('c5.enormous'),
      (e: { code?: string; message?: string }) =>
        e.code === 'InvalidParameterValue' && e.message === "Invalid value 'c5.enormous' for InstanceType.",
    );
  });
});
