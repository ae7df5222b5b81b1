/**
 * The store's side of the instance metadata service and the VPC resolver
 * (network/imds, network/dns): who is calling, from (VPC, private IP), and
 * what the VPC's names are. Everything is read on each request — from the
 * store's cached reads, through its indexes — so ModifyInstanceMetadataOptions,
 * a new public IP or new tags show on the next request.
 *
 * Wiring (server/reconciler side):
 *
 *   const sources = metadataSources(store, config);
 *   const imds = new MetadataService({ source: sources.metadata, signingKey: sources.signingKey });
 *   const dns = new VpcResolver({ source: sources.dns });
 *   // after fabric.ensureNetwork(…) answers info.serviceAddress:
 *   await imds.listen(vpcId, info.serviceAddress, metadataPort);
 *   await dns.listen(vpcId, info.serviceAddress, dnsPort);
 *
 * The identity document's signing key is made once and kept in
 * `<dataDir>/imds-signing-key.pem` (its public half beside it, `.pub.pem`, and
 * its self-signed certificate, `imds-signing-cert.pem`, for whoever verifies
 * signatures); with ':memory:' it lives in memory only.
 */
import { instanceStoreOf } from './instances.js';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { internalContext } from '../resources/context.js';
import { interfacesOf } from '../resources/ec2/instances.js';
import { KINDS, SPACES } from '../resources/ec2/kinds.js';
import { findInterfaceByPrivateIp, ipv6AddressesOf } from '../resources/ec2/network-interfaces.js';
import { privateDnsName, publicDnsName } from '../resources/ec2/public-ips.js';
import type { NetworkInterfaceRecord, StoredInstance, SubnetRecord, VpcRecord } from '../resources/ec2/records.js';
import type { Store } from '../store/store.js';
import { ipInCidr, parseCidr4, parseIpv4 } from '../domain/cidr.js';
import { findZone } from '../domain/regions.js';
import type { IamMetadata, InstanceMetadata, InterfaceMetadata, MetadataOptions, MetadataSource } from '../network/imds/metadata.js';
import { roleCredentialsOf } from '../resources/ec2/instance-profiles.js';
import { associatedIpv6Blocks } from '../resources/ec2/vpcs.js';
import { signingCertificate } from '../network/imds/pkcs7.js';
import type { DnsAnswer, DnsReverseAnswer, DnsSource } from '../network/dns/resolver.js';
import { privateIpsOf } from './security-rules.js';

export interface MetadataSources {
  /** for MetadataService */
  metadata: MetadataSource;
  /** for VpcResolver */
  dns: DnsSource;
  /** the region a VPC is in (VPC ids are unique across regions), or undefined */
  regionOfVpc(vpcId: string): string | undefined;
  /** the private key the identity document is signed with */
  signingKey: KeyObject;
  /** its public key (SPKI PEM), to verify signatures */
  publicKeyPem: string;
  /** its self-signed certificate (PEM), to verify the PKCS#7 forms (rsa2048, pkcs7), as AWS publishes its own */
  certificatePem: string;
  /** the instance metadata of (vpcId, privateIp), synchronously (what `metadata.lookup` answers) */
  instanceMetadata(vpcId: string, privateIp: string): InstanceMetadata | undefined;
}

export const SIGNING_KEY_FILE = 'imds-signing-key.pem';
/** the signing key's self-signed certificate, beside it (see network/imds/pkcs7.ts) */
export const CERTIFICATE_FILE = 'imds-signing-cert.pem';

