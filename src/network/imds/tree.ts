/**
 * EC2's metadata tree for one instance, built from its InstanceMetadata:
 * `/latest/meta-data/…`, `/latest/user-data`, `/latest/dynamic/…`, with EC2's
 * paths and formats (listings: one name a line, directories with a trailing
 * `/`, no final newline; JSON documents pretty-printed as EC2 does, `"key" : value`).
 */
import type { InstanceMetadata, InterfaceMetadata } from './metadata.js';

/** A leaf (text, bytes, or text made when read: a signature) or a directory. */
export type MetadataNode = string | Buffer | (() => string) | MetadataDir;

export class MetadataDir {
  constructor(
    readonly entries: ReadonlyMap<string, MetadataNode>,
    /** what the directory lists, when it is not its entries' names (public-keys/: `0=name`) */
    readonly listing?: string,
  ) {}

  /** The listing: entries in order, directories with a trailing '/'. */
  list(): string {
    if (this.listing !== undefined) return this.listing;
    return [...this.entries].map(([name, node]) => (node instanceof MetadataDir ? `${name}/` : name)).join('\n');
  }
}

/** Builds a directory from [name, node | undefined] pairs: undefined entries are left out, names sorted. */
function dir(entries: [string, MetadataNode | undefined][], listing?: string): MetadataDir {
  const present = entries.filter((e): e is [string, MetadataNode] => e[1] !== undefined);
  present.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new MetadataDir(new Map(present), listing);
}

/** A flat JSON object as EC2's metadata service prints it: two-space indent, `"key" : value`. */
export function ec2Json(obj: Record<string, unknown>): string {
  const lines = Object.entries(obj).map(([k, v]) => `  ${JSON.stringify(k)} : ${JSON.stringify(v ?? null)}`);
  return `{\n${lines.join(',\n')}\n}`;
}

