/**
 * RunInstances with a LaunchTemplate: the version's data turned into
 * RunInstances parameters and merged with the call's, the call's winning, as
 * EC2 does. A member the call gives replaces the template's (a structure such
 * as Placement or MetadataOptions is merged member by member); block device
 * mappings are merged by device name; tags are merged per resource type, a key
 * the call gives replacing the template's. The instances then carry EC2's
 * `aws:ec2launchtemplate:id` and `aws:ec2launchtemplate:version` tags.
 *
 * Whatever the merged request breaks (a template's network interfaces with the
 * call's SubnetId, an image that does not exist) RunInstances answers as it
 * would without a template.
 */
import type {
  BlockDeviceMapping,
  InstanceNetworkInterfaceSpecification,
  ResponseLaunchTemplateData,
  RunInstancesRequest,
  TagSpecification,
} from '@aws-sdk/client-ec2';
import type { Tag } from '../../store/store.js';
import type { RequestContext } from '../context.js';
import { requireLaunchTemplate, resolveVersion } from '../../resources/ec2/launch-templates.js';

/** The resource types RunInstances tags (a template may name others, which a launch does not make). */
const LAUNCH_TAG_TYPES = new Set(['instance', 'volume', 'network-interface']);

export interface LaunchTemplateLaunch {
  /** the request to launch: the call's parameters over the template's, without LaunchTemplate */
  input: RunInstancesRequest;
  /** EC2's tags naming the template and version, for each instance (none without a template) */
  instanceTags: Tag[];
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RunInstances parameters from launch template data (the members whose names differ are renamed). */
export function runParametersOf(data: ResponseLaunchTemplateData): Partial<RunInstancesRequest> {
  const {
    RamDiskId,
    MetadataOptions,
    NetworkInterfaces,
    TagSpecifications,
    ElasticGpuSpecifications: _gpu,
    ElasticInferenceAccelerators: _eia,
    InstanceRequirements: _req,
    Operator: _op,
    ...same
  } = data;
  const out: Record<string, unknown> = { ...same };
  if (RamDiskId !== undefined) out.RamdiskId = RamDiskId;
  if (MetadataOptions !== undefined) {
    const { State: _state, ...options } = MetadataOptions;
    out.MetadataOptions = options;
  }
  if (NetworkInterfaces !== undefined) out.NetworkInterfaces = NetworkInterfaces.map((n) => ({ ...n }) as InstanceNetworkInterfaceSpecification);
  if (TagSpecifications !== undefined) {
    out.TagSpecifications = TagSpecifications.map((t) => ({ ResourceType: t.ResourceType, Tags: t.Tags }) as TagSpecification);
  }
  return out as Partial<RunInstancesRequest>;
}

function mergeBlockDevices(
  template: readonly BlockDeviceMapping[] | undefined,
  call: readonly BlockDeviceMapping[] | undefined,
): BlockDeviceMapping[] | undefined {
  if (!template) return call ? [...call] : undefined;
  if (!call) return [...template];
  const byDevice = new Map<string, BlockDeviceMapping>();
  for (const m of template) byDevice.set(m.DeviceName ?? '', m);
  for (const m of call) byDevice.set(m.DeviceName ?? '', m);
  return [...byDevice.values()];
}

function mergeTagSpecifications(
  template: readonly TagSpecification[] | undefined,
  call: readonly TagSpecification[] | undefined,
): TagSpecification[] | undefined {
  const fromTemplate = (template ?? []).filter((s) => LAUNCH_TAG_TYPES.has(s.ResourceType ?? ''));
  if (fromTemplate.length === 0) return call ? [...call] : undefined;
  const out: TagSpecification[] = (call ?? []).map((s) => ({ ...s }));
  for (const spec of fromTemplate) {
    const mine = out.find((s) => s.ResourceType === spec.ResourceType);
    if (!mine) {
      out.push({ ResourceType: spec.ResourceType, Tags: [...(spec.Tags ?? [])] });
      continue;
    }
    const keys = new Set((mine.Tags ?? []).map((t) => t.Key));
    mine.Tags = [...(spec.Tags ?? []).filter((t) => !keys.has(t.Key)), ...(mine.Tags ?? [])];
  }
  return out;
}

/** The request RunInstances carries out, and the tags its instances get for the template. */
export function applyLaunchTemplate(ctx: RequestContext, request: RunInstancesRequest): LaunchTemplateLaunch {
  const spec = request.LaunchTemplate;
  if (!spec) return { input: request, instanceTags: [] };
  const template = requireLaunchTemplate(ctx, { id: spec.LaunchTemplateId, name: spec.LaunchTemplateName });
  const version = resolveVersion(template, spec.Version);
  const fromTemplate = runParametersOf(version.LaunchTemplateData);
  const { LaunchTemplate: _lt, ...call } = request;
  const merged: Record<string, unknown> = { ...fromTemplate };
  for (const [key, value] of Object.entries(call)) {
    if (value === undefined) continue;
    const base = merged[key];
    merged[key] = isPlainObject(base) && isPlainObject(value) ? { ...base, ...value } : value;
  }
  const input = merged as unknown as RunInstancesRequest;
  input.BlockDeviceMappings = mergeBlockDevices(fromTemplate.BlockDeviceMappings, call.BlockDeviceMappings);
  input.TagSpecifications = mergeTagSpecifications(fromTemplate.TagSpecifications, call.TagSpecifications);
  return {
    input,
    instanceTags: [
      { Key: 'aws:ec2launchtemplate:id', Value: template.LaunchTemplateId },
      { Key: 'aws:ec2launchtemplate:version', Value: String(version.VersionNumber) },
    ],
  };
}
