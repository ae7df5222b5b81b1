/**
 * EBS encryption by default, per region: Get/Enable/DisableEbsEncryptionByDefault
 * and the key new encrypted volumes get (Get/Modify/ResetEbsDefaultKmsKeyId).
 * CreateVolume and RunInstances read them (resources/ec2/account-settings.ts).
 * Recorded only: Overcast's volumes are not encrypted on the host.
 */
import type {
  GetEbsDefaultKmsKeyIdRequest,
  GetEbsDefaultKmsKeyIdResult,
  GetEbsEncryptionByDefaultRequest,
  GetEbsEncryptionByDefaultResult,
  ModifyEbsDefaultKmsKeyIdRequest,
  ModifyEbsDefaultKmsKeyIdResult,
  ResetEbsDefaultKmsKeyIdRequest,
  ResetEbsDefaultKmsKeyIdResult,
} from '@aws-sdk/client-ec2';
import { missingParameter } from '../../domain/errors.js';
import { accountSettings, ebsDefaultKmsKey, kmsKeyArn, updateAccountSettings } from '../../resources/ec2/account-settings.js';
import { action, type ApiModule } from '../context.js';
import { settingSwitch } from './account-switch.js';

const getEbsEncryptionByDefault = action(
  (ctx, _input: GetEbsEncryptionByDefaultRequest): GetEbsEncryptionByDefaultResult => ({
    EbsEncryptionByDefault: accountSettings(ctx).ebsEncryptionByDefault,
    SseType: 'none',
  }),
);

const getEbsDefaultKmsKeyId = action((ctx, _input: GetEbsDefaultKmsKeyIdRequest): GetEbsDefaultKmsKeyIdResult => ({ KmsKeyId: ebsDefaultKmsKey(ctx) }));

const modifyEbsDefaultKmsKeyId = action((ctx, input: ModifyEbsDefaultKmsKeyIdRequest): ModifyEbsDefaultKmsKeyIdResult => {
  if (input.KmsKeyId === undefined || input.KmsKeyId === '') throw missingParameter('KmsKeyId');
  const arn = kmsKeyArn(ctx, input.KmsKeyId);
  updateAccountSettings(ctx, (s) => {
    s.ebsDefaultKmsKeyId = arn;
  });
  return { KmsKeyId: arn };
});

const resetEbsDefaultKmsKeyId = action((ctx, _input: ResetEbsDefaultKmsKeyIdRequest): ResetEbsDefaultKmsKeyIdResult => {
  updateAccountSettings(ctx, (s) => {
    delete s.ebsDefaultKmsKeyId;
  });
  return { KmsKeyId: ebsDefaultKmsKey(ctx) };
});

export const ebsEncryptionModule: ApiModule = {
  actions: {
    GetEbsEncryptionByDefault: getEbsEncryptionByDefault,
    EnableEbsEncryptionByDefault: settingSwitch('ebsEncryptionByDefault', true, 'EbsEncryptionByDefault'),
    DisableEbsEncryptionByDefault: settingSwitch('ebsEncryptionByDefault', false, 'EbsEncryptionByDefault'),
    GetEbsDefaultKmsKeyId: getEbsDefaultKmsKeyId,
    ModifyEbsDefaultKmsKeyId: modifyEbsDefaultKmsKeyId,
    ResetEbsDefaultKmsKeyId: resetEbsDefaultKmsKeyId,
  },
};
