/**
 * Static catalogue of the AWS commercial regions (no GovCloud, no China) and
 * their availability zones, as served by DescribeRegions and
 * DescribeAvailabilityZones. Pure data: no I/O.
 *
 * Zone letters and counts follow what a typical (new) AWS account sees; zone
 * ids follow the real `<short-code>-az<N>` scheme. In AWS the letter → id
 * mapping is shuffled per account; here it is fixed, which is what a single
 * self-hosted cloud wants.
 */
import { deepFreeze } from './freeze.js';

export interface ZoneInfo {
  ZoneName: string;
  ZoneId: string;
  ZoneType: 'availability-zone';
  /** AWS reports the region name as the group name of a plain AZ. */
  GroupName: string;
  NetworkBorderGroup: string;
  State: 'available';
  OptInStatus: 'opt-in-not-required';
  RegionName: string;
}

export type RegionOptInStatus = 'opt-in-not-required' | 'opted-in';

export interface RegionInfo {
  RegionName: string;
  Endpoint: string;
  /** 'opted-in' for the regions AWS launched as opt-in (after March 2019). */
  OptInStatus: RegionOptInStatus;
  zones: ZoneInfo[];
}

export const DEFAULT_REGION = 'us-east-1';

/**
 * One region: `zones` lists `[letter, az-number]` pairs; the zone id is
 * `${code}-az${number}`.
 */
function region(
  name: string,
  code: string,
  zones: ReadonlyArray<readonly [string, number]>,
  optIn: RegionOptInStatus = 'opt-in-not-required',
): RegionInfo {
  return {
    RegionName: name,
    Endpoint: `ec2.${name}.amazonaws.com`,
    OptInStatus: optIn,
    zones: zones.map(([letter, n]) => ({
      ZoneName: `${name}${letter}`,
      ZoneId: `${code}-az${n}`,
      ZoneType: 'availability-zone',
      GroupName: name,
      NetworkBorderGroup: name,
      State: 'available',
      OptInStatus: 'opt-in-not-required',
      RegionName: name,
    })),
  };
}

/** The usual three-AZ layout: a→az1, b→az2, c→az3. */
const ABC = [['a', 1], ['b', 2], ['c', 3]] as const;
const OPTED_IN: RegionOptInStatus = 'opted-in';

export const REGIONS: readonly RegionInfo[] = deepFreeze([
  // North America
  region('us-east-1', 'use1', [['a', 1], ['b', 2], ['c', 3], ['d', 4], ['e', 5], ['f', 6]]),
  region('us-east-2', 'use2', ABC),
  // us-west-1 has three physical AZs, but each account only sees two of them.
  region('us-west-1', 'usw1', [['a', 1], ['c', 3]]),
  region('us-west-2', 'usw2', [['a', 1], ['b', 2], ['c', 3], ['d', 4]]),
  // ca-central-1b was never offered to new accounts.
  region('ca-central-1', 'cac1', [['a', 1], ['b', 2], ['d', 4]]),
  region('ca-west-1', 'caw1', ABC, OPTED_IN),
  region('mx-central-1', 'mxc1', ABC, OPTED_IN),
  // South America
  region('sa-east-1', 'sae1', ABC),
  // Africa
  region('af-south-1', 'afs1', ABC, OPTED_IN),
  // Asia Pacific
  region('ap-east-1', 'ape1', ABC, OPTED_IN),
  region('ap-east-2', 'ape2', ABC, OPTED_IN),
  region('ap-south-1', 'aps1', ABC),
  region('ap-south-2', 'aps2', ABC, OPTED_IN),
  region('ap-southeast-1', 'apse1', ABC),
  region('ap-southeast-2', 'apse2', ABC),
  region('ap-southeast-3', 'apse3', ABC, OPTED_IN),
  region('ap-southeast-4', 'apse4', ABC, OPTED_IN),
  region('ap-southeast-5', 'apse5', ABC, OPTED_IN),
  region('ap-southeast-6', 'apse6', ABC, OPTED_IN),
  region('ap-southeast-7', 'apse7', ABC, OPTED_IN),
  // ap-northeast-1b is closed to new accounts; its ids are apne1-az1/az2/az4.
  region('ap-northeast-1', 'apne1', [['a', 4], ['c', 1], ['d', 2]]),
  region('ap-northeast-2', 'apne2', [['a', 1], ['b', 2], ['c', 3], ['d', 4]]),
  region('ap-northeast-3', 'apne3', ABC),
  // Europe
  region('eu-central-1', 'euc1', ABC),
  region('eu-central-2', 'euc2', ABC, OPTED_IN),
  region('eu-west-1', 'euw1', ABC),
  region('eu-west-2', 'euw2', ABC),
  region('eu-west-3', 'euw3', ABC),
  region('eu-south-1', 'eus1', ABC, OPTED_IN),
  region('eu-south-2', 'eus2', ABC, OPTED_IN),
  region('eu-north-1', 'eun1', ABC),
  // Middle East
  region('il-central-1', 'ilc1', ABC, OPTED_IN),
  region('me-south-1', 'mes1', ABC, OPTED_IN),
  region('me-central-1', 'mec1', ABC, OPTED_IN),
]);

const REGION_BY_NAME: ReadonlyMap<string, RegionInfo> = new Map(REGIONS.map((r) => [r.RegionName, r]));
const ZONE_BY_NAME: ReadonlyMap<string, ZoneInfo> = new Map(REGIONS.flatMap((r) => r.zones.map((z) => [z.ZoneName, z] as const)));
const ZONE_BY_ID: ReadonlyMap<string, ZoneInfo> = new Map(REGIONS.flatMap((r) => r.zones.map((z) => [z.ZoneId, z] as const)));

export function findRegion(name: string): RegionInfo | undefined {
  return REGION_BY_NAME.get(name);
}

/** Zone by name (e.g. 'us-east-1a'), any region. */
export function findZone(zoneName: string): ZoneInfo | undefined {
  return ZONE_BY_NAME.get(zoneName);
}

/** Zone by id (e.g. 'use1-az1'), any region. */
export function findZoneById(zoneId: string): ZoneInfo | undefined {
  return ZONE_BY_ID.get(zoneId);
}
