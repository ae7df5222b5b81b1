/**
 * Launch templates: CreateLaunchTemplate, DescribeLaunchTemplates,
 * ModifyLaunchTemplate, DeleteLaunchTemplate, CreateLaunchTemplateVersion,
 * DescribeLaunchTemplateVersions, DeleteLaunchTemplateVersions and
 * GetLaunchTemplateData. RunInstances takes a template through
 * launch-template-merge.ts.
 *
 * As EC2 does, a template's data is kept as given: what it names (an image, a
 * key pair, groups, a subnet) need not exist when the template is made, and
 * CreateLaunchTemplate / CreateLaunchTemplateVersion answer what is wrong with
 * it as a `Warning` (the template is made all the same); launching from it then
 * fails as RunInstances would. What cannot be stored at all (a malformed name,
 * an unknown instance type, user data that is not base64, tags EC2 refuses) is
 * an error. A new version made from a SourceVersion is the source's data with
 * the given members in place of the source's.
 */
import { isParameterReference, resolveImageId } from './image-parameters.js';
import { attachmentTo, volumesOfInstance } from '../../resources/ec2/volumes.js';
import type {
  CreateLaunchTemplateRequest,
  CreateLaunchTemplateResult,
  CreateLaunchTemplateVersionRequest,
  CreateLaunchTemplateVersionResult,
  DeleteLaunchTemplateRequest,
  DeleteLaunchTemplateResult,
  DeleteLaunchTemplateVersionsRequest,
  DeleteLaunchTemplateVersionsResponseErrorItem,
  DeleteLaunchTemplateVersionsResponseSuccessItem,
  DeleteLaunchTemplateVersionsResult,
  DescribeLaunchTemplatesRequest,
  DescribeLaunchTemplatesResult,
  DescribeLaunchTemplateVersionsRequest,
  DescribeLaunchTemplateVersionsResult,
  GetLaunchTemplateDataRequest,
  GetLaunchTemplateDataResult,
  LaunchTemplate,
  LaunchTemplateBlockDeviceMapping,
  LaunchTemplateInstanceNetworkInterfaceSpecification,
  LaunchTemplateVersion,
  ModifyLaunchTemplateRequest,
  ModifyLaunchTemplateResult,
  RequestLaunchTemplateData,
  ResponseLaunchTemplateData,
  ValidationError,
  ValidationWarning,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, invalidParameterValue, missingParameter } from '../../domain/errors.js';
import { isWellFormedId } from '../../domain/ids.js';
import { requireInstanceType } from '../../domain/instance-types.js';
import { checkText } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { checkUserData } from './run-instances.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { LaunchTemplateRecord, LaunchTemplateVersionRecord, StoredInstance } from '../../resources/ec2/records.js';
import {
  addLaunchTemplateVersion,
  createLaunchTemplate,
  deleteLaunchTemplateRecord,
  findLaunchTemplateById,
  findLaunchTemplateByName,
  launchTemplateIdNotFound,
  launchTemplateNameNotFound,
  launchTemplates,
  parseVersionNumber,
  removeLaunchTemplateVersions,
  requireLaunchTemplate,
  resolveVersion,
  saveLaunchTemplate,
  versionNotFound,
  versionOf,
} from '../../resources/ec2/launch-templates.js';
import { requireImage } from '../../resources/ec2/images.js';
import { findKeyPairByName } from '../../resources/ec2/key-pairs.js';
import { interfacesOf } from '../../resources/ec2/instances.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';

// ---------------------------------------------------------------- validation

const NAME = /^[a-zA-Z0-9().\-/_]{3,128}$/;

/** A launch template name as EC2 allows it: 3–128 of letters, digits and `( ) . - / _`. */
export function checkLaunchTemplateName(name: string | undefined): string {
  if (name === undefined || name === '') throw missingParameter('LaunchTemplateName');
  if (!NAME.test(name)) {
    throw new Ec2Error(
      'InvalidLaunchTemplateName.MalformedException',
      'A launch template name must be between 3 and 128 characters, and may contain letters, numbers, and the following characters: - ( ) . / _.',
    );
  }
  return name;
}

