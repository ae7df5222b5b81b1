/**
 * The public parameters AWS publishes under `/aws/service/` that users look AMIs up by
 * (`/aws/service/debian/release/12/latest/amd64`, Canonical's
 * `/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id`,
 * `/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64`), each mapped to
 * the built-in image that is, or comes closest to, what it names. Amazon Linux is not in
 * Overcast's catalogue; its names give Debian 12 of the same architecture.
 *
 * The values are read from the region's image collection, so a parameter's value is the
 * AMI id DescribeImages lists in that region and RunInstances launches. This file is the
 * one place SSM reads EC2's image records.
 */
import { KINDS } from '../../resources/ec2/kinds.js';
import type { BuiltInOs, ImageRecord } from '../../resources/ec2/records.js';
import type { RequestContext } from '../context.js';

/** What a public parameter points at: a built-in OS image of one architecture. */
type Target = Pick<BuiltInOs, 'distribution' | 'version' | 'debArch'>;

export interface PublicParameter {
  Name: string;
  Type: 'String';
  Value: string;
  Version: number;
  LastModifiedDate: Date;
  ARN: string;
  DataType: 'aws:ec2:image';
  /** `:<version>` when the name asked for one */
  Selector?: string;
}

const ARCHES: readonly { deb: 'amd64' | 'arm64'; aws: 'x86_64' | 'arm64' }[] = [
  { deb: 'amd64', aws: 'x86_64' },
  { deb: 'arm64', aws: 'arm64' },
];

function catalogue(): ReadonlyMap<string, Target> {
  const names = new Map<string, Target>();
  for (const { deb, aws } of ARCHES) {
    // Debian's own: /aws/service/debian/release/<version or codename>/latest/<arch>
    const debian: Target = { distribution: 'debian', version: '12', debArch: deb };
    for (const release of ['12', 'bookworm']) names.set(`/aws/service/debian/release/${release}/latest/${deb}`, debian);
    // Canonical's: /aws/service/canonical/ubuntu/server/<version or codename>/stable/current/<arch>/hvm/<volume>/ami-id
    for (const [version, codename] of [['22.04', 'jammy'], ['24.04', 'noble']] as const) {
      const ubuntu: Target = { distribution: 'ubuntu', version, debArch: deb };
      for (const release of [version, codename]) {
        for (const volume of ['ebs-gp2', 'ebs-gp3']) {
          names.set(`/aws/service/canonical/ubuntu/server/${release}/stable/current/${deb}/hvm/${volume}/ami-id`, ubuntu);
        }
      }
    }
    // Amazon Linux: the closest built-in image is Debian 12 of the same architecture.
    const amazonLinux = [
      `al2023-ami-kernel-default-${aws}`,
      `al2023-ami-kernel-6.1-${aws}`,
      `al2023-ami-minimal-kernel-default-${aws}`,
      `amzn2-ami-hvm-${aws}-gp2`,
      `amzn2-ami-kernel-5.10-hvm-${aws}-gp2`,
      ...(aws === 'x86_64' ? ['amzn2-ami-hvm-x86_64-ebs'] : []),
    ];
    for (const name of amazonLinux) names.set(`/aws/service/ami-amazon-linux-latest/${name}`, debian);
  }
  return new Map([...names].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every public parameter name, sorted, with the image it names. */
export const PUBLIC_PARAMETERS: ReadonlyMap<string, Target> = catalogue();

/** The region's built-in images by target (`debian/12/amd64`), the newest build of each. */
function builtInByTarget(ctx: RequestContext): Map<string, ImageRecord> {
  const byTarget = new Map<string, ImageRecord>();
  for (const image of ctx.store.collection(KINDS.image).list(ctx.region)) {
    const os = image.osImage;
    if (!image.builtIn || !os || image.State !== 'available') continue;
    const key = `${os.distribution}/${os.version}/${os.debArch}`;
    const seen = byTarget.get(key);
    if (!seen || seen.CreationDate < image.CreationDate) byTarget.set(key, image);
  }
  return byTarget;
}

/**
 * Resolves public parameter names in the caller's region: the parameter of each name
 * that exists, in the order asked (undefined for names that do not).
 */
export function resolvePublicParameters(ctx: RequestContext, names: readonly string[]): (PublicParameter | undefined)[] {
  let images: Map<string, ImageRecord> | undefined;
  return names.map((name) => {
    const target = PUBLIC_PARAMETERS.get(name);
    if (!target) return undefined;
    images ??= builtInByTarget(ctx);
    const image = images.get(`${target.distribution}/${target.version}/${target.debArch}`);
    if (!image) return undefined;
    return {
      Name: name,
      Type: 'String',
      Value: image.ImageId,
      Version: 1,
      LastModifiedDate: new Date(image.CreationDate),
      // Public parameters have no account in their ARN.
      ARN: `arn:aws:ssm:${ctx.region}::parameter${name}`,
      DataType: 'aws:ec2:image',
    };
  });
}
