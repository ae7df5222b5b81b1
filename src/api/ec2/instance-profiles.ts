/**
 * IAM instance profiles on instances: Associate/Describe/Disassociate/
 * ReplaceIamInstanceProfileAssociation, and RunInstances' IamInstanceProfile
 * (Arn or Name). Overcast has no IAM: a profile is taken as named, its role
 * named like it. While associated, the metadata service serves the role's
 * temporary credentials under iam/security-credentials/<role>, which this
 * endpoint accepts (resources/ec2/instance-profiles.ts).
 */
import type {
  AssociateIamInstanceProfileRequest,
  AssociateIamInstanceProfileResult,
  DescribeIamInstanceProfileAssociationsRequest,
  DescribeIamInstanceProfileAssociationsResult,
  DisassociateIamInstanceProfileRequest,
  DisassociateIamInstanceProfileResult,
  IamInstanceProfileAssociation,
  ReplaceIamInstanceProfileAssociationRequest,
  ReplaceIamInstanceProfileAssociationResult,
  RunInstancesRequest,
} from '@aws-sdk/client-ec2';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { ec2Time } from '../../domain/time.js';
import { instanceCollection } from '../../resources/ec2/instances.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { associationOf, iamAssociations, newAssociationId, requireProfile, type IamAssociationRecord } from '../../resources/ec2/instance-profiles.js';
import type { StoredInstance } from '../../resources/ec2/records.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { isoTime, requireInstances, visible } from './instance-view.js';

function output(a: IamAssociationRecord): IamInstanceProfileAssociation {
  return { AssociationId: a.AssociationId, InstanceId: a.InstanceId, IamInstanceProfile: a.IamInstanceProfile, State: a.State, Timestamp: isoTime(a.Timestamp) };
}

function requireAssociation(ctx: RequestContext, id: string | undefined): IamAssociationRecord {
  if (id === undefined || id === '') throw missingParameter('AssociationId');
  if (!/^iip-assoc-(?:[0-9a-f]{8}|[0-9a-f]{17})$/.test(id)) throw new Ec2Error('InvalidAssociationID.Malformed', `Invalid id: "${id}" (expecting "iip-assoc-...")`);
  const a = iamAssociations(ctx).get(ctx.region, id);
  const inst = a ? instanceCollection(ctx).get(ctx.region, a.InstanceId) : undefined;
  if (!a || !inst || inst.State.Name === 'terminated') throw new Ec2Error('InvalidAssociationID.NotFound', `An association with ID ${id} does not exist.`);
  return a;
}

/** Writes a new association (and the instance's IamInstanceProfile) in `state`. */
function associate(ctx: RequestContext, rec: StoredInstance, profile: { Arn: string; Id: string }, state: IamAssociationRecord['State']): IamAssociationRecord {
  const a: IamAssociationRecord = { AssociationId: newAssociationId(), InstanceId: rec.InstanceId, IamInstanceProfile: { Arn: profile.Arn, Id: profile.Id }, State: state, Timestamp: ec2Time(ctx.now) };
  iamAssociations(ctx).put(ctx.region, a.AssociationId, a);
  rec.IamInstanceProfile = { Arn: profile.Arn, Id: profile.Id };
  return a;
}

/** RunInstances' IamInstanceProfile: checked before anything is written, then associated per instance. */
export function launchInstanceProfile(ctx: RequestContext, input: RunInstancesRequest): { attach(rec: StoredInstance): void } {
  const spec = input.IamInstanceProfile;
  const given = spec !== undefined && ((spec.Arn ?? '') !== '' || (spec.Name ?? '') !== '');
  const profile = given ? requireProfile(ctx, spec) : undefined;
  return {
    attach: (rec) => {
      if (profile) associate(ctx, rec, profile, 'associated');
    },
  };
}