function checkVersionDescription(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  checkText('VersionDescription', text);
  if (text.length > 255) throw invalidParameterValue('The version description must be at most 255 characters long.');
  return text;
}

/** The resource types a template's TagSpecifications may tag (what a launch from it creates). */
const DATA_TAG_TYPES = ['instance', 'volume', 'network-interface', 'spot-instances-request', 'elastic-gpu'];

/** A copy without undefined members and empty objects: the data as it is stored and shown. */
function compact<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (v === null ? undefined : v))) as T;
}

/**
 * Checks what must hold for the data to be stored (errors) and collects what
 * would make a launch fail (warnings, as EC2 answers them at create).
 */
function checkData(ctx: RequestContext, data: RequestLaunchTemplateData): { data: ResponseLaunchTemplateData; warnings: ValidationError[] } {
  if (data.InstanceType !== undefined) requireInstanceType(data.InstanceType);
  const out = compact(data) as ResponseLaunchTemplateData;
  if (data.UserData !== undefined && data.UserData !== '') out.UserData = checkUserData(data.UserData);
  if (data.TagSpecifications !== undefined) {
    const tags = tagSpecificationTags(
      data.TagSpecifications.map((t) => ({ ResourceType: t.ResourceType, Tags: t.Tags })),
      DATA_TAG_TYPES,
    );
    out.TagSpecifications = [...tags].map(([ResourceType, Tags]) => ({ ResourceType: ResourceType as 'instance', Tags }));
  }
  if (data.InstanceInitiatedShutdownBehavior !== undefined && !['stop', 'terminate'].includes(data.InstanceInitiatedShutdownBehavior)) {
    throw invalidParameterValue(
      `Value (${data.InstanceInitiatedShutdownBehavior}) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values: stop, terminate`,
    );
  }
  const warnings: ValidationError[] = [];
  const warn = (check: () => void): void => {
    try {
      check();
    } catch (e) {
      if (!(e instanceof Ec2Error)) throw e;
      warnings.push({ Code: e.code, Message: e.message });
    }
  };
  if (data.ImageId !== undefined) warn(() => requireImage(ctx, resolveImageId(ctx, data.ImageId!)));
  if (data.KeyName !== undefined && data.KeyName !== '') {
    warn(() => {
      if (!findKeyPairByName(ctx, data.KeyName!)) throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${data.KeyName}' does not exist`);
    });
  }
  for (const id of data.SecurityGroupIds ?? []) warn(() => requireResource(ctx, KINDS.securityGroup, id));
  for (const nic of data.NetworkInterfaces ?? []) {
    if (nic.SubnetId) warn(() => requireResource(ctx, KINDS.subnet, nic.SubnetId!));
    for (const id of nic.Groups ?? []) warn(() => requireResource(ctx, KINDS.securityGroup, id));
  }
  return { data: out, warnings };
}

function warningField(warnings: ValidationError[]): ValidationWarning | undefined {
  return warnings.length > 0 ? { Errors: warnings } : undefined;
}

// ---------------------------------------------------------------- output

function templateOutput(t: LaunchTemplateRecord, tags: Tag[] | undefined): LaunchTemplate {
  return {
    LaunchTemplateId: t.LaunchTemplateId,
    LaunchTemplateName: t.LaunchTemplateName,
    CreateTime: t.CreateTime as unknown as Date,
    CreatedBy: t.CreatedBy,
    DefaultVersionNumber: t.DefaultVersionNumber,
    LatestVersionNumber: t.LatestVersionNumber,
    Tags: tagsField(tags),
  };
}

function versionOutput(t: LaunchTemplateRecord, v: LaunchTemplateVersionRecord): LaunchTemplateVersion {
  return {
    LaunchTemplateId: t.LaunchTemplateId,
    LaunchTemplateName: t.LaunchTemplateName,
    VersionNumber: v.VersionNumber,
    VersionDescription: v.VersionDescription,
    CreateTime: v.CreateTime as unknown as Date,
    CreatedBy: v.CreatedBy,
    DefaultVersion: v.VersionNumber === t.DefaultVersionNumber,
    LaunchTemplateData: v.LaunchTemplateData,
  };
}

