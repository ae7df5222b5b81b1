/**
 * The account's settings of one region (collection 'account-settings', one
 * record per region): EBS encryption by default and its KMS key, the
 * instance metadata defaults and serial console access. Read by the calls that
 * create volumes and instances; changed by their own Get/Modify/Enable calls.
 */
import { Ec2Error } from '../../domain/errors.js';
import { kind } from '../../store/kind.js';
import type { ResourceContext } from '../context.js';

/** Instance metadata defaults as ModifyInstanceMetadataDefaults sets them (absent: no preference). */
export interface MetadataDefaults {
  HttpTokens?: 'optional' | 'required';
  HttpPutResponseHopLimit?: number;
  HttpEndpoint?: 'enabled' | 'disabled';
  InstanceMetadataTags?: 'enabled' | 'disabled';
}

export interface AccountSettingsRecord {
  ebsEncryptionByDefault: boolean;
  /** ModifyEbsDefaultKmsKeyId's key as an ARN; absent: the AWS managed key alias/aws/ebs */
  ebsDefaultKmsKeyId?: string;
  metadataDefaults: MetadataDefaults;
  serialConsoleAccess: boolean;
}

export const ACCOUNT_SETTINGS = kind<AccountSettingsRecord>({ name: 'account-settings' });

const ID = 'settings';

/** The region's settings (the defaults a new account has, until one is changed). */
export function accountSettings(ctx: Pick<ResourceContext, 'store' | 'region'>): AccountSettingsRecord {
  return ctx.store.collection(ACCOUNT_SETTINGS).get(ctx.region, ID) ?? { ebsEncryptionByDefault: false, metadataDefaults: {}, serialConsoleAccess: false };
}

/** Changes the region's settings (a copy is handed to `change`). */
export function updateAccountSettings(ctx: Pick<ResourceContext, 'store' | 'region'>, change: (s: AccountSettingsRecord) => void): AccountSettingsRecord {
  const s = structuredClone(accountSettings(ctx));
  change(s);
  ctx.store.collection(ACCOUNT_SETTINGS).put(ctx.region, ID, s);
  return s;
}

/** The AWS managed EBS key of the region, as an alias ARN. */
export function awsManagedEbsKey(ctx: Pick<ResourceContext, 'region' | 'accountId'>): string {
  return `arn:aws:kms:${ctx.region}:${ctx.accountId}:alias/aws/ebs`;
}

/** The key new encrypted volumes get when none is named. */
export function ebsDefaultKmsKey(ctx: Pick<ResourceContext, 'store' | 'region' | 'accountId'>): string {
  return accountSettings(ctx).ebsDefaultKmsKeyId ?? awsManagedEbsKey(ctx);
}

const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^mrk-[0-9a-f]{32}$/;
const ALIAS = /^alias\/[A-Za-z0-9/_-]{1,250}$/;
const KEY_ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):(key\/.+|alias\/.+)$/;

/**
 * A KMS key as EC2 takes it (key id, alias name, key ARN or alias ARN), as the
 * ARN EC2 answers with; InvalidParameterValue for anything else.
 */
export function kmsKeyArn(ctx: Pick<ResourceContext, 'region' | 'accountId'>, key: string, param = 'KmsKeyId'): string {
  const arn = KEY_ARN.exec(key);
  if (arn) {
    const rest = arn[3]!;
    if ((rest.startsWith('key/') && KEY_ID.test(rest.slice(4))) || ALIAS.test(rest)) return key;
  } else if (KEY_ID.test(key)) return `arn:aws:kms:${ctx.region}:${ctx.accountId}:key/${key}`;
  else if (ALIAS.test(key)) return `arn:aws:kms:${ctx.region}:${ctx.accountId}:${key}`;
  throw new Ec2Error('InvalidParameterValue', `Value (${key}) for parameter ${param} is invalid. Expected a KMS key ID, alias, key ARN or alias ARN.`);
}

/**
 * What a new volume's encryption is: encrypted when asked, when its snapshot is,
 * or when the region encrypts by default; its key the one named or the default.
 * A key without encryption is EC2's InvalidParameterDependency.
 */
export function volumeEncryption(
  ctx: Pick<ResourceContext, 'store' | 'region' | 'accountId'>,
  encrypted: boolean,
  kmsKeyId: string | undefined,
): { encrypted: boolean; kmsKeyId?: string } {
  const on = encrypted || accountSettings(ctx).ebsEncryptionByDefault;
  if (kmsKeyId !== undefined && kmsKeyId !== '') {
    if (!on) throw new Ec2Error('InvalidParameterDependency', 'The parameter KmsKeyId requires the parameter Encrypted to be set.');
    return { encrypted: true, kmsKeyId: kmsKeyArn(ctx, kmsKeyId) };
  }
  return on ? { encrypted: true, kmsKeyId: ebsDefaultKmsKey(ctx) } : { encrypted: false };
}
