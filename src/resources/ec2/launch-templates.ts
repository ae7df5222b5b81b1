/**
 * Launch templates: records of kind 'launch-template', each holding every
 * version it still has. Names are unique per region (the store's
 * 'launch-template-name' space; found through the name index). A template is
 * named by id or by name, a version by number, `$Latest` or `$Default`; the
 * errors are EC2's (InvalidLaunchTemplateId.*, InvalidLaunchTemplateName.*).
 */
import type { ResponseLaunchTemplateData } from '@aws-sdk/client-ec2';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { isWellFormedId, newId } from '../../domain/ids.js';
import type { ResourceContext } from '../context.js';
import { KINDS, LAUNCH_TEMPLATE_NAME_INDEX } from './kinds.js';
import type { LaunchTemplateRecord, LaunchTemplateVersionRecord } from './records.js';

export const launchTemplates = (ctx: ResourceContext) => ctx.store.collection(KINDS.launchTemplate);

/** EC2 keeps at most this many versions per template. */
export const MAX_VERSIONS = 10_000;

/** Who EC2 says made a template or version (the account's root principal: Overcast has one identity). */
export function createdBy(ctx: ResourceContext): string {
  return `arn:aws:iam::${ctx.accountId}:root`;
}

export function launchTemplateIdMalformed(id: string): Ec2Error {
  return new Ec2Error(
    'InvalidLaunchTemplateId.Malformed',
    `The specified ID for the launch template (${id}) is not valid. Launch template IDs begin with 'lt-' followed by 17 hexadecimal characters.`,
  );
}

