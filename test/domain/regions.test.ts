import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_REGION, REGIONS, findRegion, findZone, findZoneById } from '../../src/domain/regions.js';

test('catalogue covers the commercial regions and no partitioned ones', () => {
  assert.ok(REGIONS.length >= 28, `only ${REGIONS.length} regions`);
  const names = REGIONS.map((r) => r.RegionName);
  assert.equal(new Set(names).size, names.length, 'duplicate region names');
  for (const expected of [
    'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'af-south-1', 'ap-east-1', 'ap-south-1', 'ap-south-2',
    'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-7',
    'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ca-central-1', 'ca-west-1', 'eu-central-1', 'eu-central-2',
    'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-south-1', 'eu-south-2', 'eu-north-1', 'il-central-1', 'me-south-1',
    'me-central-1', 'sa-east-1', 'mx-central-1',
  ]) {
    assert.ok(names.includes(expected), `missing ${expected}`);
  }
  assert.ok(!names.some((n) => n.startsWith('us-gov-') || n.startsWith('cn-')), 'GovCloud/China must not be listed');
});

test('endpoints and opt-in status', () => {
  for (const r of REGIONS) {
    assert.equal(r.Endpoint, `ec2.${r.RegionName}.amazonaws.com`);
    assert.ok(r.OptInStatus === 'opt-in-not-required' || r.OptInStatus === 'opted-in');
  }
  for (const n of ['us-east-1', 'eu-west-1', 'ap-northeast-1', 'sa-east-1', 'eu-north-1', 'ap-northeast-3']) {
    assert.equal(findRegion(n)?.OptInStatus, 'opt-in-not-required', n);
  }
  for (const n of ['af-south-1', 'ap-east-1', 'me-south-1', 'eu-south-1', 'il-central-1', 'mx-central-1', 'ap-southeast-7']) {
    assert.equal(findRegion(n)?.OptInStatus, 'opted-in', n);
  }
});

test('every zone belongs to its region and ids are unique', () => {
  const ids = new Set<string>();
  const zoneNames = new Set<string>();
  for (const r of REGIONS) {
    assert.ok(r.zones.length >= 2, `${r.RegionName} has ${r.zones.length} zones`);
    for (const z of r.zones) {
      assert.ok(z.ZoneName.startsWith(r.RegionName), `${z.ZoneName} not in ${r.RegionName}`);
      assert.match(z.ZoneName.slice(r.RegionName.length), /^[a-z]$/);
      assert.match(z.ZoneId, /^[a-z]+\d-az\d+$/);
      assert.ok(!ids.has(z.ZoneId), `duplicate zone id ${z.ZoneId}`);
      assert.ok(!zoneNames.has(z.ZoneName), `duplicate zone name ${z.ZoneName}`);
      ids.add(z.ZoneId);
      zoneNames.add(z.ZoneName);
      assert.equal(z.ZoneType, 'availability-zone');
      assert.equal(z.GroupName, r.RegionName);
      assert.equal(z.NetworkBorderGroup, r.RegionName);
      assert.equal(z.RegionName, r.RegionName);
      assert.equal(z.State, 'available');
      assert.equal(z.OptInStatus, 'opt-in-not-required');
    }
    // zone ids of one region share a prefix
    assert.equal(new Set(r.zones.map((z) => z.ZoneId.split('-az')[0])).size, 1, r.RegionName);
  }
});

test('known zone layouts', () => {
  const use1 = findRegion('us-east-1')!;
  assert.deepEqual(use1.zones.map((z) => z.ZoneName), ['a', 'b', 'c', 'd', 'e', 'f'].map((l) => `us-east-1${l}`));
  assert.deepEqual(use1.zones.map((z) => z.ZoneId).sort(), [1, 2, 3, 4, 5, 6].map((n) => `use1-az${n}`));
  const usw1 = findRegion('us-west-1')!;
  assert.deepEqual(usw1.zones.map((z) => [z.ZoneName, z.ZoneId]), [['us-west-1a', 'usw1-az1'], ['us-west-1c', 'usw1-az3']]);
  const apne2 = findRegion('ap-northeast-2')!;
  assert.deepEqual(apne2.zones.map((z) => z.ZoneId), ['apne2-az1', 'apne2-az2', 'apne2-az3', 'apne2-az4']);
  assert.equal(findRegion('us-west-2')!.zones.length, 4);
  assert.equal(findRegion('eu-west-1')!.zones.length, 3);
});

test('lookups', () => {
  assert.equal(DEFAULT_REGION, 'us-east-1');
  assert.ok(findRegion(DEFAULT_REGION));
  assert.equal(findRegion('us-east-7'), undefined);
  assert.equal(findRegion(''), undefined);
  assert.equal(findZone('eu-west-1b')?.ZoneId, 'euw1-az2');
  assert.equal(findZone('us-west-1b'), undefined);
  assert.equal(findZoneById('use1-az6')?.ZoneName, 'us-east-1f');
  assert.equal(findZoneById('use1-az9'), undefined);
});

test('catalogue is immutable', () => {
  const r = findRegion('us-east-1')!;
  assert.throws(() => {
    (r as { RegionName: string }).RegionName = 'x';
  }, TypeError);
  assert.throws(() => {
    (r.zones as unknown[]).push({});
  }, TypeError);
});
