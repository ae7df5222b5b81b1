/**
 * The built-in AMI catalogue and the image builders: every builder an entry names
 * exists, and the tiny image is a public Overcast AMI that DescribeImages finds.
 */
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OVERCAST_IMAGE_OWNER_ID, builtInImages } from '../../src/resources/ec2/images.js';
import { ImageCache } from '../../src/storage/images/cache.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { formBody, send, signedRequest } from '../helpers/sign.js';

describe('built-in images and their builders', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('debian-12 amd64 and tiny name their builders; the others have none yet', () => {
    const byName = new Map(builtInImages('us-east-1').map((i) => [i.Name, i]));
    const builds = [...byName.values()].filter((i) => i.build).map((i) => [i.Name.replace(/-\d{8}$/, ''), i.build]);
    assert.deepEqual(builds.sort(), [
      ['overcast/debian-12-amd64', 'debian-12'],
      ['overcast/tiny-x86_64', 'tiny'],
    ]);
    const buildable = new ImageCache({ dir: '/nonexistent' }).names();
    for (const [, build] of builds) assert.ok(buildable.includes(build!), `no builder ${build}`);
  });

  it('DescribeImages finds the tiny image by name, public and owned by Overcast', async () => {
    const out = await t.client().send(new DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['overcast/tiny-*'] }] }));
    assert.equal(out.Images!.length, 1);
    const tiny = out.Images![0]!;
    assert.match(tiny.Name!, /^overcast\/tiny-x86_64-\d{8}$/);
    assert.match(tiny.ImageId!, /^ami-[0-9a-f]{17}$/);
    assert.equal(tiny.OwnerId, OVERCAST_IMAGE_OWNER_ID);
    assert.equal(tiny.ImageOwnerAlias, 'amazon');
    assert.equal(tiny.Public, true);
    assert.equal(tiny.Architecture, 'x86_64');
    assert.equal(tiny.RootDeviceName, '/dev/xvda');
    assert.equal(tiny.BlockDeviceMappings![0]!.DeviceName, '/dev/xvda');
    assert.equal(tiny.ImdsSupport, 'v2.0');
    assert.match(tiny.Description!, /busybox/);
    const byArch = await t.client().send(
      new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['overcast/tiny-*'] }, { Name: 'architecture', Values: ['x86_64'] }] }),
    );
    assert.deepEqual(byArch.Images!.map((i) => i.ImageId), [tiny.ImageId]);
  });

  it("the builder's name stays in the record: it is not on the wire", async () => {
    const r = await send(t.url, await signedRequest(t.url, formBody({ Action: 'DescribeImages', Version: '2016-11-15', 'Filter.1.Name': 'name', 'Filter.1.Value.1': 'overcast/tiny-*' })));
    assert.equal(r.status, 200);
    assert.match(r.body, /overcast\/tiny-x86_64/);
    assert.doesNotMatch(r.body, /<build>/);
  });
});