const tagsOf = (ctx: RequestContext, id: string): Tag[] => ctx.store.tags.forResource(ctx.region, id);

// ---------------------------------------------------------------- CreateLaunchTemplate

const createLaunchTemplateAction = action((ctx, input: CreateLaunchTemplateRequest): CreateLaunchTemplateResult => {
  const name = checkLaunchTemplateName(input.LaunchTemplateName);
  if (!input.LaunchTemplateData) throw missingParameter('LaunchTemplateData');
  const description = checkVersionDescription(input.VersionDescription);
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.launchTemplate.name]).get(KINDS.launchTemplate.name) ?? [];
  if (findLaunchTemplateByName(ctx, name)) {
    throw new Ec2Error('InvalidLaunchTemplateName.AlreadyExistsException', `Launch template name already in use: ${name}`);
  }
  const { data, warnings } = checkData(ctx, input.LaunchTemplateData);
  const record = createLaunchTemplate(ctx, { name, data, description });
  putTags(ctx, record.LaunchTemplateId, KINDS.launchTemplate.name, tags);
  return { LaunchTemplate: templateOutput(record, tags), Warning: warningField(warnings) };
});

// ---------------------------------------------------------------- DescribeLaunchTemplates

const LAUNCH_TEMPLATE_FILTERS = filterTable<LaunchTemplateRecord>('DescribeLaunchTemplates', {
  'create-time': 'CreateTime',
  'launch-template-name': 'LaunchTemplateName',
});

const describeLaunchTemplates = action((ctx, input: DescribeLaunchTemplatesRequest): DescribeLaunchTemplatesResult => {
  const ids = input.LaunchTemplateIds ?? [];
  const names = input.LaunchTemplateNames ?? [];
  let records = launchTemplates(ctx).list(ctx.region);
  if (ids.length > 0 || names.length > 0) {
    const wanted = new Set<string>();
    for (const id of ids) {
      const found = findLaunchTemplateById(ctx, id);
      if (!found) throw launchTemplateIdNotFound(id);
      wanted.add(found.LaunchTemplateId);
    }
    for (const name of names) {
      const found = findLaunchTemplateByName(ctx, name);
      if (!found) throw launchTemplateNameNotFound(name);
      wanted.add(found.LaunchTemplateId);
    }
    records = records.filter((t) => wanted.has(t.LaunchTemplateId));
  }
  const tags = tagsByResource(ctx, KINDS.launchTemplate.name);
  const filtered = applyFilters(records, input.Filters, LAUNCH_TEMPLATE_FILTERS, (t) => tags.get(t.LaunchTemplateId));
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 1, max: 200 });
  return { LaunchTemplates: page.items.map((t) => templateOutput(t, tags.get(t.LaunchTemplateId))), NextToken: page.nextToken };
});

// ---------------------------------------------------------------- ModifyLaunchTemplate

const modifyLaunchTemplate = action((ctx, input: ModifyLaunchTemplateRequest): ModifyLaunchTemplateResult => {
  let template = requireLaunchTemplate(ctx, { id: input.LaunchTemplateId, name: input.LaunchTemplateName });
  if (input.DefaultVersion !== undefined && input.DefaultVersion !== '') {
    const n = parseVersionNumber(input.DefaultVersion);
    if (n === undefined || !versionOf(template, n)) throw versionNotFound(template, input.DefaultVersion);
    template = { ...template, DefaultVersionNumber: n };
    saveLaunchTemplate(ctx, template);
  }
  return { LaunchTemplate: templateOutput(template, tagsOf(ctx, template.LaunchTemplateId)) };
});

// ---------------------------------------------------------------- DeleteLaunchTemplate

