/**
 * Key pairs: CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair.
 *
 * Key pairs are regional and named; the name is unique per region (case-sensitive,
 * as in EC2). Overcast keeps only the public half: the private key CreateKeyPair
 * makes is returned once and never stored.
 */
import type {
  CreateKeyPairRequest,
  DeleteKeyPairRequest,
  DeleteKeyPairResult,
  DescribeKeyPairsRequest,
  DescribeKeyPairsResult,
  ImportKeyPairRequest,
  ImportKeyPairResult,
  KeyPair,
  KeyPairInfo,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { newId } from '../../domain/ids.js';
import { generateKey, importPublicKey, KeyFormatError, type CreatedKey, type KeyFormat, type KeyType } from '../../domain/key-material.js';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { quotable } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { action, preparedAction, type ApiModule, type RequestContext } from '../context.js';
import { requireResources } from '../../resources/ec2/registry.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { KeyPairRecord } from '../../resources/ec2/records.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { findKeyPairByName } from '../../resources/ec2/key-pairs.js';


const MAX_KEY_NAME_LENGTH = 255;

/**
 * A key pair name as EC2 documents it: up to 255 ASCII characters. Overcast
 * takes printable ASCII only (U+0020–U+007E): ASCII control characters cannot
 * be carried in the XML that later lists the name.
 */
function validateKeyName(name: string | undefined): string {
  if (name === undefined || name === '') throw missingParameter('KeyName');
  if (!/^[\x00-\x7f]*$/.test(name)) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${quotable(name)}) for parameter keyName is invalid. Character sets beyond ASCII are not supported.`,
    );
  }
  if (/[\x00-\x1f\x7f]/.test(name)) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${quotable(name)}) for parameter keyName is invalid. Control characters are not allowed.`,
    );
  }
  if (name.length > MAX_KEY_NAME_LENGTH) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${quotable(name)}) for parameter keyName is invalid. Length exceeds maximum of ${MAX_KEY_NAME_LENGTH}.`,
    );
  }
  return name;
}

function requireNameFree(ctx: RequestContext, name: string): void {
  if (findKeyPairByName(ctx, name)) throw new Ec2Error('InvalidKeyPair.Duplicate', `The keypair '${name}' already exists.`);
}

function validateKeyType(v: string | undefined): KeyType {
  if (v === undefined) return 'rsa';
  if (v === 'rsa' || v === 'ed25519') return v;
  throw new Ec2Error('InvalidParameterValue', `Value (${v}) for parameter keyType is invalid. Valid values are: rsa, ed25519.`);
}

function validateKeyFormat(v: string | undefined): KeyFormat {
  if (v === undefined) return 'pem';
  if (v === 'pem' || v === 'ppk') return v;
  throw new Ec2Error('InvalidParameterValue', `Value (${v}) for parameter keyFormat is invalid. Valid values are: pem, ppk.`);
}

function store(ctx: RequestContext, record: KeyPairRecord, tags: Tag[]): void {
  ctx.store.collection(KINDS.keyPair).put(ctx.region, record.KeyPairId, record);
  putTags(ctx, record.KeyPairId, 'key-pair', tags);
}

/** What CreateKeyPair checks before making a key, and again (the name may have been taken meanwhile) inside its transaction. */
function createKeyPairParams(ctx: RequestContext, input: CreateKeyPairRequest) {
  const name = validateKeyName(input.KeyName);
  const keyType = validateKeyType(input.KeyType);
  const format = validateKeyFormat(input.KeyFormat);
  const tags = tagSpecificationTags(input.TagSpecifications, ['key-pair']).get('key-pair') ?? [];
  requireNameFree(ctx, name);
  return { name, keyType, format, tags };
}

// The key is made off the event loop (RSA generation takes up to most of a second);
// on DryRun, where it would be thrown away, it is not made at all.
const createKeyPair = preparedAction(
  async (ctx, input: CreateKeyPairRequest): Promise<CreatedKey | undefined> => {
    const { name, keyType, format } = createKeyPairParams(ctx, input);
    return input.DryRun === true ? undefined : generateKey(keyType, format, name);
  },
  (ctx, input: CreateKeyPairRequest, key): KeyPair => {
    const { name, keyType, tags } = createKeyPairParams(ctx, input);
    if (key === undefined) return {};
    const record: KeyPairRecord = {
      KeyPairId: newId('key'),
      KeyName: name,
      KeyFingerprint: key.fingerprint,
      KeyType: keyType,
      CreateTime: ctx.now.toISOString(),
      publicKey: key.publicKeyOpenSsh,
    };
    store(ctx, record, tags);
    return {
      KeyPairId: record.KeyPairId,
      KeyName: name,
      KeyFingerprint: record.KeyFingerprint,
      KeyMaterial: key.privateKeyMaterial,
      Tags: tagsField(tags),
    };
  },
);

const importKeyPair = action((ctx, input: ImportKeyPairRequest): ImportKeyPairResult => {
  const name = validateKeyName(input.KeyName);
  const material = input.PublicKeyMaterial;
  if (material === undefined || material.length === 0) throw missingParameter('PublicKeyMaterial');
  const tags = tagSpecificationTags(input.TagSpecifications, ['key-pair']).get('key-pair') ?? [];
  let imported;
  try {
    imported = importPublicKey(Buffer.from(material));
  } catch (e) {
    if (e instanceof KeyFormatError) throw new Ec2Error(e.code, e.message);
    throw e;
  }
  requireNameFree(ctx, name);
  const record: KeyPairRecord = {
    KeyPairId: newId('key'),
    KeyName: name,
    KeyFingerprint: imported.fingerprint,
    KeyType: imported.keyType,
    CreateTime: ctx.now.toISOString(),
    publicKey: imported.publicKeyOpenSsh,
  };
  store(ctx, record, tags);
  return { KeyPairId: record.KeyPairId, KeyName: name, KeyFingerprint: record.KeyFingerprint, Tags: tagsField(tags) };
});

const KEY_PAIR_FILTERS = filterTable<KeyPairRecord>('DescribeKeyPairs', {
  'key-pair-id': 'KeyPairId',
  'key-name': 'KeyName',
  fingerprint: 'KeyFingerprint',
  'key-type': 'KeyType',
});

const describeKeyPairs = action((ctx, input: DescribeKeyPairsRequest): DescribeKeyPairsResult => {
  let records = ctx.store.collection(KINDS.keyPair).list(ctx.region);
  const names = input.KeyNames ?? [];
  const ids = input.KeyPairIds ?? [];
  if (ids.length > 0) requireResources(ctx, KINDS.keyPair, ids);
  for (const n of names) {
    if (!records.some((r) => r.KeyName === n)) throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${n}' does not exist`);
  }
  if (names.length > 0) records = records.filter((r) => names.includes(r.KeyName));
  if (ids.length > 0) records = records.filter((r) => ids.includes(r.KeyPairId));
  const tags = tagsByResource(ctx, 'key-pair');
  records = applyFilters(
    records,
    input.Filters,
    KEY_PAIR_FILTERS,
    (r) => tags.get(r.KeyPairId),
  );
  const includePublic = input.IncludePublicKey === true;
  const keyPairs: KeyPairInfo[] = records.map((r) => ({
    KeyPairId: r.KeyPairId,
    KeyName: r.KeyName,
    KeyFingerprint: r.KeyFingerprint,
    KeyType: r.KeyType,
    Tags: tags.get(r.KeyPairId) ?? [],
    // EC2 gives the public key with the key name as its comment.
    PublicKey: includePublic ? `${r.publicKey} ${r.KeyName}` : undefined,
    CreateTime: r.CreateTime as unknown as Date,
  }));
  return { KeyPairs: keyPairs };
});

