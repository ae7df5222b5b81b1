/**
 * The stored form of resources that several families share. A record is the
 * resource's EC2 output shape (without Tags, which live in the tag store) plus
 * the internal fields named here. Families that own a record write it; others
 * only read it.
 */
import type {
  Address,
  DhcpConfiguration,
  EgressOnlyInternetGateway,
  FlowLog,
  GroupIdentifier,
  Image,
  Instance,
  InternetGateway,
  InternetGatewayAttachment,
  LaunchTemplate,
  ManagedPrefixList,
  NatGateway,
  NatGatewayAddress,
  VpcPeeringConnection,
  VpcPeeringConnectionVpcInfo,
  NetworkAcl,
  NetworkAclAssociation,
  NetworkAclEntry,
  NetworkInterface,
  NetworkInterfacePermission,
  Route,
  RouteTable,
  ResponseLaunchTemplateData,
  RouteTableAssociation,
  SecurityGroup,
  Subnet,
  SubnetCidrReservation,
  Vpc,
  PeeringTgwInfo,
  TransitGateway,
  TransitGatewayAttachmentState,
  TransitGatewayOptions,
  TransitGatewayPropagationState,
  TransitGatewayRouteTableState,
  TransitGatewayState,
  TransitGatewayVpcAttachmentOptions,
} from '@aws-sdk/client-ec2';
import type { KeyType } from '../../domain/key-material.js';
import type { AddressFamily, PrefixListEntryRecord } from '../../domain/prefix-list-entries.js';
import type { RuleBody } from '../../domain/security-group-rules.js';
import type { InstanceStateName } from '../../domain/lifecycle.js';

/** collection 'vpc' — owned by vpcs.ts */
export type VpcRecord = Omit<Vpc, 'Tags'> & {
  VpcId: string;
  CidrBlock: string;
  IsDefault: boolean;
  EnableDnsSupport: boolean;
  EnableDnsHostnames: boolean;
  EnableNetworkAddressUsageMetrics?: boolean;
  /** CIDR association id → when it became disassociated (ms since epoch; shown for a while, then dropped) */
  cidrDisassociatedAt?: Record<string, number>;
};


/** collection 'subnet' — owned by subnets.ts */
export type SubnetRecord = Omit<Subnet, 'Tags'> & {
  SubnetId: string;
  VpcId: string;
  CidrBlock: string;
  AvailabilityZone: string;
  MapPublicIpOnLaunch: boolean;
  DefaultForAz: boolean;
  /** IPv6 CIDR association id → when it became disassociated (ms since epoch; shown for a while, then dropped) */
  ipv6DisassociatedAt?: Record<string, number>;
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
  attachment?: {
    AttachmentId: string;
    InstanceId: string;
    DeviceIndex: number;
    AttachTime: string;
    DeleteOnTermination: boolean;
    /** absent: attached (records from before AttachNetworkInterface) */
    Status?: 'attaching' | 'attached' | 'detaching';
    NetworkCardIndex?: number;
  };
  /**
   * Public IPv4 mapped 1:1 to the primary private IP: an auto-assigned public IP
   * (released on stop) or an Elastic IP (kept).
   */
  association?: { PublicIp: string; allocationId?: string; associationId?: string };
  /** Elastic IPs mapped 1:1 to secondary private IPv4s of the interface */
  secondaryAssociations?: { privateIp: string; PublicIp: string; allocationId: string; associationId: string }[];
};

/** collection 'elastic-ip' — owned by addresses.ts */
export type AddressRecord = Omit<Address, 'Tags'> & {
  AllocationId: string;
  PublicIp: string;
  Domain: 'vpc';
  /** ModifyAddressAttribute DomainName (with the trailing dot EC2 shows) */
  ptrRecord?: string;
};

/**
 * collection 'image', keyed by ImageId — owned by images.ts (CreateImage/RegisterImage
 * will add to it). The DescribeImages output shape without Tags, plus:
 * - `launchPermissionAccountIds`: accounts a private image is explicitly shared with;
 * - `builtIn`: true for Overcast's catalogue images (not deregisterable by users);
 * - `osImage`: which built-in OS image the disk comes from (for the compute side);
 * - `build`: the image builder that makes its root disk on this host (storage/images:
 *   'tiny', 'debian-12'); absent when Overcast cannot build it (yet).
 */