const deleteLaunchTemplate = action((ctx, input: DeleteLaunchTemplateRequest): DeleteLaunchTemplateResult => {
  const template = requireLaunchTemplate(ctx, { id: input.LaunchTemplateId, name: input.LaunchTemplateName });
  const tags = tagsOf(ctx, template.LaunchTemplateId);
  deleteLaunchTemplateRecord(ctx, template.LaunchTemplateId);
  return { LaunchTemplate: templateOutput(template, tags) };
});

// ---------------------------------------------------------------- CreateLaunchTemplateVersion

/** The source's data with the given top-level members in place of the source's. */
function overlay(source: ResponseLaunchTemplateData, given: ResponseLaunchTemplateData): ResponseLaunchTemplateData {
  const out: Record<string, unknown> = { ...source };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) out[k] = v;
  return out as ResponseLaunchTemplateData;
}

const createLaunchTemplateVersion = action((ctx, input: CreateLaunchTemplateVersionRequest): CreateLaunchTemplateVersionResult => {
  const template = requireLaunchTemplate(ctx, { id: input.LaunchTemplateId, name: input.LaunchTemplateName });
  if (!input.LaunchTemplateData) throw missingParameter('LaunchTemplateData');
  const description = checkVersionDescription(input.VersionDescription);
  const source = input.SourceVersion !== undefined && input.SourceVersion !== '' ? resolveVersion(template, input.SourceVersion) : undefined;
  const { data, warnings } = checkData(ctx, input.LaunchTemplateData);
  const merged = source ? overlay(source.LaunchTemplateData, data) : data;
  const { template: next, version } = addLaunchTemplateVersion(ctx, template, { data: merged, description });
  return { LaunchTemplateVersion: versionOutput(next, version), Warning: warningField(warnings) };
});

// ---------------------------------------------------------------- DescribeLaunchTemplateVersions

const LAUNCH_TEMPLATE_VERSION_FILTERS = filterTable<LaunchTemplateVersion>('DescribeLaunchTemplateVersions', {
  'create-time': 'CreateTime',
  'ebs-optimized': 'LaunchTemplateData.EbsOptimized',
  'http-endpoint': 'LaunchTemplateData.MetadataOptions.HttpEndpoint',
  // the IPv4 endpoint of the metadata service is the endpoint (Overcast's instances have no IPv6)
  'http-protocol-ipv4': 'LaunchTemplateData.MetadataOptions.HttpEndpoint',
  'host-resource-group-arn': 'LaunchTemplateData.Placement.HostResourceGroupArn',
  'http-tokens': 'LaunchTemplateData.MetadataOptions.HttpTokens',
  'iam-instance-profile': 'LaunchTemplateData.IamInstanceProfile.Arn',
  'image-id': 'LaunchTemplateData.ImageId',
  'instance-type': 'LaunchTemplateData.InstanceType',
  'is-default-version': 'DefaultVersion',
  'kernel-id': 'LaunchTemplateData.KernelId',
  'license-configuration-arn': 'LaunchTemplateData.LicenseSpecifications.LicenseConfigurationArn',
  'network-card-index': 'LaunchTemplateData.NetworkInterfaces.NetworkCardIndex',
  'ram-disk-id': 'LaunchTemplateData.RamDiskId',
});

function parseBound(name: 'MinVersion' | 'MaxVersion', text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const n = parseVersionNumber(text);
  if (n === undefined) throw invalidParameterValue(`Value (${text}) for parameter ${name} is invalid. Expected a version number.`);
  return n;
}

