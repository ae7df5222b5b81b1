/**
 * The account's instance metadata defaults (Get/ModifyInstanceMetadataDefaults,
 * per region: RunInstances applies them when the request, its launch template
 * and its image say nothing) and serial console access
 * (Get/Enable/DisableSerialConsoleAccess; recorded only: Overcast has no serial
 * console connection service).
 */
import type {
  GetInstanceMetadataDefaultsRequest,
  GetInstanceMetadataDefaultsResult,
  GetSerialConsoleAccessStatusRequest,
  GetSerialConsoleAccessStatusResult,
  ModifyInstanceMetadataDefaultsRequest,
  ModifyInstanceMetadataDefaultsResult,
} from '@aws-sdk/client-ec2';
import { Ec2Error } from '../../domain/errors.js';
import { accountSettings, updateAccountSettings, type MetadataDefaults } from '../../resources/ec2/account-settings.js';
import { action, type ApiModule } from '../context.js';
import { settingSwitch } from './account-switch.js';

const NO_PREFERENCE = 'no-preference';

function oneOf<T extends string>(param: string, v: string | undefined, allowed: readonly T[]): T | typeof NO_PREFERENCE | undefined {
  if (v === undefined) return undefined;
  if (v === NO_PREFERENCE || (allowed as readonly string[]).includes(v)) return v as T;
  throw new Ec2Error('InvalidParameterValue', `Value (${v}) for parameter ${param} is invalid. Valid values: ${[...allowed, NO_PREFERENCE].join(', ')}`);
}

/** Sets or (no-preference) clears one default. */
function setDefault<K extends keyof MetadataDefaults>(d: MetadataDefaults, key: K, v: MetadataDefaults[K] | typeof NO_PREFERENCE | undefined): void {
  if (v === undefined) return;
  if (v === NO_PREFERENCE) delete d[key];
  else d[key] = v as MetadataDefaults[K];
}

const getInstanceMetadataDefaults = action((ctx, _input: GetInstanceMetadataDefaultsRequest): GetInstanceMetadataDefaultsResult => {
  const d = accountSettings(ctx).metadataDefaults;
  return { AccountLevel: { HttpTokens: d.HttpTokens, HttpPutResponseHopLimit: d.HttpPutResponseHopLimit, HttpEndpoint: d.HttpEndpoint, InstanceMetadataTags: d.InstanceMetadataTags } };
});

const modifyInstanceMetadataDefaults = action((ctx, input: ModifyInstanceMetadataDefaultsRequest): ModifyInstanceMetadataDefaultsResult => {
  const tokens = oneOf('HttpTokens', input.HttpTokens, ['optional', 'required'] as const);
  const endpoint = oneOf('HttpEndpoint', input.HttpEndpoint, ['enabled', 'disabled'] as const);
  const tags = oneOf('InstanceMetadataTags', input.InstanceMetadataTags, ['enabled', 'disabled'] as const);
  const hop = input.HttpPutResponseHopLimit;
  if (hop !== undefined && hop !== -1 && (!Number.isInteger(hop) || hop < 1 || hop > 64)) {
    throw new Ec2Error('InvalidParameterValue', `Value (${hop}) for parameter HttpPutResponseHopLimit is invalid. Valid range: 1-64, or -1 for no preference`);
  }
  if (input.HttpTokensEnforced !== undefined) {
    throw new Ec2Error('UnsupportedOperation', 'HttpTokensEnforced is not supported by Overcast.');
  }
  if (tokens === undefined && endpoint === undefined && tags === undefined && hop === undefined) {
    throw new Ec2Error('InvalidParameterCombination', 'At least one metadata default must be specified.');
  }
  updateAccountSettings(ctx, (s) => {
    setDefault(s.metadataDefaults, 'HttpTokens', tokens);
    setDefault(s.metadataDefaults, 'HttpEndpoint', endpoint);
    setDefault(s.metadataDefaults, 'InstanceMetadataTags', tags);
    setDefault(s.metadataDefaults, 'HttpPutResponseHopLimit', hop === -1 ? NO_PREFERENCE : hop);
  });
  return { Return: true };
});

const getSerialConsoleAccessStatus = action(
  (ctx, _input: GetSerialConsoleAccessStatusRequest): GetSerialConsoleAccessStatusResult => ({
    SerialConsoleAccessEnabled: accountSettings(ctx).serialConsoleAccess,
    ManagedBy: 'account',
  }),
);

export const instanceMetadataDefaultsModule: ApiModule = {
  actions: {
    GetInstanceMetadataDefaults: getInstanceMetadataDefaults,
    ModifyInstanceMetadataDefaults: modifyInstanceMetadataDefaults,
    GetSerialConsoleAccessStatus: getSerialConsoleAccessStatus,
    EnableSerialConsoleAccess: settingSwitch('serialConsoleAccess', true, 'SerialConsoleAccessEnabled'),
    DisableSerialConsoleAccess: settingSwitch('serialConsoleAccess', false, 'SerialConsoleAccessEnabled'),
  },
};
