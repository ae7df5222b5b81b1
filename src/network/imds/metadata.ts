/**
 * What the instance metadata service knows about one instance: a plain
 * description, built by the wiring (reconcile/metadata.ts) from whatever it
 * keeps, and turned by the service into EC2's metadata tree (tree.ts). No EC2
 * records here: the service is a driver and knows none.
 *
 * Everything is read again on every request (the source is asked each time),
 * so a change — ModifyInstanceMetadataOptions, a new public IP, new tags —
 * shows at once.
 */

/** The instance's metadata options (EC2's InstanceMetadataOptions), as they stand now. */
export interface MetadataOptions {
  /** 'disabled': every request is answered 403 */
  httpEndpoint: 'enabled' | 'disabled';
  /** 'required': IMDSv2 only (a session token on every request); 'optional': v1 allowed */
  httpTokens: 'optional' | 'required';
  /**
   * the IP TTL EC2 gives token responses (1–64). Not enforced here: Node cannot
   * set the TTL of a TCP socket, so a userspace server cannot limit the hops.
   */
  httpPutResponseHopLimit: number;
  /** 'enabled': the instance's tags under meta-data/tags/instance/ */
  instanceMetadataTags: 'enabled' | 'disabled';
}

/** One network interface, as meta-data/network/interfaces/macs/<mac>/ shows it. */
export interface InterfaceMetadata {
  /** 02:xx:xx:xx:xx:xx (lower case) */
  mac: string;
  /** the attachment's device index (0 = eth0) */
  deviceNumber: number;
  /** eni-… */
  interfaceId: string;
  /** the account that owns the interface */
  ownerId: string;
  /** private IPv4 addresses, primary first */
  privateIps: string[];
  /** the interface's private DNS name (ip-….ec2.internal) */
  localHostname: string;
  /** public IPv4 addresses mapped onto the interface, with the private address each maps to */
  publicIps: { publicIp: string; privateIp: string }[];
  /** the public DNS name of the first public IP, when the VPC gives public hostnames */
  publicHostname?: string;
  securityGroupIds: string[];
  /** group names, in the order of securityGroupIds */
  securityGroupNames: string[];
  subnetId: string;
  /** the subnet's IPv4 CIDR */
  subnetCidr: string;
  vpcId: string;
  /** the VPC's primary IPv4 CIDR */
  vpcCidr: string;
  /** every IPv4 CIDR associated with the VPC, the primary first */
  vpcCidrs: string[];
  /** the interface's IPv6 addresses, first assigned first (absent or empty: no ipv6s entry) */
  ipv6s?: string[];
  /** the subnet's associated IPv6 CIDR blocks (absent or empty: no subnet-ipv6-cidr-blocks entry) */
  subnetIpv6Cidrs?: string[];
  /** the VPC's associated IPv6 CIDR blocks (absent or empty: no vpc-ipv6-cidr-blocks entry) */
  vpcIpv6Cidrs?: string[];
}

/** An instance profile's role, for meta-data/iam/ (absent: no profile, no iam/ directory). */
export interface IamMetadata {
  /** arn:aws:iam::<account>:instance-profile/<name> */
  instanceProfileArn: string;
  /** AIPA… */
  instanceProfileId: string;
  /** ISO-8601, when the credentials were last refreshed */
  lastUpdated: string;
  roleName: string;
  /** the role's temporary credentials, as iam/security-credentials/<role> shows them */
  credentials: { accessKeyId: string; secretAccessKey: string; token: string; expiration: string };
}

/** A spot interruption notice (spot/instance-action), when one is set. */
export interface SpotInstanceAction {
  action: 'hibernate' | 'stop' | 'terminate';
  /** ISO-8601 (seconds, Z) */
  time: string;
}

/** Everything the metadata tree of one instance is made of. */
export interface InstanceMetadata {
  instanceId: string;
  instanceType: string;
  /** ami-… */
  imageId: string;
  /** the instance's position in its launch (AmiLaunchIndex) */
  amiLaunchIndex: number;
  /** instance-store AMIs' manifest; EBS-backed: '(unknown)' (the default) */
  amiManifestPath?: string;
  /** r-… */
  reservationId: string;
  accountId: string;
  /** x86_64 | arm64 */
  architecture: string;
  region: string;
  availabilityZone: string;
  /** e.g. use1-az1 */
  availabilityZoneId: string;
  /** the primary interface's private DNS name: hostname and local-hostname */
  hostname: string;
  /** the primary interface's primary private IPv4 */
  privateIp: string;
  /** the primary interface's first IPv6 address, if it has one (meta-data/ipv6) */
  ipv6?: string;
  /** the primary interface's public IPv4, if it has one */
  publicIp?: string;
  /** the public DNS name, when there is a public IP and the VPC gives public hostnames */
  publicHostname?: string;
  /** ISO-8601: when the instance last entered pending (the identity document's pendingTime) */
  pendingTime: string;
  /** the attached interfaces, the primary (device 0) first */
  interfaces: InterfaceMetadata[];
  /** the instance's security group names (meta-data/security-groups) */
  securityGroups: string[];
  /**
   * block-device-mapping/: `ami` (the image's root device), `root` (the
   * instance's), `ebs` (the other EBS volumes present at launch or last start:
   * ebs1, ebs2…), `ephemeral` (instance store: ephemeral0…); device names as
   * EC2 shows them (`/dev/xvda`, `sdb`)
   */
  blockDevices: { ami: string; root: string; ebs: string[]; ephemeral: string[] };
  /** the key pair the instance was launched with (public-keys/0=name), OpenSSH form */
  publicKeys: { name: string; openssh: string }[];
  /** user data as given at launch, decoded from base64 (absent: /latest/user-data is 404) */
  userData?: Buffer;
  options: MetadataOptions;
  /** the instance's tags, read only when options.instanceMetadataTags is 'enabled' */
  tags?: { key: string; value: string }[];
  /** instance-action: a pending reboot/stop notice; default 'none' */
  instanceAction?: string;
  /** instance-life-cycle (default 'on-demand') */
  lifeCycle?: 'on-demand' | 'spot' | 'scheduled' | 'capacity-block';
  /** spot/instance-action, only when set */
  spotInstanceAction?: SpotInstanceAction;
  /** the instance profile (hook: absent until IAM exists) */
  iam?: IamMetadata;
  /** services/partition (default 'aws') */
  partition?: string;
  /** services/domain (default 'amazonaws.com') */
  domain?: string;
}

/**
 * Where the service asks who is calling: the VPC the request arrived in and
 * its source address (the instance's private IP, unchanged by the router's
 * DNAT). Answers undefined for an address no instance has. Private IPs overlap
 * between VPCs: the identity is the pair.
 */
export interface MetadataSource {
  lookup(vpcId: string, privateIp: string): InstanceMetadata | undefined | Promise<InstanceMetadata | undefined>;
}
