/**
 * The stored form of resources that several families share. A record is the
 * resource's EC2 output shape (without Tags, which live in the tag store) plus
 * the internal fields named here. Families that own a record write it; others
 * only read it.
 */
import type { GroupIdentifier, Instance, NetworkInterface, Address, SecurityGroup, Subnet, Vpc } from '@aws-sdk/client-ec2';
import type { InstanceStateName } from '../../domain/lifecycle.js';
import type { ResourceContext } from '../context.js';

/** collection 'vpc' — owned by vpcs.ts */
export type VpcRecord = Omit<Vpc, 'Tags'> & {
  VpcId: string;
  CidrBlock: string;
  IsDefault: boolean;
  EnableDnsSupport: boolean;
  EnableDnsHostnames: boolean;
};

/** The default VPC of the caller's region, if it has one (every family that falls back to it asks here). */
export function defaultVpcOf<T extends VpcRecord = VpcRecord>(ctx: ResourceContext): T | undefined {
  return ctx.store
    .collection<T>('vpc')
    .list(ctx.region)
    .find((v) => v.IsDefault);
}

/** collection 'subnet' — owned by subnets.ts */
export type SubnetRecord = Omit<Subnet, 'Tags'> & {
  SubnetId: string;
  VpcId: string;
  CidrBlock: string;
  AvailabilityZone: string;
  MapPublicIpOnLaunch: boolean;
  DefaultForAz: boolean;
};

/** collection 'security-group' — owned by security-groups.ts */
export type SecurityGroupRecord = Omit<SecurityGroup, 'Tags'> & {
  GroupId: string;
  GroupName: string;
  VpcId: string;
};

/**
 * What the API wants an instance to be; the reconciler drives the runtime
 * there (running: launch/start and keep running; stopped: stop; terminated:
 * terminate and release), while State says how far it got.
 */
export type DesiredInstanceState = 'running' | 'stopped' | 'terminated';

/** collection 'instance' — owned by instances.ts; observed state written by reconcile/instances.ts */
export type InstanceRecord = Omit<Instance, 'Tags' | 'State' | 'LaunchTime' | 'UsageOperationUpdateTime'> & {
  InstanceId: string;
  ImageId: string;
  InstanceType: string;
  SubnetId: string;
  VpcId: string;
  PrivateIpAddress: string;
  State: { Code: number; Name: InstanceStateName };
  /** ISO-8601; set each time the instance enters pending from stopped */
  LaunchTime: string;
  SecurityGroups: GroupIdentifier[];
  /** ids of the attached ENIs in device-index order; NetworkInterfaces is built from them on describe */
  networkInterfaceIds: string[];
  reservationId: string;
  ownerId: string;
  desired: DesiredInstanceState;
  /** bumped by RebootInstances; the reconciler reboots when it sees a new value */
  rebootGeneration: number;
  hibernate: boolean;
  /** base64 user data as given */
  userData?: string;
  /** ms since epoch when it became terminated (described for an hour after) */
  terminatedAt?: number;
  disableApiTermination: boolean;
  disableApiStop: boolean;
  instanceInitiatedShutdownBehavior: 'stop' | 'terminate';
  /**
   * @deprecated console output lives in its own collection ('console-output',
   * see resources/ec2/instances.ts); read only for records written before that,
   * and no longer written by the runtime.
   */
  consoleOutput?: string;
};

/** collection 'network-interface' — owned by network-interfaces.ts / instances.ts */
export type NetworkInterfaceRecord = Omit<NetworkInterface, 'TagSet' | 'Attachment' | 'Association'> & {
  NetworkInterfaceId: string;
  SubnetId: string;
  VpcId: string;
  AvailabilityZone: string;
  PrivateIpAddress: string;
  MacAddress: string;
  Groups: GroupIdentifier[];
  Status: 'available' | 'in-use' | 'attaching' | 'detaching';
  /** set while attached */
  attachment?: { AttachmentId: string; InstanceId: string; DeviceIndex: number; AttachTime: string; DeleteOnTermination: boolean };
  /**
   * Public IPv4 mapped 1:1 to the primary private IP: an auto-assigned public IP
   * (released on stop) or an Elastic IP (kept).
   */
  association?: { PublicIp: string; allocationId?: string; associationId?: string };
};

/** collection 'elastic-ip' — owned by addresses.ts */
export type AddressRecord = Omit<Address, 'Tags'> & {
  AllocationId: string;
  PublicIp: string;
  Domain: 'vpc';
};
