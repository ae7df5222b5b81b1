/**
 * IAM instance profiles on instances. Overcast has no IAM: a profile is taken
 * by its ARN or name as given (the role is named like the profile). An
 * association (collection 'iam-instance-profile-association', iip-assoc-…)
 * goes associating -> associated and disassociating -> gone, settled by the
 * instance reconciler (which also drops a terminated instance's); the instance
 * record's IamInstanceProfile mirrors it.
 * While associated, the metadata service serves the role's temporary
 * credentials (domain/temporary-credentials.ts), which the endpoint accepts.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IamInstanceProfile } from '@aws-sdk/client-ec2';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { mintCredentials, type TemporaryCredentials } from '../../domain/temporary-credentials.js';
import { kind } from '../../store/kind.js';
import type { Store } from '../../store/store.js';
import type { ResourceContext } from '../context.js';
import type { StoredInstance } from './records.js';

export interface IamAssociationRecord {
  AssociationId: string;
  InstanceId: string;
  IamInstanceProfile: { Arn: string; Id: string };
  State: 'associating' | 'associated' | 'disassociating';
  /** ISO-8601 */
  Timestamp: string;
}

export const ASSOCIATION_INSTANCE_INDEX = 'instance';

export const IAM_ASSOCIATION = kind<IamAssociationRecord>({
  name: 'iam-instance-profile-association',
  indexes: [{ name: ASSOCIATION_INSTANCE_INDEX, values: (a) => [a.InstanceId] }],
});

export const iamAssociations = (ctx: Pick<ResourceContext, 'store'>) => ctx.store.collection(IAM_ASSOCIATION);

/** The instance's association (at most one), if any. */
export function associationOf(ctx: Pick<ResourceContext, 'store' | 'region'>, instanceId: string): IamAssociationRecord | undefined {
  return iamAssociations(ctx).find(ctx.region, ASSOCIATION_INSTANCE_INDEX, instanceId)[0];
}

export const newAssociationId = (): string => `iip-assoc-${randomBytes(9).toString('hex').slice(0, 17)}`;

const NAME = /^[\w+=,.@-]{1,128}$/;
const ARN = /^arn:aws[a-z-]*:iam::(\d{12}):instance-profile\/((?:[\w+=,.@-]+\/)*)([\w+=,.@-]{1,128})$/;

/** The profile a request names (Arn or Name), as its ARN and a stable AIPA… id; the role is named like the profile. */
export function requireProfile(ctx: Pick<ResourceContext, 'accountId'>, spec: { Arn?: string; Name?: string } | undefined, param = 'IamInstanceProfile'): { Arn: string; Id: string; roleName: string } {
  const arn = spec?.Arn === '' ? undefined : spec?.Arn;
  const name = spec?.Name === '' ? undefined : spec?.Name;
  if (arn === undefined && name === undefined) throw missingParameter(`${param}.Arn or ${param}.Name`);
  let profileArn: string;
  let profileName: string;
  if (arn !== undefined) {
    const m = ARN.exec(arn);
    if (!m) throw new Ec2Error('InvalidParameterValue', `Value (${arn}) for parameter iamInstanceProfile.arn is invalid. Invalid ARN`);
    if (name !== undefined && name !== m[3]) throw invalidParameterCombination(`The instance profile ${arn} is not named ${name}.`);
    profileArn = arn;
    profileName = m[3]!;
  } else {
    if (!NAME.test(name!)) throw new Ec2Error('InvalidParameterValue', `Value (${name}) for parameter iamInstanceProfile.name is invalid.`);
    profileName = name!;
    profileArn = `arn:aws:iam::${ctx.accountId}:instance-profile/${profileName}`;
  }
  const id = `AIPA${createHash('sha256').update(profileArn).digest('hex').slice(0, 17).toUpperCase()}`;
  return { Arn: profileArn, Id: id, roleName: profileName };
}

/** Moves an instance's association one step: associating -> associated, disassociating -> gone. */
export function settleAssociation(ctx: ResourceContext, rec: StoredInstance): boolean {
  const a = associationOf(ctx, rec.InstanceId);
  if (!a) return false;
  if (rec.State.Name === 'terminated') {
    // a terminated instance's association goes with it
    iamAssociations(ctx).delete(ctx.region, a.AssociationId);
    return true;
  }
  if (a.State === 'associated') return false;
  if (a.State === 'associating') {
    a.State = 'associated';
    iamAssociations(ctx).put(ctx.region, a.AssociationId, a);
  } else {
    iamAssociations(ctx).delete(ctx.region, a.AssociationId);
    if (rec.IamInstanceProfile?.Arn === a.IamInstanceProfile.Arn) delete rec.IamInstanceProfile;
  }
  return true;
}

export function associationUnsettled(ctx: Pick<ResourceContext, 'store' | 'region'>, rec: StoredInstance): boolean {
  const a = associationOf(ctx, rec.InstanceId);
  return a !== undefined && (a.State !== 'associated' || rec.State.Name === 'terminated');
}

const CREDENTIALS_KEY = 'temporary-credentials-key';

/** The server's key for temporary credentials (made on first use, kept in the store). */
export function credentialsKey(store: Store): string {
  const have = store.getMeta(CREDENTIALS_KEY);
  if (have !== undefined) return have;
  return store.transaction(() => {
    const again = store.getMeta(CREDENTIALS_KEY);
    if (again !== undefined) return again;
    const key = randomBytes(32).toString('hex');
    store.setMeta(CREDENTIALS_KEY, key);
    return key;
  });
}

/** What meta-data/iam/ serves for an instance whose profile is associated, or undefined. */
export function roleCredentialsOf(
  store: Store,
  region: string,
  rec: StoredInstance,
  nowMs: number,
): { profile: IamInstanceProfile & { Arn: string; Id: string }; roleName: string; credentials: TemporaryCredentials; lastUpdated: string } | undefined {
  const a = associationOf({ store, region }, rec.InstanceId);
  if (!a || a.State !== 'associated') return undefined;
  const roleName = ARN.exec(a.IamInstanceProfile.Arn)?.[3] ?? 'role';
  const credentials = mintCredentials(credentialsKey(store), `${region}/${rec.InstanceId}/${a.IamInstanceProfile.Arn}`, nowMs);
  const issued = Date.parse(credentials.expiration) - 6 * 60 * 60 * 1000;
  return { profile: a.IamInstanceProfile, roleName, credentials, lastUpdated: new Date(Math.max(issued, Date.parse(a.Timestamp))).toISOString() };
}
