/**
 * The services every VPC's instances reach inside their network: the
 * instance metadata service (169.254.169.254) and the VPC resolver
 * (169.254.169.253 and the VPC base + 2). The fabric routes that traffic,
 * unchanged in source, to a host address of the VPC's own; these servers
 * listen there as soon as the fabric reports the network, and answer from the
 * store on every request (so ModifyInstanceMetadataOptions, new instances and
 * new names apply at once).
 */
import type { Config } from '../config.js';
import { VpcResolver } from '../network/dns/resolver.js';
import type { NetworkInfo } from '../network/fabric.js';
import { MetadataService } from '../network/imds/service.js';
import type { Store } from '../store/store.js';
import { metadataSources } from './metadata.js';

/** Where the fabric sends metadata and DNS traffic on the service address (its defaults). */
export const METADATA_PORT = 80;
export const DNS_PORT = 53;

export class VpcServices {
  private readonly imds: MetadataService;
  private readonly dns: VpcResolver;
  /** vpc → the address both listen at */
  private readonly listening = new Map<string, string>();

  constructor(store: Store, config: Config, log?: (line: string) => void) {
    const sources = metadataSources(store, config);
    this.imds = new MetadataService({ source: sources.metadata, signingKey: sources.signingKey, log });
    this.dns = new VpcResolver({ source: sources.dns });
  }

  /** Listens for the network's instances (idempotent: a network already served costs a map lookup). */
  async expose(net: NetworkInfo): Promise<void> {
    const address = net.serviceAddress;
    if (address === undefined || this.listening.get(net.vpcId) === address) return;
    await this.imds.listen(net.vpcId, address, METADATA_PORT);
    await this.dns.listen(net.vpcId, address, DNS_PORT);
    this.listening.set(net.vpcId, address);
  }

  async close(): Promise<void> {
    await this.imds.close();
    await this.dns.close();
    this.listening.clear();
  }
}