export type ImageRecord = Omit<Image, 'Tags'> & {
  ImageId: string;
  Name: string;
  OwnerId: string;
  State: NonNullable<Image['State']>;
  Architecture: NonNullable<Image['Architecture']>;
  Public: boolean;
  RootDeviceName: string;
  CreationDate: string;
  launchPermissionAccountIds?: string[];
  builtIn?: boolean;
  osImage?: BuiltInOs;
  build?: string;
  /** `overcast image import`: the root disk file on this host (an ext4 image the block store clones) */
  importedFile?: string;
  /** the size of that file in bytes (instance-store AMIs: the root volume is made at least this big) */
  importedBytes?: number;
  /** CreateImage: reboot the instance once the snapshots are taken (NoReboot not given) */
  rebootInstanceId?: string;
  /** DeregisterImage: when (State is then 'deregistered'; the record is purged after DEREGISTERED_VISIBLE_MS) */
  deregisteredAt?: string;
};

/** Where a volume's first bytes come from. */
export type VolumeOrigin =
  | { kind: 'empty' }
  | { kind: 'snapshot'; snapshotId: string }
  /** a built-in image's disk (built on this host), for the root volume of an instance launched from it */
  | { kind: 'image'; imageId: string; deviceName: string };

/** One attachment of a volume to an instance, as DescribeVolumes shows it. */
export interface VolumeAttachmentRecord {
  InstanceId: string;
  Device: string;
  State: 'attaching' | 'attached' | 'detaching';
  AttachTime: string;
  DeleteOnTermination: boolean;
  /** DetachVolume Force: the guest loses the device without a clean detach */
  force?: boolean;
}

/**
 * collection 'volume', keyed by VolumeId — owned by volumes.ts. The
 * DescribeVolumes shape without Tags and Attachments, plus:
 * - `attachments`: one per instance it is attached to, in attach order (more
 *   than one only for a Multi-Attach volume), as DescribeVolumes shows them;
 *   records stored before Multi-Attach had a single `attachment` (migration 3);
 * - `origin`: what the reconciler fills it from;
 * - `deleting`: DeleteVolume accepted; the reconciler removes the bytes, then the record.
 */
export type VolumeRecord = {
  VolumeId: string;
  Size: number;
  AvailabilityZone: string;
  State: 'creating' | 'available' | 'in-use' | 'deleting' | 'deleted' | 'error';
  CreateTime: string;
  VolumeType: string;
  Iops?: number;
  Throughput?: number;
  SnapshotId: string;
  Encrypted: boolean;
  KmsKeyId?: string;
  MultiAttachEnabled: boolean;
  FastRestored?: boolean;
  attachments: VolumeAttachmentRecord[];
  origin: VolumeOrigin;
  ownerId: string;
  autoEnableIO: boolean;
  /** when the ModifyVolume calls accepted within the last 24 hours started (ISO, to the millisecond): EC2's rate rule counts them */
  modificationStarts?: string[];
  /** the last ModifyVolume, as DescribeVolumesModifications shows it */
  modification?: {
    ModificationState: 'modifying' | 'optimizing' | 'completed' | 'failed';
    StatusMessage?: string;
    TargetSize: number;
    TargetIops?: number;
    TargetVolumeType: string;
    TargetThroughput?: number;
    TargetMultiAttachEnabled: boolean;
    OriginalSize: number;
    OriginalIops?: number;
    OriginalVolumeType: string;
    OriginalThroughput?: number;
    OriginalMultiAttachEnabled: boolean;
    Progress: number;
    StartTime: string;
    EndTime?: string;
  };
};

/**
 * collection 'snapshot', keyed by SnapshotId — owned by snapshots.ts. The
 * DescribeSnapshots shape without Tags, plus:
 * - `source`: the volume to read (CreateSnapshot) or the snapshot to copy (CopySnapshot, maybe of another region);
 * - `createVolumePermission`: who else may create volumes from it;
 * - `deleting`: DeleteSnapshot accepted, hidden; the reconciler frees its blocks, then removes the record.
 */