const describeLaunchTemplateVersions = action((ctx, input: DescribeLaunchTemplateVersionsRequest): DescribeLaunchTemplateVersionsResult => {
  const named = Boolean(input.LaunchTemplateId) || Boolean(input.LaunchTemplateName);
  const min = parseBound('MinVersion', input.MinVersion);
  const max = parseBound('MaxVersion', input.MaxVersion);
  const specs = input.Versions ?? [];
  const inRange = (v: LaunchTemplateVersionRecord): boolean => (min === undefined || v.VersionNumber >= min) && (max === undefined || v.VersionNumber <= max);
  const items: LaunchTemplateVersion[] = [];
  if (named) {
    const template = requireLaunchTemplate(ctx, { id: input.LaunchTemplateId, name: input.LaunchTemplateName });
    let versions: LaunchTemplateVersionRecord[];
    if (specs.length > 0) {
      const chosen = new Map<number, LaunchTemplateVersionRecord>();
      for (const s of specs) {
        const v = resolveVersion(template, s);
        chosen.set(v.VersionNumber, v);
      }
      versions = [...chosen.values()];
    } else {
      versions = template.versions;
    }
    // newest first, as EC2 lists them
    for (const v of [...versions].filter(inRange).sort((a, b) => b.VersionNumber - a.VersionNumber)) items.push(versionOutput(template, v));
  } else {
    for (const s of specs) {
      if (s !== '$Latest' && s !== '$Default') {
        throw invalidParameterValue(
          `The version '${s}' is not valid without a launch template: to describe the versions of every launch template, specify $Latest or $Default.`,
        );
      }
    }
    const latest = specs.includes('$Latest');
    const dflt = specs.includes('$Default');
    for (const t of launchTemplates(ctx).list(ctx.region)) {
      const versions = specs.length === 0 ? t.versions : t.versions.filter((v) => (latest && v.VersionNumber === t.LatestVersionNumber) || (dflt && v.VersionNumber === t.DefaultVersionNumber));
      for (const v of [...versions].filter(inRange).sort((a, b) => b.VersionNumber - a.VersionNumber)) items.push(versionOutput(t, v));
    }
  }
  const filtered = applyFilters(items, input.Filters, LAUNCH_TEMPLATE_VERSION_FILTERS);
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 1, max: 200 });
  // ResolveAlias: a `resolve:ssm:` ImageId shown as the image it names now (as it stands when it does not resolve)
  const shown = input.ResolveAlias === true ? page.items.map((v) => withResolvedImage(ctx, v)) : page.items;
  return { LaunchTemplateVersions: shown, NextToken: page.nextToken };
});

function withResolvedImage(ctx: RequestContext, v: LaunchTemplateVersion): LaunchTemplateVersion {
  const imageId = v.LaunchTemplateData?.ImageId;
  if (imageId === undefined || !isParameterReference(imageId)) return v;
  try {
    return { ...v, LaunchTemplateData: { ...v.LaunchTemplateData, ImageId: resolveImageId(ctx, imageId) } };
  } catch (e) {
    if (e instanceof Ec2Error) return v;
    throw e;
  }
}

// ---------------------------------------------------------------- DeleteLaunchTemplateVersions

/** EC2 deletes at most this many versions per call. */
const MAX_DELETE_VERSIONS = 200;

