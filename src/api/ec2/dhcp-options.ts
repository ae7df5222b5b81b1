/**
 * DHCP options sets: CreateDhcpOptions, DescribeDhcpOptions, AssociateDhcpOptions
 * (a set, or `default` for none), DeleteDhcpOptions (refused while a VPC uses
 * the set). Every VPC starts with the region's default set (AmazonProvidedDNS);
 * what a set says is recorded only: guests get their addresses and resolver
 * from the runtime, not from DHCP.
 */
import type {
  AssociateDhcpOptionsRequest,
  CreateDhcpOptionsRequest,
  CreateDhcpOptionsResult,
  DeleteDhcpOptionsRequest,
  DescribeDhcpOptionsRequest,
  DescribeDhcpOptionsResult,
  DhcpConfiguration,
  DhcpOptions,
  NewDhcpConfiguration,
} from '@aws-sdk/client-ec2';
import { parseIpv4, parseIpv6 } from '../../domain/cidr.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { checkText, quotable } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule } from '../context.js';
import { requireResource, requireResources } from '../../resources/ec2/registry.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { DhcpOptionsRecord } from '../../resources/ec2/records.js';
import { dhcpOptionsSets, insertDhcpOptions, NO_DHCP_OPTIONS, VPC_DHCP_OPTIONS_CHANGE, vpcsUsingDhcpOptions } from '../../resources/ec2/dhcp-options.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { vpcs } from '../../resources/ec2/vpcs.js';

type Check = (value: string) => boolean;
const isAddress: Check = (v) => parseIpv4(v) !== undefined || parseIpv6(v) !== undefined;

/** The options EC2 knows: how many values each takes and what a value must be. */
const OPTIONS: Readonly<Record<string, { max: number; check: Check; what: string }>> = {
  'domain-name': { max: 1, check: (v) => /^[A-Za-z0-9.-]+( [A-Za-z0-9.-]+)*$/.test(v) && v.length <= 255, what: 'a domain name' },
  'domain-name-servers': { max: 4, check: (v) => v === 'AmazonProvidedDNS' || isAddress(v), what: 'an IP address or AmazonProvidedDNS' },
  'ntp-servers': { max: 8, check: isAddress, what: 'an IP address' },
  'netbios-name-servers': { max: 4, check: isAddress, what: 'an IP address' },
  'netbios-node-type': { max: 1, check: (v) => ['1', '2', '4', '8'].includes(v), what: '1, 2, 4 or 8' },
  'ipv6-address-preferred-lease-time': {
    max: 1,
    check: (v) => /^[0-9]{1,10}$/.test(v) && Number(v) >= 140 && Number(v) <= 2147483647,
    what: 'a number of seconds between 140 and 2147483647',
  },
};

/** A CreateDhcpOptions configuration list, checked; values given as one comma-separated text are split. */
function configurations(given: readonly NewDhcpConfiguration[] | undefined): DhcpConfiguration[] {
  if (!given || given.length === 0) throw missingParameter('DhcpConfiguration');
  const out: DhcpConfiguration[] = [];
  for (const c of given) {
    const key = c.Key;
    if (key === undefined || key === '') throw missingParameter('DhcpConfiguration.N.Key');
    checkText('DhcpConfiguration.Key', key);
    const option = Object.hasOwn(OPTIONS, key) ? OPTIONS[key] : undefined;
    if (!option) throw new Ec2Error('InvalidParameterValue', `Value (${quotable(key)}) for parameter key is invalid. Unknown DHCP option`);
    if (out.some((o) => o.Key === key)) throw new Ec2Error('InvalidParameterValue', `The DHCP option ${key} is specified more than once.`);
    const values = (c.Values ?? []).flatMap((v) => (key === 'domain-name' ? [v] : v.split(',').map((s) => s.trim())));
    if (values.length === 0) throw missingParameter(`DhcpConfiguration.N.Value (for ${key})`);
    if (values.length > option.max) {
      throw new Ec2Error('InvalidParameterValue', `The DHCP option ${key} takes at most ${option.max} value${option.max === 1 ? '' : 's'}.`);
    }
    for (const v of values) {
      checkText('DhcpConfiguration.Value', v);
      if (!option.check(v)) throw new Ec2Error('InvalidParameterValue', `Value (${quotable(v)}) for parameter value is invalid. ${key} takes ${option.what}.`);
    }
    out.push({ Key: key, Values: values.map((Value) => ({ Value })) });
  }
  return out;
}