/** ISO-8601 to the second, as EC2 writes times in metadata (2016-11-19T16:32:11Z). */
export function ec2Time(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The instance identity document (dynamic/instance-identity/document), fields in EC2's order. */
export function identityDocument(m: InstanceMetadata): string {
  return ec2Json({
    accountId: m.accountId,
    architecture: m.architecture,
    availabilityZone: m.availabilityZone,
    billingProducts: null,
    devpayProductCodes: null,
    marketplaceProductCodes: null,
    imageId: m.imageId,
    instanceId: m.instanceId,
    instanceType: m.instanceType,
    kernelId: null,
    pendingTime: ec2Time(m.pendingTime),
    privateIp: m.privateIp,
    ramdiskId: null,
    region: m.region,
    version: '2017-09-30',
  });
}

const lines = (values: readonly string[]): string => values.join('\n');
/** One a line, or undefined (the entry is absent, 404) when there are none. */
const someLines = (values: readonly string[] | undefined): string | undefined => (values !== undefined && values.length > 0 ? lines(values) : undefined);

function interfaceDir(i: InterfaceMetadata): MetadataDir {
  const publics = i.publicIps;
  return dir([
    ['device-number', String(i.deviceNumber)],
    ['interface-id', i.interfaceId],
    ['ipv6s', someLines(i.ipv6s)],
    ['ipv4-associations', publics.length > 0 ? dir(publics.map((p) => [p.publicIp, p.privateIp])) : undefined],
    ['local-hostname', i.localHostname],
    ['local-ipv4s', lines(i.privateIps)],
    ['mac', i.mac],
    ['owner-id', i.ownerId],
    ['public-hostname', publics.length > 0 ? i.publicHostname : undefined],
    ['public-ipv4s', publics.length > 0 ? lines(publics.map((p) => p.publicIp)) : undefined],
    ['security-group-ids', lines(i.securityGroupIds)],
    ['security-groups', lines(i.securityGroupNames)],
    ['subnet-id', i.subnetId],
    ['subnet-ipv4-cidr-block', i.subnetCidr],
    ['subnet-ipv6-cidr-blocks', someLines(i.subnetIpv6Cidrs)],
    ['vpc-id', i.vpcId],
    ['vpc-ipv4-cidr-block', i.vpcCidr],
    ['vpc-ipv4-cidr-blocks', lines(i.vpcCidrs)],
    ['vpc-ipv6-cidr-blocks', someLines(i.vpcIpv6Cidrs)],
  ]);
}

function blockDeviceDir(m: InstanceMetadata): MetadataDir {
  const b = m.blockDevices;
  return dir([
    ['ami', b.ami],
    ['root', b.root],
    ...b.ebs.map((d, k): [string, string] => [`ebs${k + 1}`, d]),
    ...b.ephemeral.map((d, k): [string, string] => [`ephemeral${k}`, d]),
  ]);
}

function publicKeysDir(m: InstanceMetadata): MetadataDir | undefined {
  if (m.publicKeys.length === 0) return undefined;
  return new MetadataDir(
    new Map(m.publicKeys.map((k, n) => [String(n), new MetadataDir(new Map([['openssh-key', `${k.openssh}\n`]]))])),
    lines(m.publicKeys.map((k, n) => `${n}=${k.name}`)),
  );
}

function iamDir(m: InstanceMetadata): MetadataDir | undefined {
  const iam = m.iam;
  if (!iam) return undefined;
  const info = ec2Json({ Code: 'Success', LastUpdated: ec2Time(iam.lastUpdated), InstanceProfileArn: iam.instanceProfileArn, InstanceProfileId: iam.instanceProfileId });
  const c = iam.credentials;
  const creds = ec2Json({
    Code: 'Success',
    LastUpdated: ec2Time(iam.lastUpdated),
    Type: 'AWS-HMAC',
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    Token: c.token,
    Expiration: ec2Time(c.expiration),
  });
  return dir([
    ['info', info],
    ['security-credentials', dir([[iam.roleName, creds]])],
  ]);
}

function tagsDir(m: InstanceMetadata): MetadataDir | undefined {
  if (m.options.instanceMetadataTags !== 'enabled' || !m.tags) return undefined;
  // tag keys with a '/' cannot be paths: EC2 refuses them when tags are in metadata; they are left out here
  const usable = m.tags.filter((t) => t.key !== '' && !t.key.includes('/') && t.key !== '.' && t.key !== '..');
  return dir([['instance', dir(usable.map((t) => [t.key, t.value]))]]);
}

/** The meta-data/ directory. */
export function metaDataDir(m: InstanceMetadata): MetadataDir {
  const primary = m.interfaces[0];
  const spot = m.spotInstanceAction;
  return dir([
    ['ami-id', m.imageId],
    ['ami-launch-index', String(m.amiLaunchIndex)],
    ['ami-manifest-path', m.amiManifestPath ?? '(unknown)'],
    ['block-device-mapping', blockDeviceDir(m)],
    ['events', dir([['maintenance', dir([['history', '[]'], ['scheduled', '[]']])]])],
    ['hostname', m.hostname],
    ['iam', iamDir(m)],
    ['instance-action', m.instanceAction ?? 'none'],
    ['instance-id', m.instanceId],
    ['instance-life-cycle', m.lifeCycle ?? 'on-demand'],
    ['instance-type', m.instanceType],
    ['ipv6', m.ipv6],
    ['local-hostname', m.hostname],
    ['local-ipv4', m.privateIp],
    ['mac', primary?.mac],
    ['network', dir([['interfaces', dir([['macs', dir(m.interfaces.map((i) => [i.mac, interfaceDir(i)]))]])]])],
    [
      'placement',
      dir([
        ['availability-zone', m.availabilityZone],
        ['availability-zone-id', m.availabilityZoneId],
        ['region', m.region],
      ]),
    ],
    ['profile', 'default-hvm'],
    ['public-hostname', m.publicIp !== undefined ? m.publicHostname : undefined],
    ['public-ipv4', m.publicIp],
    ['public-keys', publicKeysDir(m)],
    ['reservation-id', m.reservationId],
    ['security-groups', lines(m.securityGroups)],
    [
      'services',
      dir([
        ['domain', m.domain ?? 'amazonaws.com'],
        ['partition', m.partition ?? 'aws'],
      ]),
    ],
    [
      'spot',
      spot
        ? dir([
            // EC2's spacing: {"action": "terminate", "time": "2017-09-18T08:22:00Z"}
            ['instance-action', `{"action": ${JSON.stringify(spot.action)}, "time": ${JSON.stringify(ec2Time(spot.time))}}`],
            ['termination-time', ec2Time(spot.time)],
          ])
        : undefined,
    ],
    ['tags', tagsDir(m)],
  ]);
}

/** What signs the identity document (see service.ts); each answers base64 text. */
export interface IdentitySigner {
  /** RSA SHA-256 signature of the document, base64 */
  signature(document: string): string;
  /** PKCS#7 SignedData of the document (RSA SHA-256), base64 without armour (rsa2048, pkcs7) */
  pkcs7(document: string): string;
}

/** The dynamic/ directory. */
export function dynamicDir(m: InstanceMetadata, signer: IdentitySigner | undefined): MetadataDir {
  const document = identityDocument(m);
  return dir([
    [
      'instance-identity',
      dir([
        ['document', document],
        ['pkcs7', signer ? () => signer.pkcs7(document) : undefined],
        ['rsa2048', signer ? () => signer.pkcs7(document) : undefined],
        ['signature', signer ? () => signer.signature(document) : undefined],
      ]),
    ],
  ]);
}

/**
 * One version's root (/latest/): dynamic, meta-data, user-data when there is
 * any — listed without trailing slashes, as EC2 lists this one directory.
 */
export function versionDir(m: InstanceMetadata, signer: IdentitySigner | undefined): MetadataDir {
  const names = m.userData !== undefined ? ['dynamic', 'meta-data', 'user-data'] : ['dynamic', 'meta-data'];
  return dir(
    [
      ['dynamic', dynamicDir(m, signer)],
      ['meta-data', metaDataDir(m)],
      ['user-data', m.userData],
    ],
    names.join('\n'),
  );
}

/** The versions EC2 lists at `/` (every one serves the same tree here). */
export const METADATA_VERSIONS: readonly string[] = [
  '1.0', '2007-01-19', '2007-03-01', '2007-08-29', '2007-10-10', '2007-12-15', '2008-02-01', '2008-09-01',
  '2009-04-04', '2011-01-01', '2011-05-01', '2012-01-12', '2014-02-25', '2014-11-05', '2015-10-20',
  '2016-04-19', '2016-06-30', '2016-09-02', '2018-03-28', '2018-08-17', '2018-09-24', '2019-10-01',
  '2020-10-27', '2021-01-03', '2021-03-23', '2021-07-15', '2022-09-24', 'latest',
];

/**
 * The node at `segments` under a version's root (empty segments ignored, so
 * `meta-data` and `meta-data/` are the same), or undefined.
 */
export function resolveNode(root: MetadataDir, segments: readonly string[]): MetadataNode | undefined {
  let node: MetadataNode = root;
  for (const s of segments) {
    if (s === '') continue;
    if (!(node instanceof MetadataDir)) return undefined;
    const next: MetadataNode | undefined = node.entries.get(s);
    if (next === undefined) return undefined;
    node = next;
  }
  return node;
}