const deleteLaunchTemplateVersions = action((ctx, input: DeleteLaunchTemplateVersionsRequest): DeleteLaunchTemplateVersionsResult => {
  const specs = input.Versions ?? [];
  if (specs.length === 0) throw missingParameter('LaunchTemplateVersion');
  if (specs.length > MAX_DELETE_VERSIONS) {
    throw invalidParameterValue(`You can delete up to ${MAX_DELETE_VERSIONS} launch template versions in one request; use DeleteLaunchTemplate to delete them all.`);
  }
  const id = input.LaunchTemplateId || undefined;
  const name = input.LaunchTemplateName || undefined;
  const failed: DeleteLaunchTemplateVersionsResponseErrorItem[] = [];
  const deleted: DeleteLaunchTemplateVersionsResponseSuccessItem[] = [];
  const failAll = (code: string, message: string): DeleteLaunchTemplateVersionsResult => {
    for (const s of specs) {
      failed.push({ LaunchTemplateId: id, LaunchTemplateName: name, VersionNumber: parseVersionNumber(s), ResponseError: { Code: code as 'unexpectedError', Message: message } });
    }
    return { SuccessfullyDeletedLaunchTemplateVersions: [], UnsuccessfullyDeletedLaunchTemplateVersions: failed };
  };
  let template: LaunchTemplateRecord | undefined;
  if (id !== undefined && name === undefined) {
    if (!isWellFormedId(KINDS.launchTemplate.prefix, id)) return failAll('launchTemplateIdMalformed', `The launch template ID '${id}' is malformed.`);
    template = findLaunchTemplateById(ctx, id);
    if (!template) return failAll('launchTemplateIdDoesNotExist', `The specified launch template, with template ID ${id}, does not exist.`);
  } else if (name !== undefined && id === undefined) {
    if (!NAME.test(name)) return failAll('launchTemplateNameMalformed', `The launch template name '${name}' is malformed.`);
    template = findLaunchTemplateByName(ctx, name);
    if (!template) return failAll('launchTemplateNameDoesNotExist', `The specified launch template, with template name ${name}, does not exist.`);
  } else {
    template = requireLaunchTemplate(ctx, { id, name });
  }
  const t = template;
  const remove = new Set<number>();
  for (const s of specs) {
    const n = parseVersionNumber(s);
    const item = { LaunchTemplateId: t.LaunchTemplateId, LaunchTemplateName: t.LaunchTemplateName, VersionNumber: n };
    if (n === undefined || !versionOf(t, n) || remove.has(n)) {
      failed.push({ ...item, ResponseError: { Code: 'launchTemplateVersionDoesNotExist', Message: `The launch template version ${s} does not exist.` } });
    } else if (n === t.DefaultVersionNumber) {
      failed.push({
        ...item,
        ResponseError: { Code: 'unexpectedError', Message: 'Cannot delete the default version of a launch template. Set another version as the default, then try again.' },
      });
    } else {
      remove.add(n);
      deleted.push(item);
    }
  }
  if (remove.size > 0) removeLaunchTemplateVersions(ctx, t, remove);
  return { SuccessfullyDeletedLaunchTemplateVersions: deleted, UnsuccessfullyDeletedLaunchTemplateVersions: failed };
});

// ---------------------------------------------------------------- GetLaunchTemplateData

