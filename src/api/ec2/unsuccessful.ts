/** EC2's UnsuccessfulItem: a resource a batch call (DeleteVpcEndpoints…) left alone, and why. */
import type { UnsuccessfulItem } from '@aws-sdk/client-ec2';
import type { Ec2Error } from '../../domain/errors.js';

export function unsuccessfulItem(resourceId: string, error: Ec2Error): UnsuccessfulItem {
  return { ResourceId: resourceId, Error: { Code: error.code, Message: error.message } };
}
