/** DescribeRegions, DescribeAvailabilityZones, DescribeAccountAttributes. */
import type {
  AccountAttribute,
  AvailabilityZone,
  DescribeAccountAttributesRequest,
  DescribeAccountAttributesResult,
  DescribeAvailabilityZonesRequest,
  DescribeAvailabilityZonesResult,
  DescribeRegionsRequest,
  DescribeRegionsResult,
  Region,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { findRegion, REGIONS } from '../../domain/regions.js';
import { Ec2Error } from '../../domain/errors.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { defaultVpcOf } from '../../resources/ec2/vpcs.js';
import { ACCOUNT_LIMITS } from '../../domain/account-limits.js';

const servedCache = new WeakMap<readonly string[], readonly Region[]>();

/** The regions this endpoint serves, computed once per configuration (frozen: every response shares them). */
function servedRegions(ctx: RequestContext): readonly Region[] {
  let served = servedCache.get(ctx.config.regions);
  if (!served) {
    served = REGIONS.filter((r) => ctx.config.regions.includes(r.RegionName)).map((r) =>
      Object.freeze({ RegionName: r.RegionName, Endpoint: r.Endpoint, OptInStatus: r.OptInStatus }),
    );
    servedCache.set(ctx.config.regions, served);
  }
  return served;
}

const describeRegions = action((ctx, input: DescribeRegionsRequest): DescribeRegionsResult => {
  let regions: readonly Region[] = servedRegions(ctx);
  if (input.RegionNames && input.RegionNames.length > 0) {
    for (const name of input.RegionNames) {
      if (!regions.some((r) => r.RegionName === name)) throw new Ec2Error('InvalidParameterValue', `Invalid region: ${name}`);
    }
    regions = regions.filter((r) => input.RegionNames!.includes(r.RegionName!));
  }
  regions = applyFilters(regions, input.Filters, REGION_FILTERS);
  return { Regions: [...regions] };
});

const REGION_FILTERS = filterTable<Region>('DescribeRegions', {
  endpoint: 'Endpoint',
  'region-name': 'RegionName',
  'opt-in-status': 'OptInStatus',
});

const zonesCache = new Map<string, readonly AvailabilityZone[]>();

/** The AZs of the caller's region, as DescribeAvailabilityZones shows them (made once per region, frozen). */
export function zonesOf(region: string): readonly AvailabilityZone[] {
  let zones = zonesCache.get(region);
  if (zones) return zones;
  const r = findRegion(region);
  if (!r) return [];
  zones = r.zones.map((z) =>
    Object.freeze({
      State: 'available',
      OptInStatus: 'opt-in-not-required',
      Messages: Object.freeze([]) as [],
      RegionName: r.RegionName,
      ZoneName: z.ZoneName,
      ZoneId: z.ZoneId,
      GroupName: r.RegionName,
      NetworkBorderGroup: r.RegionName,
      ZoneType: 'availability-zone',
    } as const),
  );
  zonesCache.set(region, zones);
  return zones;
}

const AVAILABILITY_ZONE_FILTERS = filterTable<AvailabilityZone>('DescribeAvailabilityZones', {
  'group-name': 'GroupName',
  message: 'Messages.Message',
  'opt-in-status': 'OptInStatus',
  'region-name': 'RegionName',
  state: 'State',
  'zone-id': 'ZoneId',
  'zone-name': 'ZoneName',
  'zone-type': 'ZoneType',
  'network-border-group': 'NetworkBorderGroup',
  'parent-zone-id': 'ParentZoneId',
  'parent-zone-name': 'ParentZoneName',
  // the names the reference gave them until 2023
  'parent-zoneID': 'ParentZoneId',
  'parent-zoneName': 'ParentZoneName',
});

const describeAvailabilityZones = action(
  (ctx, input: DescribeAvailabilityZonesRequest): DescribeAvailabilityZonesResult => {
    let zones = zonesOf(ctx.region);
    const names = input.ZoneNames ?? [];
    const ids = input.ZoneIds ?? [];
    for (const n of names) {
      if (!zones.some((z) => z.ZoneName === n)) throw new Ec2Error('InvalidParameterValue', `Invalid availability zone: [${n}]`);
    }
    for (const id of ids) {
      if (!zones.some((z) => z.ZoneId === id)) throw new Ec2Error('InvalidParameterValue', `Invalid availability zone ID: [${id}]`);
    }
    if (names.length > 0 || ids.length > 0) {
      zones = zones.filter((z) => names.includes(z.ZoneName!) || ids.includes(z.ZoneId!));
    }
    zones = applyFilters(zones, input.Filters, AVAILABILITY_ZONE_FILTERS);
    return { AvailabilityZones: [...zones] };
  },
);

const describeAccountAttributes = action(
  (ctx, input: DescribeAccountAttributesRequest): DescribeAccountAttributesResult => {
    const defaultVpc = defaultVpcOf(ctx);
    const all: AccountAttribute[] = [
      { AttributeName: 'supported-platforms', AttributeValues: [{ AttributeValue: 'VPC' }] },
      { AttributeName: 'vpc-max-security-groups-per-interface', AttributeValues: [{ AttributeValue: String(ACCOUNT_LIMITS.maxSecurityGroupsPerInterface) }] },
      { AttributeName: 'max-elastic-ips', AttributeValues: [{ AttributeValue: String(ACCOUNT_LIMITS.maxElasticIps) }] },
      { AttributeName: 'max-instances', AttributeValues: [{ AttributeValue: String(ACCOUNT_LIMITS.maxInstances) }] },
      { AttributeName: 'vpc-max-elastic-ips', AttributeValues: [{ AttributeValue: String(ACCOUNT_LIMITS.maxElasticIps) }] },
      { AttributeName: 'default-vpc', AttributeValues: [{ AttributeValue: defaultVpc ? defaultVpc.VpcId : 'none' }] },
    ];
    const wanted = input.AttributeNames ?? [];
    for (const name of wanted) {
      if (!all.some((a) => a.AttributeName === name)) {
        throw new Ec2Error('InvalidParameterValue', `Value (${name}) for parameter attributeName is invalid. Unknown attribute.`);
      }
    }
    return { AccountAttributes: wanted.length > 0 ? all.filter((a) => wanted.includes(a.AttributeName as never)) : all };
  },
);

export const regionsModule: ApiModule = {
  actions: {
    DescribeRegions: describeRegions,
    DescribeAvailabilityZones: describeAvailabilityZones,
    DescribeAccountAttributes: describeAccountAttributes,
  },
};