/** What an instance was launched with, as launch template data (EC2's GetLaunchTemplateData). */
export function launchTemplateDataOf(ctx: RequestContext, rec: StoredInstance): ResponseLaunchTemplateData {
  const tags = tagsOf(ctx, rec.InstanceId).filter((t) => !t.Key.toLowerCase().startsWith('aws:'));
  const volumes = new Map(volumesOfInstance(ctx, rec.InstanceId).map((v) => [v.VolumeId, v]));
  const blockDevices: LaunchTemplateBlockDeviceMapping[] = (rec.BlockDeviceMappings ?? []).flatMap((m) => {
    const v = m.Ebs?.VolumeId ? volumes.get(m.Ebs.VolumeId) : undefined;
    if (!v) return [];
    return [
      {
        DeviceName: m.DeviceName,
        Ebs: {
          Encrypted: v.Encrypted,
          DeleteOnTermination: attachmentTo(v, rec.InstanceId)?.DeleteOnTermination ?? false,
          Iops: v.VolumeType === 'gp2' ? undefined : v.Iops,
          SnapshotId: v.SnapshotId || undefined,
          VolumeSize: v.Size,
          VolumeType: v.VolumeType as 'gp2',
          Throughput: v.Throughput,
        },
      },
    ];
  });
  const interfaces: LaunchTemplateInstanceNetworkInterfaceSpecification[] = interfacesOf(ctx, rec).map((eni) => ({
    AssociatePublicIpAddress: eni.attachment?.DeviceIndex === 0 ? rec.publicIpOnStart : undefined,
    DeleteOnTermination: eni.attachment?.DeleteOnTermination ?? false,
    Description: eni.Description ?? '',
    DeviceIndex: eni.attachment?.DeviceIndex ?? 0,
    Groups: eni.Groups.map((g) => g.GroupId!),
    InterfaceType: 'interface',
    Ipv6Addresses: [],
    NetworkInterfaceId: eni.NetworkInterfaceId,
    PrivateIpAddresses: (eni.PrivateIpAddresses?.length ? eni.PrivateIpAddresses : [{ Primary: true, PrivateIpAddress: eni.PrivateIpAddress }]).map((p) => ({
      Primary: p.Primary ?? p.PrivateIpAddress === eni.PrivateIpAddress,
      PrivateIpAddress: p.PrivateIpAddress,
    })),
    SubnetId: eni.SubnetId,
    NetworkCardIndex: 0,
  }));
  const m = rec.MetadataOptions;
  return compact<ResponseLaunchTemplateData>({
    EbsOptimized: rec.EbsOptimized,
    BlockDeviceMappings: blockDevices.length > 0 ? blockDevices : undefined,
    NetworkInterfaces: interfaces.length > 0 ? interfaces : undefined,
    ImageId: rec.ImageId,
    InstanceType: rec.InstanceType as 't2.micro',
    KeyName: rec.KeyName,
    Monitoring: { Enabled: rec.Monitoring?.State === 'enabled' || rec.Monitoring?.State === 'pending' },
    Placement: { AvailabilityZone: rec.Placement?.AvailabilityZone, GroupName: rec.Placement?.GroupName ?? '', Tenancy: rec.Placement?.Tenancy ?? 'default' },
    DisableApiTermination: rec.disableApiTermination,
    DisableApiStop: rec.disableApiStop,
    InstanceInitiatedShutdownBehavior: rec.instanceInitiatedShutdownBehavior,
    UserData: rec.userData,
    TagSpecifications: tags.length > 0 ? [{ ResourceType: 'instance', Tags: tags }] : undefined,
    CpuOptions: rec.CpuOptions ? { CoreCount: rec.CpuOptions.CoreCount, ThreadsPerCore: rec.CpuOptions.ThreadsPerCore } : undefined,
    CapacityReservationSpecification: rec.CapacityReservationSpecification
      ? { CapacityReservationPreference: rec.CapacityReservationSpecification.CapacityReservationPreference }
      : undefined,
    HibernationOptions: { Configured: rec.HibernationOptions?.Configured ?? false },
    MetadataOptions: m
      ? {
          HttpTokens: m.HttpTokens,
          HttpPutResponseHopLimit: m.HttpPutResponseHopLimit,
          HttpEndpoint: m.HttpEndpoint,
          HttpProtocolIpv6: m.HttpProtocolIpv6,
          InstanceMetadataTags: m.InstanceMetadataTags,
        }
      : undefined,
    EnclaveOptions: { Enabled: rec.EnclaveOptions?.Enabled ?? false },
    PrivateDnsNameOptions: rec.PrivateDnsNameOptions
      ? {
          HostnameType: rec.PrivateDnsNameOptions.HostnameType,
          EnableResourceNameDnsARecord: rec.PrivateDnsNameOptions.EnableResourceNameDnsARecord,
          EnableResourceNameDnsAAAARecord: rec.PrivateDnsNameOptions.EnableResourceNameDnsAAAARecord,
        }
      : undefined,
    MaintenanceOptions: rec.MaintenanceOptions ? { AutoRecovery: rec.MaintenanceOptions.AutoRecovery } : undefined,
  });
}

const getLaunchTemplateData = action((ctx, input: GetLaunchTemplateDataRequest): GetLaunchTemplateDataResult => {
  if (!input.InstanceId) throw missingParameter('InstanceId');
  const rec = requireResource(ctx, KINDS.instance, input.InstanceId);
  return { LaunchTemplateData: launchTemplateDataOf(ctx, rec) };
});

export const launchTemplatesModule: ApiModule = {
  actions: {
    CreateLaunchTemplate: createLaunchTemplateAction,
    DescribeLaunchTemplates: describeLaunchTemplates,
    ModifyLaunchTemplate: modifyLaunchTemplate,
    DeleteLaunchTemplate: deleteLaunchTemplate,
    CreateLaunchTemplateVersion: createLaunchTemplateVersion,
    DescribeLaunchTemplateVersions: describeLaunchTemplateVersions,
    DeleteLaunchTemplateVersions: deleteLaunchTemplateVersions,
    GetLaunchTemplateData: getLaunchTemplateData,
  },
};
