import { CreateTagsCommand, DescribeImagesCommand, type Image } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Dispatcher } from '../../src/api/dispatcher.js';
import { ec2Modules } from '../../src/api/ec2/index.js';
import type { ImageRecord } from '../../src/resources/ec2/records.js';
import { loadConfig } from '../../src/config.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import { OVERCAST_IMAGE_OWNER_ID, builtInImageId, builtInImages, requireImage } from '../../src/resources/ec2/images.js';

describe('images', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  const ec2 = (region?: string) => t.client(region);
  const all = async (region?: string): Promise<Image[]> => (await ec2(region).send(new DescribeImagesCommand({}))).Images ?? [];
  const filterNames = async (Name: string, Values: string[]): Promise<string[]> =>
    ((await ec2().send(new DescribeImagesCommand({ Filters: [{ Name, Values }] }))).Images ?? []).map((i) => i.Name!).sort();

  it('lists the built-in Debian and Ubuntu images for both architectures', async () => {
    const images = await all();
    const names = images.map((i) => i.Name!);
    for (const os of ['debian-12', 'ubuntu-22.04', 'ubuntu-24.04']) {
      for (const arch of ['amd64', 'arm64']) {
        assert.ok(names.some((n) => n.startsWith(`overcast/${os}-${arch}-`)), `missing ${os} ${arch}`);
      }
    }
    for (const i of images) {
      assert.match(i.ImageId!, /^ami-[0-9a-f]{17}$/);
      assert.equal(i.State, 'available');
      assert.equal(i.OwnerId, OVERCAST_IMAGE_OWNER_ID);
      assert.match(i.OwnerId!, /^\d{12}$/);
      assert.notEqual(i.OwnerId, '123456789012');
      assert.equal(i.ImageOwnerAlias, 'amazon');
      assert.equal(i.Public, true);
      assert.equal(i.ImageType, 'machine');
      assert.equal(i.PlatformDetails, 'Linux/UNIX');
      assert.equal(i.Platform, undefined);
      assert.equal(i.UsageOperation, 'RunInstances');
      assert.equal(i.RootDeviceType, 'ebs');
      assert.equal(i.RootDeviceName, '/dev/xvda');
      assert.equal(i.VirtualizationType, 'hvm');
      assert.equal(i.Hypervisor, 'xen');
      assert.equal(i.EnaSupport, true);
      assert.equal(i.SriovNetSupport, 'simple');
      assert.equal(i.ImdsSupport, 'v2.0');
      assert.equal(i.ImageLocation, `amazon/${i.Name}`);
      assert.ok(!Number.isNaN(Date.parse(i.CreationDate!)));
      assert.ok(Date.parse(i.DeprecationTime!) > Date.parse(i.CreationDate!));
      assert.equal(i.Architecture, i.Name!.includes('-arm64-') ? 'arm64' : 'x86_64');
      assert.equal(i.BootMode, i.Architecture === 'arm64' ? 'uefi' : 'uefi-preferred');
      assert.equal(i.BlockDeviceMappings!.length, 1);
      const m = i.BlockDeviceMappings![0]!;
      assert.equal(m.DeviceName, '/dev/xvda');
      assert.match(m.Ebs!.SnapshotId!, /^snap-[0-9a-f]{17}$/);
      assert.equal(m.Ebs!.VolumeSize, 8);
      assert.equal(m.Ebs!.VolumeType, 'gp3');
      assert.equal(m.Ebs!.DeleteOnTermination, true);
      assert.equal(m.Ebs!.Encrypted, false);
    }
    assert.equal(new Set(images.map((i) => i.ImageId)).size, images.length);
  });

  it('AMI ids are derived from region and name: equal across restarts, different across regions', async () => {
    const east = await all('us-east-1');
    for (const i of east) assert.equal(i.ImageId, builtInImageId('us-east-1', i.Name!));
    const west = await all('eu-west-1');
    assert.deepEqual(west.map((i) => i.Name).sort(), east.map((i) => i.Name).sort());
    for (const w of west) {
      const e = east.find((i) => i.Name === w.Name)!;
      assert.notEqual(w.ImageId, e.ImageId);
      assert.notEqual(w.BlockDeviceMappings![0]!.Ebs!.SnapshotId, e.BlockDeviceMappings![0]!.Ebs!.SnapshotId);
    }
    await t.restart();
    const after = await all('us-east-1');
    assert.deepEqual(after.map((i) => i.ImageId).sort(), east.map((i) => i.ImageId).sort());
  });

  it('DescribeImages by id, with Malformed and NotFound errors', async () => {
    const images = await all();
    const ids = images.slice(0, 2).map((i) => i.ImageId!);
    const out = await ec2().send(new DescribeImagesCommand({ ImageIds: ids }));
    assert.deepEqual(out.Images!.map((i) => i.ImageId).sort(), [...ids].sort());
    const missing = await ec2Error(ec2().send(new DescribeImagesCommand({ ImageIds: [ids[0]!, 'ami-0123456789abcdef0'] })));
    assert.equal(missing.code, 'InvalidAMIID.NotFound');
    assert.equal(missing.message, "The image id '[ami-0123456789abcdef0]' does not exist");
    const bad = await ec2Error(ec2().send(new DescribeImagesCommand({ ImageIds: ['ami-xyz'] })));
    assert.equal(bad.code, 'InvalidAMIID.Malformed');
    const wrongPrefix = await ec2Error(ec2().send(new DescribeImagesCommand({ ImageIds: ['i-0123456789abcdef0'] })));
    assert.equal(wrongPrefix.code, 'InvalidAMIID.Malformed');
    // An id from another region does not exist here.
    const west = (await all('eu-west-1'))[0]!;
    const other = await ec2Error(ec2().send(new DescribeImagesCommand({ ImageIds: [west.ImageId!] })));
    assert.equal(other.code, 'InvalidAMIID.NotFound');
  });

  it('Owners and ExecutableUsers scope the result', async () => {
    const total = (await all()).length;
    const amazon = await ec2().send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    assert.equal(amazon.Images!.length, total);
    const byId = await ec2().send(new DescribeImagesCommand({ Owners: [OVERCAST_IMAGE_OWNER_ID] }));
    assert.equal(byId.Images!.length, total);
    const self = await ec2().send(new DescribeImagesCommand({ Owners: ['self'] }));
    assert.equal(self.Images!.length, 0);
    const market = await ec2().send(new DescribeImagesCommand({ Owners: ['aws-marketplace'] }));
    assert.equal(market.Images!.length, 0);
    const pub = await ec2().send(new DescribeImagesCommand({ ExecutableUsers: ['all'] }));
    assert.equal(pub.Images!.length, total);
    const shared = await ec2().send(new DescribeImagesCommand({ ExecutableUsers: ['self'] }));
    assert.equal(shared.Images!.length, 0);
    const badOwner = await ec2Error(ec2().send(new DescribeImagesCommand({ Owners: ['nobody'] })));
    assert.equal(badOwner.code, 'InvalidUserID.Malformed');
    const badUser = await ec2Error(ec2().send(new DescribeImagesCommand({ ExecutableUsers: ['12'] })));
    assert.equal(badUser.code, 'InvalidUserID.Malformed');
  });

  it('filters: name, architecture, block device mapping, owner, state, booleans and tags', async () => {
    const images = await all();
    const names = (pred: (i: Image) => boolean) => images.filter(pred).map((i) => i.Name!).sort();
    assert.deepEqual(await filterNames('name', ['overcast/ubuntu-24.04-*']), names((i) => i.Name!.startsWith('overcast/ubuntu-24.04-')));
    assert.equal((await filterNames('name', ['overcast/ubuntu-24.04-*'])).length, 2);
    assert.deepEqual(await filterNames('architecture', ['arm64']), names((i) => i.Architecture === 'arm64'));
    assert.ok((await filterNames('architecture', ['arm64'])).length >= 3);
    assert.deepEqual(await filterNames('architecture', ['x86_64', 'arm64']), names(() => true));
    assert.equal((await filterNames('architecture', ['i386'])).length, 0);
    assert.equal((await filterNames('block-device-mapping.volume-size', ['8'])).length, images.length);
    assert.equal((await filterNames('block-device-mapping.volume-size', ['30'])).length, 0);
    assert.equal((await filterNames('block-device-mapping.volume-type', ['gp3'])).length, images.length);
    assert.equal((await filterNames('block-device-mapping.device-name', ['/dev/xvda'])).length, images.length);
    const snap = images[0]!.BlockDeviceMappings![0]!.Ebs!.SnapshotId!;
    assert.deepEqual(await filterNames('block-device-mapping.snapshot-id', [snap]), [images[0]!.Name]);
    assert.deepEqual(await filterNames('image-id', [images[1]!.ImageId!]), [images[1]!.Name]);
    assert.equal((await filterNames('owner-alias', ['amazon'])).length, images.length);
    assert.equal((await filterNames('owner-id', ['123456789012'])).length, 0);
    assert.equal((await filterNames('state', ['available'])).length, images.length);
    assert.equal((await filterNames('state', ['pending'])).length, 0);
    assert.equal((await filterNames('is-public', ['true'])).length, images.length);
    assert.equal((await filterNames('is-public', ['false'])).length, 0);
    assert.equal((await filterNames('ena-support', ['true'])).length, images.length);
    assert.equal((await filterNames('root-device-type', ['instance-store'])).length, 0);
    assert.equal((await filterNames('platform-details', ['Linux/UNIX'])).length, images.length);
    assert.equal((await filterNames('platform', ['windows'])).length, 0);
    assert.equal((await filterNames('virtualization-type', ['hvm'])).length, images.length);
    assert.equal((await filterNames('hypervisor', ['xen'])).length, images.length);
    assert.equal((await filterNames('image-type', ['machine'])).length, images.length);
    assert.deepEqual(await filterNames('description', ['*Debian*']), names((i) => i.Name!.includes('debian')));
    // AND across filters
    const both = await ec2().send(
      new DescribeImagesCommand({
        Filters: [
          { Name: 'name', Values: ['overcast/debian-*'] },
          { Name: 'architecture', Values: ['x86_64'] },
        ],
      }),
    );
    assert.equal(both.Images!.length, 1);
    assert.match(both.Images![0]!.Name!, /^overcast\/debian-12-amd64-/);
    // tags on images
    await ec2().send(new CreateTagsCommand({ Resources: [images[2]!.ImageId!], Tags: [{ Key: 'golden', Value: 'yes' }] }));
    assert.deepEqual(await filterNames('tag:golden', ['yes']), [images[2]!.Name]);
    assert.deepEqual(await filterNames('tag-key', ['golden']), [images[2]!.Name]);
    const tagged = await ec2().send(new DescribeImagesCommand({ ImageIds: [images[2]!.ImageId!] }));
    assert.deepEqual(tagged.Images![0]!.Tags, [{ Key: 'golden', Value: 'yes' }]);
    const bad = await ec2Error(ec2().send(new DescribeImagesCommand({ Filters: [{ Name: 'flavour', Values: ['x'] }] })));
    assert.equal(bad.code, 'InvalidParameterValue');
  });

  it('paginates: all pages together are the unfiltered list, without duplicates', async () => {
    const everything = await all();
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await ec2().send(new DescribeImagesCommand({ MaxResults: 5, NextToken: token }));
      assert.ok(out.Images!.length <= 5);
      seen.push(...out.Images!.map((i) => i.ImageId!));
      token = out.NextToken;
      pages++;
    } while (token);
    assert.ok(pages >= 2, 'expected more than one page');
    assert.equal(new Set(seen).size, seen.length);
    assert.equal(seen.length, everything.length);
    assert.deepEqual([...seen].sort(), everything.map((i) => i.ImageId!).sort());
    const small = await ec2Error(ec2().send(new DescribeImagesCommand({ MaxResults: 4 })));
    assert.equal(small.code, 'InvalidParameterValue');
    const combo = await ec2Error(ec2().send(new DescribeImagesCommand({ MaxResults: 5, ImageIds: [everything[0]!.ImageId!] })));
    assert.equal(combo.code, 'InvalidParameterCombination');
    const badToken = await ec2Error(ec2().send(new DescribeImagesCommand({ MaxResults: 5, NextToken: 'garbage!' })));
    assert.equal(badToken.code, 'InvalidPaginationToken');
  });

  it('requireImage gives the record or EC2 errors', () => {
    const ctx = t.server.dispatcher.context('us-east-1');
    const id = builtInImageId('us-east-1', 'overcast/debian-12-amd64-20261101');
    assert.equal(requireImage(ctx, id).ImageId, id);
    assert.throws(() => requireImage(ctx, 'ami-zz'), (e: { code?: string }) => e.code === 'InvalidAMIID.Malformed');
    assert.throws(
      () => requireImage(ctx, 'ami-0123456789abcdef0'),
      (e: { code?: string; message?: string }) =>
        e.code === 'InvalidAMIID.NotFound' && e.message === "The image id '[ami-0123456789abcdef0]' does not exist",
    );
  });

  it('DescribeImages accepts DryRun', async () => {
    const dry = await ec2Error(ec2().send(new DescribeImagesCommand({ DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.equal(dry.status, 412);
  });

  it('deprecated, disabled, private and shared images (dispatcher with a clock past deprecation)', () => {
    const store = new SqliteStore(':memory:');
    const config = loadConfig([], {});
    const now = new Date('2029-06-01T00:00:00.000Z');
    const d = new Dispatcher(store, config, ec2Modules, () => {}, () => now);
    const describe = (input: Record<string, unknown>) =>
      ((d.invoke('DescribeImages', 'us-east-1', 'r', input) as { Images: Image[] }).Images ?? []).map((i) => i.ImageId!).sort();
    const builtIn = builtInImages('us-east-1').map((i) => i.ImageId).sort();
    assert.ok(builtIn.length >= 6);
    // every built-in image is deprecated by 2029
    assert.deepEqual(describe({}), []);
    assert.deepEqual(describe({ IncludeDeprecated: true }), builtIn);
    assert.deepEqual(describe({ ImageIds: [builtIn[0]] }), [builtIn[0]]);

    const base = builtInImages('us-east-1')[0]!;
    const mine: ImageRecord = { ...base, ImageId: 'ami-00000000000000001', Name: 'mine', OwnerId: config.accountId, ImageOwnerAlias: undefined, Public: false, builtIn: false, DeprecationTime: '2029-01-01T00:00:00.000Z' };
    const disabled: ImageRecord = { ...mine, ImageId: 'ami-00000000000000002', Name: 'disabled', State: 'disabled', DeprecationTime: undefined };
    const foreign: ImageRecord = { ...mine, ImageId: 'ami-00000000000000003', Name: 'foreign', OwnerId: '210987654321', DeprecationTime: undefined };
    const shared: ImageRecord = { ...foreign, ImageId: 'ami-00000000000000004', Name: 'shared', launchPermissionAccountIds: [config.accountId] };
    const col = store.collection(KINDS.image);
    for (const r of [mine, disabled, foreign, shared]) col.put('us-east-1', r.ImageId, r);

    // own deprecated images always show; disabled only on request; foreign private never
    assert.deepEqual(describe({}), [mine.ImageId, shared.ImageId].sort());
    assert.deepEqual(describe({ IncludeDisabled: true }), [mine.ImageId, disabled.ImageId, shared.ImageId].sort());
    assert.deepEqual(describe({ Owners: ['self'] }), [mine.ImageId]);
    assert.deepEqual(describe({ ExecutableUsers: ['self'] }), [shared.ImageId]);
    assert.deepEqual(describe({ Owners: ['210987654321'] }), [shared.ImageId]);
    assert.throws(() => describe({ ImageIds: [foreign.ImageId] }), (e: { code?: string }) => e.code === 'InvalidAMIID.NotFound');
    assert.throws(() => requireImage(d.context('us-east-1'), foreign.ImageId), (e: { code?: string }) => e.code === 'InvalidAMIID.NotFound');
    assert.equal(requireImage(d.context('us-east-1'), shared.ImageId).Name, 'shared');
    store.db.close();
  });
});