function toOutput(record: DhcpOptionsRecord, tags: Tag[] | undefined): DhcpOptions {
  const { regionDefault: _d, ...rest } = record;
  return { ...rest, Tags: tagsField(tags) };
}

function requireId(id: string | undefined): string {
  if (id === undefined || id === '') throw missingParameter('DhcpOptionsId');
  return id;
}

const createDhcpOptions = action((ctx, input: CreateDhcpOptionsRequest): CreateDhcpOptionsResult => {
  const config = configurations(input.DhcpConfigurations);
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.dhcpOptions.name]).get(KINDS.dhcpOptions.name) ?? [];
  const record = insertDhcpOptions(ctx, config);
  putTags(ctx, record.DhcpOptionsId, KINDS.dhcpOptions.name, tags);
  return { DhcpOptions: toOutput(record, tags) };
});

const DHCP_OPTIONS_FILTERS = filterTable<DhcpOptionsRecord>('DescribeDhcpOptions', {
  'dhcp-options-id': 'DhcpOptionsId',
  key: 'DhcpConfigurations.Key',
  value: 'DhcpConfigurations.Values.Value',
  'owner-id': 'OwnerId',
});

const describeDhcpOptions = action((ctx, input: DescribeDhcpOptionsRequest): DescribeDhcpOptionsResult => {
  const ids = input.DhcpOptionsIds ?? [];
  const records = ids.length > 0 ? requireResources(ctx, KINDS.dhcpOptions, ids) : dhcpOptionsSets(ctx).list(ctx.region);
  const tags = tagsByResource(ctx, KINDS.dhcpOptions.name);
  const filtered = applyFilters(records, input.Filters, DHCP_OPTIONS_FILTERS, (d) => tags.get(d.DhcpOptionsId));
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { DhcpOptions: page.items.map((d) => toOutput(d, tags.get(d.DhcpOptionsId))), NextToken: page.nextToken };
});

const associateDhcpOptions = action((ctx, input: AssociateDhcpOptionsRequest) => {
  const id = requireId(input.DhcpOptionsId);
  if (input.VpcId === undefined || input.VpcId === '') throw missingParameter('VpcId');
  if (id !== NO_DHCP_OPTIONS) requireResource(ctx, KINDS.dhcpOptions, id);
  const vpc = requireResource(ctx, KINDS.vpc, input.VpcId);
  vpc.DhcpOptionsId = id;
  vpcs(ctx).put(ctx.region, vpc.VpcId, vpc);
  // the VPC's running instances get the new set in place (the reconciler rewrites their resolv.conf)
  ctx.notify(VPC_DHCP_OPTIONS_CHANGE, vpc.VpcId);
  return {};
});

const deleteDhcpOptions = action((ctx, input: DeleteDhcpOptionsRequest) => {
  const record = requireResource(ctx, KINDS.dhcpOptions, requireId(input.DhcpOptionsId));
  if (vpcsUsingDhcpOptions(ctx, record.DhcpOptionsId).length > 0) {
    throw new Ec2Error('DependencyViolation', `The dhcpOptions '${record.DhcpOptionsId}' has dependencies and cannot be deleted.`);
  }
  dhcpOptionsSets(ctx).delete(ctx.region, record.DhcpOptionsId);
  ctx.store.tags.removeAll(ctx.region, record.DhcpOptionsId);
  return {};
});

export const dhcpOptionsModule: ApiModule = {
  actions: {
    CreateDhcpOptions: createDhcpOptions,
    DescribeDhcpOptions: describeDhcpOptions,
    AssociateDhcpOptions: associateDhcpOptions,
    DeleteDhcpOptions: deleteDhcpOptions,
  },
};