const deleteKeyPair = action((ctx, input: DeleteKeyPairRequest): DeleteKeyPairResult => {
  const col = ctx.store.collection(KINDS.keyPair);
  let record: KeyPairRecord | undefined;
  if (input.KeyPairId !== undefined && input.KeyPairId !== '') {
    record = requireResources(ctx, KINDS.keyPair, [input.KeyPairId])[0];
    if (input.KeyName !== undefined && input.KeyName !== '' && input.KeyName !== record!.KeyName) {
      throw new Ec2Error(
        'InvalidParameterCombination',
        `The key pair name '${input.KeyName}' does not match the key pair ID '${input.KeyPairId}'.`,
      );
    }
  } else if (input.KeyName !== undefined && input.KeyName !== '') {
    // EC2 quietly succeeds when no key pair has that name.
    record = findKeyPairByName(ctx, input.KeyName);
  } else {
    throw missingParameter('KeyName or KeyPairId');
  }
  if (!record) return { Return: true };
  col.delete(ctx.region, record.KeyPairId);
  ctx.store.tags.removeAll(ctx.region, record.KeyPairId);
  return { Return: true, KeyPairId: record.KeyPairId };
});

export const keyPairsModule: ApiModule = {
  actions: {
    CreateKeyPair: createKeyPair,
    ImportKeyPair: importKeyPair,
    DescribeKeyPairs: describeKeyPairs,
    DeleteKeyPair: deleteKeyPair,
  },
};
