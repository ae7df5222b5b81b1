/**
 * ClassicLink, retired with EC2-Classic (August 2022). EC2 keeps the actions in
 * its API but answers every one of them, in every region, as it does where
 * ClassicLink never existed: UnsupportedOperation "The functionality you
 * requested is not available in this region." Clients expect exactly that
 * message (Ansible's ec2_vpc_net and ec2_vpc_net_info take it for
 * "ClassicLink disabled"; Terraform's aws_vpc for "not supported here"), so
 * these handlers answer it, DryRun or not, and change nothing.
 */
import { Ec2Error } from '../../domain/errors.js';
import { action, type ActionHandler, type ApiModule } from '../context.js';

/** EC2's answer to a ClassicLink call since the retirement. */
export const CLASSIC_LINK_RETIRED = 'The functionality you requested is not available in this region.';

const retired: ActionHandler = action((): never => {
  throw new Ec2Error('UnsupportedOperation', CLASSIC_LINK_RETIRED);
});

/** Every ClassicLink action of the EC2 API. */
export const CLASSIC_LINK_ACTIONS = [
  'DescribeVpcClassicLink',
  'DescribeVpcClassicLinkDnsSupport',
  'EnableVpcClassicLink',
  'DisableVpcClassicLink',
  'EnableVpcClassicLinkDnsSupport',
  'DisableVpcClassicLinkDnsSupport',
  'AttachClassicLinkVpc',
  'DetachClassicLinkVpc',
  'DescribeClassicLinkInstances',
] as const;

export const classicLinkModule: ApiModule = {
  actions: Object.fromEntries(CLASSIC_LINK_ACTIONS.map((name) => [name, retired])),
};