export type SnapshotRecord = {
  SnapshotId: string;
  VolumeId: string;
  VolumeSize: number;
  State: 'pending' | 'completed' | 'error';
  StateMessage?: string;
  StartTime: string;
  CompletionTime?: string;
  Progress: string;
  OwnerId: string;
  Description: string;
  Encrypted: boolean;
  StorageTier: 'standard';
  FullSnapshotSizeInBytes?: number;
  source: { kind: 'volume'; volumeId: string } | { kind: 'copy'; region: string; snapshotId: string };
  createVolumePermission: { public: boolean; accounts: string[] };
  deleting?: boolean;
  /** bytes this snapshot added to the store (the incremental part) */
  storedBytes?: number;
  /** its point in time is taken with its instance's other volumes (resources/ec2/snapshot-points.ts) */
  awaitingPoint?: boolean;
};

/** One built-in OS image, independent of region. */
export interface BuiltInOs {
  distribution: 'debian' | 'ubuntu';
  /** '12', '22.04', '24.04' */
  version: string;
  codename: string;
  /** Debian architecture name */
  debArch: 'amd64' | 'arm64';
}

/** collection 'internet-gateway' */
export type InternetGatewayRecord = Omit<InternetGateway, 'Tags'> & {
  InternetGatewayId: string;
  /** empty, or the one VPC it is attached to (state 'available', as EC2 reports an attached gateway) */
  Attachments: InternetGatewayAttachment[];
};

/** collection 'network-acl' */
export type NetworkAclRecord = Omit<NetworkAcl, 'Tags'> & {
  NetworkAclId: string;
  VpcId: string;
  IsDefault: boolean;
  Entries: NetworkAclEntry[];
  Associations: NetworkAclAssociation[];
};

/** collection 'route-table'. Routes are stored without State (see `describeRoute`). */
export type RouteTableRecord = Omit<RouteTable, 'Tags'> & {
  RouteTableId: string;
  VpcId: string;
  Routes: Route[];
  Associations: RouteTableAssociation[];
};

/**
 * collection 'security-group-rule', keyed by SecurityGroupRuleId — owned by
 * security-groups.ts. The EC2 `SecurityGroupRule` output without Tags.
 */
export type SecurityGroupRuleRecord = RuleBody & {
  SecurityGroupRuleId: string;
  GroupId: string;
  GroupOwnerId: string;
  SecurityGroupRuleArn: string;
};

/**
 * collection 'key-pair', keyed by KeyPairId — owned by key-pairs.ts.
 *
 * The DescribeKeyPairs output shape without Tags and PublicKey, plus `publicKey`:
 * the normalized OpenSSH public key line (`ssh-rsa AAAA…` / `ssh-ed25519 AAAA…`,
 * no comment), ready to be written into an instance's `authorized_keys`.
 * CreateTime is an ISO-8601 string.
 */
export interface KeyPairRecord {
  KeyPairId: string;
  KeyName: string;
  KeyFingerprint: string;
  KeyType: KeyType;
  CreateTime: string;
  publicKey: string;
}



/** What a flow log watches (CreateFlowLogs ResourceType). */
export type FlowLogResourceType = 'VPC' | 'Subnet' | 'NetworkInterface';

/** The traffic a flow log records. */
export type FlowLogTrafficType = 'ACCEPT' | 'REJECT' | 'ALL';

/**
 * collection 'vpc-flow-log', keyed by FlowLogId — owned by flow-logs.ts; read by
 * reconcile/flow-logs.ts, which writes the records. The DescribeFlowLogs output
 * shape without Tags, plus `resourceType`. Only LogDestinationType `file` is
 * served (Overcast's own: LogDestination is a path relative to
 * `<dataDir>/flow-logs/`). CreationTime is an ISO-8601 string.
 */
export type FlowLogRecord = Omit<FlowLog, 'Tags' | 'CreationTime' | 'LogDestinationType' | 'TrafficType'> & {
  FlowLogId: string;
  ResourceId: string;
  TrafficType: FlowLogTrafficType;
  LogDestinationType: 'file';
  LogDestination: string;
  LogFormat: string;
  MaxAggregationInterval: 60 | 600;
  CreationTime: string;
  resourceType: FlowLogResourceType;
};