/** The signing key kept under the data directory (made on first use), or a fresh one in memory for ':memory:'. */
export function loadSigningKey(dataDir: string): KeyObject {
  if (dataDir === ':memory:') return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const path = join(dataDir, SIGNING_KEY_FILE);
  try {
    return createPrivateKey(readFileSync(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dataDir, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  try {
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // another process made it first: use that one
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return createPrivateKey(readFileSync(path, 'utf8'));
    throw err;
  }
  writeFileSync(join(dataDir, SIGNING_KEY_FILE.replace(/\.pem$/, '.pub.pem')), publicKey.export({ type: 'spki', format: 'pem' }));
  return privateKey;
}

/** The private DNS domain of a region: ec2.internal in us-east-1, <region>.compute.internal elsewhere. */
export function privateDomain(region: string): string {
  return region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`;
}

const byDevice = (a: NetworkInterfaceRecord, b: NetworkInterfaceRecord) => (a.attachment?.DeviceIndex ?? 0) - (b.attachment?.DeviceIndex ?? 0);

function vpcCidrsOf(vpc: VpcRecord | undefined): string[] {
  if (!vpc) return [];
  const out = [vpc.CidrBlock];
  for (const a of vpc.CidrBlockAssociationSet ?? []) {
    const state = a.CidrBlockState?.State;
    if (a.CidrBlock && !out.includes(a.CidrBlock) && (state === undefined || state === 'associated')) out.push(a.CidrBlock);
  }
  return out;
}

function optionsOf(rec: StoredInstance): MetadataOptions {
  const o = rec.MetadataOptions ?? {};
  return {
    httpEndpoint: o.HttpEndpoint === 'disabled' ? 'disabled' : 'enabled',
    httpTokens: o.HttpTokens === 'required' ? 'required' : 'optional',
    httpPutResponseHopLimit: o.HttpPutResponseHopLimit ?? 1,
    instanceMetadataTags: o.InstanceMetadataTags === 'enabled' ? 'enabled' : 'disabled',
  };
}

const stripDev = (d: string) => d.replace(/^\/dev\//, '');

/** meta-data/iam/ of an instance whose instance profile is associated. */
function iamMetadataOf(store: Store, region: string, rec: StoredInstance): IamMetadata | undefined {
  const role = roleCredentialsOf(store, region, rec, Date.now());
  if (!role) return undefined;
  return { instanceProfileArn: role.profile.Arn, instanceProfileId: role.profile.Id, lastUpdated: role.lastUpdated, roleName: role.roleName, credentials: role.credentials };
}

/** The metadata and DNS sources over the store. */
export function metadataSources(store: Store, config: Config, opts: { signingKey?: KeyObject } = {}): MetadataSources {
  const vpcRegions = new Map<string, string>();
  /** (vpc/ip) → interface id, checked on each use (the index is asked again when it is stale) */
  const eniOfAddress = new Map<string, string>();
  const signingKey = opts.signingKey ?? loadSigningKey(config.dataDir);
  const publicKeyPem = createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }).toString();
  const certificatePem = signingCertificate(signingKey).pem;
  if (config.dataDir !== ':memory:') {
    // the same key always gives the same certificate: written for whoever verifies, never read back
    const certPath = join(config.dataDir, CERTIFICATE_FILE);
    if (!existsSync(certPath)) writeFileSync(certPath, certificatePem);
  }

  function regionOfVpc(vpcId: string): string | undefined {
    const vpcs = store.collection(KINDS.vpc);
    const known = vpcRegions.get(vpcId);
    if (known !== undefined && vpcs.get(known, vpcId)) return known;
    vpcRegions.delete(vpcId);
    for (const region of config.regions) {
      if (vpcs.get(region, vpcId)) {
        vpcRegions.set(vpcId, region);
        return region;
      }
    }
    return undefined;
  }

  function interfaceAt(region: string, vpcId: string, ip: string): NetworkInterfaceRecord | undefined {
    const key = `${vpcId}/${ip}`;
    const cached = eniOfAddress.get(key);
    if (cached !== undefined) {
      const eni = store.collection(KINDS.networkInterface).get(region, cached);
      if (eni && eni.VpcId === vpcId && privateIpsOf(eni).includes(ip)) return eni;
      eniOfAddress.delete(key);
    }
    const eni = findInterfaceByPrivateIp({ store, region }, vpcId, ip);
    if (eni) {
      if (eniOfAddress.size > 100_000) eniOfAddress.clear();
      eniOfAddress.set(key, eni.NetworkInterfaceId);
    }
    return eni;
  }

  function instanceMetadata(vpcId: string, privateIp: string): InstanceMetadata | undefined {
    const region = regionOfVpc(vpcId);
    if (region === undefined || parseIpv4(privateIp) === undefined) return undefined;
    const eni = interfaceAt(region, vpcId, privateIp);
    const instanceId = eni?.attachment?.InstanceId;
    if (instanceId === undefined) return undefined;
    const rec = store.collection(KINDS.instance).get(region, instanceId);
    if (!rec || rec.State.Name === 'terminated' || rec.State.Name === 'stopped') return undefined;
    const ctx = internalContext(store, config, region);
    const vpc = store.collection(KINDS.vpc).get(region, vpcId);
    const hostnames = vpc?.EnableDnsHostnames === true;
    const subnets = store.collection(KINDS.subnet);
    const subnetOf = new Map<string, SubnetRecord | undefined>();
    const enis = interfacesOf(ctx, rec)
      .filter((e) => e.attachment?.InstanceId === rec.InstanceId)
      .sort(byDevice);
    const interfaces: InterfaceMetadata[] = enis.map((e) => {
      if (!subnetOf.has(e.SubnetId)) subnetOf.set(e.SubnetId, subnets.get(region, e.SubnetId));
      const subnet = subnetOf.get(e.SubnetId);
      const eniVpc = e.VpcId === vpcId ? vpc : store.collection(KINDS.vpc).get(region, e.VpcId);
      const pub = e.association?.PublicIp;
      const groups = e.Groups ?? [];
      return {
        mac: e.MacAddress.toLowerCase(),
        deviceNumber: e.attachment?.DeviceIndex ?? 0,
        interfaceId: e.NetworkInterfaceId,
        ownerId: e.OwnerId ?? rec.ownerId,
        privateIps: privateIpsOf(e),
        localHostname: e.PrivateDnsName ?? privateDnsName(region, e.PrivateIpAddress),
        publicIps: [
          ...(pub !== undefined ? [{ publicIp: pub, privateIp: e.PrivateIpAddress }] : []),
          // Elastic IPs on secondary private addresses
          ...(e.secondaryAssociations ?? []).map((a) => ({ publicIp: a.PublicIp, privateIp: a.privateIp })),
        ],
        publicHostname: pub !== undefined && eniVpc?.EnableDnsHostnames === true ? publicDnsName(region, pub) : undefined,
        securityGroupIds: groups.map((g) => g.GroupId ?? ''),
        securityGroupNames: groups.map((g) => g.GroupName ?? ''),
        subnetId: e.SubnetId,
        subnetCidr: subnet?.CidrBlock ?? '',
        vpcId: e.VpcId,
        vpcCidr: eniVpc?.CidrBlock ?? '',
        vpcCidrs: vpcCidrsOf(eniVpc),
        ipv6s: ipv6AddressesOf(e),
        subnetIpv6Cidrs: associatedIpv6Blocks(subnet?.Ipv6CidrBlockAssociationSet),
        vpcIpv6Cidrs: associatedIpv6Blocks(eniVpc?.Ipv6CidrBlockAssociationSet),
      };
    });
    const primary = enis[0];
    const publicIp = primary?.association?.PublicIp;
    const image = store.collection(KINDS.image).get(region, rec.ImageId);
    const root = rec.RootDeviceName ?? image?.RootDeviceName ?? '/dev/xvda';
    const options = optionsOf(rec);
    const zone = rec.Placement?.AvailabilityZone ?? '';
    const m: InstanceMetadata = {
      instanceId: rec.InstanceId,
      instanceType: rec.InstanceType,
      imageId: rec.ImageId,
      amiLaunchIndex: rec.AmiLaunchIndex ?? 0,
      reservationId: rec.reservationId,
      accountId: rec.ownerId,
      architecture: rec.Architecture ?? image?.Architecture ?? 'x86_64',
      region,
      availabilityZone: zone,
      availabilityZoneId: findZone(zone)?.ZoneId ?? '',
      hostname: primary?.PrivateDnsName ?? privateDnsName(region, rec.PrivateIpAddress),
      privateIp: rec.PrivateIpAddress,
      ipv6: interfaces[0]?.ipv6s?.[0],
      publicIp,
      publicHostname: publicIp !== undefined && hostnames ? publicDnsName(region, publicIp) : undefined,
      pendingTime: rec.LaunchTime,
      interfaces,
      securityGroups: (rec.SecurityGroups ?? []).map((g) => g.GroupName ?? ''),
      blockDevices: {
        ami: image?.RootDeviceName ?? root,
        root,
        ebs: (rec.BlockDeviceMappings ?? [])
          .map((b) => b.DeviceName ?? '')
          .filter((d) => d !== '' && d !== root)
          .map(stripDev),
        // the instance store volumes the reconciler gives the type, under the names the guest sees
        ephemeral: instanceStoreOf(rec.InstanceId, rec.InstanceType, [root, ...(rec.BlockDeviceMappings ?? []).map((b) => b.DeviceName ?? '')]).map((v) => stripDev(v.deviceName)),
      },
      publicKeys: rec.KeyName && rec.publicKey ? [{ name: rec.KeyName, openssh: `${rec.publicKey} ${rec.KeyName}` }] : [],
      userData: rec.userData !== undefined && rec.userData !== '' ? Buffer.from(rec.userData, 'base64') : undefined,
      options,
      tags:
        options.instanceMetadataTags === 'enabled'
          ? store.tags.forResource(region, rec.InstanceId).map((t) => ({ key: t.Key, value: t.Value }))
          : undefined,
      lifeCycle: rec.InstanceLifecycle === 'spot' ? 'spot' : rec.InstanceLifecycle === 'capacity-block' ? 'capacity-block' : 'on-demand',
      iam: iamMetadataOf(store, region, rec),
    };
    return m;
  }

  /** Whether an interface of the VPC holds `ip` (the store's private-ip space: no interface read). */
  function isHeldInVpc(region: string, vpcId: string, ip: string): boolean {
    const n = parseIpv4(ip);
    if (n === undefined) return false;
    for (const s of store.collection(KINDS.subnet).list(region)) {
      if (s.VpcId !== vpcId) continue;
      const c = parseCidr4(s.CidrBlock);
      if (c && ipInCidr(n, c) && store.isHeld(SPACES.privateIp, region, `${s.SubnetId}/${ip}`)) return true;
    }
    return false;
  }

  /** The VPC and its region when it answers DNS at all (enableDnsSupport). */
  function dnsVpc(vpcId: string): { region: string; vpc: VpcRecord } | undefined {
    const region = regionOfVpc(vpcId);
    const vpc = region !== undefined ? store.collection(KINDS.vpc).get(region, vpcId) : undefined;
    return region !== undefined && vpc && vpc.EnableDnsSupport ? { region, vpc } : undefined;
  }

  const dns: DnsSource = {
    lookup(vpcId: string, name: string): DnsAnswer {
      const found = dnsVpc(vpcId);
      if (!found) return 'refused';
      const domain = privateDomain(found.region);
      if (name === domain) return { ipv4: [] };
      if (!name.endsWith(`.${domain}`)) return 'nxdomain';
      const m = /^ip-(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})$/.exec(name.slice(0, -domain.length - 1));
      if (!m) return 'nxdomain';
      const ip = [m[1], m[2], m[3], m[4]].map(Number).join('.');
      return isHeldInVpc(found.region, vpcId, ip) ? { ipv4: [ip] } : 'nxdomain';
    },
    reverse(vpcId: string, ip: string): DnsReverseAnswer {
      const found = dnsVpc(vpcId);
      if (!found) return 'refused';
      if (!found.vpc.EnableDnsHostnames || !isHeldInVpc(found.region, vpcId, ip)) return 'nxdomain';
      return { names: [privateDnsName(found.region, ip)] };
    },
  };

  return {
    metadata: { lookup: instanceMetadata },
    dns,
    regionOfVpc,
    signingKey,
    publicKeyPem,
    certificatePem,
    instanceMetadata,
  };
}