const associateIamInstanceProfile = action((ctx, input: AssociateIamInstanceProfileRequest): AssociateIamInstanceProfileResult => {
  if (input.InstanceId === undefined || input.InstanceId === '') throw missingParameter('InstanceId');
  const profile = requireProfile(ctx, input.IamInstanceProfile);
  const rec = requireInstances(ctx, [input.InstanceId])[0]!;
  if (rec.State.Name !== 'pending' && rec.State.Name !== 'running' && rec.State.Name !== 'stopping' && rec.State.Name !== 'stopped') {
    throw new Ec2Error('IncorrectInstanceState', `The instance '${rec.InstanceId}' is not in a state in which an instance profile can be associated.`);
  }
  if (associationOf(ctx, rec.InstanceId)) throw new Ec2Error('IncorrectState', `There is an existing association for instance ${rec.InstanceId}`);
  const a = associate(ctx, rec, profile, 'associating');
  instanceCollection(ctx).put(ctx.region, rec.InstanceId, rec);
  ctx.notify(KINDS.instance.name, rec.InstanceId);
  return { IamInstanceProfileAssociation: output(a) };
});

const ASSOCIATION_FILTERS = filterTable<IamAssociationRecord>('DescribeIamInstanceProfileAssociations', {
  'instance-id': 'InstanceId',
  state: 'State',
});

const describeIamInstanceProfileAssociations = action(
  (ctx, input: DescribeIamInstanceProfileAssociationsRequest): DescribeIamInstanceProfileAssociationsResult => {
    const ids = input.AssociationIds ?? [];
    if (ids.length > 0 && input.MaxResults !== undefined) throw invalidParameterCombination('AssociationIds and MaxResults cannot be specified together.');
    const instances = instanceCollection(ctx);
    let list = iamAssociations(ctx)
      .list(ctx.region)
      .filter((a) => {
        const inst = instances.get(ctx.region, a.InstanceId);
        return inst !== undefined && inst.State.Name !== 'terminated' && visible(ctx, inst);
      });
    if (ids.length > 0) {
      const wanted = new Set(ids.map((id) => requireAssociation(ctx, id).AssociationId));
      list = list.filter((a) => wanted.has(a.AssociationId));
    }
    const filtered = applyFilters(list, input.Filters, ASSOCIATION_FILTERS);
    const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return { IamInstanceProfileAssociations: page.items.map(output), NextToken: page.nextToken };
  },
);

function requireSettled(a: IamAssociationRecord): void {
  if (a.State !== 'associated') throw new Ec2Error('IncorrectState', `The association ${a.AssociationId} is ${a.State}.`);
}

const disassociateIamInstanceProfile = action((ctx, input: DisassociateIamInstanceProfileRequest): DisassociateIamInstanceProfileResult => {
  const a = requireAssociation(ctx, input.AssociationId);
  requireSettled(a);
  a.State = 'disassociating';
  iamAssociations(ctx).put(ctx.region, a.AssociationId, a);
  ctx.notify(KINDS.instance.name, a.InstanceId);
  return { IamInstanceProfileAssociation: output(a) };
});

const replaceIamInstanceProfileAssociation = action(
  (ctx, input: ReplaceIamInstanceProfileAssociationRequest): ReplaceIamInstanceProfileAssociationResult => {
    const profile = requireProfile(ctx, input.IamInstanceProfile);
    const old = requireAssociation(ctx, input.AssociationId);
    requireSettled(old);
    const rec = requireInstances(ctx, [old.InstanceId])[0]!;
    iamAssociations(ctx).delete(ctx.region, old.AssociationId);
    const a = associate(ctx, rec, profile, 'associating');
    instanceCollection(ctx).put(ctx.region, rec.InstanceId, rec);
    ctx.notify(KINDS.instance.name, rec.InstanceId);
    return { IamInstanceProfileAssociation: output(a) };
  },
);

export const instanceProfilesModule: ApiModule = {
  actions: {
    AssociateIamInstanceProfile: associateIamInstanceProfile,
    DescribeIamInstanceProfileAssociations: describeIamInstanceProfileAssociations,
    DisassociateIamInstanceProfile: disassociateIamInstanceProfile,
    ReplaceIamInstanceProfileAssociation: replaceIamInstanceProfileAssociation,
  },
};