/** collection 'dhcp-options' — owned by dhcp-options.ts: the region's default set and those CreateDhcpOptions made. */
export interface DhcpOptionsRecord {
  DhcpOptionsId: string;
  OwnerId: string;
  DhcpConfigurations: DhcpConfiguration[];
  /** marks the set every new VPC gets */
  regionDefault?: boolean;
}

/** collection 'instance': the shared record plus the fields only the instances family and its reconciler use. */
export type StoredInstance = InstanceRecord & {
  /** ISO-8601: when the instance was first launched (UsageOperationUpdateTime) */
  usageOperationUpdateTime: string;
  /** give the primary interface a (new) public IPv4 each time the instance starts */
  publicIpOnStart: boolean;
  /** OpenSSH public key of the key pair at launch (the instance keeps it if the pair is deleted) */
  publicKey?: string;
  /** StopInstances Force=true (until the stop completes) */
  forceStop?: boolean;
  /** reconciler: the last rebootGeneration carried out by the driver */
  rebootedGeneration?: number;
  /** reconciler: the /etc/resolv.conf the machine was last given (its VPC's DHCP options then) */
  resolverApplied?: string;
  /** reconciler: the instance has reached running at least once (a failed restart is not a failed launch) */
  everRan?: boolean;
  /**
   * the status checks as the reconciler last observed them while running: system = the
   * machine runs; instance = the guest answers on its network (its SSH port)
   */
  statusChecks?: { system: 'ok' | 'impaired'; instance: 'ok' | 'impaired' | 'initializing'; since: number };
  /**
   * snapshots (CreateSnapshots, CreateImage) whose points in time the instance's reconciler takes
   * as one set: with the machine frozen, or (pointsReboot) while it is down for a reboot
   */
  pendingPoints?: string[];
  /** CreateImage without NoReboot: the guest is shut down for the points and started again */
  pointsReboot?: boolean;
};


/**
 * collection 'prefix-list' — owned by prefix-lists.ts. A customer-managed
 * prefix list; `versions[v - 1]` holds the entries of version v (every version
 * is kept, for GetManagedPrefixListEntries' TargetVersion). The AWS-managed
 * lists are not stored (prefix-lists.ts makes them per region).
 */
export type PrefixListRecord = Omit<ManagedPrefixList, 'Tags'> & {
  PrefixListId: string;
  PrefixListName: string;
  AddressFamily: AddressFamily;
  MaxEntries: number;
  Version: number;
  OwnerId: string;
  versions: PrefixListEntryRecord[][];
};

/**
 * collection 'launch-template' — owned by launch-templates.ts. The
 * DescribeLaunchTemplates output without Tags (CreateTime as ISO-8601 text),
 * plus every version still kept (a deleted version is gone; numbers are never
 * reused: `nextVersion` is the number the next CreateLaunchTemplateVersion gets).
 * LatestVersionNumber is the highest version kept.
 */
export type LaunchTemplateRecord = Omit<LaunchTemplate, 'Tags' | 'CreateTime' | 'Operator'> & {
  LaunchTemplateId: string;
  LaunchTemplateName: string;
  CreateTime: string;
  CreatedBy: string;
  DefaultVersionNumber: number;
  LatestVersionNumber: number;
  nextVersion: number;
  /** in version order */
  versions: LaunchTemplateVersionRecord[];
};

/** One version of a launch template: its data as DescribeLaunchTemplateVersions shows it. */
export interface LaunchTemplateVersionRecord {
  VersionNumber: number;
  VersionDescription?: string;
  /** ISO-8601 */
  CreateTime: string;
  CreatedBy: string;
  LaunchTemplateData: ResponseLaunchTemplateData;
}

/**
 * collection 'transit-gateway' — owned by transit-gateways.ts. The
 * DescribeTransitGateways output without Tags (CreationTime as ISO-8601 text);
 * `deletedAt` (ms) is when it reached `deleted` (it stays visible for a while).
 */