export function launchTemplateIdNotFound(id: string): Ec2Error {
  return new Ec2Error('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${id}, does not exist.`);
}

export function launchTemplateNameNotFound(name: string): Ec2Error {
  return new Ec2Error('InvalidLaunchTemplateName.NotFoundException', `The specified launch template, with template name ${name}, does not exist.`);
}

export function versionNotFound(template: LaunchTemplateRecord, version: string): Ec2Error {
  return new Ec2Error(
    'InvalidLaunchTemplateId.VersionNotFound',
    `Could not find launch template version ${version} for the launch template with ID ${template.LaunchTemplateId}.`,
  );
}

/** The template of that name in the caller's region, or undefined. */
export function findLaunchTemplateByName(ctx: ResourceContext, name: string): LaunchTemplateRecord | undefined {
  return launchTemplates(ctx).find(ctx.region, LAUNCH_TEMPLATE_NAME_INDEX, name)[0];
}

/** The template of that id, or undefined; a malformed id is EC2's Malformed error. */
export function findLaunchTemplateById(ctx: ResourceContext, id: string): LaunchTemplateRecord | undefined {
  if (!isWellFormedId(KINDS.launchTemplate.prefix, id)) throw launchTemplateIdMalformed(id);
  return launchTemplates(ctx).get(ctx.region, id);
}

/**
 * The template a call names by LaunchTemplateId or LaunchTemplateName (one of
 * them, not both, as EC2 requires).
 */
export function requireLaunchTemplate(ctx: ResourceContext, ref: { id?: string; name?: string }): LaunchTemplateRecord {
  const id = ref.id || undefined;
  const name = ref.name || undefined;
  if (id !== undefined && name !== undefined) {
    throw invalidParameterCombination('Specify either the launch template ID or the launch template name, but not both.');
  }
  if (id !== undefined) {
    const found = findLaunchTemplateById(ctx, id);
    if (!found) throw launchTemplateIdNotFound(id);
    return found;
  }
  if (name !== undefined) {
    const found = findLaunchTemplateByName(ctx, name);
    if (!found) throw launchTemplateNameNotFound(name);
    return found;
  }
  throw missingParameter('launchTemplateId or launchTemplateName');
}

/** A version number as EC2 reads it from text (`"3"`), or undefined when the text is not one. */
export function parseVersionNumber(text: string): number | undefined {
  if (!/^[0-9]{1,18}$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/** The version of a template by number. */
export function versionOf(template: LaunchTemplateRecord, n: number): LaunchTemplateVersionRecord | undefined {
  return template.versions.find((v) => v.VersionNumber === n);
}

/**
 * The version a specifier names: a number, `$Latest` or `$Default`; none
 * (undefined or empty) is the default version, as RunInstances takes it.
 */
export function resolveVersion(template: LaunchTemplateRecord, spec: string | undefined): LaunchTemplateVersionRecord {
  const text = spec === undefined || spec === '' ? '$Default' : spec;
  const n =
    text === '$Latest' ? template.LatestVersionNumber : text === '$Default' ? template.DefaultVersionNumber : parseVersionNumber(text);
  if (n === undefined) {
    throw new Ec2Error('InvalidParameterValue', `The launch template version '${text}' is not valid: specify a version number, $Latest or $Default.`);
  }
  const found = versionOf(template, n);
  if (!found) throw versionNotFound(template, text);
  return found;
}

export interface NewLaunchTemplate {
  name: string;
  data: ResponseLaunchTemplateData;
  description?: string;
}

/** Creates a template with its version 1 (the default and latest). */
export function createLaunchTemplate(ctx: ResourceContext, spec: NewLaunchTemplate): LaunchTemplateRecord {
  const id = newId(KINDS.launchTemplate.prefix);
  const now = ctx.now.toISOString();
  const by = createdBy(ctx);
  const record: LaunchTemplateRecord = {
    LaunchTemplateId: id,
    LaunchTemplateName: spec.name,
    CreateTime: now,
    CreatedBy: by,
    DefaultVersionNumber: 1,
    LatestVersionNumber: 1,
    nextVersion: 2,
    versions: [{ VersionNumber: 1, VersionDescription: spec.description, CreateTime: now, CreatedBy: by, LaunchTemplateData: spec.data }],
  };
  launchTemplates(ctx).put(ctx.region, id, record);
  return record;
}

/** Adds the next version to a template (it becomes the latest, not the default); the new record and version. */
export function addLaunchTemplateVersion(
  ctx: ResourceContext,
  template: LaunchTemplateRecord,
  spec: { data: ResponseLaunchTemplateData; description?: string },
): { template: LaunchTemplateRecord; version: LaunchTemplateVersionRecord } {
  if (template.versions.length >= MAX_VERSIONS) {
    throw new Ec2Error(
      'LaunchTemplateVersionLimitExceeded',
      `The launch template ${template.LaunchTemplateId} has the maximum number of versions (${MAX_VERSIONS}). Delete versions and try again.`,
    );
  }
  const version: LaunchTemplateVersionRecord = {
    VersionNumber: template.nextVersion,
    VersionDescription: spec.description,
    CreateTime: ctx.now.toISOString(),
    CreatedBy: createdBy(ctx),
    LaunchTemplateData: spec.data,
  };
  const next: LaunchTemplateRecord = {
    ...template,
    LatestVersionNumber: version.VersionNumber,
    nextVersion: version.VersionNumber + 1,
    versions: [...template.versions, version],
  };
  saveLaunchTemplate(ctx, next);
  return { template: next, version };
}

/** Removes versions (never the default one: the caller checks); the latest becomes the highest one kept. */
export function removeLaunchTemplateVersions(ctx: ResourceContext, template: LaunchTemplateRecord, numbers: ReadonlySet<number>): LaunchTemplateRecord {
  const versions = template.versions.filter((v) => !numbers.has(v.VersionNumber));
  const latest = Math.max(...versions.map((v) => v.VersionNumber));
  const next: LaunchTemplateRecord = { ...template, versions, LatestVersionNumber: latest };
  saveLaunchTemplate(ctx, next);
  return next;
}

export function saveLaunchTemplate(ctx: ResourceContext, record: LaunchTemplateRecord): void {
  launchTemplates(ctx).put(ctx.region, record.LaunchTemplateId, record);
}

/** Removes a template, every version and its tags. */
export function deleteLaunchTemplateRecord(ctx: ResourceContext, id: string): void {
  launchTemplates(ctx).delete(ctx.region, id);
  ctx.store.tags.removeAll(ctx.region, id);
}
