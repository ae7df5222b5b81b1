/**
 * Customer gateways: CreateCustomerGateway, DescribeCustomerGateways,
 * DeleteCustomerGateway. The device on the customer's side of a VPN
 * connection: its address (IpAddress, or the older PublicIp), BGP ASN
 * (BgpAsn, default 65000, or BgpAsnExtended) and type `ipsec.1`. A second
 * create with the same address, ASN and type answers the gateway that exists,
 * as EC2 does. pending → available and deleting → deleted through
 * reconcile/record-states.ts. Records only.
 */
import type {
  CreateCustomerGatewayRequest,
  CreateCustomerGatewayResult,
  CustomerGateway,
  DeleteCustomerGatewayRequest,
  DescribeCustomerGatewaysRequest,
  DescribeCustomerGatewaysResult,
} from '@aws-sdk/client-ec2';
import { formatIpv4, parseIpv4 } from '../../domain/cidr.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { filterTable } from '../../domain/filters.js';
import { newId } from '../../domain/ids.js';
import { checkText, quotable } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule } from '../context.js';
import { sameCustomerGateway } from '../../resources/ec2/customer-gateways.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { isGone } from '../../resources/ec2/record-lifecycles.js';
import type { CustomerGatewayRecord } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { describeStored, insertStored, saveStored } from './stored-records.js';
import { connectionsUsing } from '../../resources/ec2/vpn-connections.js';
import { tagSpecificationTags, tagsField } from './tags.js';

const MAX_ASN = 2_147_483_647;
const MAX_EXTENDED_ASN = 4_294_967_295;

function toOutput(g: CustomerGatewayRecord, tags: Tag[] | undefined): CustomerGateway {
  const { deletedAt: _d, ...rest } = g;
  return { ...rest, Tags: tagsField(tags) };
}

function asns(input: CreateCustomerGatewayRequest): Pick<CustomerGatewayRecord, 'BgpAsn' | 'BgpAsnExtended'> {
  if (input.BgpAsn !== undefined && input.BgpAsnExtended !== undefined) throw invalidParameterCombination('BgpAsn and BgpAsnExtended cannot be used together.');
  if (input.BgpAsnExtended !== undefined) {
    const v = input.BgpAsnExtended;
    if (!Number.isInteger(v) || v <= MAX_ASN || v > MAX_EXTENDED_ASN) {
      throw new Ec2Error('InvalidParameterValue', `Value (${v}) for parameter BgpAsnExtended is invalid. Expecting a value between ${MAX_ASN + 1} and ${MAX_EXTENDED_ASN}.`);
    }
    return { BgpAsn: String(v), BgpAsnExtended: String(v) };
  }
  const v = input.BgpAsn ?? 65000;
  if (!Number.isInteger(v) || v < 1 || v > MAX_ASN) throw new Ec2Error('InvalidParameterValue', `Value (${v}) for parameter BgpAsn is invalid. Expecting a value between 1 and ${MAX_ASN}.`);
  return { BgpAsn: String(v) };
}

function address(input: CreateCustomerGatewayRequest): string | undefined {
  if (input.IpAddress !== undefined && input.PublicIp !== undefined && input.IpAddress !== input.PublicIp) {
    throw invalidParameterCombination('IpAddress and PublicIp name different addresses.');
  }
  const given = input.IpAddress ?? input.PublicIp;
  if (given === undefined) return undefined;
  const n = parseIpv4(given);
  if (n === undefined) throw new Ec2Error('InvalidParameterValue', `Value (${quotable(given)}) for parameter ipAddress is invalid. Invalid Format.`);
  return formatIpv4(n);
}

function certificateArn(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  checkText('CertificateArn', v);
  if (!/^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/.test(v)) {
    throw new Ec2Error('InvalidParameterValue', `Value (${quotable(v)}) for parameter CertificateArn is invalid. Expecting an ACM certificate ARN.`);
  }
  return v;
}

const createCustomerGateway = action((ctx, input: CreateCustomerGatewayRequest): CreateCustomerGatewayResult => {
  if (input.Type === undefined) throw missingParameter('Type');
  if (input.Type !== 'ipsec.1') throw new Ec2Error('InvalidParameterValue', `Value (${quotable(input.Type)}) for parameter type is invalid. Valid values are: ipsec.1.`);
  const ip = address(input);
  const cert = certificateArn(input.CertificateArn);
  if (ip === undefined && cert === undefined) throw missingParameter('IpAddress');
  const device = input.DeviceName;
  if (device !== undefined) {
    checkText('DeviceName', device);
    if (device.length > 255) throw new Ec2Error('InvalidParameterValue', 'The device name exceeds the maximum length of 255 characters.');
  }
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.customerGateway.name]).get(KINDS.customerGateway.name) ?? [];
  const fields = { Type: 'ipsec.1' as const, ...asns(input), ...(ip !== undefined ? { IpAddress: ip } : {}), ...(cert !== undefined ? { CertificateArn: cert } : {}) };
  const existing = sameCustomerGateway(ctx, fields);
  if (existing) return { CustomerGateway: toOutput(existing, ctx.store.tags.forResource(ctx.region, existing.CustomerGatewayId)) };
  const record: CustomerGatewayRecord = {
    CustomerGatewayId: newId(KINDS.customerGateway.prefix),
    State: 'pending',
    ...fields,
    ...(device !== undefined ? { DeviceName: device } : {}),
  };
  insertStored(ctx, KINDS.customerGateway, record.CustomerGatewayId, record, tags);
  return { CustomerGateway: toOutput(record, tags) };
});

const CUSTOMER_GATEWAY_FILTERS = filterTable<CustomerGatewayRecord>('DescribeCustomerGateways', {
  'bgp-asn': 'BgpAsn',
  'customer-gateway-id': 'CustomerGatewayId',
  'ip-address': 'IpAddress',
  state: 'State',
  type: 'Type',
});

const describeCustomerGateways = action((ctx, input: DescribeCustomerGatewaysRequest): DescribeCustomerGatewaysResult => {
  const { records, tags } = describeStored(ctx, KINDS.customerGateway, (g) => g.CustomerGatewayId, input.CustomerGatewayIds, input.Filters, CUSTOMER_GATEWAY_FILTERS);
  return { CustomerGateways: records.map((g) => toOutput(g, tags.get(g.CustomerGatewayId))) };
});

const deleteCustomerGateway = action((ctx, input: DeleteCustomerGatewayRequest) => {
  if (input.CustomerGatewayId === undefined || input.CustomerGatewayId === '') throw missingParameter('CustomerGatewayId');
  const g = requireResource(ctx, KINDS.customerGateway, input.CustomerGatewayId);
  if (isGone(g)) throw KINDS.customerGateway.notFound(g.CustomerGatewayId);
  const vpn = connectionsUsing(ctx, g.CustomerGatewayId)[0];
  if (vpn) throw new Ec2Error('IncorrectState', `The customer gateway ${g.CustomerGatewayId} is in use by the VPN connection ${vpn.VpnConnectionId}.`);
  if (g.State !== 'deleting') saveStored(ctx, KINDS.customerGateway, g.CustomerGatewayId, { ...g, State: 'deleting' });
  return {};
});

export const customerGatewaysModule: ApiModule = {
  actions: {
    CreateCustomerGateway: createCustomerGateway,
    DescribeCustomerGateways: describeCustomerGateways,
    DeleteCustomerGateway: deleteCustomerGateway,
  },
};