export type TransitGatewayRecord = Omit<TransitGateway, 'Tags' | 'CreationTime' | 'Options' | 'State'> & {
  TransitGatewayId: string;
  TransitGatewayArn: string;
  OwnerId: string;
  State: TransitGatewayState;
  CreationTime: string;
  Options: TransitGatewayOptions;
  deletedAt?: number;
};

/** An attachment's association with a transit gateway route table (an attachment has at most one). */
export interface TransitGatewayAttachmentAssociationRecord {
  TransitGatewayRouteTableId: string;
  State: 'associating' | 'associated' | 'disassociating';
}

/**
 * collection 'transit-gateway-attachment' — owned by transit-gateways.ts. A VPC
 * or peering attachment as DescribeTransitGatewayAttachments shows it, plus what
 * its own Describe call shows (`vpc`: subnets and options; `peering`: the
 * accepter side). A peering attachment is stored in both regions under one id
 * (`peering.side` says which side a record is).
 */
export interface TransitGatewayAttachmentRecord {
  TransitGatewayAttachmentId: string;
  TransitGatewayId: string;
  TransitGatewayOwnerId: string;
  ResourceType: 'vpc' | 'peering';
  /** the VPC, or the transit gateway at the other end */
  ResourceId: string;
  ResourceOwnerId: string;
  State: TransitGatewayAttachmentState;
  CreationTime: string;
  association?: TransitGatewayAttachmentAssociationRecord;
  vpc?: { SubnetIds: string[]; Options: TransitGatewayVpcAttachmentOptions };
  peering?: {
    side: 'requester' | 'accepter';
    requester: PeeringTgwInfo;
    accepter: PeeringTgwInfo;
    /** the region of the other side's record */
    peerRegion: string;
  };
  deletedAt?: number;
}

/**
 * collection 'transit-gateway-route-table' — owned by transit-gateways.ts.
 * Static routes and propagations are kept here; associations on the
 * attachments; propagated routes are worked out when routes are read.
 */
export interface TransitGatewayRouteTableRecord {
  TransitGatewayRouteTableId: string;
  TransitGatewayId: string;
  State: TransitGatewayRouteTableState;
  DefaultAssociationRouteTable: boolean;
  DefaultPropagationRouteTable: boolean;
  CreationTime: string;
  /** static routes: to an attachment, or blackhole */
  routes: { DestinationCidrBlock: string; attachmentId?: string; blackhole: boolean }[];
  propagations: { attachmentId: string; State: TransitGatewayPropagationState }[];
  deletedAt?: number;
}

/**
 * The states of the records that only move through states (record-lifecycles.ts):
 * `deletedAt` (ms) is set when one reaches its deleted state, and it is purged
 * some time after.
 */
export interface Deletable {
  deletedAt?: number;
}

/**
 * collection 'vpc-endpoint' — owned by vpc-endpoints.ts. The EC2 `VpcEndpoint`
 * output without Tags; State in EC2's wire spelling (`pending`, `available`,
 * `deleting`, `deleted`), CreationTimestamp as ISO text.
 */
export type VpcEndpointRecord = Omit<import('@aws-sdk/client-ec2').VpcEndpoint, 'Tags' | 'CreationTimestamp' | 'State'> &
  Deletable & {
    VpcEndpointId: string;
    VpcEndpointType: 'Gateway' | 'Interface' | 'GatewayLoadBalancer';
    VpcId: string;
    ServiceName: string;
    /** pendingAcceptance and rejected: an endpoint to a service of the account that accepts endpoints by hand */
    State: 'pendingAcceptance' | 'pending' | 'available' | 'rejected' | 'deleting' | 'deleted';
    CreationTimestamp: string;
    RouteTableIds: string[];
    SubnetIds: string[];
    /** a Gateway endpoint's destination: the service's AWS-managed prefix list */
    prefixListId?: string;
    /** the service's private DNS name (an Interface endpoint answers for it while PrivateDnsEnabled) */
    privateDnsName?: string;
  };

/**
 * collection 'vpc-endpoint-service' — owned by vpc-endpoint-services.ts: an
 * endpoint service of the account (EC2 `ServiceConfiguration` without Tags)
 * and who may connect to it.
 */
