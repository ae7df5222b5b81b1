/**
 * `resolve:ssm:<parameter>` in place of an AMI id, as RunInstances and launch
 * templates take it: the image id is the value of the SSM public parameter
 * (`/aws/service/debian/release/12/latest/amd64`…) in the caller's region, read
 * at launch. A version may follow the name (`:1`: public parameters here have
 * one version); labels are not supported.
 */
import { Ec2Error } from '../../domain/errors.js';
import type { RequestContext } from '../context.js';
import { resolvePublicParameters } from '../ssm/public-parameters.js';

const PREFIX = 'resolve:ssm:';

/** Whether the id names an SSM parameter rather than an image. */
export const isParameterReference = (imageId: string): boolean => imageId.startsWith(PREFIX);

/** The image id an ImageId names: itself, or the value of the parameter it refers to. */
export function resolveImageId(ctx: RequestContext, imageId: string): string {
  if (!isParameterReference(imageId)) return imageId;
  const ref = imageId.slice(PREFIX.length);
  const m = /^(.*?)(?::(\d+))?$/.exec(ref)!;
  const name = m[1]!;
  const version = m[2] === undefined ? undefined : Number(m[2]);
  const [parameter] = name === '' ? [undefined] : resolvePublicParameters(ctx, [name]);
  if (!parameter || (version !== undefined && version !== parameter.Version)) {
    // EC2 answers SsmInvalidParameter for a reference it cannot resolve (not in the error table; seen from EC2)
    throw new Ec2Error('SsmInvalidParameter', `The following aliases are invalid: ${ref}`);
  }
  return parameter.Value!;
}