export type VpcEndpointServiceRecord = Omit<import('@aws-sdk/client-ec2').ServiceConfiguration, 'Tags' | 'ServiceState'> &
  Deletable & {
    ServiceId: string;
    ServiceName: string;
    ServiceState: 'Pending' | 'Available' | 'Deleting' | 'Deleted';
    /** ModifyVpcEndpointServicePermissions' principals, in the order added */
    allowedPrincipals: { Principal: string; PrincipalType: string; ServicePermissionId: string }[];
  };

/** collection 'carrier-gateway' — owned by carrier-gateways.ts: the EC2 `CarrierGateway` without Tags. */
export type CarrierGatewayRecord = Omit<import('@aws-sdk/client-ec2').CarrierGateway, 'Tags' | 'State'> &
  Deletable & {
    CarrierGatewayId: string;
    VpcId: string;
    State: 'pending' | 'available' | 'deleting' | 'deleted';
  };

/** collection 'customer-gateway' — owned by customer-gateways.ts: the EC2 `CustomerGateway` without Tags. */
export type CustomerGatewayRecord = Omit<import('@aws-sdk/client-ec2').CustomerGateway, 'Tags' | 'State'> &
  Deletable & {
    CustomerGatewayId: string;
    Type: 'ipsec.1';
    State: 'pending' | 'available' | 'deleting' | 'deleted';
  };

/**
 * collection 'vpn-gateway' — owned by vpn-gateways.ts: the EC2 `VpnGateway`
 * without Tags; VpcAttachments keeps the last attachment (detached ones too,
 * as EC2 shows them).
 */
export type VpnGatewayRecord = Omit<import('@aws-sdk/client-ec2').VpnGateway, 'Tags' | 'State' | 'VpcAttachments'> &
  Deletable & {
    VpnGatewayId: string;
    Type: 'ipsec.1';
    State: 'pending' | 'available' | 'deleting' | 'deleted';
    AmazonSideAsn: number;
    VpcAttachments: { VpcId: string; State: 'attaching' | 'attached' | 'detaching' | 'detached' }[];
  };

/**
 * collection 'vpn-connection' — owned by vpn-connections.ts: the EC2
 * `VpnConnection` without Tags; times as ISO text. A static route goes
 * pending → available, and deleting → gone.
 */
export type VpnConnectionRecord = Omit<import('@aws-sdk/client-ec2').VpnConnection, 'Tags' | 'State' | 'Routes' | 'VgwTelemetry'> &
  Deletable & {
    VpnConnectionId: string;
    CustomerGatewayId: string;
    Type: 'ipsec.1';
    State: 'pending' | 'available' | 'deleting' | 'deleted';
    Routes: { DestinationCidrBlock: string; Source: 'Static'; State: 'pending' | 'available' | 'deleting' }[];
    VgwTelemetry: (Omit<import('@aws-sdk/client-ec2').VgwTelemetry, 'LastStatusChange'> & { LastStatusChange: string })[];
  };
/** collection 'network-interface-permission' — owned by network-interface-permissions.ts (deleted with its interface) */
export type NetworkInterfacePermissionRecord = NetworkInterfacePermission & {
  NetworkInterfacePermissionId: string;
  NetworkInterfaceId: string;
};

/**
 * collection 'placement-group' — owned by placement-groups.ts. The
 * DescribePlacementGroups output without Tags; names are unique per region.
 */
export interface PlacementGroupRecord {
  GroupId: string;
  GroupName: string;
  GroupArn: string;
  Strategy: 'cluster' | 'spread' | 'partition';
  State: 'available';
  PartitionCount?: number;
  SpreadLevel?: 'rack';
}

/**
 * collection 'dedicated-host' — owned by dedicated-hosts.ts. The DescribeHosts
 * output without Tags, Instances and AvailableCapacity (both computed from the
 * instances placed on it); times as ISO-8601 text.
 */
export interface HostRecord {
  HostId: string;
  AvailabilityZone: string;
  AvailabilityZoneId?: string;
  AutoPlacement: 'on' | 'off';
  HostRecovery: 'on' | 'off';
  HostMaintenance: 'on' | 'off';
  /** one instance type (off), or any type of the family (on) */
  AllowsMultipleInstanceTypes: 'on' | 'off';
  HostProperties: { Cores: number; Sockets: number; TotalVCpus: number; InstanceType?: string; InstanceFamily?: string };
  State: 'available' | 'released';
  AllocationTime: string;
  ReleaseTime?: string;
  ClientToken?: string;
  OwnerId: string;
}

/**
 * collection 'capacity-reservation' — owned by capacity-reservations.ts. The
 * DescribeCapacityReservations output without Tags and AvailableInstanceCount
 * (computed from the instances that use it); times as ISO-8601 text.
 */
export interface CapacityReservationRecord {
  CapacityReservationId: string;
  OwnerId: string;
  CapacityReservationArn: string;
  AvailabilityZone: string;
  AvailabilityZoneId?: string;
  InstanceType: string;
  InstancePlatform: string;
  Tenancy: 'default' | 'dedicated';
  TotalInstanceCount: number;
  EbsOptimized: boolean;
  EphemeralStorage: boolean;
  State: 'active' | 'cancelled';
  StartDate: string;
  EndDate?: string;
  EndDateType: 'unlimited' | 'limited';
  InstanceMatchCriteria: 'open' | 'targeted';
  CreateDate: string;
  PlacementGroupArn?: string;
}
/** collection 'subnet-cidr-reservation' — owned by subnet-cidr-reservations.ts: the GetSubnetCidrReservations shape without Tags. */
export type SubnetCidrReservationRecord = Omit<SubnetCidrReservation, 'Tags'> & {
  SubnetCidrReservationId: string;
  SubnetId: string;
  Cidr: string;
  ReservationType: 'prefix' | 'explicit';
  OwnerId: string;
  /** 4 or 6 */
  family: 4 | 6;
};

/** collection 'egress-only-internet-gateway' — owned by egress-only-internet-gateways.ts. */
export type EgressOnlyInternetGatewayRecord = Omit<EgressOnlyInternetGateway, 'Tags'> & {
  EgressOnlyInternetGatewayId: string;
  /** the VPC it was made for (Attachments holds it while the gateway exists) */
  VpcId: string;
};

/**
 * collection 'natgateway' — owned by nat-gateways.ts; moved through its states by
 * reconcile/record-states.ts. The DescribeNatGateways shape without Tags (times as
 * ISO-8601 text), plus `finalAt`: when it became deleted or failed (ms since epoch).
 */
export type NatGatewayRecord = Omit<NatGateway, 'Tags' | 'CreateTime' | 'DeleteTime' | 'State' | 'ConnectivityType'> & {
  NatGatewayId: string;
  VpcId: string;
  SubnetId: string;
  State: 'pending' | 'available' | 'deleting' | 'deleted' | 'failed';
  ConnectivityType: 'public' | 'private';
  CreateTime: string;
  DeleteTime?: string;
  NatGatewayAddresses: NatGatewayAddress[];
  finalAt?: number;
};

/**
 * collection 'vpc-peering-connection' — owned by vpc-peering-connections.ts. A
 * connection between VPCs of two regions is stored in both (the same record,
 * written to each), as EC2 shows it in both. The DescribeVpcPeeringConnections
 * shape without Tags (ExpirationTime as ISO-8601 text), plus `finalAt`: when it
 * reached a final state (ms since epoch).
 */
export type VpcPeeringConnectionRecord = Omit<VpcPeeringConnection, 'Tags' | 'ExpirationTime' | 'Status'> & {
  VpcPeeringConnectionId: string;
  RequesterVpcInfo: VpcPeeringConnectionVpcInfo & { VpcId: string; Region: string; OwnerId: string };
  AccepterVpcInfo: VpcPeeringConnectionVpcInfo & { VpcId: string; Region: string; OwnerId: string };
  Status: { Code: 'initiating-request' | 'pending-acceptance' | 'active' | 'deleted' | 'rejected' | 'failed' | 'expired' | 'provisioning' | 'deleting'; Message: string };
  ExpirationTime?: string;
  finalAt?: number;
};
